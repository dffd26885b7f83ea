"""The "zero" flow backend (the ablation "flow replaced by zeros"): zeros of the right shape, never mixed with real
flows in the on-disk cache, saved with a trained generator and honoured by evaluation without running pyflow."""

from __future__ import annotations

import json

import numpy as np
import pytest

from iseebetter_lib import flow as F
from iseebetter_lib.config import FlowConfig, preset
from iseebetter_lib.data import Clip, FlowCache, TrainingDataset
from iseebetter_lib.errors import UserError
from iseebetter_lib.models.checkpoints import load_generator_file
from iseebetter_lib.training import train
from synthetic import moving_clip, write_frames
from test_evaluation import cli

ZERO = FlowConfig(backend="zero")


def test_compute_flow_zero_shape_dtype_and_validation():
    rng = np.random.default_rng(0)
    im1, im2 = (rng.integers(0, 256, (20, 30, 3), dtype=np.uint8) for _ in range(2))
    assert "zero" in F.available_backends()
    flow = F.compute_flow(im1, im2, ZERO)
    assert flow.shape == (2, 20, 30) and flow.dtype == np.float32 and not flow.any()
    assert F.compute_flow(im1, im2).any()  # pyflow on the same pair: not all zero
    window = F.compute_window_flows(im1, [im2, im1, im2], ZERO)
    assert window.shape == (3, 2, 20, 30) and window.dtype == np.float32 and not window.any()
    with pytest.raises(UserError, match="im2: size"):
        F.compute_flow(im1, im2[:10], ZERO)
    with pytest.raises(UserError, match=r"neighbours\[1\]"):
        F.compute_window_flows(im1, [im2, im2[:10]], ZERO)
    with pytest.raises(UserError, match="NaN"):
        F.compute_flow(np.full((4, 4, 3), np.nan), im2[:4, :4], ZERO)


def _clips():
    return [Clip("a", moving_clip(4, 64, seed=1), 4, "BI"), Clip("b", moving_clip(4, 64, seed=2), 4, "BI")]


def _cfg(out_dir, cache, backend):
    return preset("tiny").override({"train.out_dir": str(out_dir), "data.cache_dir": str(cache),
                                    "data.patch_size": 12, "data.flow.backend": backend, "train.device": "cpu",
                                    "train.pretrain_steps": 2, "train.gan_steps": 0, "train.log_every": 1})


def _entries(cache):
    return sorted(p.name for p in (cache / "flows").rglob("*.f16"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two tiny runs of 2 steps into one cache folder: real flows (pyflow) first, then zero flows."""
    root = tmp_path_factory.mktemp("zero")
    cache = root / "cache"
    runs = {}
    for backend in ("pyflow", "zero"):
        cfg = _cfg(root / backend, cache, backend)
        data = TrainingDataset(cfg.data, "train", seed=cfg.train.seed, clips=_clips(), progress=False)
        runs[backend] = (cfg, data, train(cfg, progress=False, dataset=data))
        runs[backend + "_entries"] = _entries(cache)
    return root, cache, runs


def test_zero_flows_never_touch_the_flow_cache(trained):
    _, cache, runs = trained
    assert runs["pyflow_entries"] and runs["zero_entries"] == runs["pyflow_entries"]  # zero wrote nothing
    (_, real, _), (_, zero, _) = runs["pyflow"], runs["zero"]
    assert all(not zero[i]["flows"].any() for i in range(len(zero)))  # never read the real entries
    assert any(real[i]["flows"].any() for i in range(len(real)))
    frames = _clips()[0].lr
    keys = {b: FlowCache(cache, FlowConfig(backend=b)).key("a", frames, 1, 2) for b in ("pyflow", "dis", "zero")}
    assert len(set(keys.values())) == 3  # the backend is part of the key
    assert FlowCache(cache, ZERO).build([("a", frames, [(1, [0, 2])])], progress=False) == 0
    assert _entries(cache) == runs["pyflow_entries"]


def test_generator_trained_on_zero_flow_is_evaluated_with_zero_flow(trained, tmp_path, monkeypatch):
    import pyflow

    _, _, runs = trained
    weights = runs["zero"][2].generator
    assert load_generator_file(weights).inference_cfg.flow.backend == "zero"
    assert load_generator_file(runs["pyflow"][2].generator).inference_cfg.flow.backend == "pyflow"

    def refuse(*args, **kwargs):
        raise AssertionError("pyflow called for a generator trained on zero flows")

    monkeypatch.setattr(pyflow, "coarse2fine_flow", refuse)
    monkeypatch.setattr(pyflow, "coarse2fine_flow_batch", refuse)
    write_frames(tmp_path / "clips" / "c", moving_clip(3, 48, seed=3))
    out = tmp_path / "zero.json"
    assert cli(["evaluate", "--dataset", "folder", "--root", str(tmp_path / "clips"), "--weights", str(weights),
                 "--json", str(out), "--quiet"]) == 0
    result = json.loads(out.read_text())
    assert result["inference_config"]["flow"]["backend"] == "zero" and result["clips"]["c"]["frames"] == 3
    with pytest.raises(AssertionError, match="pyflow called"):  # the guard is real: a pyflow generator trips it
        cli(["evaluate", "--dataset", "folder", "--root", str(tmp_path / "clips"),
              "--weights", str(runs["pyflow"][2].generator), "--quiet"])


def test_zero_backend_in_the_config_schema():
    FlowConfig(backend="zero").validate()
    with pytest.raises(Exception, match="flow.backend"):
        FlowConfig(backend="zeros").validate()
