"""Temporal consistency: tOF (TecoGAN, Chu et al. 2020).

tOF of a frame pair is the mean over pixels of ``|| flow(out_{t-1}, out_t) - flow(gt_{t-1}, gt_t) ||_2``; the tOF of a
clip is the mean over its consecutive frame pairs. Lower is better; identical sequences give 0.

Flow backends:
* ``"farneback"`` (default when OpenCV is installed): what TecoGAN's metrics script does: grey frames
  (``cv2.COLOR_RGB2GRAY`` of uint8 RGB), ``cv2.calcOpticalFlowFarneback(prev, next, None, 0.5, 3, 15, 3, 5, 1.2, 0)``,
  then TecoGAN's centre crop of the flow fields to multiples of 32 pixels leaving at least 8 pixels per side
  (`tecogan_crop`). TecoGAN also skips the first and last frames of each clip (``cutfr``); we do not.
* ``"pyflow"``: our coarse-to-fine flow (`iseebetter_lib.flow.compute_flow`) on the RGB frames, no crop; much slower
  on HR frames and not comparable with published tOF figures.
tLP needs LPIPS (a pretrained AlexNet), which cannot be loaded offline, so it is not provided.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from iseebetter_lib.errors import UserError

BACKENDS = ("auto", "farneback", "pyflow")
FARNEBACK_ARGS = (None, 0.5, 3, 15, 3, 5, 1.2, 0)  # flow, pyr_scale, levels, winsize, iterations, poly_n, sigma, flags


def opencv_available() -> bool:
    try:
        import cv2  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(backend: str = "auto") -> str:
    """The concrete backend: ``auto`` picks Farneback (TecoGAN's) when OpenCV is importable, else ours."""
    if backend not in BACKENDS:
        raise UserError(f"tof backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "farneback" if opencv_available() else "pyflow"
    if backend == "farneback" and not opencv_available():
        raise UserError("tof backend 'farneback' needs OpenCV (pip install opencv-python-headless)")
    return backend


def tecogan_crop(a: np.ndarray) -> np.ndarray:
    """TecoGAN's ``crop_8x8``: centre crop H and W to multiples of 32 that leave >= 16 pixels in total per axis."""
    h0, w0 = a.shape[:2]
    h, w = (h0 // 32) * 32, (w0 // 32) * 32
    while h > h0 - 16:
        h -= 32
    while w > w0 - 16:
        w -= 32
    if h <= 0 or w <= 0:
        return a  # too small to crop the TecoGAN way: keep everything
    y, x = (h0 - h) // 2, (w0 - w) // 2
    return a[y:y + h, x:x + w]


def pair_flow(prev: np.ndarray, cur: np.ndarray, backend: str = "auto") -> np.ndarray:
    """Flow from `prev` to `cur` (uint8 RGB frames) as H x W x 2 float (u, v), cropped as the backend's protocol."""
    backend = resolve_backend(backend)
    if backend == "farneback":
        import cv2

        g0 = cv2.cvtColor(np.ascontiguousarray(prev, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
        g1 = cv2.cvtColor(np.ascontiguousarray(cur, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
        return tecogan_crop(cv2.calcOpticalFlowFarneback(g0, g1, *FARNEBACK_ARGS))
    from iseebetter_lib.flow import compute_flow

    return np.moveaxis(compute_flow(prev, cur), 0, -1)


def tof_pair(out_prev: np.ndarray, out: np.ndarray, gt_prev: np.ndarray, gt: np.ndarray,
             backend: str = "auto") -> float:
    """tOF of one step: mean per-pixel L2 norm of the difference of output flow and ground-truth flow."""
    if not (out_prev.shape == out.shape == gt_prev.shape == gt.shape):
        raise UserError(f"tof: frame shapes differ: {out_prev.shape}, {out.shape}, {gt_prev.shape}, {gt.shape}")
    if np.array_equal(out_prev, gt_prev) and np.array_equal(out, gt):
        return 0.0  # same frames, same flow: skip two flow computations
    diff = pair_flow(out_prev, out, backend).astype(np.float64) - pair_flow(gt_prev, gt, backend)
    return float(np.sqrt(np.sum(diff * diff, axis=-1)).mean())


class TofAccumulator:
    """Streaming tOF: feed (output, ground truth) frames in order; `value` is the mean over consecutive pairs."""

    def __init__(self, backend: str = "auto") -> None:
        self.backend = resolve_backend(backend)
        self.values: list[float] = []
        self._prev: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, out: np.ndarray, gt: np.ndarray) -> None:
        if self._prev is not None:
            self.values.append(tof_pair(self._prev[0], out, self._prev[1], gt, self.backend))
        self._prev = (out, gt)

    @property
    def value(self) -> float | None:
        """Mean tOF over the pairs seen, None when fewer than two frames were given."""
        return float(np.mean(self.values)) if self.values else None


def tof(outputs: Iterable[np.ndarray], targets: Iterable[np.ndarray], backend: str = "auto") -> float | None:
    """tOF of a clip: mean over consecutive pairs (None for fewer than two frames)."""
    acc = TofAccumulator(backend)
    for out, gt in zip(outputs, targets, strict=True):
        acc.add(out, gt)
    return acc.value
