"""Configuration objects: presets, dotted overrides, files, and one-line errors."""

from __future__ import annotations

import json

import pytest

from iseebetter_lib.config import ConfigError, ExperimentConfig, PRESETS, load_config, preset
from iseebetter_lib.errors import UserError


def test_full_preset_is_the_paper():
    cfg = preset("full")
    assert cfg.model.kwargs() == {
        "num_channels": 3, "base_filter": 256, "feat": 64, "num_stages": 3, "n_resblock": 5, "nFrames": 7,
        "scale_factor": 4, "residual": False, "output_init_scale": 1.0}
    assert (cfg.data.patch_size, cfg.data.nFrames, cfg.data.scale) == (64, 7, 4)
    assert (cfg.train.batch_size, cfg.train.lr, cfg.train.betas, cfg.train.eps, cfg.train.seed) == (
        2, 1e-4, (0.9, 0.999), 1e-8, 123)
    flow = cfg.data.flow
    assert (flow.alpha, flow.ratio, flow.min_width, flow.n_outer, flow.n_inner, flow.n_sor, flow.col_type) == (
        0.012, 0.75, 20, 7, 1, 30, 0)
    assert cfg.train.loss.allow_random_vgg is False


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_validates_and_round_trips(name):
    cfg = preset(name)
    again = ExperimentConfig.from_dict(cfg.to_dict())
    assert again == cfg


def test_presets_are_independent_copies():
    a = preset("compact")
    a.train.loss.weights["tv"] = 5.0
    assert preset("compact").train.loss.weights["tv"] != 5.0


def test_dotted_overrides_coerce_strings_like_cli_flags():
    cfg = preset("tiny").override({"train.lr": "0.002", "data.hflip": "false", "train.loss.weights.tv": "0",
                                   "train.betas": "0.5,0.9", "model.base_filter": "24"})
    assert cfg.train.lr == 0.002 and cfg.data.hflip is False
    assert cfg.train.loss.weights["tv"] == 0.0
    assert cfg.train.betas == (0.5, 0.9)
    assert cfg.model.base_filter == 24


@pytest.mark.parametrize("overrides, fragment", [
    ({"train.lrr": 1}, "unknown configuration key 'train.lrr'"),
    ({"model.scale_factor": 3}, "model.scale_factor=3"),
    ({"data.nFrames": 5}, "data.nFrames=5"),
    ({"train.batch_size": "two"}, "train.batch_size='two'"),
    ({"data.flow.ratio": 1.5}, "flow.ratio=1.5"),
    ({"train.loss.weights.style": 1}, "train.loss.weights.style"),
    ({"data.hflip": "maybe"}, "data.hflip='maybe'"),
])
def test_bad_values_name_the_key(overrides, fragment):
    with pytest.raises(ConfigError) as info:
        preset("tiny").override(overrides)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, UserError)


def test_load_config_from_yaml_and_json(tmp_path):
    yml = tmp_path / "run.yml"
    yml.write_text("train:\n  lr: 0.0003\n  loss:\n    weights: {pixel: 1, perceptual: 0, adversarial: 0, tv: 0}\n"
                   "model:\n  base_filter: 48\n")
    cfg = load_config(yml, "compact", {"train.seed": 7})
    assert cfg.train.lr == 3e-4 and cfg.model.base_filter == 48 and cfg.train.seed == 7
    assert cfg.train.loss.weights == {"pixel": 1.0, "perceptual": 0.0, "adversarial": 0.0, "tv": 0.0}
    js = tmp_path / "run.json"
    js.write_text(json.dumps({"train.gan_steps": 3}))
    assert load_config(js, "tiny").train.gan_steps == 3


def test_load_config_errors_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_config(bad)
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        preset("huge")
