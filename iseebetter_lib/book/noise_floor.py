"""The noise-floor rule of the book's comparison tables (chapters 03b and 04): a difference smaller than the
seed-to-seed spread of the same configuration is not a result."""

from __future__ import annotations


def floor_verdict(diff: float, floor: float) -> str:
    """Whether a difference (dB) exceeds the noise floor: the one rule of the multi-frame and ablation tables."""
    return "beyond the noise floor" if abs(diff) > floor else "below the noise floor"
