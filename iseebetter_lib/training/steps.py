"""One optimisation step of each stage: pixel-loss pre-training, and the adversarial D-then-G step.

The GAN step fixes the original's defects: the discriminator is updated on HR vs SR.detach(), then the generator's
adversarial term uses a fresh D(SR) computed with the updated discriminator (no stale scores, no in-place autograd
error), and every loss is a mean over the batch (not a sum divided by a constant 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from iseebetter_lib.deprecation import renamed
from iseebetter_lib.losses import PixelLoss
from iseebetter_lib.precision import autocast


@dataclass
class TrainingParts:
    """Everything a step touches: both networks, their optimisers, losses and fp16 scalers, device, precision and
    clipping. `generator`/`discriminator` may be DDP wrappers; `d_plain` is the bare D."""

    generator: nn.Module
    discriminator: nn.Module
    d_plain: nn.Module
    g_opt: torch.optim.Optimizer
    d_opt: torch.optim.Optimizer
    pixel_loss: Callable[..., torch.Tensor] = field(default_factory=PixelLoss)  # pre-training: (sr, hr) -> loss
    g_loss: Callable[..., Any] | None = None  # GeneratorLoss: (sr, hr, d_sr) -> (total, terms)
    d_loss: Callable[..., Any] | None = None  # DiscriminatorLoss: (d_hr, d_sr) -> total
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    precision: str = "fp32"  # autocast precision (bf16/fp16 on CUDA)
    g_scaler: Any = None  # torch.amp.GradScaler for fp16
    d_scaler: Any = None
    grad_clip: float = 0.0


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: (v.to(device, non_blocking=True) if torch.is_tensor(v) else v) for k, v in batch.items()}


def _optimise(loss: torch.Tensor, opt: torch.optim.Optimizer, params: list[torch.Tensor], scaler: Any,
              clip: float) -> None:
    """backward + (optional unscale and clip) + step, with or without a GradScaler."""
    if scaler is not None:
        scaler.scale(loss).backward()
        if clip > 0:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(params, clip)
        scaler.step(opt)
        scaler.update()
    else:
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()


def _forward(parts: TrainingParts, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return parts.generator(batch["target"], batch["neighbours"], batch["flows"])


def pretrain_step(parts: TrainingParts, batch: dict[str, torch.Tensor]) -> dict[str, float]:
    """Generator only, on `parts.pixel_loss` (the unweighted `losses.PixelLoss` of LossConfig.pixel)."""
    parts.generator.train()
    batch = to_device(batch, parts.device)
    parts.g_opt.zero_grad(set_to_none=True)
    with autocast(parts.device, parts.precision):
        sr = _forward(parts, batch)
        loss = parts.pixel_loss(sr.float(), batch["hr"])
    _optimise(loss, parts.g_opt, list(parts.generator.parameters()), parts.g_scaler, parts.grad_clip)
    value = float(loss.detach())
    return {"loss": value, "pixel": value}


def gan_step(parts: TrainingParts, batch: dict[str, torch.Tensor]) -> dict[str, float]:
    """Discriminator step on HR vs SR.detach(), then generator step on the four-fold loss with a fresh D(SR)."""
    assert parts.g_loss is not None and parts.d_loss is not None, "GAN step needs both losses"
    parts.generator.train()
    parts.discriminator.train()
    batch = to_device(batch, parts.device)
    hr = batch["hr"]
    with autocast(parts.device, parts.precision):
        sr = _forward(parts, batch)

    # 1. Discriminator: real HR vs the generator's output, cut from the generator's graph.
    d_params = list(parts.d_plain.parameters())
    for p in d_params:
        p.requires_grad_(True)
    parts.d_opt.zero_grad(set_to_none=True)
    with autocast(parts.device, parts.precision):
        d_hr = parts.discriminator(hr).float()
        d_sr = parts.discriminator(sr.detach()).float()
        d_total = parts.d_loss(d_hr, d_sr)
    _optimise(d_total, parts.d_opt, d_params, parts.d_scaler, parts.grad_clip)

    # 2. Generator: a fresh D(SR) with the updated discriminator; D's weights are frozen for this backward
    #    (the bare module is used so that DDP expects no gradient for them).
    for p in d_params:
        p.requires_grad_(False)
    parts.g_opt.zero_grad(set_to_none=True)
    with autocast(parts.device, parts.precision):
        d_sr_fresh = parts.d_plain(sr).float()
        g_total, terms = parts.g_loss(sr.float(), hr, d_sr_fresh)
    _optimise(g_total, parts.g_opt, list(parts.generator.parameters()), parts.g_scaler, parts.grad_clip)
    for p in d_params:
        p.requires_grad_(True)

    row = {"loss": float(g_total.detach()), "d_loss": float(d_total.detach()),
           "d_hr": float(d_hr.detach().mean()), "d_sr": float(d_sr.detach().mean())}
    row.update({k: float(v) for k, v in terms.items()})
    return row


__getattr__ = renamed(__name__, {"Nets": "iseebetter_lib.training.steps.TrainingParts"})
