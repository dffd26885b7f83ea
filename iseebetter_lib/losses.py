"""iSeeBetter's four-fold loss, with the paper's and the original code's variants of each term.

Every term is a module holding its weight; its `forward` returns the *weighted* value, so that
``total == sum(terms.values())`` in `GeneratorLoss`. The terms are those of `config.schema.LOSS_TERMS` (one entry
each: the class, its default weight, its variants); a term class says which of ``sr``, ``hr``, ``d_sr`` it takes
(`inputs`) and builds itself from a `LossConfig` (`from_config`):

- `PixelLoss`: MSE (paper; original with --APITLoss) or L1 (original default).
- `PerceptualLoss`: MSE between frozen VGG features of SR and HR; ``vgg16`` = `features[:31]` (original code),
  ``vgg19`` = features up to relu5_4 (paper figure); optional ImageNet normalisation (the original feeds [0, 1]).
- `AdversarialLoss`: ``log`` = -mean log(max(D(SR), eps)) (paper); ``mean`` = -mean D(SR) (original code).
- `TVLoss`: ``sq`` = the original's SRGAN-port TV: 2 * (sum dy^2 / count_y + sum dx^2 / count_x) / B with
  count_y = C*(H-1)*W and count_x = C*H*(W-1), i.e. 2 * (mean dy^2 + mean dx^2);
  ``abs`` = mean |dy| + mean |dx| (paper: absolute differences).
- `DiscriminatorLoss`: ``original`` = 1 - mean D(HR) + mean D(SR); ``bce`` = -mean log D(HR) - mean log(1 - D(SR)).
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from iseebetter_lib.config import LossConfig
from iseebetter_lib.config.schema import DISCRIMINATOR_LOSSES, LOSS_TERMS, resolve
from iseebetter_lib.vgg import VGGFeatures, load_vgg_features

EPS = 1e-8
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def check_kind(term: str, kind: str, kinds: tuple[str, ...] | None = None) -> None:
    """A term's variant must be one its `LOSS_TERMS` entry lists (ValueError naming both)."""
    kinds = LOSS_TERMS[term].kinds if kinds is None else kinds
    if kind not in kinds:
        raise ValueError(f"{term} loss kind: expected {' or '.join(repr(k) for k in kinds)}, got {kind!r}")


class PixelLoss(nn.Module):
    """weight * MSE(sr, hr) or weight * L1(sr, hr)."""

    def __init__(self, kind: str = "mse", weight: float = 1.0) -> None:
        super().__init__()
        check_kind("pixel", kind)
        self.kind, self.weight = kind, float(weight)

    inputs = ("sr", "hr")

    @classmethod
    def from_config(cls, cfg: LossConfig, weight: float, vgg: VGGFeatures | None = None) -> "PixelLoss":
        return cls(cfg.pixel, weight)

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        fn = F.mse_loss if self.kind == "mse" else F.l1_loss
        return self.weight * fn(sr, hr)


class PerceptualLoss(nn.Module):
    """weight * MSE(VGG(sr), VGG(hr)) with a frozen VGG feature stack."""

    def __init__(self, kind: str = "vgg16", weight: float = 1.0, imagenet_norm: bool = False,
                 vgg: VGGFeatures | None = None, vgg_path: str | None = None, allow_random: bool = False) -> None:
        super().__init__()
        self.weight, self.imagenet_norm = float(weight), imagenet_norm
        self.vgg = vgg if vgg is not None else load_vgg_features(kind, vgg_path, allow_random)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    inputs = ("sr", "hr")

    @classmethod
    def from_config(cls, cfg: LossConfig, weight: float, vgg: VGGFeatures | None = None) -> "PerceptualLoss":
        return cls(cfg.perceptual, weight, cfg.imagenet_norm, vgg=vgg, vgg_path=cfg.vgg_weights,
                   allow_random=cfg.allow_random_vgg)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        if self.imagenet_norm:
            x = (x - self.mean) / self.std
        return self.vgg(x)

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        need = getattr(self.vgg, "min_size", 1)
        if min(sr.shape[-2:]) < need:
            raise ValueError(f"sr/hr: the perceptual loss needs images of at least {need}x{need}, "
                             f"got {tuple(sr.shape[-2:])}")
        with torch.no_grad():
            target = self._features(hr)
        return self.weight * F.mse_loss(self._features(sr), target)


