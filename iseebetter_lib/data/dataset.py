"""Training samples as the paper makes them: target + neighbours, aligned LR crops, the HR crop, flows, augmentation.

Clips come from the reader `DataConfig.source` names (`config.schema.TRAINING_SOURCES`, readers in `sources.py`;
Vimeo-90K: target im4, neighbours from the other six). Windows never cross clip or shot boundaries; neighbours
outside a clip follow `DataConfig.boundary`. With ``nFrames=1`` (a single-frame model) a sample has no
neighbours and no flows.

Flows are whole-LR-frame flows from the `FlowCache`, cropped and augmented with the frames (``flow_mode="cache"``),
or computed per sample on the augmented crop as the original does (``flow_mode="on_the_fly"``, for comparison).
Each item's crop and augmentation come from ``np.random.default_rng([seed, index])``: the same for any number of
DataLoader workers.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from iseebetter_lib.config import DataConfig
from iseebetter_lib.data.augment import Augment
from iseebetter_lib.data.flow_cache import FlowCache
from iseebetter_lib.data.sources import Clip, LazySeptuplet, source_clips
from iseebetter_lib.data.windows import neighbour_indices
from iseebetter_lib.deprecation import renamed
from iseebetter_lib.errors import UserError


def load_training_clips(cfg: DataConfig, split: str = "train", progress: bool = False) -> list:
    """The clips of one split for `cfg.source` (see module doc); with ``cfg.stills`` the train split also gets the
    panned still photographs of `stills.py`."""
    if cfg.stills and cfg.source == "vimeo90k":
        raise UserError("data.stills: panned stills can be added to embedded, folder or video clips, not to "
                        "Vimeo-90K septuplets")
    clips = source_clips(cfg, split, progress)
    if cfg.stills and split == "train":
        from iseebetter_lib.data.stills import still_clips

        clips += [Clip(name, frames, cfg.scale, cfg.degradation) for name, frames in still_clips()]
    return clips


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
            lazy = isinstance(clip, LazySeptuplet)
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
            targets = [3] if isinstance(clip, LazySeptuplet) else range(len(clip))
            self.samples.extend((c, t) for t in targets)
        self.length = len(self.samples) if length is None else int(length)
        self.cache = FlowCache(Path(cfg.cache_dir), cfg.flow)
        self._digests: dict[int, dict[int, str]] = {}  # per in-memory clip: frame index -> content digest
        if precompute is None:
            precompute = flow_mode == "cache" and not any(isinstance(c, LazySeptuplet) for c in self.clips)
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
            memo = None if isinstance(clip, LazySeptuplet) else self._digests.setdefault(c, {})
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
