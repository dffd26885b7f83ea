"""Executed notebooks as pages of the HTML book: a title of their own, no paths of the machine that built them, and
the boilerplate cells (parameters, imports) hidden by cell tags.

Only the copies under `_build/<profile>/book/` change; the executed notebooks stay as papermill wrote them.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any, Mapping

import nbformat

INJECTED_TAG = "injected-parameters"
PARAMETERS_HEADER = "# Parameters of this run (book.yml), paths relative to the repository\n"
HEADING = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)
# Jupyter Book's cell tags: the notebook's own parameters cell is replaced by papermill's injected one (shown
# folded); a cell that starts with imports shows its output but folds its code
PARAMETERS_TAGS, INJECTED_TAGS, IMPORT_TAGS = ["remove-cell"], ["hide-input"], ["hide-input"]


def _home_label(path: str, name: str) -> str:
    """How a path outside the repository is shown: `~/...` under the home folder, else its environment variable
    (the data home) so that no page shows a literal `{placeholder}` or the builder's home folder."""
    home = str(Path.home()).rstrip("/")
    if path == home or path.startswith(home + "/"):
        return "~" + path[len(home):]
    return "$ISEEBETTER_DATA" if name == "data" else "$" + name.upper()


def path_labels(placeholders: Mapping[str, str], root: str | Path) -> list[tuple[str, str]]:
    """(absolute path, shown as) pairs, longest path first: paths inside the repository become relative to it,
    others are shown under `~` (or as ``$ISEEBETTER_DATA`` for a data home outside it), and so is the home folder."""
    root = str(Path(root))
    labels: list[tuple[str, str]] = []
    for name, value in placeholders.items():
        if value == root:
            continue
        inside = value.startswith(root.rstrip("/") + "/")
        labels.append((value, value[len(root.rstrip("/")) + 1:] if inside else _home_label(value, name)))
    labels.append((root.rstrip("/") + "/", ""))
    labels.append((root, "."))
    home = os.path.expanduser("~").rstrip("/")
    if home and home != "/" and not root.startswith(home + "/") and root != home:
        labels.append((home + "/", "~/"))
    return sorted(labels, key=lambda kv: len(kv[0]), reverse=True)


def relabel_paths(text: str, labels: list[tuple[str, str]]) -> str:
    """`text` with each absolute path of `labels` replaced by its label."""
    for path, label in labels:
        text = text.replace(path, label)
    return text


def page_title(nb: nbformat.NotebookNode) -> str | None:
    """The first Markdown `# heading` of the notebook (the page's title in the book)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = HEADING.search(cell.source)
            if match:
                return match.group(1)
    return None


def set_page_title(nb: nbformat.NotebookNode, title: str) -> None:
    """Replace the first Markdown `# heading` (or add one) so that every page has its own title."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and HEADING.search(cell.source):
            cell.source = HEADING.sub(lambda m: f"# {title}", cell.source, count=1)
            return
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"# {title}"))


def _relabel_outputs(outputs: list[Any], labels: list[tuple[str, str]]) -> None:
    for out in outputs:
        if out.get("output_type") == "stream":
            out["text"] = relabel_paths(out.get("text", ""), labels)
        for mime in ("text/plain", "text/markdown", "text/html"):
            data = out.get("data", {})
            if isinstance(data.get(mime), str):
                data[mime] = relabel_paths(data[mime], labels)


def starts_with_imports(source: str) -> bool:
    """Whether a code cell's first statement is an import (the chapter's imports cell)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and isinstance(body[0], (ast.Import, ast.ImportFrom))


def boilerplate_tags(cell: nbformat.NotebookNode) -> list[str]:
    """The tags that hide a boilerplate cell in the HTML (the notebooks keep the cells)."""
    tags = cell.metadata.get("tags", [])
    if INJECTED_TAG in tags:
        return INJECTED_TAGS
    if "parameters" in tags:
        return PARAMETERS_TAGS
    return IMPORT_TAGS if starts_with_imports(cell.source) else []


def prepare_page(source: Path, target: Path, labels: list[tuple[str, str]], title: str | None = None) -> None:
    """Copy an executed notebook to the book: paths relabelled in the injected parameters cell and in text
    outputs, the injected cell explained, boilerplate cells tagged to be hidden, the title replaced when given
    (variants of one chapter)."""
    nb = nbformat.read(str(source), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        extra = [t for t in boilerplate_tags(cell) if t not in cell.metadata.get("tags", [])]
        if extra:
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), *extra]
        if INJECTED_TAG in cell.metadata.get("tags", []):
            body = relabel_paths(cell.source, labels).removeprefix("# Parameters\n")
            cell.source = PARAMETERS_HEADER + body
        _relabel_outputs(cell.get("outputs", []), labels)
    if title is not None:
        set_page_title(nb, title)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(target))
