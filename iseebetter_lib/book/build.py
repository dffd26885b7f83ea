"""HTML book of the executed notebooks with Jupyter Book 1: `_build/<profile>/book/` -> `.../book/_build/html`.

The config and table of contents are generated from book.yml (notebooks are never re-executed: execute_notebooks
off; only files in the toc are built); the build runs with warnings as errors. The site reads offline: MathJax is
served from it (sphinx-mathjax-offline) and no widget or thebe script is fetched from a CDN.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from iseebetter_lib.book.pages import path_labels, prepare_page
from iseebetter_lib.book.results import MACHINE_REFERENCE, reference_units
from iseebetter_lib.book.spec import BookSpec, ChapterRun, load_book
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_write_text
from iseebetter_lib.locks import folder_lock

BUILD_FLAGS = ("-W", "-n", "--keep-going", "--all")
MATHJAX_EXTENSION = "sphinx-mathjax-offline"  # copies MathJax 3 into _static/mathjax
OFFLINE_EXTENSION = "iseebetter_lib.book.sphinx_offline"  # no thebe scripts, a valid colour mode


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
        "sphinx": {"extra_extensions": [MATHJAX_EXTENSION, OFFLINE_EXTENSION],
                   "config": {"html_show_copyright": False, "nb_render_markdown_format": "myst",
                              "suppress_warnings": ["mystnb.unknown_mime_type"],
                              # offline: MathJax from the site itself, no ipywidgets scripts from a CDN
                              "mathjax_path": "mathjax/tex-chtml.js", "nb_ipywidgets_js": {}}},
    }


def book_toc(spec: BookSpec, profile: str, only: str | list[str] | None = None) -> dict[str, Any]:
    """Jupyter Book `_toc.yml`: an intro page, one entry per chapter, variants as sections of a variants page."""
    chapters: list[dict[str, Any]] = []
    for chapter in spec.chapters:
        runs = [r for r in spec.plan(profile, only) if r.chapter == chapter.name]
        if not runs:
            continue
        if len(runs) == 1 and runs[0].variant is None:
            chapters.append({"file": f"notebooks/{runs[0].output_name}"})
        else:
            chapters.append({"file": f"variants/{chapter.name}",
                             "sections": [{"file": f"notebooks/{r.output_name}"} for r in runs]})
    return {"format": "jb-book", "root": "intro", "chapters": chapters}


def _yaml(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _intro(spec: BookSpec, profile: str, runs: list[ChapterRun], timings: dict[str, float]) -> str:
    """The index page: each executed notebook linked under its page title, with its execution time."""
    lines = [f"# {spec.title}", "", f"Executed with the `{profile}` profile "
             f"(`iseebetter book run --profile {profile}`).", "", "| chapter | seconds |", "|---|--:|"]
    for run in runs:
        secs = timings.get(run.output_name)
        lines.append(f"| {{doc}}`/notebooks/{run.output_name}` | {'' if secs is None else f'{secs:.0f}'} |")
    total = sum(timings.get(r.output_name, 0.0) for r in runs)
    lines += ["", f"Total execution time: {total:.0f} s.", ""]
    ref = timings.get(MACHINE_REFERENCE)
    if isinstance(ref, dict) and ref.get("before") and ref.get("after"):
        lines += [f"Machine-speed reference measured in the same run: our optical flow on the bikes sample pair "
                  f"(640 x 272) took {ref['before']:.0f} ms before and {ref['after']:.0f} ms after, so the "
                  f"book took {reference_units(total, ref):.0f} times that: compare this "
                  "ratio, not the seconds, across days on a shared machine.", ""]
    return "\n".join(lines)


def variant_title(run: ChapterRun) -> str:
    """The page title of one variant of a chapter: the chapter's title and the variant's name."""
    return f"{run.title}: {run.variant}"


def _variants_page(title: str, runs: list[ChapterRun]) -> str:
    lines = [f"# {title}", "", "This chapter is one notebook executed once per variant (papermill parameters):", ""]
    varying = sorted({k for r in runs for k in r.parameters
                      if k != "variant" and any(o.parameters.get(k) != r.parameters.get(k) for o in runs)})
    for run in runs:
        params = ", ".join(f"`{k}={run.parameters.get(k)!r}`" for k in varying)
        lines.append(f"- {{doc}}`/notebooks/{run.output_name}`: {params}")
    return "\n".join(lines) + "\n"


def prepare_book(profile: str, root: str | Path | None = None, only: str | list[str] | None = None) -> Path:
    """Write `_config.yml`, `_toc.yml`, intro and variant pages, and copy the executed notebooks as pages (own
    titles, paths relative to the repository); `only` builds a book of some chapters. Returns the book's dir."""
    from iseebetter_lib.book.runner import read_timings, repo_root

    root = Path(root).resolve() if root is not None else repo_root()
    spec = load_book(root=root)
    build = spec.build_dir(profile)
    book = build / "book"
    executed = build / "notebooks"
    runs = spec.plan(profile, only)
    missing = [r.output_name for r in runs if not (executed / f"{r.output_name}.ipynb").is_file()]
    if missing:
        raise UserError(f"{executed}: executed notebook(s) missing: {', '.join(missing)} "
                        f"(run `iseebetter book run --profile {profile}` first)")
    timings = read_timings(build / "timings.json")
    if (book / "notebooks").is_dir():
        shutil.rmtree(book / "notebooks")  # no page of an earlier, larger build
    labels = path_labels(spec.placeholders(profile), root)
    for run in runs:
        prepare_page(executed / f"{run.output_name}.ipynb", book / "notebooks" / f"{run.output_name}.ipynb",
                     labels, title=None if run.variant is None else variant_title(run))
    for chapter in spec.chapters:
        chapter_runs = [r for r in runs if r.chapter == chapter.name]
        if chapter_runs and chapter_runs[0].variant is not None:
            atomic_write_text(book / "variants" / f"{chapter.name}.md", _variants_page(chapter.title, chapter_runs))
    atomic_write_text(book / "intro.md", _intro(spec, profile, runs, timings))
    atomic_write_text(book / "_config.yml", _yaml(book_config(spec, profile)))
    atomic_write_text(book / "_toc.yml", _yaml(book_toc(spec, profile, only)))
    return book


def jupyter_book_executable() -> str:
    beside = Path(sys.executable).parent / "jupyter-book"
    found = str(beside) if beside.is_file() else shutil.which("jupyter-book")
    if not found:
        raise UserError("jupyter-book not found: install the book extra (pip install -e .[book])")
    return found


def build_book(profile: str, root: str | Path | None = None, quiet: bool = False,
               only: str | list[str] | None = None) -> Path:
    """Build the HTML book (warnings are errors); returns the path of its index.html. The profile's build folder
    is locked meanwhile, as `book run` locks it (`locks.folder_lock`): never a book of half-executed chapters."""
    from iseebetter_lib.book.runner import repo_root

    build = load_book(root=Path(root).resolve() if root is not None else repo_root()).build_dir(profile)
    with folder_lock(build, "book build folder"):
        return _build_book(profile, root, quiet, only)


def _build_book(profile: str, root: str | Path | None, quiet: bool, only: str | list[str] | None) -> Path:
    book = prepare_book(profile, root, only)
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