class AdversarialLoss(nn.Module):
    """Generator's adversarial term from the discriminator's probabilities on SR images."""

    def __init__(self, kind: str = "mean", weight: float = 1.0, eps: float = EPS) -> None:
        super().__init__()
        check_kind("adversarial", kind)
        self.kind, self.weight, self.eps = kind, float(weight), eps

    inputs = ("d_sr",)  # D's probabilities on SR: only in the GAN stage

    @classmethod
    def from_config(cls, cfg: LossConfig, weight: float, vgg: VGGFeatures | None = None) -> "AdversarialLoss":
        return cls(cfg.adversarial, weight)

    def forward(self, d_sr: torch.Tensor) -> torch.Tensor:
        if self.kind == "log":
            return self.weight * -torch.log(d_sr.clamp_min(self.eps)).mean()
        return self.weight * -d_sr.mean()


class TVLoss(nn.Module):
    """Total variation of a (B, C, H, W) batch; see the module docstring for both formulas."""

    def __init__(self, kind: str = "sq", weight: float = 1.0) -> None:
        super().__init__()
        check_kind("tv", kind)
        self.kind, self.weight = kind, float(weight)

    inputs = ("sr",)

    @classmethod
    def from_config(cls, cfg: LossConfig, weight: float, vgg: VGGFeatures | None = None) -> "TVLoss":
        return cls(cfg.tv, weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dy = x[:, :, 1:, :] - x[:, :, :-1, :]
        dx = x[:, :, :, 1:] - x[:, :, :, :-1]
        if self.kind == "abs":
            return self.weight * (dy.abs().mean() + dx.abs().mean())
        b = x.shape[0]
        count_y = dy.shape[1] * dy.shape[2] * dy.shape[3]
        count_x = dx.shape[1] * dx.shape[2] * dx.shape[3]
        return self.weight * 2 * (dy.pow(2).sum() / count_y + dx.pow(2).sum() / count_x) / b


def term_class(name: str) -> Any:
    """The class registered for loss term `name` in `LOSS_TERMS` ("module:Class")."""
    return resolve(LOSS_TERMS[name].builder)


class GeneratorLoss(nn.Module):
    """The generator loss from a `LossConfig`, one term per `LOSS_TERMS` entry: ``loss_fn(sr, hr, d_sr=None) ->
    (total, terms)``.

    `terms` maps each term's name to its detached *weighted* contribution (their sum, in `LOSS_TERMS` order, is
    `total`). A term with weight 0 is not built and reported as 0 (VGG is loaded only if the perceptual weight is
    non-zero); so is a term whose input is missing: the adversarial term needs `d_sr` (D's probabilities on `sr`,
    shape (B,)), which is None in pixel pre-training. Each term is an attribute named after it (None when off).
    """

    def __init__(self, cfg: LossConfig | None = None, vgg: VGGFeatures | None = None) -> None:
        super().__init__()
        cfg = cfg if cfg is not None else LossConfig()
        cfg.validate()
        self.weights = cfg.weights.as_dict()
        for name, weight in self.weights.items():
            self.add_module(name, term_class(name).from_config(cfg, weight, vgg) if weight else None)

    def forward(self, sr: torch.Tensor, hr: torch.Tensor,
                d_sr: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if sr.shape != hr.shape:
            raise ValueError(f"sr/hr: shapes differ, {tuple(sr.shape)} vs {tuple(hr.shape)}")
        given = {"sr": sr, "hr": hr, "d_sr": d_sr}
        zero = sr.new_zeros(())
        parts = {}
        for name in self.weights:
            term = getattr(self, name)
            args = None if term is None else [given[k] for k in term.inputs]
            parts[name] = zero if args is None or any(a is None for a in args) else term(*args)
        total = functools.reduce(operator.add, parts.values())
        return total, {k: v.detach() for k, v in parts.items()}


class DiscriminatorLoss(nn.Module):
    """Discriminator loss from D's probabilities on HR and SR images: ``original`` or ``bce`` (see module doc)."""

    def __init__(self, cfg: LossConfig | None = None, eps: float = EPS) -> None:
        super().__init__()
        self.kind = (cfg if cfg is not None else LossConfig()).discriminator
        check_kind("discriminator", self.kind, DISCRIMINATOR_LOSSES)
        self.eps = eps

    def forward(self, d_hr: torch.Tensor, d_sr: torch.Tensor) -> torch.Tensor:
        if self.kind == "original":
            return 1 - d_hr.mean() + d_sr.mean()
        real = -torch.log(d_hr.clamp_min(self.eps)).mean()
        fake = -torch.log((1 - d_sr).clamp_min(self.eps)).mean()
        return real + fake
