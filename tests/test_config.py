"""Configuration objects: presets, dotted overrides, files, and one-line errors."""

from __future__ import annotations

import argparse
import json

import pytest

from iseebetter_lib.config import (LOSS_TERMS, PRESETS, ConfigError, ExperimentConfig, InferenceConfig, LossWeights,
                                   build, flatten, preset)
from iseebetter_lib.config.schema import TILE_MIN, parse_tile
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
    assert cfg == build(name)  # `preset` is `build` of the preset alone
    again = build(None, overrides=cfg.to_dict())  # nested sections, as `to_dict` writes them, over the defaults
    assert again == cfg


def test_build_without_a_preset_starts_from_the_schema_defaults():
    assert build(None) == ExperimentConfig()
    assert build(None, overrides={"model": {"nFrames": 3}, "data.nFrames": 3}).model.nFrames == 3


def test_presets_are_independent_copies():
    a = preset("compact")
    a.train.loss.weights.tv = 5.0
    assert preset("compact").train.loss.weights.tv != 5.0


def test_dotted_overrides_coerce_strings_like_cli_flags():
    cfg = preset("tiny").override({"train.lr": "0.002", "data.hflip": "false", "train.loss.weights.tv": "0",
                                   "train.betas": "0.5,0.9", "model.base_filter": "24"})
    assert cfg.train.lr == 0.002 and cfg.data.hflip is False
    assert cfg.train.loss.weights.tv == 0.0
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


def test_build_from_yaml_and_json(tmp_path):
    yml = tmp_path / "run.yml"
    yml.write_text("train:\n  lr: 0.0003\n  loss:\n    weights: {pixel: 1, perceptual: 0, adversarial: 0, tv: 0}\n"
                   "model:\n  base_filter: 48\n")
    cfg = build("compact", yml, {"train.seed": 7})
    assert cfg.train.lr == 3e-4 and cfg.model.base_filter == 48 and cfg.train.seed == 7
    assert cfg.train.loss.weights == LossWeights(pixel=1.0, perceptual=0.0, adversarial=0.0, tv=0.0)
    js = tmp_path / "run.json"
    js.write_text(json.dumps({"train.gan_steps": 3}))
    assert build("tiny", js).train.gan_steps == 3


