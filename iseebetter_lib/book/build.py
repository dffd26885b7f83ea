"""HTML book of the executed notebooks with Jupyter Book 1: `_build/<profile>/book/` -> `.../book/_build/html`.

The config and table of contents are generated from book.yml (notebooks are never re-executed: execute_notebooks
off; only files in the toc are built); the build runs with warnings as errors.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from iseebetter_lib.book.spec import BookSpec, load_book
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_write_text

BUILD_FLAGS = ("-W", "-n", "--keep-going", "--all")


def book_config(spec: BookSpec, profile: str) -> dict[str, Any]:
    """Jupyter Book `_config.yml` content."""
    return {
        "title": f"{spec.title} ({profile} profile)",
        "author": spec.author,
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off"},
        "html": {"use_repository_button": False, "use_issues_button": False, "use_edit_page_button": False},
        "launch_buttons": {"notebook_interface": "classic", "binderhub_url": "", "colab_url": "", "thebe": False},
        # Markdown outputs (our tables) are parsed as MyST, not CommonMark, so that their tables render.
        "sphinx": {"config": {"html_show_copyright": False, "nb_render_markdown_format": "myst",
                              "suppress_warnings": ["mystnb.unknown_mime_type"]}},
    }


def book_toc(spec: BookSpec, profile: str) -> dict[str, Any]:
    """Jupyter Book `_toc.yml`: an intro page, one entry per chapter, variants as sections of a variants page."""
    chapters: list[dict[str, Any]] = []
    for chapter in spec.chapters:
        runs = [r for r in spec.plan(profile, chapter.name)]
        if len(runs) == 1 and runs[0].variant is None:
            chapters.append({"file": f"notebooks/{runs[0].output_name}"})
        else:
            chapters.append({"file": f"variants/{chapter.name}",
                             "sections": [{"file": f"notebooks/{r.output_name}"} for r in runs]})
    return {"format": "jb-book", "root": "intro", "chapters": chapters}


def _yaml(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _intro(spec: BookSpec, profile: str, timings: dict[str, float]) -> str:
    lines = [f"# {spec.title}", "", f"Executed with the `{profile}` profile "
             f"(`iseebetter book run --profile {profile}`).", "", "| chapter | notebook | seconds |", "|---|---|---|"]
    for run in spec.plan(profile):
        secs = timings.get(run.output_name)
        lines.append(f"| {run.title} | `{run.output_name}` | {'' if secs is None else f'{secs:.0f}'} |")
    total = sum(timings.get(r.output_name, 0.0) for r in spec.plan(profile))
    lines += ["", f"Total execution time: {total:.0f} s.", ""]
    return "\n".join(lines)


def _variants_page(title: str, runs: list) -> str:
    lines = [f"# {title}", "", "This chapter is one notebook executed once per variant (papermill parameters):", ""]
    varying = sorted({k for r in runs for k in r.parameters
                      if k != "variant" and any(o.parameters.get(k) != r.parameters.get(k) for o in runs)})
    for run in runs:
        params = ", ".join(f"`{k}={run.parameters.get(k)!r}`" for k in varying)
        lines.append(f"- **{run.variant}**: {params}")
    return "\n".join(lines) + "\n"


def prepare_book(profile: str, root: str | Path | None = None) -> Path:
    """Write `_config.yml`, `_toc.yml`, intro and variant pages, and copy the executed notebooks; returns the dir."""
    from iseebetter_lib.book.runner import repo_root

    root = Path(root).resolve() if root is not None else repo_root()
    spec = load_book(root=root)
    build = spec.build_dir(profile)
    book = build / "book"
    executed = build / "notebooks"
    runs = spec.plan(profile)
    missing = [r.output_name for r in runs if not (executed / f"{r.output_name}.ipynb").is_file()]
    if missing:
        raise UserError(f"{executed}: executed notebook(s) missing: {', '.join(missing)} "
                        f"(run `iseebetter book run --profile {profile}` first)")
    timings_file = build / "timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.is_file() else {}
    (book / "notebooks").mkdir(parents=True, exist_ok=True)
    for run in runs:
        shutil.copyfile(executed / f"{run.output_name}.ipynb", book / "notebooks" / f"{run.output_name}.ipynb")
    for chapter in spec.chapters:
        chapter_runs = spec.plan(profile, chapter.name)
        if chapter_runs[0].variant is not None:
            atomic_write_text(book / "variants" / f"{chapter.name}.md", _variants_page(chapter.title, chapter_runs))
    atomic_write_text(book / "intro.md", _intro(spec, profile, timings))
    atomic_write_text(book / "_config.yml", _yaml(book_config(spec, profile)))
    atomic_write_text(book / "_toc.yml", _yaml(book_toc(spec, profile)))
    return book


def jupyter_book_executable() -> str:
    beside = Path(sys.executable).parent / "jupyter-book"
    found = str(beside) if beside.is_file() else shutil.which("jupyter-book")
    if not found:
        raise UserError("jupyter-book not found: install the book extra (pip install -e .[book])")
    return found


def build_book(profile: str, root: str | Path | None = None, quiet: bool = False) -> Path:
    """Build the HTML book (warnings are errors); returns the path of its index.html."""
    book = prepare_book(profile, root)
    cmd = [jupyter_book_executable(), "build", str(book), *BUILD_FLAGS]
    if quiet:
        cmd.append("-q")
    proc = subprocess.run(cmd, cwd=book, capture_output=quiet, text=True)
    if proc.returncode != 0:
        detail = ""
        if quiet:
            text = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
            warn = [ln for ln in text.splitlines() if "WARNING" in ln or "ERROR" in ln]
            detail = ":\n" + "\n".join(warn[:20])
        raise UserError(f"{book}: jupyter-book build failed (exit {proc.returncode}){detail}")
    index = book / "_build" / "html" / "index.html"
    if not index.is_file():
        raise UserError(f"{book}: jupyter-book finished but {index} is missing")
    return index
