"""Chapter 04/04b: score one loss variant (JSON per variant) and compare all of them (one table, one figure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from iseebetter_lib.book.charts import value_dots
from iseebetter_lib.book.display import read_json, write_json
from iseebetter_lib.book.plots import floor_bars
from iseebetter_lib.config import LOSS_TERMS
from iseebetter_lib.errors import UserError

FILE = "ablation.json"
COLUMNS = ("variant", "w_pixel", "w_perceptual", "w_adversarial", "w_tv", "steps", "train s", "PSNR-Y", "SSIM-Y",
           "detail ratio", "bicubic detail ratio", "torch-bicubic PSNR-Y", "gain over base (dB)",
           "final pretrain loss", "final GAN G loss", "final pixel",
           "final perceptual", "final adversarial", "final tv", "NIQE", "NIQE note", "bicubic NIQE", "tOF",
           "bicubic tOF")


def score_variant(variant: str, weights: Mapping[str, float], summary: Mapping[str, Any], out_dir: str | Path,
                  eval_frames: int = 2, vid4_root: str | Path | None = None,
                  dataset: str = "vid4", frame_step: int = 1, crop_clip: str | None = None,
                  tof_frames: int = 0, tof_clip: str | None = None,
                  tof_crop: tuple[int, int, int, int] | None = None) -> dict[str, Any]:
    """Evaluate the variant's checkpoint on Vid4 (first `eval_frames` frames per clip, 0 = all, every
    `frame_step`-th) and write `out_dir/ablation.json` with one comparison row; the first scored frame of
    `crop_clip` is kept as `out_dir/crop_frame.npy` (with bicubic and ground truth) for the side-by-side crops.
    The row also holds NIQE of the scored outputs (where large enough) and tOF on `tof_frames` consecutive frames of
    an LR crop of `tof_clip` (`book.ablation_perception`). ``dataset="folder"``: another folder of clips."""
    from iseebetter_lib.evaluation import EvalOptions, evaluate, to_json_dict

    options = EvalOptions(dataset, vid4_root, max_frames=eval_frames or None, frame_step=frame_step,
                          baselines=["torch_bicubic", "bicubic"], progress=False, keep_frames=True)
    result = evaluate(options, summary["checkpoint"])
    perception = _perception(result, summary["checkpoint"], vid4_root, dataset, eval_frames,
                             (tof_frames, tof_clip, tof_crop))
    if crop_clip is not None:
        _save_crop_frames(result, crop_clip, vid4_root, dataset, Path(out_dir))
    last_pre = [r for r in summary["history"] if r.get("stage") == "pretrain"]
    last_gan = [r for r in summary["history"] if r.get("stage") == "gan"]
    row = {"variant": variant, **{f"w_{k}": float(v) for k, v in weights.items()}, "steps": summary["steps"],
           "train s": summary["seconds"], "PSNR-Y": result["average"]["psnr_y"],
           "SSIM-Y": result["average"]["ssim_y"], "detail ratio": result["average"].get("hf_ratio"),
           "bicubic detail ratio": result["baselines"]["bicubic"]["average"].get("hf_ratio"),
           "torch-bicubic PSNR-Y": result["baselines"]["torch_bicubic"]["average"]["psnr_y"],
           "final pretrain loss": last_pre[-1]["loss"] if last_pre else None,
           "final GAN G loss": last_gan[-1]["loss"] if last_gan else None}
    row["gain over base (dB)"] = row["PSNR-Y"] - row["torch-bicubic PSNR-Y"]
    row.update(perception)
    for term in LOSS_TERMS:  # weighted terms of the last GAN-stage window
        row[f"final {term}"] = last_gan[-1].get(term) if last_gan else None
    data = {"row": row, "evaluation": to_json_dict(result), "history": summary["history"]}
    write_json(Path(out_dir) / FILE, data)
    return data


def _perception(result: Mapping[str, Any], checkpoint: str | Path, root: str | Path | None, dataset: str,
                eval_frames: int, tof: tuple[int, str | None, Any]) -> dict[str, Any]:
    """NIQE of the kept outputs and of MATLAB bicubic on the same frames; tOF (`tof`: frames, clip, LR crop) of the
    model and of bicubic."""
    from iseebetter_lib.book.ablation_perception import niqe_of_frames, variant_tof
    from iseebetter_lib.book.temporal_profile import PROFILE_CROP
    from iseebetter_lib.data.eval_sets import EvalSet
    from iseebetter_lib.evaluation.upscalers import bicubic_upscale

    value, n, note = niqe_of_frames(result["_frames"])
    out: dict[str, Any] = {"NIQE": value, "NIQE frames": n, "NIQE note": note, "bicubic NIQE": None,
                           "tOF": None, "bicubic tOF": None}
    if value is not None:
        lr = {c.name: c.lr[result["clips"][c.name]["frame_indices"]]
              for c in EvalSet(dataset, root, "BI", 4, eval_frames or None) if c.name in result["_frames"]}
        out["bicubic NIQE"] = niqe_of_frames({k: bicubic_upscale(v) for k, v in lr.items()})[0]
    tof_frames, tof_clip, tof_crop = tof
    if tof_frames >= 2 and tof_clip is not None:
        out["tOF"], out["bicubic tOF"] = variant_tof(checkpoint, root, dataset, tof_clip, tof_crop or PROFILE_CROP,
                                                     tof_frames)
    return out


CROP_FILE = "crop_frame.npz"


def _save_crop_frames(result: Mapping[str, Any], clip: str, root: str | Path | None, dataset: str,
                      out_dir: Path) -> None:
    from iseebetter_lib.book.zoom import visual_sets

    frames = visual_sets({**result, "_frames": {clip: result["_frames"][clip]}}, root, dataset)[clip]
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / CROP_FILE, **{k.replace(" ", "_"): v for k, v in frames.items()})


def crop_images(ablation_dir: str | Path, variants: Sequence[str]) -> dict[str, np.ndarray]:
    """Bicubic, each variant and the ground truth on the same frame (what `score_variant` kept), for `zoom_crops`."""
    images: dict[str, np.ndarray] = {}
    last = None
    for name in variants:
        path = Path(ablation_dir) / name / CROP_FILE
        if not path.is_file():
            raise UserError(f"{path}: variant {name!r} kept no crop frame (run chapter 04 with crop_clip)")
        last = np.load(path)
        images.setdefault("bicubic", last["bicubic"])
        images[name] = last["ours"]
    if last is not None:
        images["ground truth"] = last["ground_truth"]
    return images


def collect_ablation(ablation_dir: str | Path, variants: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of every variant, in order; a missing variant is an error naming it."""
    rows = []
    for name in variants:
        path = Path(ablation_dir) / name / FILE
        if not path.is_file():
            raise UserError(f"{path}: ablation variant {name!r} has no result (run chapter 04 for it)")
        row = read_json(path)["row"]
        rows.append({k: row.get(k) for k in COLUMNS if k in row})
    return rows


