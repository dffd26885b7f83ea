"""RBPN's building blocks: conv/deconv units, the residual block and the up/down back-projection units.

Attribute names (`conv`, `deconv`, `act`, `conv1`, `conv2`, `up_conv1`..`up_conv3`, `down_conv1`..`down_conv3`)
follow the original code (alterzero/RBPN-PyTorch `base_networks.py`) so that its state dicts load unchanged.
No normalisation anywhere; every activation is a PReLU with a single learnable slope.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# kernel, stride, padding of every projection (up/down units, MISR deconv, encoder conv) per scale factor.
PROJECTION = {2: (6, 2, 2), 4: (8, 4, 2), 8: (12, 8, 2)}


def projection_params(scale_factor: int) -> tuple[int, int, int]:
    """(kernel, stride, padding) that maps h <-> h * scale_factor exactly, as in the original."""
    if scale_factor not in PROJECTION:
        raise ValueError(f"scale_factor: expected 2, 4 or 8, got {scale_factor!r}")
    return PROJECTION[scale_factor]


class ConvBlock(nn.Module):
    """Conv2d with bias, then PReLU (or nothing when ``activation=False``)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, padding: int = 1,
                 activation: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride, padding, bias=True)
        self.act = nn.PReLU() if activation else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return self.act(out) if self.act is not None else out


class DeconvBlock(nn.Module):
    """ConvTranspose2d with bias, then PReLU."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 4, stride: int = 2, padding: int = 1) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(in_ch, out_ch, kernel, stride, padding, bias=True)
        self.act = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.deconv(x))


class ResnetBlock(nn.Module):
    """conv3x3, PReLU, conv3x3, + input, PReLU (the same PReLU module applied twice, as the original)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1, bias=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=True)
        self.act = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.act(self.conv1(x)))
        return self.act(out + x)


class UpBlock(nn.Module):
    """Up-projection: h0 = deconv(x); l0 = conv(h0); h1 = deconv(l0 - x); return h0 + h1."""

    def __init__(self, channels: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__()
        self.up_conv1 = DeconvBlock(channels, channels, kernel, stride, padding)
        self.up_conv2 = ConvBlock(channels, channels, kernel, stride, padding)
        self.up_conv3 = DeconvBlock(channels, channels, kernel, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = self.up_conv1(x)
        l0 = self.up_conv2(h0)
        h1 = self.up_conv3(l0 - x)
        return h0 + h1


class DownBlock(nn.Module):
    """Down-projection: l0 = conv(x); h0 = deconv(l0); l1 = conv(h0 - x); return l0 + l1."""

    def __init__(self, channels: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__()
        self.down_conv1 = ConvBlock(channels, channels, kernel, stride, padding)
        self.down_conv2 = DeconvBlock(channels, channels, kernel, stride, padding)
        self.down_conv3 = ConvBlock(channels, channels, kernel, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        l0 = self.down_conv1(x)
        h0 = self.down_conv2(l0)
        l1 = self.down_conv3(h0 - x)
        return l0 + l1


def bicubic_base(x: torch.Tensor, scale: int) -> torch.Tensor:
    """The residual base: torch bicubic upsampling (align_corners=False, not clamped) of (N, C, h, w) by `scale`."""
    h, w = x.shape[-2:]
    return F.interpolate(x, size=(h * scale, w * scale), mode="bicubic", align_corners=False)


def kaiming_init_(module: nn.Module) -> None:
    """The original's init: Kaiming normal (fan_in, gain sqrt(2)) on every conv/deconv weight, zero bias."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
