"""The book's landing page, its run-time appendix and its one results table, generated from the run's records.

Every number on these pages comes from a file: this run's `timings.json` and chapter JSONs, the committed laptop
results (`figures/laptop/*.json`, each with its commit and command), the committed full-profile record when one
exists (`figures/book.json`), and the paper's Table 3 (`evaluation.tables`). Nothing is typed in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from iseebetter_lib.book.results import BOOK_FILE, MACHINE_REFERENCE, reference_units, results_home

VSR_FIGURE = "figures/vsr_problem.png"  # relative to the book's folder
PROFILE_TEXT = {
    "smoke": ("CPU, the whole book end to end: a compact generator trained a few hundred steps, every 4th "
              "test frame, short GAN and ablation runs.",
              "that every step of the method runs, every figure and table is produced, and the numbers land in "
              "the right place",
              "any difference between two rows of the multi-frame table or of the loss ablation (they sit "
              "below the noise floor of a second seed), or anything about the paper's numbers"),
    "laptop": ("CPU (2 cores): the best model two cores can train, shipped as `iseebetter_lib/weights/laptop.pt`, the "
               "multi-frame table and the loss ablation against their noise floors, every test frame.",
               "a learned gain over bicubic that is far above the seed noise, and which ablation differences "
               "survive the noise floor",
               "the paper's absolute numbers: the model is much smaller and trained on the sample videos, not "
               "on Vimeo-90K"),
    "full": ("GPU: the paper's configuration, fine-tuning the published RBPN on Vimeo-90K, real VGG weights, "
             "every test frame.",
             "the only profile whose numbers are comparable with the paper's Table 3",
             "nothing on a CPU: it needs a GPU for days, the Vimeo-90K download and the published RBPN weights "
             "(`--dry-run` checks its machinery on a CPU in minutes)"),
}


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def chapter_seconds(timings: Mapping[str, Any]) -> dict[str, float]:
    """The per-notebook wall times of a `timings.json` (without the machine-speed reference)."""
    return {k: float(v) for k, v in timings.items() if k != MACHINE_REFERENCE and isinstance(v, (int, float))}


def profile_times(profile: str, timings: Mapping[str, Any], root: Path) -> dict[str, str]:
    """Each profile's measured wall time as text: this run's, else the committed record, else why there is none."""
    out: dict[str, str] = {}
    for name in ("smoke", "laptop", "full"):
        if name == profile and chapter_seconds(timings):
            secs = sum(chapter_seconds(timings).values())
            out[name] = f"{secs / 60:.1f} min (this build's run, {len(chapter_seconds(timings))} notebooks)"
            continue
        record = _read(results_home(name, root) / BOOK_FILE) if name != "smoke" else None
        own = _read(root / "_build" / name / "timings.json") if name == "smoke" else None
        if record and record.get("total_seconds"):
            parts = len(record.get("parts") or []) or 1
            out[name] = (f"{record['total_seconds'] / 60:.0f} min (`{record.get('command')}` at commit "
                         f"`{str(record.get('commit'))[:7]}`, {record.get('machine', {}).get('cpus', '?')} CPUs"
                         + (f", in {parts} parts: stopped and run again" if parts > 1 else "") + ")")
        elif own and chapter_seconds(own):
            out[name] = f"{sum(chapter_seconds(own).values()) / 60:.1f} min (the last smoke run in this checkout)"
        else:
            out[name] = "not measured in this checkout"
    return out


def _test_set_name(numbers: Mapping[str, Any]) -> str:
    return "Vid4" if numbers.get("test_set") == "vid4" else "held-out sample clips (not Vid4)"


def _fmt(value: Any, digits: int) -> str:
    return "-" if not isinstance(value, (int, float)) else f"{value:.{digits}f}"


def _scored_rows(label: str, record: Mapping[str, Any] | None, model: str) -> list[dict[str, str]]:
    """The model's and bicubic's averages from a chapter-05 record (`numbers.average`, `numbers.gain_rows`)."""
    if not record:
        return [{"source": label, "model": model, "test set": "not run in this build", "frames": "-",
                 "PSNR-Y (dB)": "-", "SSIM-Y": "-", "made by": "-"}]
    numbers = record.get("numbers", {})
    avg = numbers.get("average", {})
    made = f"`{record.get('command')}` at `{str(record.get('commit'))[:7]}`"
    base = {"source": label, "test set": _test_set_name(numbers), "frames": str(avg.get("frames", "-")),
            "made by": made}
    rows = [{**base, "model": model, "PSNR-Y (dB)": _fmt(avg.get("psnr_y"), 2), "SSIM-Y": _fmt(avg.get("ssim_y"), 3)}]
    bicubic = [r for r in numbers.get("gain_rows", []) if r.get("clip") == "average"]
    if bicubic:
        rows.append({**base, "model": "bicubic (MATLAB)", "PSNR-Y (dB)": _fmt(bicubic[0].get("MATLAB bicubic"), 2),
                     "SSIM-Y": "-"})
    return rows


def results_rows(profile: str, root: Path, ran: Sequence[str] | None = None) -> list[dict[str, str]]:
    """The book's one results table: the paper's Table 3 averages, the committed laptop run, and this run (its
    chapter-05 record, only when `ran`, the notebooks of this build, include chapter 05)."""
    from iseebetter_lib.evaluation.tables import paper_table3

    paper = paper_table3()
    rows = [{"source": "paper", "model": m, "test set": "Vid4", "frames": "all",
             "PSNR-Y (dB)": _fmt(paper[m]["average"]["psnr"], 2), "SSIM-Y": _fmt(paper[m]["average"]["ssim"], 3),
             "made by": "{cite}`chadha2020iseebetter`, Table 3"} for m in ("iSeeBetter", "Bicubic")]
    laptop = _read(results_home("laptop", root) / "05_vid4.json")
    rows += _scored_rows("committed laptop run", laptop, "`iseebetter_lib/weights/laptop.pt`")
    if profile != "laptop":
        own = _read(results_home(profile, root) / "05_vid4.json") if ran is None or "05_vid4" in ran else None
        rows += _scored_rows(f"this run ({profile})", own, "chapter 03's model")
    return rows


def vsr_figure() -> Any:
    """The VSR problem in one picture: five LR frames of a real video in, one HR frame (4x) out."""
    import matplotlib.pyplot as plt
    import numpy as np

    from iseebetter_lib.book.samples import sample_frames
    from iseebetter_lib.data import imresize

    hr = sample_frames("bikes", 5, start=156, step=2, crop=(10, 60, 128, 192))
    lr = [np.clip(imresize(f, 0.25), 0, 255).astype(np.uint8) for f in hr]
    fig = plt.figure(figsize=(9, 2.4))
    grid = fig.add_gridspec(2, 8, width_ratios=[1, 1, 1, 1, 1, 0.9, 3.2, 0.1], height_ratios=[1, 0.25])
    for i, frame in enumerate(lr):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(frame, interpolation="nearest")
        ax.set_title(f"LR t{i - 2:+d}" if i != 2 else "LR t (target)", fontsize=8)
        ax.axis("off")
    arrow = fig.add_subplot(grid[0, 5])
    arrow.annotate("", xy=(1, 0.5), xytext=(0, 0.5), arrowprops={"arrowstyle": "->", "lw": 2})
    arrow.text(0.5, 0.62, "VSR x4", ha="center", fontsize=9)
    arrow.axis("off")
    out = fig.add_subplot(grid[:, 6])
    out.imshow(hr[2])
    out.set_title(f"HR frame t ({hr.shape[2]}x{hr.shape[1]})", fontsize=8)
    out.axis("off")
    note = fig.add_subplot(grid[1, :5])
    note.text(0.5, 0.5, f"{lr[0].shape[1]}x{lr[0].shape[0]} each, bicubic 1/4 of the HR (bikes sample video)",
              ha="center", va="center", fontsize=8)
    note.axis("off")
    return fig


def write_vsr_figure(book: Path) -> Path:
    """Draw `vsr_figure` into the book folder (deterministic bytes)."""
    import matplotlib.pyplot as plt

    from iseebetter_lib.book.figures import figure_bytes
    from iseebetter_lib.io import atomic_write_bytes

    fig = vsr_figure()
    path = book / VSR_FIGURE
    atomic_write_bytes(path, figure_bytes(fig))
    plt.close(fig)
    return path


def _table(rows: Sequence[Mapping[str, str]]) -> str:
    from iseebetter_lib.book.display import md_table

    return md_table(rows)


def _reading_order(runs: Sequence[Any]) -> list[str]:
    lines, seen = [], set()
    for run in runs:
        if run.chapter in seen:
            continue
        seen.add(run.chapter)
        target = f"/notebooks/{run.output_name}" if run.variant is None else f"/variants/{run.chapter}"
        lines.append(f"{len(seen)}. {{doc}}`{target}`")
    return lines


def landing_page(title: str, profile: str, runs: Sequence[Any], timings: Mapping[str, Any], root: Path) -> str:
    """The index page a student reads first (Markdown, MyST)."""
    from iseebetter_lib.evaluation.tables import paper_table3

    avg = paper_table3()["iSeeBetter"]["average"]
    bic = paper_table3()["Bicubic"]["average"]
    times = profile_times(profile, timings, root)
    profiles = [{"profile": f"`{name}`" + (" (this build)" if name == profile else ""), "what it runs": text[0],
                 "measured time": times[name], "can show": text[1], "cannot show": text[2]}
                for name, text in PROFILE_TEXT.items()]
    return "\n".join([
        f"# {title}", "",
        "## Video super-resolution", "",
        "*Video super-resolution* (VSR) recovers a high-resolution (HR) video from a low-resolution (LR) one. "
        "Unlike single-image super-resolution, a VSR model sees the frames around the one it reconstructs: a "
        "detail blurred away in frame *t* may be visible, shifted by the motion, in frame *t-1* or *t+1*. The "
        "model is trained on pairs made by degrading HR videos (the LR frames are a bicubic 1/4 of the HR "
        "ones) and judged by how close its output is to the HR original.", "",
        f"![Five LR frames in, one HR frame out]({VSR_FIGURE})", "",
        "## What iSeeBetter claims", "",
        "iSeeBetter {cite}`chadha2020iseebetter` is a 4x VSR GAN. Its generator is RBPN "
        "{cite}`haris2019rbpn`, which refines the target frame's features with each neighbour in turn through "
        "back-projection units {cite}`haris2018dbpn`, reading the optical flow to that neighbour; its "
        "discriminator is SRGAN's {cite}`ledig2017srgan`; and it trains with a four-fold loss: pixel MSE, a "
        "VGG perceptual term {cite}`johnson2016perceptual,simonyan2015vgg`, the adversarial term and total "
        f"variation. On Vid4 {{cite}}`liu2014vid4` the paper reports {avg['psnr']:.2f} dB PSNR and "
        f"{avg['ssim']:.3f} SSIM averaged over the four clips (bicubic: {bic['psnr']:.2f} dB, {bic['ssim']:.3f}), "
        "the best row of its Table 3. This book rebuilds the method from these papers, trains it at three "
        "budgets and says at each what the numbers can and cannot support.", "",
        "## Reading order", "",
        "Each chapter opens with *In this chapter* and closes with a *Summary* and *Exercises*; read them in "
        "order, since later chapters use the models and caches of earlier ones:", "",
        *_reading_order(runs), "",
        "The appendix has this build's run times ({doc}`runtimes`) and the {doc}`bibliography`.", "",
        "## Results", "",
        "PSNR and SSIM on the Y channel, averaged per clip and then over clips; the model rows say which test "
        "set and how many frames were scored. A smoke run's numbers show the pipeline works, not the method's "
        "quality.", "",
        _table(results_rows(profile, root, [r.output_name for r in runs])), "",
        "## Three profiles", "",
        f"`iseebetter book run --profile NAME` executes the chapters (`make smoke` runs and builds the smoke "
        f"profile). This build is the `{profile}` profile.", "",
        _table(profiles), "",
        "## Reading the chapters in JupyterLab", "",
        "`make lab` starts JupyterLab on this repository with the project kernel, **Python (iseebetter)**; "
        "the chapters are the `.py` files in `notebooks/` and open as notebooks. Each has a *parameters* cell "
        "near the top: set `interactive = True` there to get the sliders and players (frame scrubbers, flow "
        "overlays) that the static HTML leaves out, then run all cells. Its default paths (runs, caches) lie under "
        "`_build/lab/`, so a run by hand never overwrites the book's own runs.", "",
    ])


def runtime_page(profile: str, runs: Sequence[Any], timings: Mapping[str, Any]) -> str:
    """Appendix: each executed notebook's wall time in this build and the machine-speed reference."""
    seconds = chapter_seconds(timings)
    lines = ["# Appendix: run times", "", f"Executed with the `{profile}` profile "
             f"(`iseebetter book run --profile {profile}`).", "", "| chapter | seconds |", "|---|--:|"]
    for run in runs:
        secs = seconds.get(run.output_name)
        lines.append(f"| {{doc}}`/notebooks/{run.output_name}` | {'' if secs is None else f'{secs:.0f}'} |")
    total = sum(seconds.get(r.output_name, 0.0) for r in runs)
    lines += ["", f"Total execution time: {total:.0f} s.", ""]
    ref = timings.get(MACHINE_REFERENCE)
    if isinstance(ref, dict) and ref.get("before") and ref.get("after"):
        lines += [f"Machine-speed reference measured in the same run: our optical flow on the bikes sample pair "
                  f"(640 x 272) took {ref['before']:.0f} ms before and {ref['after']:.0f} ms after, so the "
                  f"book took {reference_units(total, ref):.0f} times that: compare this "
                  "ratio, not the seconds, across days on a shared machine.", ""]
    return "\n".join(lines)


BIBLIOGRAPHY_PAGE = "# Bibliography\n\n```{bibliography}\n```\n"
