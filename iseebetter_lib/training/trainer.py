"""`train()`: pixel-loss pre-training, then adversarial fine-tuning, with exact resume and optional DDP.

Schedule (global steps 0 .. pretrain_steps + gan_steps - 1): the first `pretrain_steps` train the generator alone
on the pixel loss; the rest alternate a discriminator and a generator update on the four-fold loss. Adam for both
nets (the paper's lr, betas, eps); the generator's lr is divided by 10 at `lr_decay_at` of each stage. Batches are
a pure function of (seed, step) (see `distributed.py`), so a resumed run continues bit for bit.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import torch
from torch.utils.data import DataLoader

from iseebetter_lib.config import ExperimentConfig
from iseebetter_lib.device import resolve_device
from iseebetter_lib.errors import UserError
from iseebetter_lib.locks import folder_lock
from iseebetter_lib.losses import PixelLoss
from iseebetter_lib.models.bf16_guard import guard_bf16
from iseebetter_lib.precision import check_precision
from iseebetter_lib.training import distributed
from iseebetter_lib.training.logs import TrainingLog, checkpoint_step
from iseebetter_lib.training.outputs import checkpoint_path, prepare_out_dir
from iseebetter_lib.training.session import TrainingRun, generator_lr_factor
from iseebetter_lib.training.steps import TrainingParts, gan_step, pretrain_step

__all__ = ["TrainResult", "default_dataset", "generator_lr_factor", "train"]


@dataclass
class TrainResult:
    """What a run leaves: the final checkpoint, the logged rows of this call, the CSV log, the generator file."""

    checkpoint: Path
    history: list[dict[str, Any]] = field(default_factory=list)
    log_csv: Path = Path("log.csv")
    generator: Path | None = None
    step: int = 0


VIRTUAL_EPOCH = 1 << 20  # items per pass of the sampler's permutation (about a million: cheap to shuffle)


def default_dataset(cfg: ExperimentConfig, progress: bool = False) -> Any:
    """``TrainingDataset(cfg.data, "train", seed)``, lengthened to about a million items.

    Its items draw their crop and flips from (seed, index), and index i is sample i mod n: a length of k * n gives
    every sample k different crops, so the patches do not repeat epoch after epoch. The length does not depend on
    the step counts, so a run resumed with a longer schedule still sees the batches a longer run would have seen.
    """
    from iseebetter_lib.data import TrainingDataset

    data = TrainingDataset(cfg.data, "train", seed=cfg.train.seed, progress=progress)
    n = len(data)
    if n < VIRTUAL_EPOCH:
        data = TrainingDataset(cfg.data, "train", seed=cfg.train.seed, length=-(-VIRTUAL_EPOCH // n) * n,
                               clips=data.clips, precompute=False, progress=False)
    return data


def train(cfg: ExperimentConfig, resume: bool = False, progress: bool = True, dataset: Any = None,
          overwrite: bool = False, max_steps: int | None = None) -> TrainResult:
    """Train the generator (and, in the GAN stage, the discriminator) as `cfg` says; returns the final checkpoint.

    `dataset`: any map-style dataset with `TrainingDataset`'s items (default: ``TrainingDataset(cfg.data, "train",
    seed)``). `resume`: continue from ``out_dir/checkpoints/last.pt`` exactly. `overwrite`: start afresh over a
    previous run's checkpoints. `max_steps`: stop (with a checkpoint) after this global step, e.g. to split a run.
    Under ``torchrun`` each process trains on its share of every batch (DDP); only rank 0 writes files.
    """
    cfg = cfg.override({})  # a validated private copy
    t = cfg.train
    device = resolve_device(t.device, option="train.device")
    info = distributed.init_distributed(device.type)
    if info.enabled and device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
    precision = _training_precision(t.precision, device)
    out_dir = Path(t.out_dir)
    deterministic = torch.are_deterministic_algorithms_enabled()
    try:  # one run per folder for the run's life (rank 0 writes): a second is refused naming this one
        with folder_lock(out_dir, "training run folder") if info.is_main else contextlib.nullcontext():
            resume_from = prepare_out_dir(out_dir, resume, overwrite, info.is_main)
            if info.enabled:
                torch.distributed.barrier()
            if device.type == "cpu":
                torch.use_deterministic_algorithms(True, warn_only=True)
            return _train(cfg, device, info, precision, out_dir, resume_from, progress, dataset, max_steps)
    finally:
        torch.use_deterministic_algorithms(deterministic)
        distributed.shutdown_distributed(info)


def _training_precision(precision: str, device: torch.device) -> str:
    """The autocast precision: any on CUDA; fp32 or bf16 on a CPU (fp16 there runs in fp32, with a warning)."""
    if precision == "fp16" and device.type != "cuda":
        warnings.warn(f"train.precision={precision} is ignored on CPU (training in fp32)", stacklevel=3)
        return "fp32"
    return check_precision(precision, device, option="train.precision")


def _fast_generator(generator: torch.nn.Module, device: torch.device, precision: str,
                    compile_graph: bool = False) -> torch.nn.Module:
    """bf16 on a CPU trains through `models.fastpath` (channels_last, batched neighbour branch, sub-pixel transposed
    convolutions where the CPU has native bf16; compiled with `train.compile`), converting the live module in
    place: the optimiser steps the same tensors and checkpoints keep their keys."""
    from iseebetter_lib.models.fastpath import bf16_mode, prepare_generator, supports_fast_path

    if device.type != "cpu" or precision != "bf16" or not supports_fast_path(generator):
        if compile_graph:
            warnings.warn("train.compile applies to bf16 training on a CPU of a generator the fast path knows; "
                          "ignored", stacklevel=3)
        return generator

    mode = "bf16-cl-compile" if compile_graph else bf16_mode(device, training=True)
    return prepare_generator(generator, device, mode, copy_weights=False)


def _train(cfg: ExperimentConfig, device: torch.device, info: distributed.DistInfo, precision: str, out_dir: Path,
           resume_from: Path | None, progress: bool, dataset: Any, max_steps: int | None) -> TrainResult:
    """Build the run (resumed if asked), its nets, data and logs, then step to the end and save."""
    t = cfg.train
    total = t.pretrain_steps + t.gan_steps
    end = total if max_steps is None else min(total, max_steps)
    run = TrainingRun(cfg, device, info.world_size, fp16=device.type == "cuda" and precision == "fp16")
    losses = _gan_losses(cfg, device) if t.gan_steps and end > t.pretrain_steps else (None, None)
    if resume_from is not None:
        run.load(resume_from)
    parts = _training_parts(run, info, precision, *losses)
    if dataset is None:
        dataset = _shared_dataset(cfg, info, progress)
    loader, sampler = _loader(cfg, dataset, run.step, info, device)
    log = TrainingLog(out_dir, total, t.log_every, run.step, sampler.batches_per_epoch, info.world_size,
                      info.is_main, progress, device,
                      step_offset=checkpoint_step(t.init_weights) if info.is_main else 0)
    saved_step = run.step if resume_from is not None else -1  # step of the newest checkpoint on disk
    try:
        saved_step = _run_steps(run, parts, iter(loader), end, log, out_dir, info.is_main, saved_step)
    finally:
        log.close()
    if info.is_main and run.step > saved_step:
        run.save(out_dir)
    if info.enabled:
        torch.distributed.barrier()
    return TrainResult(checkpoint=checkpoint_path(out_dir, run.step), history=log.history,
                       log_csv=out_dir / "log.csv", generator=out_dir / "generator.pt", step=run.step)


def _gan_losses(cfg: ExperimentConfig, device: torch.device) -> tuple[Any, Any]:
    """The four-fold generator loss and the discriminator loss, built under their own seed: (random) VGG features
    are then the same in a fresh and in a resumed run."""
    from iseebetter_lib.losses import DiscriminatorLoss, GeneratorLoss

    with distributed.seeded_rngs(distributed.derived_seed(cfg.train.seed, 0x766767)):
        return GeneratorLoss(cfg.train.loss).to(device), DiscriminatorLoss(cfg.train.loss).to(device)


def _training_parts(run: TrainingRun, info: distributed.DistInfo, precision: str, g_loss: Any,
                    d_loss: Any) -> TrainingParts:
    """What a step touches; under DDP both nets are wrapped and the discriminator's BatchNorm statistics are taken
    over the global batch, as one process would compute them."""
    device, t = run.device, run.cfg.train
    generator, discriminator = _fast_generator(run.generator, device, precision, t.compile), run.discriminator
    if precision == "bf16":  # layers whose bf16 kernel is faulty on this CPU train in fp32
        for net in (run.generator, run.discriminator, g_loss):
            if net is not None:
                guard_bf16(net, device, backward=True)
    if info.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        run.discriminator = distributed.convert_sync_batchnorm(run.discriminator, device.type)
        with warnings.catch_warnings():  # broadcast_buffers is deprecated in recent torch, still the portable way
            warnings.simplefilter("ignore", FutureWarning)
            generator = DDP(generator, device_ids=ids)
            discriminator = DDP(run.discriminator, device_ids=ids, broadcast_buffers=False)
    return TrainingParts(generator=generator, discriminator=discriminator, d_plain=run.discriminator,
                         g_opt=run.g_opt, d_opt=run.d_opt, pixel_loss=PixelLoss(t.loss.pixel), g_loss=g_loss,
                         d_loss=d_loss, device=device, precision=precision, g_scaler=run.g_scaler,
                         d_scaler=run.d_scaler, grad_clip=t.grad_clip)


def _shared_dataset(cfg: ExperimentConfig, info: distributed.DistInfo, progress: bool) -> Any:
    """`default_dataset`, built by rank 0 first (embedded clips, flow cache) so that the other ranks find it ready."""
    if info.enabled and not info.is_main:
        torch.distributed.barrier()
    dataset = default_dataset(cfg, progress and info.is_main)
    if info.enabled and info.is_main:
        torch.distributed.barrier()
    return dataset


def _loader(cfg: ExperimentConfig, dataset: Any, start_step: int, info: distributed.DistInfo,
            device: torch.device) -> tuple[DataLoader, distributed.StepBatchSampler]:
    """This process's share of every batch from `start_step` on (see `distributed.StepBatchSampler`)."""
    t = cfg.train
    sampler = distributed.StepBatchSampler(len(dataset), t.batch_size, t.seed, start_step, info.rank,
                                           info.world_size)
    loader = DataLoader(distributed.SeededItems(dataset, t.seed), batch_sampler=sampler,
                        num_workers=cfg.data.num_workers, generator=torch.Generator().manual_seed(t.seed),
                        pin_memory=device.type == "cuda")
    return loader, sampler