def collect_histories(ablation_dir: str | Path, variants: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Each variant's logged training history (what `score_variant` stored), in order."""
    return {name: read_json(Path(ablation_dir) / name / FILE).get("history", []) for name in variants}


# the comparison in readable parts (<= 7 columns each), units in the headers: title -> (header, row key) pairs
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "Loss weights and training": (("variant", "variant"), ("pixel", "w_pixel"), ("perceptual", "w_perceptual"),
                                  ("adversarial", "w_adversarial"), ("tv", "w_tv"), ("steps", "steps"),
                                  ("training (s)", "train s")),
    "Quality on the test frames (Y channel)": (
        ("variant", "variant"), ("PSNR (dB)", "PSNR-Y"), ("SSIM", "SSIM-Y"),
        ("torch bicubic PSNR (dB)", "torch-bicubic PSNR-Y"), ("gain over bicubic (dB)", "gain over base (dB)"),
        ("detail ratio", "detail ratio"), ("bicubic detail ratio", "bicubic detail ratio")),
    "Perception (NIQE: no reference, lower = more natural; tOF: temporal flicker, lower = steadier)": (
        ("variant", "variant"), ("NIQE", "NIQE"), ("bicubic NIQE", "bicubic NIQE"), ("NIQE scored on", "NIQE note"),
        ("tOF", "tOF"), ("bicubic tOF", "bicubic tOF"), ("detail ratio", "detail ratio")),
    "Final losses (weighted terms, last GAN-stage logging window)": (
        ("variant", "variant"), ("pretrain loss", "final pretrain loss"), ("GAN G loss", "final GAN G loss"),
        ("pixel", "final pixel"), ("perceptual", "final perceptual"), ("adversarial", "final adversarial"),
        ("tv", "final tv")),
}


