"""The committed results of the `laptop` profile (figures/laptop/): every figure is one a chapter saves, and every
result JSON records the parameters book.yml gives that chapter today, a commit and the command.

The results are committed, so a missing file fails here (never a skip: a lost file must not pass CI)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from iseebetter_lib.book.results import BOOK_FILE, COMMITTED, results_home, unsubstitute
from iseebetter_lib.book.spec import load_book

REPO = Path(__file__).resolve().parents[1]
PROFILE = "laptop"
HOME = results_home(PROFILE, REPO)
JSONS = sorted(p for p in HOME.glob("*.json") if p.name != BOOK_FILE) if HOME.is_dir() else []


def test_the_committed_results_are_there():
    assert HOME.is_dir(), f"{HOME}: the committed {PROFILE} results are missing"
    assert (HOME / BOOK_FILE).is_file(), f"{HOME / BOOK_FILE}: missing (a complete {PROFILE} run writes it)"
    assert JSONS, f"{HOME}: no result JSON of any chapter"
    assert sorted(HOME.glob("*/*.png")), f"{HOME}: no figures"


def figure_names(source: Path) -> list[re.Pattern]:
    """Patterns of the figure names a chapter saves: save_figure(..., CHAPTER, "name" or f"prefix{...}", ...)."""
    pats = []
    for m in re.finditer(r"save_figure\((?:.|\n)*?CHAPTER,\s*(f?)\"([^\"]+)\"", source.read_text()):
        is_f, name = m.groups()
        parts = re.split(r"\{[^}]*\}", name) if is_f else [name]
        pats.append(re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$"))
    return pats


def test_figure_name_patterns_cover_f_strings(tmp_path):
    src = tmp_path / "nb.py"
    src.write_text('save_figure(fig, CHAPTER, f"zoom_{clip}", profile)\nsave_figure(plots.x(a,\n b), CHAPTER, '
                   '"ablation", profile)\n')
    pats = figure_names(src)
    assert any(p.match("zoom_calendar") for p in pats) and any(p.match("ablation") for p in pats)
    assert not any(p.match("loss_curves") for p in pats)


def test_every_committed_figure_is_saved_by_a_chapter():
    spec = load_book(root=REPO)
    sources = {c.name: c.source for c in spec.chapters}
    figures = sorted(HOME.glob("*/*.png"))
    assert figures, f"results JSON in {HOME} but no figures"
    for png in figures:
        chapter = png.parent.name
        assert chapter in sources, f"{png}: folder {chapter!r} is not a chapter of book.yml"
        assert any(p.match(png.stem) for p in figure_names(sources[chapter])), \
            f"{png}: no save_figure call in {sources[chapter].name} makes a figure of this name"


def test_result_json_matches_book_yml_and_names_its_commit():
    spec = load_book(root=REPO)
    plan = {r.output_name: r for r in spec.plan(PROFILE)}
    subst = spec.placeholders(PROFILE)
    for path in JSONS:
        data = json.loads(path.read_text())
        run = plan.get(path.stem)
        assert run is not None, f"{path}: not a notebook of the {PROFILE} profile"
        assert data["profile"] == PROFILE and data["chapter"] == run.chapter
        assert data["parameters"] == unsubstitute(run.parameters, subst), \
            f"{path}: recorded parameters differ from book.yml's {PROFILE} profile (rerun the chapter)"
        assert re.fullmatch(r"[0-9a-f]{40}", data["commit"] or ""), f"{path}: no commit recorded"
        assert data["code_changed_since_commit"] is False, f"{path}: made by code that was not committed"
        assert data["command"].startswith(f"iseebetter book run --profile {PROFILE}")
        assert data["numbers"], f"{path}: no numbers"


def test_book_json_times_every_notebook_of_one_complete_run():
    spec = load_book(root=REPO)
    book = json.loads((HOME / BOOK_FILE).read_text())
    planned = {r.output_name for r in spec.plan(PROFILE)}
    assert set(book["seconds"]) == planned
    assert book["total_seconds"] == pytest.approx(sum(book["seconds"].values()), abs=1.0)
    assert book["command"] == f"iseebetter book run --profile {PROFILE}"
    assert PROFILE in COMMITTED


def test_unsubstitute_writes_placeholders_back():
    subst = {"root": "/r", "build": "/r/_build/laptop", "data": "/d"}
    value = {"a": "/r/_build/laptop/runs", "b": ["/r/weights", "/d/vid4"], "c": 3}
    assert unsubstitute(value, subst) == {"a": "{build}/runs", "b": ["{root}/weights", "{data}/vid4"], "c": 3}
