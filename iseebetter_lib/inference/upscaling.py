"""Upscaling a whole video or frame folder with a trained generator (or bicubic), streaming and tiled.

The engine (`inference.engine`) does the work; `upscale` adds reading, writing (`inference.writer`), the inference
configuration saved with the weights (`inference.settings`), checks of every argument before any work, and a report.
Memory stays bounded whatever the length (one window of LR frames and one HR frame are held) and the frame size
(tiles).
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import torch

from iseebetter_lib.config.schema import BOUNDARIES, parse_tile
from iseebetter_lib.device import resolve_device
from iseebetter_lib.errors import UserError
from iseebetter_lib.inference.engine import Engine, checked_frames, progress_bar, to_frames
from iseebetter_lib.inference.settings import resolve_inference_config
from iseebetter_lib.locks import output_lock
from iseebetter_lib.precision import check_precision

METHODS = ("model", "bicubic")


@dataclass(frozen=True)
class UpscaleReport:
    """What `upscale` did: frames written, output frame rate, wall-clock seconds, output path."""

    frames: int
    fps: float
    seconds: float
    output: Path


def default_precision(device: torch.device) -> str:
    """The precision `upscale` runs in when neither the caller nor the weights file names one: bf16 on a CPU with
    native bf16 kernels (AVX512-BF16 or AMX: the fast path of `models.fastpath`, about twice as fast and 0.003 dB
    below fp32 on Vid4 with the shipped model, `benchmarks/model.py compact` and `accuracy`), fp32 elsewhere."""
    from iseebetter_lib.models.fastpath import native_bf16

    return "bf16" if device.type == "cpu" and native_bf16(device) else "fp32"


def bicubic_clip(lr_frames: np.ndarray | Iterable[np.ndarray], scale: int = 4, progress: bool = True,
                 total: int | None = None) -> Iterator[np.ndarray]:
    """The baseline: MATLAB-exact bicubic upsampling of each frame (uint8 in, uint8 out), streaming."""
    from iseebetter_lib.data.imresize import imresize

    frames, length = to_frames(lr_frames)
    bar = progress_bar(length if total is None else total, progress, "bicubic")
    try:
        for frame in checked_frames(frames):
            bar.update(1)
            yield imresize(frame, scale)
    finally:
        bar.close()


def _open_input(path: Path, max_frames: int | None, fps: float | None,
                allow_truncated: bool = False) -> tuple[Iterator[np.ndarray], Any, int]:
    """(frame iterator, fps, number of frames that will be read) for a video file or a frame folder."""
    from iseebetter_lib.data.readers import open_frames

    frames, rate, n = open_frames(path, max_frames, allow_truncated)
    return frames, fps or rate or 25.0, n


def upscale(input: str | os.PathLike, output: str | os.PathLike, weights: str | os.PathLike | None = None,
            method: str = "model", device: str | None = None, precision: str | None = None,
            tile: int | str | None = None, memory_budget_mb: float | None = None, max_frames: int | None = None,
            overwrite: bool = False, progress: bool = True, fps: float | None = None, boundary: str | None = None,
            future_frames: bool | None = None, allow_truncated: bool = False) -> UpscaleReport:
    """Upscale a video file or frame folder into a video (same fps; `fps` sets it for frame folders, default 25)
    or a folder of PNGs. Every argument is checked before any work; the output appears only when complete.

    Flow and window rule come from the generator file's saved inference configuration (today's defaults when it
    has none); `device` (default auto), `precision` (default: `default_precision`), `tile` (auto), `boundary` and
    `future_frames`, when given, override it (a note on stderr says so). A truncated or corrupt video is an error unless
    `allow_truncated` (then a warning and the frames read)."""
    from iseebetter_lib.inference.writer import check_output, open_output

    if method not in METHODS:
        raise UserError(f"--method: unknown method {method!r} (expected model or bicubic)")
    dev = resolve_device(device or "auto")
    check_precision(precision or "fp32", dev)
    parse_tile(tile)
    if boundary not in (None, *BOUNDARIES):
        raise UserError(f"--boundary: {boundary!r} is not {' or '.join(BOUNDARIES)}")
    if memory_budget_mb is not None and not memory_budget_mb > 0:
        raise UserError(f"--memory-budget: {memory_budget_mb!r} must be > 0 (MB)")
    if max_frames is not None and max_frames < 1:
        raise UserError(f"--max-frames: {max_frames!r} must be >= 1")
    if fps is not None and not fps > 0:
        raise UserError(f"--fps: {fps!r} must be > 0")
    if method == "model" and weights is None:
        raise UserError("--weights: a generator checkpoint is required with --method model "
                        "(or use --method bicubic for the baseline)")
    check_output(output, overwrite)
    with output_lock(output):  # one run per output for this run's life; a second is refused naming this one
        frames, rate, n = _open_input(Path(input), max_frames, fps, allow_truncated)
        if method == "model":
            hr_frames = _model_frames(frames, n, weights, dev, device, precision, tile, boundary, future_frames,
                                      memory_budget_mb, progress)
        else:
            hr_frames = bicubic_clip(frames, 4, progress=progress, total=n)
        start = time.perf_counter()
        count = 0
        with open_output(output, rate, overwrite=overwrite) as writer:
            for hr in itertools.islice(hr_frames, max_frames):
                writer.write(hr)
                count += 1
    return UpscaleReport(frames=count, fps=float(rate), seconds=time.perf_counter() - start, output=Path(output))


def _model_frames(frames: Iterator[np.ndarray], n: int, weights: str | os.PathLike, dev: torch.device,
                  device: str | None, precision: str | None, tile: int | str | None, boundary: str | None,
                  future_frames: bool | None, memory_budget_mb: float | None, progress: bool) -> Iterator[np.ndarray]:
    """The HR frames of a generator file applied by its saved inference configuration (explicit arguments win)."""
    from iseebetter_lib.models.checkpoints import load_generator_file

    loaded = load_generator_file(weights, device=dev)
    cfg = resolve_inference_config(
        loaded.inference_cfg, source=str(weights),
        explicit={"device": device, "precision": precision, "tile": tile, "boundary": boundary,
                  "future_frames": future_frames},
        defaults={"device": "auto", "precision": default_precision(dev), "tile": "auto"})
    engine = Engine(loaded.generator, loaded.model_cfg, cfg, memory_budget_mb=memory_budget_mb)
    return engine.clip(frames, progress=progress, total=n)
