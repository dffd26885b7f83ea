"""`train()`: pixel-loss pre-training, then adversarial fine-tuning, with exact resume and optional DDP.

Schedule (global steps 0 .. pretrain_steps + gan_steps - 1): the first `pretrain_steps` train the generator alone
on the pixel loss; the rest alternate a discriminator and a generator update on the four-fold loss. Adam for both
nets (the paper's lr, betas, eps); the generator's lr is divided by 10 at `lr_decay_at` of each stage. Batches are
a pure function of (seed, step) (see `distributed.py`), so a resumed run continues bit for bit.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from iseebetter_lib.config import ExperimentConfig, ModelConfig, TrainConfig
from iseebetter_lib.device import resolve_device
from iseebetter_lib.errors import UserError
from iseebetter_lib.models.weights import (generator_file_state, load_checkpoint, model_config_mismatch,
                                          save_checkpoint)
from iseebetter_lib.training import distributed as D
from iseebetter_lib.training.logs import CsvLog, TensorBoardLog
from iseebetter_lib.training.state import CHECKPOINT_FORMAT, link_or_copy, rng_state, set_rng_state
from iseebetter_lib.training.steps import Nets, gan_step, pretrain_step


@dataclass
class TrainResult:
    """What a run leaves: the final checkpoint, the logged rows of this call, the CSV log, the generator file."""

    checkpoint: Path
    history: list[dict[str, Any]] = field(default_factory=list)
    log_csv: Path = Path("log.csv")
    generator: Path | None = None
    step: int = 0


def generator_lr_factor(step: int, cfg: TrainConfig) -> float:
    """1, or 0.1 once `step` reaches `lr_decay_at` of its stage (each stage starts again at the full lr)."""
    p = cfg.pretrain_steps
    if step < p:
        return 0.1 if step >= p * cfg.lr_decay_at else 1.0
    return 0.1 if step - p >= cfg.gan_steps * cfg.lr_decay_at else 1.0


def checkpoint_path(out_dir: Path, step: int) -> Path:
    return out_dir / "checkpoints" / f"step_{step:07d}.pt"


def _existing_outputs(out_dir: Path) -> list[Path]:
    ckpt = out_dir / "checkpoints"
    return sorted(ckpt.glob("*.pt")) if ckpt.is_dir() else []


def _clear_outputs(out_dir: Path) -> None:
    """--overwrite: remove only what a previous run of ours wrote."""
    for path in _existing_outputs(out_dir):
        path.unlink()
    for name in ("log.csv", "generator.pt"):
        (out_dir / name).unlink(missing_ok=True)
    shutil.rmtree(out_dir / "tensorboard", ignore_errors=True)


class _Run:
    """State of one call of `train` (kept small: the loop itself is in `train`)."""

    def __init__(self, cfg: ExperimentConfig, device: torch.device, info: D.DistInfo) -> None:
        self.cfg, self.device, self.info = cfg, device, info
        t = cfg.train
        torch.manual_seed(t.seed)
        from iseebetter_lib.models import Discriminator, build_generator

        self.G = build_generator(cfg.model).to(device)
        if t.init_weights:
            self._init_generator(Path(t.init_weights))
        self.D = Discriminator().to(device)
        self.g_opt = torch.optim.Adam(self.G.parameters(), lr=t.lr, betas=tuple(t.betas), eps=t.eps)
        self.d_opt = torch.optim.Adam(self.D.parameters(), lr=t.d_lr, betas=tuple(t.betas), eps=t.eps)
        self.g_sched = torch.optim.lr_scheduler.LambdaLR(self.g_opt, lambda s: generator_lr_factor(s, t))
        fp16 = device.type == "cuda" and t.precision == "fp16"
        self.g_scaler = torch.amp.GradScaler("cuda") if fp16 else None
        self.d_scaler = torch.amp.GradScaler("cuda") if fp16 else None
        self.step = 0

    def _init_generator(self, path: Path) -> None:
        """Fine-tuning: G starts from `path` (our checkpoint or generator file, or an original state dict)."""
        from iseebetter_lib.models.weights import load_generator

        source, _ = load_generator(path, device=str(self.device), model_cfg=self.cfg.model)
        self.G.load_state_dict(source.state_dict())

    def state(self) -> dict[str, Any]:
        cfg = self.cfg
        return {
            "format": CHECKPOINT_FORMAT, "version": 1, "step": self.step,
            "stage": "pretrain" if self.step <= cfg.train.pretrain_steps else "gan",
            "config": cfg.to_dict(), "model_config": dataclasses.asdict(cfg.model),
            "world_size": self.info.world_size,
            "generator": self.G.state_dict(), "discriminator": self.D.state_dict(),
            "g_optimizer": self.g_opt.state_dict(), "d_optimizer": self.d_opt.state_dict(),
            "g_scheduler": self.g_sched.state_dict(),
            "g_scaler": self.g_scaler.state_dict() if self.g_scaler else None,
            "d_scaler": self.d_scaler.state_dict() if self.d_scaler else None,
            "rng": rng_state(self.device),
        }

    def load(self, path: Path) -> None:
        state = load_checkpoint(path, map_location=self.device)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise UserError(f"{path}: not an iseebetter training checkpoint (cannot resume from it)")
        stored = ModelConfig(**state["model_config"])
        problems = model_config_mismatch(stored, self.cfg.model)
        if stored.residual != self.cfg.model.residual:
            problems.append(f"residual: checkpoint {stored.residual}, requested {self.cfg.model.residual}")
        if problems:
            raise UserError(f"{path}: cannot resume with another model configuration: " + "; ".join(problems))
        old_train = state["config"].get("train", {})
        for key in ("seed", "batch_size"):
            if old_train.get(key) != getattr(self.cfg.train, key):
                warnings.warn(f"resuming with train.{key}={getattr(self.cfg.train, key)} (checkpoint: "
                              f"{old_train.get(key)}): the sample sequence differs from an uninterrupted run",
                              stacklevel=3)
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.g_opt.load_state_dict(state["g_optimizer"])
        self.d_opt.load_state_dict(state["d_optimizer"])
        self.g_sched.load_state_dict(state["g_scheduler"])
        # The lr schedule follows the current configuration (a resumed run may extend the stages or change lr).
        self.g_sched.base_lrs = [self.cfg.train.lr for _ in self.g_opt.param_groups]
        for group in self.g_opt.param_groups:
            group["initial_lr"] = self.cfg.train.lr
            group["lr"] = self.cfg.train.lr * generator_lr_factor(state["step"], self.cfg.train)
        for group in self.d_opt.param_groups:
            group["lr"] = self.cfg.train.d_lr
        if self.g_scaler and state.get("g_scaler"):
            self.g_scaler.load_state_dict(state["g_scaler"])
            self.d_scaler.load_state_dict(state["d_scaler"])
        set_rng_state(state["rng"])
        self.step = int(state["step"])

    def save(self, out_dir: Path) -> Path:
        path = save_checkpoint(checkpoint_path(out_dir, self.step), self.state())
        link_or_copy(path, out_dir / "checkpoints" / "last.pt")
        save_checkpoint(out_dir / "generator.pt", generator_file_state(self.G.state_dict(), self.cfg.model, self.step,
                                                                        self.cfg.inference_config()))
        return path


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


def _prepare_out_dir(out_dir: Path, resume: bool, overwrite: bool, info: D.DistInfo) -> Path | None:
    """The checkpoint to resume from (None: fresh run); refuses to mix a fresh run into old checkpoints."""
    if resume and overwrite:
        raise UserError("--resume and --overwrite contradict each other: pick one")
    existing = _existing_outputs(out_dir)
    if resume:
        last = out_dir / "checkpoints" / "last.pt"
        steps = sorted(p for p in existing if p.name.startswith("step_"))
        if last.is_file():
            return last
        if steps:
            return steps[-1]
        raise UserError(f"{out_dir}: no checkpoint to resume from (checkpoints/last.pt is missing)")
    if existing and not overwrite:
        raise UserError(f"{out_dir}: already holds checkpoints ({existing[-1].name}); pass --resume to continue "
                        f"or --overwrite to start again")
    if existing and overwrite and info.is_main:
        _clear_outputs(out_dir)
    return None


def _mean_rows(rows: list[dict[str, float]], info: D.DistInfo, device: torch.device) -> dict[str, float]:
    """Mean of each loss over the steps since the last log line (and over processes)."""
    keys = sorted({k for r in rows for k in r})
    values = torch.tensor([sum(r.get(k, 0.0) for r in rows) / len(rows) for k in keys], dtype=torch.float64)
    if info.enabled:
        values = values.to(device)
        torch.distributed.all_reduce(values)
        values = values.cpu() / info.world_size
    return dict(zip(keys, values.tolist()))


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
    info = D.init_distributed(device.type)
    if info.enabled and device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
    autocast_dtype = None
    if t.precision != "fp32":
        if device.type == "cuda":
            autocast_dtype = torch.bfloat16 if t.precision == "bf16" else torch.float16
        else:
            warnings.warn(f"train.precision={t.precision} is ignored on CPU (training in fp32)", stacklevel=2)
    out_dir = Path(t.out_dir)
    deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        resume_from = _prepare_out_dir(out_dir, resume, overwrite, info)
        if info.enabled:
            torch.distributed.barrier()
        if device.type == "cpu":
            torch.use_deterministic_algorithms(True, warn_only=True)
        return _train(cfg, device, info, autocast_dtype, out_dir, resume_from, progress, dataset, max_steps)
    finally:
        torch.use_deterministic_algorithms(deterministic)
        D.shutdown_distributed(info)


def _train(cfg: ExperimentConfig, device: torch.device, info: D.DistInfo, autocast_dtype: torch.dtype | None,
           out_dir: Path, resume_from: Path | None, progress: bool, dataset: Any,
           max_steps: int | None) -> TrainResult:
    from tqdm.auto import tqdm

    t = cfg.train
    run = _Run(cfg, device, info)
    total = t.pretrain_steps + t.gan_steps
    end = total if max_steps is None else min(total, max_steps)
    g_loss = d_loss = None
    if t.gan_steps and end > t.pretrain_steps:
        from iseebetter_lib.losses import DiscriminatorLoss, GeneratorLoss

        # Under its own seed: (random) VGG features are then the same in a fresh and in a resumed run.
        with D.seeded_rngs(D.derived_seed(t.seed, 0x766767)):
            g_loss, d_loss = GeneratorLoss(t.loss).to(device), DiscriminatorLoss(t.loss).to(device)
    if resume_from is not None:
        run.load(resume_from)
    G, Dnet = run.G, run.D
    if info.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        # Discriminator BatchNorm statistics over the global batch, as one process would compute them.
        run.D = D.convert_sync_batchnorm(run.D, device.type)
        with warnings.catch_warnings():  # broadcast_buffers is deprecated in recent torch, still the portable way
            warnings.simplefilter("ignore", FutureWarning)
            G, Dnet = DDP(run.G, device_ids=ids), DDP(run.D, device_ids=ids, broadcast_buffers=False)
    nets = Nets(generator=G, discriminator=Dnet, d_plain=run.D, g_opt=run.g_opt, d_opt=run.d_opt,
                pixel=t.loss.pixel, g_loss=g_loss, d_loss=d_loss, device=device, autocast_dtype=autocast_dtype,
                g_scaler=run.g_scaler, d_scaler=run.d_scaler, grad_clip=t.grad_clip)

    if dataset is None:
        # Rank 0 builds the embedded clips / flow cache first; the others then find them ready.
        if info.enabled and not info.is_main:
            torch.distributed.barrier()
        dataset = default_dataset(cfg, progress and info.is_main)
        if info.enabled and info.is_main:
            torch.distributed.barrier()
    sampler = D.StepBatchSampler(len(dataset), t.batch_size, t.seed, run.step, info.rank, info.world_size)
    loader = DataLoader(D.SeededItems(dataset, t.seed), batch_sampler=sampler, num_workers=cfg.data.num_workers,
                        generator=torch.Generator().manual_seed(t.seed), pin_memory=device.type == "cuda")

    log_csv = out_dir / "log.csv"
    csv_log = CsvLog(log_csv, start_step=run.step, enabled=info.is_main)
    tb_log = TensorBoardLog(out_dir / "tensorboard", start_step=run.step, enabled=info.is_main)
    history: list[dict[str, Any]] = []
    pending: list[dict[str, float]] = []
    saved_step = run.step if resume_from is not None else -1  # step of the newest checkpoint on disk
    bar = tqdm(total=total, initial=run.step, disable=not (progress and info.is_main), unit="step",
               dynamic_ncols=True)
    window_start = time.perf_counter()
    in_step = False
    batches = iter(loader)
    try:
        while run.step < end:
            step = run.step
            stage = "pretrain" if step < t.pretrain_steps else "gan"
            lr, d_lr = run.g_opt.param_groups[0]["lr"], run.d_opt.param_groups[0]["lr"]
            batch = next(batches)
            in_step = True  # from here until run.step moves on, the nets may be half-updated
            terms = pretrain_step(nets, batch) if stage == "pretrain" else gan_step(nets, batch)
            if not math.isfinite(terms["loss"]):
                raise UserError(f"training diverged at step {step + 1} ({stage}: loss {terms['loss']}); "
                                f"lower train.lr or use train.grad_clip")
            run.g_sched.step()
            run.step = step + 1
            in_step = False
            pending.append(terms)
            boundary = run.step in (t.pretrain_steps, end)
            if run.step % max(t.log_every, 1) == 0 or boundary:
                now = time.perf_counter()
                row = {"step": run.step, "stage": stage, "epoch": step // sampler.batches_per_epoch,
                       **_mean_rows(pending, info, device), "lr": lr, "d_lr": d_lr if stage == "gan" else None,
                       "seconds_per_step": (now - window_start) / len(pending), "time": time.time()}
                pending, window_start = [], now
                history.append(row)
                csv_log.write(row)
                tb_log.write(row)
                bar.set_postfix_str(f"{stage} loss {row['loss']:.4g} {row['seconds_per_step']:.2f}s/step")
            bar.update(1)
            if t.checkpoint_every and run.step % t.checkpoint_every == 0 and run.step < end and info.is_main:
                run.save(out_dir)
                saved_step = run.step
    except KeyboardInterrupt:
        # Save the last completed step, unless the interrupt landed inside a step (state then inconsistent:
        # the previous checkpoint stays the one to resume from).
        if info.is_main and not in_step and run.step > max(saved_step, 0):
            run.save(out_dir)
        raise
    finally:
        bar.close()
        tb_log.close()
    if info.is_main and run.step > saved_step:
        run.save(out_dir)
    if info.enabled:
        torch.distributed.barrier()
    return TrainResult(checkpoint=checkpoint_path(out_dir, run.step), history=history, log_csv=log_csv,
                       generator=out_dir / "generator.pt", step=run.step)
