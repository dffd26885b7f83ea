"""Chapter 03b: the multi-frame claim at one budget. The same training with 2, 3, 5 (7) frames and with the flow
replaced by zeros, each scored on the same test frames, beside the seed-to-seed spread of the reference
configuration (two seeds), which is the table's noise floor: a difference smaller than it is not a result."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from iseebetter_lib.book.display import read_json, write_json
from iseebetter_lib.book.noise_floor import floor_verdict
from iseebetter_lib.book.plots import floor_bars
from iseebetter_lib.errors import UserError

ROW_FILE = "row.json"


def row_overrides(row: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted configuration keys of one table row: its frame count, flow backend and seed."""
    out: dict[str, Any] = {}
    if "frames" in row:
        out["model.nFrames"] = out["data.nFrames"] = int(row["frames"])
    if "flow" in row:
        out["data.flow.backend"] = str(row["flow"])
    if "seed" in row:
        out["train.seed"] = int(row["seed"])
    return out


def check_rows(rows: Sequence[Mapping[str, Any]], reference: str, repeat: str) -> None:
    """Rows need unique names; the reference and its second seed must both be rows."""
    names = [r.get("name") for r in rows]
    if len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
        raise UserError(f"rows: each row needs a unique name (got {names})")
    for label, name in (("reference", reference), ("repeat", repeat)):
        if name not in names:
            raise UserError(f"{label}: {name!r} is not one of the rows ({', '.join(names)})")


def run_row(cfg: Any, row: Mapping[str, Any], test_set: Any, frame_step: int) -> dict[str, Any]:
    """Train one row's configuration and score it; a finished row with the same configuration is reused, so a
    stopped chapter resumes at the first unfinished row."""
    from iseebetter_lib.book.training_runs import run_training
    from iseebetter_lib.evaluation import EvalOptions, evaluate

    path = Path(cfg.train.out_dir) / ROW_FILE
    if path.is_file():
        done = read_json(path)
        if done.get("config") == cfg.to_dict():
            return done
    summary = run_training(cfg, progress=False)
    result = evaluate(EvalOptions(test_set.dataset, test_set.root, frame_step=frame_step, baselines=["torch_bicubic"],
                                  progress=False), summary["checkpoint"])
    avg = result["average"]
    data = {"name": row["name"], "frames": cfg.model.nFrames, "flow": cfg.data.flow.backend,
            "seed": cfg.train.seed, "steps": summary["steps"], "train_s": summary["seconds"],
            "psnr_y": avg["psnr_y"], "ssim_y": avg["ssim_y"], "hf_ratio": avg.get("hf_ratio"),
            "torch_bicubic_psnr_y": result["baselines"]["torch_bicubic"]["average"]["psnr_y"],
            "clips": {c: v["psnr_y"] for c, v in result["clips"].items()},
            "frames_scored": sum(v["frames"] for v in result["clips"].values()),
            "config": cfg.to_dict()}
    write_json(path, data)
    return data


def noise_floor(results: Mapping[str, Mapping[str, Any]], reference: str, repeat: str) -> float:
    """The seed-to-seed spread: |PSNR-Y(reference) - PSNR-Y(same configuration, another seed)|."""
    return abs(results[reference]["psnr_y"] - results[repeat]["psnr_y"])


def table_rows(results: Mapping[str, Mapping[str, Any]], reference: str, repeat: str) -> list[dict[str, Any]]:
    """One row per configuration: frames, flow, seed, PSNR/SSIM, detail ratio, the difference to the reference and
    whether it exceeds the noise floor."""
    floor = noise_floor(results, reference, repeat)
    ref = results[reference]["psnr_y"]
    out = []
    for name, r in results.items():
        diff = r["psnr_y"] - ref
        verdict = ("reference" if name == reference else "second seed (noise floor)" if name == repeat
                   else floor_verdict(diff, floor))
        out.append({"row": name, "frames": r["frames"], "flow": r["flow"], "seed": r["seed"], "steps": r["steps"],
                    "training (s)": r["train_s"], "PSNR-Y (dB)": r["psnr_y"], "SSIM-Y": r["ssim_y"],
                    "detail ratio": r.get("hf_ratio"), "vs reference (dB)": diff, "verdict": verdict})
    return out


def frames_figure(results: Mapping[str, Mapping[str, Any]], reference: str, repeat: str) -> Any:
    """Each row's PSNR-Y minus the reference's as bars, the noise floor as a grey band around zero: a bar that
    leaves the band is a difference the second seed does not explain. The absolute values are in the labels."""
    names = [n for n in results if n != reference]
    ref = results[reference]["psnr_y"]
    diff = np.array([results[n]["psnr_y"] - ref for n in names])
    floor = noise_floor(results, reference, repeat)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(names) + 1.5), 3.6))
    colors = ["0.6" if n == repeat else "tab:gray" if results[n]["flow"] == "zero" else "tab:blue" for n in names]
    labels = [f"{d:+.3f}\n({results[n]['psnr_y']:.2f})" for n, d in zip(names, diff)]
    floor_bars(ax, names, diff, floor, colors, labels, min_span=0.005)
    ax.set_xticks(np.arange(len(names)), [n.replace(", ", ",\n") for n in names], fontsize=8)
    ax.set_ylabel("PSNR-Y vs reference (dB)")
    ax.set_title(f"same budget, different inputs; reference `{reference}` = {ref:.3f} dB", fontsize=10)
    fig.tight_layout()
    return fig


def summary_line(results: Mapping[str, Mapping[str, Any]], reference: str, repeat: str) -> str:
    """One sentence on what the table shows."""
    floor = noise_floor(results, reference, repeat)
    beyond = [r["row"] for r in table_rows(results, reference, repeat) if r["verdict"] == "beyond the noise floor"]
    return (f"Noise floor (two seeds of `{reference}`): {floor:.3f} dB. "
            + (f"Beyond it: {', '.join(f'`{n}`' for n in beyond)}." if beyond else
               "**No configuration differs from the reference by more than the noise floor at this budget.**"))
