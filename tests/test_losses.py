"""Each loss term on hand-computable inputs; VGG loading from torchvision-layout files; the combined losses."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from iseebetter_lib.config import LossConfig, LossWeights
from iseebetter_lib.errors import UserError
from iseebetter_lib.losses import (AdversarialLoss, DiscriminatorLoss, GeneratorLoss, PerceptualLoss, PixelLoss,
                                   TVLoss)
from iseebetter_lib.vgg import ENV_VAR, HUB_FILES, VGGFeatures, load_vgg_features


@pytest.fixture(autouse=True)
def _no_vgg_weights(monkeypatch, tmp_path: Path) -> Path:
    """No weights unless a test provides them: an empty hub dir and no environment variable."""
    hub = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    monkeypatch.delenv(ENV_VAR, raising=False)
    return hub


def _ramp(b: int = 2, c: int = 3, h: int = 5, w: int = 6, a: float = 0.5, k: float = -0.25) -> torch.Tensor:
    """x[b, c, i, j] = a * i + k * j: every vertical difference is a, every horizontal one k."""
    i = torch.arange(h, dtype=torch.float32).view(h, 1)
    j = torch.arange(w, dtype=torch.float32).view(1, w)
    return (a * i + k * j).expand(b, c, h, w).clone()


def _torchvision_like_vgg(kind: str, seed: int = 0, with_classifier: bool = True) -> dict[str, torch.Tensor]:
    """A random state dict with torchvision's key names (a small stand-in classifier: its keys must be ignored)."""
    torch.manual_seed(seed)
    sd = {k: v.clone() for k, v in VGGFeatures(kind).state_dict().items()}
    n = {"vgg16": 31, "vgg19": 37}[kind]  # torchvision's full features has one more (a max-pool) for vgg19
    assert all(int(k.split(".")[1]) < n for k in sd)
    if with_classifier:
        sd.update({"classifier.0.weight": torch.zeros(4, 8), "classifier.0.bias": torch.zeros(4)})
    return sd


def test_pixel_mse_and_l1_of_constants() -> None:
    sr, hr = torch.full((2, 3, 4, 4), 0.5), torch.full((2, 3, 4, 4), 0.2)
    assert PixelLoss("mse")(sr, hr).item() == pytest.approx(0.09)
    assert PixelLoss("l1")(sr, hr).item() == pytest.approx(0.3)
    assert PixelLoss("mse", weight=2.0)(sr, hr).item() == pytest.approx(0.18)


def test_tv_of_a_ramp() -> None:
    x = _ramp(a=0.5, k=-0.25)
    assert TVLoss("abs")(x).item() == pytest.approx(0.5 + 0.25)
    # the original's squared TV: 2 * (mean dy^2 + mean dx^2)
    assert TVLoss("sq")(x).item() == pytest.approx(2 * (0.25 + 0.0625))
    assert TVLoss("sq", weight=2e-8)(x).item() == pytest.approx(2e-8 * 2 * 0.3125)
    assert TVLoss("abs")(torch.ones(1, 3, 4, 4)).item() == 0.0


def test_tv_sq_is_the_srgan_port_formula() -> None:
    torch.manual_seed(0)
    x = torch.rand(3, 2, 5, 7)
    b, c, h, w = x.shape
    h_tv = sum(float((x[n, ch, i + 1, j] - x[n, ch, i, j]) ** 2)
               for n in range(b) for ch in range(c) for i in range(h - 1) for j in range(w))
    w_tv = sum(float((x[n, ch, i, j + 1] - x[n, ch, i, j]) ** 2)
               for n in range(b) for ch in range(c) for i in range(h) for j in range(w - 1))
    expected = 2 * (h_tv / (c * (h - 1) * w) + w_tv / (c * h * (w - 1))) / b
    assert TVLoss("sq")(x).item() == pytest.approx(expected, rel=1e-5)


def test_adversarial_with_known_scores() -> None:
    d_sr = torch.tensor([0.5, 0.25])
    assert AdversarialLoss("mean")(d_sr).item() == pytest.approx(-0.375)
    assert AdversarialLoss("log")(d_sr).item() == pytest.approx((math.log(2) + math.log(4)) / 2)
    assert AdversarialLoss("log", weight=1e-3)(torch.ones(3)).item() == pytest.approx(0.0)
    clamped = AdversarialLoss("log")(torch.zeros(2, requires_grad=True))
    assert math.isfinite(clamped.item()) and clamped.item() == pytest.approx(-math.log(1e-8), rel=1e-4)


