"""RBPN, iSeeBetter's generator: recurrent back-projection over the neighbours of a target LR frame.

For each neighbour j (in the order given): h0 = SISR(state); h1 = MISR(feat1(target, neighbour_j, flow_j));
h = h0 + Decoder(h0 - h1); keep h; state = Encoder(h); the state starts as feat0(target). The kept HR features of
all nFrames - 1 steps are concatenated and a 3x3 conv makes the output (no activation, no clamp). Module names
(`feat0`, `feat1`, `DBPN`, `res_feat1..3`, `output`) are the original's, so original state dicts load as they are.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torch import nn

from iseebetter_lib.models.blocks import (ConvBlock, DeconvBlock, ResnetBlock, bicubic_base,  # noqa: F401
                                          kaiming_init_, projection_params)
from iseebetter_lib.models.dbpn import DBPNS

Frames = torch.Tensor | Sequence[torch.Tensor]


class RBPN(nn.Module):
    """The generator; defaults are the paper's configuration (12,771,943 parameters)."""

    def __init__(self, num_channels: int = 3, base_filter: int = 256, feat: int = 64, num_stages: int = 3,
                 n_resblock: int = 5, nFrames: int = 7, scale_factor: int = 4, residual: bool = False,
                 output_init_scale: float = 1.0) -> None:
        super().__init__()
        kernel, stride, padding = projection_params(scale_factor)
        if nFrames < 2:
            raise ValueError(f"nFrames: expected >= 2, got {nFrames!r}")
        if n_resblock < 1 or num_channels < 1 or base_filter < 1 or feat < 1:
            raise ValueError("n_resblock, num_channels, base_filter, feat: expected >= 1")
        self.num_channels = num_channels
        self.nFrames = nFrames
        self.scale_factor = scale_factor
        self.residual = residual

        self.feat0 = ConvBlock(num_channels, base_filter, 3, 1, 1)
        self.feat1 = ConvBlock(2 * num_channels + 2, base_filter, 3, 1, 1)
        self.DBPN = DBPNS(base_filter, feat, num_stages, scale_factor)
        # MISR: LR features of (target, neighbour, flow) -> HR features.
        self.res_feat1 = nn.Sequential(*[ResnetBlock(base_filter) for _ in range(n_resblock)],
                                       DeconvBlock(base_filter, feat, kernel, stride, padding))
        # Decoder: HR residual features -> HR features.
        self.res_feat2 = nn.Sequential(*[ResnetBlock(feat) for _ in range(n_resblock)],
                                       ConvBlock(feat, feat, 3, 1, 1))
        # Encoder: HR features -> next LR state.
        self.res_feat3 = nn.Sequential(*[ResnetBlock(feat) for _ in range(n_resblock)],
                                       ConvBlock(feat, base_filter, kernel, stride, padding))
        self.output = ConvBlock((nFrames - 1) * feat, num_channels, 3, 1, 1, activation=False)

        kaiming_init_(self)
        if output_init_scale != 1.0:
            with torch.no_grad():
                self.output.conv.weight.mul_(output_init_scale)

    def forward(self, x: torch.Tensor, neighbor: Frames, flow: Frames) -> torch.Tensor:
        """`x` (B, C, h, w); `neighbor` list of nFrames-1 (B, C, h, w) or (B, nFrames-1, C, h, w);
        `flow` likewise with 2 channels (u, v in LR pixels, target -> neighbour). Returns (B, C, h*s, w*s)."""
        neighbours, flows = self._check_inputs(x, neighbor, flow)
        state = self.feat0(x)
        kept = []
        for nb, fl in zip(neighbours, flows):
            h0 = self.DBPN(state)
            h1 = self.res_feat1(self.feat1(torch.cat((x, nb, fl), dim=1)))
            h = h0 + self.res_feat2(h0 - h1)
            kept.append(h)
            state = self.res_feat3(h)
        out = self.output(torch.cat(kept, dim=1))
        if self.residual:
            out = out + bicubic_base(x, self.scale_factor)
        return out

    @staticmethod
    def receptive_radius(cfg: Any) -> int:
        """Theoretical receptive radius in LR pixels of the RBPN `cfg` (a `ModelConfig`) describes: a projection
        conv/deconv reaches 1 LR px, a 3x3 conv at LR 1 px, at HR 1/s px."""
        s = cfg.scale_factor
        dbpn = 3 * (2 * cfg.num_stages - 1)  # up and down units: three projections each
        misr = 1 + 2 * cfg.n_resblock + 1  # feat1 3x3, residual blocks, deconv
        decoder = (2 * cfg.n_resblock + 1) / s
        encoder = 2 * cfg.n_resblock / s + 1
        state, h = 1.0, 0.0  # feat0
        for _ in range(cfg.nFrames - 1):
            h = max(state + dbpn, misr) + decoder
            state = h + encoder
        radius = h + 1 / s  # output 3x3 at HR
        if cfg.residual:
            radius = max(radius, 2.0)  # bicubic
        return int(math.ceil(radius))

    @staticmethod
    def activation_floats(cfg: Any) -> int:
        """Peak activation floats per LR pixel of one inference forward, from the structure: the kept HR features
        and their concat, the DBPN up outputs and their concat, a few LR maps, the inputs. Conservative: 1.06x
        (tiny) to 1.4x (full) the CPU profiler's peak."""
        hr = cfg.scale_factor ** 2
        n = cfg.nFrames - 1
        return (2 * n * cfg.feat * hr + (2 * cfg.num_stages + 1) * cfg.feat * hr + 4 * cfg.base_filter
                + (cfg.num_channels + 5) * (n + 1))

    def _check_inputs(self, x: torch.Tensor, neighbor: Frames,
                      flow: Frames) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Validate shapes; one-line ValueError naming the argument and the expected shape."""
        c, n = self.num_channels, self.nFrames - 1
        if not torch.is_tensor(x) or x.dim() != 4 or x.shape[1] != c:
            got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
            raise ValueError(f"target: expected a (B, {c}, h, w) tensor, got {got}")
        b, _, h, w = x.shape
        frames = [_split("neighbours", neighbor, n, (b, c, h, w)), _split("flows", flow, n, (b, 2, h, w))]
        return frames[0], frames[1]


def _split(name: str, value: Frames, n: int, shape: tuple[int, int, int, int]) -> list[torch.Tensor]:
    """A list of n tensors of `shape` from a list/tuple or a (B, n, C, h, w) tensor."""
    b, c, h, w = shape
    expected = f"a list of {n} (B={b}, {c}, {h}, {w}) tensors or a ({b}, {n}, {c}, {h}, {w}) tensor"
    if torch.is_tensor(value):
        if value.dim() != 5:
            raise ValueError(f"{name}: expected {expected}, got a tensor of shape {tuple(value.shape)}")
        if value.shape[1] != n:
            raise ValueError(f"{name}: expected {n} (nFrames - 1) frames, got {value.shape[1]} "
                             f"(shape {tuple(value.shape)})")
        items = list(value.unbind(1))
    elif isinstance(value, (list, tuple)):
        items = list(value)
        if len(items) != n:
            raise ValueError(f"{name}: expected {n} (nFrames - 1) frames, got {len(items)}")
    else:
        raise ValueError(f"{name}: expected {expected}, got {type(value).__name__}")
    for i, t in enumerate(items):
        if not torch.is_tensor(t) or t.dim() != 4:
            got = tuple(t.shape) if torch.is_tensor(t) else type(t).__name__
            raise ValueError(f"{name}[{i}]: expected shape ({b}, {c}, {h}, {w}), got {got}")
        if t.shape[1] != c:
            raise ValueError(f"{name}[{i}]: expected {c} channels, got shape {tuple(t.shape)}")
        if tuple(t.shape) != (b, c, h, w):
            raise ValueError(f"{name}[{i}]: expected shape ({b}, {c}, {h}, {w}) to match the target, "
                             f"got {tuple(t.shape)}")
    return items
