"""Upscalers scored by `evaluate_clips`: MATLAB bicubic, torch bicubic (the model's residual base), and a generator.

An *upscaler* is any callable ``(lr, indices) -> iterable of HR frames``: `lr` is a whole LR clip (T, h, w, 3) uint8
and the HR uint8 frames (H, W, 3) of the requested frame `indices` (increasing) come back in that order. Taking the
whole clip lets video models see the neighbours of each scored frame. `per_frame(fn)` wraps a single-image function.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence

import numpy as np

from iseebetter_lib.errors import UserError

Upscaler = Callable[[np.ndarray, Sequence[int]], Iterable[np.ndarray]]


def bicubic_upscale(lr: np.ndarray, scale: int = 4) -> np.ndarray:
    """MATLAB ``imresize(lr, scale, 'bicubic')`` of a uint8 frame (h, w, 3) or stack (T, h, w, 3): uint8."""
    from iseebetter_lib.data.imresize import imresize

    return imresize(np.asarray(lr, dtype=np.uint8), float(scale))


def torch_bicubic_upscale(lr: np.ndarray, scale: int = 4) -> np.ndarray:
    """The model's residual base (`models.rbpn.bicubic_base`) on [0, 1], clamped and rounded to uint8."""
    import torch

    from iseebetter_lib.models.rbpn import bicubic_base

    a = np.asarray(lr, dtype=np.uint8)
    single = a.ndim == 3
    x = torch.from_numpy(np.ascontiguousarray(a[None] if single else a)).permute(0, 3, 1, 2).float() / 255.0
    with torch.no_grad():
        y = bicubic_base(x, scale).clamp_(0.0, 1.0)
    out = torch.round(y * 255.0).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return out[0] if single else out


def per_frame(fn: Callable[[np.ndarray, int], np.ndarray], scale: int = 4) -> Upscaler:
    """Turn a single-image upscaler ``fn(lr_frame, scale) -> hr_frame`` into an upscaler of clips."""

    def run(lr: np.ndarray, indices: Sequence[int]) -> Iterator[np.ndarray]:
        for i in indices:
            yield fn(lr[i], scale)

    return run


def model_upscaler(generator: Any, model_cfg: Any, flow_cfg: Any = None, device: str | None = None,
                   precision: str | None = None, tile: int | str | None = None,
                   inference_cfg: Any = None) -> Upscaler:
    """An upscaler running the trained generator through the inference engine, as `upscale` does.

    Settings: `inference_cfg` (default: today's, on the CPU) with each keyword given replacing its field. All frames
    of a clip stream through the sliding window; a subset (``frame_step > 1``, Vimeo centre frames) computes only
    the scored frames, each from its own window: the same pixels as the whole-clip run (tested), at 1/frame_step of
    its cost.
    """
    from iseebetter_lib.inference.engine import Engine, inference_config

    cfg = inference_config(inference_cfg, flow_cfg=flow_cfg, precision=precision, tile=tile, device=device)
    engine = Engine(generator, model_cfg, cfg)

    def run(lr: np.ndarray, indices: Sequence[int]) -> Iterator[np.ndarray]:
        return engine.frames(lr, indices)

    run.engine = engine  # type: ignore[attr-defined]  # the resolved settings, for reports and tests
    return run


class ModelRun(NamedTuple):
    """A model ready to score: its upscaler, its model configuration and what the result records about it
    (``weights`` for a file, ``model_config``, ``inference_config``)."""

    upscaler: Upscaler
    model_cfg: Any
    info: dict[str, Any]


def model_run(model: str | Path | Any, overrides: Mapping[str, Any] | None = None) -> ModelRun:
    """The upscaler of `model` (a generator file, or a `models.checkpoints.LoadedGenerator` in memory) applied by its
    saved inference configuration (today's, on the CPU in fp32, without one), each of `overrides` (`InferenceConfig`
    fields given explicitly) replacing its field with a note on stderr (`inference.settings`)."""
    import dataclasses

    from iseebetter_lib.inference.settings import resolve_inference_config

    info: dict[str, Any] = {}
    if isinstance(model, (str, os.PathLike)):
        from iseebetter_lib.models.checkpoints import load_generator_file

        wpath = Path(model)
        if not wpath.is_file():
            raise UserError(f"{wpath}: checkpoint not found")
        model, source = load_generator_file(wpath, device="cpu"), str(wpath)
        info["weights"] = str(wpath)
    else:
        source = "inference_cfg"
        if model.model_cfg is None:
            raise UserError("generator given without model_cfg")
    cfg = resolve_inference_config(model.inference_cfg, overrides, defaults={"device": "cpu", "precision": "fp32"},
                                   source=source)
    upscaler = model_upscaler(model.generator, model.model_cfg, inference_cfg=cfg)
    info["model_config"] = dict(vars(model.model_cfg))
    info["inference_config"] = dataclasses.asdict(upscaler.engine.cfg)  # type: ignore[attr-defined]
    return ModelRun(upscaler, model.model_cfg, info)


def named_upscaler(method: str, scale: int) -> Upscaler:
    """The built-in non-learned upscalers by name: ``bicubic`` (MATLAB) or ``torch_bicubic``."""
    if method == "bicubic":
        return per_frame(bicubic_upscale, scale)
    if method == "torch_bicubic":
        return per_frame(torch_bicubic_upscale, scale)
    raise UserError(f"method {method!r}: expected bicubic, torch_bicubic or model")
