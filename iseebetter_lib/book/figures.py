"""One way to save a figure: deterministic PNG bytes, written atomically, shown inline.

Where a profile's figures go is `book.results`' rule: full- and laptop-profile figures are committed
(`figures/<chapter>/<name>.png`, `figures/laptop/<chapter>/...`); smoke figures stay in the build tree
(`_build/smoke/figures/<chapter>/<name>.png`). Same figure + same seed ->
identical bytes (Agg, fixed dpi, no Software/date metadata, fixed SVG hash salt).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from iseebetter_lib.book.results import results_home
from iseebetter_lib.deprecation import renamed
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_write_bytes

DPI = 100
_SAFE = re.compile(r"^[A-Za-z0-9_.-]+$")
plt.rcParams["svg.hashsalt"] = "iseebetter"


def figure_path(chapter: str, name: str, profile: str, root: str | Path | None = None) -> Path:
    """Where `save_figure` puts a figure: the profile's results folder (`results.results_home`), one folder per
    chapter."""
    for label, value in (("chapter", chapter), ("name", name), ("profile", profile)):
        if not _SAFE.match(value):
            raise UserError(f"save_figure: {label} {value!r} must be letters, digits, '_', '.' or '-'")
    return results_home(profile, root) / chapter / f"{name}.png"


def figure_bytes(fig: Any, dpi: int = DPI) -> bytes:
    """PNG bytes of a matplotlib figure without any metadata that changes between runs."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def save_figure(fig: Any, chapter: str, name: str, profile: str, root: str | Path | None = None,
                show: bool = True, dpi: int = DPI) -> Path:
    """Save `fig` as PNG (deterministic, atomic), display it inline when running in IPython, close it."""
    path = figure_path(chapter, name, profile, root)
    data = figure_bytes(fig, dpi=dpi)
    atomic_write_bytes(path, data)
    plt.close(fig)
    if show:
        show_png(data)
    return path


def show_png(data: bytes) -> None:
    """Display PNG bytes in a notebook (no-op outside IPython)."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:  # pragma: no cover - IPython ships with the book extra
        return
    if get_ipython() is not None:
        display(Image(data=data, format="png"))


__getattr__ = renamed(__name__, {"book_root": "iseebetter_lib.paths.book_root"})
