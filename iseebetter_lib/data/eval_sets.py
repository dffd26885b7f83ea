"""Evaluation clips: ground truth (mod-cropped to the scale) and its LR version made by the chosen degradation.

`load_eval_clips("vid4")` reads Vid4 from the data home (`data.home`); any folder of clip folders
(Vid4/SPMCS layout) works too. LR frames come from `degrade` (BI: MATLAB-compatible bicubic; BD: Gaussian blur +
subsampling); with `cache_dir` they are kept on disk as ``.npy`` keyed by the GT files (names, sizes, mtimes),
degradation, scale and frame selection.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from iseebetter_lib.data.degrade import degrade, modcrop
from iseebetter_lib.data.readers import list_clip_folders, list_frame_files, read_frame_folder
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_path


@dataclass
class EvalClip:
    name: str
    hr: np.ndarray  # (T, H, W, 3) uint8, H and W multiples of the scale
    lr: np.ndarray  # (T, H/s, W/s, 3) uint8


def crop_ground_truth(hr: np.ndarray, scale: int, label: str | os.PathLike) -> np.ndarray:
    """GT frames (T, H, W, 3) mod-`scale` cropped at the bottom/right, warning (naming `label`) when it crops."""
    cropped = modcrop(hr, scale)
    if cropped.shape != hr.shape:
        warnings.warn(f"{label}: frame size {hr.shape[2]}x{hr.shape[1]} is not divisible by {scale}: ground truth "
                      f"cropped to {cropped.shape[2]}x{cropped.shape[1]} (bottom/right)", stacklevel=3)
    return cropped


def vid4_root() -> Path:
    """Vid4 ground truth in the data home (`data.home.vid4_root`); a one-line error saying how to fetch it."""
    from iseebetter_lib.data.home import vid4_root as locate

    return locate()


def _lr_cache_path(cache_dir: Path, folder: Path, files: list[Path], degradation: str, scale: int) -> Path:
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{folder.resolve()}|{degradation}|{scale}".encode())
    for f in files:
        st = f.stat()
        h.update(f"|{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return cache_dir / "eval_lr" / f"{folder.name}-{degradation}x{scale}-{h.hexdigest()}.npy"


def load_eval_clips(name_or_root: str | os.PathLike = "vid4", degradation: str = "BI", scale: int = 4,
                    max_frames: int | None = None, frame_step: int = 1,
                    cache_dir: str | os.PathLike | None = None, clips: list[str] | None = None) -> list[EvalClip]:
    """Clips of an evaluation set with their LR frames; `clips` restricts to some clip names."""
    root = vid4_root() if str(name_or_root).lower() == "vid4" else Path(name_or_root)
    if not root.exists():
        raise UserError(f"{root}: evaluation set not found (expected 'vid4' or a folder of clip folders)")
    if degradation not in ("BI", "BD"):
        raise UserError(f"degradation={degradation!r} must be 'BI' or 'BD'")
    folders = list_clip_folders(root)
    if clips is not None:
        unknown = sorted(set(clips) - {f.name for f in folders})
        if unknown:
            raise UserError(f"{root}: no clip named {', '.join(unknown)}")
        folders = [f for f in folders if f.name in clips]
    out = []
    for folder in folders:
        hr = read_frame_folder(folder, max_frames=max_frames, frame_step=frame_step)
        cropped = crop_ground_truth(hr, scale, folder)
        lr = None
        path = None
        if cache_dir is not None:
            files = list_frame_files(folder)[::max(1, frame_step)][:max_frames]
            path = _lr_cache_path(Path(cache_dir), folder, files, degradation, scale)
            try:
                lr = np.load(path, allow_pickle=False) if path.is_file() else None
            except (OSError, ValueError, EOFError):
                lr = None
            expected = (len(cropped), cropped.shape[1] // scale, cropped.shape[2] // scale, 3)
            if lr is not None and (lr.shape != expected or lr.dtype != np.uint8):
                lr = None
        if lr is None:
            lr = degrade(cropped, scale, degradation)
            if path is not None:
                with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                    np.save(fh, lr, allow_pickle=False)
        out.append(EvalClip(folder.name, cropped, lr))
    return out
