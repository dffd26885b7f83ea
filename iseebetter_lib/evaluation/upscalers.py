"""Upscalers scored by `evaluate_clips`: MATLAB bicubic, torch bicubic (the model's residual base), and a generator.

An *upscaler* is any callable ``(lr, indices) -> iterable of HR frames``: `lr` is a whole LR clip (T, h, w, 3) uint8
and the HR uint8 frames (H, W, 3) of the requested frame `indices` (increasing) come back in that order. Taking the
whole clip lets video models see the neighbours of each scored frame. `per_frame(fn)` wraps a single-image function.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from iseebetter_lib.errors import UserError

Upscaler = Callable[[np.ndarray, Sequence[int]], Iterable[np.ndarray]]


def bicubic_upscale(lr: np.ndarray, scale: int = 4) -> np.ndarray:
    """MATLAB ``imresize(lr, scale, 'bicubic')`` of a uint8 frame (h, w, 3) or stack (T, h, w, 3): uint8."""
    from iseebetter_lib.data.imresize import imresize

    return imresize(np.asarray(lr, dtype=np.uint8), float(scale))


def torch_bicubic_upscale(lr: np.ndarray, scale: int = 4) -> np.ndarray:
    """The model's residual base: ``F.interpolate(bicubic, align_corners=False)`` on [0, 1], clamped, rounded."""
    import torch
    import torch.nn.functional as F

    a = np.asarray(lr, dtype=np.uint8)
    single = a.ndim == 3
    x = torch.from_numpy(np.ascontiguousarray(a[None] if single else a)).permute(0, 3, 1, 2).float() / 255.0
    with torch.no_grad():
        y = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False).clamp_(0.0, 1.0)
    out = torch.round(y * 255.0).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return out[0] if single else out


def per_frame(fn: Callable[[np.ndarray, int], np.ndarray], scale: int = 4) -> Upscaler:
    """Turn a single-image upscaler ``fn(lr_frame, scale) -> hr_frame`` into an upscaler of clips."""

    def run(lr: np.ndarray, indices: Sequence[int]) -> Iterator[np.ndarray]:
        for i in indices:
            yield fn(lr[i], scale)

    return run


def model_upscaler(generator, model_cfg, flow_cfg=None, device: str = "cpu", precision: str = "fp32",
                   tile: int | str | None = None) -> Upscaler:
    """An upscaler running the trained generator exactly as `iseebetter_lib.upscale` does.

    All frames of a clip: `super_resolve_clip` itself (streaming). A subset (``frame_step > 1``, Vimeo centre frames):
    only the scored frames are computed, each from its own window (paper order, future frames, neighbours outside
    the clip copied from the target) with upscale's flow, tiling and precision pieces: the same pixels as the
    whole-clip run (tested), at 1/frame_step of its cost.
    """
    from iseebetter_lib.upscale import super_resolve_clip

    def run(lr: np.ndarray, indices: Sequence[int]) -> Iterator[np.ndarray]:
        indices = list(indices)
        if indices == list(range(len(lr))):
            yield from super_resolve_clip(generator, lr, model_cfg, flow_cfg=flow_cfg, device=device,
                                          precision=precision, tile=tile, progress=False)
            return
        frame = _frame_runner(generator, model_cfg, flow_cfg, device, precision, tile)
        for t in indices:
            yield frame(lr, t)

    return run


def _frame_runner(generator, model_cfg, flow_cfg, device: str, precision: str,
                  tile: int | str | None) -> Callable[[np.ndarray, int], np.ndarray]:
    """``frame(lr, t) -> HR uint8`` for one target frame, built from upscale's public pieces."""
    import torch

    from iseebetter_lib import upscale
    from iseebetter_lib.config import FlowConfig
    from iseebetter_lib.data import neighbour_indices
    from iseebetter_lib.flow import compute_window_flows
    from iseebetter_lib.device import resolve_device
    from iseebetter_lib.upscale_tiling import run_tiled

    dev = resolve_device(device)
    upscale.check_precision(precision, dev)
    tile = upscale.parse_tile(tile)
    flow_cfg = flow_cfg or FlowConfig()
    generator = generator.to(dev).eval()
    plans: dict[tuple[int, int], list] = {}

    def model(x, nb, fl):
        with upscale.autocast(dev, precision):
            return generator(x, nb, fl)

    def as_tensor(frames: np.ndarray) -> torch.Tensor:  # (n, h, w, 3) uint8 -> (1, n, 3, h, w) in [0, 1]
        return torch.from_numpy(np.ascontiguousarray(frames)).to(dev).permute(0, 3, 1, 2).float().div_(255.0)[None]

    def frame(lr: np.ndarray, t: int) -> np.ndarray:
        idx = [int(i) for i in neighbour_indices(t, len(lr), model_cfg.nFrames, future=True, boundary="copy")]
        flows = compute_window_flows(lr[t], [lr[i] for i in idx], flow_cfg)
        h, w = lr.shape[1:3]
        with torch.inference_mode():
            if (h, w) not in plans:
                plans[(h, w)] = upscale.plan_frame_tiles(generator, model_cfg, h, w, dev, precision, tile, None)
            flow_t = torch.from_numpy(np.ascontiguousarray(flows, dtype=np.float32)).to(dev)[None]
            return run_tiled(model, as_tensor(lr[t:t + 1])[:, 0], as_tensor(lr[idx]), flow_t,
                             model_cfg.scale_factor, plans[(h, w)])

    return frame


def named_upscaler(method: str, scale: int) -> Upscaler:
    """The built-in non-learned upscalers by name: ``bicubic`` (MATLAB) or ``torch_bicubic``."""
    if method == "bicubic":
        return per_frame(bicubic_upscale, scale)
    if method == "torch_bicubic":
        return per_frame(torch_bicubic_upscale, scale)
    raise UserError(f"method {method!r}: expected bicubic, torch_bicubic or model")
