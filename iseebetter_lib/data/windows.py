"""Which frames feed one RBPN sample: the target and its neighbours in the paper's order.

With future frames (the paper's default) a 7-frame window is t-3, t-2, t-1, t+1, t+2, t+3 (past first, farthest
first; for an even count the extra neighbour is a past one). Past-only: t-1, t-2, ... nearest first.
A neighbour outside the clip is, with ``boundary="copy"`` (the original), the target itself (its flow is zero);
with ``boundary="reflect"`` the index is mirrored about the clip's ends (t = -1 -> 1, t = n -> n-2).
"""

from __future__ import annotations

from iseebetter_lib.config.schema import BOUNDARIES
from iseebetter_lib.errors import UserError


def neighbour_offsets(nFrames: int, future: bool = True) -> list[int]:
    """Offsets of the nFrames-1 neighbours relative to the target, in the order RBPN consumes them."""
    if nFrames < 1:
        raise UserError(f"nFrames={nFrames} must be >= 1")
    n = nFrames - 1
    if not future:
        return [-k for k in range(1, n + 1)]
    past = (n + 1) // 2
    fut = n - past
    return [-k for k in range(past, 0, -1)] + list(range(1, fut + 1))


def _reflect(i: int, n_total: int) -> int:
    if n_total == 1:
        return 0
    period = 2 * (n_total - 1)
    i = i % period
    return i if i < n_total else period - i


def neighbour_indices(t: int, n_total: int, nFrames: int, future: bool = True, boundary: str = "copy") -> list[int]:
    """Frame indices of the neighbours of frame `t` in a clip of `n_total` frames (see module doc)."""
    if not 0 <= t < n_total:
        raise UserError(f"frame index {t} is outside the clip (0..{n_total - 1})")
    if boundary not in BOUNDARIES:
        raise UserError(f"boundary={boundary!r} must be {' or '.join(map(repr, BOUNDARIES))}")
    out = []
    for off in neighbour_offsets(nFrames, future):
        i = t + off
        if not 0 <= i < n_total:
            i = t if boundary == "copy" else _reflect(i, n_total)
        out.append(i)
    return out