def test_discriminator_loss_variants() -> None:
    d_hr, d_sr = torch.tensor([0.9, 0.7]), torch.tensor([0.2, 0.4])
    original = DiscriminatorLoss(LossConfig(discriminator="original"))(d_hr, d_sr)
    assert original.item() == pytest.approx(1 - 0.8 + 0.3)
    bce = DiscriminatorLoss(LossConfig(discriminator="bce"))(d_hr, d_sr)
    expected = -(math.log(0.9) + math.log(0.7)) / 2 - (math.log(0.8) + math.log(0.6)) / 2
    assert bce.item() == pytest.approx(expected)
    assert bce.item() == pytest.approx((F.binary_cross_entropy(d_hr, torch.ones(2))
                                        + F.binary_cross_entropy(d_sr, torch.zeros(2))).item())
    assert math.isfinite(DiscriminatorLoss(LossConfig(discriminator="bce"))(torch.zeros(2), torch.ones(2)).item())


def test_generator_loss_without_perceptual_never_loads_vgg() -> None:
    cfg = LossConfig(pixel="mse", adversarial="mean", tv="abs",
                     weights=LossWeights(pixel=1.0, perceptual=0.0, adversarial=0.5, tv=0.1))
    loss_fn = GeneratorLoss(cfg)  # no weights anywhere and allow_random False: must not raise
    assert loss_fn.perceptual is None
    sr, hr = _ramp(a=0.5, k=0.0).requires_grad_(), torch.zeros(2, 3, 5, 6)
    total, terms = loss_fn(sr, hr, d_sr=torch.tensor([0.5, 0.25]))
    pixel = F.mse_loss(sr, hr).item()
    assert terms["pixel"].item() == pytest.approx(pixel)
    assert terms["perceptual"].item() == 0.0
    assert terms["adversarial"].item() == pytest.approx(0.5 * -0.375)
    assert terms["tv"].item() == pytest.approx(0.1 * 0.5)
    assert total.item() == pytest.approx(sum(t.item() for t in terms.values()))
    total.backward()
    assert sr.grad is not None
    _, no_adv = loss_fn(sr, hr)  # pixel pre-training: no discriminator scores
    assert no_adv["adversarial"].item() == 0.0


def test_generator_loss_zero_weight_skips_term() -> None:
    cfg = LossConfig(weights=LossWeights(pixel=1.0, perceptual=0.0, adversarial=0.0, tv=0.0))
    loss_fn = GeneratorLoss(cfg)
    assert loss_fn.adversarial is None and loss_fn.tv is None
    sr, hr = torch.full((1, 3, 4, 4), 0.5), torch.zeros(1, 3, 4, 4)
    total, terms = loss_fn(sr, hr, d_sr=torch.tensor([0.1]))
    assert total.item() == pytest.approx(0.25)
    assert set(terms) == {"pixel", "perceptual", "adversarial", "tv"}
    assert terms["adversarial"].item() == 0.0 and terms["tv"].item() == 0.0


def test_missing_vgg_weights_is_a_user_error(_no_vgg_weights: Path) -> None:
    with pytest.raises(UserError, match=ENV_VAR) as info:
        load_vgg_features("vgg19")
    assert HUB_FILES["vgg19"] in str(info.value) and str(_no_vgg_weights) in str(info.value)
    with pytest.raises(UserError, match="VGG weights file not found"):
        load_vgg_features("vgg16", path=_no_vgg_weights / "nothing.pth")
    with pytest.raises(UserError, match="vgg16 weights not found"):
        GeneratorLoss(LossConfig())  # default perceptual weight is non-zero


@pytest.mark.parametrize("kind", ["vgg16", "vgg19"])
def test_vgg_loads_torchvision_layout_from_path(tmp_path: Path, kind: str) -> None:
    sd = _torchvision_like_vgg(kind)
    path = tmp_path / f"{kind}.pth"
    torch.save(sd, path)
    model = load_vgg_features(kind, path=path)
    for key, value in model.state_dict().items():
        assert torch.equal(value, sd[key]), key
    assert all(not p.requires_grad for p in model.parameters())
    assert not model.training and not model.train().training


def test_vgg_features_only_env_var_and_hub(tmp_path: Path, monkeypatch, _no_vgg_weights: Path) -> None:
    sd = _torchvision_like_vgg("vgg16", seed=1, with_classifier=False)
    bare = {k[len("features."):]: v for k, v in sd.items()}  # as `vgg.features.state_dict()` writes it
    path = tmp_path / "features.pth"
    torch.save(bare, path)
    monkeypatch.setenv(ENV_VAR, str(path))
    first = load_vgg_features("vgg16")
    assert torch.equal(first.features[0].weight, sd["features.0.weight"])
    monkeypatch.delenv(ENV_VAR)
    hub_file = _no_vgg_weights / "checkpoints" / HUB_FILES["vgg16"]
    hub_file.parent.mkdir(parents=True)
    torch.save(sd, hub_file)
    assert torch.equal(load_vgg_features("vgg16").features[28].weight, sd["features.28.weight"])


