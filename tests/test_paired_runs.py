"""Chapter 03b's study paired by seed: the same seed gives the same sample order and, where the shapes allow, the
same initial weights (DBPN vs RBPN, 3 vs 7 frames); a finished (row, seed) is reused."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from iseebetter_lib.book import ch03b_frames, paired_runs, training_runs
from iseebetter_lib.config import DataConfig, build
from iseebetter_lib.data import TrainingDataset
from iseebetter_lib.data.sources import Clip
from iseebetter_lib.training.distributed import StepBatchSampler
from iseebetter_lib.training.session import TrainingRun

ROWS = [{"name": "1 frame (DBPN)", "model": "dbpn"}, {"name": "3 frames", "frames": 3},
        {"name": "7 frames", "frames": 7}, {"name": "3 frames, zero flow", "frames": 3, "flow": "zero"}]


def _make(tmp_path: Path):
    def make(out: Path, seed: int, values: dict) -> object:
        return build("tiny", overrides={"train.out_dir": str(out), "data.cache_dir": str(tmp_path / "cache"),
                                        "train.seed": seed, **values})
    return make


def _initial(cfg) -> dict[str, torch.Tensor]:
    """The generator weights the trainer starts `cfg` from."""
    return TrainingRun(cfg, torch.device("cpu")).generator.state_dict()


def test_row_overrides_make_dbpn_a_one_frame_row():
    assert ch03b_frames.row_overrides(ROWS[0], 5) == {"model.name": "dbpn", "model.nFrames": 1, "data.nFrames": 1,
                                                      "train.seed": 5}
    assert ch03b_frames.row_overrides({"frames": 7, "flow": "zero"}) == {
        "model.nFrames": 7, "data.nFrames": 7, "data.flow.backend": "zero"}


def test_the_same_seed_starts_every_row_from_the_same_shared_weights(tmp_path):
    configs = ch03b_frames.row_configs(ROWS, [11, 12], tmp_path / "rows", "3 frames", _make(tmp_path))
    assert configs["1 frame (DBPN)", 11].model.name == "dbpn" and configs["7 frames", 12].model.nFrames == 7
    assert Path(configs["3 frames, zero flow", 12].train.out_dir) == tmp_path / "rows" / "3-frames-zero-flow" / "seed12"
    dbpn, three, seven = (_initial(configs[name, 11]) for name in ("1 frame (DBPN)", "3 frames", "7 frames"))
    shared = [k for k in dbpn if k.startswith(("feat0.", "DBPN."))]
    assert len(shared) > 4 and all(torch.equal(dbpn[k], three[k]) for k in shared)
    assert set(three) == set(seven)
    differing = {k for k in three if three[k].shape != seven[k].shape or not torch.equal(three[k], seven[k])}
    assert differing == {"output.conv.weight"}  # the only tensor whose shape depends on nFrames
    other_seed = _initial(configs["3 frames", 12])
    assert not torch.equal(other_seed["feat0.conv.weight"], three["feat0.conv.weight"])


def test_without_pairing_the_rows_would_not_share_their_start():
    """Every layer draws its default initialisation before the Kaiming pass, so a different architecture shifts
    torch's RNG stream for all layers: the seed alone does not pair 3 with 7 frames, nor DBPN with RBPN."""
    three = build("tiny").model
    seven = build("tiny", overrides={"model.nFrames": 7, "data.nFrames": 7}).model
    dbpn = build("tiny", overrides={"model.name": "dbpn", "model.nFrames": 1, "data.nFrames": 1}).model
    ref = paired_runs.initial_state(three, 3)
    for other in (seven, dbpn):
        alone = paired_runs.initial_state(other, 3)
        assert not torch.equal(alone["feat0.conv.weight"], ref["feat0.conv.weight"])
        paired, shared = paired_runs.paired_state(other, three, 3)
        assert "feat0.conv.weight" in shared and "output.conv.weight" not in shared
        assert all(torch.equal(paired[k], ref[k]) for k in shared)
        assert torch.equal(paired["output.conv.weight"], alone["output.conv.weight"])
    assert len(paired_runs.paired_state(seven, three, 3)[1]) == len(ref) - 1


