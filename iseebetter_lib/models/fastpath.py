"""CPU fast path for the generators it knows (RBPN, DBPN): bf16 with channels_last (oneDNN's native bf16
convolutions), the recurrence's neighbour-only work batched, optional exact sub-pixel deconvolutions and
torch.compile.

`prepare_generator(g, device, mode)` returns a `FastGenerator`, a module with the generator's call signature
`(x, neighbours, flows) -> sr` (fp32 output). Modes:

- ``fp32``: the generator as it is (the original code's function bit for bit);
- ``fp32-cl``: fp32, channels_last activations and weights (same function up to float rounding);
- ``bf16-cl``: CPU/CUDA autocast bf16 + channels_last; the last 3x3 conv and the bicubic residual stay fp32;
- ``bf16-cl-subpixel``: as bf16-cl, transposed convs computed on the LR grid + pixel shuffle;
- ``bf16-cl-compile``: as bf16-cl under `torch.compile` (slow first call: compile time is paid per input shape);
- ``bf16w-cl`` (inference only): weights and activations stored in bf16, so no per-op casts; output conv and
  bicubic residual in fp32 from the fp32 target; ``bf16w-cl-compile`` likewise compiled.

Every non-fp32 mode also batches the MISR branch `res_feat1(feat1(cat(x, nb_j, flow_j)))` over all neighbours,
since it does not depend on the recurrent state (the same arithmetic, one larger batch). DBPN has no neighbours:
its modes are the same without the batching. `supports_fast_path` says whether a generator is one the fast path
knows; callers run any other generator as it is (with autocast). Every bf16 mode first checks the generator's
convolution shapes on this CPU (`models.bf16_guard`): a layer whose bf16 kernel is faulty runs in fp32.
``auto`` is `choose_mode`: where oneDNN has native bf16 (AVX512-BF16 or AMX) bf16w-cl for inference and bf16-cl
for training, else fp32-cl on CPU; fp32 on other devices (their precision is the caller's ``--precision``).
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from iseebetter_lib.errors import UserError
from iseebetter_lib.models.bf16_guard import guard_bf16
from iseebetter_lib.models.dbpn import DBPN
from iseebetter_lib.models.rbpn import RBPN
from iseebetter_lib.models.subpixel import to_subpixel_

CL = torch.channels_last


@dataclass(frozen=True)
class FastMode:
    """What a fast-path mode turns on."""

    name: str
    bf16: bool = False
    channels_last: bool = False
    hoist: bool = False  # batch the MISR branch over neighbours
    subpixel: bool = False
    compile: bool = False
    bf16_weights: bool = False  # weights and activations stored in bf16, no autocast casts (inference only)


MODES = {m.name: m for m in (
    FastMode("fp32"),
    FastMode("fp32-cl", channels_last=True, hoist=True),
    FastMode("bf16-cl", bf16=True, channels_last=True, hoist=True),
    FastMode("bf16-cl-subpixel", bf16=True, channels_last=True, hoist=True, subpixel=True),
    FastMode("bf16-cl-compile", bf16=True, channels_last=True, hoist=True, compile=True),
    FastMode("bf16w-cl", bf16=True, channels_last=True, hoist=True, bf16_weights=True),
    FastMode("bf16w-cl-compile", bf16=True, channels_last=True, hoist=True, bf16_weights=True, compile=True),
)}


KNOWN = (RBPN, DBPN)  # generators whose structure the fast path knows (fp32 tail, batched neighbour branch)


def supports_fast_path(generator: nn.Module) -> bool:
    """Whether `prepare_generator` knows `generator`'s structure (other generators run as they are)."""
    return isinstance(generator, KNOWN)


def native_bf16(device: torch.device) -> bool:
    """True where bf16 convolutions run natively: oneDNN with AVX512-BF16/AMX on CPU, Ampere+ on CUDA."""
    if device.type == "cpu":
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return False


