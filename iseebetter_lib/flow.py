"""The library's optical-flow front: flows for RBPN windows, backward warping and the Middlebury colour wheel.

Flows are float32 (2, H, W) arrays (u, v in pixels) with im1(x, y) ~ im2(x + u, y + v), i.e. the convention of the
classic `pyflow` that iSeeBetter feeds to RBPN. Backends: "pyflow" (our Cython coarse-to-fine solver, default) and
"dis" (OpenCV's DIS optical flow, medium preset; only when cv2 is importable) and "zero" (every flow all zeros:
the ablation "flow replaced by zeros", where RBPN's multi-image branch sees neighbours without motion information).
Bad input raises `UserError`.
"""

from __future__ import annotations

import importlib.util
from typing import Sequence

import numpy as np

from iseebetter_lib.config import FlowConfig
from iseebetter_lib.errors import UserError

__all__ = ["compute_flow", "compute_window_flows", "warp", "flow_to_color", "available_backends"]


def available_backends() -> list[str]:
    """Backends usable here: "pyflow" when its extension is built, "dis" when OpenCV is importable, always "zero"."""
    names = []
    if importlib.util.find_spec("pyflow") is not None:
        try:
            import pyflow  # noqa: F401  (loads the compiled extension)
            names.append("pyflow")
        except ImportError:
            pass
    if importlib.util.find_spec("cv2") is not None:
        names.append("dis")
    names.append("zero")
    return names


def _config(cfg: FlowConfig | None) -> FlowConfig:
    cfg = cfg if cfg is not None else FlowConfig()
    cfg.validate()
    if cfg.backend not in available_backends():
        hint = ("build it with `python setup.py build_ext --inplace` or `pip install -e .`" if cfg.backend == "pyflow"
                else "install opencv-python-headless (pip install .[opencv])")
        raise UserError(f"flow.backend: '{cfg.backend}' is not available here; {hint}")
    if cfg.backend == "pyflow":
        import pyflow

        try:
            pyflow.check_parameters(**_pyflow_args(cfg))
        except ValueError as exc:  # name the configuration key, e.g. "flow.alpha: must be ..."
            name, _, reason = str(exc).partition(": ")
            raise UserError(f"flow.{_CONFIG_NAMES.get(name, name)}: {reason}") from None
    return cfg


_CONFIG_NAMES = {"alpha": "alpha", "ratio": "ratio", "minWidth": "min_width", "nOuterFPIterations": "n_outer",
                 "nInnerFPIterations": "n_inner", "nSORIterations": "n_sor", "colType": "col_type"}


def _image(im: object, name: str) -> np.ndarray:
    """uint8 or float [0, 1] H x W x 3 (or H x W x 1 / H x W) -> C-contiguous float64 H x W x C."""
    arr = np.asarray(im)
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float64) / 255.0
    elif np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    else:
        raise UserError(f"{name}: dtype {arr.dtype} not supported (uint8 or float in [0, 1])")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3) or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise UserError(f"{name}: expected an H x W x 3 image, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise UserError(f"{name}: contains NaN or Inf")
    return np.ascontiguousarray(np.clip(arr, 0.0, 1.0))


def _channels(arr: np.ndarray, cfg: FlowConfig) -> np.ndarray:
    if cfg.col_type == 1 and arr.shape[2] == 3:
        return np.ascontiguousarray(arr @ np.array([0.299, 0.587, 0.114])[:, None])
    if cfg.col_type == 0 and arr.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(arr, 3, axis=2))
    return arr


def _dis(im1: np.ndarray, im2: np.ndarray) -> np.ndarray:
    import cv2

    def grey(a: np.ndarray) -> np.ndarray:
        g = a[..., 0] if a.shape[2] == 1 else a @ np.array([0.299, 0.587, 0.114])
        return np.ascontiguousarray(np.round(g * 255.0).astype(np.uint8))

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(grey(im1), grey(im2), None)  # prev(y, x) ~ next(y + v, x + u): our convention
    return np.ascontiguousarray(flow.transpose(2, 0, 1), dtype=np.float32)


def _pyflow_args(cfg: FlowConfig) -> dict:
    return dict(alpha=cfg.alpha, ratio=cfg.ratio, minWidth=cfg.min_width, nOuterFPIterations=cfg.n_outer,
                nInnerFPIterations=cfg.n_inner, nSORIterations=cfg.n_sor, colType=cfg.col_type)


def compute_flow(im1: np.ndarray, im2: np.ndarray, cfg: FlowConfig | None = None) -> np.ndarray:
    """Flow from im1 to im2 as float32 (2, H, W); images uint8 or float [0, 1], H x W x 3."""
    cfg = _config(cfg)
    a, b = _image(im1, "im1"), _image(im2, "im2")
    if a.shape[:2] != b.shape[:2]:
        raise UserError(f"im2: size {b.shape[:2]} differs from im1's {a.shape[:2]}")
    if cfg.backend == "zero":
        return np.zeros((2,) + a.shape[:2], np.float32)
    if cfg.backend == "dis":
        return _dis(a, b)
    import pyflow

    try:
        u, v, _ = pyflow.coarse2fine_flow(_channels(a, cfg), _channels(b, cfg), **_pyflow_args(cfg), threads=1)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return np.stack([u, v]).astype(np.float32)


