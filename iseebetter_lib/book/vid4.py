"""Chapter 05: the Vid4 evaluation of the trained model beside the paper's Table 3, visual comparisons (zoomed
crops) and temporal profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from iseebetter_lib.book.experiments import same_frames_bicubic, super_resolve

# Zoom boxes (y, x, height, width) in HR pixels, on textured regions like the paper's visual comparison.
ZOOM_BOXES = {"calendar": (200, 140, 100, 160), "city": (150, 460, 100, 160), "foliage": (180, 280, 100, 160),
              "walk": (150, 300, 100, 160)}
# Temporal profile: an LR crop (y, x, h, w) of calendar and an HR row inside it (through the lettering).
PROFILE_CLIP = "calendar"
PROFILE_CROP = (40, 20, 48, 96)
PROFILE_ROW = 60


def fit_box(box: tuple[int, int, int, int], height: int, width: int) -> tuple[int, int, int, int]:
    """`box` (y, x, h, w) shrunk and shifted to lie inside a height x width image (unchanged when it fits)."""
    y, x, h, w = box
    h, w = min(h, height), min(w, width)
    return min(y, height - h), min(x, width - w), h, w


def zoom_box(clip: str, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The clip's zoom box, fitted to an HR image of `shape` (small crops of Vid4 in the dry run)."""
    return fit_box(ZOOM_BOXES[clip], shape[0], shape[1])


def profile_row(videos: Mapping[str, np.ndarray]) -> int:
    """The HR row of the temporal profile, inside the (possibly cropped) videos."""
    return min(PROFILE_ROW, min(v.shape[1] for v in videos.values()) - 1)


def evaluate_model(generator: Any, model_cfg: Any, vid4_root: str | Path, frame_step: int,
                   device: str = "cpu") -> dict[str, Any]:
    """Vid4 BI x4, both protocols, our model + MATLAB bicubic + torch bicubic on the same frames (kept frames)."""
    from iseebetter_lib.evaluation.evaluate import evaluate

    return evaluate("vid4", root=vid4_root, generator=generator, model_cfg=model_cfg, frame_step=frame_step,
                    device=device, keep_frames=True, progress=False)


def verdict(rows: list[dict[str, Any]]) -> str:
    """One sentence: does the trained model beat MATLAB bicubic and its own torch-bicubic base on average?"""
    avg = rows[-1]
    beats = avg["gain over MATLAB bicubic"] > 0 and avg["learned gain over own base"] > 0
    return (f"Average Y-PSNR: ours {avg['ours']:.2f} dB, MATLAB bicubic {avg['MATLAB bicubic']:.2f} dB, torch "
            f"bicubic (the model's residual base) {avg['torch bicubic (base)']:.2f} dB: gain "
            f"{avg['gain over MATLAB bicubic']:+.3f} dB over bicubic, learned gain "
            f"{avg['learned gain over own base']:+.3f} dB over its own base. "
            + ("**The trained model beats both.**" if beats else "**The trained model does NOT beat both.**"))


def visual_sets(result: Mapping[str, Any], vid4_root: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """Per clip, the first scored frame as bicubic / ours / ground truth (HR uint8)."""
    from iseebetter_lib.data.readers import read_frame_folder

    sets = {}
    for clip, frames in result["_frames"].items():
        t = result["clips"][clip]["frame_indices"][0]
        hr = read_frame_folder(Path(vid4_root) / clip, max_frames=t + 1)[t:t + 1]
        _, bic = same_frames_bicubic(hr)
        gt = hr[0, : bic.shape[1], : bic.shape[2]]
        sets[clip] = {"bicubic": bic[0], "ours": frames[0], "ground truth": gt}
    return sets


def temporal_profile_videos(generator: Any, model_cfg: Any, vid4_root: str | Path, n_frames: int,
                            others: Mapping[str, tuple[Any, Any]] | None = None,
                            device: str = "cpu") -> dict[str, np.ndarray]:
    """Consecutive frames of an LR crop of calendar: bicubic / ours / `others` (name -> (generator, model config)) /
    ground truth, (T, H, W, 3) uint8 each; `generator` None leaves out "ours"."""
    from iseebetter_lib.data.readers import read_frame_folder

    hr = read_frame_folder(Path(vid4_root) / PROFILE_CLIP, max_frames=n_frames)
    lr, bic = same_frames_bicubic(hr)
    y, x, h, w = fit_box(PROFILE_CROP, lr.shape[1], lr.shape[2])
    s = bic.shape[1] // lr.shape[1]
    lr_crop = np.ascontiguousarray(lr[:, y:y + h, x:x + w])
    hr_box = (slice(y * s, (y + h) * s), slice(x * s, (x + w) * s))
    videos = {"bicubic": bic[:, hr_box[0], hr_box[1]]}
    if generator is not None:
        videos["ours"] = super_resolve(generator, model_cfg, lr_crop, device)
    for name, (net, cfg) in (others or {}).items():
        videos[name] = super_resolve(net, cfg, lr_crop, device)
    videos["ground truth"] = hr[:, hr_box[0], hr_box[1]]
    return videos
