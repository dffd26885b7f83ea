"""Image and frame-folder readers: Vid4/SPMCS-style clip folders, Vimeo-90K septuplets, and one entry point
`read_frames` for a folder or a video file.

Every frame comes back as H x W x 3 uint8 RGB. Conversions that change data are announced with `warnings.warn`:
grey -> RGB (replicated), RGBA/LA -> RGB (alpha dropped), 16-bit -> 8-bit (rounded value/257). Unreadable files,
empty folders and frames of different sizes in one clip raise `UserError` naming the file.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from iseebetter_lib.errors import UserError
from iseebetter_lib.io import read_text

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg")

_NUM = re.compile(r"(\d+)")


def natural_key(text: str | os.PathLike) -> list:
    """Sort key that orders embedded numbers by value: 'Frame 2' < 'Frame 10' (whole path, case-insensitive)."""
    name = os.fspath(text)
    return [(0, int(part), part) if part.isdigit() else (1, 0, part.lower()) for part in _NUM.split(name) if part]


def natural_sort(items: Iterable[str | os.PathLike]) -> list:
    """Items sorted naturally (numbers by value), e.g. the frames of one folder."""
    return sorted(items, key=natural_key)


def to_rgb_uint8(img: np.ndarray, name: str = "image") -> np.ndarray:
    """Convert grey / grey+alpha / RGBA / 16-bit / float to H x W x 3 uint8, warning about each conversion."""
    a = np.asarray(img)
    if a.ndim == 2:
        warnings.warn(f"{name}: grey image converted to RGB", stacklevel=3)
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4):
        raise UserError(f"{name}: unsupported image shape {a.shape}")
    if a.shape[2] in (2, 4):
        warnings.warn(f"{name}: alpha channel dropped", stacklevel=3)
        a = a[:, :, :-1]
    if a.shape[2] == 1:
        if img.ndim == 3:
            warnings.warn(f"{name}: grey image converted to RGB", stacklevel=3)
        a = np.repeat(a, 3, axis=2)
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    if a.dtype == np.uint16:
        warnings.warn(f"{name}: 16-bit image converted to 8 bits", stacklevel=3)
        return np.floor(a.astype(np.float64) / 257.0 + 0.5).astype(np.uint8)
    if np.issubdtype(a.dtype, np.floating):
        warnings.warn(f"{name}: float image converted to 8 bits (assumed range [0, 1])", stacklevel=3)
        return np.clip(np.floor(a * 255.0 + 0.5), 0, 255).astype(np.uint8)
    if a.dtype == np.bool_:
        warnings.warn(f"{name}: binary image converted to 8 bits", stacklevel=3)
        return a.astype(np.uint8) * 255
    raise UserError(f"{name}: unsupported pixel type {a.dtype}")


def _png_bit_depth(path: Path) -> int | None:
    """Bit depth from a PNG's IHDR chunk (Pillow silently reduces 16-bit RGB PNGs to 8 bits)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(25)
    except OSError:
        return None
    if len(head) == 25 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return head[24]
    return None


def read_image(path: str | os.PathLike) -> np.ndarray:
    """One image file as H x W x 3 uint8 RGB (UserError if missing or unreadable; warns on conversions)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: image file not found")
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode == "P":
                im = im.convert("RGBA" if "transparency" in im.info else "RGB")
            elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
                im = im.convert("RGB")
            elif mode == "1":
                im = im.convert("L")
            arr = np.asarray(im)
    except Exception as exc:  # noqa: BLE001 - any decoder failure is the file's fault
        raise UserError(f"{path}: cannot read image ({type(exc).__name__}: {str(exc)[:120]})") from None
    if mode == "I" and arr.dtype != np.uint8:  # 16-bit grey PNGs may open as 32-bit ints
        if arr.min() < 0 or arr.max() > 65535:
            raise UserError(f"{path}: unsupported 32-bit integer image")
        arr = arr.astype(np.uint16)
    if arr.dtype == np.uint8 and _png_bit_depth(path) == 16:
        warnings.warn(f"{path}: 16-bit image converted to 8 bits (high byte)", stacklevel=2)
    return to_rgb_uint8(arr, str(path))


def list_frame_files(folder: str | os.PathLike) -> list[Path]:
    """Image files of a clip folder, naturally sorted (UserError if the folder is missing or has none)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: frame folder not found")
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTS
             and not p.name.startswith(".")]
    if not files:
        raise UserError(f"{folder}: no image frames ({', '.join(IMAGE_EXTS)}) in this folder")
    return natural_sort(files)


def stack_frames(frames: Sequence[np.ndarray], names: Sequence[str]) -> np.ndarray:
    """(T, H, W, 3) uint8; frames of different sizes are a UserError naming the first odd one."""
    shape = frames[0].shape
    for frame, name in zip(frames, names):
        if frame.shape != shape:
            raise UserError(f"{name}: frame size {frame.shape[1]}x{frame.shape[0]} differs from the clip's "
                            f"first frame ({shape[1]}x{shape[0]})")
    return np.stack(frames)


