"""RBPN's single-image branch (DBPN-S): LR features -> HR features by iterative up/down back-projection; and
`DBPN`, that branch as a generator of its own (one frame in: the paper's DBPN row, the single-frame control).

`num_stages` up units alternate with `num_stages - 1` down units (up1, down1, up2, ..., upN); the up outputs are
concatenated newest first and fused by a 1x1 conv. With ``num_stages=3`` this is the original module exactly
(names `feat1`, `up1..up3`, `down1..down2`, `output`); the original itself ran three up units whatever
`num_stages` said and crashed otherwise, so other values are our generalisation.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from iseebetter_lib.models.blocks import (ConvBlock, DownBlock, UpBlock, bicubic_base, kaiming_init_,
                                          projection_params)


class DBPNS(nn.Module):
    """SISR branch: (B, base_filter, h, w) -> (B, feat, h*s, w*s)."""

    def __init__(self, base_filter: int, feat: int, num_stages: int, scale_factor: int) -> None:
        super().__init__()
        if num_stages < 1:
            raise ValueError(f"num_stages: expected >= 1, got {num_stages!r}")
        kernel, stride, padding = projection_params(scale_factor)
        self.num_stages = num_stages
        self.feat1 = ConvBlock(base_filter, feat, 1, 1, 0)
        for i in range(1, num_stages + 1):
            self.add_module(f"up{i}", UpBlock(feat, kernel, stride, padding))
            if i < num_stages:
                self.add_module(f"down{i}", DownBlock(feat, kernel, stride, padding))
        self.output = ConvBlock(num_stages * feat, feat, 1, 1, 0, activation=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.feat1(x)
        h = self.up1(x)
        ups = [h]
        for i in range(2, self.num_stages + 1):
            h = getattr(self, f"up{i}")(getattr(self, f"down{i - 1}")(h))
            ups.append(h)
        return self.output(torch.cat(ups[::-1], dim=1))


class DBPN(nn.Module):
    """Single-frame generator: feat0 (3x3 conv to `base_filter`), DBPN-S (`feat` HR features), a 3x3 output conv,
    plus the bicubic upsampling of the input when `residual`. The module names (`feat0`, `DBPN`) are RBPN's, so
    an RBPN's single-image weights carry over. The call is every generator's, ``model(x, neighbours, flows)``;
    neighbours and flows are ignored (a one-frame window has none)."""

    def __init__(self, num_channels: int = 3, base_filter: int = 256, feat: int = 64, num_stages: int = 3,
                 nFrames: int = 1, scale_factor: int = 4, residual: bool = False,
                 output_init_scale: float = 1.0) -> None:
        super().__init__()
        if nFrames != 1:
            raise ValueError(f"nFrames: DBPN takes one frame, got {nFrames!r}")
        if num_channels < 1 or base_filter < 1 or feat < 1:
            raise ValueError("num_channels, base_filter, feat: expected >= 1")
        self.num_channels, self.nFrames = num_channels, nFrames
        self.scale_factor, self.residual = scale_factor, residual
        self.feat0 = ConvBlock(num_channels, base_filter, 3, 1, 1)
        self.DBPN = DBPNS(base_filter, feat, num_stages, scale_factor)
        self.output = ConvBlock(feat, num_channels, 3, 1, 1, activation=False)
        kaiming_init_(self)
        if output_init_scale != 1.0:
            with torch.no_grad():
                self.output.conv.weight.mul_(output_init_scale)

    def forward(self, x: torch.Tensor, neighbor: Any = None, flow: Any = None) -> torch.Tensor:
        """`x` (B, C, h, w) -> (B, C, h*s, w*s); `neighbor` and `flow` are accepted and ignored."""
        self._check_inputs(x, neighbor, flow)
        out = self.output(self.DBPN(self.feat0(x)))
        if self.residual:
            out = out + bicubic_base(x, self.scale_factor)
        return out

    def _check_inputs(self, x: torch.Tensor, neighbor: Any = None,
                      flow: Any = None) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Validate the target's shape; no neighbours or flows are used (empty lists)."""
        if not torch.is_tensor(x) or x.dim() != 4 or x.shape[1] != self.num_channels:
            got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
            raise ValueError(f"target: expected a (B, {self.num_channels}, h, w) tensor, got {got}")
        return [], []

    @staticmethod
    def receptive_radius(cfg: Any) -> int:
        """Receptive radius in LR pixels: feat0 3x3 (1), three projections per up/down unit (1 each), the 3x3
        output conv at HR (1/s); the bicubic residual reaches 2."""
        radius = 1 + 3 * (2 * cfg.num_stages - 1) + 1 / cfg.scale_factor
        return int(math.ceil(max(radius, 2.0) if cfg.residual else radius))

    @staticmethod
    def activation_floats(cfg: Any) -> int:
        """Peak activation floats per LR pixel of one inference forward: the up outputs and their concat at HR,
        the LR feature maps, input and output."""
        hr = cfg.scale_factor ** 2
        return (2 * cfg.num_stages + 2) * cfg.feat * hr + 2 * cfg.base_filter + 2 * cfg.num_channels * (1 + hr)
