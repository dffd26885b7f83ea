"""Score an upscaler on evaluation clips in both protocols: the standard one and the original iSeeBetter script's.

Standard: BT.601 Y (MATLAB rgb2ycbcr), PSNR and MATLAB-style SSIM on Y, border crop `crop` (0 by default, as the
BasicVSR/VRT Vid4 tables). Beside them ``hf_ratio`` (`metrics.hf_energy_ratio`, same Y and crop): the output's
fine-detail energy over the ground truth's, a perceptual proxy needing no downloaded weights (1.0 = as detailed as
the ground truth; blurry < 1, noisy/over-sharpened > 1). Original script: RGB PSNR with the crop
``[1+s : H-s, 1+s : W-s]``. Per clip the mean over its scored frames, then the mean over clips. LR frames come from
the (mod-`scale` cropped) GT by the chosen degradation (BI: MATLAB bicubic; BD: Gaussian blur sigma 1.6 +
subsampling). Vimeo-90K: each septuplet is a clip scored on its centre frame only (the model sees its 6 neighbours).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from iseebetter_lib.errors import UserError
from iseebetter_lib.evaluation.options import EvalOptions, check_overrides
from iseebetter_lib.evaluation.results_log import FrameLog
from iseebetter_lib.evaluation.scoring import count_scored_frames, evaluate_clips
from iseebetter_lib.evaluation.temporal import resolve_backend
from iseebetter_lib.evaluation.upscalers import ModelRun, Upscaler, model_run, named_upscaler

HF_RATIO_PROTOCOL = ("mean square of (Y - Gaussian blur sigma 1.5) of the output over the ground truth's, same crop; "
                     "1 = as much fine detail, < 1 blurrier, > 1 noisier")


def protocol(o: EvalOptions) -> dict[str, Any]:
    """What the numbers mean, stored beside them (`o.scale`: the scale scored)."""
    scale = o.scale
    return {
        "dataset": o.dataset, "scale": scale, "degradation": o.degradation,
        "lr": ("MATLAB imresize bicubic 1/s with antialiasing, uint8" if o.degradation == "BI"
               else "Gaussian blur sigma 1.6 (13x13), every s-th pixel from 0, uint8"),
        "hr": f"ground truth cropped to multiples of {scale} (bottom/right)",
        "y": "ITU-R BT.601 as MATLAB rgb2ycbcr, " + ("rounded" if o.rounded_y else "float (not rounded)"),
        "psnr_y": "PSNR on Y, peak 255", "ssim_y": "SSIM on Y: Gaussian 11x11 sigma 1.5, K1 0.01, K2 0.03, L 255",
        "crop": o.crop,
        "psnr_rgb_orig": f"original iSeeBetter script: RGB, crop [1+s:H-s, 1+s:W-s] with s={scale}, 100 if equal",
        "frames": "centre frame of each septuplet" if o.dataset == "vimeo90k" else
        (f"every {o.frame_step}th frame" if o.frame_step > 1 else "all frames")
        + (f" of the first {o.max_frames}" if o.max_frames and o.dataset != "vimeo90k" else ""),
        "average": "mean over frames per clip, then mean over clips",
        "tof": (f"TecoGAN tOF, {resolve_backend(o.tof_backend)} flow" if o.tof else None),
    }


def _runs(o: EvalOptions, model: Any,
          overrides: Mapping[str, Any]) -> tuple[str, ModelRun, int, dict[str, Upscaler]]:
    """(method, the scored upscaler with its configuration, the scale, the baseline upscalers by name)."""
    method = o.method or ("model" if model is not None else "bicubic")
    if method == "model" and model is None:
        raise UserError("method 'model': give weights (a checkpoint) or a generator")
    if method != "model" and model is not None:
        raise UserError(f"method {method!r} takes no weights/generator (use method='model')")
    if method == "model":
        run = model_run(model, overrides)
        scale = int(run.model_cfg.scale_factor)
        baselines = ("bicubic", "torch_bicubic") if o.baselines is None else tuple(o.baselines)
    else:
        scale = 4 if o.scale is None else int(o.scale)
        run = ModelRun(named_upscaler(method, scale), None, {})
        baselines = () if o.baselines is None else tuple(b for b in o.baselines if b != method)
    return method, run, scale, {name: named_upscaler(name, scale) for name in baselines}


def _frame_log(o: EvalOptions, method: str, baselines: list[str], model: Any, info: Mapping[str, Any],
               root: Path, proto: Mapping[str, Any]) -> FrameLog | None:
    """The per-frame results file of the run (None without `results_log`); its header describes the run, so that a
    resumed run refuses a file another run wrote."""
    if o.results_log is None:
        return None
    stat = Path(model).stat() if isinstance(model, (str, os.PathLike)) else None
    run = {"method": method, "baselines": baselines, "weights": info.get("weights"),
           "weights_file": None if stat is None else f"{stat.st_size} bytes, mtime {stat.st_mtime_ns}",
           "model_config": info.get("model_config"), "inference_config": info.get("inference_config"),
           "root": str(root), "list": None if o.list_file is None else str(o.list_file), **proto}
    return FrameLog(o.results_log, run, resume=o.resume, overwrite=o.overwrite_log)


def evaluate(options: EvalOptions | None = None, model: str | Path | Any = None,
             overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Score bicubic (``options.method``: ``"bicubic"``/``"torch_bicubic"``) or a generator `model` on a dataset, in
    both protocols; see `scoring.evaluate_clips` for the result. With Vid4 BI x4 data the paper's Table 3 is attached
    under ``"paper_table3"``.

    `model`: a generator file (ours or an original state dict) or a `models.checkpoints.LoadedGenerator` (generator,
    model configuration and the `InferenceConfig` saved with it). The model runs by its saved `InferenceConfig`
    (today's, on the CPU in fp32, without one); `overrides` (`InferenceConfig` fields given explicitly, None = not
    given) replace its fields, with a note on stderr where they differ from the saved ones.
    """
    from iseebetter_lib.data.eval_sets import EvalSet
    from iseebetter_lib.evaluation.tables import paper_table3

    o = (options or EvalOptions()).validate()
    overrides = check_overrides(overrides)
    method, run, scale, extra = _runs(o, model, overrides)
    o = dataclasses.replace(o, scale=scale)
    clips = EvalSet(o.dataset, o.root, o.degradation, o.scale, o.max_frames, list_file=o.list_file)
    n_frames = count_scored_frames(clips, o.frame_step, center_only=o.center_only)
    proto = protocol(o)
    log = _frame_log(o, method, list(extra), model, run.info, clips.root, proto)
    t0 = time.perf_counter()
    try:
        result = evaluate_clips(clips, run.upscaler, o, extra, method, n_frames, log)
    finally:
        if log is not None:
            log.close()
    result["seconds"]["total"] = round(time.perf_counter() - t0, 3)
    result.update(run.info)
    result["protocol"] = {**proto, "hf_ratio": HF_RATIO_PROTOCOL}  # not in the log header: older logs resume
    result["root"] = str(clips.root.resolve())
    if o.dataset == "vid4" and o.degradation == "BI" and o.scale == 4:
        result["paper_table3"] = paper_table3()
    return result


def to_json_dict(result: dict[str, Any]) -> dict[str, Any]:
    """`result` without its non-JSON parts (kept frames), NaN/inf turned into None."""
    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if not str(k).startswith("_")}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, (float, np.floating)):
            return float(v) if np.isfinite(v) else None
        if isinstance(v, np.integer):
            return int(v)
        return v

    return clean(result)
