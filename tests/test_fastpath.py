"""The CPU fast path: exact sub-pixel deconvolution, the hoisted recurrence, modes and training in place."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from iseebetter_lib.config import preset
from iseebetter_lib.models import RBPN, build_generator
from iseebetter_lib.models.fastpath import MODES, choose_mode, hoisted_forward, prepare_generator
from iseebetter_lib.models.subpixel import (SubpixelConvTranspose2d, lr_offsets, subpixel_conv_transpose2d,
                                            to_subpixel_)


@pytest.mark.parametrize("kernel,stride,padding", [(8, 4, 2), (6, 2, 2), (12, 8, 2), (4, 2, 1), (3, 1, 1)])
def test_subpixel_equals_conv_transpose(kernel: int, stride: int, padding: int) -> None:
    g = torch.Generator().manual_seed(kernel)
    x = torch.randn(2, 5, 7, 9, generator=g, dtype=torch.float64)
    w = torch.randn(5, 6, kernel, kernel, generator=g, dtype=torch.float64)
    b = torch.randn(6, generator=g, dtype=torch.float64)
    ref = F.conv_transpose2d(x, w, b, stride=stride, padding=padding)
    got = subpixel_conv_transpose2d(x, w, b, stride, padding)
    assert got.shape == ref.shape == (2, 6, 7 * stride, 9 * stride)
    assert torch.allclose(got, ref, atol=1e-12, rtol=0)
    # fp32: equal within float rounding
    got32 = subpixel_conv_transpose2d(x.float(), w.float(), b.float(), stride, padding)
    assert (got32.double() - ref).abs().max().item() < 1e-4 * ref.abs().max().item()


def test_projection_kernels_are_3x3_on_the_lr_grid() -> None:
    assert [lr_offsets(*p) for p in [(6, 2, 2), (8, 4, 2), (12, 8, 2)]] == [(-1, 1)] * 3


def test_subpixel_gradients_match() -> None:
    torch.manual_seed(0)
    ref = torch.nn.ConvTranspose2d(4, 3, 8, 4, 2).double()
    sub = torch.nn.ConvTranspose2d(4, 3, 8, 4, 2).double()
    sub.load_state_dict(ref.state_dict())
    assert to_subpixel_(sub) == 1 and isinstance(sub, SubpixelConvTranspose2d)
    x = torch.randn(1, 4, 5, 6, dtype=torch.float64)
    for m in (ref, sub):
        m(x).square().sum().backward()
    assert torch.allclose(ref.weight.grad, sub.weight.grad, atol=1e-10)
    assert torch.allclose(ref.bias.grad, sub.bias.grad, atol=1e-10)


def _inputs(n: int, h: int, w: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(1, 3, h, w, generator=g)
    nb = [torch.rand(1, 3, h, w, generator=g) for _ in range(n)]
    fl = [torch.randn(1, 2, h, w, generator=g) for _ in range(n)]
    return x, nb, fl


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_hoisted_subpixel_rbpn_equals_original_in_float64(scale: int) -> None:
    torch.manual_seed(scale)
    g = RBPN(base_filter=8, feat=4, num_stages=2, n_resblock=1, nFrames=3, scale_factor=scale,
             residual=True).double().eval()
    x, nb, fl = (t.double() if torch.is_tensor(t) else [u.double() for u in t] for t in _inputs(2, 5, 6))
    with torch.no_grad():
        ref = g(x, nb, fl)
        fast = prepare_generator(g, "cpu", "bf16-cl-subpixel")
        fast.generator.double()
        got = hoisted_forward(fast.generator, x, nb, fl)
    assert got.shape == ref.shape
    assert torch.allclose(got, ref, atol=1e-10, rtol=0)


def test_modes_against_fp32() -> None:
    torch.manual_seed(0)
    g = build_generator(preset("tiny").model).eval()
    x, nb, fl = _inputs(2, 8, 10)
    with torch.inference_mode():
        ref = g(x, nb, fl)
        for name in ("fp32", "fp32-cl", "bf16-cl", "bf16-cl-subpixel", "bf16w-cl"):
            out = prepare_generator(g, "cpu", name)(x, nb, fl)
            assert out.dtype == torch.float32 and out.shape == ref.shape
            err = (out - ref).abs().max().item()
            if name == "fp32":
                assert err == 0.0
            elif name.startswith("fp32"):
                assert err < 1e-5
            else:  # bf16: 8-bit mantissa; the fp32 residual keeps the output close
                assert err < 2e-2 * ref.abs().max().item()


def test_inference_tail_buffer_gives_the_concatenated_tail_bit_for_bit() -> None:
    """Inference writes each step's features into the fp32 tail input (less memory); with autograd on, the same
    mode concatenates them at the end. Both must give the same output, bit for bit."""
    torch.manual_seed(0)
    g = RBPN(base_filter=8, feat=4, num_stages=2, n_resblock=1, nFrames=4, residual=True).eval()
    x, nb, fl = _inputs(3, 7, 9)
    for name in ("bf16-cl", "bf16w-cl"):
        fast = prepare_generator(g, "cpu", name)
        with torch.inference_mode():
            buffered = fast(x, nb, fl)
        with torch.enable_grad():  # the parameters require grad: the concatenating path
            concatenated = fast(x, nb, fl)
        assert torch.equal(buffered, concatenated.detach()), name


def test_prepare_copies_or_converts_in_place() -> None:
    torch.manual_seed(0)
    g = build_generator(preset("tiny").model)
    before = {k: v.clone() for k, v in g.state_dict().items()}
    prepare_generator(g, "cpu", "bf16-cl-subpixel")
    assert all(torch.equal(before[k], v) for k, v in g.state_dict().items())
    assert not any(isinstance(m, SubpixelConvTranspose2d) for m in g.modules())
    fast = prepare_generator(g, "cpu", "bf16-cl-subpixel", copy_weights=False)
    assert fast.generator is g and list(g.state_dict()) == list(before)
    assert any(isinstance(m, SubpixelConvTranspose2d) for m in g.modules())


def test_bf16_training_step_follows_fp32() -> None:
    torch.manual_seed(0)
    cfg = preset("tiny").model
    ref = build_generator(cfg)
    fast_g = build_generator(cfg)
    fast_g.load_state_dict(ref.state_dict())
    fast = prepare_generator(fast_g, "cpu", "bf16-cl", copy_weights=False)
    opts = [torch.optim.Adam(m.parameters(), lr=1e-3) for m in (ref, fast_g)]
    x, nb, fl = _inputs(2, 8, 8, seed=1)
    hr = F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False).clamp(0, 1)
    losses = {0: [], 1: []}
    for _ in range(3):
        for i, (model, opt) in enumerate(zip((ref, fast), opts)):
            opt.zero_grad()
            loss = F.l1_loss(model(x, nb, fl), hr)
            loss.backward()
            opt.step()
            losses[i].append(loss.item())
    assert all(abs(a - b) < 0.02 * a for a, b in zip(losses[0], losses[1]))
    assert losses[1][-1] < losses[1][0]  # it learns


def test_mode_names_and_auto() -> None:
    assert choose_mode("cpu") in MODES
    g = RBPN(base_filter=4, feat=2, num_stages=1, n_resblock=1, nFrames=2)
    with pytest.raises(ValueError, match="mode"):
        prepare_generator(g, "cpu", "int8")
    with pytest.raises(ValueError, match="inference"):
        prepare_generator(g, "cpu", "bf16w-cl", copy_weights=False)


def test_subpixel_index_cached_under_inference_mode_still_trains() -> None:
    """The LR-grid index is cached per shape: a first use under inference_mode (evaluation) must not leave an
    inference tensor that a later training step cannot save for backward."""
    from iseebetter_lib.models import subpixel

    subpixel._FLAT_INDEX.clear()
    w = torch.randn(3, 2, 6, 6, requires_grad=True)
    x = torch.randn(1, 3, 5, 5)
    with torch.inference_mode():
        subpixel_conv_transpose2d(x, w.detach(), None, 2, 2)
    subpixel_conv_transpose2d(x, w, None, 2, 2).sum().backward()
    assert w.grad is not None and torch.isfinite(w.grad).all()


def test_a_failing_compile_is_one_user_error() -> None:
    """No working C++ compiler for inductor's CPU kernels: one line naming the cause and the way out. In a child
    process: inductor remembers a failed compiler check for the life of the process."""
    import subprocess
    import sys

    child = """
import torch._inductor.config as inductor_config
from iseebetter_lib.config import preset
from iseebetter_lib.errors import UserError
from iseebetter_lib.models import build_generator
from iseebetter_lib.models.fastpath import prepare_generator
from test_fastpath import _inputs
inductor_config.cpp.cxx = ("/nonexistent/g++",)
fast = prepare_generator(build_generator(preset("tiny").model), "cpu", "bf16-cl-compile", copy_weights=False)
try:
    fast(*_inputs(2, 8, 8))
except UserError as exc:
    print(exc)
"""
    here = str(Path(__file__).resolve().parent)
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])})
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1, out.stdout + out.stderr
    assert re.fullmatch(r"torch.compile failed \(.*C\+\+ compiler.*\); run without compiling .*", lines[0]), lines
