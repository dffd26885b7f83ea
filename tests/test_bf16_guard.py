"""The bf16 kernel check: a convolution whose bf16 result (or gradient) is wrong on this CPU is found and runs in
fp32, in the fast path, in the engine's autocast and in training. Faulty kernels are simulated by layers that
corrupt their bf16 result, so these tests do not depend on the CPU they run on; the fast-path tests check the real
networks' bf16 output against fp32 on whatever CPU runs them."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from iseebetter_lib.config import preset
from iseebetter_lib.models import bf16_guard, build_generator
from iseebetter_lib.models.bf16_guard import bf16_kernel_is_faulty, guard_bf16, runs_in_fp32
from iseebetter_lib.models.fastpath import prepare_generator


class WrongForward(nn.Conv2d):
    """A convolution whose bf16 (autocast) result is off by about its own size, as the faulty kernels are."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x)
        return y + y.detach().flip(-1) if torch.is_autocast_enabled("cpu") else y


class _NegatedGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, y):
        return y.view_as(y)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class WrongBackward(nn.Conv2d):
    """A convolution right in bf16 forward whose bf16 gradient is wrong."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x)
        return _NegatedGradient.apply(y) if torch.is_autocast_enabled("cpu") else y


def test_the_check_finds_wrong_results_and_passes_rounding():
    cpu = torch.device("cpu")
    assert not bf16_kernel_is_faulty(nn.Conv2d(16, 16, 3, padding=1), cpu, backward=True)
    assert not bf16_kernel_is_faulty(nn.ConvTranspose2d(16, 16, 8, 4, 2), cpu, backward=True)
    assert bf16_kernel_is_faulty(WrongForward(8, 8, 3, padding=1), cpu)
    assert not bf16_kernel_is_faulty(WrongBackward(8, 8, 3, padding=1), cpu)  # inference never runs backward
    assert bf16_kernel_is_faulty(WrongBackward(8, 8, 3, padding=1), cpu, backward=True)


def test_the_check_leaves_the_global_random_state_alone():
    layer = nn.Conv2d(5, 7, 3)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    bf16_kernel_is_faulty(layer, torch.device("cpu"), backward=True)
    assert torch.equal(torch.rand(3), expected)


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), WrongForward(8, 8, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(8, 3, 3, padding=1))


def test_guard_moves_only_the_faulty_layer_to_fp32_and_keeps_its_state():
    net = _net()
    keys = list(net.state_dict())
    with pytest.warns(RuntimeWarning, match=r"WrongForward 8->8 k3 s1: 1 layer\(s\) of Sequential run in fp32"):
        assert guard_bf16(net, "cpu") == ["2"]
    assert [runs_in_fp32(m) for m in net] == [False, False, True, False, False]
    assert list(net.state_dict()) == keys
    x = torch.rand(1, 8, 20, 24)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = net[2](x)
    assert y.dtype == torch.float32
    assert torch.equal(y, F.conv2d(x, net[2].weight, net[2].bias, padding=1))  # exact fp32, no bf16 garbage
    assert guard_bf16(net, "cpu") == []  # once is enough
    assert runs_in_fp32(copy.deepcopy(net)[2])


def test_a_guarded_layer_in_a_bf16_network_keeps_fp32_weights_and_returns_bf16():
    net = _net().bfloat16()
    guard_bf16(net, "cpu")
    assert net[2].weight.dtype == torch.float32 and net[0].weight.dtype == torch.bfloat16
    x = torch.rand(1, 3, 20, 24, dtype=torch.bfloat16)
    assert net(x).dtype == torch.bfloat16
    assert torch.isfinite(net(x).float()).all()


def test_a_guarded_layer_trains_under_autocast():
    net = _net()
    guard_bf16(net, "cpu", backward=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = net(torch.rand(2, 3, 16, 16)).float().square().mean()
    loss.backward()
    assert net[2].weight.grad is not None and net[2].weight.grad.dtype == torch.float32
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


def test_other_devices_are_not_checked(monkeypatch):
    monkeypatch.setattr(bf16_guard, "bf16_kernel_is_faulty", lambda *a, **k: pytest.fail("checked"))
    assert guard_bf16(_net(), torch.device("cuda")) == []


def _feat0_is_faulty(monkeypatch) -> list:
    """Pretend the kernels of 3-channel input convolutions are faulty on this CPU, besides those that are; record
    what is checked."""
    checked = []
    real = bf16_guard.bf16_kernel_is_faulty

    def faulty(layer, device, backward=False):
        checked.append(backward)
        return (isinstance(layer, nn.Conv2d) and layer.in_channels == 3) or real(layer, device, backward)

    monkeypatch.setattr(bf16_guard, "bf16_kernel_is_faulty", faulty)
    return checked


@pytest.mark.filterwarnings("ignore:this CPU's bf16 kernels")
def test_the_fast_path_runs_faulty_layers_in_fp32(monkeypatch):
    checked = _feat0_is_faulty(monkeypatch)
    g = build_generator(preset("tiny").model).eval()
    fast = prepare_generator(g, "cpu", "bf16w-cl")
    assert runs_in_fp32(fast.generator.feat0.conv) and fast.generator.feat0.conv.weight.dtype == torch.float32
    assert not runs_in_fp32(fast.generator.feat1.conv) and fast.generator.feat1.conv.weight.dtype == torch.bfloat16
    assert not runs_in_fp32(g.feat0.conv)  # inference converts a copy
    assert set(checked) == {False}
    x = torch.rand(1, 3, 8, 10)
    nb, fl = [torch.rand(1, 3, 8, 10)] * 2, [torch.zeros(1, 2, 8, 10)] * 2
    with torch.inference_mode():
        assert (fast(x, nb, fl) - g(x, nb, fl)).abs().max() < 0.05
    checked.clear()
    prepare_generator(g, "cpu", "bf16-cl", copy_weights=False)  # training converts the live module
    assert runs_in_fp32(g.feat0.conv) and set(checked) == {True}


@pytest.mark.filterwarnings("ignore:this CPU's bf16 kernels")
def test_the_engine_guards_a_generator_the_fast_path_does_not_know(monkeypatch):
    from iseebetter_lib.inference.engine import fast_model

    _feat0_is_faulty(monkeypatch)
    toy = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 3, 3, padding=1))
    assert fast_model(toy, torch.device("cpu"), "bf16") is None
    assert [runs_in_fp32(m) for m in toy] == [True, False]
    other = copy.deepcopy(_net())
    assert fast_model(other, torch.device("cpu"), "fp32") is None and not any(runs_in_fp32(m) for m in other)


@pytest.mark.filterwarnings("ignore:this CPU's bf16 kernels")
def test_bf16_training_guards_every_network_it_steps(monkeypatch, tmp_path):
    from test_distributed import real_clips

    from iseebetter_lib.data import TrainingDataset
    from iseebetter_lib.training import trainer

    _feat0_is_faulty(monkeypatch)
    guarded = {}

    def spy(module, device, backward=False):
        moved = guard_bf16(module, device, backward)
        guarded[type(module).__name__] = (backward, moved)
        return moved

    monkeypatch.setattr(trainer, "guard_bf16", spy)
    cfg = preset("tiny").override({"train.out_dir": str(tmp_path / "run"), "train.pretrain_steps": 1,
                                   "train.gan_steps": 1, "train.precision": "bf16", "train.device": "cpu",
                                   "data.patch_size": 12, "train.loss.allow_random_vgg": True})
    data = TrainingDataset(cfg.data, "train", seed=cfg.train.seed, clips=real_clips(), progress=False)
    trainer.train(cfg, progress=False, dataset=data)
    assert set(guarded) == {"RBPN", "Discriminator", "GeneratorLoss"}
    assert all(backward for backward, _ in guarded.values())
    assert guarded["Discriminator"][1] == ["net.0"]  # its 3-channel input convolution
    assert guarded["GeneratorLoss"][1]  # the VGG's first convolution
