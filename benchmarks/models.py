"""Generator speed on this CPU: one forward + backward of the paper's RBPN and of the presets' generators.

Prints seconds per pass (median of `--repeat`) and each configuration's time relative to the paper's, measured
in the same run (the machine may be shared: compare the ratios, not the absolute seconds).

    python benchmarks/models.py [--size 32] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from iseebetter_lib.config import preset  # noqa: E402
from iseebetter_lib.models import build_generator  # noqa: E402


def pass_seconds(name: str, size: int, repeat: int) -> float:
    """Median wall seconds of forward + backward on one LR sample of `size` x `size` pixels."""
    cfg = preset(name).model
    torch.manual_seed(0)
    model = build_generator(cfg)
    n = cfg.nFrames - 1
    x, nb = torch.rand(1, 3, size, size), torch.rand(1, n, 3, size, size)
    flows = torch.zeros(1, n, 2, size, size)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        model(x, nb, flows).square().mean().backward()
        times.append(time.perf_counter() - t0)
        model.zero_grad(set_to_none=True)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=32, help="LR side in pixels")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    seconds = {name: pass_seconds(name, args.size, args.repeat) for name in ("full", "reduced", "compact", "tiny")}
    print(f"forward + backward, one {args.size}x{args.size} LR sample, {torch.get_num_threads()} threads")
    for name, s in seconds.items():
        print(f"  {name:8s} {s:8.3f} s   {s / seconds['full']:6.3f} x full")


if __name__ == "__main__":
    main()
