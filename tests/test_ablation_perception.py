"""The loss ablation's perceptual measures and its seed floor (`book.ablation_perception`, `book.ch04_ablation`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from iseebetter_lib.book import ablation_perception as ap
from iseebetter_lib.book.ch04_ablation import COLUMNS, ablation_tables


def test_niqe_is_skipped_cleanly_on_small_frames_and_averaged_on_large_ones():
    rng = np.random.default_rng(0)
    small = {"a": rng.integers(0, 256, (2, 64, 96, 3), dtype=np.uint8)}
    assert ap.niqe_of_frames(small) == (None, 0, ap.NA)
    big = rng.integers(0, 256, (2, 200, 208, 3), dtype=np.uint8)
    value, n, note = ap.niqe_of_frames({**small, "b": big})
    from iseebetter_lib.evaluation.metrics import rgb_to_y
    from iseebetter_lib.evaluation.niqe import niqe

    assert n == 2 and "2 too small" in note
    assert value == pytest.approx(np.mean([niqe(rgb_to_y(f)) for f in big]))


def _rows():
    return [{"variant": "pixel", "PSNR-Y": 25.00, "SSIM-Y": 0.80, "NIQE": 6.0, "tOF": 1.0, "detail ratio": 0.5},
            {"variant": "adv", "PSNR-Y": 24.90, "SSIM-Y": 0.80, "NIQE": 5.0, "tOF": 1.0, "detail ratio": 0.5},
            {"variant": "all", "PSNR-Y": 25.01, "SSIM-Y": 0.80, "NIQE": 5.9, "tOF": 1.0, "detail ratio": 0.5},
            {"variant": "all2", "PSNR-Y": 25.02, "SSIM-Y": 0.81, "NIQE": 6.1, "tOF": 1.1, "detail ratio": 0.5},
            {"variant": "all3", "PSNR-Y": 25.03, "SSIM-Y": 0.82, "NIQE": 6.0, "tOF": None, "detail ratio": 0.5}]


def test_three_seed_floor_is_t_times_root_two_sd():
    floor = ap.seed_floor(_rows(), {"all2": "all", "all3": "all"})
    sd = float(np.std([25.01, 25.02, 25.03], ddof=1))
    assert floor["PSNR-Y"]["seeds"] == 3 and floor["PSNR-Y"]["sd"] == pytest.approx(sd)
    assert floor["PSNR-Y"]["half_width"] == pytest.approx(scipy.stats.t.ppf(0.975, 2) * math.sqrt(2) * sd)
    assert floor["PSNR-Y"]["half_width"] == pytest.approx(0.0609, abs=1e-4)
    assert "tOF" not in floor  # one seed has no tOF: no floor for it
    assert floor["detail ratio"]["half_width"] == 0.0
    assert ap.seed_floor(_rows(), {}) == {}


def test_variants_are_judged_against_the_floor_on_every_measure():
    rows = _rows()
    repeats = {"all2": "all", "all3": "all"}
    judged = {r["variant"]: r for r in ap.judged_rows(rows, "pixel", repeats, ap.seed_floor(rows, repeats))}
    assert judged["pixel"]["verdict"] == "base" and judged["all2"]["verdict"] == "another seed of all"
    assert judged["adv"]["PSNR-Y vs pixel"] == pytest.approx(-0.10)
    assert judged["adv"]["verdict"].startswith("resolved") and "PSNR-Y -0.1" in judged["adv"]["verdict"]
    assert "NIQE -1" in judged["adv"]["verdict"]  # NIQE floor: t * sqrt2 * 0.1 = 0.61 < 1
    assert judged["all"]["verdict"].startswith("not resolved")
    assert ap.verdict_text({"PSNR-Y": 1.0}, {}) == "not resolved (no repeated seeds: no floor)"
    assert [r["measure"] for r in ap.floor_table(ap.seed_floor(rows, repeats))][0] == "PSNR-Y"


def test_gan_trade_reads_the_gan_stage_of_the_log():
    history = [{"step": 1, "stage": "pretrain", "loss": 1.0},
               {"step": 2, "stage": "gan", "loss": 0.5, "d_loss": 1.3, "d_hr": 0.6, "d_sr": 0.4},
               {"step": 3, "stage": "gan", "loss": 0.4, "d_loss": 1.1, "d_hr": 0.7, "d_sr": 0.3}]
    assert ap.gan_trade(history) == [{"step": 2, "D(HR)": 0.6, "D(SR)": 0.4, "D loss": 1.3, "G loss": 0.5},
                                     {"step": 3, "D(HR)": 0.7, "D(SR)": 0.3, "D loss": 1.1, "G loss": 0.4}]
    assert ap.gan_trade_sentence("a", history) == ("`a`: the gap D(HR) - D(SR) went from +0.20 (step 2) to its "
                                                   "widest, +0.40, at step 3, and the generator had not won it back "
                                                   "by the end.")
    later = history + [{"step": 4, "stage": "gan", "loss": 0.4, "d_loss": 1.3, "d_hr": 0.55, "d_sr": 0.45}]
    assert "won 0.30 of it back by step 4" in ap.gan_trade_sentence("a", later)
    assert ap.gan_trade_sentence("pixel", history[:1]) is None
    level = [{**r, "d_sr": r["d_hr"] - 0.01} for r in history[1:]]
    assert "never got ahead" in ap.gan_trade_sentence("a", level)
    fig = ap.gan_trade_figure({"a": history, "pixel": history[:1]})
    assert len(fig.axes[0].lines) == 3  # D(HR), D(SR) of `a` and the 0.5 line; `pixel` has no GAN stage


def test_the_variant_table_shows_perception():
    row = {key: None for key in COLUMNS}
    row.update({"variant": "tv", "NIQE": None, "NIQE note": ap.NA, "tOF": 0.8, "bicubic tOF": 1.2})
    (table,) = [t for title, t in ablation_tables([row]).items() if title.startswith("Perception")]
    assert table[0]["NIQE scored on"] == ap.NA and table[0]["tOF"] == 0.8 and table[0]["bicubic tOF"] == 1.2


def test_a_scored_variant_records_niqe_as_not_applicable_on_small_frames_and_its_tof(tmp_path):
    pytest.importorskip("iseebetter_lib.flow")
    import torch
    from synthetic import moving_clip, write_frames

    from iseebetter_lib.book.ch04_ablation import score_variant
    from iseebetter_lib.config import preset
    from iseebetter_lib.models import build_generator
    from iseebetter_lib.models.checkpoints import generator_file_state, save_checkpoint

    cfg = preset("tiny").model
    torch.manual_seed(0)
    path = tmp_path / "generator.pt"
    save_checkpoint(path, generator_file_state(build_generator(cfg).eval().state_dict(), cfg))
    write_frames(tmp_path / "clips" / "c", moving_clip(4, 32, seed=1))
    summary = {"checkpoint": str(path), "history": [], "steps": 0, "seconds": 0.0}
    data = score_variant("pixel", {"pixel": 1.0}, summary, tmp_path / "out", eval_frames=0,
                         vid4_root=tmp_path / "clips", dataset="folder", tof_frames=3, tof_clip="c",
                         tof_crop=(0, 0, 8, 8))
    row = data["row"]
    assert row["NIQE"] is None and row["NIQE note"] == ap.NA and row["bicubic NIQE"] is None
    assert row["tOF"] is not None and row["tOF"] >= 0 and row["bicubic tOF"] >= 0
    assert (tmp_path / "out" / "ablation.json").is_file()
