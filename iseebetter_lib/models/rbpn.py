"""RBPN, iSeeBetter's generator: recurrent back-projection over the neighbours of a target LR frame.

For each neighbour j (in the order given): h0 = SISR(state); h1 = MISR(feat1(target, neighbour_j, flow_j));
h = h0 + Decoder(h0 - h1); keep h; state = Encoder(h); the state starts as feat0(target). The kept HR features of
all nFrames - 1 steps are concatenated and a 3x3 conv makes the output (no activation, no clamp). Module names
(`feat0`, `feat1`, `DBPN`, `res_feat1..3`, `output`) are the original's, so original state dicts load as they are.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from iseebetter_lib.config import ModelConfig
from iseebetter_lib.models.blocks import (ConvBlock, DeconvBlock, ResnetBlock, kaiming_init_,
                                          projection_params)
from iseebetter_lib.models.dbpn import DBPNS

Frames = torch.Tensor | Sequence[torch.Tensor]


def bicubic_base(x: torch.Tensor, scale: int) -> torch.Tensor:
    """The residual base: torch bicubic upsampling (align_corners=False, not clamped) of (N, C, h, w) by `scale`."""
    h, w = x.shape[-2:]
    return F.interpolate(x, size=(h * scale, w * scale), mode="bicubic", align_corners=False)


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


def build_generator(cfg: ModelConfig) -> RBPN:
    """An RBPN from a `ModelConfig` (validated first: bad values raise `ConfigError`)."""
    cfg.validate()
    return RBPN(**cfg.kwargs())