def read_frame_folder(folder: str | os.PathLike, max_frames: int | None = None, frame_step: int = 1,
                      start: int = 0) -> np.ndarray:
    """A clip stored as one image per frame: (T, H, W, 3) uint8, frames in natural order."""
    files = list_frame_files(folder)[start::max(1, frame_step)]
    if max_frames is not None:
        files = files[:max_frames]
    if not files:
        raise UserError(f"{folder}: no frames selected (start={start}, frame_step={frame_step})")
    return stack_frames([read_image(f) for f in files], [str(f) for f in files])


def list_clip_folders(root: str | os.PathLike) -> list[Path]:
    """Sub-folders of `root` that contain image frames (Vid4/SPMCS layout), naturally sorted."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: dataset folder not found")
    clips = [p for p in root.iterdir() if p.is_dir() and any(
        q.suffix.lower() in IMAGE_EXTS for q in p.iterdir() if q.is_file())]
    if not clips:
        raise UserError(f"{root}: no clip folders with image frames")
    return natural_sort(clips)


def list_vimeo_septuplets(root: str | os.PathLike, list_file: str | os.PathLike | None = None,
                          split: str = "train") -> list[Path]:
    """Septuplet folders `sequences/xxxxx/yyyy` of Vimeo-90K.

    `list_file` (or `root/sep_trainlist.txt` for split "train", `sep_testlist.txt` for "val"/"test": Vimeo-90K has no
    validation list) lists `xxxxx/yyyy` lines; without a list every folder holding im1.png..im7.png is taken.
    `root` may be the dataset root or its `sequences` folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: Vimeo-90K folder not found")
    seq = root / "sequences" if (root / "sequences").is_dir() else root
    if list_file is None:
        default = root / f"sep_{'train' if split == 'train' else 'test'}list.txt"
        list_file = default if default.is_file() else None
    if list_file is not None:
        list_file = Path(list_file)
        names = [line.strip() for line in read_text(list_file, "list file").splitlines() if line.strip()]
        folders = [seq / name for name in names]
        missing = [f for f in folders if not (f / "im1.png").is_file()]
        if missing:
            raise UserError(f"{missing[0]}: listed in {list_file} but has no im1.png "
                            f"({len(missing)} of {len(folders)} entries missing)")
    else:
        folders = natural_sort({p.parent for p in seq.glob("*/*/im1.png")})
    if not folders:
        raise UserError(f"{root}: no Vimeo-90K septuplets (sequences/xxxxx/yyyy/im1.png..im7.png)")
    return [Path(f) for f in folders]


def read_septuplet(folder: str | os.PathLike) -> np.ndarray:
    """im1.png..im7.png of one septuplet (T, H, W, 3) uint8."""
    folder = Path(folder)
    files = [folder / f"im{i}.png" for i in range(1, 8)]
    for f in files:
        if not f.is_file():
            raise UserError(f"{f}: septuplet frame missing")
    return stack_frames([read_image(f) for f in files], [str(f) for f in files])


def read_frames(path: str | os.PathLike, max_frames: int | None = None, frame_step: int = 1) -> np.ndarray:
    """A clip from a video file or a frame folder: (T, H, W, 3) uint8."""
    path = Path(path)
    if path.is_dir():
        return read_frame_folder(path, max_frames=max_frames, frame_step=frame_step)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if path.suffix.lower() in IMAGE_EXTS:
        return read_image(path)[None]
    from iseebetter_lib.data.video import read_video

    return read_video(path, max_frames=max_frames, frame_step=frame_step)


def open_frames(path: str | os.PathLike, max_frames: int | None = None,
                allow_truncated: bool = False) -> tuple[Iterator[np.ndarray], Any, int]:
    """A video file or a frame folder, streamed: (frames, the video's frame rate (exact `Fraction` when the container
    gives one) or None for a folder, number of frames that will be read). A truncated or corrupt video is an error
    unless `allow_truncated` (then a warning and the frames that decode)."""
    path = Path(path)
    if path.is_dir():
        files = list_frame_files(path)[:max_frames]
        return (read_image(f) for f in files), None, len(files)
    if not path.exists():
        raise UserError(f"{path}: input not found (expected a video file or a folder of frames)")
    if not os.access(path, os.R_OK):
        raise UserError(f"{path}: input is not readable")
    from iseebetter_lib.data.video import iter_video_frames, video_info

    info = video_info(path)
    n = info.n_frames if max_frames is None else min(info.n_frames, max_frames)
    frames = iter_video_frames(path, max_frames=max_frames, allow_truncated=allow_truncated)
    return frames, info.rate or info.fps, n


def count_frames(path: str | os.PathLike, max_frames: int | None = None, frame_step: int = 1) -> int:
    """How many frames `read_frames(path, max_frames, frame_step)` returns, without decoding any."""
    path = Path(path)
    if path.is_dir():
        n = len(list_frame_files(path))
    elif path.suffix.lower() in IMAGE_EXTS:
        n = 1
    else:
        from iseebetter_lib.data.video import video_info

        n = video_info(path).n_frames
    return len(range(0, n, max(1, frame_step))[:max_frames])

