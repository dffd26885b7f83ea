"""A chapter run by hand (JupyterLab, papermill by hand): its defaults write under `_build/lab/`, and a chapter
that needs another chapter's run the reader has not made falls back to the model the package ships (`laptop.pt`).

Under the book runner nothing falls back: a missing run of chapter 03 is an error there, not a silent substitute.
"""

from __future__ import annotations

from pathlib import Path

from iseebetter_lib.errors import UserError


def by_hand() -> bool:
    """Whether the notebook runs outside the book runner (JupyterLab, papermill by hand)."""
    from iseebetter_lib.book.results import run_context

    return not run_context()


def model_file(run_dir: str | Path) -> tuple[Path, str]:
    """(generator file, note): chapter 03's checkpoint in `run_dir`, or, by hand without that run, the shipped model
    with a one-line note saying so (the note is "" when chapter 03's run is used)."""
    from iseebetter_lib.book.training_runs import RESULT, trained_checkpoint
    from iseebetter_lib.models.shipped import shipped_weights

    if (Path(run_dir) / RESULT).is_file() or not by_hand():
        return trained_checkpoint(run_dir), ""
    shipped = shipped_weights()
    if shipped is None:
        raise UserError(f"{run_dir}: no training run here and no shipped model (iseebetter_lib/weights/laptop.pt): "
                        "run chapter 03 first")
    return shipped, (f"**No chapter 03 run in `{run_dir}`: this chapter uses the shipped model "
                     f"`weights/{shipped.name}` instead (run chapter 03 first to use your own).**")


def is_other_model(candidate: str | Path | None, used: str | Path, run_dir: str | Path) -> bool:
    """Whether `candidate` (the shipped model) is another model than the one a chapter used (`used`, or the
    `generator.pt` chapter 03 left in `run_dir`, byte for byte): worth showing beside it."""
    if candidate is None or Path(candidate).resolve() == Path(used).resolve():
        return False
    own = Path(run_dir) / "generator.pt"
    return not (own.is_file() and own.read_bytes() == Path(candidate).read_bytes())


def run_cli(args: list[str], cwd: str | Path, shown: dict[str, str] | None = None,
            check: bool = True) -> "subprocess.CompletedProcess[str]":
    """Run `iseebetter ARGS` in `cwd` and print the command as a reader would type it there (each path of `shown`
    written as its short name, so no machine path reaches the page) with the command's output."""
    import subprocess
    import sys

    Path(cwd).mkdir(parents=True, exist_ok=True)
    text = " ".join(args)
    for path, name in (shown or {}).items():
        text = text.replace(path, name)
    print("$ iseebetter", text)
    proc = subprocess.run([sys.executable, "-m", "iseebetter_lib", *args], cwd=cwd, capture_output=True, text=True)
    out = "\n".join(t.strip() for t in (proc.stderr, proc.stdout) if t.strip())  # notes come first in a terminal
    for path, name in (shown or {}).items():
        out = out.replace(path, name)
    print(out[-2000:] if out else "", f"\n(exit status {proc.returncode})")
    if check and proc.returncode != 0:
        raise UserError(f"iseebetter {args[0]} failed with exit status {proc.returncode}")
    return proc
