"""SRGAN discriminator as used by iSeeBetter: one realness probability per image, any input size.

The layer indices inside `net` match the original (SRGAN port) so its state dicts (`net.N.*`) load unchanged.
5,215,425 parameters.
"""

from __future__ import annotations

import torch
from torch import nn

# (out_channels, stride) of the seven conv + BatchNorm + LeakyReLU blocks after the first conv.
_BLOCKS = ((64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2))


class Discriminator(nn.Module):
    """(B, 3, H, W) in [0, 1] -> (B,) probabilities that each image is a real HR image."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, 64, 3, padding=1), nn.LeakyReLU(0.2)]
        in_ch = 64
        for out_ch, stride in _BLOCKS:
            layers += [nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1), nn.BatchNorm2d(out_ch),
                       nn.LeakyReLU(0.2)]
            in_ch = out_ch
        layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(512, 1024, 1), nn.LeakyReLU(0.2), nn.Conv2d(1024, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_tensor(x) or x.dim() != 4 or x.shape[1] != 3:
            got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
            raise ValueError(f"images: expected a (B, 3, H, W) tensor, got {got}")
        return torch.sigmoid(self.net(x).view(x.shape[0]))