def _run_steps(run: TrainingRun, parts: TrainingParts, batches: Iterator[Any], end: int, log: TrainingLog,
               out_dir: Path, is_main: bool, saved_step: int) -> int:
    """Step until global step `end`, logging and checkpointing on the way; returns the newest checkpoint's step.

    On Ctrl-C the last completed step is saved, unless the interrupt landed inside a step (the state is then
    inconsistent: the previous checkpoint stays the one to resume from).
    """
    t = run.cfg.train
    in_step = False
    try:
        while run.step < end:
            step, stage = run.step, run.stage(run.step)
            lr, d_lr = run.g_opt.param_groups[0]["lr"], run.d_opt.param_groups[0]["lr"]
            batch = next(batches)
            in_step = True  # from here until run.step moves on, the nets may be half-updated
            terms = pretrain_step(parts, batch) if stage == "pretrain" else gan_step(parts, batch)
            if not math.isfinite(terms["loss"]):
                raise UserError(f"training diverged at step {step + 1} ({stage}: loss {terms['loss']}); "
                                f"lower train.lr or use train.grad_clip")
            run.g_sched.step()
            run.step = step + 1
            in_step = False
            log.record(run.step, stage, terms, lr, d_lr, boundary=run.step in (t.pretrain_steps, end))
            if t.checkpoint_every and run.step % t.checkpoint_every == 0 and run.step < end and is_main:
                run.save(out_dir)
                saved_step = run.step
    except KeyboardInterrupt:
        if is_main and not in_step and run.step > max(saved_step, 0):
            run.save(out_dir)
        raise
    return saved_step
