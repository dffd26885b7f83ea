"""Chapter 03b: the multi-frame claim at one budget, as a study paired by seed. Rows (1 frame with DBPN, 3 and 7
frames, 3 frames with the flow replaced by zeros) each train once per seed; every row is compared with the
reference row seed by seed, and each difference is reported with its 95% interval over the seeds and a verdict
(`evaluation.effects`): resolved, or not resolved at this budget with the interval's half-width."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import scipy.stats

from iseebetter_lib.book import paired_runs
from iseebetter_lib.errors import UserError
from iseebetter_lib.evaluation.effects import effects_table

TARGET_DB = 0.05  # the study's target: the 95% interval's half-width on the average, in dB
MIN_SEEDS = 3  # the fewest seeds whose interval the study claims its target with
DESIGN = "paired by seed"  # saved with the results


def row_overrides(row: Mapping[str, Any], seed: int | None = None) -> dict[str, Any]:
    """Dotted configuration keys of one table row: its generator (DBPN takes one frame), frame count, flow backend
    and the seed."""
    out: dict[str, Any] = {}
    if row.get("model", "rbpn") == "dbpn":
        out["model.name"] = "dbpn"
        out["model.nFrames"] = out["data.nFrames"] = 1
    elif "model" in row:
        out["model.name"] = str(row["model"])
    if "frames" in row and out.get("model.name") != "dbpn":
        out["model.nFrames"] = out["data.nFrames"] = int(row["frames"])
    if "flow" in row:
        out["data.flow.backend"] = str(row["flow"])
    if seed is not None:
        out["train.seed"] = int(seed)
    return out


def check_rows(rows: Sequence[Mapping[str, Any]], reference: str, seeds: Sequence[Any]) -> list[int]:
    """Rows need unique names and the reference among them; returns the seeds as integers (at least two)."""
    names = [r.get("name") for r in rows]
    if not all(isinstance(n, str) and n for n in names) or len({row_folder(n) for n in names}) != len(names):
        raise UserError(f"rows: each row needs a unique name, letters and digits aside (got {names})")
    if reference not in names:
        raise UserError(f"reference: {reference!r} is not one of the rows ({', '.join(names)})")
    return paired_runs.seeds_of(seeds)


def row_folder(name: str) -> str:
    """A row's folder under `rows_dir`, from its name ("3 frames, zero flow" -> "3-frames-zero-flow"), so that
    adding or reordering rows leaves the finished ones where a re-run finds them."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "row"


def row_configs(rows: Sequence[Mapping[str, Any]], seeds: Sequence[int], rows_dir: str | Path, reference: str,
                make: Callable[[Path, int, dict[str, Any]], Any]) -> dict[tuple[str, int], Any]:
    """One configuration per (row, seed): `make(out_dir, seed, overrides)` (the notebook's `experiment_config`),
    each starting from the reference row's initial weights of its seed where the shapes allow
    (`paired_runs.pair_initial_weights`)."""
    out = {}
    for seed in seeds:
        configs = {row["name"]: make(Path(rows_dir) / row_folder(row["name"]) / f"seed{seed}", seed,
                                     row_overrides(row, seed)) for row in rows}
        ref_model = configs[reference].model
        for name, cfg in configs.items():
            out[name, seed] = paired_runs.pair_initial_weights(cfg, ref_model, Path(rows_dir) / "init")
    return out


def run_row(cfg: Any, row: Mapping[str, Any], test_set: Any, frame_step: int) -> dict[str, Any]:
    """Train and score one (row, seed); a finished one with the same configuration is reused."""
    describe = {"name": row["name"], "model": cfg.model.name, "frames": cfg.model.nFrames,
                "flow": cfg.data.flow.backend}
    return paired_runs.run_scored(cfg, test_set, frame_step, describe)


def effect_lines(results: Mapping[str, Mapping[int, Mapping[str, Any]]], reference: str) -> list[dict[str, Any]]:
    """`effects_table` of the study: each row minus the reference, seed by seed, on average and per clip."""
    return effects_table(paired_runs.scores(results), reference)


