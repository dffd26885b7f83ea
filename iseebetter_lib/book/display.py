"""Generic display helpers for the chapters: dict rows as a Markdown table, Markdown shown in a notebook (printed
elsewhere), and the small JSON result files one chapter leaves for later ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_write_text


def md_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, floatfmt: str = ".2f") -> str:
    """A Markdown table from dict rows (floats formatted with `floatfmt`, None as '-')."""
    columns = list(columns or (rows[0].keys() if rows else []))

    def fmt(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return format(v, floatfmt)
        if isinstance(v, int) and not isinstance(v, bool):
            return f"{v:,}"
        return str(v)

    esc = lambda text: str(text).replace("|", "\\|")  # noqa: E731 - a pipe inside a cell would split it
    lines = ["| " + " | ".join(esc(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(esc(fmt(r.get(c))) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def show_md(text: str) -> None:
    """Display Markdown in a notebook, print it elsewhere; empty text shows nothing."""
    if not text:
        return
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(text))
            return
    except ImportError:  # pragma: no cover
        pass
    print(text)


def write_json(path: str | Path, data: Mapping[str, Any]) -> Path:
    """Small result files that later chapters read (atomic, sorted keys)."""
    return atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")


def read_json(path: str | Path, what: str = "result") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: {what} not found (run the chapter that writes it first)")
    return json.loads(path.read_text())
