"""Small charts and tables for the book's evidence: whether a training log has enough points for a curve (else a
table of them), and values as dots on a stated axis range (where a bar that does not start at 0 would mislead)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

MIN_CURVE_POINTS = 5  # fewer logged points per stage than this: the book shows a table instead of a curve


def split_stages(history: Sequence[Mapping[str, Any]], minimum: int = MIN_CURVE_POINTS) -> tuple[
        list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The logged rows split in two: those of stages with at least `minimum` points (drawn as curves) and those of
    stages with fewer (shown as a table: two points joined by a line read as a trend they cannot show)."""
    rows = [r for r in history if "step" in r]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.get("stage", "")] = counts.get(r.get("stage", ""), 0) + 1
    dense = [r for r in rows if counts[r.get("stage", "")] >= minimum]
    return dense, [r for r in rows if counts[r.get("stage", "")] < minimum]


def loss_table(history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The logged losses as table rows (step, stage and every non-zero loss term), for runs with few points."""
    skip = {"epoch", "time", "seconds", "seconds_per_step", "lr", "d_lr"}
    keys = [k for r in history for k, v in r.items()
            if k not in skip and (not isinstance(v, (int, float)) or v != 0)]
    keys = list(dict.fromkeys(["step", "stage", *keys]))
    return [{k: r.get(k) for k in keys} for r in history if "step" in r]


def value_dots(ax: Any, names: Sequence[str], values: Sequence[float], colors: Sequence[str], span: float,
               reference: float | None = None, fmt: str = ".3f") -> None:
    """Values as dots on an axis of stated range `span` around their mean (not bars: a bar's length would claim a
    zero the axis does not show); the range is written under the axis so a reader can judge the differences."""
    vals = np.asarray(values, dtype=float)
    x = np.arange(len(names))
    ax.scatter(x, vals, c=list(colors), zorder=3, s=30)
    for i, v in enumerate(vals):
        ax.annotate(format(v, fmt), (i, v), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7)
    mid = float(np.nanmean(vals)) if vals.size else 0.0
    half = max(span, float(np.nanmax(vals) - np.nanmin(vals)) * 1.3 if vals.size else 0.0) / 2
    ax.set_ylim(mid - half, mid + half)
    if reference is not None and mid - half <= reference <= mid + half:
        ax.axhline(reference, color="black", lw=0.8, ls="--")
    ax.grid(axis="y", color="0.9", zorder=0)
    ax.set_xticks(x, names, rotation=15, fontsize=8)
    ax.set_xlabel(f"axis range {2 * half:{fmt}} (not from 0)", fontsize=7)
