"""Evaluation clips: ground truth (mod-cropped to the scale) and its LR version made by the chosen degradation.

`EvalSet("vid4")` reads Vid4 from the data home (`data.home`) lazily, one clip at a time; any folder of clip folders
(Vid4/SPMCS layout) and Vimeo-90K septuplets work too. LR frames come from `degrade` (BI: MATLAB-compatible bicubic;
BD: Gaussian blur + subsampling); with `cache_dir` they are kept on disk as ``.npy`` keyed by the GT files (names, sizes, mtimes),
degradation, scale and frame selection.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from iseebetter_lib.config.schema import DEGRADATIONS, EVAL_DATASETS
from iseebetter_lib.data.degrade import degrade, modcrop
from iseebetter_lib.data.readers import count_frames, list_clip_folders, list_frame_files, read_frames
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_path, read_text


@dataclass
class EvalClip:
    name: str
    hr: np.ndarray  # (T, H, W, 3) uint8, H and W multiples of the scale
    lr: np.ndarray  # (T, H/s, W/s, 3) uint8


def vid4_root() -> Path:
    """Vid4 ground truth in the data home (`data.home.vid4_root`); a one-line error saying how to fetch it."""
    from iseebetter_lib.data.home import vid4_root as locate

    return locate()


def _lr_cache_path(cache_dir: Path, folder: Path, files: list[Path], degradation: str, scale: int,
                   selection: str = "") -> Path:
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{folder.resolve()}|{degradation}|{scale}{selection}".encode())
    for f in files:
        st = f.stat()
        h.update(f"|{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return cache_dir / "eval_lr" / f"{folder.name}-{degradation}x{scale}-{h.hexdigest()}.npy"



def _clip_sources(dataset: str, root: Path, list_file: str | os.PathLike | None) -> list[tuple[str, Path]]:
    """(clip name, path) of every clip of the set: Vimeo septuplets, or the clip folders and videos of `root` (`root`
    itself when it holds frames), restricted to the names of `list_file`."""
    from iseebetter_lib.data.readers import IMAGE_EXTS, VIDEO_EXTS, list_vimeo_septuplets, natural_sort

    wanted = None if list_file is None else [ln.strip() for ln in read_text(list_file, "list file").splitlines()]
    if dataset == "vimeo90k":
        return [(f"{f.parent.name}/{f.name}", f) for f in list_vimeo_septuplets(root, list_file, split="test")]
    if any(p.is_file() and p.suffix.lower() in IMAGE_EXTS for p in root.iterdir()):
        sources = [(root.name, root)]
    else:
        videos = natural_sort(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTS)
        sources = [(f.name, f) for f in list_clip_folders(root)] + [(Path(v).stem, Path(v)) for v in videos]
    if list_file is not None:
        wanted = [w for w in wanted if w]
        by_name = dict(sources)
        unknown = [w for w in wanted if w not in by_name]
        if unknown:
            raise UserError(f"{list_file}: clip {unknown[0]!r} is not a frame folder or video of {root}")
        sources = [(w, by_name[w]) for w in wanted]
    return sources


class EvalSet:
    """The clips of an evaluation set, read lazily: one clip (GT and LR) in memory at a time.

    `dataset`: "vid4" (default root `vid4_root()`), "folder" (a folder of clip folders and videos, or of frames: one
    clip) or
    "vimeo90k" (septuplets; `list_file` or the root's ``sep_testlist.txt``). `list_file` / `clips` keep some clip
    names; `max_frames` / `frame_step` select GT frames; with `cache_dir` the LR frames are kept on disk as ``.npy``
    keyed by the GT files (names, sizes, mtimes), degradation and scale.
    """

    def __init__(self, dataset: str = "vid4", root: str | os.PathLike | None = None, degradation: str = "BI",
                 scale: int = 4, max_frames: int | None = None, frame_step: int = 1,
                 cache_dir: str | os.PathLike | None = None, clips: list[str] | None = None,
                 list_file: str | os.PathLike | None = None) -> None:
        if dataset not in EVAL_DATASETS:
            raise UserError(f"--dataset {dataset!r}: expected one of {', '.join(EVAL_DATASETS)}")
        if degradation not in DEGRADATIONS:
            raise UserError(f"--degradation {degradation!r}: expected {' or '.join(DEGRADATIONS)}")
        if max_frames is not None and max_frames < 1:
            raise UserError(f"--max-frames {max_frames}: must be >= 1")
        if root is None and dataset != "vid4":
            raise UserError(f"--root: required for --dataset {dataset}")
        self.root = vid4_root() if root is None else Path(root)
        if not self.root.is_dir():
            raise UserError(f"{self.root}: evaluation set not found (expected a folder of clip folders)")
        self.dataset, self.degradation, self.scale = dataset, degradation, scale
        self.max_frames, self.frame_step = max_frames, max(1, frame_step)
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.sources = _clip_sources(dataset, self.root, list_file)
        if clips is not None:
            unknown = sorted(set(clips) - {name for name, _ in self.sources})
            if unknown:
                raise UserError(f"{self.root}: no clip named {', '.join(unknown)}")
            self.sources = [(n, f) for n, f in self.sources if n in clips]

    def __len__(self) -> int:
        return len(self.sources)

    def frame_files(self, source: Path) -> list[Path]:
        """The files one clip's GT frames are read from (a video: the file itself)."""
        if self.dataset == "vimeo90k":
            return [source / f"im{i}.png" for i in range(1, 8)]
        if not source.is_dir():
            return [source]
        return list_frame_files(source)[::self.frame_step][:self.max_frames]

    def frame_counts(self) -> list[int]:
        """Frames of each clip, from the file lists and video headers (no frame is decoded)."""
        if self.dataset == "vimeo90k":
            return [7] * len(self.sources)
        return [count_frames(source, self.max_frames, self.frame_step) for _, source in self.sources]

    def __iter__(self) -> Iterator[EvalClip]:
        for name, folder in self.sources:
            yield self._clip(name, folder)

    def _clip(self, name: str, folder: Path) -> EvalClip:
        from iseebetter_lib.data.readers import read_septuplet

        hr = (read_septuplet(folder) if self.dataset == "vimeo90k"
              else read_frames(folder, max_frames=self.max_frames, frame_step=self.frame_step))
        cropped = modcrop(hr, self.scale, warn=True, label=name if self.dataset == "vimeo90k" else str(folder))
        lr, path = None, None
        if self.cache_dir is not None:
            selection = "" if folder.is_dir() else f"|frames {self.max_frames} step {self.frame_step}"
            path = _lr_cache_path(self.cache_dir, folder, self.frame_files(folder), self.degradation, self.scale,
                                  selection)
            try:
                lr = np.load(path, allow_pickle=False) if path.is_file() else None
            except (OSError, ValueError, EOFError):
                lr = None
            expected = (len(cropped), cropped.shape[1] // self.scale, cropped.shape[2] // self.scale, 3)
            if lr is not None and (lr.shape != expected or lr.dtype != np.uint8):
                lr = None
        if lr is None:
            lr = degrade(cropped, self.scale, self.degradation)
            if path is not None:
                with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                    np.save(fh, lr, allow_pickle=False)
        return EvalClip(name, cropped, lr)


def load_eval_clips(name_or_root: str | os.PathLike = "vid4", degradation: str = "BI", scale: int = 4,
                    max_frames: int | None = None, frame_step: int = 1,
                    cache_dir: str | os.PathLike | None = None, clips: list[str] | None = None) -> list[EvalClip]:
    """All clips of an evaluation set in memory (`EvalSet` reads them one at a time); `clips` keeps some names."""
    vid4 = str(name_or_root).lower() == "vid4"
    return list(EvalSet("vid4" if vid4 else "folder", None if vid4 else name_or_root, degradation, scale,
                        max_frames, frame_step, cache_dir, clips))
