"""The notebooks without running them: jupytext sources that parse, the project kernelspec, a parameters cell with
the book's required names, thin cells, agreement with book.yml, and no generated .ipynb tracked by git."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

from iseebetter_lib.book.spec import REQUIRED_PARAMETERS, load_book, parameters_cell

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "notebooks").glob("*.py"))
MAX_LOGIC_LINES = 20  # longer cells belong in iseebetter_lib.book


def test_there_are_notebooks():
    names = {p.stem for p in SOURCES}
    assert {"00_overview", "01_data", "02_flow", "03_training", "04_ablation", "05_vid4", "06_upscale"} <= names


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_no_ipynb_is_tracked_by_git():
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=REPO, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    assert out.stdout.strip() == "", f"generated notebooks are tracked: {out.stdout.split()}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_source_is_a_valid_percent_notebook(source):
    import jupytext

    nb = jupytext.read(source)
    assert nb.metadata["kernelspec"] == {"name": "iseebetter", "display_name": "Python (iseebetter)",
                                         "language": "python"}  # what the project kernel reports: no change on open
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "starts with a # title"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    params = parameters_cell(source)
    for name in REQUIRED_PARAMETERS:
        assert name in params, f"parameters cell lacks {name!r}"
    assert params["interactive"] is False and isinstance(params["seed"], int)
    assert params["profile"] == "smoke"
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        ast.parse(cell.source)  # every code cell is plain Python
        logic = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.strip().startswith("#")]
        assert len(logic) <= MAX_LOGIC_LINES, f"a cell of {len(logic)} lines: move its logic into the library"


def test_markdown_headings_do_not_skip_levels():
    """Jupyter Book (warnings as errors) rejects a jump from # to ###."""
    import jupytext

    for source in SOURCES:
        level = 0
        for cell in jupytext.read(source).cells:
            if cell.cell_type != "markdown":
                continue
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    new = len(line) - len(line.lstrip("#"))
                    assert new <= level + 1, f"{source.name}: heading {line!r} skips a level"
                    level = new


def test_book_yml_matches_the_notebooks():
    spec = load_book(root=REPO)  # validates every profile's parameters against the parameters cells
    assert {c.name for c in spec.chapters} == {p.stem for p in SOURCES}
    assert set(spec.profiles) == {"smoke", "laptop", "full"}
    smoke = spec.plan("smoke")
    variants = [r.variant for r in smoke if r.chapter == "04_ablation"]
    assert variants == ["pixel", "perceptual", "adversarial", "tv", "all_four", "all_four_seed2", "all_four_seed3"]
    for name in ("smoke", "laptop", "full"):  # the noise floor: all_four with three seeds
        runs = {r.variant: r.parameters for r in spec.plan(name) if r.chapter == "04_ablation"}
        seeds = [runs[v].get("seed", 123) for v in ("all_four", "all_four_seed2", "all_four_seed3")]
        assert all(runs[v]["weights"] == runs["all_four"]["weights"] for v in ("all_four_seed2", "all_four_seed3"))
        assert len(set(seeds)) == 3
    laptop = {r.chapter: r for r in spec.plan("laptop")}
    assert laptop["03_training"].parameters["preset_name"] == "laptop"
    assert laptop["05_vid4"].parameters["frame_step"] == 1  # all 171 Vid4 frames
    assert not any(r.requires_gpu for r in laptop.values())
    assert all(r.parameters["weights"]["pixel"] == 1.0 for r in smoke if r.chapter == "04_ablation")
    full = {r.chapter: r for r in spec.plan("full")}
    assert full["03_training"].requires_gpu and full["05_vid4"].requires_gpu
    assert all(not r.requires_gpu for r in smoke)