def compute_window_flows(target: np.ndarray, neighbours: Sequence[np.ndarray], cfg: FlowConfig | None = None,
                         threads: int | None = None) -> np.ndarray:
    """Flows from the target to each neighbour, float32 (n, 2, H, W); batched (shared target pyramid, parallel)."""
    cfg = _config(cfg)
    t = _image(target, "target")
    nbs = [_image(nb, f"neighbours[{i}]") for i, nb in enumerate(neighbours)]
    for i, nb in enumerate(nbs):
        if nb.shape[:2] != t.shape[:2]:
            raise UserError(f"neighbours[{i}]: size {nb.shape[:2]} differs from the target's {t.shape[:2]}")
    if not nbs or cfg.backend == "zero":
        return np.zeros((len(nbs), 2) + t.shape[:2], np.float32)
    if cfg.backend == "dis":
        return np.stack([_dis(t, nb) for nb in nbs])
    import pyflow

    try:
        u, v, _ = pyflow.coarse2fine_flow_batch(_channels(t, cfg), [_channels(nb, cfg) for nb in nbs],
                                                **_pyflow_args(cfg), threads=threads)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return np.stack([u, v], axis=1).astype(np.float32)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Backward warp: out(x) = image(x + flow(x)), bilinear, border pixels replicated; float32 H x W x C.

    `image` is H x W x C (or C x H x W with C in 1..4 when the last axis is not a channel axis, or H x W);
    `flow` is (2, H, W) or (H, W, 2). uint8 images are scaled to [0, 1].
    """
    img = np.asarray(image)
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    if img.ndim == 2:
        img = img[:, :, None]
    elif img.ndim == 3 and img.shape[0] <= 4 and img.shape[2] > 4:
        img = img.transpose(1, 2, 0)
    if img.ndim != 3:
        raise UserError(f"image: expected H x W x C, got shape {np.shape(image)}")
    h, w = img.shape[:2]
    fl = np.asarray(flow, dtype=np.float32)
    if fl.shape == (h, w, 2):
        fl = fl.transpose(2, 0, 1)
    if fl.shape != (2, h, w):
        raise UserError(f"flow: expected (2, {h}, {w}) or ({h}, {w}, 2), got {np.shape(flow)}")
    if not np.isfinite(fl).all():
        raise UserError("flow: contains NaN or Inf")
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    x = np.clip(xs + fl[0], 0, w - 1)
    y = np.clip(ys + fl[1], 0, h - 1)
    x0 = np.minimum(np.floor(x).astype(np.int64), max(w - 2, 0))
    y0 = np.minimum(np.floor(y).astype(np.int64), max(h - 2, 0))
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    top = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
    bottom = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
    return np.ascontiguousarray(top * (1 - fy) + bottom * fy, dtype=np.float32)


def _color_wheel() -> np.ndarray:
    """The Middlebury wheel: 55 hues in 6 ramps (red-yellow 15, yellow-green 6, green-cyan 4, cyan-blue 11,
    blue-magenta 13, magenta-red 6), as float RGB in [0, 255]."""
    ramps = [(15, (255, 0, 0), (255, 255, 0)), (6, (255, 255, 0), (0, 255, 0)), (4, (0, 255, 0), (0, 255, 255)),
             (11, (0, 255, 255), (0, 0, 255)), (13, (0, 0, 255), (255, 0, 255)), (6, (255, 0, 255), (255, 0, 0))]
    rows = []
    for n, start, end in ramps:
        t = np.arange(n)[:, None] / n
        rows.append(np.array(start) * (1 - t) + np.array(end) * t)
    return np.floor(np.concatenate(rows))


def flow_to_color(flow: np.ndarray, max_norm: float | None = None) -> np.ndarray:
    """Middlebury colour coding of a (2, H, W) or (H, W, 2) flow: hue = direction, saturation = magnitude
    (normalised by max_norm, default the largest finite magnitude). Returns uint8 H x W x 3."""
    fl = np.asarray(flow, dtype=np.float64)
    if fl.ndim == 3 and fl.shape[0] == 2 and fl.shape[2] != 2:
        fl = fl.transpose(1, 2, 0)
    if fl.ndim != 3 or fl.shape[2] != 2:
        raise UserError(f"flow: expected (2, H, W) or (H, W, 2), got {np.shape(flow)}")
    u, v = fl[..., 0].copy(), fl[..., 1].copy()
    bad = ~(np.isfinite(u) & np.isfinite(v))
    u[bad] = 0.0
    v[bad] = 0.0
    mag = np.hypot(u, v)
    norm = float(max_norm) if max_norm is not None else float(mag.max(initial=0.0))
    if not np.isfinite(norm) or norm < 0:
        raise UserError(f"max_norm: must be a finite number >= 0, got {max_norm}")
    norm = max(norm, 1e-12)
    u, v, mag = u / norm, v / norm, mag / norm
    wheel = _color_wheel()
    ncols = wheel.shape[0]
    angle = np.arctan2(-v, -u) / np.pi  # in [-1, 1]
    fk = (angle + 1) / 2 * (ncols - 1)
    k0 = np.floor(fk).astype(np.int64) % ncols
    k1 = (k0 + 1) % ncols
    f = (fk - np.floor(fk))[..., None]
    col = ((1 - f) * wheel[k0] + f * wheel[k1]) / 255.0
    m = mag[..., None]
    inside = m <= 1
    col = np.where(inside, 1 - m * (1 - col), col * 0.75)  # saturate with magnitude; dim beyond max_norm
    col[bad] = 0.0
    return np.clip(np.floor(255 * col), 0, 255).astype(np.uint8)
