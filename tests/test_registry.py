"""ARCHITECTURE.md's "Where to add", tested: a toy generator, a toy loss term and a toy training source, each added
at test time by one registry entry (`GENERATORS`, `LOSS_TERMS`, `TRAINING_SOURCES`) pointing at code in this module,
and run through `train` (a few steps) and `evaluate` (a tiny clip)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from iseebetter_lib.cli import main
from iseebetter_lib.config import preset
from iseebetter_lib.config.schema import (GENERATORS, LOSS_TERMS, TRAINING_SOURCES, GeneratorEntry, LossTerm,
                                          TrainingSource)
from iseebetter_lib.data.sources import Clip
from iseebetter_lib.models import build_generator
from iseebetter_lib.models.checkpoints import load_generator_file
from iseebetter_lib.training import train


class ToyGenerator(nn.Module):
    """Bicubic upsampling plus one 3x3 conv on it: the smallest learnable generator, one frame in."""

    def __init__(self, num_channels: int = 3, scale_factor: int = 4) -> None:
        super().__init__()
        self.scale = scale_factor
        self.conv = nn.Conv2d(num_channels, num_channels, 3, 1, 1)
        nn.init.normal_(self.conv.weight, std=1e-2)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor, neighbours: object = None, flows: object = None) -> torch.Tensor:
        up = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return up + self.conv(up)


class ToyLoss(nn.Module):
    """weight * (mean(sr) - mean(hr))^2: a brightness term."""

    inputs = ("sr", "hr")

    def __init__(self, weight: float) -> None:
        super().__init__()
        self.weight = weight

    @classmethod
    def from_config(cls, cfg: object, weight: float, vgg: object = None) -> "ToyLoss":
        return cls(weight)

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return self.weight * (sr.mean() - hr.mean()) ** 2


def toy_frames(n: int = 6, size: int = 64, seed: int = 0) -> np.ndarray:
    """(n, size, size, 3) uint8: a smooth random texture panning one pixel a frame."""
    rng = np.random.default_rng(seed)
    big = rng.random((size // 8 + 2, size // 8 + n, 3))
    big = np.kron(big, np.ones((8, 8, 1)))
    frames = [big[:size, t:t + size] for t in range(n)]
    return (np.stack(frames) * 255).round().astype(np.uint8)


def toy_clips(cfg, split, progress=False):
    """A training source of two synthetic clips."""
    return [Clip(f"toy{k}", toy_frames(seed=k), cfg.scale, cfg.degradation) for k in range(2)]


@pytest.fixture
def toys(monkeypatch):
    monkeypatch.setitem(GENERATORS, "toy", GeneratorEntry(f"{__name__}:ToyGenerator", 1, 1))
    monkeypatch.setitem(LOSS_TERMS, "toy", LossTerm(f"{__name__}:ToyLoss", 0.5))
    monkeypatch.setitem(TRAINING_SOURCES, "toy", TrainingSource(f"{__name__}:toy_clips", "synthetic clips"))


def _cfg(tmp_path, **overrides):
    values = {"train.out_dir": str(tmp_path / "run"), "data.cache_dir": str(tmp_path / "cache"),
              "data.source": "toy", "data.patch_size": 12, "train.device": "cpu", "train.pretrain_steps": 2,
              "train.gan_steps": 0, "train.log_every": 1}
    values.update(overrides)
    return preset("tiny").override(values)


def _evaluate(tmp_path, weights) -> dict:
    """`iseebetter evaluate` of `weights` on a one-clip folder of 4 toy frames; the parsed --json result."""
    clip = tmp_path / "eval" / "clip"
    clip.mkdir(parents=True)
    for t, frame in enumerate(toy_frames(4, seed=7)):
        Image.fromarray(frame).save(clip / f"{t:03d}.png")
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--dataset", "folder", "--root", str(clip.parent), "--weights", str(weights),
                 "--json", str(out), "--quiet"]) == 0
    return json.loads(out.read_text())


def _psnr(result: dict) -> float:
    value = result["average"]["psnr_y"]
    assert np.isfinite(value)
    return value


def test_a_toy_generator_is_one_entry_and_trains_and_evaluates(tmp_path, toys):
    cfg = _cfg(tmp_path, **{"model.name": "toy", "model.nFrames": 1, "data.nFrames": 1, "train.lr": 1e-3})
    assert isinstance(build_generator(cfg.model), ToyGenerator)
    result = train(cfg, progress=False)
    assert [r["step"] for r in result.history] == [1, 2]
    loaded = load_generator_file(result.generator)
    assert isinstance(loaded.generator, ToyGenerator) and loaded.model_cfg.name == "toy"
    scores = _evaluate(tmp_path, result.generator)
    # bicubic plus a small learned correction: within a few dB of bicubic on the same frames
    assert abs(_psnr(scores) - scores["baselines"]["torch_bicubic"]["average"]["psnr_y"]) < 3


def test_a_toy_loss_term_is_one_entry_and_is_trained_and_reported(tmp_path, toys):
    cfg = _cfg(tmp_path, **{"train.pretrain_steps": 1, "train.gan_steps": 2})
    assert cfg.train.loss.weights.as_dict()["toy"] == 0.5
    result = train(cfg, progress=False)
    gan = [r for r in result.history if r["stage"] == "gan"]
    assert len(gan) == 2
    for row in gan:
        assert row["toy"] > 0
        assert row["loss"] == pytest.approx(sum(row[k] for k in LOSS_TERMS), rel=1e-5)
    _psnr(_evaluate(tmp_path, result.generator))


def test_a_toy_training_source_is_one_entry_and_trains_from_the_command_line(tmp_path, toys, capsys):
    out = tmp_path / "cli"
    assert main(["train", "--preset", "tiny", "--data-source", "toy", "--out", str(out), "--device", "cpu",
                 "--pretrain-steps", "2", "--gan-steps", "0", "--patch-size", "12",
                 "--set", f"data.cache_dir={tmp_path / 'cache'}"]) == 0
    assert (out / "generator.pt").is_file()
    _psnr(_evaluate(tmp_path, out / "generator.pt"))
