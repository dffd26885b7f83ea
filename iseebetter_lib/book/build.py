"""HTML book of the executed notebooks with Jupyter Book 1: `_build/<profile>/book/` -> `.../book/_build/html`.

The config and table of contents are generated from book.yml (notebooks are never re-executed: execute_notebooks
off; only files in the toc are built); the landing page, the run-time appendix and the bibliography page are generated
(`book.landing`, `references.bib`); the build runs with warnings as errors. The site reads offline: MathJax is
served from it (sphinx-mathjax-offline) and no widget or thebe script is fetched from a CDN.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from iseebetter_lib.book.landing import BIBLIOGRAPHY_PAGE, landing_page, runtime_page, write_vsr_figure
from iseebetter_lib.book.pages import path_labels, prepare_page
from iseebetter_lib.book.spec import BookSpec, ChapterRun, load_book
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_write_text
from iseebetter_lib.locks import folder_lock

BUILD_FLAGS = ("-W", "-n", "--keep-going", "--all")
MATHJAX_EXTENSION = "sphinx-mathjax-offline"  # copies MathJax 3 into _static/mathjax
OFFLINE_EXTENSION = "iseebetter_lib.book.sphinx_offline"  # no thebe scripts, a valid colour mode
BIBFILE = "references.bib"  # at the repository root; copied beside the book's pages
# Jupyter Book's default MyST extensions without `linkify`, which turned a file name such as laptop.pt into a link
MYST_EXTENSIONS = ["colon_fence", "dollarmath", "substitution", "tasklist"]
# wide tables scroll inside the page instead of being cut at a 1280 px window; a smaller font fits more columns
TABLE_CSS = """main table, .bd-article table { display: block; max-width: 100%; overflow-x: auto; font-size: 0.85em; }
main table td, main table th { white-space: normal; }
"""


def book_config(spec: BookSpec, profile: str) -> dict[str, Any]:
    """Jupyter Book `_config.yml` content."""
    return {
        "title": f"{spec.title} ({profile} profile)",
        "author": spec.author,
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off"},
        "bibtex_bibfiles": [BIBFILE],
        "parse": {"myst_enable_extensions": MYST_EXTENSIONS},
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
    """Jupyter Book `_toc.yml`: the landing page, one entry per chapter (variants as sections of a variants page),
    then the appendix pages: run times and the bibliography."""
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
    chapters += [{"file": "runtimes"}, {"file": "bibliography"}]
    return {"format": "jb-book", "root": "intro", "chapters": chapters}


def _yaml(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


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
    """Write `_config.yml`, `_toc.yml`, the landing, appendix and variant pages (with the landing figure, the
    bibliography and the table CSS), and copy the executed notebooks as pages (own titles, paths relative to the
    repository, boilerplate cells hidden); `only` builds a book of some chapters. Returns the book's dir."""
    from iseebetter_lib.paths import book_root
    from iseebetter_lib.book.runner import read_timings

    root = Path(root).resolve() if root is not None else book_root()
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
    atomic_write_text(book / "intro.md", landing_page(spec.title, profile, runs, timings, root))
    atomic_write_text(book / "runtimes.md", runtime_page(profile, runs, timings))
    atomic_write_text(book / "bibliography.md", BIBLIOGRAPHY_PAGE)
    bib = root / BIBFILE if (root / BIBFILE).is_file() else Path(__file__).resolve().parents[2] / BIBFILE
    atomic_write_text(book / BIBFILE, bib.read_text())
    atomic_write_text(book / "_static" / "iseebetter.css", TABLE_CSS)
    write_vsr_figure(book)
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
    from iseebetter_lib.paths import book_root

    build = load_book(root=Path(root).resolve() if root is not None else book_root()).build_dir(profile)
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