def test_build_errors_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        build("full", tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        build("full", bad)
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        preset("huge")


# One bad value for every key of ExperimentConfig (type or range): it must fail with a one-line error naming the key.
BAD_VALUES = {
    "model.name": "srcnn", "model.num_channels": 0, "model.base_filter": -1, "model.feat": "many", "model.num_stages": 0,
    "model.n_resblock": 0, "model.nFrames": 1, "model.scale_factor": 3, "model.residual": "perhaps",
    "model.output_init_scale": 0,
    "data.source": "web", "data.root": "", "data.list_file": "", "data.scale": 5, "data.nFrames": 1,
    "data.patch_size": 4, "data.degradation": "BX", "data.future_frames": "sometimes", "data.boundary": "wrap",
    "data.hflip": 2, "data.vflip": "x", "data.rot180": "x", "data.rot90": "x", "data.stills": "x", "data.cache_dir": "",
    "data.num_workers": -1,
    "data.flow.alpha": "nan", "data.flow.ratio": 0.99, "data.flow.min_width": 0, "data.flow.n_outer": 0,
    "data.flow.n_inner": 1001, "data.flow.n_sor": 0, "data.flow.col_type": 2, "data.flow.backend": "raft",
    "train.seed": 1.5, "train.batch_size": 0, "train.pretrain_steps": -1, "train.gan_steps": -1,
    "train.lr": "abc", "train.d_lr": -1e-4, "train.betas": "0.9,1.0", "train.eps": 0, "train.lr_decay_at": 1.5,
    "train.grad_clip": -1, "train.checkpoint_every": -1, "train.keep_checkpoints": -1, "train.log_every": 0,
    "train.out_dir": "", "train.init_weights": "", "train.device": "tpu", "train.precision": "fp8",
    "train.compile": "x",
    "train.loss.pixel": "l3", "train.loss.perceptual": "vgg11", "train.loss.adversarial": "hinge",
    "train.loss.tv": "cube", "train.loss.discriminator": "wgan", "train.loss.imagenet_norm": "x",
    "train.loss.weights.pixel": -1, "train.loss.weights.perceptual": "inf", "train.loss.weights.adversarial": "x",
    "train.loss.weights.tv": "abc", "train.loss.vgg_weights": "", "train.loss.allow_random_vgg": "x",
}


def test_the_bad_value_table_covers_every_key():
    assert set(BAD_VALUES) == set(flatten(ExperimentConfig().to_dict()))


@pytest.mark.parametrize("key", sorted(BAD_VALUES))
def test_every_key_rejects_a_bad_value_by_name(key):
    with pytest.raises(ConfigError) as info:
        preset("tiny").override({key: BAD_VALUES[key]})
    message = str(info.value)
    assert message.startswith(f"{key}=") and "\n" not in message


@pytest.mark.parametrize("key, value", [
    ("train.lr", float("nan")), ("train.lr", float("inf")), ("train.eps", -1e-8), ("train.betas", (0.9, -0.1)),
    ("train.grad_clip", float("inf")), ("loss.weights.tv", -2e-8), ("loss.weights.pixel", float("nan")),
    ("data.flow.alpha", 1e4), ("data.flow.ratio", 0.05), ("data.flow.min_width", 5000), ("data.flow.n_sor", 10001),
    ("train.seed", -1), ("train.batch_size", True), ("train.lr", True), ("data.flow", 3),
])
def test_ranges_and_types(key, value):
    with pytest.raises(ConfigError, match=key.replace("loss.", "train.loss.", 1) if key.startswith("loss.") else key):
        preset("tiny").override({key: value})


def test_validation_also_catches_values_set_directly():
    cfg = preset("tiny")
    cfg.train.log_every = 0
    with pytest.raises(ConfigError, match=r"^train.log_every=0 is invalid"):
        cfg.validate()
    cfg = preset("tiny")
    cfg.train.loss.weights.adversarial = -1.0
    with pytest.raises(ConfigError, match=r"^train.loss.weights.adversarial=-1.0"):
        cfg.validate()


INFERENCE_BAD = {"future_frames": "x", "boundary": "wrap", "precision": "fp8", "tile": "0", "device": "gpu",
                 "flow": None}


def test_inference_config_validates_every_key():
    assert set(INFERENCE_BAD) == {f for f in InferenceConfig().__dataclass_fields__}
    for key, value in INFERENCE_BAD.items():
        cfg = InferenceConfig()
        if key == "flow":
            cfg.flow.n_outer, key = 0, "flow.n_outer"
        else:
            setattr(cfg, key, value)
        with pytest.raises(ConfigError, match=rf"^inference\.{key}="):
            cfg.validate()
    for tile in (None, "auto", "256"):
        InferenceConfig(tile=tile, device="cuda:1").validate()


@pytest.mark.parametrize("tile, ok", [(None, True), ("auto", True), (str(TILE_MIN), True), (TILE_MIN, True),
                                      (str(TILE_MIN - 1), False), (1, False), ("0", False), ("-5", False),
                                      ("big", False), (True, False)])
def test_one_tile_rule_for_the_schema_the_engine_and_the_command_line(tile, ok):
    """The schema, `parse_tile` (the engine's and both commands' parser) and the tiling's search agree."""
    from iseebetter_lib.inference import engine, tiling, upscaling

    assert engine.parse_tile is upscaling.parse_tile is parse_tile
    valid = InferenceConfig(tile=tile)
    if ok:
        valid.validate()
        assert parse_tile(tile) in (None, "auto", TILE_MIN)
    else:
        with pytest.raises(ConfigError, match=r"^inference\.tile="):
            valid.validate()
        with pytest.raises(UserError, match=r"^--tile: "):
            parse_tile(tile)
    with pytest.raises(ConfigError, match=rf"^--tile: 4 is too small \(at least {TILE_MIN} LR pixels\)$"):
        parse_tile("4")
    smallest = tiling.padded_pixels(1000, 1000, TILE_MIN, 0)  # the automatic choice goes no lower either
    assert tiling.choose_tile(1000, 1000, 1.0, smallest, overlap=0) == TILE_MIN
    with pytest.raises(UserError, match=f"a {TILE_MIN}x{TILE_MIN} tile"):
        tiling.choose_tile(1000, 1000, 1.0, smallest - 1, overlap=0)


def test_loss_shorthand_and_weight_forms_everywhere(tmp_path):
    cfg = preset("tiny").override({"loss.weights.tv": "0", "loss.pixel": "l1"})
    assert (cfg.train.loss.weights.tv, cfg.train.loss.pixel) == (0.0, "l1")
    # The mapping form (book.yml ablation variants) sets the weights it names; a JSON object works from the CLI.
    cfg = preset("tiny").override({"train.loss.weights": {"perceptual": 0, "adversarial": 0}})
    assert cfg.train.loss.weights == LossWeights(pixel=1.0, perceptual=0.0, adversarial=0.0, tv=2e-8)
    assert preset("tiny").override({"loss.weights": '{"tv": 1}'}).train.loss.weights.tv == 1.0
    yml = tmp_path / "short.yml"
    yml.write_text("loss:\n  weights: {tv: 0.5}\n")
    assert build("tiny", yml).train.loss.weights.tv == 0.5
    assert build("tiny", overrides={"loss.tv": "abs"}).train.loss.tv == "abs"
    assert list(LossWeights().as_dict()) == list(LOSS_TERMS)


def test_build_defaults_to_the_paper_and_returns_fresh_copies():
    a = build("compact", overrides={"train.lr": 3e-4})
    assert a.train.lr == 3e-4 and build("compact").train.lr != 3e-4
    assert build().model == preset("full").model


def _options(command: str) -> dict[str, argparse.Action]:
    from iseebetter_lib.cli import build_parser

    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {s: a for a in subparsers.choices[command]._actions for s in a.option_strings}


def test_command_line_choices_are_the_declared_lists():
    """Every option that names a configuration list offers exactly that list (declared once, in config.schema)."""
    from iseebetter_lib.config import BOUNDARIES, DEGRADATIONS, DEVICES, EVAL_DATASETS, PRECISIONS

    train, evaluate, upscale = _options("train"), _options("evaluate"), _options("upscale")
    assert tuple(train["--precision"].choices) == PRECISIONS and tuple(train["--device"].choices) == DEVICES
    assert tuple(evaluate["--precision"].choices) == PRECISIONS
    assert tuple(evaluate["--boundary"].choices) == BOUNDARIES
    assert tuple(evaluate["--dataset"].choices) == EVAL_DATASETS
    assert tuple(evaluate["--degradation"].choices) == DEGRADATIONS
    # upscale checks its values itself (one-line errors), and names the same lists in its help
    assert upscale["--precision"].metavar == "|".join(PRECISIONS)
    assert upscale["--boundary"].metavar == "|".join(BOUNDARIES)
