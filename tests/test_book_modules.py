"""Chapters do not lean on each other: a chapter module (`book/chNN_*.py`) imports no other chapter module, at the
top or inside a function; what several chapters share lives in a named book module (`training_runs`, `samples`,
`vgg_note`, `noise_floor`, `zoom`, `temporal_profile`, `published_models`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "iseebetter_lib" / "book"
CHAPTER = re.compile(r"ch\d\d")  # ch00_overview, ch03b_frames; not check_html


def chapter_imports(path: Path) -> set[str]:
    """The chapter modules (``chNN_*``) that the module at `path` imports anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["iseebetter_lib", "book"] and len(parts) > 2 and CHAPTER.match(parts[2]):
                found.add(parts[2])
    return found


def test_no_chapter_module_imports_another():
    chapters = sorted(p for p in BOOK.glob("ch*.py") if CHAPTER.match(p.stem))
    assert len(chapters) >= 5
    leaning = {p.stem: sorted(chapter_imports(p) - {p.stem}) for p in chapters}
    assert {k: v for k, v in leaning.items() if v} == {}


def test_the_check_sees_imports_inside_functions(tmp_path):
    path = tmp_path / "ch09_x.py"
    path.write_text("from iseebetter_lib.book.display import md_table\n\n\ndef f():\n"
                    "    from iseebetter_lib.book.ch05_vid4 import verdict\n"
                    "    from iseebetter_lib.book import ch07_table3, plots\n"
                    "    import iseebetter_lib.book.ch01_data\n"
                    "    from iseebetter_lib.book import check_html\n")
    assert chapter_imports(path) == {"ch05_vid4", "ch07_table3", "ch01_data"}
