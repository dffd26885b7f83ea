"""Optical-flow accuracy and speed: endpoint error against a known flow, warping error between two frames, best-of-n
wall time of one flow computation, and the classic C++ pyflow's reference timings."""

from __future__ import annotations

import time

import numpy as np

from iseebetter_lib.config import FlowConfig

BORDER = 4  # pixels excluded from endpoint errors (as the reference json)

# The classic C++ pyflow, single-threaded, iSeeBetter's parameters, on this project's 2-core machine class: it is
# not installable here, so its times are quoted, not measured.
CLASSIC_MS = {(64, 64): 38.0, (112, 64): 76.0, (180, 144): 315.0, (640, 272): 2300.0}  # (W, H): ms per pair


def epe(flow: np.ndarray, u: np.ndarray, v: np.ndarray, border: int = BORDER) -> float:
    """Mean endpoint error against (u, v), `border` pixels excluded."""
    b = slice(border, -border if border else None)
    return float(np.hypot(flow[0][b, b] - u[b, b], flow[1][b, b] - v[b, b]).mean())


def warp_error(im1: np.ndarray, im2: np.ndarray, flow: np.ndarray, border: int = BORDER) -> float:
    """Mean absolute difference (0..255) between im1 and im2 warped back by the flow."""
    from iseebetter_lib.flow import warp

    w = warp(np.asarray(im2, dtype=np.float32), flow)
    b = slice(border, -border)
    return float(np.abs(w[b, b] - np.asarray(im1, dtype=np.float32)[b, b]).mean() * 255)


def flow_time_ms(im1: np.ndarray, im2: np.ndarray, backend: str, repeats: int = 3) -> float:
    """Best-of-`repeats` wall time (ms) of one flow computation with `backend` (iSeeBetter's parameters)."""
    from iseebetter_lib.flow import compute_flow

    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        compute_flow(im1, im2, FlowConfig(backend=backend))
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def machine_reference_ms(repeats: int = 3) -> float:
    """A machine-speed reference: best-of-`repeats` ms of our flow between the first two frames of the bikes sample
    video (640 x 272), a fixed CPU workload. Long runs state their wall time beside it, so that a slow day on a
    shared machine does not read as a regression."""
    from iseebetter_lib.data.home import sample_video_dir
    from iseebetter_lib.data.video import read_video

    frames = read_video(sample_video_dir() / "bikes.mp4", max_frames=2)
    return flow_time_ms(frames[0], frames[1], "pyflow", repeats)
