"""RBPN and discriminator: shapes, parameter counts, generalised stages, gradients, input checks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from iseebetter_lib.config import ModelConfig, preset
from iseebetter_lib.models import RBPN, Discriminator, build_generator, convert_original_state_dict
from iseebetter_lib.models.blocks import DownBlock, UpBlock, projection_params

TINY = dict(base_filter=8, feat=4, n_resblock=1)


def _inputs(b: int, n_frames: int, h: int, w: int, seed: int = 0, c: int = 3):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, c, h, w, generator=g)
    nb = torch.rand(b, n_frames - 1, c, h, w, generator=g)
    fl = torch.randn(b, n_frames - 1, 2, h, w, generator=g)
    return x, nb, fl


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def paper_model() -> RBPN:
    torch.manual_seed(0)
    return RBPN()


@pytest.mark.parametrize("scale", [2, 4, 8])
@pytest.mark.parametrize("n_frames", [2, 3, 5])
def test_output_shape_each_scale_and_frame_count(scale: int, n_frames: int) -> None:
    torch.manual_seed(0)
    g = RBPN(nFrames=n_frames, scale_factor=scale, **TINY)
    x, nb, fl = _inputs(2, n_frames, 5, 7)
    with torch.no_grad():
        out = g(x, nb, fl)
    assert out.shape == (2, 3, 5 * scale, 7 * scale)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_projection_units_map_sizes_exactly(scale: int) -> None:
    k, s, p = projection_params(scale)
    x = torch.rand(1, 4, 3, 5)
    up = UpBlock(4, k, s, p)(x)
    assert up.shape == (1, 4, 3 * scale, 5 * scale)
    assert DownBlock(4, k, s, p)(up).shape == x.shape


@pytest.mark.parametrize("stages", [1, 2, 3, 4])
def test_num_stages_sets_projection_units(stages: int) -> None:
    g = RBPN(num_stages=stages, nFrames=3, **TINY)
    ups = [n for n, _ in g.DBPN.named_children() if n.startswith("up")]
    downs = [n for n, _ in g.DBPN.named_children() if n.startswith("down")]
    assert len(ups) == stages and len(downs) == stages - 1
    assert g.DBPN.output.conv.in_channels == stages * 4
    x, nb, fl = _inputs(1, 3, 4, 4)
    with torch.no_grad():
        assert g(x, nb, fl).shape == (1, 3, 16, 16)


def test_sisr_concat_is_newest_first() -> None:
    torch.manual_seed(0)
    d = RBPN(num_stages=2, nFrames=2, **TINY).DBPN
    x = torch.rand(1, 8, 3, 3)
    f = d.feat1(x)
    h1 = d.up1(f)
    h2 = d.up2(d.down1(h1))
    expected = d.output(torch.cat((h2, h1), 1))
    assert torch.allclose(d(x), expected)


def test_paper_parameter_counts(paper_model: RBPN) -> None:
    assert _count(paper_model) == 12_771_943
    assert _count(Discriminator()) == 5_215_425


def test_paper_configuration_forward_backward(paper_model: RBPN) -> None:
    x, nb, fl = _inputs(1, 7, 8, 8)
    out = paper_model(x, nb, fl)
    assert out.shape == (1, 3, 32, 32)
    out.square().mean().backward()
    assert paper_model.feat0.conv.weight.grad is not None
    assert torch.isfinite(paper_model.output.conv.weight.grad).all()
    paper_model.zero_grad(set_to_none=True)


def test_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    g = RBPN(num_stages=3, nFrames=3, n_resblock=2, base_filter=8, feat=4)
    x, nb, fl = _inputs(2, 3, 4, 4)
    g(x, nb, fl).square().mean().backward()
    for name, p in g.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_list_and_stacked_calls_agree() -> None:
    torch.manual_seed(0)
    g = RBPN(nFrames=4, **TINY).eval()
    x, nb, fl = _inputs(2, 4, 4, 6)
    with torch.no_grad():
        a = g(x, nb, fl)
        b = g(x, list(nb.unbind(1)), tuple(fl.unbind(1)))
    assert torch.equal(a, b)


def test_neighbour_order_matters() -> None:
    torch.manual_seed(0)
    g = RBPN(nFrames=3, **TINY).eval()
    x, nb, fl = _inputs(1, 3, 4, 4)
    with torch.no_grad():
        assert not torch.allclose(g(x, nb, fl), g(x, nb.flip(1), fl.flip(1)))


def test_init_is_kaiming_with_zero_bias_and_output_scale() -> None:
    torch.manual_seed(0)
    a = RBPN(nFrames=3, **TINY)
    torch.manual_seed(0)
    b = RBPN(nFrames=3, output_init_scale=0.1, **TINY)
    for name, p in a.named_parameters():
        if name.endswith(".bias"):
            assert torch.count_nonzero(p) == 0, name
        if name.endswith("act.weight"):
            assert torch.allclose(p, torch.full_like(p, 0.25)), name
    w = a.res_feat1[0].conv1.weight  # 8 x 8 x 3 x 3: fan_in 72 -> std sqrt(2/72)
    assert 0.5 * (2 / 72) ** 0.5 < w.std() < 1.5 * (2 / 72) ** 0.5
    assert torch.allclose(b.output.conv.weight, 0.1 * a.output.conv.weight)
    assert torch.equal(b.feat0.conv.weight, a.feat0.conv.weight)


def test_residual_adds_bicubic_of_target() -> None:
    torch.manual_seed(0)
    plain = RBPN(nFrames=3, **TINY).eval()
    res = RBPN(nFrames=3, residual=True, **TINY).eval()
    res.load_state_dict(plain.state_dict())
    x, nb, fl = _inputs(1, 3, 5, 6)
    with torch.no_grad():
        diff = res(x, nb, fl) - plain(x, nb, fl)
    bicubic = F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)
    assert torch.allclose(diff, bicubic, atol=1e-5)


def test_residual_model_starts_near_bicubic() -> None:
    torch.manual_seed(0)
    g = RBPN(nFrames=3, residual=True, output_init_scale=0.0, **TINY).eval()
    x, nb, fl = _inputs(1, 3, 5, 6)
    with torch.no_grad():
        out = g(x, nb, fl)
    assert torch.allclose(out, F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False), atol=1e-6)


def test_build_generator_from_config() -> None:
    cfg = preset("tiny").model
    g = build_generator(cfg)
    assert isinstance(g, RBPN) and g.nFrames == cfg.nFrames and g.residual == cfg.residual
    assert g.DBPN.num_stages == cfg.num_stages
    assert _count(build_generator(ModelConfig(base_filter=32, feat=16, n_resblock=1, nFrames=3))) == 347_115


@pytest.mark.parametrize("call, match", [
    (lambda g, x, nb, fl: g(x, nb[:, :1], fl[:, :1]), r"neighbours: expected 2 \(nFrames - 1\) frames, got 1"),
    (lambda g, x, nb, fl: g(x, list(nb.unbind(1)), list(fl.unbind(1))[:1]), r"flows: expected 2 .*got 1"),
    (lambda g, x, nb, fl: g(x[:, :1], nb, fl), r"target: expected a \(B, 3, h, w\) tensor"),
    (lambda g, x, nb, fl: g(x[0], nb, fl), r"target: expected a \(B, 3, h, w\) tensor, got \(3, 4, 4\)"),
    (lambda g, x, nb, fl: g(x, nb[:, :, :2], fl), r"neighbours\[0\]: expected 3 channels"),
    (lambda g, x, nb, fl: g(x, nb, fl[:, :, :1]), r"flows\[0\]: expected 2 channels"),
    (lambda g, x, nb, fl: g(x, nb[0], fl), r"neighbours: expected a list of 2 .*got a tensor of shape"),
    (lambda g, x, nb, fl: g(x, nb[..., :3], fl), r"neighbours\[0\]: expected shape \(2, 3, 4, 4\) to match"),
    (lambda g, x, nb, fl: g(x, nb, fl[:1]), r"flows\[0\]: expected shape \(2, 2, 4, 4\) to match"),
    (lambda g, x, nb, fl: g(x, "frames", fl), r"neighbours: expected a list of 2"),
])
def test_wrong_calls_raise_one_line_value_error(call, match) -> None:
    g = RBPN(nFrames=3, **TINY)
    x, nb, fl = _inputs(2, 3, 4, 4)
    with pytest.raises(ValueError, match=match) as info:
        call(g, x, nb, fl)
    assert "\n" not in str(info.value)


def test_bad_constructor_arguments() -> None:
    with pytest.raises(ValueError, match="scale_factor"):
        RBPN(scale_factor=3, **TINY)
    with pytest.raises(ValueError, match="nFrames"):
        RBPN(nFrames=1, **TINY)
    with pytest.raises(ValueError, match="num_stages"):
        RBPN(num_stages=0, **TINY)


@pytest.mark.parametrize("size", [(16, 16), (40, 24), (96, 96)])
def test_discriminator_one_probability_per_image(size) -> None:
    torch.manual_seed(0)
    d = Discriminator().eval()
    with torch.no_grad():
        out = d(torch.rand(3, 3, *size))
    assert out.shape == (3,)
    assert ((out > 0) & (out < 1)).all()
    with pytest.raises(ValueError, match=r"images: expected a \(B, 3, H, W\) tensor"):
        d(torch.rand(3, *size))


def test_convert_strips_data_parallel_prefix() -> None:
    g = RBPN(nFrames=3, **TINY)
    sd = g.state_dict()
    wrapped = {"module." + k: v for k, v in sd.items()}
    converted = convert_original_state_dict(wrapped)
    assert list(converted) == list(sd)
    assert all(converted[k] is sd[k] for k in sd)
    assert list(convert_original_state_dict(sd)) == list(sd)
