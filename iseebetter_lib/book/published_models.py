"""The published RBPN and iSeeBetter generators beside ours (chapters 05 and 07): which files are in the data home,
their evaluation on Vid4 in both protocols, the comparison rows beside the paper's Table 3 and the zoomed crops."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from iseebetter_lib.data.home import weight_path
from iseebetter_lib.data.published import FETCH_NAMES, ISEEBETTER_4X, RBPN_4X

# Our label -> (published file, the paper's Table 3 column for the same method).
PUBLISHED = {"published RBPN": (RBPN_4X, "RBPN/6-PF"), "published iSeeBetter": (ISEEBETTER_4X, "iSeeBetter")}
PAPER_COLUMNS = ("Bicubic", "RBPN/6-PF", "iSeeBetter")


def published_status() -> dict[str, Path | None]:
    """Label -> the published file in the data home, or None when it is missing."""
    return {label: (p if (p := weight_path(name)).is_file() else None) for label, (name, _) in PUBLISHED.items()}


def missing_line(status: Mapping[str, Path | None]) -> str | None:
    """One line naming `iseebetter fetch` for the missing published files (None when all are present)."""
    missing = [PUBLISHED[label][0] for label, path in status.items() if path is None]
    if not missing:
        return None
    return (f"Published weights not found ({', '.join(str(weight_path(n)) for n in missing)}): download them with "
            f"`iseebetter fetch {' '.join(FETCH_NAMES[n] for n in missing)}`.")


def evaluate_published(status: Mapping[str, Path | None], vid4_root: str | Path, frame_step: int = 1,
                       max_frames: int | None = None, device: str = "auto",
                       precision: str = "fp32") -> dict[str, dict[str, Any]]:
    """Label -> evaluation (both protocols, frames kept) of each present published generator."""
    from iseebetter_lib.evaluation import EvalOptions, evaluate

    options = EvalOptions("vid4", vid4_root, frame_step=frame_step, max_frames=max_frames, baselines=(),
                          keep_frames=True, progress=False)
    return {label: evaluate(options, path, {"device": device, "precision": precision})
            for label, path in status.items() if path is not None}


def table_rows(results: Mapping[str, Mapping[str, Any]], protocol: str = "y",
               paper: bool = True) -> list[dict[str, Any]]:
    """Per clip and average: each result's PSNR/SSIM on Y (``protocol="y"``) or the original script's RGB PSNR
    (``"rgb"``), beside the paper's Table 3 (Bicubic, RBPN/6-PF, iSeeBetter; protocol not stated)."""
    from iseebetter_lib.evaluation.tables import paper_table3

    table = paper_table3()
    first = next(iter(results.values()))
    rows = []
    for clip in [*first["clips"], "average"]:
        row: dict[str, Any] = {"clip": clip}
        for label, res in results.items():
            cell = res["average"] if clip == "average" else res["clips"].get(clip)
            key = f"{label} Y" if protocol == "y" else f"{label} RGB"
            if cell is None:
                row[key] = "-"
            else:
                row[key] = (f"{cell['psnr_y']:.2f}/{cell['ssim_y']:.4f}" if protocol == "y"
                            else f"{cell['psnr_rgb_orig']:.2f}")
        for method in PAPER_COLUMNS if paper else ():
            cell = table[method].get(clip)
            row[f"paper {method}"] = "-" if cell is None else f"{cell['psnr']:.2f}/{cell['ssim']:.3f}"
        rows.append(row)
    return rows


def zoom_sets(results: Mapping[str, Mapping[str, Any]], vid4_root: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """Per clip, the first scored frame of every result (kept frames) and the ground truth (HR uint8)."""
    from iseebetter_lib.data.readers import read_frame_folder

    first = next(iter(results.values()))
    sets = {}
    for clip in first["_frames"]:
        t = first["clips"][clip]["frame_indices"][0]
        images = {label: res["_frames"][clip][0] for label, res in results.items() if clip in res.get("_frames", {})}
        shape = images[next(iter(images))].shape
        gt = read_frame_folder(Path(vid4_root) / clip, max_frames=t + 1)[t]
        sets[clip] = {**images, "ground truth": gt[: shape[0], : shape[1]]}
    return sets
