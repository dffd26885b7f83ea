"""DBPN, the single-frame control (RBPN's single-image branch alone), through the same trainer, engine and files
as RBPN; and old generator files (no `model.name`) loading as RBPN."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from iseebetter_lib.cli import main
from iseebetter_lib.config import ConfigError, ModelConfig, preset
from iseebetter_lib.data import TrainingDataset
from iseebetter_lib.inference import tiling
from iseebetter_lib.inference.engine import Engine
from iseebetter_lib.models import DBPN, RBPN, build_generator
from iseebetter_lib.models.fastpath import prepare_generator, supports_fast_path
from iseebetter_lib.models.checkpoints import (generator_file_state, load_checkpoint, load_generator_file,
                                          save_checkpoint)
from iseebetter_lib.training import train
from test_registry import _evaluate, toy_clips, toy_frames

DBPN_KEYS = {"model.name": "dbpn", "model.nFrames": 1, "data.nFrames": 1}


def _cfg(tmp_path, name="run", **overrides):
    values = {"train.out_dir": str(tmp_path / name), "data.cache_dir": str(tmp_path / "cache"),
              "data.patch_size": 12, "train.device": "cpu", "train.pretrain_steps": 6, "train.gan_steps": 0,
              "train.lr": 1e-3, "train.log_every": 1, **DBPN_KEYS}
    values.update(overrides)
    return preset("tiny").override(values)


def _data(cfg):
    return TrainingDataset(cfg.data, "train", seed=cfg.train.seed, clips=toy_clips(cfg.data, "train"),
                           progress=False)


def test_dbpn_is_rbpns_single_image_branch_with_its_own_output() -> None:
    cfg = dataclasses.replace(preset("tiny").model, **{k.split(".")[1]: v for k, v in DBPN_KEYS.items()
                                                       if k.startswith("model.")})
    g = build_generator(cfg)
    assert isinstance(g, DBPN)
    rbpn = build_generator(preset("tiny").model)
    shared = {k: v.shape for k, v in rbpn.state_dict().items() if k.startswith(("feat0.", "DBPN."))}
    assert shared and {k: v.shape for k, v in g.state_dict().items() if k in shared} == shared
    x = torch.rand(2, 3, 10, 12)
    out = g(x, None, None)
    assert out.shape == (2, 3, 40, 48)
    assert torch.equal(g(x, torch.rand(2, 4, 3, 10, 12), torch.rand(2, 4, 2, 10, 12)), out)  # ignored
    expected = g.output(g.DBPN(g.feat0(x))) + torch.nn.functional.interpolate(
        x, scale_factor=4, mode="bicubic", align_corners=False)
    assert torch.allclose(out, expected, atol=0, rtol=0)


def test_the_frame_rule_is_the_generators() -> None:
    with pytest.raises(ConfigError, match=r"model.nFrames=3 is invalid: expected 1 for model.name=.dbpn."):
        preset("tiny").override({"model.name": "dbpn"})
    with pytest.raises(ConfigError, match=r"model.nFrames=1 is invalid: expected an integer in \[2, 64\]"):
        preset("tiny").override({"model.nFrames": 1, "data.nFrames": 1})
    with pytest.raises(ConfigError, match="model.name='srcnn' is invalid: expected a registered generator"):
        preset("tiny").override({"model.name": "srcnn"})


def test_dbpn_trains_deterministically_and_its_file_reloads_bit_for_bit(tmp_path) -> None:
    cfg = _cfg(tmp_path)
    batch = next(iter(torch.utils.data.DataLoader(_data(cfg), batch_size=4)))
    torch.manual_seed(cfg.train.seed)
    before = build_generator(cfg.model)
    first = train(cfg, progress=False, dataset=_data(cfg))
    again = train(_cfg(tmp_path, "again"), progress=False, dataset=_data(cfg))
    assert [r["loss"] for r in first.history] == [r["loss"] for r in again.history]
    loaded = load_generator_file(first.generator)
    assert isinstance(loaded.generator, DBPN) and loaded.model_cfg == cfg.model
    state = load_checkpoint(first.checkpoint)["generator"]
    for key, value in loaded.generator.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert loaded.inference_cfg is not None

    def mse(g: torch.nn.Module) -> float:
        with torch.no_grad():
            return float(torch.nn.functional.mse_loss(g.eval()(batch["target"], batch["neighbours"],
                                                               batch["flows"]), batch["hr"]))

    assert mse(loaded.generator) < mse(before)
    # saved and reloaded again: the same weights, the same outputs
    save_checkpoint(tmp_path / "copy.pt", generator_file_state(loaded.generator.state_dict(), loaded.model_cfg))
    copy = load_generator_file(tmp_path / "copy.pt").generator
    x = batch["target"]
    assert torch.equal(copy(x, None, None), loaded.generator(x, None, None))


def test_the_engine_computes_no_flow_for_a_one_frame_model(monkeypatch) -> None:
    import iseebetter_lib.flow as flow

    def refuse(*args, **kwargs):
        raise AssertionError("a flow was computed for a one-frame model")

    monkeypatch.setattr(flow, "compute_window_flows", refuse)
    cfg = ModelConfig(name="dbpn", base_filter=8, feat=8, num_stages=2, nFrames=1, residual=True)
    torch.manual_seed(0)
    g = build_generator(cfg).eval()
    lr = toy_frames(3, 16)
    frames = list(Engine(g, cfg).clip(lr))
    assert len(frames) == 3 and frames[0].shape == (64, 64, 3) and frames[0].dtype == np.uint8
    with torch.no_grad():
        x = torch.from_numpy(lr[1:2]).permute(0, 3, 1, 2).float().div_(255.0)  # the engine's (channels-last) layout
        direct = (g(x, None, None)[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    assert np.array_equal(frames[1], direct)
    # tiled with the model's own overlap: the untiled pixels within one level
    tiled = list(Engine(g, cfg, dataclasses.replace(Engine(g, cfg).cfg, tile="8")).clip(lr[:1]))
    assert np.abs(tiled[0].astype(int) - frames[0].astype(int)).max() <= 1


def test_tiling_and_fast_path_follow_the_generator() -> None:
    dbpn = ModelConfig(name="dbpn", nFrames=1, num_stages=3)
    assert tiling.receptive_radius(dbpn) == 1 + 3 * 5 + 1  # ceil(1 + 15 + 1/4)
    assert tiling.receptive_radius(preset("full").model) == 126
    assert 0 < tiling.estimate_bytes_per_pixel(dbpn) < tiling.estimate_bytes_per_pixel(preset("full").model)
    torch.manual_seed(0)
    g = build_generator(ModelConfig(name="dbpn", base_filter=8, feat=8, num_stages=2, nFrames=1,
                                    residual=True)).eval()
    x = torch.rand(1, 3, 10, 10)
    with torch.inference_mode():
        ref = g(x, None, None)
        for mode in ("fp32", "fp32-cl", "bf16-cl", "bf16w-cl"):
            out = prepare_generator(g, "cpu", mode)(x, torch.zeros(1, 0, 3, 10, 10), torch.zeros(1, 0, 2, 10, 10))
            assert out.dtype == torch.float32
            assert (out - ref).abs().max().item() < (1e-5 if mode.startswith("fp32") else 2e-2 * ref.abs().max())
    assert supports_fast_path(g) and not supports_fast_path(torch.nn.Conv2d(3, 3, 1))
    with pytest.raises(ValueError, match="the fast path knows RBPN, DBPN, not Conv2d"):
        prepare_generator(torch.nn.Conv2d(3, 3, 1), "cpu", "bf16-cl")


def test_a_generator_file_without_a_model_name_loads_as_rbpn(tmp_path) -> None:
    cfg = preset("tiny").model
    torch.manual_seed(0)
    g = build_generator(cfg)
    state = generator_file_state(g.state_dict(), cfg)
    del state["model_config"]["name"]  # written before the generator registry
    save_checkpoint(tmp_path / "old.pt", state)
    loaded = load_generator_file(tmp_path / "old.pt")
    assert isinstance(loaded.generator, RBPN) and loaded.model_cfg.name == "rbpn" and loaded.model_cfg == cfg
    with pytest.raises(Exception, match="name: checkpoint rbpn, requested dbpn"):
        load_generator_file(tmp_path / "old.pt", model_cfg=ModelConfig(name="dbpn", nFrames=1))


def test_train_picks_dbpn_by_the_override_syntax_and_evaluate_scores_it(tmp_path, monkeypatch, capsys) -> None:
    from iseebetter_lib.config.schema import TRAINING_SOURCES, TrainingSource

    monkeypatch.setitem(TRAINING_SOURCES, "toy", TrainingSource("test_registry:toy_clips", "synthetic clips"))
    out = tmp_path / "cli"
    assert main(["train", "--preset", "tiny", "--data-source", "toy", "--out", str(out), "--device", "cpu",
                 "--pretrain-steps", "1", "--gan-steps", "0", "--patch-size", "12",
                 "--set", f"data.cache_dir={tmp_path / 'cache'}",
                 *[a for k, v in DBPN_KEYS.items() for a in ("--set", f"{k}={v}")]]) == 0
    assert load_generator_file(out / "generator.pt").model_cfg.name == "dbpn"
    scores = _evaluate(tmp_path, out / "generator.pt")  # the same evaluation command
    assert np.isfinite(scores["average"]["psnr_y"]) and set(scores["clips"]) == {"clip"}
