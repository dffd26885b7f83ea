"""RBPN on the CPU: fast-path modes (iseebetter_lib.models.fastpath) against the fp32 path, in the same run.

Run: ``PYTHONPATH=. python benchmarks/model.py infer|compact|accuracy|train [options]`` (see --help).
- infer: paper configuration, one 7-frame window, flows excluded; a cropped LR window by default (--size, the full
  calendar frame 180x144 with --full-frame); each mode in its own process: fp32 under glibc's default allocator
  (the original code's conditions) and, under the allocator our commands tune, fp32 and the fast modes; ratios and
  peak memory.
- compact: `iseebetter upscale` of a 320x240 video with the compact model (the shipped one by default), fp32 and
  bf16, whole command per output frame, then flows and model of one window timed apart.
- accuracy: Y-PSNR of a trained generator on Vid4 frames per mode against fp32 (random weights are no check).
- train: see benchmarks/train_step.py.
Figures are ratios measured in one run: the machine is shared, absolute times move with its load.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
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

from iseebetter_lib.config import InferenceConfig, preset  # noqa: E402
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


def _child_run(a: argparse.Namespace) -> None:
    """In its own process: one paper-configuration window in one mode, under glibc's default allocator or the tuned
    one; prints seconds per call and the peak memory above the set-up (ru_maxrss) as JSON."""
    import json
    import resource

    from iseebetter_lib.device import tune_cpu_allocator

    spec = json.loads(a.spec)
    tuned = tune_cpu_allocator() if spec["tuned"] else False
    torch.manual_seed(0)
    g = RBPN().eval()  # the paper configuration; speed does not depend on the weights
    x, nb, fl = window(6, spec["h"], spec["w"])
    f = prepare_generator(g, "cpu", spec["mode"])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    with torch.inference_mode():
        f(x, nb, fl)  # warm-up
        for _ in range(spec["reps"]):
            t0 = time.perf_counter()
            f(x, nb, fl)
            times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    print(json.dumps({"seconds": statistics.median(times), "peak_mb": peak / 1024, "tuned": tuned}))


def cmd_infer(a: argparse.Namespace) -> None:
    """Each (mode, allocator) in its own process, in turn for --rounds rounds: fp32 under glibc's default allocator
    (the original code's conditions), fp32 and the fast modes under the tuned allocator that `iseebetter evaluate`
    and `upscale` set, so the gain from the allocator and from the mode are stated apart."""
    import json
    import subprocess

    h, w = (144, 180) if a.full_frame else (a.size, a.size)
    configs = [("fp32", False), ("fp32", True)] + [(m, True) for m in a.modes if m != "fp32"]
    secs = {c: [] for c in configs}
    mem = {c: 0.0 for c in configs}
    for _ in range(a.rounds):
        for mode, tuned in configs:
            spec = json.dumps({"mode": mode, "tuned": tuned, "h": h, "w": w, "reps": a.reps})
            out = subprocess.run([sys.executable, __file__, "--threads", str(a.threads), "_child", spec],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(f"{mode}: child failed:\n{out.stderr[-2000:]}")
            r = json.loads(out.stdout.strip().splitlines()[-1])
            secs[(mode, tuned)].append(r["seconds"])
            mem[(mode, tuned)] = max(mem[(mode, tuned)], r["peak_mb"])
    med = {c: statistics.median(v) for c, v in secs.items()}
    original, same = med[("fp32", False)], med[("fp32", True)]
    print(f"\npaper RBPN, one 7-frame window at LR {w}x{h}, flows excluded; median of {a.reps} calls after a warm-up, "
          f"{a.rounds} round(s), each in its own process\n"
          "| mode | allocator | time (s) | speed-up vs fp32, default allocator (the original's conditions) | "
          "vs fp32, tuned allocator | peak RSS above set-up (MB) |\n|---|---|---|---|---|---|")
    for (mode, tuned), v in med.items():
        vs_same = f"{same / v:.2f}x" if tuned else "-"
        print(f"| {mode} | {'tuned' if tuned else 'glibc default'} | {v:.3f} | {original / v:.2f}x | {vs_same} | "
              f"{mem[(mode, tuned)]:.0f} |")


def cmd_compact(a: argparse.Namespace) -> None:
    """`iseebetter upscale` of a 320x240 video with the compact model, as the command runs it (glibc allocator
    tuned, the inference engine, PyAV decode and encode), fp32 against bf16, rounds interleaved; then one window's
    flows and model timed apart, so the split is stated."""
    import tempfile

    from iseebetter_lib.device import tune_cpu_allocator
    from iseebetter_lib.flow import compute_window_flows
    from iseebetter_lib.inference import upscale
    from iseebetter_lib.inference.engine import Engine
    from iseebetter_lib.inference.writer import open_output
    from iseebetter_lib.models.shipped import shipped_weights
    from iseebetter_lib.models.checkpoints import generator_file_state, load_generator_file, save_checkpoint

    print(f"# glibc allocator tuned as the command does: {tune_cpu_allocator()}")
    frames = _frames(a.width, a.height, a.frames)
    with tempfile.TemporaryDirectory() as tmp:
        weights = a.weights or shipped_weights()
        if weights is None:
            print("# no --weights and no shipped model: a random compact generator (speed does not depend on weights)")
            torch.manual_seed(0)
            cfg = preset("compact").model
            weights = save_checkpoint(Path(tmp) / "g.pt", generator_file_state(build_generator(cfg).state_dict(), cfg))
        video = Path(tmp) / "in.mp4"
        with open_output(video, 25.0) as writer:
            for f in frames:
                writer.write(f)
        per_frame = {p: [] for p in a.precisions}
        for _ in range(a.reps):
            for p in a.precisions:
                with contextlib.redirect_stderr(io.StringIO()):  # the "precision given overrides" note
                    rep = upscale(video, Path(tmp) / "out.mp4", weights=weights, device="cpu", precision=p,
                                  overwrite=True, progress=False)
                per_frame[p].append(rep.seconds / rep.frames)
        loaded = load_generator_file(weights, device="cpu")
        mcfg = loaded.model_cfg
        split = {}
        for p in a.precisions:
            engine = Engine(loaded.generator, mcfg, dataclasses.replace(loaded.inference_cfg or InferenceConfig(),
                                                                         precision=p, device="cpu", tile=None))
            target, nbs = frames[1], [frames[0], frames[2]][: mcfg.nFrames - 1]
            flow_s, frame_s = [], []
            for _ in range(a.reps + 1):
                t0 = time.perf_counter()
                compute_window_flows(target, nbs, engine.cfg.flow)
                t1 = time.perf_counter()
                engine.frame(target, nbs)  # flows again, tensors as the engine lays them out, model, uint8 frame
                flow_s.append(t1 - t0)
                frame_s.append(time.perf_counter() - t1)
            flows, frame = statistics.median(flow_s[1:]), statistics.median(frame_s[1:])
            split[p] = (flows, frame - flows)
    base = statistics.median(per_frame["fp32"]) if "fp32" in per_frame else None
    print(f"\n`iseebetter upscale` of a {a.width}x{a.height} video ({a.frames} frames, x4) with {Path(weights).name} "
          f"(base_filter {mcfg.base_filter}, feat {mcfg.feat}, {mcfg.nFrames} frames: {mcfg.nFrames - 1} flows per "
          f"output frame), median of {a.reps} interleaved rounds\n"
          "| precision | whole command per output frame (s) | output frames/s | speed-up vs fp32 | flows (s) | "
          "model and tensors (s) |"
          "\n|---|---|---|---|---|---|")
    for p, v in per_frame.items():
        s = statistics.median(v)
        ratio = f"{base / s:.2f}x" if base else "-"
        print(f"| {p} | {s:.3f} | {1 / s:.2f} | {ratio} | {split[p][0]:.3f} | {split[p][1]:.3f} |")


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
    from iseebetter_lib.models.checkpoints import load_generator
    from iseebetter_lib.data import neighbour_indices
    from iseebetter_lib.data.eval_sets import EvalSet
    from iseebetter_lib.evaluation.metrics import psnr_y
    from iseebetter_lib.flow import compute_window_flows

    g, cfg = load_generator(a.weights)
    fast = {m: prepare_generator(g, "cpu", m) for m in a.modes}
    clips = EvalSet("vid4", VID4 / "GT", max_frames=a.frames + cfg.nFrames)
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
    i.add_argument("--reps", type=int, default=2, help="timed calls per process, after a warm-up")
    i.add_argument("--rounds", type=int, default=1, help="processes per (mode, allocator), run in turn")
    i.add_argument("--modes", nargs="+", default=["bf16w-cl"], help="fast modes (fp32 always runs, both allocators)")
    ch = sub.add_parser("_child", help=argparse.SUPPRESS)
    ch.add_argument("spec")
    c = sub.add_parser("compact")
    c.add_argument("--width", type=int, default=320)
    c.add_argument("--height", type=int, default=240)
    c.add_argument("--frames", type=int, default=10, help="frames of the test video (Vid4 city, resized)")
    c.add_argument("--reps", type=int, default=3)
    c.add_argument("--weights", help="generator file (default: the shipped iseebetter_lib/weights/laptop.pt)")
    c.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    r = sub.add_parser("accuracy")
    r.add_argument("--weights", required=True, help="a trained generator.pt (e.g. iseebetter train --preset compact)")
    r.add_argument("--frames", type=int, default=2, help="frames per Vid4 clip")
    r.add_argument("--modes", nargs="+", default=["fp32", "fp32-cl", "bf16-cl", "bf16-cl-subpixel"])
    a = p.parse_args()
    if a.cmd == "_child":
        torch.set_num_threads(a.threads)
        return _child_run(a)
    header(a.threads)
    {"infer": cmd_infer, "compact": cmd_compact, "accuracy": cmd_accuracy}[a.cmd](a)


if __name__ == "__main__":
    main()
