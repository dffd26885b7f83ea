"""Temporal profiles shared by chapters 05 and 07: consecutive frames of an LR crop through bicubic, our model and
other generators, and the HR row whose profile over time shows flicker."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from iseebetter_lib.book.zoom import eval_clip, fit_box

# Temporal profile: an LR crop (y, x, h, w) of calendar and an HR row inside it (through the lettering).
PROFILE_CLIP = "calendar"
PROFILE_CROP = (40, 20, 48, 96)
PROFILE_ROW = 60


def profile_row(videos: Mapping[str, np.ndarray], row: int = PROFILE_ROW) -> int:
    """The HR row of the temporal profile, inside the (possibly cropped) videos."""
    return min(row, min(v.shape[1] for v in videos.values()) - 1)


def super_resolve(generator: Any, model_cfg: Any, lr: np.ndarray, device: str = "cpu",
                  inference_cfg: Any = None) -> np.ndarray:
    """All frames of an LR clip (T, h, w, 3) uint8 through the model, as `inference_cfg` says (today's defaults
    when None): (T, H, W, 3) uint8."""
    from iseebetter_lib.inference import super_resolve_clip

    return np.stack(list(super_resolve_clip(generator, lr, model_cfg, device=device, progress=False,
                                            inference_cfg=inference_cfg)))


def temporal_profile_videos(generator: Any, model_cfg: Any, vid4_root: str | Path, n_frames: int,
                            inference_cfg: Any = None, clip: str = PROFILE_CLIP,
                            crop: tuple[int, int, int, int] = PROFILE_CROP, dataset: str = "vid4",
                            others: Mapping[str, tuple[Any, Any]] | None = None,
                            device: str = "cpu") -> dict[str, np.ndarray]:
    """Consecutive frames of an LR crop of `clip`: bicubic / ours / `others` (name -> (generator, model config)) /
    ground truth, (T, H, W, 3) uint8 each; `generator` None leaves out "ours"."""
    from iseebetter_lib.evaluation.upscalers import bicubic_upscale

    s = model_cfg.scale_factor if model_cfg is not None else 4
    frames = eval_clip(vid4_root, clip, n_frames, s, dataset)
    y, x, h, w = fit_box(crop, frames.lr.shape[1], frames.lr.shape[2])
    lr_crop = np.ascontiguousarray(frames.lr[:, y:y + h, x:x + w])
    hr_box = (slice(None), slice(y * s, (y + h) * s), slice(x * s, (x + w) * s))
    videos = {"bicubic": bicubic_upscale(frames.lr, s)[hr_box]}
    if generator is not None:
        videos["ours"] = super_resolve(generator, model_cfg, lr_crop, device, inference_cfg=inference_cfg)
    for name, (net, cfg) in (others or {}).items():
        videos[name] = super_resolve(net, cfg, lr_crop, device)
    videos["ground truth"] = frames.hr[hr_box]
    return videos
