"""Spatial tiling for frames too large for memory: overlapping LR tiles, each output pixel taken from one tile's core.

Why crop rather than blend: RBPN and DBPN are translation-equivariant in whole LR pixels (every projection has
stride s in HR), so a tile padded by at least the network's receptive radius gives exactly the untiled values in its core. The
theoretical radius of deep configurations is large (126 LR px for the paper's), while the influence of far pixels
decays fast; the default overlap is the radius capped at `OVERLAP_CAP`, which keeps tiled and untiled outputs
within one uint8 level in our measurements (see tests and benchmarks).

Tile size: from a memory budget and a bytes-per-LR-pixel figure for the generator, measured once per generator
(CUDA: the allocator's peak; CPU: the profiler's allocation trace) or, failing that, estimated from the config.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from iseebetter_lib.config import ModelConfig
from iseebetter_lib.config.schema import TILE_MIN
from iseebetter_lib.deprecation import renamed
from iseebetter_lib.errors import UserError

OVERLAP_CAP = 24  # LR pixels of context kept around each tile (the theoretical radius, when smaller, is used)
DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}


@dataclass(frozen=True)
class Tile:
    """A core region [y0:y1, x0:x1] (LR px) and the padded region [py0:py1, px0:px1] the model sees."""

    y0: int
    y1: int
    x0: int
    x1: int
    py0: int
    py1: int
    px0: int
    px1: int


def receptive_radius(cfg: ModelConfig) -> int:
    """Theoretical receptive radius in LR pixels of the generator `cfg` names: its class's `receptive_radius(cfg)`
    (RBPN, DBPN), else `OVERLAP_CAP` (unknown structure: the capped overlap)."""
    from iseebetter_lib.models import generator_class

    radius = getattr(generator_class(cfg.name), "receptive_radius", None)
    return int(radius(cfg)) if radius is not None else OVERLAP_CAP


def default_overlap(cfg: ModelConfig) -> int:
    return min(receptive_radius(cfg), OVERLAP_CAP)


def split_axis(n: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Cut [0, n) into near-equal cores of at most `tile`; each padded by `overlap` (clipped to the frame)."""
    count = max(1, math.ceil(n / tile))
    edges = [round(i * n / count) for i in range(count + 1)]
    return [(a, b, max(0, a - overlap), min(n, b + overlap)) for a, b in zip(edges[:-1], edges[1:])]


def plan_tiles(h: int, w: int, tile: int | None, overlap: int) -> list[Tile]:
    """Tiles covering an h x w LR frame; `tile=None` means one tile (the whole frame)."""
    if tile is None:
        return [Tile(0, h, 0, w, 0, h, 0, w)]
    return [Tile(y0, y1, x0, x1, py0, py1, px0, px1)
            for y0, y1, py0, py1 in split_axis(h, tile, overlap)
            for x0, x1, px0, px1 in split_axis(w, tile, overlap)]


def padded_pixels(h: int, w: int, tile: int, overlap: int) -> int:
    """LR pixels of the largest padded tile."""
    return max((t.py1 - t.py0) * (t.px1 - t.px0) for t in plan_tiles(h, w, tile, overlap))


def estimate_bytes_per_pixel(cfg: ModelConfig, precision: str = "fp32") -> float:
    """Peak activation bytes per LR pixel of one inference forward: the generator class's `activation_floats(cfg)`
    (RBPN, DBPN: from the structure), else a generic bound (16 HR maps of `feat` channels per window frame)."""
    from iseebetter_lib.models import generator_class

    floats = getattr(generator_class(cfg.name), "activation_floats", None)
    generic = 16 * cfg.feat * cfg.scale_factor ** 2 * cfg.nFrames + 8 * cfg.base_filter
    n = floats(cfg) if floats is not None else generic
    return float(n * DTYPE_BYTES.get(precision, 4))


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """The CPU profiler prints start/stop lines on fd 2; hide them while it runs."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def measure_bytes_per_pixel(forward: Callable[[int, int], torch.Tensor], device: torch.device,
                            size: int = 16) -> float | None:
    """Peak bytes per LR pixel of `forward(h, w)` (which builds its own inputs) at a `size` x `size` frame, or None
    when it cannot be measured. CUDA: allocator peak; CPU: profiler allocation trace ordered by event end."""
    try:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            base = torch.cuda.memory_allocated(device)
            torch.cuda.reset_peak_memory_stats(device)
            out = forward(size, size)
            torch.cuda.synchronize(device)
            peak = torch.cuda.max_memory_allocated(device) - base
            del out
            return peak / (size * size)
        if device.type == "cpu":
            from torch.profiler import ProfilerActivity, profile

            with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
                out = forward(size, size)
            del out
            cur = peak = 0
            for event in sorted(prof.events(), key=lambda e: e.time_range.end):
                cur += event.self_cpu_memory_usage
                peak = max(peak, cur)
            return peak / (size * size) if peak > 0 else None
    except Exception:  # noqa: BLE001 - measuring is an optimisation; the estimate is the fallback
        return None
    return None


def available_memory_bytes(device: torch.device) -> int:
    """Free memory the model may use: CUDA free memory, or MemAvailable on Linux (else 4 GiB)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 << 30


def choose_tile(h: int, w: int, bytes_per_pixel: float, budget_bytes: float, overlap: int) -> int | None:
    """Largest core tile side whose padded tile fits the budget; None when the whole frame fits."""
    if h * w * bytes_per_pixel <= budget_bytes:
        return None
    lo, hi = TILE_MIN, max(h, w)
    if padded_pixels(h, w, lo, overlap) * bytes_per_pixel > budget_bytes:
        need = padded_pixels(h, w, lo, overlap) * bytes_per_pixel / 2 ** 20
        raise UserError(f"--memory-budget: {budget_bytes / 2 ** 20:.0f} MB is too small for this model "
                        f"(a {TILE_MIN}x{TILE_MIN} tile with {overlap} px overlap needs about {need:.0f} MB)")
    while lo < hi:  # padded size grows with the tile side: binary search the largest that fits
        mid = (lo + hi + 1) // 2
        if padded_pixels(h, w, mid, overlap) * bytes_per_pixel <= budget_bytes:
            lo = mid
        else:
            hi = mid - 1
    return lo


def run_tiled(model: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor], target: torch.Tensor,
              neighbours: torch.Tensor, flows: torch.Tensor, scale: int, tiles: list[Tile]) -> np.ndarray:
    """Run `model` tile by tile on (1,C,h,w) / (1,n,C,h,w) / (1,n,2,h,w) tensors; returns the HR frame as uint8
    H x W x C, each tile's output clamped to [0, 1], rounded, and its core pasted in."""
    _, c, h, w = target.shape
    out = np.empty((h * scale, w * scale, c), dtype=np.uint8)
    for t in tiles:
        ys, xs = slice(t.py0, t.py1), slice(t.px0, t.px1)
        sr = model(target[..., ys, xs], neighbours[..., ys, xs], flows[..., ys, xs])
        cy0, cx0 = (t.y0 - t.py0) * scale, (t.x0 - t.px0) * scale
        core = sr[0, :, cy0:cy0 + (t.y1 - t.y0) * scale, cx0:cx0 + (t.x1 - t.x0) * scale]
        core = (core.float().clamp_(0.0, 1.0) * 255.0).round_().to(torch.uint8)
        out[t.y0 * scale:t.y1 * scale, t.x0 * scale:t.x1 * scale] = core.permute(1, 2, 0).cpu().numpy()
    return out


__getattr__ = renamed(__name__, {"MIN_TILE": "iseebetter_lib.config.schema.TILE_MIN"})
