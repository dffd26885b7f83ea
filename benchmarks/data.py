"""Data-pipeline benchmark: training samples per second with the flow cache vs flows computed per sample.

The original computes the flows of every sample on the fly after cropping; we compute whole-LR-frame flows once
(`FlowCache`) and slice them. Also measured here: the embedded dataset's build time (with the flow cache for the
`compact` preset), the float16 storage error of cached flows on real frames, and the end-point difference between
flows computed on the crop (original) and whole-frame flows cropped (ours).

    python benchmarks/data.py [--cache-dir .cache/bench-data] [--samples 200] [--fresh]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from iseebetter_lib.config import DataConfig, preset  # noqa: E402
from iseebetter_lib.data import (FlowCache, TrainingDataset, crop_vs_whole_epe, degrade,  # noqa: E402
                                 embedded_dataset, read_video)
from iseebetter_lib.data.embedded import sample_video_dir  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process, all threads (wall time depends on what else runs on the machine)."""
    return time.process_time()


def _rate(ds: TrainingDataset, n: int, start: int = 0) -> tuple[float, float]:
    """Samples per second of wall time and of CPU time (the machine may be shared: CPU time is steadier)."""
    t0, c0 = time.perf_counter(), _cpu()
    for i in range(start, start + n):
        ds[i % len(ds)]
    return n / (time.perf_counter() - t0), n / max(_cpu() - c0, 1e-9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default=None, help="default: a fresh temporary folder")
    parser.add_argument("--samples", type=int, default=200, help="samples timed with the cache")
    parser.add_argument("--on-the-fly-samples", type=int, default=20)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # both modes single-threaded: a fair per-sample comparison
    tmp = None
    if args.cache_dir is None:
        tmp = tempfile.mkdtemp(prefix="bench-data-")
        cache = Path(tmp)
    else:
        cache = Path(args.cache_dir)
    rows: list[tuple[str, str]] = []
    try:
        t0, c0 = time.perf_counter(), _cpu()
        root = embedded_dataset(cache, progress=False)
        t_emb, c_emb = time.perf_counter() - t0, _cpu() - c0
        compact = preset("compact").data
        compact.cache_dir = str(cache)
        t0, c0 = time.perf_counter(), _cpu()
        TrainingDataset(compact, progress=False)
        t_flow3, c_flow3 = time.perf_counter() - t0, _cpu() - c0
        rows.append(("embedded dataset build (PNG frames): wall / CPU", f"{t_emb:.1f} s / {c_emb:.1f} s"))
        rows.append(("+ compact (nFrames=3) train flow cache: wall / CPU", f"{t_flow3:.1f} s / {c_flow3:.1f} s"))

        cfg = DataConfig(root=str(root), cache_dir=str(cache), nFrames=7, patch_size=64)
        t0 = time.perf_counter()
        cached = TrainingDataset(cfg, progress=False)
        t_flow7 = time.perf_counter() - t0
        rows.append(("7-frame train flow cache build (reuses nFrames=3 pairs)", f"{t_flow7:.1f} s"))
        fly = TrainingDataset(cfg, flow_mode="on_the_fly", progress=False)
        ram = _rate(cached, args.samples)  # entries in RAM (warmed by the cache check in the dataset's init)
        cached.cache = FlowCache(cache, cfg.flow, memory_mb=0)
        disk = _rate(cached, args.samples)  # every entry read from disk
        fly = _rate(fly, args.on_the_fly_samples)
        rows.append(("samples/s (wall / CPU), 64x64 LR, 7 frames, cache in RAM", f"{ram[0]:.0f} / {ram[1]:.0f}"))
        rows.append(("samples/s (wall / CPU), cache read from disk (memory_mb=0)",
                     f"{disk[0]:.0f} / {disk[1]:.0f}"))
        rows.append(("samples/s (wall / CPU), flows on the fly per sample (original)",
                     f"{fly[0]:.2f} / {fly[1]:.2f}"))
        rows.append(("speed-up, CPU time: RAM / disk (target >= 50x)",
                     f"{ram[1] / fly[1]:.0f}x / {disk[1] / fly[1]:.0f}x"))
        rows.append(("speed-up, wall time: RAM / disk", f"{ram[0] / fly[0]:.0f}x / {disk[0] / fly[0]:.0f}x"))

        from iseebetter_lib.flow import compute_window_flows

        errs, mags = [], []
        for c, t in cached.samples[::40]:
            clip = cached.clips[c]
            nbs = cached.neighbours(c, t)
            exact = compute_window_flows(clip.lr[t], [clip.lr[j] for j in nbs])
            stored = cached.cache.window(clip.id, clip.lr, t, nbs)
            errs.append(np.abs(stored - exact).max())
            mags.append(np.abs(exact).max())
        rows.append(("float16 cache: max abs error (px) / max |flow|", f"{max(errs):.5f} / {max(mags):.2f}"))

        for name in ("bikes", "bigbuckbunny"):
            frames = read_video(sample_video_dir() / f"{name}.mp4", max_frames=40)
            if name == "bigbuckbunny":
                from iseebetter_lib.data import imresize

                frames = imresize(frames, output_shape=(288, 512))
            lr = degrade(frames[:, : frames.shape[1] // 4 * 4, : frames.shape[2] // 4 * 4], 4)
            r = crop_vs_whole_epe(lr, patch=64, n_samples=12)
            rows.append((f"crop vs whole-frame flow EPE, {name} LR, 64x64 (px)",
                         f"{r['epe']:.3f} (interior {r['epe_interior']:.3f}; |flow| {r['flow_magnitude']:.2f})"))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    width = max(len(k) for k, _ in rows)
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for k, v in rows:
        print(f"| {k.ljust(width)} | {v} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
