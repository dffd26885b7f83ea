"""The layered house of ARCHITECTURE.md, kept true: imports go one way (down the floors), no two modules import
each other, no module grows past ~300 lines, and the benchmarks never import the book.

Every import counts, those inside functions included (`ast.walk`), except those under ``if TYPE_CHECKING:``, which
never run."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Floor of each top-level module of the library (pyflow is floor 0 and imports nothing of the project).
FLOORS = {
    "errors": 1, "io": 1, "locks": 1, "config": 1, "device": 1, "precision": 1, "paths": 1, "deprecation": 1,
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


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:`` (imports for annotations, never executed)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    return skipped


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` reads, relative imports resolved against `path`."""
    if node.level == 0:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    package = package[:len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def _imports(path: Path) -> list[str]:
    """Every module `path` imports, anywhere in the file; ``from module import name`` gives ``module.name`` (a
    submodule when `name` is one, else a name in `module`: `_module_graph` tells them apart)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped, found = _type_checking_only(tree), []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(path, node)
            found += [f"{module}.{alias.name}" for alias in node.names]
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
            if other is not None and other != me and (other in FLOORS or other == "pyflow"):
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


def _module_graph() -> dict[str, set[str]]:
    """library module -> the library modules it imports (a name imported from a package counts as its submodule
    when there is one, else as the package's ``__init__``)."""
    modules = {_module_name(p): p for p in _library_files()}
    graph: dict[str, set[str]] = {}
    for me, path in modules.items():
        targets = {name if name in modules else name.rpartition(".")[0] for name in _imports(path)}
        graph[me] = {t for t in targets if t in modules and t != me}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_library_modules():
    """Also inside a package (``book.figures`` <-> ``book.results`` was one), and through imports in functions."""
    assert _cycles(_module_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_imports_inside_functions_and_relative_imports_are_seen(tmp_path, monkeypatch):
    package = tmp_path / "iseebetter_lib" / "book"
    package.mkdir(parents=True)
    (package / "x.py").write_text("from typing import TYPE_CHECKING\n"
                                  "if TYPE_CHECKING:\n    from iseebetter_lib.cli import main\n"
                                  "def f():\n    from iseebetter_lib.data import home\n    from . import y\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    found = _imports(package / "x.py")
    assert "iseebetter_lib.data.home" in found and "iseebetter_lib.book.y" in found
    assert not any(name.startswith("iseebetter_lib.cli") for name in found)


def test_no_library_module_is_over_the_size_limit():
    long = [f"{p.relative_to(REPO)}: {n} lines" for p in _library_files()
            if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert long == []


@pytest.mark.parametrize("path", sorted((REPO / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_benchmarks_never_import_the_book(path):
    assert [n for n in _imports(path) if n.startswith("iseebetter_lib.book")] == []
