"""The book as a reader gets it: every chapter teaches in the same frame (In this chapter / Summary / Exercises),
no title or heading names a dataset that may not be there, the HTML check catches unfilled placeholders and links
to invented web hosts, and a chapter runs with `interactive=True` as a reader in JupyterLab runs it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from iseebetter_lib.book.check_html import link_problems, links_in, text_problems
from iseebetter_lib.book.spec import load_book

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "notebooks").glob("*.py"))
SECTIONS = ("## In this chapter", "## Summary", "## Exercises")


def _markdown(source: Path) -> list[str]:
    import jupytext

    return [c.source for c in jupytext.read(source).cells if c.cell_type == "markdown"]


def _headings(texts: list[str]) -> list[str]:
    return [ln.strip() for text in texts for ln in text.splitlines() if re.match(r"^#{1,6}\s", ln)]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_every_chapter_opens_with_its_aims_and_ends_with_summary_and_exercises(source):
    cells = _markdown(source)
    headings = _headings(cells)
    for section in SECTIONS:
        assert section in headings, f"{source.name}: no {section!r} heading"
    assert headings.index("## In this chapter") <= 2, "'In this chapter' comes near the top"
    level2 = [h for h in headings if h.startswith("## ")]
    assert level2[-2:] == ["## Summary", "## Exercises"], f"{source.name}: Summary and Exercises end the chapter"
    exercises = "\n".join(cells)[("\n".join(cells)).index("## Exercises"):]
    assert len(re.findall(r"^\d+\. ", exercises, re.MULTILINE)) >= 2, "at least two exercises"
    aims = "\n".join(cells).split("## In this chapter", 1)[1].split("\n## ", 1)[0]
    assert 2 <= len(re.findall(r"^- ", aims, re.MULTILINE)) <= 4, "In this chapter: 2-4 points"
    summary = "\n".join(cells).split("## Summary", 1)[1].split("## Exercises", 1)[0]
    assert 3 <= len(re.findall(r"^- ", summary, re.MULTILINE)) <= 5, "a summary of 3-5 bullets"


def test_no_title_or_heading_names_a_dataset_that_may_be_absent():
    """Without Vid4 in the data home the scoring chapters use other clips: a static heading or title naming Vid4
    would then be false. Text naming the test set is generated from what was scored."""
    spec = load_book(root=REPO)
    assert not [c.title for c in spec.chapters if "vid4" in c.title.lower()], "book.yml titles name Vid4"
    named = [(s.name, h) for s in SOURCES for h in _headings(_markdown(s)) if "vid4" in h.lower()]
    assert not named, f"headings naming Vid4: {named}"


def test_the_html_check_flags_unfilled_placeholders_and_invented_web_hosts():
    assert text_problems("Fetch it into {data}/vid4 first.")[0].startswith("literal placeholder {data}")
    assert text_problems("the set {x: 1} and a price of {5}") == []  # a dict-like text and a number are not
    assert text_problems("no placeholder here") == []
    page = ('<p>weights in <a href="http://laptop.pt">laptop.pt</a>, see <a href="https://doi.org/10.1007/x">'
            'the paper</a>, <a href="https://github.com/amanchadha/iSeeBetter">code</a>, '
            '<a href="../notebooks/01_data.html">chapter 01</a>, <a href="#summary">here</a>, '
            '<a href="mailto:a@b.c">mail</a></p>')
    links = links_in(page)
    assert len(links) == 6
    problems = link_problems(links)
    assert len(problems) == 1 and "'laptop.pt'" in problems[0]


def _run_chapter_02_interactively(tmp_path: Path) -> "object":
    import nbformat
    import papermill

    from iseebetter_lib.book.runner import KERNEL, kernel_search_path, to_notebook

    source = to_notebook(REPO / "notebooks" / "02_flow.py", tmp_path / "02_flow.ipynb")
    empty_home = tmp_path / "data"
    empty_home.mkdir()
    env = {"ISEEBETTER_DATA": str(empty_home), "ISEEBETTER_BOOK_ROOT": str(tmp_path), "OMP_NUM_THREADS": "1",
           "JUPYTER_PATH": kernel_search_path(REPO),
           "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        papermill.execute_notebook(str(source), str(tmp_path / "out.ipynb"), kernel_name=KERNEL,
                                   parameters={"interactive": True, "timing_repeats": 1, "profile": "lab"},
                                   cwd=str(REPO / "notebooks"), progress_bar=False, log_output=False)
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    return nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)


@pytest.mark.slow
def test_a_chapter_runs_interactively_on_the_project_kernel_without_vid4(tmp_path):
    pytest.importorskip("papermill", reason="papermill not installed (the book extra installs it)")
    pytest.importorskip("ipywidgets", reason="ipywidgets not installed (the book extra installs it)")
    nb = _run_chapter_02_interactively(tmp_path)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs), \
        "interactive=True shows the widget"
    markdown_out = [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert not [h for h in _headings(markdown_out) if "vid4" in h.lower()]
    assert (tmp_path / "_build" / "lab" / "figures" / "02_flow").is_dir(), "a hand run writes under _build/lab"


def test_the_landing_page_reads_every_number_from_the_records(tmp_path):
    import json

    from iseebetter_lib.book.landing import landing_page, results_rows

    def record(path: Path, test_set: str, psnr: float, extra: dict | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"command": "iseebetter book run --profile X", "commit": "abcdef1234",
                                    "numbers": {"test_set": test_set, "average": {"psnr_y": psnr, "ssim_y": 0.61,
                                                                                  "frames": 12},
                                                "gain_rows": [{"clip": "average", "MATLAB bicubic": 21.5}]},
                                    **(extra or {})}))

    record(tmp_path / "figures" / "laptop" / "05_vid4.json", "vid4", 25.3311)
    (tmp_path / "figures" / "laptop" / "book.json").write_text(json.dumps(
        {"total_seconds": 4098.1, "command": "iseebetter book run --profile laptop", "commit": "0123456789",
         "machine": {"cpus": 2}}))
    record(tmp_path / "_build" / "smoke" / "figures" / "05_vid4.json", "folder", 22.1234)
    rows = results_rows("smoke", tmp_path, ["05_vid4"])
    by_source = {(r["source"], r["model"]): r for r in rows}
    assert by_source[("paper", "iSeeBetter")]["PSNR-Y (dB)"] == "27.43"  # the paper's Table 3, not typed here
    laptop = by_source[("committed laptop run", "`iseebetter_lib/weights/laptop.pt`")]
    assert laptop["PSNR-Y (dB)"] == "25.33" and laptop["test set"] == "Vid4" and "abcdef1" in laptop["made by"]
    own = by_source[("this run (smoke)", "chapter 03's model")]
    assert own["PSNR-Y (dB)"] == "22.12" and "not Vid4" in own["test set"]
    assert by_source[("this run (smoke)", "bicubic (MATLAB)")]["PSNR-Y (dB)"] == "21.50"
    assert results_rows("smoke", tmp_path, ["00_overview"])[-1]["test set"] == "not run in this build"
    runs = load_book(root=REPO).plan("smoke", only="00_overview")
    page = landing_page("T", "smoke", runs, {"00_overview": 90.0}, tmp_path)
    assert "68 min (`iseebetter book run --profile laptop` at commit `0123456`" in page  # book.json's 4098 s
    assert "1.5 min (this build's run" in page and "interactive = True" in page and "make lab" in page
    assert "{cite}`chadha2020iseebetter`" in page and "{doc}`/notebooks/00_overview`" in page


def test_the_chapters_equations_and_tables_follow_the_code():
    """Chapter 00's loss table and deviation sentence come from the presets; chapter 02's pyramid from the solver."""
    from pyflow import _flow

    from iseebetter_lib.book.ch00_overview import deviations, loss_variant_rows
    from iseebetter_lib.book.ch02_flow import pyramid_rows
    from iseebetter_lib.config import FlowConfig, preset

    rows = {r["term"]: r for r in loss_variant_rows(["full", "compact"])}
    assert rows["pixel"]["full"].startswith("MSE") and rows["pixel"]["compact"].startswith("L1")
    assert rows["adversarial"]["paper (figure)"] == "-mean log D(SR)"
    assert rows["adversarial"]["full"] == f"-mean D(SR), weight {preset('full').train.loss.weights.adversarial:g}"
    assert "pixel: L1" in deviations("compact") and "pixel" not in deviations("full").split("--")[1]
    levels = pyramid_rows(180, 144)
    cfg = FlowConfig()
    assert len(levels) == _flow.n_levels_for(180, cfg.ratio, cfg.min_width)
    assert levels[-1]["size"] == "180x144" and levels[0]["outer iterations"] == cfg.n_outer + len(levels) - 1
    widths = [int(r["size"].split("x")[0]) for r in levels]
    assert widths == sorted(widths) and widths[0] >= cfg.min_width


def test_the_vgg_message_shows_no_home_folder():
    from iseebetter_lib.book.vgg_note import vgg_status
    from iseebetter_lib.config import preset

    loss = preset("compact").train.loss
    loss.allow_random_vgg = True
    message = vgg_status(loss)
    assert str(Path.home()) + "/" not in message
