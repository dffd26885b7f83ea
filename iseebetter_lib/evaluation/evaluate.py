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

import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from iseebetter_lib.errors import UserError
from iseebetter_lib.evaluation.metrics import frame_metrics
from iseebetter_lib.evaluation.temporal import TofAccumulator, resolve_backend
from iseebetter_lib.evaluation.results_log import FrameLog, TimeEstimate
from iseebetter_lib.evaluation.upscalers import Upscaler, model_run, named_upscaler

METRICS = ("psnr_y", "ssim_y", "psnr_rgb_orig", "hf_ratio")
LATER_METRICS = ("hf_ratio",)  # absent from per-frame logs written before it existed: None there, never rescored


def default_vid4_root() -> Path:
    """`data.vid4_root()`: Vid4 in the data home (a one-line error naming `iseebetter fetch vid4` when absent)."""
    from iseebetter_lib.data import vid4_root

    return vid4_root().resolve()


def select_frames(n_total: int, frame_step: int = 1, center_only: bool = False) -> list[int]:
    """Indices of the scored frames: every `frame_step`-th from 0, or the centre one."""
    if frame_step < 1:
        raise UserError(f"frame_step={frame_step}: must be >= 1")
    return [n_total // 2] if center_only else list(range(0, n_total, frame_step))


def load_clips(dataset: str = "vid4", root: str | Path | None = None, list_file: str | Path | None = None,
               degradation: str = "BI", scale: int = 4, max_frames: int | None = None) -> tuple[int, Iterator[Any]]:
    """(number of clips, lazy iterator of `data.EvalClip` with ``name``, ``hr`` (T,H,W,3), ``lr`` (T,h,w,3) uint8).

    vid4/folder: every sub-folder of `root` holding frames is a clip (`list_file`: clip names to keep, one a line);
    a `root` that holds frames itself is one clip. vimeo90k: `root` holds ``sequences/`` (and ``sep_testlist.txt``,
    used when no `list_file` is given). One clip is in memory at a time (`data.EvalSet`).
    """
    from iseebetter_lib.data.eval_sets import EvalSet

    clips = EvalSet(dataset, root, degradation, scale, max_frames, list_file=list_file)
    return len(clips), iter(clips)


def count_scored_frames(clip_set: Any, frame_step: int = 1, center_only: bool = False) -> int:
    """How many frames an evaluation of `clip_set` (a `data.EvalSet`) scores, from its file lists."""
    return sum(len(select_frames(n, frame_step, center_only)) for n in clip_set.frame_counts())


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def _mean_or_none(values: Sequence[float | None]) -> float | None:
    """The mean, or None when any value is missing (a partial mean would pass for a full one)."""
    return None if any(v is None for v in values) else _mean(values)


def evaluate_clips(clips: Iterable[Any], upscaler: Upscaler, scale: int = 4, crop: int = 0, frame_step: int = 1,
                   center_only: bool = False, tof: bool = False, tof_backend: str = "auto",
                   rounded_y: bool = False, progress: bool = True, keep_frames: bool = False,
                   n_clips: int | None = None, extra_upscalers: dict[str, Upscaler] | None = None,
                   method: str = "custom", n_frames: int | None = None, log: FrameLog | None = None,
                   ) -> dict[str, Any]:
    """Score `upscaler` (and `extra_upscalers`, e.g. bicubic baselines, on the same frames) on `clips`.

    Returns ``{"method", "clips": {name: {"psnr_y", "ssim_y", "psnr_rgb_orig", "hf_ratio", ["tof"], "frames",
    "frame_indices", "per_frame": {metric: [...]}}}, "average": {...}, "baselines": {name: {"clips", "average"}},
    "seconds"}`` and,
    with `keep_frames`, ``"_frames": {name: (n, H, W, 3) uint8}`` (not JSON; `to_json_dict` drops it).
    `n_frames` (scored frames in all, when known) gives the progress bar its ETA and the first-frame time
    estimate; `log` records each scored frame and supplies the frames a resumed run already scored (not rescored).
    """
    from iseebetter_lib.inference.engine import progress_bar

    if tof and (center_only or frame_step != 1):
        raise UserError("--tof: needs consecutive frames (use --frame-step 1; not with centre-frame scoring)")
    if log is not None and (tof or keep_frames):
        raise UserError("per-frame results (--resume, --results-dir): not with --tof or kept frames")
    backend = resolve_backend(tof_backend) if tof else None
    runs = {method: upscaler, **(extra_upscalers or {})}
    per_run: dict[str, dict[str, Any]] = {name: {} for name in runs}
    kept: dict[str, np.ndarray] = {}
    timing = {name: 0.0 for name in runs}
    bar = progress_bar(n_frames, progress, f"evaluate {method}")
    estimate = TimeEstimate(n_frames, progress)
    for clip in clips:
        if clip.name in per_run[method]:
            raise UserError(f"clip name {clip.name!r} appears twice")
        indices = select_frames(len(clip.hr), frame_step, center_only)
        bar.set_postfix_str(f"{clip.name} ({len(indices)} frames)")
        for name, run in runs.items():
            done = log.done(name, clip.name) if log is not None else {}
            todo = [t for t in indices if t not in done]
            acc = TofAccumulator(backend) if tof else None
            frames: list[np.ndarray] = []
            t0 = time.perf_counter()
            if name == method and todo:
                estimate.begin()
            outputs = iter(run(clip.lr, todo)) if todo else iter(())
            for t in todo:
                sr = next(outputs, None)
                if sr is None:
                    raise RuntimeError(f"{name}: upscaler returned fewer frames than asked for ({clip.name})")
                sr = np.asarray(sr)
                if sr.shape != clip.hr[t].shape:
                    raise UserError(f"{name}: output {sr.shape} differs from the ground truth {clip.hr[t].shape} "
                                    f"({clip.name}, frame {t}); is the scale factor {scale} right?")
                done[t] = frame_metrics(sr, clip.hr[t], crop=crop, scale=scale, rounded_y=rounded_y)
                if log is not None:
                    log.append(name, clip.name, t, done[t])
                if acc is not None:
                    acc.add(sr, clip.hr[t])
                if keep_frames and name == method:
                    frames.append(sr)
                if name == method:
                    bar.update(1)
                    estimate.frame_done()
            if name == method:
                bar.update(len(indices) - len(todo))
            timing[name] += time.perf_counter() - t0
            rows = {m: [done[t].get(m) if m in LATER_METRICS else done[t][m] for t in indices] for m in METRICS}
            entry: dict[str, Any] = {m: _mean_or_none(rows[m]) for m in METRICS}
            if acc is not None:
                entry["tof"] = acc.value
            entry.update(frames=len(indices), frame_indices=indices, per_frame=rows)
            per_run[name][clip.name] = entry
            if keep_frames and name == method:
                kept[clip.name] = np.stack(frames)
    bar.close()
    if not per_run[method]:
        raise UserError("no clips to evaluate")
    result: dict[str, Any] = {"method": method, **summarise(per_run[method], tof)}
    result["baselines"] = {name: summarise(per_run[name], tof) for name in runs if name != method}
    result["seconds"] = {name: round(t, 3) for name, t in timing.items()}
    if keep_frames:
        result["_frames"] = kept
    return result


def summarise(clips: dict[str, dict[str, Any]], tof: bool = False) -> dict[str, Any]:
    """``{"clips": ..., "average": ...}``: the average is the mean over clips of the per-clip means."""
    keys = list(METRICS) + (["tof"] if tof else [])
    average: dict[str, Any] = {}
    for key in keys:
        if key in LATER_METRICS:  # None when a clip lacks it (resumed from an older per-frame log)
            average[key] = _mean_or_none([c.get(key) for c in clips.values()])
            continue
        values = [c[key] for c in clips.values() if c.get(key) is not None]
        average[key] = _mean(values) if values else None
    average["clips"] = len(clips)
    average["frames"] = int(sum(c["frames"] for c in clips.values()))
    return {"clips": clips, "average": average}


HF_RATIO_PROTOCOL = ("mean square of (Y - Gaussian blur sigma 1.5) of the output over the ground truth's, same crop; "
                     "1 = as much fine detail, < 1 blurrier, > 1 noisier")


def protocol(dataset: str, degradation: str, scale: int, crop: int, frame_step: int, max_frames: int | None,
             tof: bool, tof_backend: str, rounded_y: bool) -> dict[str, Any]:
    """What the numbers mean, stored beside them."""
    return {
        "dataset": dataset, "scale": scale, "degradation": degradation,
        "lr": ("MATLAB imresize bicubic 1/s with antialiasing, uint8" if degradation == "BI"
               else "Gaussian blur sigma 1.6 (13x13), every s-th pixel from 0, uint8"),
        "hr": f"ground truth cropped to multiples of {scale} (bottom/right)",
        "y": "ITU-R BT.601 as MATLAB rgb2ycbcr, " + ("rounded" if rounded_y else "float (not rounded)"),
        "psnr_y": "PSNR on Y, peak 255", "ssim_y": "SSIM on Y: Gaussian 11x11 sigma 1.5, K1 0.01, K2 0.03, L 255",
        "crop": crop,
        "psnr_rgb_orig": f"original iSeeBetter script: RGB, crop [1+s:H-s, 1+s:W-s] with s={scale}, 100 if equal",
        "frames": "centre frame of each septuplet" if dataset == "vimeo90k" else
        (f"every {frame_step}th frame" if frame_step > 1 else "all frames")
        + (f" of the first {max_frames}" if max_frames and dataset != "vimeo90k" else ""),
        "average": "mean over frames per clip, then mean over clips",
        "tof": (f"TecoGAN tOF, {resolve_backend(tof_backend)} flow" if tof else None),
    }


def evaluate(dataset: str = "vid4", root: str | Path | None = None, method: str | None = None,
             weights: str | Path | None = None, generator: Any = None, model_cfg: Any = None,
             flow_cfg: Any = None, list_file: str | Path | None = None, degradation: str = "BI", crop: int = 0,
             max_frames: int | None = None, frame_step: int = 1, tof: bool = False, tof_backend: str = "auto",
             baselines: Sequence[str] | None = None, scale: int | None = None, device: str | None = None,
             precision: str | None = None, tile: int | str | None = None, rounded_y: bool = False,
             progress: bool = True, keep_frames: bool = False, inference_cfg: Any = None,
             boundary: str | None = None, future_frames: bool | None = None,
             results_log: str | Path | None = None, resume: bool = False,
             overwrite_log: bool = False) -> dict[str, Any]:
    """Evaluate bicubic (``method="bicubic"``/``"torch_bicubic"``) or a generator (`weights` or `generator` +
    `model_cfg`) on a dataset; see `evaluate_clips` for the result. `method` defaults to ``"model"`` when weights or a
    generator are given, else ``"bicubic"``. Model runs also score `baselines` (default: bicubic and torch_bicubic)
    on the same frames. With Vid4 BI data the paper's Table 3 is attached under ``"paper_table3"``.

    A model is applied by the inference configuration saved with `weights` (or `inference_cfg` beside a
    `generator`; today's defaults when there is none); `flow_cfg`, `device` (default cpu), `precision` (fp32),
    `tile`, `boundary` and `future_frames`, when given, override it (a note on stderr says so). `results_log`: a
    JSONL file of per-frame results appended as they come; with `resume`, frames already in it are not rescored
    (`overwrite_log`: start it afresh).
    """
    from iseebetter_lib.evaluation.tables import paper_table3

    learned = weights is not None or generator is not None
    if method is None:
        method = "model" if learned else "bicubic"
    if method == "model" and not learned:
        raise UserError("method 'model': give weights (a checkpoint) or a generator")
    if method != "model" and learned:
        raise UserError(f"method {method!r} takes no weights/generator (use method='model')")
    if crop < 0:
        raise UserError(f"--crop {crop}: must be >= 0")
    info: dict[str, Any] = {}
    if method == "model":
        upscaler, model_cfg = model_run(weights, generator, model_cfg, inference_cfg, info, flow_cfg=flow_cfg,
                                         device=device, precision=precision, tile=tile, boundary=boundary,
                                         future_frames=future_frames)
        scale = int(model_cfg.scale_factor)
        baselines = ("bicubic", "torch_bicubic") if baselines is None else tuple(baselines)
    else:
        scale = 4 if scale is None else int(scale)
        upscaler = named_upscaler(method, scale)
        baselines = () if baselines is None else tuple(b for b in baselines if b != method)
    extra = {name: named_upscaler(name, scale) for name in baselines}
    from iseebetter_lib.data.eval_sets import EvalSet

    clips = EvalSet(dataset, root, degradation, scale, max_frames, list_file=list_file)
    n_frames = count_scored_frames(clips, frame_step, center_only=dataset == "vimeo90k")
    proto = protocol(dataset, degradation, scale, crop, frame_step, max_frames, tof, tof_backend, rounded_y)
    log = None
    if results_log is not None:
        stat = Path(weights).stat() if weights is not None else None
        run = {"method": method, "baselines": list(baselines), "weights": info.get("weights"),
               "weights_file": None if stat is None else f"{stat.st_size} bytes, mtime {stat.st_mtime_ns}",
               "model_config": info.get("model_config"), "inference_config": info.get("inference_config"),
               "root": str(clips.root), "list": None if list_file is None else str(list_file), **proto}
        log = FrameLog(results_log, run, resume=resume, overwrite=overwrite_log)
    t0 = time.perf_counter()
    try:
        result = evaluate_clips(clips, upscaler, scale=scale, crop=crop, frame_step=frame_step,
                                center_only=dataset == "vimeo90k", tof=tof, tof_backend=tof_backend,
                                rounded_y=rounded_y, progress=progress, keep_frames=keep_frames, n_clips=len(clips),
                                extra_upscalers=extra, method=method, n_frames=n_frames, log=log)
    finally:
        if log is not None:
            log.close()
    result["seconds"]["total"] = round(time.perf_counter() - t0, 3)
    result.update(info)
    result["protocol"] = {**proto, "hf_ratio": HF_RATIO_PROTOCOL}  # not in the log header: older logs resume
    result["root"] = str(clips.root.resolve())
    if dataset == "vid4" and degradation == "BI" and scale == 4:
        result["paper_table3"] = paper_table3()
    return result


def super_resolve_eval_clips(clips: Iterable[Any], upscaler: Upscaler, frame_step: int = 1,
                             center_only: bool = False) -> dict[str, np.ndarray]:
    """The SR frames (n, H, W, 3) uint8 of each clip's scored frames, for figures."""
    out: dict[str, np.ndarray] = {}
    for clip in clips:
        indices = select_frames(len(clip.lr), frame_step, center_only)
        out[clip.name] = np.stack([np.asarray(f) for f in upscaler(clip.lr, indices)])
    return out


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
