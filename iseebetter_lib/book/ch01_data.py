"""Chapter 01: sample material, the downscaling comparison, scene cuts, the embedded dataset's clips and split, one
training sample, Vid4 and the BD check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from iseebetter_lib.book.samples import sample_video_paths


def downscaling_comparison(hr: np.ndarray) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    """LR versions of one HR frame by MATLAB-bicubic (BI), blur+subsample (BD), PIL bicubic and OpenCV INTER_CUBIC /
    INTER_AREA, and the PSNR between each pair of the bicubic-like ones (how far 'bicubic' implementations differ)."""
    from PIL import Image

    from iseebetter_lib.data import degrade, modcrop
    from iseebetter_lib.evaluation.metrics import psnr

    hr = modcrop(hr, 4)
    h, w = hr.shape[0] // 4, hr.shape[1] // 4
    lrs = {"BI (MATLAB bicubic)": degrade(hr, 4, "BI"), "BD (blur 1.6 + subsample)": degrade(hr, 4, "BD"),
           "PIL bicubic": np.asarray(Image.fromarray(hr).resize((w, h), Image.BICUBIC))}
    try:
        import cv2

        lrs["OpenCV INTER_CUBIC"] = cv2.resize(hr, (w, h), interpolation=cv2.INTER_CUBIC)
        lrs["OpenCV INTER_AREA"] = cv2.resize(hr, (w, h), interpolation=cv2.INTER_AREA)
    except ImportError:  # pragma: no cover - opencv is an optional extra
        pass
    ref = lrs["BI (MATLAB bicubic)"]
    rows = [{"LR made by": k, "PSNR vs BI (dB)": ("(reference)" if k.startswith("BI") else psnr(v, ref))}
            for k, v in lrs.items()]
    return lrs, rows


def scene_cuts(video: str = "bikes") -> dict[str, Any]:
    """Cut scores, detected cuts and shots of a sample video."""
    from iseebetter_lib.data.scenecut import cut_scores, detect_cuts, shots
    from iseebetter_lib.data.video import read_video

    frames = read_video(sample_video_paths()[video])
    mad, hist = cut_scores(frames)
    cuts = detect_cuts(frames)
    thumbs = [frames[max(c - 1, 0)] for c in cuts[:3]] + [frames[c] for c in cuts[:3]]
    return {"video": video, "n_frames": len(frames), "mad": mad, "hist": hist, "cuts": cuts,
            "shots": shots(len(frames), cuts), "pairs": [(frames[c - 1], frames[c]) for c in cuts[:3]],
            "thumbs": thumbs}


def cut_figure(info: dict[str, Any]) -> Any:
    """The difference signal with the cuts marked, and the frames on both sides of the first cuts."""
    n = len(info["pairs"])
    fig = plt.figure(figsize=(10, 2.6 + 1.6 * (n > 0)))
    ax = fig.add_subplot(2 if n else 1, 1, 1)
    ax.plot(np.arange(1, len(info["mad"]) + 1), info["mad"], lw=1)
    for c in info["cuts"]:
        ax.axvline(c, color="red", lw=1, alpha=0.7)
    ax.set_xlabel("frame", fontsize=8)
    ax.set_ylabel("mean |diff| (0..255)", fontsize=8)
    ax.set_title(f"{info['video']}: consecutive-frame difference, cuts in red", fontsize=9)
    for i, (a, b) in enumerate(info["pairs"]):
        for j, img in enumerate((a, b)):
            sub = fig.add_subplot(2, 2 * n, 2 * n + 2 * i + j + 1)
            sub.imshow(img)
            sub.set_title(f"cut {info['cuts'][i]}: {'before' if j == 0 else 'after'}", fontsize=7)
            sub.axis("off")
    fig.tight_layout()
    return fig


def embedded_clips(cache_dir: str | Path) -> dict[str, Any]:
    """The embedded dataset (built on first use in `cache_dir`): one row per clip (shot) with its split and size."""
    import json

    from iseebetter_lib.data.embedded import embedded_dataset

    root = Path(embedded_dataset(cache_dir, progress=False))
    manifest = json.loads((root / "manifest.json").read_text())
    rows = [{"clip": name, "video": c["video"], "frames of source": f"{c['start']}..{c['stop'] - 1}",
             "split": c["split"], "frames": c["n_frames"], "HR size": f"{c['size'][0]}x{c['size'][1]}"}
            for name, c in manifest["clips"].items()]
    per = manifest["frames_per_split"]
    summary = (f"{len(rows)} clips (shots) in `{root.name}`; frames per split: "
               + ", ".join(f"{k} {v}" for k, v in per.items()) + ". Shots are never split across train/val/test.")
    return {"root": root, "rows": rows, "summary": summary}


def stills_overview(size: int = 144) -> dict[str, Any]:
    """The panned still photographs that ``data.stills`` adds to the train split: a centre crop of the first frame of
    each full-size clip (`size` px square) for a grid, and a one-line summary."""
    from iseebetter_lib.data.stills import STILLS, clip_id, still_clips

    clips = still_clips()
    by_id = dict(clips)
    images, titles = [], []
    for name in STILLS:
        frames = by_id.get(clip_id(name, 1.0))
        if frames is not None:
            h, w = frames.shape[1:3]
            y, x = max(0, (h - size) // 2), max(0, (w - size) // 2)
            images.append(frames[0, y:y + size, x:x + size])
            titles.append(name)
    n = sum(len(f) for _, f in clips)
    summary = (f"{len(clips)} panned clips ({n} frames) from {len(images)} photographs, at their own size and at "
               "half size; a straight camera path with jitter, whole HR pixels per frame.")
    return {"images": images, "titles": titles, "summary": summary}


def training_sample(preset_name: str, cache_dir: str | Path, seed: int,
                    data_root: str | Path | None = None) -> dict[str, Any]:
    """One item of the training dataset of a preset (numpy arrays); `data_root`: the dataset folder (Vimeo-90K)."""
    from iseebetter_lib.config import preset
    from iseebetter_lib.data.dataset import TrainingDataset

    values = {"data.cache_dir": str(cache_dir)} | ({"data.root": str(data_root)} if data_root is not None else {})
    cfg = preset(preset_name).override(values)
    ds = TrainingDataset(cfg.data, "train", seed=seed, progress=False)  # builds the flow cache chapter 03 reuses
    index = len(ds) // 3  # inside a clip: at a clip's first frame the past neighbour is the target (zero flow)
    item = ds[index]
    return {k: (v.numpy() if hasattr(v, "numpy") else v) for k, v in item.items()} | {"n_items": len(ds),
                                                                                      "index": index}


def sample_figure(sample: dict[str, Any]) -> Any:
    """Target, neighbours, their flows (colour wheel) and the HR patch of one sample."""
    from iseebetter_lib.flow import flow_to_color

    img = lambda t: np.clip(np.transpose(t, (1, 2, 0)) * 255 + 0.5, 0, 255).astype(np.uint8)  # noqa: E731
    nbs, fls = sample["neighbours"], sample["flows"]
    n = len(nbs)
    fig, axes = plt.subplots(2, n + 1, figsize=(2.4 * (n + 1), 5.0))
    axes[0, 0].imshow(img(sample["target"]))
    axes[0, 0].set_title("target (LR)", fontsize=8)
    axes[1, 0].imshow(img(sample["hr"]))
    axes[1, 0].set_title("HR patch (ground truth)", fontsize=8)
    norm = max(float(np.hypot(f[0], f[1]).max()) for f in fls) or 1.0
    for j in range(n):
        axes[0, j + 1].imshow(img(nbs[j]))
        axes[0, j + 1].set_title(f"neighbour {j + 1}", fontsize=8)
        axes[1, j + 1].imshow(flow_to_color(fls[j], norm))
        axes[1, j + 1].set_title(f"flow to neighbour {j + 1}", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    return fig


def vid4_frame(vid4_root: str | Path, clip: str, t: int = 0) -> np.ndarray:
    from iseebetter_lib.data.readers import read_frame_folder

    return read_frame_folder(Path(vid4_root) / clip, max_frames=t + 1)[t]


def vid4_rows(vid4_root: str | Path) -> list[dict[str, Any]]:
    """Clip, frame count and size of each Vid4 clip."""
    from iseebetter_lib.data.readers import list_clip_folders, list_frame_files

    rows = []
    for folder in list_clip_folders(vid4_root):
        files = list_frame_files(folder)
        h, w = plt.imread(files[0]).shape[:2]
        rows.append({"clip": folder.name, "frames": len(files), "size (W x H)": f"{w} x {h}"})
    return rows


def bd_check(vid4_root: str | Path) -> str:
    """PSNR of our BD degradation of calendar's first frame against the shipped BDx4 LR frame."""
    from iseebetter_lib.data import degrade, modcrop
    from iseebetter_lib.data.readers import read_frame_folder
    from iseebetter_lib.evaluation.metrics import psnr

    from iseebetter_lib.data.home import locate

    bd_dir = Path(vid4_root).parent / "BDx4" / "calendar"
    bd_dir = bd_dir if bd_dir.is_dir() else (locate("vid4_bd") or Path(vid4_root).parent / "vid4_bd") / "calendar"
    if not bd_dir.is_dir():
        return f"(no BD reference frames at {bd_dir})"
    ours = degrade(modcrop(vid4_frame(vid4_root, "calendar"), 4), 4, "BD")
    ref = read_frame_folder(bd_dir, max_frames=1)[0]
    return f"calendar frame 1, our BD vs the shipped BDx4 frame: **{psnr(ours, ref):.2f} dB** (identical recipe: high)."


