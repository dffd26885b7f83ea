"""Evaluation: PSNR/SSIM in the standard protocol (BT.601 Y, MATLAB-style SSIM) and the original iSeeBetter script's
(RGB PSNR, crop [1+s : H-s, 1+s : W-s]), tOF, baselines, and the paper's Table 3 beside our numbers.

Notebook use::

    from iseebetter_lib.evaluation import evaluate, results_table
    res = evaluate("vid4", method="bicubic")             # 23.78 dB / 0.6347 on Y
    res = evaluate("vid4", weights="runs/compact/checkpoints/last.pt", frame_step=4)
    print(results_table(res))
"""

from iseebetter_lib.evaluation.evaluate import (
    default_vid4_root,
    evaluate,
    evaluate_clips,
    load_clips,
    select_frames,
    super_resolve_eval_clips,
    to_json_dict,
)
from iseebetter_lib.evaluation.metrics import (
    crop_border,
    frame_metrics,
    hf_energy_ratio,
    orig_crop,
    psnr,
    psnr_rgb_orig,
    psnr_y,
    rgb_to_y,
    ssim,
    ssim_y,
)
from iseebetter_lib.evaluation.tables import (
    PUBLISHED_VID4_Y,
    STANDARD_BICUBIC_VID4,
    VIMEO_FAST,
    comparison_rows,
    csv_text,
    paper_table3,
    results_table,
)
from iseebetter_lib.evaluation.temporal import tof, tof_pair
from iseebetter_lib.evaluation.upscalers import (
    bicubic_upscale,
    model_upscaler,
    named_upscaler,
    per_frame,
    torch_bicubic_upscale,
)

__all__ = [
    "PUBLISHED_VID4_Y", "STANDARD_BICUBIC_VID4", "VIMEO_FAST", "bicubic_upscale", "comparison_rows", "crop_border",
    "csv_text", "default_vid4_root", "evaluate", "evaluate_clips", "frame_metrics", "hf_energy_ratio", "load_clips",
    "model_upscaler", "named_upscaler", "orig_crop", "paper_table3", "per_frame", "psnr", "psnr_rgb_orig", "psnr_y",
    "results_table", "rgb_to_y", "select_frames", "ssim", "ssim_y", "super_resolve_eval_clips", "to_json_dict", "tof",
    "tof_pair", "torch_bicubic_upscale",
]
