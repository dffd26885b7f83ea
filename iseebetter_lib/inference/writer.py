"""Writing upscaled frames: a video (same fps as the input) or a folder of PNGs, always atomically.

The container and codec follow the output's extension: .mp4/.mkv/.mov -> H.264 (libx264, yuv420p; MPEG-4 Part 2
when this PyAV build lacks libx264), .avi -> MPEG-4 Part 2 (MJPEG as a fallback). A path without extension (or
ending in a slash) is a folder of ``frame_000001.png``... Everything is written beside the output under a hidden
temporary name and renamed into place only when the last frame is in, so an error or Ctrl-C leaves nothing behind;
one run writes an output at a time, and an output that appeared during a run is not replaced without `overwrite`.
"""

from __future__ import annotations

import contextlib
import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_dir, atomic_path
from iseebetter_lib.locks import output_lock

VIDEO_CODECS = {".mp4": ("libx264", "mpeg4"), ".mkv": ("libx264", "mpeg4"), ".mov": ("libx264", "mpeg4"),
                ".avi": ("mpeg4", "mjpeg")}
FRAME_PATTERN = "frame_{:06d}.png"


class FrameWriter(Protocol):
    def write(self, frame: np.ndarray) -> None: ...


def output_kind(output: str | os.PathLike) -> str:
    """"video" or "frames" from the output's name; other extensions are a UserError."""
    text = os.fspath(output)
    path = Path(text)
    if text.endswith(("/", os.sep)) or path.suffix == "":
        return "frames"
    if path.suffix.lower() in VIDEO_CODECS:
        return "video"
    raise UserError(f"{path}: unknown output extension {path.suffix!r} (expected {', '.join(VIDEO_CODECS)} "
                    "for a video, or no extension for a folder of PNGs)")


def check_output(output: str | os.PathLike, overwrite: bool) -> str:
    """Fail early (before any work) on an output that exists, has the wrong type or cannot be written."""
    kind = output_kind(output)
    path = Path(output)
    if path.exists():
        if not overwrite:
            raise UserError(f"{path}: already exists (pass --overwrite to replace it)")
        if kind == "video" and path.is_dir():
            raise UserError(f"{path}: is a folder; refusing to replace it with a video file")
        if kind == "frames" and not path.is_dir():
            raise UserError(f"{path}: is a file; refusing to replace it with a folder of frames")
        if kind == "frames":
            foreign = [p.name for p in path.iterdir() if not (p.name.startswith("frame_") and p.suffix == ".png")]
            if foreign:
                raise UserError(f"{path}: folder holds files other than frame_*.png ({foreign[0]}, ...); "
                                "refusing to replace it")
    parent = path.absolute().parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{parent}: output directory is not writable")
    return kind


def pick_codec(ext: str) -> str:
    """The first codec of the extension's list that this PyAV build can encode."""
    import av

    for name in VIDEO_CODECS[ext.lower()]:
        try:
            av.codec.Codec(name, "w")
            return name
        except Exception:  # noqa: BLE001 - unknown codec names raise several types
            continue
    raise UserError(f"{ext}: no encoder available in this PyAV build ({', '.join(VIDEO_CODECS[ext.lower()])})")


def frame_rate(fps: float | Fraction) -> Fraction:
    """Exact rate for the container: 29.97 -> 30000/1001, 25.0 -> 25."""
    if not 0 < fps < math.inf:  # also false for nan
        raise UserError(f"--fps: {fps!r} must be a finite number > 0")
    rate = Fraction(fps).limit_denominator(1001)
    if abs(rate - fps) > fps / 1000:  # below 1 fps (0.0001: one frame every 2.8 hours) a finer fraction is needed
        rate = Fraction(fps).limit_denominator(10 ** 6)
    if rate <= 0:
        raise UserError(f"--fps: {fps!r} must be > 0")
    return rate


class _VideoWriter:
    """PyAV encoder opened on the first frame (its size sets the stream's)."""

    def __init__(self, path: Path, rate: Fraction, codec: str) -> None:
        import av

        self._av = av
        self.container = av.open(str(path), mode="w")
        self.rate, self.codec, self.stream = rate, codec, None

    def write(self, frame: np.ndarray) -> None:
        if self.stream is None:
            h, w = frame.shape[:2]
            self.stream = self.container.add_stream(self.codec, rate=self.rate)
            self.stream.width, self.stream.height = w, h
            self.stream.pix_fmt = "yuvj420p" if self.codec == "mjpeg" else "yuv420p"
            if self.codec == "libx264":
                # MB-tree rate control is not reproducible in x264 as PyAV ships it: the same frames encoded
                # twice on a busy machine gave different files, even with one thread. Without it the same input
                # gives the same file, at a few percent more bits for the same quality.
                self.stream.options = {"crf": "17", "preset": "medium", "x264-params": "mbtree=0"}
            else:
                self.stream.codec_context.bit_rate = max(2_000_000, int(w * h * float(self.rate) * 0.5))
        video_frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        for packet in self.stream.encode(video_frame):
            self.container.mux(packet)

    def close(self, flush: bool) -> None:
        try:
            if flush and self.stream is not None:
                for packet in self.stream.encode():
                    self.container.mux(packet)
        finally:
            self.container.close()


class _PngWriter:
    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0

    def write(self, frame: np.ndarray) -> None:
        from PIL import Image

        self.count += 1
        Image.fromarray(np.ascontiguousarray(frame)).save(self.folder / FRAME_PATTERN.format(self.count),
                                                          compress_level=1)


@contextlib.contextmanager
def open_output(output: str | os.PathLike, fps: float | Fraction, overwrite: bool = False) -> Iterator[FrameWriter]:
    """Context manager yielding a writer with ``write(frame_uint8_HxWx3)``; the output appears only on success.

    The output is locked while it is written (`locks.output_lock`: a second writer is refused), and without
    `overwrite` an output that appeared meanwhile is not replaced at the end (the result is kept beside it)."""
    kind = check_output(output, overwrite)
    path = Path(output)
    with output_lock(path):
        check_output(output, overwrite)  # again under the lock: another run may have finished meanwhile
        if kind == "frames":
            with atomic_dir(path, overwrite=overwrite) as tmp:
                yield _PngWriter(tmp)
            return
        codec = pick_codec(path.suffix)
        rate = frame_rate(fps)
        with atomic_path(path, overwrite=overwrite) as tmp:
            writer = _VideoWriter(tmp, rate, codec)
            ok = False
            try:
                yield writer
                ok = True
            finally:
                writer.close(flush=ok)
            if writer.stream is None:
                raise UserError(f"{path}: no frames to write")
