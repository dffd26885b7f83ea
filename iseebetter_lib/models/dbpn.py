"""RBPN's single-image branch (DBPN-S): LR features -> HR features by iterative up/down back-projection.

`num_stages` up units alternate with `num_stages - 1` down units (up1, down1, up2, ..., upN); the up outputs are
concatenated newest first and fused by a 1x1 conv. With ``num_stages=3`` this is the original module exactly
(names `feat1`, `up1..up3`, `down1..down2`, `output`); the original itself ran three up units whatever
`num_stages` said and crashed otherwise, so other values are our generalisation.
"""

from __future__ import annotations

import torch
from torch import nn

from iseebetter_lib.models.blocks import ConvBlock, DownBlock, UpBlock, projection_params


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
