"""Zoomed crops shared by chapters 04b, 05 and 07: the zoom boxes of Vid4's clips, a box fitted to an image, and the
first scored frame of each clip as bicubic / ours / ground truth (`visual_sets`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

# Zoom boxes (y, x, height, width) in HR pixels, on textured regions like the paper's visual comparison.
ZOOM_BOXES = {"calendar": (200, 140, 100, 160), "city": (150, 460, 100, 160), "foliage": (180, 280, 100, 160),
              "walk": (150, 300, 100, 160)}


def fit_box(box: tuple[int, int, int, int], height: int, width: int) -> tuple[int, int, int, int]:
    """`box` (y, x, h, w) shrunk and shifted to lie inside a height x width image (unchanged when it fits)."""
    y, x, h, w = box
    h, w = min(h, height), min(w, width)
    return min(y, height - h), min(x, width - w), h, w


def zoom_box(clip_or_box: str | tuple[int, int, int, int], shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """A zoom box (a Vid4 clip's by name, or given), fitted to an HR image of `shape` (small crops in the dry run)."""
    box = ZOOM_BOXES[clip_or_box] if isinstance(clip_or_box, str) else clip_or_box
    return fit_box(box, shape[0], shape[1])


def eval_clip(root: str | Path, name: str, n_frames: int, scale: int, dataset: str = "vid4") -> Any:
    """The first `n_frames` of one clip by the evaluation's protocol (mod-cropped GT, BI LR)."""
    from iseebetter_lib.data.eval_sets import EvalSet

    return next(iter(EvalSet(dataset, root, scale=scale, max_frames=n_frames, clips=[name])))


def visual_sets(result: Mapping[str, Any], vid4_root: str | Path,
                dataset: str = "vid4") -> dict[str, dict[str, np.ndarray]]:
    """Per clip, the first scored frame as bicubic / ours / ground truth (HR uint8)."""
    from iseebetter_lib.evaluation.upscalers import bicubic_upscale

    scale = int(result["protocol"]["scale"])
    sets = {}
    for name, frames in result["_frames"].items():
        t = result["clips"][name]["frame_indices"][0]
        clip = eval_clip(vid4_root, name, t + 1, scale, dataset)
        sets[name] = {"bicubic": bicubic_upscale(clip.lr[t], scale), "ours": frames[0], "ground truth": clip.hr[t]}
    return sets
