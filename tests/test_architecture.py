"""The layered house of ARCHITECTURE.md, kept true: imports go one way (down the floors), no module grows past ~300
lines, and the benchmarks never import the book."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Floor of each top-level module of the library (pyflow is floor 0 and imports nothing of the project).
FLOORS = {
    "errors": 1, "io": 1, "locks": 1, "config": 1, "device": 1, "precision": 1,
    "data": 2, "flow": 2,
    "models": 3, "losses": 3, "vgg": 3,
    "training": 4, "inference": 4, "evaluation": 4,
    "book": 5, "cli": 5, "__main__": 5,
}
# On floor 4, evaluation applies models through the inference engine; nothing else there crosses sideways. On the
# other floors, modules of one floor may use each other as long as no cycle forms.
SIDEWAYS = {("evaluation", "inference")}
MAX_LINES = 300


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _top(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "pyflow":
        return "pyflow"
    if parts[0] != "iseebetter_lib":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _floor(top: str) -> int:
    return 0 if top == "pyflow" else 5 if top == "__init__" else FLOORS[top]


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names
                      if node.module == "iseebetter_lib" and alias.name in FLOORS]
    return found


def _library_files() -> list[Path]:
    return sorted((REPO / "iseebetter_lib").rglob("*.py")) + sorted((REPO / "pyflow").glob("*.py"))


def test_every_top_level_module_has_a_floor():
    tops = {_top(_module_name(f)) for f in _library_files()}
    assert tops - set(FLOORS) - {"pyflow", "__init__"} == set()


def _edges() -> dict[tuple[str, str], str]:
    """(importer, imported) top-level modules -> one file where it happens."""
    edges = {}
    for path in _library_files():
        me = _top(_module_name(path))
        for name in _imports(path):
            other = _top(name)
            if other is not None and other != me:
                edges.setdefault((me, other), f"{path.relative_to(REPO)} imports {name}")
    return edges


def test_imports_go_down_the_floors():
    wrong = [where for (me, other), where in _edges().items()
             if me == "pyflow" or _floor(other) > _floor(me)
             or (_floor(other) == _floor(me) == 4 and (me, other) not in SIDEWAYS)]
    assert wrong == []


def test_no_import_cycle_between_top_level_modules():
    edges = _edges()
    graph: dict[str, set[str]] = {}
    for me, other in edges:
        graph.setdefault(me, set()).add(other)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    assert [where for (me, other), where in edges.items() if reaches(other, me, {other})] == []


def test_no_library_module_is_over_the_size_limit():
    long = [f"{p.relative_to(REPO)}: {n} lines" for p in _library_files()
            if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert long == []


@pytest.mark.parametrize("path", sorted((REPO / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_benchmarks_never_import_the_book(path):
    assert [n for n in _imports(path) if n.startswith("iseebetter_lib.book")] == []
