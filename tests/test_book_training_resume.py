"""A stopped chapter picks up where it stopped: `run_training` reuses a finished run of the same configuration and
starting weights, resumes an unfinished one exactly, and starts afresh when either differs."""

from __future__ import annotations

import pytest
import torch

from iseebetter_lib.book import training_runs
from iseebetter_lib.config import preset
from iseebetter_lib.data import TrainingDataset
from iseebetter_lib.models.checkpoints import load_checkpoint
from iseebetter_lib.training import train
from test_distributed import real_clips


def _cfg(out_dir, cache, **overrides):
    values = {"train.out_dir": str(out_dir), "data.cache_dir": str(cache), "data.patch_size": 12,
              "train.device": "cpu", "train.pretrain_steps": 4, "train.gan_steps": 0, "train.log_every": 1,
              "train.checkpoint_every": 2}
    values.update(overrides)
    return preset("tiny").override(values)


def _data(cfg, clips):
    return TrainingDataset(cfg.data, "train", seed=cfg.train.seed, clips=clips, progress=False)


def _weights(path):
    return load_checkpoint(path)["generator"]


def test_a_finished_run_is_reused_and_a_changed_one_trained_afresh(tmp_path, monkeypatch):
    clips = real_clips()
    cfg = _cfg(tmp_path / "run", tmp_path / "cache")
    first = training_runs.run_training(cfg, dataset=_data(cfg, clips))
    assert first["steps"] == 4 and first["resumed_at_step"] is None and len(first["history"]) == 4

    calls = []
    monkeypatch.setattr("iseebetter_lib.training.train", lambda *a, **k: calls.append(a) or 1 / 0)
    assert training_runs.run_training(cfg) == first and calls == []  # reused: train is never called
    monkeypatch.undo()

    changed = _cfg(tmp_path / "run", tmp_path / "cache", **{"train.lr": 5e-4})
    again = training_runs.run_training(changed, dataset=_data(changed, clips))
    assert again["config"]["train"]["lr"] == 5e-4 and again["resumed_at_step"] is None


def test_new_starting_weights_under_the_same_path_are_not_mistaken_for_the_old(tmp_path):
    clips = real_clips()
    init = tmp_path / "init.pt"
    for name, seed in (("base", 1), ("base2", 7)):
        base = _cfg(tmp_path / name, tmp_path / "cache", **{"train.seed": seed})
        training_runs.run_training(base, dataset=_data(base, clips))
    init.write_bytes((tmp_path / "base" / "generator.pt").read_bytes())
    cfg = _cfg(tmp_path / "tuned", tmp_path / "cache", **{"train.init_weights": str(init)})
    first = training_runs.run_training(cfg, dataset=_data(cfg, clips))
    init.write_bytes((tmp_path / "base2" / "generator.pt").read_bytes())  # the same path, another model
    second = training_runs.run_training(cfg, dataset=_data(cfg, clips))
    assert first["init_digest"] and second["init_digest"] != first["init_digest"]
    assert second["resumed_at_step"] is None


def test_a_stopped_chapter_resumes_its_run_bit_for_bit(tmp_path, monkeypatch):
    clips = real_clips()
    straight_cfg = _cfg(tmp_path / "straight", tmp_path / "cache")
    straight = training_runs.run_training(straight_cfg, dataset=_data(straight_cfg, clips))

    cfg = _cfg(tmp_path / "split", tmp_path / "cache")

    def stopped(*args, **kwargs):  # the kernel dies after step 2's checkpoint
        train(*args, **kwargs, max_steps=2)
        raise KeyboardInterrupt

    monkeypatch.setattr("iseebetter_lib.training.train", stopped)
    with pytest.raises(KeyboardInterrupt):
        training_runs.run_training(cfg, dataset=_data(cfg, clips))
    monkeypatch.undo()
    resumed = training_runs.run_training(cfg, dataset=_data(cfg, clips))
    assert resumed["resumed_at_step"] == 2 and resumed["steps"] == 4
    assert [r["step"] for r in resumed["history"]] == [1, 2, 3, 4]
    assert resumed["seconds"] > 0
    a, b = _weights(straight["checkpoint"]), _weights(resumed["checkpoint"])
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
