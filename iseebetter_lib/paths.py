"""The repository's own folders: the one place that finds the checkout and the book in it.

`repository_root()` is the checkout holding ``iseebetter_lib/`` (and `weights/`, `book.yml`, `tests/data/`);
`book_root()` is the repository whose book a run reads and writes, which the book runner may point elsewhere.
Imports nothing of the project (floor 1).
"""

from __future__ import annotations

import os
from pathlib import Path

BOOK_ROOT_ENV = "ISEEBETTER_BOOK_ROOT"  # set by the book runner for the notebooks it executes


def repository_root() -> Path:
    """The project's checkout: the folder holding ``iseebetter_lib/``."""
    return Path(__file__).resolve().parents[1]


def book_root() -> Path:
    """The repository holding book.yml: ``$ISEEBETTER_BOOK_ROOT``, else the nearest parent of the working folder with
    a book.yml (a chapter opened in JupyterLab), else `repository_root()`."""
    env = os.environ.get(BOOK_ROOT_ENV)
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "book.yml").is_file():
            return folder
    return repository_root()
