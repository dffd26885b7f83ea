"""fp32 vs bf16 (CPU autocast) evaluation: Y-PSNR difference and time ratio, measured in one run.

    PYTHONPATH=. python benchmarks/bench_precision.py [--preset reduced] [--clip walk] [--frames 2]

A random generator of the preset (residual, small output init, as training starts) on the first frames of a Vid4
clip; both precisions score the same frames through the same engine, only `precision` differs.
"""

from __future__ import annotations

import argparse
import time

import torch

from iseebetter_lib.config import preset
from iseebetter_lib.evaluation import EvalOptions, evaluate
from iseebetter_lib.models import build_generator
from iseebetter_lib.models.checkpoints import LoadedGenerator


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="reduced")
    p.add_argument("--clip", default="walk")
    p.add_argument("--frames", type=int, default=2)
    args = p.parse_args()
    cfg = preset(args.preset).model
    torch.manual_seed(0)
    generator = build_generator(cfg).eval()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        lst = Path(tmp) / "list.txt"
        lst.write_text(args.clip + "\n")
        rows = {}
        for precision in ("fp32", "bf16", "fp32"):  # fp32 twice: the first run warms caches up
            t0 = time.perf_counter()
            options = EvalOptions("vid4", list_file=lst, max_frames=args.frames, baselines=(), progress=False)
            res = evaluate(options, LoadedGenerator(generator, cfg, None), {"precision": precision})
            rows[precision] = (res["average"]["psnr_y"], time.perf_counter() - t0)
    (p32, t32), (p16, t16) = rows["fp32"], rows["bf16"]
    print("| preset | frames | fp32 Y-PSNR | bf16 Y-PSNR | difference (dB) | bf16 time / fp32 time |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.preset} | {args.frames} of {args.clip} | {p32:.4f} | {p16:.4f} | {p16 - p32:+.4f} | "
          f"{t16 / t32:.2f} |")


if __name__ == "__main__":
    main()
