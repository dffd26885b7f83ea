"""The noise-floor tables of chapters 03b and 04b, the machine-speed ratio and the shipped model's card data."""

from __future__ import annotations

import json

import pytest

from iseebetter_lib.book import ch03b_frames, ch04_ablation, ch05_vid4
from iseebetter_lib.book.results import RUN_ENV, reference_units
from iseebetter_lib.errors import UserError


def _row(psnr: float, frames: int = 3, flow: str = "pyflow", seed: int = 123) -> dict:
    return {"psnr_y": psnr, "ssim_y": 0.7, "hf_ratio": 0.25, "frames": frames, "flow": flow, "seed": seed,
            "steps": 10, "train_s": 1.0, "torch_bicubic_psnr_y": 23.9}


def test_multi_frame_table_judges_rows_against_the_two_seed_spread():
    results = {"ref": _row(24.580), "ref2": _row(24.575, seed=124), "two": _row(24.578, frames=2),
               "zero": _row(24.560, flow="zero")}
    assert ch03b_frames.noise_floor(results, "ref", "ref2") == pytest.approx(0.005)
    verdicts = {r["row"]: r["verdict"] for r in ch03b_frames.table_rows(results, "ref", "ref2")}
    assert verdicts == {"ref": "reference", "ref2": "second seed (noise floor)", "two": "below the noise floor",
                        "zero": "beyond the noise floor"}
    line = ch03b_frames.summary_line(results, "ref", "ref2")
    assert "0.005 dB" in line and "`zero`" in line and "`two`" not in line
    quiet = {k: results[k] for k in ("ref", "ref2", "two")}
    assert "No configuration differs" in ch03b_frames.summary_line(quiet, "ref", "ref2")


def test_rows_need_unique_names_and_their_reference():
    with pytest.raises(UserError, match="unique name"):
        ch03b_frames.check_rows([{"name": "a"}, {"name": "a"}], "a", "a")
    with pytest.raises(UserError, match="repeat: 'b'"):
        ch03b_frames.check_rows([{"name": "a"}], "a", "b")
    assert ch03b_frames.row_overrides({"frames": 5, "flow": "zero", "seed": 7}) == {
        "model.nFrames": 5, "data.nFrames": 5, "data.flow.backend": "zero", "train.seed": 7}


def test_reference_units_use_the_slower_measurement():
    assert reference_units(600.0, {"before": 300.0, "after": 250.0}) == pytest.approx(2000.0)


def test_model_card_names_the_run_command(tmp_path, monkeypatch):
    config = {"train": {"seed": 5, "precision": "bf16"}}
    (tmp_path / "book_result.json").write_text(json.dumps({"steps": 9, "seconds": 3.5, "config": config}))
    scores = [{"dataset": "Vid4", "frames": 1, "psnr_y": 24.0, "ssim_y": 0.7, "bicubic_psnr_y": 23.0}]
    monkeypatch.delenv(RUN_ENV, raising=False)
    card = ch05_vid4.model_card(tmp_path, scores, "laptop")
    assert card["command"] == ["iseebetter book run --profile laptop"]
    assert card["training"]["steps"] == 9 and card["training"]["seed"] == 5 and card["scores"] == scores
    monkeypatch.setenv(RUN_ENV, json.dumps({"command": "iseebetter book run --profile laptop --only 05_vid4"}))
    assert ch05_vid4.model_card(tmp_path, scores, "laptop")["command"] == [
        "iseebetter book run --profile laptop --only 05_vid4"]
