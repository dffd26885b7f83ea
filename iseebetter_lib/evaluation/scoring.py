"""Scoring clips: each upscaler's frames against the ground truth, frame by frame, then per clip and over clips.

The steps, in the order `evaluate_clips` takes them: pick the scored frames of a clip (`select_frames`); for each
upscaler run it on the frames not yet scored (`_outputs` checks what comes back) and score each frame
(`_score_clip`, which also feeds tOF, the per-frame log and the progress bar); sum a clip up (`_clip_entry`); sum
the clips up (`summarise`).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from iseebetter_lib.errors import UserError
from iseebetter_lib.evaluation.metrics import frame_metrics
from iseebetter_lib.evaluation.options import EvalOptions
from iseebetter_lib.evaluation.results_log import FrameLog, TimeEstimate
from iseebetter_lib.evaluation.temporal import TofAccumulator, resolve_backend
from iseebetter_lib.evaluation.upscalers import Upscaler

METRICS = ("psnr_y", "ssim_y", "psnr_rgb_orig", "hf_ratio")
LATER_METRICS = ("hf_ratio",)  # absent from per-frame logs written before it existed: None there, never rescored


def select_frames(n_total: int, frame_step: int = 1, center_only: bool = False) -> list[int]:
    """Indices of the scored frames: every `frame_step`-th from 0, or the centre one."""
    if frame_step < 1:
        raise UserError(f"frame_step={frame_step}: must be >= 1")
    return [n_total // 2] if center_only else list(range(0, n_total, frame_step))


def count_scored_frames(clip_set: Any, frame_step: int = 1, center_only: bool = False) -> int:
    """How many frames an evaluation of `clip_set` (a `data.EvalSet`) scores, from its file lists."""
    return sum(len(select_frames(n, frame_step, center_only)) for n in clip_set.frame_counts())


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def _mean_or_none(values: Sequence[float | None]) -> float | None:
    """The mean, or None when any value is missing (a partial mean would pass for a full one)."""
    return None if any(v is None for v in values) else _mean(values)


@dataclass
class _Scoring:
    """What every clip of one evaluation is scored with: the options, the tOF flow, the log and the progress."""

    options: EvalOptions
    scale: int
    tof_backend: str | None
    log: FrameLog | None
    bar: Any
    estimate: TimeEstimate


def _outputs(run: Upscaler, name: str, clip: Any, todo: Sequence[int], scale: int) -> Iterator[tuple[int, np.ndarray]]:
    """(index, SR frame) of each frame in `todo`; an upscaler returning too few frames or the wrong size is an
    error naming it."""
    outputs = iter(run(clip.lr, todo)) if todo else iter(())
    for t in todo:
        sr = next(outputs, None)
        if sr is None:
            raise RuntimeError(f"{name}: upscaler returned fewer frames than asked for ({clip.name})")
        sr = np.asarray(sr)
        if sr.shape != clip.hr[t].shape:
            raise UserError(f"{name}: output {sr.shape} differs from the ground truth {clip.hr[t].shape} "
                            f"({clip.name}, frame {t}); is the scale factor {scale} right?")
        yield t, sr


def _clip_entry(done: Mapping[int, Mapping[str, float]], indices: list[int],
                tof: TofAccumulator | None) -> dict[str, Any]:
    """One clip's means (None where a frame lacks a later metric), tOF, and per-frame values in frame order."""
    rows = {m: [done[t].get(m) if m in LATER_METRICS else done[t][m] for t in indices] for m in METRICS}
    entry: dict[str, Any] = {m: _mean_or_none(rows[m]) for m in METRICS}
    if tof is not None:
        entry["tof"] = tof.value
    entry.update(frames=len(indices), frame_indices=indices, per_frame=rows)
    return entry


def _score_clip(s: _Scoring, name: str, run: Upscaler, clip: Any, indices: list[int],
                main: bool) -> tuple[dict[str, Any], list[np.ndarray]]:
    """One upscaler on one clip: its entry, and (for the `main` upscaler, with ``keep_frames``) its SR frames.
    Frames the log already holds are not rescored; the progress bar and time estimate follow the main one."""
    o = s.options
    done = s.log.done(name, clip.name) if s.log is not None else {}
    todo = [t for t in indices if t not in done]
    tof = TofAccumulator(s.tof_backend) if o.tof else None
    frames: list[np.ndarray] = []
    if main and todo:
        s.estimate.begin()
    for t, sr in _outputs(run, name, clip, todo, s.scale):
        done[t] = frame_metrics(sr, clip.hr[t], crop=o.crop, scale=s.scale, rounded_y=o.rounded_y)
        if s.log is not None:
            s.log.append(name, clip.name, t, done[t])
        if tof is not None:
            tof.add(sr, clip.hr[t])
        if main:
            if o.keep_frames:
                frames.append(sr)
            s.bar.update(1)
            s.estimate.frame_done()
    if main:
        s.bar.update(len(indices) - len(todo))
    return _clip_entry(done, indices, tof), frames


def evaluate_clips(clips: Iterable[Any], upscaler: Upscaler, options: EvalOptions | None = None,
                   baselines: Mapping[str, Upscaler] | None = None, method: str = "custom",
                   n_frames: int | None = None, log: FrameLog | None = None) -> dict[str, Any]:
    """Score `upscaler` (and `baselines`, e.g. bicubic, on the same frames) on `clips` as `options` say
    (``options.scale``: default 4).

    Returns ``{"method", "clips": {name: {"psnr_y", "ssim_y", "psnr_rgb_orig", "hf_ratio", ["tof"], "frames",
    "frame_indices", "per_frame": {metric: [...]}}}, "average": {...}, "baselines": {name: {"clips", "average"}},
    "seconds"}`` and, with ``options.keep_frames``, ``"_frames": {name: (n, H, W, 3) uint8}`` (not JSON;
    `to_json_dict` drops it). `n_frames` (scored frames in all, when known) gives the progress bar its ETA and the
    first-frame time estimate; `log` records each scored frame and supplies the frames a resumed run already scored.
    """
    from iseebetter_lib.inference.engine import progress_bar

    o = dataclasses.replace(options or EvalOptions(), results_log=None if log is None else log.path).validate()
    s = _Scoring(o, 4 if o.scale is None else int(o.scale), resolve_backend(o.tof_backend) if o.tof else None, log,
                 progress_bar(n_frames, o.progress, f"evaluate {method}"), TimeEstimate(n_frames, o.progress))
    runs = {method: upscaler, **(baselines or {})}
    per_run: dict[str, dict[str, Any]] = {name: {} for name in runs}
    seconds = dict.fromkeys(runs, 0.0)
    kept: dict[str, np.ndarray] = {}
    for clip in clips:
        if clip.name in per_run[method]:
            raise UserError(f"clip name {clip.name!r} appears twice")
        indices = select_frames(len(clip.hr), o.frame_step, o.center_only)
        s.bar.set_postfix_str(f"{clip.name} ({len(indices)} frames)")
        for name, run in runs.items():
            t0 = time.perf_counter()
            per_run[name][clip.name], frames = _score_clip(s, name, run, clip, indices, main=name == method)
            seconds[name] += time.perf_counter() - t0
            if o.keep_frames and name == method:
                kept[clip.name] = np.stack(frames)
    s.bar.close()
    if not per_run[method]:
        raise UserError("no clips to evaluate")
    result: dict[str, Any] = {"method": method, **summarise(per_run[method], o.tof)}
    result["baselines"] = {name: summarise(per_run[name], o.tof) for name in runs if name != method}
    result["seconds"] = {name: round(t, 3) for name, t in seconds.items()}
    if o.keep_frames:
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
