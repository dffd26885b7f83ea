"""Coarse-to-fine variational optical flow: a Cython drop-in for the classic `pyflow` (C. Liu's "Beyond Pixels").

    u, v, im2W = pyflow.coarse2fine_flow(im1, im2, alpha=0.012, ratio=0.75, minWidth=20,
                                         nOuterFPIterations=7, nInnerFPIterations=1, nSORIterations=30, colType=0)

im1(x, y) ~ im2(x + u, y + v). Images are H x W x C arrays in [0, 1] (C = 3 for colType 0, 1 for colType 1).
Input conversion (documented, never silent garbage): float64 is used as is; float32 is widened to float64;
uint8 is divided by 255; a 2-D array is taken as one channel; non-contiguous arrays are copied. Any other dtype,
mismatched shapes, a wrong channel count, NaN/Inf or out-of-range parameters raise ValueError with a one-line reason.
Images smaller than the pyramid allows are solved on a single level. The solver works in float32 internally.

Parameters (checked before any work; anything else is a one-line ValueError naming the parameter):
  alpha       a finite real in [1e-6, 1e6] (`ALPHA_RANGE`): the float32 solver cannot overflow inside it
              (beyond about 1e35 or below 1e-37 its weights reach inf or 0 and the flow turns NaN)
  ratio       a finite real in (0, 1); values outside [0.4, 0.98] are clamped to that range (the classic silently
              used 0.75 instead)
  minWidth, nOuterFPIterations, nInnerFPIterations, nSORIterations
              integers in [1, 100000] (`INT_RANGE`; an integral float such as 3.0 is accepted, 3.5 or True is not)
  colType     0 (RGB, 3 channels) or 1 (grey, 1 channel)

`coarse2fine_flow_batch(target, neighbours, ...)` computes the flow from one target to many neighbours, sharing the
target's pyramid and running the neighbours in parallel (OpenMP, `threads`, default: all cores).

The extension is built twice from the same source: a portable baseline and, on x86-64, an AVX2 build that is picked
when the CPU has AVX2 (`pyflow.SIMD` says which; PYFLOW_SIMD=baseline forces the baseline). Both give bit-identical
results: neither contracts multiply-adds into FMA.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Sequence

import numpy as np

__all__ = ["coarse2fine_flow", "coarse2fine_flow_batch", "check_parameters", "default_threads", "SIMD", "ALPHA_RANGE",
           "INT_RANGE"]


def _cpu_has_avx2() -> bool:
    """numpy's runtime CPU-feature table (it also checks that the OS saves the AVX registers)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # numpy < 2
        try:
            from numpy.core._multiarray_umath import __cpu_features__
        except ImportError:  # pragma: no cover - very old numpy
            return False
    return bool(__cpu_features__.get("AVX2", False))


def _load_extension() -> tuple[object, str]:
    """The AVX2 build when the CPU has AVX2 and PYFLOW_SIMD is not 'baseline', else the portable build."""
    choice = os.environ.get("PYFLOW_SIMD", "auto").strip().lower()
    if choice not in ("auto", "avx2", "baseline"):
        raise ImportError(f"PYFLOW_SIMD: expected auto, avx2 or baseline, got {choice!r}")
    if choice != "baseline" and _cpu_has_avx2():
        try:
            from pyflow import _flow_avx2
            return _flow_avx2, "avx2"
        except ImportError:  # built on a non-x86 machine or by an older set-up
            pass
    from pyflow import _flow as baseline
    return baseline, "baseline"


_ext, SIMD = _load_extension()

_MAX_PIXELS = 1 << 26  # about 11 GB of work buffers; larger frames should be tiled
_MAX_THREADS = 256

# GNU OpenMP is not fork-safe: a child forked after the parent ran a parallel region hangs in its next one (e.g. a
# torch DataLoader worker). Such children run serially (same results, red-black ordering).
_state = {"parallel_used": False, "serial_only": False}