def choose_mode(device: torch.device | str, training: bool = False) -> str:
    """The `auto` rule, backed by benchmarks/model.py and benchmarks/train_step.py: on a CPU with native bf16,
    bf16w-cl for inference and bf16-cl (autocast, fp32 master weights) for training; channels_last fp32 on other
    CPUs; fp32 elsewhere (there the caller's precision applies). torch.compile is never automatic: its first call
    costs minutes per input shape on a 2-core CPU."""
    device = torch.device(device)
    if device.type != "cpu":
        return "fp32"
    if not native_bf16(device):
        return "fp32-cl"
    return "bf16-cl" if training else "bf16w-cl"


def bf16_mode(device: torch.device | str, training: bool = False) -> str:
    """The mode that `--precision bf16` runs in: with native bf16 kernels, bf16 weights for inference and sub-pixel
    transposed convolutions for training (their bf16 backward is the slow part); elsewhere bf16 autocast."""
    if not native_bf16(torch.device(device)):
        return "bf16-cl"
    return "bf16-cl-subpixel" if training else "bf16w-cl"


def hoisted_forward(g: RBPN, x: torch.Tensor, neighbours: list[torch.Tensor], flows: list[torch.Tensor],
                    fp32_tail: bool = False, x_fp32: torch.Tensor | None = None) -> torch.Tensor:
    """RBPN.forward with the MISR branch computed for all neighbours in one batch. `fp32_tail` runs the output
    conv and the bicubic residual in fp32 outside any autocast (cheap: 3 output channels); `x_fp32` is the target
    in fp32 for the residual when `x` itself was rounded to bf16."""
    b, n = x.shape[0], len(neighbours)
    misr_in = torch.cat([torch.cat((x, nb, fl), dim=1) for nb, fl in zip(neighbours, flows)], dim=0)
    h1_all = g.res_feat1(g.feat1(misr_in)).split(b, dim=0)
    state = g.feat0(x)
    kept = []
    # Inference with an fp32 tail: each step's features go straight into the fp32 input of the output conv (the
    # values of cat(kept).float(), bit for bit) instead of being kept in bf16 and concatenated twice at the end.
    tail_buffer = fp32_tail and not torch.is_grad_enabled()
    feats = None
    for j in range(n):
        h0 = g.DBPN(state)
        h = h0 + g.res_feat2(h0 - h1_all[j])
        if tail_buffer:
            if feats is None:
                feats = torch.empty((b, n * h.shape[1], *h.shape[2:]), dtype=torch.float32, device=h.device,
                                    memory_format=CL if h.is_contiguous(memory_format=CL) else torch.contiguous_format)
            feats[:, j * h.shape[1]:(j + 1) * h.shape[1]].copy_(h)
        else:
            kept.append(h)
        if j < n - 1:  # the last encoder output is never used
            state = g.res_feat3(h)
        del h0, h
    if not tail_buffer:
        feats = torch.cat(kept, dim=1)
        kept.clear()
    return output_tail(g, feats.float() if fp32_tail and not tail_buffer else feats, x, fp32_tail, x_fp32)


def output_tail(g: RBPN | DBPN, feats: torch.Tensor, x: torch.Tensor, fp32_tail: bool,
                x_fp32: torch.Tensor | None) -> torch.Tensor:
    """The output conv on `feats` plus, for a residual generator, the bicubic upsampling of the target; with
    `fp32_tail` outside any autocast, from `x_fp32` (else `x` in fp32) when given."""
    ctx = torch.autocast(device_type=x.device.type, enabled=False) if fp32_tail else contextlib.nullcontext()
    with ctx:
        out = g.output(feats)
        if g.residual:
            h, w = x.shape[-2:]
            s = g.scale_factor
            xr = x_fp32 if x_fp32 is not None else (x.float() if fp32_tail else x)
            out = out + F.interpolate(xr, size=(h * s, w * s), mode="bicubic", align_corners=False)
    return out


def single_frame_forward(g: DBPN, x: torch.Tensor, fp32_tail: bool = False,
                         x_fp32: torch.Tensor | None = None) -> torch.Tensor:
    """DBPN.forward with, under `fp32_tail`, the output conv and the bicubic residual in fp32 outside any autocast
    (as `hoisted_forward` does for RBPN)."""
    feats = g.DBPN(g.feat0(x))
    return output_tail(g, feats.float() if fp32_tail else feats, x, fp32_tail, x_fp32)


