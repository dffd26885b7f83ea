"""Frozen VGG-16/19 feature stacks for the perceptual loss, defined here (no torchvision dependency).

The layer layout (`features.N.weight` / `features.N.bias`) is torchvision's, so its ImageNet checkpoints
(`vgg16-397923af.pth`, `vgg19-dcbb9e9d.pth`) load directly. Which layers are kept:
- ``vgg16``: `features[:31]`, all 31 layers up to and including the last max-pool (the original iSeeBetter code);
- ``vgg19``: `features[:36]`, up to relu5_4 (the deepest ReLU; the paper's figure names VGG-19 features).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from iseebetter_lib.errors import UserError, load_failure_reason

ENV_VAR = "ISEEBETTER_VGG_WEIGHTS"
HUB_FILES = {"vgg16": "vgg16-397923af.pth", "vgg19": "vgg19-dcbb9e9d.pth"}
_CONFIGS = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}
_KEEP = {"vgg16": 31, "vgg19": 36}


class VGGFeatures(nn.Module):
    """`features[:n]` of a torchvision VGG; frozen and always in eval mode."""

    def __init__(self, kind: str = "vgg16") -> None:
        super().__init__()
        if kind not in _CONFIGS:
            raise UserError(f"perceptual network {kind!r}: expected 'vgg16' or 'vgg19'")
        self.kind = kind
        layers: list[nn.Module] = []
        in_ch = 3
        for item in _CONFIGS[kind]:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(in_ch, int(item), 3, padding=1), nn.ReLU(inplace=False)]
                in_ch = int(item)
        self.features = nn.Sequential(*layers[:_KEEP[kind]])
        self.min_size = 2 ** sum(isinstance(m, nn.MaxPool2d) for m in self.features)  # smallest usable side
        for m in self.features:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        self.freeze()

    def freeze(self) -> "VGGFeatures":
        for p in self.parameters():
            p.requires_grad_(False)
        return self.eval()

    def train(self, mode: bool = True) -> "VGGFeatures":
        """Stays in eval mode: the feature extractor is never trained."""
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


def _features_state(sd: Mapping[str, torch.Tensor], model: VGGFeatures, source: str) -> dict[str, torch.Tensor]:
    """Our `features.N.*` entries from a full torchvision state dict or a features-only one."""
    wanted = model.state_dict()
    out: dict[str, torch.Tensor] = {}
    for key in wanted:
        bare = key[len("features."):]
        for candidate in (key, "module." + key, bare):
            if candidate in sd:
                out[key] = sd[candidate]
                break
        else:
            raise UserError(f"{source}: not a torchvision {model.kind} state dict (missing {key!r})")
        if tuple(out[key].shape) != tuple(wanted[key].shape):
            raise UserError(f"{source}: {key} has shape {tuple(out[key].shape)}, expected "
                            f"{tuple(wanted[key].shape)} for {model.kind}")
    return out


def _find_weights(kind: str, path: str | os.PathLike | None) -> Path | None:
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise UserError(f"{p}: VGG weights file not found")
        return p
    env = os.environ.get(ENV_VAR)
    if env:
        p = Path(env)
        if not p.is_file():
            raise UserError(f"{p}: VGG weights file named by ${ENV_VAR} not found")
        return p
    hub = Path(torch.hub.get_dir()) / "checkpoints" / HUB_FILES[kind]
    return hub if hub.is_file() else None


class RandomVGGWarning(UserWarning):
    """Perceptual-loss features are random (no ImageNet weights, explicit opt-in)."""


def load_vgg_features(kind: str = "vgg16", path: str | os.PathLike | None = None,
                      allow_random: bool = False) -> VGGFeatures:
    """Frozen VGG features with ImageNet weights from `path`, else ``$ISEEBETTER_VGG_WEIGHTS``, else torch hub's
    checkpoint cache. With none found: `UserError` (or, with ``allow_random=True``, random Kaiming features and a
    warning, so that code paths can run without the download)."""
    model = VGGFeatures(kind)
    found = _find_weights(kind, path)
    if found is None:
        hub = Path(torch.hub.get_dir()) / "checkpoints" / HUB_FILES[kind]
        if not allow_random:
            raise UserError(f"{kind} weights not found: pass a path (loss.vgg_weights), set ${ENV_VAR}, or put "
                            f"torchvision's {HUB_FILES[kind]} at {hub}")
        warnings.warn(f"no {kind} weights found ({HUB_FILES[kind]}): perceptual-loss features are RANDOM",
                      RandomVGGWarning, stacklevel=2)
        return model
    try:
        sd = torch.load(found, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file becomes one line
        raise UserError(f"{found}: cannot read VGG weights ({load_failure_reason(exc)})") from None
    if not isinstance(sd, Mapping):
        raise UserError(f"{found}: expected a state dict, got {type(sd).__name__}")
    model.load_state_dict(_features_state(sd, model, str(found)))
    return model.freeze()