def means_table(results: Mapping[str, Mapping[int, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One line per row: what it is, its seeds and steps, and its absolute scores averaged over the seeds (with the
    seed-to-seed standard deviation of its PSNR-Y)."""
    out = []
    for name, per_seed in results.items():
        runs = list(per_seed.values())
        psnr = np.array([r["psnr_y"] for r in runs])
        first = runs[0]
        out.append({"row": name, "model": first.get("model", "rbpn").upper(), "frames": first["frames"],
                    "flow": first["flow"] if first["frames"] > 1 else "-", "seeds": len(runs),
                    "steps": first["steps"], "training (s, mean)": float(np.mean([r["train_s"] for r in runs])),
                    "PSNR-Y (dB, mean)": float(psnr.mean()),
                    "PSNR-Y SD (dB)": float(psnr.std(ddof=1)) if len(runs) > 1 else float("nan"),
                    "SSIM-Y (mean)": float(np.mean([r["ssim_y"] for r in runs])),
                    "gain over bicubic (dB)": float(np.mean([r["psnr_y"] - r["torch_bicubic_psnr_y"] for r in runs]))})
    return out


def average_lines(lines: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The "average" lines of `effect_lines` (one per compared row)."""
    return [line for line in lines if line["measure"] == "average"]


def effects_figure(lines: Sequence[Mapping[str, Any]], reference: str) -> Any:
    """Each row's mean paired difference to the reference (average over clips) with its 95% interval as error
    bars around 0, each clip's mean difference as a small marker beside it; the target half-width as a grey band.
    The y axis spans every interval and marker and always shows 0."""
    rows = [line["row"] for line in average_lines(lines)]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(rows) + 1.5), 3.8))
    ax.axhspan(-TARGET_DB, TARGET_DB, color="0.92", zorder=0, label=f"±{TARGET_DB} dB (the target precision)")
    ax.axhline(0.0, color="0.3", lw=0.8)
    for i, row in enumerate(rows):
        avg = next(line for line in lines if line["row"] == row and line["measure"] == "average")
        err = avg["half-width"] if np.isfinite(avg["half-width"]) else 0.0
        ax.errorbar([i], [avg["vs reference (dB)"]], yerr=[[err], [err]], fmt="o", color="tab:blue", capsize=5,
                    label="average, 95% interval" if i == 0 else None)
        clips = [line for line in lines if line["row"] == row and line["measure"] != "average"]
        offsets = np.linspace(0.12, 0.32, max(len(clips), 1))
        ax.scatter(i + offsets[:len(clips)], [c["vs reference (dB)"] for c in clips], s=12, color="tab:orange",
                   label="per clip (mean)" if i == 0 and clips else None, zorder=3)
    ax.set_xticks(np.arange(len(rows)), [r.replace(", ", ",\n") for r in rows], fontsize=8)
    ax.set_xlim(-0.6, len(rows) - 0.3)
    ax.set_ylabel(f"PSNR-Y minus \"{reference}\" (dB)")
    n = max((line["seeds"] for line in lines), default=0)
    ax.set_title(f"paired by seed ({n} seeds): difference to \"{reference}\"", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def target_sentence(lines: Sequence[Mapping[str, Any]], reference: str, target: float = TARGET_DB) -> str:
    """What the study set out to resolve and whether this run met it, from its average lines."""
    avg = average_lines(lines)
    if not avg:
        return "No row was compared with the reference."
    widest = max(line["half-width"] for line in avg)
    n = avg[0]["seeds"]
    resolved = [line["row"] for line in avg if line["verdict"].startswith("resolved")]
    wide = [f"`{line['row']}`" for line in avg if not line["half-width"] <= target]
    narrow = [f"`{line['row']}`" for line in avg if line["half-width"] <= target]
    widen = "more seeds, or a longer budget that lowers the seed-to-seed spread, would narrow it"
    if n < MIN_SEEDS:
        verdict = (f"**not claimed**: the study needs at least {MIN_SEEDS} seeds, and with {n} the spread of the "
                   f"differences rests on {n - 1} degree{'s' if n != 2 else ''} of freedom.")
    elif not wide:
        verdict = "**met**."
    elif not narrow:
        verdict = f"**not met** ({widen})."
    else:
        verdict = f"**met** for {', '.join(narrow)}; **not met** for {', '.join(wide)} ({widen})."
    parts = [f"The target is a 95% interval of half-width at most {target:.2f} dB on the average over clips. "
             f"This run's widest is ±{widest:.3f} dB over {n} seeds: the target is {verdict}"]
    for line in avg:
        parts.append(f"`{line['row']}` vs `{reference}`: {line['vs reference (dB)']:+.3f} dB "
                     f"[{line['interval low']:+.3f}, {line['interval high']:+.3f}], {line['verdict']}.")
    parts.append(f"Resolved at this budget: {', '.join(f'`{r}`' for r in resolved)}." if resolved
                 else "**No row is resolved from the reference at this budget.**")
    return " ".join(parts)


def reading_sentence(lines: Sequence[Mapping[str, Any]], reference: str, target: float = TARGET_DB) -> str:
    """What each average interval says: a resolved effect, an effect bounded within the target precision (absent
    at this budget to that precision), or one the seeds leave open."""
    parts = []
    for line in average_lines(lines):
        row, low, high, width = line["row"], line["interval low"], line["interval high"], line["half-width"]
        if line["verdict"].startswith("resolved"):
            parts.append(f"`{row}` is resolved from `{reference}`: {line['vs reference (dB)']:+.3f} dB.")
        elif width <= target:
            parts.append(f"`{row}` is not resolved, and its interval bounds the effect: at this budget it is worth "
                         f"between {low:+.3f} and {high:+.3f} dB against `{reference}`, **absent to within "
                         f"{max(abs(low), abs(high)):.3f} dB**.")
        else:
            parts.append(f"`{row}` is not resolved and not bounded to the target: its interval is ±{width:.3f} dB, "
                         "because its seeds disagree (the per-seed scores in the results JSON show which).")
    return " ".join(parts)


def per_clip_sentence(lines: Sequence[Mapping[str, Any]]) -> str:
    """How many per-clip intervals exclude 0, beside how many 95% intervals would by chance alone."""
    clips = [line for line in lines if line["measure"] != "average" and np.isfinite(line["half-width"])]
    if not clips:
        return ""
    hits = [f"`{c['row']}` on {c['measure']} ({c['vs reference (dB)']:+.3f} dB)" for c in clips
            if c["verdict"].startswith("resolved")]
    return (f"{len(hits)} of the {len(clips)} per-clip intervals exclude 0"
            + (f" ({', '.join(hits)})" if hits else "") + f"; with no effect at all, 95% intervals would exclude 0 "
            f"about {0.05 * len(clips):.1f} times by chance, so a single clip's verdict is weak evidence.")


def committed_note(data: Mapping[str, Any] | None) -> str:
    """How to read the committed laptop results: their verdicts, read from the committed numbers."""
    numbers = (data or {}).get("numbers") or {}
    if numbers.get("design") != DESIGN:
        return ""
    reference, lines = numbers.get("reference", "3 frames"), numbers.get("effects") or []
    return ("The committed laptop run uses this chapter's design (rows paired by seed). "
            + " ".join(filter(None, (target_sentence(lines, reference), reading_sentence(lines, reference),
                                     per_clip_sentence(lines))))).strip()


def budget_sentence(results: Mapping[str, Mapping[int, Mapping[str, Any]]], lines: Sequence[Mapping[str, Any]],
                    profile: str) -> str:
    """What this run's budget was and what it can show, from its numbers; the smoke profile says that its budget is
    there to run the machinery, not to resolve anything."""
    runs = [r for per_seed in results.values() for r in per_seed.values()]
    steps = sorted({r["steps"] for r in runs})
    gains = [r["psnr_y"] - r["torch_bicubic_psnr_y"] for r in runs]
    n = max((line["seeds"] for line in lines), default=len({r["seed"] for r in runs}))
    text = (f"{len(runs)} trainings of {', '.join(map(str, steps))} steps ({sum(r['train_s'] for r in runs):.0f} s of "
            f"training in all), {n} seeds per row; the runs' gains over their own bicubic base range from "
            f"{min(gains):+.3f} to {max(gains):+.3f} dB.")
    if profile == "smoke":
        t = float(scipy.stats.t.ppf(0.975, n - 1)) if n > 1 else float("inf")
        text += (" **The smoke profile's budget resolves nothing about the paper's claim**: it runs the study's "
                 f"machinery (pairing, intervals, verdicts) on {', '.join(map(str, steps))} steps with {n} seeds "
                 f"(t factor {t:.1f}). Every model is still near its bicubic base, so a difference here, even one "
                 "whose interval excludes 0, measures how fast each row starts to learn, not what more frames or "
                 "the flow are worth; the committed laptop run is the one to read.")
    elif n >= MIN_SEEDS:
        text += " " + reading_sentence(lines, reference_of(results, lines))
    return text


def reference_of(results: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> str:
    """The row the effect lines compare with: the one row of `results` that has no line of its own."""
    compared = {line["row"] for line in lines}
    rest = [row for row in results if row not in compared]
    return rest[0] if len(rest) == 1 else "the reference"
