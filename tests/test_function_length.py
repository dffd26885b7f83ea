"""Functions a reader can hold: no function (or method) of the library is longer than 60 lines, counted by the
parser from its `def` (decorators excluded) to its last line, docstring included."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 60


def long_functions(root: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``path:line name (n lines)`` of every function under `root` longer than `limit` lines."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({n} lines)")
    return found


def test_no_library_function_is_longer_than_60_lines():
    assert long_functions(REPO / "iseebetter_lib") == []


def test_the_count_finds_a_long_function_and_nested_ones(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(60))
    (pkg / "m.py").write_text(f"def short():\n    return 1\n\n\ndef long():\n{body}\n\n\n"
                              f"class C:\n    def method(self):\n        def inner():\n"
                              + "\n".join(f"            y{i} = {i}" for i in range(60)) + "\n        return inner\n")
    found = long_functions(pkg)
    assert [f.split()[1] for f in found] == ["long", "method", "inner"]
    assert found[0] == "pkg/m.py:5 long (61 lines)"
