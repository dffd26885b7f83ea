"""Streaming sliding window over a frame iterator: (target, neighbours) in the paper's order, bounded memory.

Why streaming: a video of any length must be upscaled while holding only the frames one window needs. With future
frames (the paper's default) the window of target t reads t-k..t+k (k = nFrames // 2), so the reader runs k frames
ahead; in past-only mode it runs 0 frames ahead. The neighbour order and the boundary policy (a neighbour outside
the clip is replaced by the target, "copy", or mirrored, "reflect") come from `data.neighbour_indices`, so training,
evaluation and upscaling agree. The clip length is unknown until the iterator ends: indices are first asked for as if
the clip went on, and asked again with the true length once the end is reached.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

import numpy as np

IndexFn = Callable[..., Sequence[int]]


class Window(NamedTuple):
    """One model input: the target frame, its neighbours in model order, and their clip indices."""

    target: np.ndarray
    neighbours: list[np.ndarray]
    index: int
    indices: list[int]


def _default_index_fn() -> IndexFn:
    """`data.neighbour_indices` (imported lazily: `data` is a lower layer with heavier imports)."""
    try:
        from iseebetter_lib.data import neighbour_indices
    except ImportError:
        from iseebetter_lib.data.windows import neighbour_indices
    return neighbour_indices


class SlidingWindow:
    """Iterate `Window`s over `frames` (any iterable of H x W x C arrays), reading lazily.

    At most ``back + 1 + ahead`` frames are held, where `back`/`ahead` are how far the window reaches (3 and 3 for
    7 frames with future frames: exactly one window). `max_buffered` records the most frames held at once.
    """

    def __init__(self, frames: Iterable[np.ndarray], nFrames: int, future: bool = True, boundary: str = "copy",
                 index_fn: IndexFn | None = None) -> None:
        if nFrames < 1:  # 1: a single-frame model, whose windows have no neighbours
            raise ValueError(f"nFrames: expected >= 1, got {nFrames!r}")
        self._frames = frames
        self.nFrames = nFrames
        self.future = future
        self.boundary = boundary
        self._index_fn = index_fn or _default_index_fn()
        self.back = self._reach_back()
        self.max_buffered = 0

    def indices(self, t: int, n_total: int) -> list[int]:
        """Neighbour indices of target `t` in a clip of `n_total` frames (model order)."""
        return [int(i) for i in self._index_fn(t, n_total, self.nFrames, future=self.future, boundary=self.boundary)]

    def _reach_back(self) -> int:
        """How far behind its target any window reaches (probed on short and long clips, all positions)."""
        back = 0
        for n in (1, 2, self.nFrames, 3 * self.nFrames + 1):
            for t in range(n):
                back = max(back, t - min(self.indices(t, n) + [t]))
        return back

    def __iter__(self) -> Iterator[Window]:
        it = iter(self._frames)
        buf: dict[int, np.ndarray] = {}
        n_read = 0
        exhausted = False

        def fill(upto: int) -> None:
            nonlocal n_read, exhausted
            while not exhausted and n_read <= upto:
                try:
                    frame = next(it)
                except StopIteration:
                    exhausted = True
                    return
                buf[n_read] = frame
                n_read += 1
                self.max_buffered = max(self.max_buffered, len(buf))

        t = 0
        while True:
            fill(t)
            if t >= n_read:
                return
            # As if the clip went on past what is needed; re-ask with the true length once it is known.
            idx = self.indices(t, n_read if exhausted else t + 2 * self.nFrames + 1)
            fill(max(idx + [t]))
            if exhausted:
                idx = self.indices(t, n_read)
            missing = [i for i in idx if i not in buf]
            if missing:  # only a neighbour_indices that reaches further than it said could get here
                raise RuntimeError(f"window of frame {t} needs dropped frames {missing}")
            yield Window(buf[t], [buf[i] for i in idx], t, idx)
            for i in [i for i in buf if i < t + 1 - self.back]:
                del buf[i]
            t += 1


def sliding_windows(frames: Iterable[np.ndarray], nFrames: int, future: bool = True, boundary: str = "copy",
                    index_fn: IndexFn | None = None) -> Iterator[Window]:
    """Yield `Window(target, neighbours, index, indices)` for every frame of `frames`, streaming."""
    return iter(SlidingWindow(frames, nFrames, future=future, boundary=boundary, index_fn=index_fn))


def past_only_windows(frames: Iterable[np.ndarray], nFrames: int, boundary: str = "copy",
                      index_fn: IndexFn | None = None) -> Iterator[Window]:
    """The past-only variant (neighbours t-1, t-2, ..., nearest first): no look-ahead, for live streams."""
    return sliding_windows(frames, nFrames, future=False, boundary=boundary, index_fn=index_fn)