def test_vgg_rejects_wrong_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="cannot read VGG weights"):
        load_vgg_features("vgg16", path=bad)
    torch.save(_torchvision_like_vgg("vgg16"), tmp_path / "v16.pth")
    with pytest.raises(UserError, match="vgg19"):
        load_vgg_features("vgg19", path=tmp_path / "v16.pth")
    with pytest.raises(UserError, match="vgg11"):
        load_vgg_features("vgg11")


def test_random_vgg_only_when_allowed_and_warns() -> None:
    with pytest.warns(UserWarning, match="RANDOM"):
        model = load_vgg_features("vgg19", allow_random=True)
    assert len(model.features) == 36 and isinstance(model.features[-1], torch.nn.ReLU)  # relu5_4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserError):
            load_vgg_features("vgg19")


@pytest.mark.parametrize("imagenet_norm", [False, True])
def test_perceptual_is_mse_of_vgg_features(imagenet_norm: bool) -> None:
    torch.manual_seed(0)
    vgg = VGGFeatures("vgg19")
    loss = PerceptualLoss("vgg19", weight=0.5, imagenet_norm=imagenet_norm, vgg=vgg)
    sr = torch.rand(1, 3, 16, 16, requires_grad=True)
    hr = torch.rand(1, 3, 16, 16)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    prep = (lambda t: (t - mean) / std) if imagenet_norm else (lambda t: t)
    expected = 0.5 * F.mse_loss(vgg(prep(sr)), vgg(prep(hr)))
    value = loss(sr, hr)
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss(hr, hr).item() == 0.0
    value.backward()
    assert sr.grad is not None and sr.grad.abs().sum() > 0
    assert all(p.grad is None for p in vgg.parameters())
    with pytest.raises(ValueError, match="at least 16x16"):
        loss(sr[..., :8, :8], hr[..., :8, :8])


def test_generator_loss_four_terms_with_random_vgg() -> None:
    cfg = LossConfig(perceptual="vgg16", allow_random_vgg=True)
    with pytest.warns(UserWarning, match="RANDOM"):
        loss_fn = GeneratorLoss(cfg)
    torch.manual_seed(0)
    sr, hr = torch.rand(2, 3, 32, 32, requires_grad=True), torch.rand(2, 3, 32, 32)
    total, terms = loss_fn(sr, hr, d_sr=torch.tensor([0.3, 0.6]))
    assert terms["adversarial"].item() == pytest.approx(1e-3 * -0.45)
    assert terms["perceptual"].item() > 0
    assert total.item() == pytest.approx(sum(t.item() for t in terms.values()), rel=1e-6)
    total.backward()
    assert sr.grad is not None


# The four terms' values on a fixed input, written down from the implementation before the loss-term registry
# (GeneratorLoss naming each term): iterating over LOSS_TERMS must give the same numbers, bit for bit.
BEFORE_REGISTRY = {
    (): (0.1657530963420868, [0.16659800708293915, 2.123405238307896e-07, -0.000845132046379149,
                              1.3359710671068115e-08], 0.16659823060035706),
    (("pixel", "l1"), ("adversarial", "log"), ("tv", "abs"), ("perceptual", "vgg19"), ("imagenet_norm", True)): (
        0.3330763280391693, [0.3329060971736908, 7.943230002638302e-07, 0.00016943881928455085,
                             1.3365540674215026e-08], 0.33290690183639526),
}


@pytest.mark.parametrize("variant", list(BEFORE_REGISTRY))
def test_registered_terms_give_the_numbers_of_the_named_terms(variant) -> None:
    torch.manual_seed(0)
    sr, hr = torch.rand(2, 3, 48, 48), torch.rand(2, 3, 48, 48)
    d_sr = torch.rand(2) * 0.9 + 0.05
    torch.manual_seed(1)  # the random VGG features
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss_fn = GeneratorLoss(LossConfig(allow_random_vgg=True, **dict(variant)))
    total, terms = loss_fn(sr, hr, d_sr)
    expected_total, expected_terms, expected_pretrain = BEFORE_REGISTRY[variant]
    assert list(terms) == ["pixel", "perceptual", "adversarial", "tv"]
    assert total.item() == expected_total and [v.item() for v in terms.values()] == expected_terms
    assert loss_fn(sr, hr, None)[0].item() == expected_pretrain  # no D(SR): the adversarial term is 0
