"""Evaluation: PSNR/SSIM in the standard protocol (BT.601 Y, MATLAB-style SSIM) and the original iSeeBetter script's
(RGB PSNR, crop [1+s : H-s, 1+s : W-s]), tOF, baselines, and the paper's Table 3 beside our numbers.

Notebook use::

    from iseebetter_lib.evaluation import EvalOptions, evaluate, results_table
    res = evaluate(EvalOptions("vid4", method="bicubic"))  # 23.78 dB / 0.6347 on Y
    res = evaluate(EvalOptions("vid4", frame_step=4), "runs/compact/checkpoints/last.pt", {"precision": "bf16"})
    print(results_table(res))
"""

from typing import Any

from iseebetter_lib.evaluation.evaluate import evaluate, to_json_dict
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
from iseebetter_lib.evaluation.options import EvalOptions, check_overrides
from iseebetter_lib.evaluation.scoring import evaluate_clips, select_frames
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
    ModelRun,
    model_run,
    model_upscaler,
    named_upscaler,
    per_frame,
    torch_bicubic_upscale,
)

__all__ = [
    "EvalOptions", "ModelRun", "PUBLISHED_VID4_Y", "STANDARD_BICUBIC_VID4", "VIMEO_FAST", "bicubic_upscale",
    "check_overrides", "comparison_rows", "crop_border", "csv_text", "evaluate", "evaluate_clips", "frame_metrics",
    "hf_energy_ratio", "model_run", "model_upscaler", "named_upscaler", "orig_crop", "paper_table3", "per_frame",
    "psnr", "psnr_rgb_orig", "psnr_y", "results_table", "rgb_to_y", "select_frames", "ssim", "ssim_y",
    "to_json_dict", "tof", "tof_pair", "torch_bicubic_upscale",
]

# names this package no longer exports, and what replaces each
_REMOVED = {"load_clips": "iseebetter_lib.data.EvalSet", "default_vid4_root": "iseebetter_lib.data.vid4_root",
            "super_resolve_eval_clips": "an upscaler called on each clip (evaluation.upscalers)"}


def __getattr__(name: str) -> Any:
    if name in _REMOVED:
        raise AttributeError(f"iseebetter_lib.evaluation.{name} was removed; use {_REMOVED[name]}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