def ablation_tables(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The comparison rows split into the tables of `TABLES` (title -> rows with readable, unit-bearing headers)."""
    return {title: [{header: r.get(key) for header, key in columns} for r in rows]
            for title, columns in TABLES.items()}


def ablation_markdown(rows: Sequence[Mapping[str, Any]], floatfmt: str = ".5g") -> str:
    """The comparison as Markdown: one titled table per part of `TABLES`."""
    from iseebetter_lib.book.display import md_table

    return "\n\n".join(f"**{title}**\n\n{md_table(table, floatfmt=floatfmt)}"
                         for title, table in ablation_tables(rows).items())


def ablation_figure(rows: Sequence[Mapping[str, Any]], base: str, floor: float = 0.0,
                    repeats: Mapping[str, str] | None = None) -> Any:
    """Left: each variant's PSNR-Y minus `base`'s, with the noise floor as a grey band around zero (a bar that leaves
    it is a difference the second seed does not explain); right: the detail ratio (fine-detail energy over the
    ground truth's), the perceptual proxy, on an axis zoomed to the variants. Second-seed runs (`repeats`) are grey."""
    by = {r["variant"]: r for r in rows}
    names = [n for n in by if n != base]
    x = np.arange(len(names))
    fig, axes = plt.subplots(1, 2, figsize=(max(9.0, 2.2 * len(names) + 2), 3.6))
    diff = np.array([by[n]["PSNR-Y"] - by[base]["PSNR-Y"] for n in names])
    grey = set(repeats or {})
    floor_bars(axes[0], names, diff, floor, ["0.6" if n in grey else "tab:blue" for n in names],
               [f"{d:+.4f}" for d in diff], min_span=0.002, headroom=1.7, floor_fmt=".4f")
    axes[0].set_ylabel(f"PSNR-Y vs {base} (dB)")
    axes[0].set_title(f"`{base}` = {by[base]['PSNR-Y']:.3f} dB", fontsize=9)
    ratio = [by[n].get("detail ratio") or 0.0 for n in [base] + names]
    value_dots(axes[1], [base] + names, ratio, ["0.6" if n in grey else "tab:green" for n in [base] + names],
               span=0.02)
    bicubic = rows[0].get("bicubic detail ratio")
    axes[1].set_title("detail ratio" + (f" (bicubic: {bicubic:.3f})" if bicubic else ""), fontsize=9)
    axes[1].set_ylabel("detail ratio (1 = the ground truth's)")
    axes[0].set_xticks(x, names, rotation=15, fontsize=8)
    fig.suptitle("four-fold loss ablation: each term against pixel-only", fontsize=10)
    fig.tight_layout()
    return fig


def term_ratios(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """|weighted term| / |weighted pixel term| at the end of each variant's GAN stage."""
    out = []
    for r in rows:
        pixel = abs(r.get("final pixel") or 0.0)
        ratio = {t: (abs(r.get(f"final {t}") or 0.0) / pixel if pixel else None)
                 for t in ("perceptual", "adversarial", "tv")}
        out.append({"variant": r["variant"], **{f"{t} / pixel": v for t, v in ratio.items()}})
    return out