def test_set_summary(test_set: Any, rows: list[dict[str, Any]]) -> str:
    """What the scoring chapters use as their test set in this run, named from what is actually there."""
    frames = sum(r["frames"] for r in rows)
    if test_set.is_vid4:
        return f"The chapters that score a model use **Vid4** in this run: {len(rows)} clips, {frames} frames."
    return (f"Vid4 is not in the data home, so the chapters that score a model use the **held-out clips of the "
            f"sample videos** in this run: {len(rows)} clip(s), {frames} frames, never seen in training. Their "
            f"numbers are not comparable with the paper's.")


def y_channel_rows(hr: np.ndarray) -> list[dict[str, Any]]:
    """The bicubic x4 reconstruction of one frame (BI down, MATLAB bicubic up) scored on RGB and on Y (BT.601):
    the same images, two protocols."""
    from iseebetter_lib.data import degrade, imresize, modcrop
    from iseebetter_lib.evaluation.metrics import psnr, psnr_y, ssim_y

    hr = modcrop(hr, 4)
    sr = imresize(degrade(hr, 4, "BI"), 4.0)
    return [{"protocol": "PSNR on RGB", "value": psnr(sr, hr)},
            {"protocol": "PSNR on Y (BT.601)", "value": psnr_y(sr, hr)},
            {"protocol": "SSIM on Y", "value": ssim_y(sr, hr)}]
