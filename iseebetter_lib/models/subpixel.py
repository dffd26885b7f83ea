"""Exact sub-pixel form of a transposed convolution: a convolution on the LR grid followed by pixel shuffle.

A ConvTranspose2d with stride s, padding p and kernel k writes output row Y*s + r (phase r in [0, s)) from input
rows i with ky = r + p - (i - Y)*s in [0, k). So each phase is an ordinary convolution of the input over the LR
offsets o = i - Y in [o_min, o_max] with kernel taps W[:, :, r + p - o*s]; stacking the s*s phases as output
channels (pixel-shuffle order c*s*s + ry*s + rx) gives one convolution with out*s*s channels, a
(o_max - o_min + 1)^2 kernel and zero padding (-o_min before, o_max after), then `pixel_shuffle(s)`. Taps that
fall outside the original kernel are zeros, so the result equals the transposed convolution up to float rounding.
For RBPN's projections (k, s, p) = (6, 2, 2), (8, 4, 2), (12, 8, 2) the LR kernel is 3x3.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def lr_offsets(kernel: int, stride: int, padding: int) -> tuple[int, int]:
    """(o_min, o_max): the LR input offsets i - Y that reach output phase r of row Y for some r."""
    lo = min(-((kernel - 1 - r - padding) // stride) for r in range(stride))  # ceil((r + p - k + 1) / s)
    hi = max((r + padding) // stride for r in range(stride))
    return lo, hi


def _tap_index(kernel: int, stride: int, padding: int) -> torch.Tensor:
    """(s, K) long tensor: the original kernel tap of phase r at LR offset o_min + t, or `kernel` (a zero tap)."""
    lo, hi = lr_offsets(kernel, stride, padding)
    idx = torch.full((stride, hi - lo + 1), kernel, dtype=torch.long)
    for r in range(stride):
        for t, o in enumerate(range(lo, hi + 1)):
            tap = r + padding - o * stride
            if 0 <= tap < kernel:
                idx[r, t] = tap
    return idx


_FLAT_INDEX: dict[tuple[int, int, int, int, int], torch.Tensor] = {}


def _flat_index(cin: int, cout: int, kernel: int, stride: int, padding: int) -> torch.Tensor:
    """(cout*s*s, cin, K, K) indices into the flattened (cin, cout, k, k) weight; cin*cout*k*k marks a zero tap."""
    key = (cin, cout, kernel, stride, padding)
    if key not in _FLAT_INDEX:
        with torch.inference_mode(False):  # cached for training too: never an inference tensor
            _FLAT_INDEX[key] = _build_flat_index(cin, cout, kernel, stride, padding)
    return _FLAT_INDEX[key]


def _build_flat_index(cin: int, cout: int, kernel: int, stride: int, padding: int) -> torch.Tensor:
    taps = _tap_index(kernel, stride, padding)  # (s, K), value `kernel` = zero tap
    s, K = taps.shape
    ci = torch.arange(cin).view(1, 1, 1, cin, 1, 1)
    co = torch.arange(cout).view(cout, 1, 1, 1, 1, 1)
    ky = taps.view(1, s, 1, 1, K, 1)
    kx = taps.view(1, 1, s, 1, 1, K)
    flat = ((ci * cout + co) * kernel + ky) * kernel + kx
    zero = (ky == kernel) | (kx == kernel)
    flat = torch.where(zero, torch.full_like(flat, cin * cout * kernel * kernel), flat)
    return flat.reshape(cout * s * s, cin, K, K)


def subpixel_weight(weight: torch.Tensor, bias: torch.Tensor | None, stride: int,
                    padding: int) -> tuple[torch.Tensor, torch.Tensor | None, tuple[int, int, int, int]]:
    """ConvTranspose2d weight (in, out, k, k) -> conv weight (out*s*s, in, K, K), bias and F.pad widths.

    Differentiable (one gather from the flattened weight), so training can use it on the live parameters."""
    cin, cout, kh, kw = weight.shape
    if kh != kw:
        raise ValueError(f"weight: expected a square kernel, got {kh}x{kw}")
    idx = _flat_index(cin, cout, kh, stride, padding).to(weight.device)
    flat = torch.cat((weight.reshape(-1), weight.new_zeros(1)))
    conv_w = flat[idx]
    conv_b = bias.repeat_interleave(stride * stride) if bias is not None else None
    lo, hi = lr_offsets(kh, stride, padding)
    return conv_w, conv_b, (-lo, hi, -lo, hi)


def subpixel_conv_transpose2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int,
                              padding: int) -> torch.Tensor:
    """`F.conv_transpose2d(x, weight, bias, stride, padding)` for kernel = stride + 2 * padding, computed on the LR
    grid and pixel-shuffled."""
    conv_w, conv_b, pads = subpixel_weight(weight, bias, stride, padding)
    return _apply(x, conv_w, conv_b, pads, stride)


def _apply(x: torch.Tensor, conv_w: torch.Tensor, conv_b: torch.Tensor | None, pads: tuple[int, int, int, int],
           stride: int) -> torch.Tensor:
    if len(set(pads)) == 1:
        y = F.conv2d(x, conv_w, conv_b, padding=pads[0])
    else:
        y = F.conv2d(F.pad(x, pads), conv_w, conv_b)
    return F.pixel_shuffle(y, stride)


class SubpixelConvTranspose2d(nn.ConvTranspose2d):
    """A ConvTranspose2d whose forward is the sub-pixel form. Same parameters and state-dict keys, so an existing
    module is converted in place by `to_subpixel_` (class swap). The LR weight is cached while the parameters
    are unchanged and no gradient is needed (inference), recomputed otherwise (training)."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:  # noqa: ARG002
        s, p = self.stride[0], self.padding[0]
        if torch.is_grad_enabled() and self.weight.requires_grad:
            return subpixel_conv_transpose2d(x, self.weight, self.bias, s, p)
        key = (_version(self.weight), self.weight.data_ptr(), x.dtype,
               x.is_contiguous(memory_format=torch.channels_last))
        cache = getattr(self, "_subpixel_cache", None)
        if cache is None or cache[0] != key:
            with torch.no_grad():
                w, b, pads = subpixel_weight(self.weight, self.bias, s, p)
                w = w.to(x.dtype)
                b = b.to(x.dtype) if b is not None else None
                if key[3]:
                    w = w.contiguous(memory_format=torch.channels_last)
            cache = (key, w, b, pads)
            self._subpixel_cache = cache
        return _apply(x, cache[1], cache[2], cache[3], s)


def _version(t: torch.Tensor) -> int:
    """The in-place version counter (-1 for inference tensors, which cannot change)."""
    return -1 if t.is_inference() else t._version


def supports_subpixel(m: nn.ConvTranspose2d) -> bool:
    """Square kernel = stride + 2 * padding, no output padding, groups 1, dilation 1."""
    k, s, p = m.kernel_size, m.stride, m.padding
    return (k[0] == k[1] and s[0] == s[1] and p[0] == p[1] and k[0] == s[0] + 2 * p[0] and m.groups == 1
            and tuple(m.dilation) == (1, 1) and tuple(m.output_padding) == (0, 0))


def to_subpixel_(module: nn.Module) -> int:
    """Convert every eligible ConvTranspose2d inside `module` in place; returns how many were converted."""
    n = 0
    for m in module.modules():
        if type(m) is nn.ConvTranspose2d and supports_subpixel(m):
            m.__class__ = SubpixelConvTranspose2d
            n += 1
    return n
