"""The multi-frame study's paired effects (chapter 03b), the noise-floor table of chapter 04b, the machine-speed ratio and the shipped model's card data."""

from __future__ import annotations

import json

import pytest

from iseebetter_lib.book import ch03b_frames, ch04_ablation, ch05_vid4
from iseebetter_lib.book.results import RUN_ENV, reference_units


def _run(psnr: float, seed: int, clips: dict | None = None, frames: int = 3, model: str = "rbpn") -> dict:
    return {"psnr_y": psnr, "ssim_y": 0.7, "hf_ratio": 0.25, "frames": frames, "flow": "pyflow", "model": model,
            "seed": seed, "steps": 10, "train_s": 1.0, "torch_bicubic_psnr_y": 24.0,
            "clips": clips or {"calendar": psnr - 2.0, "city": psnr + 1.0}}


def _study() -> dict:
    """Three seeds: `one` is 0.20 dB below the reference with little seed-to-seed noise in the difference (paired),
    `seven` is level with it within a wide spread."""
    ref = {123: 24.60, 124: 24.70, 125: 24.50}
    return {"3 frames": {s: _run(v, s) for s, v in ref.items()},
            "one": {s: _run(v - 0.20 + 0.01 * k, s, frames=1, model="dbpn") for k, (s, v) in enumerate(ref.items())},
            "seven": {s: _run(v + d, s, frames=7) for (s, v), d in zip(ref.items(), (0.10, -0.12, 0.03))}}


def test_multi_frame_effects_are_paired_by_seed_with_an_interval_and_a_verdict():
    lines = ch03b_frames.effect_lines(_study(), "3 frames")
    avg = {line["row"]: line for line in ch03b_frames.average_lines(lines)}
    assert set(avg) == {"one", "seven"}  # the reference is not compared with itself
    assert avg["one"]["vs reference (dB)"] == pytest.approx(-0.19) and avg["one"]["seeds"] == 3
    assert avg["one"]["half-width"] < 0.05 and avg["one"]["verdict"] == "resolved (loss)"
    assert avg["seven"]["verdict"].startswith("not resolved at this budget (+/-")
    assert {line["measure"] for line in lines if line["row"] == "one"} == {"average", "calendar", "city"}
    text = ch03b_frames.target_sentence(lines, "3 frames")
    assert "at most 0.05 dB" in text and "Resolved at this budget: `one`." in text
    assert "the target is **met** for `one`; **not met** for `seven` (more seeds" in text
    assert "the target is **not met** (more seeds" in ch03b_frames.target_sentence(
        [line for line in lines if line["row"] == "seven"], "3 frames")
    narrow = [line for line in lines if line["row"] == "one"]
    assert "**met**" in ch03b_frames.target_sentence(narrow, "3 frames")
    two_seeds = ch03b_frames.effect_lines({k: {s: r for s, r in v.items() if s != 125} for k, v in _study().items()},
                                          "3 frames")
    assert "**not claimed**: the study needs at least 3 seeds" in ch03b_frames.target_sentence(
        [line for line in two_seeds if line["row"] == "one"], "3 frames")


def test_multi_frame_means_and_figure():
    means = {m["row"]: m for m in ch03b_frames.means_table(_study())}
    assert means["3 frames"]["PSNR-Y (dB, mean)"] == pytest.approx(24.60)
    assert means["3 frames"]["PSNR-Y SD (dB)"] == pytest.approx(0.10)
    assert means["one"]["model"] == "DBPN" and means["one"]["flow"] == "-"
    lines = ch03b_frames.effect_lines(_study(), "3 frames")
    fig = ch03b_frames.effects_figure(lines, "3 frames")
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert low < -0.19 - 0.0 and high > 0.0  # every interval and 0 are in view
    assert "3 frames" in ax.get_ylabel() and len(ax.get_xticks()) == 2


def test_the_smoke_budget_says_it_resolves_nothing():
    study = _study()
    lines = ch03b_frames.effect_lines(study, "3 frames")
    smoke = ch03b_frames.budget_sentence(study, lines, "smoke")
    assert "resolves nothing" in smoke and "10 steps with 3 seeds (t factor 4.3)" in smoke
    laptop = ch03b_frames.budget_sentence(study, lines, "laptop")
    assert "resolves nothing" not in laptop and "9 trainings of 10 steps" in laptop


def test_each_interval_is_read_as_resolved_bounded_or_open():
    study = _study()
    study["zero"] = {s: _run(r["psnr_y"] + d, s) for (s, r), d in zip(study["3 frames"].items(), (-0.005, 0, 0.005))}
    lines = ch03b_frames.effect_lines(study, "3 frames")
    text = ch03b_frames.reading_sentence(lines, "3 frames")
    assert "`one` is resolved from `3 frames`: -0.190 dB." in text
    assert "`zero` is not resolved, and its interval bounds the effect" in text
    assert "**absent to within 0.012 dB**" in text
    assert "`seven` is not resolved and not bounded to the target" in text
    laptop = ch03b_frames.budget_sentence(study, lines, "laptop")
    assert text in laptop and "against `3 frames`" in laptop  # the reference found from the rows
    assert text not in ch03b_frames.budget_sentence(study, lines, "smoke")
    note = ch03b_frames.committed_note({"numbers": {"design": ch03b_frames.DESIGN, "reference": "3 frames",
                                                    "effects": lines}})
    assert ch03b_frames.target_sentence(lines, "3 frames") in note and text in note
    clips = ch03b_frames.per_clip_sentence(lines)
    assert clips in note and clips.startswith("2 of the 6 per-clip intervals exclude 0 (`one` on calendar (-0.190 dB)")
    assert "about 0.3 times by chance" in clips


def test_committed_results_of_another_design_get_no_reading():
    # a result without the paired design's marker has no intervals to read: no sentence claims any
    assert ch03b_frames.committed_note({"numbers": {"noise_floor_db": 0.0685, "rows": []}}) == ""
    assert ch03b_frames.committed_note(None) == ""
    assert ch03b_frames.committed_note({"numbers": {"design": ch03b_frames.DESIGN}}).startswith(
        "The committed laptop run uses this chapter's design")


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
