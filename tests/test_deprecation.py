"""Renamed public names keep working for a while: the old name warns `DeprecationWarning` naming the new one and
gives the very object the new name gives; a name that never existed is still an AttributeError."""

from __future__ import annotations

import importlib

import pytest

RENAMED = [  # (module, old name, module of the new name, new name)
    ("iseebetter_lib.training.steps", "Nets", "iseebetter_lib.training.steps", "TrainingParts"),
    ("iseebetter_lib.data", "load_clips", "iseebetter_lib.data", "load_training_clips"),
    ("iseebetter_lib.data.dataset", "load_clips", "iseebetter_lib.data.dataset", "load_training_clips"),
    ("iseebetter_lib.book.runner", "repo_root", "iseebetter_lib.paths", "book_root"),
    ("iseebetter_lib.book.figures", "book_root", "iseebetter_lib.paths", "book_root"),
    ("iseebetter_lib.inference.tiling", "MIN_TILE", "iseebetter_lib.config.schema", "TILE_MIN"),
    ("iseebetter_lib.models.weights", "load_generator_file", "iseebetter_lib.models.checkpoints",
     "load_generator_file"),
    ("iseebetter_lib.models.weights", "LoadedGenerator", "iseebetter_lib.models.checkpoints", "LoadedGenerator"),
]


@pytest.mark.parametrize("module, old, new_module, new", RENAMED, ids=lambda v: str(v))
def test_an_old_name_warns_and_gives_the_new_object(module, old, new_module, new):
    with pytest.warns(DeprecationWarning, match=rf"{module}\.{old} is deprecated: use {new_module}\.{new}"):
        found = getattr(importlib.import_module(module), old)
    assert found is getattr(importlib.import_module(new_module), new)


def test_an_unknown_name_is_still_an_attribute_error():
    from iseebetter_lib.training import steps

    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        steps.Nothing  # noqa: B018


def test_the_other_ways_to_make_a_configuration_warn_and_agree_with_build(tmp_path):
    from iseebetter_lib.config import ExperimentConfig, build, load_config

    yml = tmp_path / "run.yml"
    yml.write_text("train: {lr: 0.0003}\n")
    with pytest.warns(DeprecationWarning, match=r"load_config is deprecated: use iseebetter_lib\.config\.build"):
        assert load_config(yml, "tiny", {"train.seed": 7}) == build("tiny", yml, {"train.seed": 7})
    values = build("tiny").to_dict()
    with pytest.warns(DeprecationWarning, match=r"from_dict is deprecated: use iseebetter_lib\.config\.build"):
        assert ExperimentConfig.from_dict(values) == build(None, overrides=values) == build("tiny")
