"""One generator training step (pixel loss, backward, Adam) per fast-path mode against fp32, in the same run.

Run: ``PYTHONPATH=. python benchmarks/train_step.py [--preset full --batch 2 --patch 16] [--steps 4]``.
Every mode starts from the same weights and sees the same batches (Vid4 calendar crops, bicubic LR, zero flows),
steps alternate between modes, so the loss columns are the trajectories to compare and the time ratio is
measured under the same load. The first step of each mode is a warm-up and is not timed.
Steps are timed under glibc's default allocator, as `iseebetter train` runs them; --exact-memory re-runs the process
with glibc returning every freed block to the system, so that the peak-memory column follows live memory (at the
cost of page faults in every timed step).
Paper configuration at its real size (batch 2, LR patch 64) costs minutes per fp32 step on 2 cores: the default
patch is 16; pass --patch 64 for the real one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.model import VID4, PeakRSS, exact_rss, header  # noqa: E402
from iseebetter_lib.config import preset  # noqa: E402
from iseebetter_lib.models import build_generator  # noqa: E402
from iseebetter_lib.models.fastpath import prepare_generator  # noqa: E402


def batches(n_steps: int, batch: int, patch: int, n_frames: int, scale: int) -> list[dict]:
    """Random crops of consecutive Vid4 calendar frames (random images without Vid4): target, neighbours, hr."""
    rng = np.random.default_rng(0)
    folder = VID4 / "GT" / "calendar"
    if folder.is_dir():
        from PIL import Image

        clip = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in sorted(folder.iterdir())[:n_frames]])
    else:
        clip = rng.integers(0, 256, (n_frames, 144 * scale, 180 * scale, 3), dtype=np.uint8)
    clip = torch.from_numpy(clip).permute(0, 3, 1, 2).float().div(255)
    hp = patch * scale
    out = []
    for _ in range(n_steps):
        crops = []
        for _ in range(batch):
            y, x = rng.integers(0, clip.shape[2] - hp), rng.integers(0, clip.shape[3] - hp)
            crops.append(clip[:, :, y:y + hp, x:x + hp])
        hr = torch.stack(crops)  # (B, T, 3, hp, hp)
        lr = F.interpolate(hr.flatten(0, 1), size=(patch, patch), mode="bicubic", antialias=True,
                           align_corners=False).clamp(0, 1).unflatten(0, hr.shape[:2])
        c = n_frames // 2
        out.append({"target": lr[:, c], "neighbours": [lr[:, i] for i in range(n_frames) if i != c],
                    "flows": [torch.zeros(batch, 2, patch, patch) for _ in range(n_frames - 1)], "hr": hr[:, c]})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="full", choices=("tiny", "compact", "reduced", "full"))
    p.add_argument("--batch", type=int, default=None, help="default: the preset's (full 2, reduced 4)")
    p.add_argument("--patch", type=int, default=None, help="LR patch side (default: full 16, others the preset's)")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--modes", nargs="+", default=["fp32", "bf16-cl", "bf16-cl-subpixel", "bf16-cl-compile"])
    p.add_argument("--exact-memory", action="store_true",
                   help="exact peak memory per mode (glibc returns freed blocks; slower steps for every mode)")
    a = p.parse_args()
    if a.exact_memory:
        exact_rss()
    header(a.threads)
    cfg = preset(a.preset)
    batch = a.batch or cfg.train.batch_size
    patch = a.patch or (16 if a.preset == "full" else cfg.data.patch_size)
    torch.manual_seed(0)
    init = build_generator(cfg.model).state_dict()
    models, opts = {}, {}
    for m in a.modes:
        g = build_generator(cfg.model)
        g.load_state_dict(init)
        models[m] = prepare_generator(g, "cpu", m, copy_weights=False).train()
        opts[m] = torch.optim.Adam(g.parameters(), lr=cfg.train.lr)
    data = batches(a.steps, batch, patch, cfg.model.nFrames, cfg.model.scale_factor)
    loss_fn = F.mse_loss if cfg.train.loss.pixel == "mse" else F.l1_loss
    losses = {m: [] for m in a.modes}
    times = {m: [] for m in a.modes}
    mem = {m: 0.0 for m in a.modes}
    for k, b in enumerate(data):
        for m in a.modes:
            with PeakRSS() as rss:
                t0 = time.perf_counter()
                opts[m].zero_grad(set_to_none=True)
                loss = loss_fn(models[m](b["target"], b["neighbours"], b["flows"]).float(), b["hr"])
                loss.backward()
                opts[m].step()
                dt = time.perf_counter() - t0
            losses[m].append(loss.item())
            mem[m] = max(mem[m], rss.mb)
            if k > 0:
                times[m].append(dt)
    base = statistics.median(times["fp32"])
    memory = "peak RSS above baseline" if a.exact_memory else "RSS growth in a step"
    print(f"\n{a.preset} RBPN training step (batch {batch}, LR patch {patch}, {cfg.train.loss.pixel} loss, Adam lr "
          f"{cfg.train.lr}), median of {a.steps - 1} steps after a warm-up\n"
          f"| mode | step (s) | speed-up vs fp32 | {memory} (MB) | loss per step |\n|---|---|---|---|---|")
    for m in a.modes:
        s = statistics.median(times[m])
        print(f"| {m} | {s:.3f} | {base / s:.2f}x | {mem[m]:.0f} | " + ", ".join(f"{v:.5f}" for v in losses[m]) + " |")
    for m in a.modes[1:]:
        rel = max(abs(x - y) / abs(y) for x, y in zip(losses[m], losses["fp32"]))
        print(f"# {m}: max relative loss difference vs fp32 over the trajectory {rel:.2e}")


if __name__ == "__main__":
    main()
