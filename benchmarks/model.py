"""RBPN on the CPU: fast-path modes (iseebetter_lib.models.fastpath) against the fp32 path, in the same run.

Run: ``PYTHONPATH=. python benchmarks/model.py infer|compact|accuracy|train [options]`` (see --help).
- infer: paper configuration, one 7-frame window, flows excluded; a cropped LR window by default (--size, the full
  calendar frame 180x144 with --full-frame), fp32 and fast modes interleaved, ratio and peak RSS above baseline.
- compact: the compact preset upscaling 320x240 frames (x4), flows (compute_window_flows) and model timed apart.
- accuracy: Y-PSNR of a trained generator on Vid4 frames per mode against fp32 (random weights are no check).
- train: see benchmarks/train_step.py.
Figures are ratios measured in one run: the machine is shared, absolute times move with its load.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from iseebetter_lib.config import preset  # noqa: E402
from iseebetter_lib.models import RBPN, build_generator  # noqa: E402
from iseebetter_lib.models.fastpath import native_bf16, prepare_generator  # noqa: E402

FLAGS = ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")
VID4 = Path(__file__).resolve().parents[2] / "shared" / "data" / "Vid4"


def exact_rss() -> None:
    """Re-exec once with glibc returning every allocation above 128 KiB to the system on free, so that RSS follows
    live memory and one mode's freed heap does not hide the next mode's peak."""
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") is None and sys.platform.startswith("linux"):
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072", MALLOC_TRIM_THRESHOLD_="131072")
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def header(threads: int) -> None:
    """CPU model, the flags oneDNN cares about, threads, torch: printed by every benchmark."""
    torch.set_num_threads(threads)
    flags, model = set(), platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    have = " ".join(f for f in FLAGS if f in flags) or "(unknown)"
    print(f"# CPU: {model}; flags: {have}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"capability {torch.backends.cpu.get_cpu_capability()}, oneDNN native bf16: "
          f"{native_bf16(torch.device('cpu'))}; load average {os.getloadavg()[0]:.1f}")


class PeakRSS:
    """Peak resident memory above the value at entry, sampled every 2 ms from /proc/self/statm."""

    def __enter__(self) -> "PeakRSS":
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.base = self._rss()
        self.peak = self.base
        self._stop = False
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()
        return self

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self.page

    def _loop(self) -> None:
        while not self._stop:
            self.peak = max(self.peak, self._rss())
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._t.join()
        self.peak = max(self.peak, self._rss())

    @property
    def mb(self) -> float:
        return (self.peak - self.base) / 2**20


def window(n: int, h: int, w: int, seed: int = 0) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(1, 3, h, w, generator=g)
    return (x, [torch.rand(1, 3, h, w, generator=g) for _ in range(n)],
            [torch.randn(1, 2, h, w, generator=g) for _ in range(n)])


def interleaved(fns: dict[str, callable], reps: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median seconds and max peak-RSS MB per name; one warm call each, then `reps` rounds in turn."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    mem = {k: 0.0 for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            with PeakRSS() as p:
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
            mem[k] = max(mem[k], p.mb)
    return {k: statistics.median(v) for k, v in times.items()}, mem


def table(title: str, secs: dict[str, float], mem: dict[str, float] | None = None, unit: str = "s") -> None:
    base = secs["fp32"]
    print(f"\n{title}\n| mode | time ({unit}) | speed-up vs fp32 | peak RSS above baseline (MB) |\n|---|---|---|---|")
    for k, v in secs.items():
        m = f"{mem[k]:.0f}" if mem else "-"
        print(f"| {k} | {v:.3f} | {base / v:.2f}x | {m} |")


def cmd_infer(a: argparse.Namespace) -> None:
    h, w = (144, 180) if a.full_frame else (a.size, a.size)
    torch.manual_seed(0)
    g = RBPN().eval()  # the paper configuration; speed does not depend on the weights
    x, nb, fl = window(6, h, w)
    fast = {m: prepare_generator(g, "cpu", m) for m in a.modes}
    with torch.inference_mode():
        ref = g(x, nb, fl)
        outs = {m: f(x, nb, fl) for m, f in fast.items()}
        for m, o in outs.items():
            rel = ((o - ref).abs().max() / ref.abs().max()).item()
            print(f"# {m}: max |out - fp32| / max |fp32| = {rel:.2e} (random weights: speed only)")
        secs, mem = interleaved({m: (lambda f=f: f(x, nb, fl)) for m, f in fast.items()}, a.reps)
    table(f"paper RBPN, one 7-frame window at LR {w}x{h}, flows excluded, median of {a.reps}", secs, mem)


def cmd_compact(a: argparse.Namespace) -> None:
    from iseebetter_lib.flow import compute_window_flows

    cfg = preset("compact").model
    torch.manual_seed(0)
    g = build_generator(cfg).eval()
    frames = _frames(a.width, a.height, cfg.nFrames)
    t0 = time.perf_counter()
    for _ in range(a.reps):
        flows = compute_window_flows(frames[0], list(frames[1:]), None)
    flow_s = (time.perf_counter() - t0) / a.reps
    to_t = lambda f: torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1).float().div(255)[None]  # noqa: E731
    x, nb = to_t(frames[0]), [to_t(f) for f in frames[1:]]
    fl = [torch.from_numpy(f)[None] for f in flows]
    modes = list(a.modes)
    fast = {}
    for m in modes:
        t0 = time.perf_counter()
        fast[m] = prepare_generator(g, "cpu", m)
        if "compile" in m:
            with torch.inference_mode():
                fast[m](x, nb, fl)
            print(f"# {m}: first call (compile) {time.perf_counter() - t0:.1f} s")
    with torch.inference_mode():
        secs, mem = interleaved({m: (lambda f=f: f(x, nb, fl)) for m, f in fast.items()}, a.reps)
    table(f"compact RBPN, {a.width}x{a.height} -> x4, model only, median of {a.reps}", secs, mem)
    print(f"\nflows ({cfg.nFrames - 1} per output frame, compute_window_flows): {flow_s:.3f} s")
    for m, s in secs.items():
        print(f"| {m} | model {s:.3f} s + flows {flow_s:.3f} s = {1 / (s + flow_s):.2f} output frames/s |")


def _frames(w: int, h: int, n: int) -> np.ndarray:
    """n consecutive Vid4 city frames resized to w x h (random frames when Vid4 is absent)."""
    folder = VID4 / "GT" / "city"
    if not folder.is_dir():
        print("# Vid4 not found: random frames")
        return np.random.default_rng(0).integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    from PIL import Image

    files = sorted(folder.iterdir())[:n]
    return np.stack([np.asarray(Image.open(f).convert("RGB").resize((w, h), Image.BICUBIC)) for f in files])


def cmd_accuracy(a: argparse.Namespace) -> None:
    from iseebetter_lib.models.weights import load_generator
    from iseebetter_lib.data import neighbour_indices
    from iseebetter_lib.evaluation.evaluate import load_clips
    from iseebetter_lib.evaluation.metrics import psnr_y
    from iseebetter_lib.flow import compute_window_flows

    g, cfg = load_generator(a.weights)
    fast = {m: prepare_generator(g, "cpu", m) for m in a.modes}
    _, clips = load_clips("vid4", VID4 / "GT", max_frames=a.frames + cfg.nFrames)
    rows = {m: [] for m in fast}
    maxdiff = {m: 0.0 for m in fast}
    for clip in clips:
        lr = clip.lr
        for t in range(1, 1 + a.frames):
            idx = [int(i) for i in neighbour_indices(t, len(lr), cfg.nFrames, future=True, boundary="copy")]
            flows = compute_window_flows(lr[t], [lr[i] for i in idx], cfg=None)
            to_t = lambda f: torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1).float().div(255)[None]  # noqa: E731
            x, nb = to_t(lr[t]), [to_t(lr[i]) for i in idx]
            fl = [torch.from_numpy(np.ascontiguousarray(f))[None] for f in flows]
            with torch.inference_mode():
                outs = {m: f(x, nb, fl) for m, f in fast.items()}
            for m, o in outs.items():
                maxdiff[m] = max(maxdiff[m], (o - outs["fp32"]).abs().max().item())
                img = (o[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
                rows[m].append(psnr_y(img, clip.hr[t], crop=8))
        print(f"# {clip.name}: " + ", ".join(f"{m} {np.mean(r[-a.frames:]):.4f}" for m, r in rows.items()))
    print(f"\ntrained generator {a.weights}; Vid4 BI, {a.frames} frames per clip, Y-PSNR crop 8\n"
          "| mode | mean Y-PSNR (dB) | dPSNR vs fp32 (dB) | max abs diff of the float output |\n|---|---|---|---|")
    base = np.mean(rows["fp32"])
    for m, r in rows.items():
        worst = max(abs(p - q) for p, q in zip(r, rows["fp32"]))
        print(f"| {m} | {np.mean(r):.4f} | {np.mean(r) - base:+.4f} (worst frame {worst:.4f}) | {maxdiff[m]:.2e} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("infer")
    i.add_argument("--size", type=int, default=32, help="LR crop side (default 32; the paper frame costs minutes)")
    i.add_argument("--full-frame", action="store_true", help="the whole calendar LR frame, 180x144")
    i.add_argument("--reps", type=int, default=2)
    i.add_argument("--modes", nargs="+", default=["fp32", "fp32-cl", "bf16-cl", "bf16-cl-subpixel"])
    c = sub.add_parser("compact")
    c.add_argument("--width", type=int, default=320)
    c.add_argument("--height", type=int, default=240)
    c.add_argument("--reps", type=int, default=2)
    c.add_argument("--modes", nargs="+", default=["fp32", "bf16-cl", "bf16-cl-compile"])
    r = sub.add_parser("accuracy")
    r.add_argument("--weights", required=True, help="a trained generator.pt (e.g. iseebetter train --preset compact)")
    r.add_argument("--frames", type=int, default=2, help="frames per Vid4 clip")
    r.add_argument("--modes", nargs="+", default=["fp32", "fp32-cl", "bf16-cl", "bf16-cl-subpixel"])
    a = p.parse_args()
    exact_rss()
    header(a.threads)
    {"infer": cmd_infer, "compact": cmd_compact, "accuracy": cmd_accuracy}[a.cmd](a)


if __name__ == "__main__":
    main()
