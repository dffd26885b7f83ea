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
# Chapters redesigned since the committed run, with the design marker a run of the new design saves: until a laptop
# run replaces them, their committed results (shown in the book labelled as the previous design) keep the old
# parameters and figures. Once the committed JSON carries the marker the checks apply again and the entry must go.
AWAITING_RERUN = {  # chapter -> whether a result's numbers are of the new design
    "03_training": lambda numbers: ((numbers.get("config") or {}).get("train") or {}).get("compile") is True,
    "03b_frames": lambda numbers: numbers.get("design") == "paired by seed",
    "04_ablation": lambda numbers: "niqe" in (numbers.get("row") or {}),  # NIQE and tOF beside PSNR/SSIM
    "04b_ablation_compare": lambda numbers: "floors" in numbers,  # the floor from three seeds, per measure
    "05_vid4": lambda numbers: "probes" in numbers,  # what the trained model uses
}


def chapter_of(output_name: str) -> str:
    """`04_ablation__pixel` -> `04_ablation`: the chapter a result file or a timed notebook run belongs to."""
    return output_name.split("__")[0]


def awaiting_rerun(name: str) -> bool:
    """The committed result `name` (a chapter, or a chapter's variant) is of a design the chapter no longer runs (see
    AWAITING_RERUN)."""
    chapter = chapter_of(name)
    if chapter not in AWAITING_RERUN:
        return False
    files = [HOME / f"{name}.json"] if (HOME / f"{name}.json").is_file() else sorted(HOME.glob(f"{chapter}*.json"))
    return any(not AWAITING_RERUN[chapter](json.loads(f.read_text()).get("numbers") or {}) for f in files)


def test_awaiting_rerun_entries_are_still_needed():
    stale = [c for c in AWAITING_RERUN if (HOME / f"{c}.json").is_file() and not awaiting_rerun(c)]
    assert not stale, f"{stale}: re-run with the new design; remove from AWAITING_RERUN"


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
        if awaiting_rerun(chapter):
            continue
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
        if awaiting_rerun(path.stem):
            assert re.fullmatch(r"[0-9a-f]{40}", data["commit"] or ""), f"{path}: no commit recorded"
            continue
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
    if any(awaiting_rerun(c) for c in AWAITING_RERUN):  # redesigned chapters: their timed runs are the old design's
        timed = {n for n in book["seconds"] if not awaiting_rerun(n)}
        assert timed == {n for n in planned if not awaiting_rerun(n)}
    else:
        assert set(book["seconds"]) == planned
    assert book["total_seconds"] == pytest.approx(sum(book["seconds"].values()), abs=1.0)
    assert book["command"] == f"iseebetter book run --profile {PROFILE}"
    assert PROFILE in COMMITTED


def test_unsubstitute_writes_placeholders_back():
    subst = {"root": "/r", "build": "/r/_build/laptop", "data": "/d"}
    value = {"a": "/r/_build/laptop/runs", "b": ["/r/weights", "/d/vid4"], "c": 3}
    assert unsubstitute(value, subst) == {"a": "{build}/runs", "b": ["{root}/weights", "{data}/vid4"], "c": 3}
