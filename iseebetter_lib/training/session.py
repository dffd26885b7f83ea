"""One training run's state: both nets, their optimisers, the generator's lr schedule and fp16 scalers, saved to
and restored from a checkpoint exactly (with the RNG state), so a resumed run continues bit for bit."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Any

import torch

from iseebetter_lib.models.checkpoints import (generator_file_state, load_checkpoint, model_config_mismatch,
                                          save_checkpoint)
from iseebetter_lib.training.state import CHECKPOINT_FORMAT, link_or_copy, rng_state, set_rng_state
from iseebetter_lib.config import ExperimentConfig, ModelConfig, TrainConfig
from iseebetter_lib.data.published import resolve_weights
from iseebetter_lib.errors import UserError
from iseebetter_lib.training.outputs import checkpoint_path, last_checkpoint, prune_checkpoints


def generator_lr_factor(step: int, cfg: TrainConfig) -> float:
    """1, or 0.1 once `step` reaches `lr_decay_at` of its stage (each stage starts again at the full lr)."""
    p = cfg.pretrain_steps
    if step < p:
        return 0.1 if step >= p * cfg.lr_decay_at else 1.0
    return 0.1 if step - p >= cfg.gan_steps * cfg.lr_decay_at else 1.0


class TrainingRun:
    """The nets and optimiser state of one run; `step` counts completed global steps."""

    def __init__(self, cfg: ExperimentConfig, device: torch.device, world_size: int = 1,
                 fp16: bool = False) -> None:
        from iseebetter_lib.models import Discriminator, build_generator

        self.cfg, self.device, self.world_size = cfg, device, world_size
        t = cfg.train
        torch.manual_seed(t.seed)
        self.generator = build_generator(cfg.model).to(device)
        if t.init_weights:
            self._init_generator(resolve_weights(t.init_weights))
        self.discriminator = Discriminator().to(device)
        self.g_opt = torch.optim.Adam(self.generator.parameters(), lr=t.lr, betas=tuple(t.betas), eps=t.eps)
        self.d_opt = torch.optim.Adam(self.discriminator.parameters(), lr=t.d_lr, betas=tuple(t.betas), eps=t.eps)
        self.g_sched = torch.optim.lr_scheduler.LambdaLR(self.g_opt, lambda s: generator_lr_factor(s, t))
        self.g_scaler = torch.amp.GradScaler("cuda") if fp16 else None
        self.d_scaler = torch.amp.GradScaler("cuda") if fp16 else None
        self.step = 0

    def _init_generator(self, path: Path) -> None:
        """Fine-tuning: G starts from `path` (our checkpoint or generator file, or an original state dict)."""
        from iseebetter_lib.models.checkpoints import load_generator

        source, _ = load_generator(path, device=str(self.device), model_cfg=self.cfg.model)
        self.generator.load_state_dict(source.state_dict())

    def stage(self, step: int) -> str:
        """The stage global step `step` (0-based) belongs to."""
        return "pretrain" if step < self.cfg.train.pretrain_steps else "gan"

    def state(self) -> dict[str, Any]:
        cfg = self.cfg
        return {
            "format": CHECKPOINT_FORMAT, "version": 1, "step": self.step,
            "stage": "pretrain" if self.step <= cfg.train.pretrain_steps else "gan",
            "config": cfg.to_dict(), "model_config": dataclasses.asdict(cfg.model),
            "world_size": self.world_size,
            "generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
            "g_optimizer": self.g_opt.state_dict(), "d_optimizer": self.d_opt.state_dict(),
            "g_scheduler": self.g_sched.state_dict(),
            "g_scaler": self.g_scaler.state_dict() if self.g_scaler else None,
            "d_scaler": self.d_scaler.state_dict() if self.d_scaler else None,
            "rng": rng_state(self.device),
        }

    def load(self, path: Path) -> None:
        """Restore a checkpoint of the same model configuration; the lr schedule follows the current one."""
        state = load_checkpoint(path, map_location=self.device)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise UserError(f"{path}: not an iseebetter training checkpoint (cannot resume from it)")
        self._check_compatible(path, state)
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.g_opt.load_state_dict(state["g_optimizer"])
        self.d_opt.load_state_dict(state["d_optimizer"])
        self.g_sched.load_state_dict(state["g_scheduler"])
        # The lr schedule follows the current configuration (a resumed run may extend the stages or change lr).
        t = self.cfg.train
        self.g_sched.base_lrs = [t.lr for _ in self.g_opt.param_groups]
        for group in self.g_opt.param_groups:
            group["initial_lr"] = t.lr
            group["lr"] = t.lr * generator_lr_factor(state["step"], t)
        for group in self.d_opt.param_groups:
            group["lr"] = t.d_lr
        if self.g_scaler and state.get("g_scaler"):
            self.g_scaler.load_state_dict(state["g_scaler"])
            self.d_scaler.load_state_dict(state["d_scaler"])
        set_rng_state(state["rng"])
        self.step = int(state["step"])

    def _check_compatible(self, path: Path, state: dict[str, Any]) -> None:
        """Refuse another model configuration; warn when the sample sequence will differ."""
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
                              stacklevel=4)

    def save(self, out_dir: Path) -> Path:
        """The step checkpoint, `last.pt` and `generator.pt`, then older step checkpoints pruned."""
        path = save_checkpoint(checkpoint_path(out_dir, self.step), self.state())
        link_or_copy(path, last_checkpoint(out_dir))
        save_checkpoint(out_dir / "generator.pt",
                        generator_file_state(self.generator.state_dict(), self.cfg.model, self.step,
                                             self.cfg.inference_config()))
        prune_checkpoints(out_dir, self.cfg.train.keep_checkpoints)
        return path
