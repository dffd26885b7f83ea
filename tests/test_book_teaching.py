"""The book's teaching helpers: committed laptop results read back with their provenance, text generated from what
runs (no dataset or row named that was not scored), the by-hand fallback to the shipped model, and charts that do
not exaggerate (sparse loss logs as tables, bars from 0, loss panels that do not stretch a wiggle)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from iseebetter_lib.book import by_hand, charts, committed, explain, plots  # noqa: E402
from iseebetter_lib.book.results import RUN_ENV  # noqa: E402
from iseebetter_lib.config import build  # noqa: E402
from iseebetter_lib.errors import UserError  # noqa: E402

FRAMES = {"chapter": "03b_frames", "profile": "laptop", "commit": "027d5a823562c0166d367b80d555ba926ce74533",
          "command": "iseebetter book run --profile laptop", "machine": {"cpus": 2, "torch": "2.13.0+cpu"},
          "numbers": {"design": "paired by seed", "reference_sd_db": 0.0685, "test_set": "vid4", "effects": [
              {"row": "7 frames", "measure": "average", "seeds": 3, "vs reference (dB)": 0.02, "interval low": -0.03,
               "interval high": 0.07, "half-width": 0.05, "verdict": "not resolved at this budget (+/-0.050 dB)"},
              {"row": "7 frames", "measure": "city", "seeds": 3, "vs reference (dB)": 0.1, "interval low": 0.0,
               "interval high": 0.2, "half-width": 0.1, "verdict": "x"}]}}
ABLATION = {**FRAMES, "chapter": "04b_ablation_compare", "numbers": {"judged": [
    {"variant": "pixel", "PSNR-Y (dB)": 25.34, "verdict": "base"},
    {"variant": "tv", "PSNR-Y (dB)": 25.339, "verdict": "below the noise floor"}]}}


def _committed_root(tmp_path: Path) -> Path:
    home = tmp_path / "figures" / "laptop"
    (home / "03b_frames").mkdir(parents=True)
    (home / "03b_frames.json").write_text(json.dumps(FRAMES))
    (home / "04b_ablation_compare.json").write_text(json.dumps(ABLATION))
    (home / "03b_frames" / "frames_effects.png").write_bytes(b"\x89PNG")
    return tmp_path


def test_committed_results_carry_commit_command_and_plain_verdicts(tmp_path):
    root = _committed_root(tmp_path)
    assert committed.committed_results("03b_frames", root)["numbers"]["reference_sd_db"] == 0.0685
    text = committed.committed_markdown("03b_frames", root)
    assert "`027d5a8`" in text and "iseebetter book run --profile laptop" in text and "2-core CPU" in text
    assert [p.name for p in committed.committed_figures("03b_frames", root)] == ["frames_effects.png"]
    ablation = committed.committed_markdown("04b_ablation_compare", root)
    assert "not resolved (below the noise floor)" in ablation and "| tv |" in ablation


def test_committed_results_of_the_paired_design_show_their_intervals(tmp_path):
    text = committed.committed_markdown("03b_frames", _committed_root(tmp_path))
    assert "| 7 frames |" in text and "not resolved at this budget" in text and "city" not in text
    assert committed.seed_spread(tmp_path) == 0.0685


def test_missing_committed_results_say_so_in_one_line(tmp_path):
    assert committed.committed_results("05_vid4", tmp_path) is None
    assert "No committed `laptop` results for `05_vid4`" in committed.committed_markdown("05_vid4", tmp_path)
    assert committed.show_committed("05_vid4", root=tmp_path) is None


def test_sparse_stages_become_a_table_and_dense_ones_a_curve():
    history = ([{"step": s, "stage": "pretrain", "loss": 1.0 / s, "pixel": 1.0 / s} for s in range(10, 110, 10)]
               + [{"step": s, "stage": "gan", "loss": 0.02, "pixel": 0.02, "d_loss": 1.0} for s in (120, 130)])
    dense, sparse = charts.split_stages(history)
    assert {r["stage"] for r in dense} == {"pretrain"} and [r["step"] for r in sparse] == [120, 130]
    table = charts.loss_table(sparse)
    assert list(table[0])[:2] == ["step", "stage"] and table[1]["d_loss"] == 1.0


def test_loss_panels_do_not_stretch_a_tiny_wiggle():
    history = [{"step": s, "stage": "pretrain", "loss": 0.0250 + 1e-5 * (s % 2)} for s in range(1, 11)]
    low, high = plots.loss_curves(history).axes[0].get_ylim()
    assert high - low >= 0.2 * 0.025 * 0.99  # the panel spans >= 20% of the value, not the 1e-5 wiggle


def test_bars_start_at_zero_and_dots_state_their_range():
    fig = plots.bar_chart({"a": 0.41, "b": 0.43}, "ratio", "t")
    assert fig.axes[0].get_ylim()[0] == 0.0
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    charts.value_dots(ax, ["a", "b"], [0.308, 0.315], ["g", "g"], span=0.02)
    low, high = ax.get_ylim()
    assert high - low == pytest.approx(0.02) and "not from 0" in ax.get_xlabel()


def test_generated_text_names_only_what_runs():
    rows = [{"name": "3 frames", "frames": 3}, {"name": "1 frame (DBPN)", "model": "dbpn"},
            {"name": "2 frames", "frames": 2}]
    text = explain.rows_sentence(rows, "3 frames", [123, 124])
    assert "`2 frames`" in text and "5 frames" not in text and "zero" not in text
    assert "DBPN" in text and "6 trainings" in text and "123, 124" in text
    held_out = SimpleNamespace(is_vid4=False, clips=["bikes_01", "bikes_05"])
    sentence = explain.scored_sentence(held_out, 4, {"clips": {"bikes_01": {"frames": 3}, "bikes_05": {"frames": 2}}})
    assert "Vid4" not in sentence and "every 4th frame, 5 frames in all" in sentence
    vid4 = SimpleNamespace(is_vid4=True, clips=["calendar", "city", "foliage", "walk"])
    assert "the 4 clips of Vid4" in explain.scored_sentence(vid4, 1)
    assert "every frame" in explain.scored_sentence(vid4, 1)
    assert explain.dataset_name("folder") == "the held-out sample-video clips"
    assert explain.dataset_name("vid4") == "Vid4"
    assert explain.ordinal(2) == "2nd" and explain.ordinal(11) == "11th" and explain.ordinal(23) == "23rd"


def test_loss_and_model_text_follow_the_configuration():
    compact, full = build("compact"), build("full")
    by_term = {r["term"]: r for r in explain.loss_rows(compact.train.loss)}
    assert "(L1)" in by_term["pixel"]["this run computes"] and by_term["tv"]["weight"] == 2e-8
    assert "(MSE)" in explain.loss_rows(full.train.loss)[0]["this run computes"]
    compact.train.loss.adversarial = "log"
    assert r"\log D" in explain.loss_rows(compact.train.loss)[2]["this run computes"]
    assert "paper's shape" in explain.model_sentence(full.model)
    assert "t-3, t-2, t-1, t+1, t+2, t+3" in explain.model_sentence(full.model)
    assert "nFrames 3 (paper 7)" in explain.model_sentence(compact.model)
    assert "starting from `RBPN_4x.pth`" in explain.schedule_sentence(full.train)


def test_by_hand_a_missing_run_falls_back_to_the_shipped_model_but_not_under_the_runner(tmp_path, monkeypatch):
    shipped = tmp_path / "laptop.pt"
    shipped.write_bytes(b"weights")
    monkeypatch.setenv("ISEEBETTER_SHIPPED_WEIGHTS", str(shipped))
    monkeypatch.delenv(RUN_ENV, raising=False)
    path, note = by_hand.model_file(tmp_path / "no_run")
    assert path == shipped and "shipped model" in note and "run chapter 03 first" in note
    monkeypatch.setenv(RUN_ENV, json.dumps({"command": "iseebetter book run --profile smoke"}))
    with pytest.raises(UserError, match="chapter 03"):
        by_hand.model_file(tmp_path / "no_run")
    assert not by_hand.is_other_model(shipped, shipped, tmp_path)
    assert by_hand.is_other_model(shipped, tmp_path / "other.pt", tmp_path)


def test_a_gain_below_the_seed_spread_is_not_resolved(tmp_path):
    from iseebetter_lib.book.ch05_vid4 import precision_note, resolution_db, verdict

    assert resolution_db(0.05) == pytest.approx(0.098) and resolution_db(0.05, runs=2) == pytest.approx(0.1386, abs=1e-4)
    row = {"clip": "average", "ours": 23.88, "MATLAB bicubic": 23.78, "torch bicubic (base)": 23.876,
           "gain over MATLAB bicubic": 0.097, "learned gain over own base": 0.004}
    assert "beats MATLAB bicubic and beats its own base" in verdict([row])
    text = verdict([row], seed_sd=0.03)
    assert "beats MATLAB bicubic and is level with its own base within 0.059 dB (not resolved)" in text
    assert "1.96 times the SD of 0.030 dB" in text
    assert "is level with MATLAB bicubic within 0.098 dB (not resolved)" in verdict([row], seed_sd=0.05)
    worse = verdict([{**row, "learned gain over own base": -0.111, "gain over MATLAB bicubic": 0.162}], seed_sd=0.03)
    assert "beats MATLAB bicubic and falls below its own base" in worse
    note = precision_note(0.097, 0.05)
    assert "beyond 0.098 dB (1.96 SD)" in note and "beyond 0.139 dB" in note and "is within 0.098 dB" in note
    assert "is beyond 0.059 dB" in precision_note(-0.097, 0.03)
    assert committed.seed_spread(_committed_root(tmp_path)) == 0.0685
    assert committed.seed_spread(tmp_path / "empty") == 0.0
