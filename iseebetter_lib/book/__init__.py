"""The research book: book.yml spec, papermill runner, Jupyter Book builder, figure/plot/widget helpers.

`run_book(profile, only=None, root=None)` executes the chapters; `build_book(profile)` makes the HTML;
`save_figure(fig, chapter, name, profile)` is the one way notebooks save figures.
"""

from iseebetter_lib.book.figures import save_figure
from iseebetter_lib.book.spec import load_book, parameters_cell

__all__ = ["save_figure", "load_book", "parameters_cell", "run_book", "build_book"]


def run_book(*args, **kwargs):
    """See `iseebetter_lib.book.runner.run_book` (imported lazily: papermill is only needed to run)."""
    from iseebetter_lib.book.runner import run_book as _run_book

    return _run_book(*args, **kwargs)


def build_book(*args, **kwargs):
    """See `iseebetter_lib.book.build.build_book`."""
    from iseebetter_lib.book.build import build_book as _build_book

    return _build_book(*args, **kwargs)