class FastGenerator(nn.Module):
    """`generator` run in a fast-path mode; call it as the generator: `(x, neighbours, flows) -> sr` in fp32.

    The wrapped generator's parameters are its own (a converted copy for inference, the live module for
    training: `prepare_generator(..., copy=False)`), so its state_dict keys are unchanged."""

    def __init__(self, generator: RBPN | DBPN, mode: str | FastMode) -> None:
        super().__init__()
        self.mode = MODES[mode] if isinstance(mode, str) else mode
        self.generator = generator
        self._compiled = torch.compile(self._run, dynamic=False) if self.mode.compile else None

    def _run(self, x: torch.Tensor, neighbours: list[torch.Tensor], flows: list[torch.Tensor]) -> torch.Tensor:
        m = self.mode
        if m.channels_last:
            x = x.contiguous(memory_format=CL)
            neighbours = [t.contiguous(memory_format=CL) for t in neighbours]
            flows = [t.contiguous(memory_format=CL) for t in flows]
        x_fp32 = None
        if m.bf16_weights:
            x_fp32 = x
            x, neighbours, flows = (x.bfloat16(), [t.bfloat16() for t in neighbours],
                                    [t.bfloat16() for t in flows])
        ctx = (torch.autocast(device_type=x.device.type, dtype=torch.bfloat16) if m.bf16 and not m.bf16_weights
               else contextlib.nullcontext())
        with ctx:
            if isinstance(self.generator, DBPN):
                return single_frame_forward(self.generator, x, fp32_tail=m.bf16, x_fp32=x_fp32)
            if m.hoist:
                return hoisted_forward(self.generator, x, neighbours, flows, fp32_tail=m.bf16, x_fp32=x_fp32)
            return self.generator(x, neighbours, flows)

    def forward(self, x: torch.Tensor, neighbor: torch.Tensor | Sequence[torch.Tensor],
                flow: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        if self.mode.name == "fp32":
            return self.generator(x, neighbor, flow)
        neighbours, flows = self.generator._check_inputs(x, neighbor, flow)
        if self._compiled is None:
            return self._run(x, neighbours, flows).float().contiguous()
        try:
            return self._compiled(x, neighbours, flows).float().contiguous()
        except torch._dynamo.exc.BackendCompilerFailed as exc:  # e.g. no C++ compiler for inductor's CPU kernels
            cause = getattr(exc, "inner_exception", None) or exc
            text = str(cause).strip()
            reason = f"{type(cause).__name__}: {text.splitlines()[0]}" if text else type(cause).__name__
            raise UserError(f"torch.compile failed ({reason[:200]}); run without compiling "
                            "(train.compile=false, or a mode without -compile)") from None


def prepare_generator(generator: RBPN | DBPN, device: torch.device | str = "cpu", mode: str = "auto",
                      copy_weights: bool = True) -> FastGenerator:
    """A `FastGenerator` for `generator` on `device` in `mode` (``auto`` = `choose_mode(device)`).

    `copy_weights=True` (inference) converts a private copy and leaves `generator` untouched;
    `copy_weights=False` (training) converts the live module in place (channels_last parameters, sub-pixel class
    swap) so that the optimiser keeps stepping the same tensors; its state_dict keys and values are unchanged."""
    device = torch.device(device)
    name = choose_mode(device, training=not copy_weights) if mode == "auto" else mode
    if name not in MODES:
        raise ValueError(f"mode: expected auto or one of {', '.join(MODES)}, got {mode!r}")
    if not supports_fast_path(generator):
        raise ValueError(f"the fast path knows {', '.join(k.__name__ for k in KNOWN)}, not "
                         f"{type(generator).__name__}: run it as it is")
    m = MODES[name]
    g = copy.deepcopy(generator) if copy_weights else generator
    g = g.to(device)
    if m.channels_last:
        g = g.to(memory_format=CL)
    if m.subpixel:
        to_subpixel_(g)
    if m.bf16_weights:
        if not copy_weights:
            raise ValueError(f"mode {name}: bf16 weights are for inference (copy_weights=True); train with bf16-cl")
        g = g.bfloat16()
        g.output.float()  # the fp32 tail
    if m.bf16:
        guard_bf16(g, device, backward=not copy_weights)
    return FastGenerator(g, m).to(device)
