"""Maths in the chapters' Markdown as Markdown parsers read it: a line inside `$...$` or `$$...$$` that begins with
`+`, `-` or `*` and a space is a list item to Markdown, which tears the formula apart in the HTML book."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "notebooks").glob("*.py"))
LIST_MARKER = re.compile(r"^\s*[-+*](\s|$)")
DOLLARS = re.compile(r"(?<!\\)\$\$|(?<!\\)\$")


def list_lines_in_maths(markdown: str) -> list[str]:
    """Lines of `markdown` that open with a list marker while a `$` or `$$` formula is still open."""
    bad: list[str] = []
    inline = display = False
    in_code = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        if (inline or display) and LIST_MARKER.match(line):
            bad.append(line)
        for token in DOLLARS.findall(re.sub(r"`[^`]*`", "", line)):
            if token == "$$":
                display = not display
            elif not display:
                inline = not inline
        if not line.strip():
            inline = False  # a blank line ends a paragraph, and an unclosed `$` with it
    return bad


def test_the_checker_finds_a_list_marker_in_maths():
    assert list_lines_in_maths("$a = b\n+ c$") == ["+ c$"]
    assert list_lines_in_maths("$$\na\n- b\n$$") == ["- b"]
    assert list_lines_in_maths("$a + b$\n- item\n* item `$x`") == []
    assert list_lines_in_maths("costs \\$5\n- item") == []


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_no_markdown_list_marker_inside_maths(source):
    import jupytext

    nb = jupytext.read(source)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            bad = list_lines_in_maths(cell.source)
            assert not bad, f"{source.name}: a formula line starts with a list marker: {bad[0]!r}"
