"""The committed `laptop` profile's results (`figures/laptop/`), shown in every profile's book beside the run's own.

A smoke run trains for minutes and resolves little; the laptop profile's numbers, committed with the commit and the
command that made them, are what a reader compares with. Each chapter that trains reads its JSON here and gets a
provenance line, a table and the committed figures; nothing is shown when the files are absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Mapping

from iseebetter_lib.book.results import COMMITTED

PROFILE = "laptop"
NOT_RESOLVED = "not resolved (below the noise floor)"


def _home(root: str | Path | None) -> Path:
    from iseebetter_lib.paths import book_root

    return (Path(root) if root is not None else book_root()) / COMMITTED[PROFILE]


def committed_results(notebook: str, root: str | Path | None = None) -> dict[str, Any] | None:
    """The committed JSON of one executed notebook (`03b_frames`, `04_ablation__pixel`, ...), None when absent."""
    path = _home(root) / f"{notebook}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def seed_spread(root: str | Path | None = None) -> float:
    """The committed seed-to-seed spread of one configuration (chapter 03b: the reference row's standard deviation
    over seeds, dB), the precision of a single training run; 0.0 when not committed."""
    numbers = (committed_results("03b_frames", root) or {}).get("numbers") or {}
    return float(numbers.get("reference_sd_db") or 0.0)


def committed_figures(chapter: str, root: str | Path | None = None) -> list[Path]:
    """The committed PNG figures of a chapter, sorted by name."""
    folder = _home(root) / chapter
    return sorted(folder.glob("*.png")) if folder.is_dir() else []


def provenance_line(data: Mapping[str, Any]) -> str:
    """Which commit and command made a committed result, on what machine (one Markdown sentence)."""
    commit = (data.get("commit") or "unknown")[:7]
    machine = data.get("machine") or {}
    where = f" on a {machine['cpus']}-core CPU (torch {machine.get('torch', '?')})" if machine.get("cpus") else ""
    changed = " (with uncommitted changes)" if data.get("code_changed_since_commit") else ""
    return (f"*Committed `{data.get('profile', PROFILE)}` profile results: commit `{commit}`{changed}, made by "
            f"`{data.get('command') or 'iseebetter book run --profile laptop'}`{where}.*")


def _verdict(text: Any) -> Any:
    """The committed verdicts in the book's words: a difference below the noise floor is not resolved."""
    if text == "below the noise floor":
        return NOT_RESOLVED
    if text == "beyond the noise floor":
        return "resolved (beyond the noise floor)"
    return text


def plain_verdicts(rows: Any) -> list[dict[str, Any]]:
    """Table rows with their `verdict` in the book's words ("not resolved" below the noise floor)."""
    return [{k: _verdict(v) if k == "verdict" else v for k, v in r.items()} for r in rows]


def _training(n: Mapping[str, Any]) -> list[dict[str, Any]]:
    cfg = n.get("config") or {}
    m, t, d = cfg.get("model", {}), cfg.get("train", {}), cfg.get("data", {})
    last = n.get("last_logged") or {}
    return [{"steps": n.get("steps"), "training (s)": round(n.get("seconds") or 0), "frames": m.get("nFrames"),
             "model": f"RBPN {m.get('base_filter')}/{m.get('feat')}/{m.get('num_stages')}/{m.get('n_resblock')}",
             "pixel loss": t.get("loss", {}).get("pixel"), "precision": t.get("precision"),
             "panned stills": d.get("stills"), "last logged loss": last.get("loss")}]


def _frames(n: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each row's average difference to the reference with its interval and verdict (the paired design)."""
    keep = ("row", "seeds", "vs reference (dB)", "interval low", "interval high", "half-width", "verdict")
    return [{k: r.get(k) for k in keep} for r in n.get("effects", []) if r.get("measure") == "average"]


def _ordered(rows: Any, first: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows with the `first` columns leading (the JSON stores keys sorted) and verdicts in the book's words."""
    out = []
    for r in rows:
        keys = [k for k in first if k in r] + [k for k in r if k not in first]
        out.append({k: _verdict(r[k]) for k in keys})
    return out


def _ablation(n: Mapping[str, Any]) -> list[dict[str, Any]]:
    return _ordered(n.get("judged", []), ("variant", "PSNR-Y", "PSNR-Y (dB)"))


def _variant(n: Mapping[str, Any]) -> list[dict[str, Any]]:
    row = n.get("row") or {}
    keep = ("variant", "steps", "PSNR-Y", "SSIM-Y", "detail ratio", "gain over base (dB)", "NIQE", "tOF")
    return [{k: row.get(k) for k in keep if k in row or k not in ("NIQE", "tOF")}]


def _scores(n: Mapping[str, Any]) -> list[dict[str, Any]]:
    return _ordered(n.get("gain_rows", []), ("clip", "ours", "MATLAB bicubic", "gain over MATLAB bicubic"))


TABLES: dict[str, Callable[[Mapping[str, Any]], list[dict[str, Any]]]] = {
    "03_training": _training, "03b_frames": _frames, "04b_ablation_compare": _ablation, "04_ablation": _variant,
    "05_vid4": _scores}


def committed_rows(notebook: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of a committed result a chapter shows (`04_ablation__<variant>` uses the 04_ablation rule)."""
    rule = TABLES.get(notebook) or TABLES.get(notebook.split("__")[0])
    return rule(data.get("numbers") or {}) if rule else []


def committed_markdown(notebook: str, root: str | Path | None = None, floatfmt: str = ".3f") -> str:
    """Provenance line and table of a committed result, or one line saying none is committed."""
    from iseebetter_lib.book.display import md_table

    data = committed_results(notebook, root)
    if data is None:
        return f"*No committed `{PROFILE}` results for `{notebook}` in this checkout (`figures/{PROFILE}/`).*"
    rows = committed_rows(notebook, data)
    return provenance_line(data) + ("\n\n" + md_table(rows, floatfmt=floatfmt) if rows else "")


def show_committed(notebook: str, figures: tuple[str, ...] = (), root: str | Path | None = None,
                   floatfmt: str = ".3f") -> dict[str, Any] | None:
    """Show a committed result (provenance, table) and the named committed figures of its chapter; returns the
    JSON (None when absent) so the notebook can write sentences from it."""
    from iseebetter_lib.book.display import show_md

    show_md(committed_markdown(notebook, root, floatfmt))
    chapter = notebook.split("__")[0]
    for path in committed_figures(chapter, root):
        if path.stem in figures:
            show_image(path)
    return committed_results(notebook, root)


def show_figure(fig: Any) -> None:
    """Display a figure drawn from committed numbers (not saved: the committed PNGs belong to the run that made them)
    and close it, so it is shown once."""
    import matplotlib.pyplot as plt

    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display(fig)
    except ImportError:  # pragma: no cover
        pass
    plt.close(fig)


def show_image(path: str | Path) -> None:
    """Display a PNG in a notebook (its path printed elsewhere)."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display

        if get_ipython() is not None:
            display(Image(filename=str(path)))
            return
    except ImportError:  # pragma: no cover
        pass
    print(f"[figure: {path}]")
