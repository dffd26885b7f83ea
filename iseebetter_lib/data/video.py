"""Video files (mp4, avi, mkv, mov, ...) through PyAV: streaming frame iterator, metadata, whole-clip reader.

Frames are decoded to RGB24 (H x W x 3 uint8) whatever the pixel format; a file PyAV cannot open or decode is a
`UserError` naming it.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from iseebetter_lib.errors import UserError
from iseebetter_lib.io import require_file


@dataclass(frozen=True)
class VideoInfo:
    """What the upscaler needs to write a matching output: frame rate, frame count, frame size."""

    fps: float
    n_frames: int
    width: int
    height: int
    rate: Fraction | None = None  # exact frame rate when the container gives one (for writers)


def _open(path: str | os.PathLike):
    import av

    path = Path(path)
    require_file(path, "video file")
    try:
        container = av.open(str(path))
    except Exception as exc:  # noqa: BLE001 - av raises many error types
        raise UserError(f"{path}: cannot open video ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not container.streams.video:
        container.close()
        raise UserError(f"{path}: no video stream in this file")
    return container


def video_info(path: str | os.PathLike) -> VideoInfo:
    """Frame rate, frame count (counted from packets when the header lacks it), width and height."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 25.0
        n = int(stream.frames or 0)
        if n <= 0:
            n = sum(1 for packet in container.demux(stream) if packet.size > 0)
        width, height = stream.codec_context.width, stream.codec_context.height
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise UserError(f"{path}: cannot read video metadata ({type(exc).__name__}: {str(exc)[:120]})") from None
    finally:
        container.close()
    if width <= 0 or height <= 0:
        raise UserError(f"{path}: video stream has no frame size")
    return VideoInfo(fps=fps, n_frames=n, width=width, height=height,
                     rate=Fraction(rate) if rate else None)


def _announced_frames(stream) -> int:
    """The frame count the container's header announces (0 when it announces none)."""
    try:
        return max(0, int(stream.frames or 0))
    except (TypeError, ValueError):
        return 0


def _short_read(path: str | os.PathLike, message: str, allow_truncated: bool) -> None:
    """A video that ends early: a UserError, or with `allow_truncated` a warning (the frames read are kept)."""
    if not allow_truncated:
        raise UserError(f"{path}: {message} (pass --allow-truncated to keep the frames read)")
    warnings.warn(f"{path}: {message}; keeping the frames read", stacklevel=3)


def iter_video_frames(path: str | os.PathLike, max_frames: int | None = None,
                      frame_step: int = 1, start: int = 0, allow_truncated: bool = False) -> Iterator[np.ndarray]:
    """Yield RGB uint8 frames (H x W x 3) one at a time, so long videos never sit in memory.

    A decode error, or fewer frames than the container announces (a truncated file: the threaded decoder drops
    broken frames silently), is a UserError naming the first missing frame; with `allow_truncated` it is a warning
    and the frames read are kept."""
    container = _open(path)
    step = max(1, int(frame_step))
    emitted = 0
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        announced = _announced_frames(stream)
        index = 0
        complete = True
        try:
            for frame in container.decode(stream):
                if max_frames is not None and emitted >= max_frames:
                    complete = False
                    break
                if index >= start and (index - start) % step == 0:
                    yield frame.to_ndarray(format="rgb24")
                    emitted += 1
                index += 1
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001
            if "av" in type(exc).__module__ or isinstance(exc, (OSError, ValueError)):
                complete = False
                _short_read(path, f"video is corrupt or truncated at frame {index} "
                                  f"({type(exc).__name__}: {str(exc)[:120]})".replace("\n", " "), allow_truncated)
            else:
                raise
        if complete and 0 < index < announced:
            _short_read(path, f"video is truncated at frame {index}: the container announces {announced} frames, "
                              f"only {index} decode", allow_truncated)
    finally:
        container.close()
    if emitted == 0 and max_frames != 0:
        raise UserError(f"{path}: no decodable video frames")


def read_video(path: str | os.PathLike, max_frames: int | None = None, frame_step: int = 1,
               start: int = 0) -> np.ndarray:
    """Whole clip as (T, H, W, 3) uint8 (use `iter_video_frames` for long videos)."""
    return np.stack(list(iter_video_frames(path, max_frames=max_frames, frame_step=frame_step, start=start)))
