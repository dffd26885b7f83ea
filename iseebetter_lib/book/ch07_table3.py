"""Chapter 07: the published RBPN and iSeeBetter generators scored on Vid4 in both protocols, set beside the paper's
Table 3 (what chapter 05 shares is `book.published_models`); a time estimate measured on this machine before any long
run."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from iseebetter_lib.book.published_models import PAPER_COLUMNS, missing_line, published_status

PROBE_SIDE = 32  # LR side of the timing probe


def scored_lr_pixels(vid4_root: str | Path, frame_step: int = 1, max_frames: int | None = None,
                     scale: int = 4) -> tuple[int, int]:
    """(number of scored frames, their total LR pixels) on the Vid4 clips under `vid4_root`."""
    from PIL import Image

    from iseebetter_lib.data import list_clip_folders, list_frame_files

    frames = pixels = 0
    for folder in list_clip_folders(vid4_root):
        files = list_frame_files(folder)[:max_frames or None]
        with Image.open(files[0]) as img:
            w, h = img.size
        n = len(range(0, len(files), frame_step))
        frames += n
        pixels += n * (h // scale) * (w // scale)
    return frames, pixels


def estimate_seconds(vid4_root: str | Path, frame_step: int = 1, max_frames: int | None = None, n_models: int = 2,
                     device: str = "auto", precision: str = "fp32") -> dict[str, Any]:
    """Time one paper-configuration frame (flow + RBPN, random weights) on a small LR probe on `device`, and scale
    it by the LR pixels of the scored frames and the number of models."""
    import torch

    from iseebetter_lib.config import ModelConfig
    from iseebetter_lib.device import resolve_device
    from iseebetter_lib.models import build_generator
    from iseebetter_lib.inference import super_resolve_clip

    dev = str(resolve_device(device))
    cfg = ModelConfig()
    torch.manual_seed(0)
    net = build_generator(cfg).to(dev).eval()
    probe = np.random.default_rng(0).integers(0, 256, (1, PROBE_SIDE, PROBE_SIDE, 3), dtype=np.uint8)
    run = lambda: list(super_resolve_clip(net, probe, cfg, device=dev, precision=precision, progress=False))  # noqa
    if dev.startswith("cuda"):
        run()  # warm-up: kernel selection
    t0 = time.perf_counter()
    run()
    probe_s = time.perf_counter() - t0
    frames, pixels = scored_lr_pixels(vid4_root, frame_step, max_frames)
    seconds = n_models * probe_s * pixels / PROBE_SIDE ** 2
    return {"device": dev, "frames": frames, "probe_s": probe_s, "seconds": seconds,
            "text": (f"{n_models} model(s) x {frames} Vid4 frames on {dev}: about {_duration(seconds)} "
                     f"(measured {probe_s:.2f} s for a {PROBE_SIDE}x{PROBE_SIDE} LR frame, scaled by pixels)")}


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def should_run(estimate: Mapping[str, Any], accept_cpu_hours: bool) -> tuple[bool, str]:
    """Run on a GPU always; on a CPU only when the user accepted the printed time."""
    if str(estimate["device"]).startswith("cuda") or accept_cpu_hours:
        return True, f"Evaluating: {estimate['text']}."
    return False, (f"Not evaluating the published generators on this CPU ({estimate['text']}): run the chapter with "
                   "`accept_cpu_hours=True` to accept that time, or on a GPU.")


@dataclass
class Plan:
    """What chapter 07 can do here: Vid4's folder (None when absent), the published files, the time estimate and
    whether the published generators run; `notes` are the lines to show the reader."""

    vid4_root: Path | None
    status: dict[str, Path | None]
    estimate: dict[str, Any] = field(default_factory=lambda: {"device": "cpu"})
    run_models: bool = False
    notes: list[str] = field(default_factory=list)


def plan(vid4_root: str | Path | None, frame_step: int, max_frames: int | None, device: str, precision: str,
         accept_cpu_hours: bool) -> Plan:
    """Vid4 from `vid4_root` or the data home; without it only the paper's table is shown (and how to fetch it)."""
    from iseebetter_lib.data import home

    root = Path(vid4_root) if vid4_root else home.vid4_root(required=False)
    status = published_status()
    missing = missing_line(status)
    result = Plan(root, status, notes=[missing] if missing else [])
    if root is None:
        result.notes.append(f"**Vid4 is not in the data home ({home.data_home()}): only the paper's numbers are "
                            f"shown. Fetch it with `{home.FETCH_VID4}` and run the chapter again.**")
        return result
    result.estimate = estimate_seconds(root, frame_step, max_frames, sum(p is not None for p in status.values()) or 2,
                                       device, precision)
    run, decision = should_run(result.estimate, accept_cpu_hours)
    result.run_models = run and not missing
    result.notes.append(decision if not missing else f"Time it would take: {result.estimate['text']}.")
    return result


def evaluate_bicubic(vid4_root: str | Path, frame_step: int = 1, max_frames: int | None = None) -> dict[str, Any]:
    """MATLAB bicubic on the scored frames, both protocols, frames kept for the figures."""
    from iseebetter_lib.evaluation import EvalOptions, evaluate

    return evaluate(EvalOptions("vid4", vid4_root, method="bicubic", frame_step=frame_step, max_frames=max_frames,
                                keep_frames=True, progress=False))


def paper_rows() -> list[dict[str, Any]]:
    """The paper's Table 3 columns alone (Bicubic, RBPN/6-PF, iSeeBetter), per clip and average."""
    from iseebetter_lib.evaluation.tables import paper_table3

    table = paper_table3()
    clips = [c for c in table[PAPER_COLUMNS[0]] if c != "average"] + ["average"]
    return [{"clip": clip, **{f"paper {m}": "-" if (cell := table[m].get(clip)) is None
                              else f"{cell['psnr']:.2f}/{cell['ssim']:.3f}" for m in PAPER_COLUMNS}}
            for clip in clips]


def load_published(status: Mapping[str, Path | None], device: str = "cpu") -> dict[str, tuple[Any, Any]]:
    """Label -> (generator in eval mode, model configuration) of each present published file."""
    from iseebetter_lib.models.checkpoints import load_generator

    return {label: load_generator(path, device=device) for label, path in status.items() if path is not None}
