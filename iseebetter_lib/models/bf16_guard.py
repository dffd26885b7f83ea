"""bf16 convolutions checked on this CPU before a network relies on them.

Some oneDNN bf16 kernels are wrong for some layer shapes on some CPUs: with torch 2.13 on a CPU with AMX, a bf16
`Conv2d(8, 8, 8, stride=4, padding=2)` on a 32 x 40 input is off by more than its own output, while the same layer
with 16 channels is right to bf16 rounding. `guard_bf16(module, device)` runs each distinct convolution shape of
`module` once in bf16 (autocast) and in fp32 on bf16-rounded inputs and weights; a layer whose bf16 result (and,
for training, gradients) is further from fp32 than rounding explains computes in fp32 from then on. The check costs
a few milliseconds per shape, once per process; healthy layers keep the speed of the native kernels.
"""

from __future__ import annotations

import copy
import types
import warnings

import torch
from torch import nn

CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
TOLERANCE = 0.05  # of the largest reference value; bf16 rounding alone gives about 0.003, a faulty kernel about 1
CHECK_SIZE = 40  # spatial size of the check's input: the faulty kernels seen fail from about 16 pixels up

_VERDICTS: dict[tuple, bool] = {}  # (shape signature, device, backward) -> the bf16 kernel is faulty
_WARNED: set[tuple] = set()


def signature(layer: nn.Module) -> tuple:
    """What the kernel choice depends on: the layer's class, channels, kernel, stride, padding, groups, dilation,
    bias and memory format."""
    w = layer.weight
    channels_last = w.dim() == 4 and w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()
    return (type(layer), layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
            getattr(layer, "output_padding", None), layer.groups, layer.dilation, layer.bias is not None,
            channels_last)


def _relative_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    value, reference = value.detach().float(), reference.detach()
    return float((value - reference).abs().max() / reference.abs().max().clamp_min(1e-12))


def bf16_kernel_is_faulty(layer: nn.Module, device: torch.device, backward: bool = False) -> bool:
    """Whether `layer`'s bf16 convolution on `device` (forward, and its gradients when `backward`) disagrees with
    fp32 on the same bf16-rounded inputs and weights by more than `TOLERANCE`. Cached per shape."""
    shape = signature(layer)
    key = (shape, str(device), backward)
    if key in _VERDICTS:
        return _VERDICTS[key]
    gen = torch.Generator().manual_seed(0)
    test = copy.deepcopy(layer).float().to(device).requires_grad_(True)  # a frozen layer (VGG) too
    ref = copy.deepcopy(test)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(p.bfloat16().float())
    spatial = [max(CHECK_SIZE, 2 * k) for k in test.kernel_size]
    x = torch.randn(1, test.in_channels, *spatial, generator=gen).to(device)
    fmt = torch.channels_last if shape[-1] else torch.contiguous_format
    x = x.contiguous(memory_format=fmt) if x.dim() == 4 else x
    x_ref = x.bfloat16().float().requires_grad_(backward)
    x = x.requires_grad_(backward)
    with torch.set_grad_enabled(backward):
        y_ref = ref(x_ref)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            y = test(x)
        errors = [_relative_error(y, y_ref)]
        if backward:
            g = torch.randn(y_ref.shape, generator=gen).to(device).bfloat16().float()
            (y_ref * g).sum().backward()
            (y.float() * g).sum().backward()
            errors += [_relative_error(x.grad, x_ref.grad), _relative_error(test.weight.grad, ref.weight.grad)]
    _VERDICTS[key] = max(errors) > TOLERANCE
    return _VERDICTS[key]


def _fp32_forward(self: nn.Module, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    """The layer's own forward in fp32 outside autocast; the output in the input's dtype."""
    with torch.autocast(device_type=x.device.type, enabled=False):
        return type(self).forward(self, x.float(), *args, **kwargs).to(x.dtype)


def runs_in_fp32(layer: nn.Module) -> bool:
    """Whether `guard_bf16` moved `layer` to fp32."""
    forward = layer.__dict__.get("forward")
    return isinstance(forward, types.MethodType) and forward.__func__ is _fp32_forward


def guard_bf16(module: nn.Module, device: torch.device | str, backward: bool = False) -> list[str]:
    """Move every convolution of `module` whose bf16 kernel is faulty on `device` to fp32, in place (its weights
    become fp32 if they were bf16; its state_dict keys are unchanged), and return their names. Only CPUs are
    checked (oneDNN's kernels); elsewhere nothing changes. Warns once per set of faulty shapes."""
    device = torch.device(device)
    if device.type != "cpu":
        return []
    moved, shapes = [], set()
    for name, layer in module.named_modules():
        if not isinstance(layer, CONVS) or runs_in_fp32(layer):
            continue
        if bf16_kernel_is_faulty(layer, device, backward):
            layer.float()
            layer.forward = types.MethodType(_fp32_forward, layer)
            moved.append(name)
            shapes.add(describe(layer))
    shapes = tuple(sorted(shapes))
    if moved and shapes not in _WARNED:
        _WARNED.add(shapes)
        warnings.warn(f"this CPU's bf16 kernels are wrong for {', '.join(shapes)}: {len(moved)} layer(s) of "
                      f"{type(module).__name__} run in fp32", RuntimeWarning, stacklevel=2)
    return moved


def describe(layer: nn.Module) -> str:
    """A layer's shape in a few words, e.g. `Conv2d 8->16 k8 s4`."""
    kernel, stride = layer.kernel_size, layer.stride
    k = kernel[0] if len(set(kernel)) == 1 else "x".join(map(str, kernel))
    s = stride[0] if len(set(stride)) == 1 else "x".join(map(str, stride))
    return f"{type(layer).__name__} {layer.in_channels}->{layer.out_channels} k{k} s{s}"