def test_the_same_seed_gives_the_same_samples_whatever_the_window(tmp_path):
    rng = np.random.default_rng(0)
    hr = [rng.integers(0, 256, (8, 48, 48, 3), dtype=np.uint8) for _ in range(2)]
    clips = [Clip(f"c{i}", h, 4, "BI") for i, h in enumerate(hr)]

    def dataset(n: int) -> TrainingDataset:
        cfg = DataConfig(nFrames=n, patch_size=8, cache_dir=str(tmp_path / "cache"))
        cfg.flow.backend = "zero"
        return TrainingDataset(cfg, seed=9, clips=clips, precompute=False, progress=False)

    one, three, seven = dataset(1), dataset(3), dataset(7)
    assert len(one) == len(three) == len(seven) == 16
    order = [StepBatchSampler(len(three), 4, 9).global_indices(s) for s in range(4)]
    assert order == [StepBatchSampler(len(seven), 4, 9).global_indices(s) for s in range(4)]
    assert order != [StepBatchSampler(len(three), 4, 10).global_indices(s) for s in range(4)]
    for index in (0, 3, 7):
        a, b, c = one[index], three[index], seven[index]
        assert torch.equal(a["target"], b["target"]) and torch.equal(b["target"], c["target"])
        assert torch.equal(a["hr"], c["hr"]) and c["neighbours"].shape[0] == 6 and a["neighbours"].shape[0] == 0


def test_a_finished_row_and_seed_is_reused(tmp_path, monkeypatch):
    cfg = _make(tmp_path)(tmp_path / "run", 4, {})
    calls = []
    result = {"average": {"psnr_y": 25.0, "ssim_y": 0.8}, "clips": {"a": {"psnr_y": 25.0, "frames": 2}},
              "baselines": {"torch_bicubic": {"average": {"psnr_y": 24.0}}}}
    monkeypatch.setattr("iseebetter_lib.evaluation.evaluate", lambda *a, **k: result)
    test_set = SimpleNamespace(dataset="folder", root=None)

    def train(c):
        calls.append(c.train.seed)
        return {"checkpoint": "x.pt", "steps": 2, "seconds": 1.0}

    first = paired_runs.run_scored(cfg, test_set, 1, {"name": "r"}, train=train)
    again = paired_runs.run_scored(cfg, test_set, 1, {"name": "r"}, train=train)
    assert calls == [4] and again == first and first["clips"] == {"a": 25.0}
    cfg.train.pretrain_steps += 1  # another configuration in the same folder is trained afresh
    paired_runs.run_scored(cfg, test_set, 1, {"name": "r"}, train=train)
    assert calls == [4, 4]
    assert json.loads((tmp_path / "run" / paired_runs.ROW_FILE).read_text())["config"] == training_runs.plain_config(cfg)
    paired_runs.run_scored(cfg, test_set, 2, {"name": "r"}, train=train)  # scored on other frames: scored again
    assert calls == [4, 4, 4]
    paired_runs.run_scored(cfg, SimpleNamespace(dataset="vid4", root=None), 2, {"name": "r"}, train=train)
    assert calls == [4, 4, 4, 4]


def test_a_row_whose_starting_weights_changed_is_not_reused(tmp_path, monkeypatch):
    init = tmp_path / "init.pt"
    init.write_bytes(b"first start")
    cfg = _make(tmp_path)(tmp_path / "run", 4, {})
    cfg.train.init_weights = str(init)
    result = {"average": {"psnr_y": 25.0, "ssim_y": 0.8}, "clips": {"a": {"psnr_y": 25.0, "frames": 2}},
              "baselines": {"torch_bicubic": {"average": {"psnr_y": 24.0}}}}
    monkeypatch.setattr("iseebetter_lib.evaluation.evaluate", lambda *a, **k: result)
    test_set = SimpleNamespace(dataset="folder", root=None)
    calls = []

    def train(c):
        calls.append(c.train.seed)
        return {"checkpoint": "x.pt", "steps": 2, "seconds": 1.0}

    paired_runs.run_scored(cfg, test_set, 1, {"name": "r"}, train=train)
    paired_runs.run_scored(cfg, test_set, 1, {"name": "r"}, train=train)
    assert calls == [4]
    init.write_bytes(b"another start under the same name")
    paired_runs.run_scored(cfg, test_set, 1, {"name": "r"}, train=train)
    assert calls == [4, 4]


def test_seeds_must_be_at_least_two_distinct_integers():
    from iseebetter_lib.errors import UserError

    assert ch03b_frames.check_rows(ROWS, "3 frames", ["1", 2]) == [1, 2]
    with pytest.raises(UserError, match="at least two distinct seeds"):
        ch03b_frames.check_rows(ROWS, "3 frames", [1, 1])
    with pytest.raises(UserError, match="unique name"):
        ch03b_frames.check_rows([{"name": "3 frames"}, {"name": "3 Frames!"}], "3 frames", [1, 2])
    with pytest.raises(UserError, match="reference: '9 frames'"):
        ch03b_frames.check_rows(ROWS, "9 frames", [1, 2])
