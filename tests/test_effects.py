"""Paired effects over seeds: the interval's arithmetic, and verdicts that follow it."""

from __future__ import annotations

import math

import pytest
import scipy.stats

from iseebetter_lib.evaluation.effects import paired_effect, effects_table


def test_interval_is_the_t_interval_of_the_paired_differences():
    ref = {1: 24.0, 2: 24.3, 3: 23.8}
    row = {1: 24.2, 2: 24.55, 3: 23.95}  # differences 0.2, 0.25, 0.15
    effect = paired_effect(row, ref)
    assert effect.mean == pytest.approx(0.2)
    assert effect.half_width == pytest.approx(scipy.stats.t.ppf(0.975, 2) * 0.05 / math.sqrt(3))
    assert effect.n == 3 and effect.resolved and effect.verdict() == "resolved (gain)"


def test_pairing_removes_the_spread_the_seeds_share():
    # the seeds differ by a whole dB, the row by a steady 0.05 dB: paired, that is resolved
    ref = {s: 20.0 + s for s in range(4)}
    row = {s: 20.05 + s + (0.01 if s % 2 else -0.01) for s in range(4)}
    assert paired_effect(row, ref).resolved


@pytest.mark.parametrize("row, verdict", [
    ({1: 24.1, 2: 24.2, 3: 23.9}, "not resolved at this budget"),  # differences straddle 0
    ({1: 23.8, 2: 23.85, 3: 23.75}, "resolved (loss)"),
    ({1: 24.2}, "not resolved (one seed: no interval)"),
])
def test_verdicts(row, verdict):
    assert paired_effect(row, {1: 24.0, 2: 24.1, 3: 23.9}).verdict().startswith(verdict)


def test_only_shared_seeds_count_and_none_shared_is_an_error():
    assert paired_effect({1: 1.0, 2: 2.0, 9: 100.0}, {1: 0.0, 2: 1.0}).mean == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no seed"):
        paired_effect({5: 1.0}, {1: 0.0})


def test_effects_table_has_a_line_per_row_and_measure_average_first():
    scores = {"3 frames": {1: {"average": 24.0, "city": 25.0}, 2: {"average": 24.2, "city": 25.1}},
              "1 frame": {1: {"average": 23.5, "city": 24.8}, 2: {"average": 23.6, "city": 24.8}}}
    lines = effects_table(scores, reference="3 frames")
    assert [(l["row"], l["measure"]) for l in lines] == [("1 frame", "average"), ("1 frame", "city")]
    assert lines[0]["vs reference (dB)"] == pytest.approx(-0.55)
    assert lines[0]["interval low"] < lines[0]["vs reference (dB)"] < lines[0]["interval high"]
