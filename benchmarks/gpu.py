"""The full profile's hot paths on CUDA: one table of time, memory and agreement with fp32.

- training: the real GAN step (`training.steps.gan_step`: D update, then G on the four-fold loss) at the paper's
  batch 2 / LR patch 64 in fp32, bf16 and fp16 (with GradScaler), from the same weights and batch;
- inference: one Vid4-sized frame (LR 180x144, 7-frame window) through the generator in fp32 and bf16;
- DDP: the same training step over 2 processes with NCCL when 2 GPUs are present.

Each precision is checked against fp32: the first step's generator loss (relative difference) and the SR output
(max absolute difference relative to fp32's largest value, PSNR of the output against fp32's). Random VGG features are used (speed and agreement do
not depend on the ImageNet weights), so no download is needed.

    python benchmarks/gpu.py                      # CUDA, the paper's configuration (< 10 min on one GPU)
    python benchmarks/gpu.py --device cpu --tiny  # the same script on the tiny preset on a CPU (seconds)
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from iseebetter_lib.config import ExperimentConfig, preset  # noqa: E402
from iseebetter_lib.models.bf16_guard import guard_bf16  # noqa: E402
from iseebetter_lib.precision import autocast  # noqa: E402

# Agreement with fp32 that counts as "ok": relative loss difference, max |SR - SR_fp32| / max |SR_fp32|.
TOLERANCE = {"bf16": (0.05, 0.05), "fp16": (0.02, 0.01)}
VID4_LR = (144, 180)  # calendar / city LR size at 4x (h, w)


def _config(tiny: bool) -> ExperimentConfig:
    return preset("tiny" if tiny else "full").override({
        "train.init_weights": None, "train.loss.allow_random_vgg": True,
        "train.loss.weights": {"pixel": 1.0, "perceptual": 6e-3, "adversarial": 1e-3, "tv": 2e-8}})


def _batch(cfg: ExperimentConfig, device: torch.device, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    b, p, n, s = cfg.train.batch_size, cfg.data.patch_size, cfg.model.nFrames, cfg.model.scale_factor
    batch = {"target": torch.rand(b, 3, p, p, generator=g), "neighbours": torch.rand(b, n - 1, 3, p, p, generator=g),
             "flows": torch.randn(b, n - 1, 2, p, p, generator=g), "hr": torch.rand(b, 3, p * s, p * s, generator=g)}
    return {k: v.to(device) for k, v in batch.items()}


def _nets(cfg: ExperimentConfig, device: torch.device, precision: str, ddp_rank: int | None = None) -> Any:
    import warnings

    from iseebetter_lib.losses import DiscriminatorLoss, GeneratorLoss, PixelLoss
    from iseebetter_lib.models import Discriminator, build_generator
    from iseebetter_lib.training.steps import TrainingParts

    torch.manual_seed(cfg.train.seed)
    G, D = build_generator(cfg.model).to(device), Discriminator().to(device)
    t = cfg.train
    g_opt = torch.optim.Adam(G.parameters(), lr=t.lr, betas=tuple(t.betas), eps=t.eps)
    d_opt = torch.optim.Adam(D.parameters(), lr=t.d_lr, betas=tuple(t.betas), eps=t.eps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "perceptual-loss features are RANDOM": on purpose here
        torch.manual_seed(7)
        g_loss = GeneratorLoss(t.loss).to(device)
    if precision == "bf16":  # as the trainer does: layers whose bf16 kernel is wrong on this CPU run in fp32
        for net in (G, D, g_loss):
            guard_bf16(net, device, backward=True)
    g_net, d_net = G, D
    if ddp_rank is not None:
        from torch.nn.parallel import DistributedDataParallel as DDP

        g_net, d_net = DDP(G, device_ids=[ddp_rank]), DDP(D, device_ids=[ddp_rank], broadcast_buffers=False)
    fp16 = precision == "fp16"
    return TrainingParts(generator=g_net, discriminator=d_net, d_plain=D, g_opt=g_opt, d_opt=d_opt,
                         pixel_loss=PixelLoss(t.loss.pixel), g_loss=g_loss,
                         d_loss=DiscriminatorLoss(t.loss).to(device), device=device, precision=precision,
                         g_scaler=torch.amp.GradScaler("cuda") if fp16 else None,
                         d_scaler=torch.amp.GradScaler("cuda") if fp16 else None)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed_steps(nets, batch, warmup: int, steps: int, device: torch.device) -> tuple[dict, float]:
    """The first GAN step's results, then ms per step over `steps` after `warmup` more."""
    from iseebetter_lib.training.steps import gan_step

    first = gan_step(nets, batch)
    for _ in range(warmup):
        gan_step(nets, batch)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        gan_step(nets, batch)
    _sync(device)
    return first, 1000 * (time.perf_counter() - t0) / max(steps, 1)


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a.clamp(0, 1) - b.clamp(0, 1)) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def bench_training(cfg: ExperimentConfig, device: torch.device, precision: str, steps: int,
                   warmup: int) -> dict[str, Any]:
    """ms per GAN step and the first step's G loss and SR, from the same weights and batch in every precision."""
    nets = _nets(cfg, device, precision)
    batch = _batch(cfg, device)
    with torch.no_grad(), autocast(device, nets.precision):
        sr = nets.generator(batch["target"], batch["neighbours"], batch["flows"]).float()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    first, ms = _timed_steps(nets, batch, warmup, steps, device)
    mem = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    return {"ms": ms, "loss": first["loss"], "sr": sr.cpu(), "mem_gib": mem}


