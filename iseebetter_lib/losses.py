"""iSeeBetter's four-fold loss, with the paper's and the original code's variants of each term.

Every term is a module holding its weight; its `forward` returns the *weighted* value, so that
``total == sum(terms.values())`` in `GeneratorLoss`:

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

import torch
import torch.nn.functional as F
from torch import nn

from iseebetter_lib.config import LossConfig
from iseebetter_lib.vgg import VGGFeatures, load_vgg_features

EPS = 1e-8
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class PixelLoss(nn.Module):
    """weight * MSE(sr, hr) or weight * L1(sr, hr)."""

    def __init__(self, kind: str = "mse", weight: float = 1.0) -> None:
        super().__init__()
        if kind not in ("mse", "l1"):
            raise ValueError(f"pixel loss kind: expected 'mse' or 'l1', got {kind!r}")
        self.kind, self.weight = kind, float(weight)

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
        if kind not in ("mean", "log"):
            raise ValueError(f"adversarial loss kind: expected 'mean' or 'log', got {kind!r}")
        self.kind, self.weight, self.eps = kind, float(weight), eps

    def forward(self, d_sr: torch.Tensor) -> torch.Tensor:
        if self.kind == "log":
            return self.weight * -torch.log(d_sr.clamp_min(self.eps)).mean()
        return self.weight * -d_sr.mean()


class TVLoss(nn.Module):
    """Total variation of a (B, C, H, W) batch; see the module docstring for both formulas."""

    def __init__(self, kind: str = "sq", weight: float = 1.0) -> None:
        super().__init__()
        if kind not in ("sq", "abs"):
            raise ValueError(f"tv loss kind: expected 'sq' or 'abs', got {kind!r}")
        self.kind, self.weight = kind, float(weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dy = x[:, :, 1:, :] - x[:, :, :-1, :]
        dx = x[:, :, :, 1:] - x[:, :, :, :-1]
        if self.kind == "abs":
            return self.weight * (dy.abs().mean() + dx.abs().mean())
        b = x.shape[0]
        count_y = dy.shape[1] * dy.shape[2] * dy.shape[3]
        count_x = dx.shape[1] * dx.shape[2] * dx.shape[3]
        return self.weight * 2 * (dy.pow(2).sum() / count_y + dx.pow(2).sum() / count_x) / b


class GeneratorLoss(nn.Module):
    """The four-fold generator loss from a `LossConfig`: ``loss_fn(sr, hr, d_sr=None) -> (total, terms)``.

    `terms` maps pixel/perceptual/adversarial/tv to the detached *weighted* contribution of each term (their sum is
    `total`). A term with weight 0 is skipped and reported as 0; VGG is loaded only if
    the perceptual weight is non-zero. The adversarial term needs `d_sr` (D's probabilities on `sr`, shape (B,));
    when `d_sr` is None (pixel pre-training) it is skipped and reported as 0.
    """

    def __init__(self, cfg: LossConfig | None = None, vgg: VGGFeatures | None = None) -> None:
        super().__init__()
        cfg = cfg if cfg is not None else LossConfig()
        cfg.validate()
        w = cfg.weights.as_dict()
        self.weights = w
        self.pixel = PixelLoss(cfg.pixel, w["pixel"]) if w["pixel"] else None
        self.perceptual = (PerceptualLoss(cfg.perceptual, w["perceptual"], cfg.imagenet_norm, vgg=vgg,
                                          vgg_path=cfg.vgg_weights, allow_random=cfg.allow_random_vgg)
                           if w["perceptual"] else None)
        self.adversarial = AdversarialLoss(cfg.adversarial, w["adversarial"]) if w["adversarial"] else None
        self.tv = TVLoss(cfg.tv, w["tv"]) if w["tv"] else None

    def forward(self, sr: torch.Tensor, hr: torch.Tensor,
                d_sr: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if sr.shape != hr.shape:
            raise ValueError(f"sr/hr: shapes differ, {tuple(sr.shape)} vs {tuple(hr.shape)}")
        zero = sr.new_zeros(())
        parts = {
            "pixel": self.pixel(sr, hr) if self.pixel is not None else zero,
            "perceptual": self.perceptual(sr, hr) if self.perceptual is not None else zero,
            "adversarial": self.adversarial(d_sr) if self.adversarial is not None and d_sr is not None else zero,
            "tv": self.tv(sr) if self.tv is not None else zero,
        }
        total = parts["pixel"] + parts["perceptual"] + parts["adversarial"] + parts["tv"]
        return total, {k: v.detach() for k, v in parts.items()}


class DiscriminatorLoss(nn.Module):
    """Discriminator loss from D's probabilities on HR and SR images: ``original`` or ``bce`` (see module doc)."""

    def __init__(self, cfg: LossConfig | None = None, eps: float = EPS) -> None:
        super().__init__()
        self.kind = (cfg if cfg is not None else LossConfig()).discriminator
        if self.kind not in ("original", "bce"):
            raise ValueError(f"discriminator loss kind: expected 'original' or 'bce', got {self.kind!r}")
        self.eps = eps

    def forward(self, d_hr: torch.Tensor, d_sr: torch.Tensor) -> torch.Tensor:
        if self.kind == "original":
            return 1 - d_hr.mean() + d_sr.mean()
        real = -torch.log(d_hr.clamp_min(self.eps)).mean()
        fake = -torch.log((1 - d_sr).clamp_min(self.eps)).mean()
        return real + fake