def _after_fork_in_child() -> None:
    if _state["parallel_used"]:
        _state["serial_only"] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def default_threads() -> int:
    """OMP_NUM_THREADS when set, else the number of usable cores."""
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def _as_image(im: object, name: str) -> np.ndarray:
    arr = np.asarray(im)
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float64) / 255.0
    elif arr.dtype == np.float32 or arr.dtype == np.float64:
        arr = arr.astype(np.float64, copy=False)
    else:
        raise ValueError(f"{name}: dtype {arr.dtype} not supported (use float64/float32 in [0, 1] or uint8)")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"{name}: expected an H x W x C image, got shape {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name}: empty image of shape {arr.shape}")
    if arr.shape[0] * arr.shape[1] > _MAX_PIXELS:
        raise ValueError(f"{name}: image of shape {arr.shape} is too large")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains NaN or Inf")
    return np.ascontiguousarray(arr)


ALPHA_RANGE = (1e-6, 1e6)   # smoothness weight; the float32 solver cannot overflow or underflow inside this range
INT_RANGE = (1, 100000)     # minWidth and the three iteration counts


def _real(value: object, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ValueError(f"{name}: must be a real number, got {value!r}")
    return float(value)


def _integer(value: object, name: str) -> int:
    """An int, a numpy integer or an integral float (3.0); anything else (3.5, True, '3') is an error."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: must be an integer, got {value!r}")
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    if isinstance(value, (numbers.Real, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    raise ValueError(f"{name}: must be an integer, got {value!r}")


def _check_params(alpha: float, ratio: float, minWidth: int, nOuter: int, nInner: int, nSOR: int,
                  colType: int) -> tuple[float, float, int, int, int, int, int]:
    """Validate the numeric parameters (see the module docstring for the ranges); one-line ValueError otherwise."""
    alpha, ratio = _real(alpha, "alpha"), _real(ratio, "ratio")
    if not (math.isfinite(alpha) and ALPHA_RANGE[0] <= alpha <= ALPHA_RANGE[1]):
        raise ValueError(f"alpha: must be a finite number in [{ALPHA_RANGE[0]:g}, {ALPHA_RANGE[1]:g}], got {alpha!r}")
    if not (math.isfinite(ratio) and 0.0 < ratio < 1.0):
        raise ValueError(f"ratio: must be in (0, 1), got {ratio!r}")
    names = ("minWidth", "nOuterFPIterations", "nInnerFPIterations", "nSORIterations")
    ints = [_integer(x, name) for name, x in zip(names + ("colType",), (minWidth, nOuter, nInner, nSOR, colType))]
    for name, val in zip(names, ints[:4]):
        if not INT_RANGE[0] <= val <= INT_RANGE[1]:
            raise ValueError(f"{name}: must be an integer in [{INT_RANGE[0]}, {INT_RANGE[1]}], got {val}")
    if ints[4] not in (0, 1):
        raise ValueError(f"colType: must be 0 (RGB) or 1 (grey), got {ints[4]}")
    return (alpha, ratio, *ints)  # type: ignore[return-value]


def check_parameters(alpha: float = 1.0, ratio: float = 0.5, minWidth: int = 40, nOuterFPIterations: int = 3,
                     nInnerFPIterations: int = 1, nSORIterations: int = 20, colType: int = 0) -> None:
    """Raise the one-line ValueError that `coarse2fine_flow` would raise for these parameters (for callers that
    validate a configuration before any work)."""
    _check_params(alpha, ratio, minWidth, nOuterFPIterations, nInnerFPIterations, nSORIterations, colType)


def _threads(threads: object) -> int:
    if threads is None:
        nt = default_threads()
    else:
        try:
            nt = min(_MAX_THREADS, max(1, int(threads)))  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"threads: must be a positive integer or None, got {threads!r}") from None
    if _state["serial_only"]:
        return 1
    if nt > 1:
        _state["parallel_used"] = True
    return nt


def _busy_threads() -> float:
    """Threads running on the machine besides the caller: the instantaneous runnable count of /proc/loadavg (Linux)
    minus this one, else the 1-minute load average minus one (which counts the caller's own recent work)."""
    try:
        with open("/proc/loadavg") as f:
            return max(0, int(f.read().split()[3].split("/")[0]) - 1)
    except (OSError, ValueError, IndexError):
        return max(0.0, os.getloadavg()[0] - 1.0)


def _pair_threads(threads: object) -> int:
    """Threads for one pair. Its levels synchronise the threads several times per SOR sweep, which collapses when
    the cores are busy with other work (measured: 20x slower on an oversubscribed machine), so use only the cores
    that nothing else is running on (one thread if that leaves fewer than two). Results do not depend on it."""
    nt = _threads(threads)
    if nt > 1:
        try:
            free = len(os.sched_getaffinity(0)) - _busy_threads()
            nt = int(max(1, min(nt, free))) if free >= 2 else 1
        except (AttributeError, OSError):  # pragma: no cover - platforms without these calls
            pass
    return nt


def _check_channels(arr: np.ndarray, colType: int, name: str) -> np.ndarray:
    want = 3 if colType == 0 else 1
    if arr.shape[2] != want:
        raise ValueError(f"{name}: colType {colType} needs {want} channel(s), got {arr.shape[2]}")
    return arr


def coarse2fine_flow(im1: np.ndarray, im2: np.ndarray, alpha: float = 1.0, ratio: float = 0.5,
                     minWidth: int = 40, nOuterFPIterations: int = 3, nInnerFPIterations: int = 1,
                     nSORIterations: int = 20, colType: int = 0, threads: int | None = 1
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense flow from im1 to im2: (u, v) float64 H x W and im2 warped towards im1 (H x W x C float64).

    `threads` (extension; default 1, the classic's behaviour; None: all cores) splits the work on pyramid levels of
    at least 8192 pixels across OpenMP threads. Results do not depend on it (red-black ordering). The threads
    synchronise several times per SOR sweep, so only cores that nothing else is running on are used (one thread
    when fewer than two are idle). `coarse2fine_flow_batch` parallelises whole pairs instead, which pays at every
    size. Parameter ranges: see the module docstring (alpha in [1e-6, 1e6], integers in [1, 100000]).
    """
    params = _check_params(alpha, ratio, minWidth, nOuterFPIterations, nInnerFPIterations, nSORIterations, colType)
    a = _check_channels(_as_image(im1, "im1"), params[-1], "im1")
    b = _check_channels(_as_image(im2, "im2"), params[-1], "im2")
    if a.shape != b.shape:
        raise ValueError(f"im2: shape {b.shape} differs from im1's {a.shape}")
    u, v, warped = _ext.c2f(a, b, *params, threads=_pair_threads(threads))
    np.clip(warped, 0.0, 1.0, out=warped)  # the warp is an image in [0, 1], also where it takes im1's values
    return u, v, warped


def coarse2fine_flow_batch(target: np.ndarray, neighbours: Sequence[np.ndarray] | np.ndarray, alpha: float = 1.0,
                           ratio: float = 0.5, minWidth: int = 40, nOuterFPIterations: int = 3,
                           nInnerFPIterations: int = 1, nSORIterations: int = 20, colType: int = 0,
                           threads: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flow from one target to each neighbour: u, v (n x H x W) and warped neighbours (n x H x W x C), float64.

    Same result as calling `coarse2fine_flow(target, nb, ...)` per neighbour; the target's pyramid is built once
    and neighbours run in parallel on `threads` OpenMP threads (None: all cores). Parameters are validated as for
    `coarse2fine_flow` (alpha in [1e-6, 1e6], integers in [1, 100000]).
    """
    params = _check_params(alpha, ratio, minWidth, nOuterFPIterations, nInnerFPIterations, nSORIterations, colType)
    t = _check_channels(_as_image(target, "target"), params[-1], "target")
    try:
        items = list(neighbours)  # a list of images or an n x H x W (x C) array
    except TypeError:
        raise ValueError(f"neighbours: expected a sequence of images, got {type(neighbours).__name__}") from None
    stack = np.empty((len(items),) + t.shape, np.float64)
    for i, nb in enumerate(items):
        arr = _check_channels(_as_image(nb, f"neighbours[{i}]"), params[-1], f"neighbours[{i}]")
        if arr.shape != t.shape:
            raise ValueError(f"neighbours[{i}]: shape {arr.shape} differs from the target's {t.shape}")
        stack[i] = arr
    nt = _threads(threads)
    inner = _pair_threads(nt // len(items)) if 0 < len(items) < nt else 1
    u, v, warped = _ext.c2f_batch(t, stack, *params, threads=nt, inner_threads=inner)
    np.clip(warped, 0.0, 1.0, out=warped)
    return u, v, warped