def bench_inference(cfg: ExperimentConfig, device: torch.device, precision: str, repeats: int,
                    lr_size: tuple[int, int]) -> dict[str, Any]:
    """ms per frame of the generator on one 7-frame window of `lr_size` (flows given: the model's own cost)."""
    torch.manual_seed(cfg.train.seed)
    from iseebetter_lib.models import build_generator

    G = build_generator(cfg.model).to(device).eval()
    if precision == "bf16":
        guard_bf16(G, device)
    g = torch.Generator().manual_seed(1)
    h, w = lr_size
    n = cfg.model.nFrames
    x, nb = torch.rand(1, 3, h, w, generator=g).to(device), torch.rand(1, n - 1, 3, h, w, generator=g).to(device)
    fl = torch.randn(1, n - 1, 2, h, w, generator=g).to(device)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    ctx = (lambda: torch.autocast(device.type, dtype=dtype)) if dtype else (lambda: torch.autocast(device.type,
                                                                                                    enabled=False))
    with torch.inference_mode(), ctx():
        out = G(x, nb, fl).float()
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(repeats):
            G(x, nb, fl)
        _sync(device)
    return {"ms": 1000 * (time.perf_counter() - t0) / max(repeats, 1), "sr": out.cpu()}


def _ddp_worker(rank: int, cfg: ExperimentConfig, steps: int, warmup: int, port: int, queue: Any) -> None:
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("nccl", rank=rank, world_size=2)
    device = torch.device("cuda", rank)
    torch.cuda.set_device(device)
    nets = _nets(cfg, device, "fp32", ddp_rank=rank)
    batch = _batch(cfg, device, seed=rank)
    first, ms = _timed_steps(nets, batch, warmup, steps, device)
    if rank == 0:
        queue.put({"ms": ms, "loss": first["loss"]})
    dist.destroy_process_group()


def bench_ddp(cfg: ExperimentConfig, steps: int, warmup: int) -> dict[str, Any]:
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    mp.start_processes(_ddp_worker, args=(cfg, steps, warmup, 29517, queue), nprocs=2, start_method="spawn")
    return queue.get(timeout=60)


def _check(precision: str, sr: torch.Tensor, sr32: torch.Tensor, loss: float | None = None,
           loss32: float | None = None) -> tuple[str, bool]:
    """Text and verdict of one precision's agreement with fp32 (SR output, and the loss when given)."""
    tol_loss, tol_sr = TOLERANCE.get(precision, (1e-6, 1e-6))
    diff = float((sr - sr32).abs().max()) / max(float(sr32.abs().max()), 1e-12)
    ok = bool(torch.isfinite(sr).all()) and diff <= tol_sr
    text = f"max|dSR|/max|SR| {diff:.1e}, PSNR vs fp32 {_psnr(sr, sr32):.1f} dB"
    if loss is not None and loss32 is not None:
        rel = abs(loss - loss32) / max(abs(loss32), 1e-12)
        ok = ok and math.isfinite(loss) and rel <= tol_loss
        text = f"G loss rel {rel:.1e}, " + text
    return text, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--tiny", action="store_true", help="the tiny preset instead of the paper's configuration")
    parser.add_argument("--steps", type=int, default=None, help="timed training steps per precision")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--frames", type=int, default=None, help="timed inference frames per precision")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("benchmarks/gpu.py: CUDA is not available (use --device cpu --tiny for the CPU path)", file=sys.stderr)
        return 2
    cfg = _config(args.tiny)
    steps = args.steps or (2 if device.type == "cpu" else 10)
    frames = args.frames or (2 if device.type == "cpu" else 10)
    lr_size = (32, 32) if args.tiny else VID4_LR
    precisions = ["fp32", "bf16"] + (["fp16"] if device.type == "cuda" else [])
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    m = cfg.model
    print(f"# {name}; RBPN {m.base_filter}/{m.feat}/{m.num_stages}/{m.n_resblock}, {m.nFrames} frames; training "
          f"batch {cfg.train.batch_size} LR patch {cfg.data.patch_size}; inference LR {lr_size[1]}x{lr_size[0]}")
    rows, failed = [], False
    train32 = None
    for precision in precisions:
        r = bench_training(cfg, device, precision, steps, args.warmup)
        train32 = train32 or r
        check, ok = _check(precision, r["sr"], train32["sr"], r["loss"], train32["loss"])
        failed |= not ok
        mem = f"{r['mem_gib']:.1f}" if r["mem_gib"] is not None else "-"
        rows.append(("train step", precision, f"{r['ms']:.1f}", f"{train32['ms'] / r['ms']:.2f}x", mem, check,
                     "ok" if ok else "CHECK"))
    inf32 = None
    for precision in ["fp32", "bf16"]:
        r = bench_inference(cfg, device, precision, frames, lr_size)
        inf32 = inf32 or r
        check, ok = _check(precision, r["sr"], inf32["sr"])
        failed |= not ok
        rows.append(("inference frame", precision, f"{r['ms']:.1f}", f"{inf32['ms'] / r['ms']:.2f}x", "-", check,
                     "ok" if ok else "CHECK"))
    if device.type == "cuda" and torch.cuda.device_count() >= 2:
        r = bench_ddp(cfg, steps, args.warmup)
        ok = math.isfinite(r["loss"])
        failed |= not ok
        rows.append(("DDP 2x train step", "fp32", f"{r['ms']:.1f}", f"{2 * train32['ms'] / r['ms']:.2f}x (2 batches)",
                     "-", f"loss {r['loss']:.4g}", "ok" if ok else "CHECK"))
    else:
        rows.append(("DDP 2x train step", "-", "-", "-", "-", "skipped: needs 2 CUDA GPUs", "-"))
    head = ("path", "precision", "ms", "speed vs fp32", "peak GiB", "agreement with fp32", "")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
