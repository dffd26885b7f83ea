"""Effects measured with their uncertainty: paired differences over seeds, a 95% t-interval and a verdict.

A study trains every row (say 1, 3 and 7 frames) once per seed, and a seed fixes the sample order and, where the
shapes allow, the initial weights. Comparing a row with the reference seed by seed cancels much of the
seed-to-seed spread that both share, so the paired difference d_s = score(row, s) - score(reference, s) is the
unit of evidence. Over n seeds its mean has the interval

    mean(d) +/- t_{0.975, n-1} * sd(d) / sqrt(n)

and an effect is *resolved* when that interval excludes 0; otherwise it is *not resolved at this budget*, and the
interval's half-width says how large an effect the study could have missed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import scipy.stats

LEVEL = 0.95


@dataclass(frozen=True)
class Effect:
    """A paired difference (dB) over seeds: its mean, the interval's half-width and the seeds it rests on."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    @property
    def resolved(self) -> bool:
        """The interval excludes 0 (needs at least two seeds)."""
        return math.isfinite(self.half_width) and (self.low > 0 or self.high < 0)

    def verdict(self) -> str:
        if self.n < 2:
            return "not resolved (one seed: no interval)"
        if self.resolved:
            return f"resolved ({'gain' if self.mean > 0 else 'loss'})"
        return f"not resolved at this budget (+/-{self.half_width:.3f} dB)"


def paired_effect(row: Mapping[Any, float], reference: Mapping[Any, float], level: float = LEVEL) -> Effect:
    """Mean of row[s] - reference[s] over the seeds s present in both, with its t-interval."""
    seeds = [s for s in row if s in reference]
    diffs = np.array([row[s] - reference[s] for s in seeds], dtype=np.float64)
    if len(diffs) == 0:
        raise ValueError("no seed is shared by the row and its reference")
    if len(diffs) < 2:
        return Effect(float(diffs.mean()), math.inf, 1)
    t = scipy.stats.t.ppf(0.5 + level / 2, len(diffs) - 1)
    return Effect(float(diffs.mean()), float(t * diffs.std(ddof=1) / math.sqrt(len(diffs))), len(diffs))


def effects_table(scores: Mapping[str, Mapping[Any, Mapping[str, float]]], reference: str,
                  level: float = LEVEL) -> list[dict[str, Any]]:
    """One line per (row, measure) against the reference row.

    `scores[row][seed][measure]` holds a score in dB, where a measure is a clip name or "average"; the reference
    row's own lines are left out. Each line has the mean difference, the interval and the verdict.
    """
    lines = []
    for name, per_seed in scores.items():
        if name == reference:
            continue
        measures = sorted({m for values in per_seed.values() for m in values}, key=lambda m: (m != "average", m))
        for measure in measures:
            effect = paired_effect({s: v[measure] for s, v in per_seed.items() if measure in v},
                                   {s: v[measure] for s, v in scores[reference].items() if measure in v}, level)
            lines.append({"row": name, "measure": measure, "seeds": effect.n, "vs reference (dB)": effect.mean,
                          "interval low": effect.low, "interval high": effect.high,
                          "half-width": effect.half_width, "verdict": effect.verdict()})
    return lines
