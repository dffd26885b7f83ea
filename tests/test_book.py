"""The book machinery: book.yml validation, parameters cells, the papermill runner on a tiny fake book, the HTML
book's generated config/toc, GPU refusal, and byte-identical figures."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from iseebetter_lib.book import command as book_command
from iseebetter_lib.book.build import book_config, book_toc, prepare_book
from iseebetter_lib.book.figures import figure_bytes, figure_path, save_figure
from iseebetter_lib.book.pages import _home_label, boilerplate_tags
from iseebetter_lib.book.runner import ChapterFailed, run_book
from iseebetter_lib.data.home import data_home
from iseebetter_lib.book.spec import load_book, parameters_cell
from iseebetter_lib.errors import UserError

GOOD = '''\
# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fake chapter

# %% tags=["parameters"]
profile = "smoke"
seed = 0
interactive = False
out = "x.json"
steps: int = 3
rate = 0.5
variant = None

# %%
import json, sys
import os
json.dump({"steps": steps, "rate": rate, "variant": variant, "exe": sys.executable, "profile": profile,
           "env": os.environ.get("ISEEBETTER_FAKE_ENV")}, open(out, "w"))
'''

BAD = GOOD.replace("# %%\nimport json", "# %%\nbroken = 1\nraise RuntimeError('chapter exploded')\n\n# %%\nimport json")

BOOK = """\
title: Fake book
author: tests
chapters:
  - {name: a_first, title: First}
  - {name: b_second, title: Second}
profiles:
  smoke:
    env: {ISEEBETTER_FAKE_ENV: "set"}
    chapters:
      a_first:
        timeout: 60
        parameters: {out: "{build}/a.json", steps: 5}
      b_second:
        timeout: 60
        parameters: {out: "{build}/b.json"}
        variants:
          slow: {rate: 0.1}
          fast: {rate: 2}
  full:
    chapters:
      a_first: {timeout: 60, requires_gpu: true, parameters: {out: "{build}/a.json"}}
      b_second: {timeout: 60, parameters: {out: "{build}/b.json"}}
"""


def make_book(root: Path, book: str = BOOK, first: str = GOOD, second: str = GOOD) -> Path:
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    (root / "notebooks" / "a_first.py").write_text(first)
    (root / "notebooks" / "b_second.py").write_text(second)
    (root / "book.yml").write_text(book)
    return root


def test_parameters_cell_is_parsed_with_ast(tmp_path):
    make_book(tmp_path)
    values = parameters_cell(tmp_path / "notebooks" / "a_first.py")
    assert values == {"profile": "smoke", "seed": 0, "interactive": False, "out": "x.json", "steps": 3,
                      "rate": 0.5, "variant": None}


def test_missing_parameters_cell_is_an_error(tmp_path):
    make_book(tmp_path, first=GOOD.replace(' tags=["parameters"]', ""))
    with pytest.raises(UserError, match="parameters"):
        parameters_cell(tmp_path / "notebooks" / "a_first.py")


def test_spec_plans_variants_and_substitutes_paths(tmp_path):
    spec = load_book(root=make_book(tmp_path))
    runs = spec.plan("smoke")
    assert [r.output_name for r in runs] == ["a_first", "b_second__slow", "b_second__fast"]
    assert runs[0].parameters == {"out": str(tmp_path.resolve() / "_build/smoke/a.json"), "steps": 5,
                                  "profile": "smoke"}
    assert runs[2].parameters["rate"] == 2 and runs[2].parameters["variant"] == "fast"
    assert [r.output_name for r in spec.plan("smoke", only="b_second")] == ["b_second__slow", "b_second__fast"]
    assert spec.plan("full")[0].requires_gpu


@pytest.mark.parametrize("edit, match", [
    (("b_second:\n        timeout", "c_third:\n        timeout"), "c_third"),
    (("steps: 5", "stpes: 5"), "stpes"),
    (("steps: 5", "steps: 'five'"), "steps"),
    (("steps: 5", "steps: 5.5"), "steps"),
    (("rate: 0.1", "rate: true"), "rate"),
    (("timeout: 60\n        parameters: {out: \"{build}/a.json\", steps", "parameters: {out: \"{build}/a.json\", steps"),
     "timeout"),
])
def test_spec_errors_name_the_culprit(tmp_path, edit, match):
    make_book(tmp_path, book=BOOK.replace(*edit, 1))
    with pytest.raises(UserError, match=match):
        load_book(root=tmp_path)


def test_unknown_profile_and_only(tmp_path):
    spec = load_book(root=make_book(tmp_path))
    with pytest.raises(UserError, match="nightly"):
        spec.plan("nightly")
    with pytest.raises(UserError, match="zz_nope"):
        spec.plan("smoke", only="zz_nope")


@pytest.mark.slow
def test_runner_executes_fake_book_with_papermill(tmp_path):
    root = make_book(tmp_path)
    logs: list[str] = []
    results = run_book("smoke", only="a_first", root=root, progress=False, log=logs.append)
    assert [r.name for r in results] == ["a_first"]
    build = root / "_build" / "smoke"
    assert (build / "notebooks" / "a_first.ipynb").is_file()
    assert not (build / "notebooks" / "b_second__slow.ipynb").exists()  # --only filter
    got = json.loads((build / "a.json").read_text())
    assert got["steps"] == 5 and got["rate"] == 0.5 and got["profile"] == "smoke"
    assert got["env"] == "set"  # the profile's env reaches the kernel
    assert "ISEEBETTER_FAKE_ENV" not in __import__("os").environ  # and is restored afterwards
    assert Path(got["exe"]).resolve() == Path(sys.executable).resolve()  # kernel python3 = this venv's python
    timings = json.loads((build / "timings.json").read_text())
    assert "a_first" in timings
    reference = timings["_machine_reference_ms"]  # the machine-speed yardstick, measured before and after
    assert reference["before"] > 0 and reference["after"] > 0
    assert any("machine reference" in line for line in logs)
    assert not (build / "figures" / "book.json").exists()  # book.json only for a complete run (no --only)
    nb = json.loads((build / "notebooks" / "a_first.ipynb").read_text())
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in nb["cells"])


def test_runner_stops_at_first_failure_with_cell_source(tmp_path):
    root = make_book(tmp_path, first=BAD)
    with pytest.raises(ChapterFailed) as info:
        run_book("smoke", root=root, progress=False, log=lambda m: None)
    msg = str(info.value)
    assert "a_first" in msg and "raise RuntimeError('chapter exploded')" in msg
    assert "RuntimeError: chapter exploded" in msg
    assert not (root / "_build" / "smoke" / "notebooks" / "b_second__slow.ipynb").exists()


def test_gpu_chapter_refuses_without_cuda(tmp_path, monkeypatch):
    import iseebetter_lib.book.runner as runner

    monkeypatch.setattr(runner, "gpu_available", lambda: False)
    root = make_book(tmp_path)
    with pytest.raises(UserError, match="requires a GPU"):
        run_book("full", root=root, progress=False, log=lambda m: None)
    assert not (root / "_build" / "full" / "notebooks" / "a_first.ipynb").exists()


def test_book_config_and_toc_generation(tmp_path):
    root = make_book(tmp_path)
    spec = load_book(root=root)
    config = book_config(spec, "smoke")
    assert config["execute"]["execute_notebooks"] == "off" and config["only_build_toc_files"] is True
    assert config["sphinx"]["config"]["nb_render_markdown_format"] == "myst"  # tables in Markdown outputs render
    assert "Fake book" in config["title"]
    toc = book_toc(spec, "smoke")
    assert toc["format"] == "jb-book" and toc["root"] == "intro"
    assert toc["chapters"][0] == {"file": "notebooks/a_first"}
    assert toc["chapters"][1]["sections"] == [{"file": "notebooks/b_second__slow"},
                                              {"file": "notebooks/b_second__fast"}]
    with pytest.raises(UserError, match="missing"):
        prepare_book("smoke", root=root)
    executed = root / "_build" / "smoke" / "notebooks"
    executed.mkdir(parents=True)
    for name in ("a_first", "b_second__slow", "b_second__fast"):
        write_executed(executed / f"{name}.ipynb", root)
    book = prepare_book("smoke", root=root)
    assert {p.name for p in book.iterdir()} >= {"_config.yml", "_toc.yml", "intro.md", "notebooks", "variants"}
    variants = (book / "variants" / "b_second.md").read_text()
    assert "rate=2" in variants and "{doc}`/notebooks/b_second__fast`" in variants
    intro = (book / "intro.md").read_text()
    assert "{doc}`/notebooks/a_first`" in intro and "{doc}`/variants/b_second`" in intro  # the reading order
    runtimes = (book / "runtimes.md").read_text()
    for name in ("a_first", "b_second__slow", "b_second__fast"):
        assert f"{{doc}}`/notebooks/{name}`" in runtimes  # the appendix: each page's run time
    assert toc["chapters"][-2:] == [{"file": "runtimes"}, {"file": "bibliography"}]
    assert config["bibtex_bibfiles"] == ["references.bib"] and (book / "references.bib").is_file()
    assert "{bibliography}" in (book / "bibliography.md").read_text()
    assert "linkify" not in config["parse"]["myst_enable_extensions"]  # laptop.pt is not a web address
    assert "overflow-x" in (book / "_static" / "iseebetter.css").read_text()  # wide tables scroll
    assert (book / "figures" / "vsr_problem.png").stat().st_size > 1000
    assert "sphinx-mathjax-offline" in config["sphinx"]["extra_extensions"]
    assert not config["sphinx"]["config"]["mathjax_path"].startswith("http")


def write_executed(path: Path, root: Path) -> None:
    """A notebook as papermill leaves it: a heading, an injected parameters cell and an output with paths."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    injected = nbformat.v4.new_code_cell(f'# Parameters\nout = "{root.resolve()}/_build/smoke/a.json"\n'
                                         f'data = "{data_home()}/x"\n')
    injected.metadata["tags"] = ["injected-parameters"]
    shown = nbformat.v4.new_code_cell("print(out)")
    shown.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{root.resolve()}/_build/smoke/a.json\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Fake chapter\n\ntext"), injected, shown]
    nbformat.write(nb, str(path))


def test_book_pages_have_their_own_titles_and_no_machine_paths(tmp_path):
    import nbformat

    root = make_book(tmp_path)
    executed = root / "_build" / "smoke" / "notebooks"
    executed.mkdir(parents=True)
    for name in ("a_first", "b_second__slow", "b_second__fast"):
        write_executed(executed / f"{name}.ipynb", root)
    book = prepare_book("smoke", root=root)
    titles = {}
    for name in ("a_first", "b_second__slow", "b_second__fast"):
        page = (book / "notebooks" / f"{name}.ipynb").read_text()
        assert str(root.resolve()) not in page and str(data_home()) not in page
        nb = nbformat.reads(page, as_version=4)
        titles[name] = nb.cells[0].source.splitlines()[0]
        assert 'out = "_build/smoke/a.json"' in nb.cells[1].source
        home_label = _home_label(str(data_home()), "data")  # ~/... or $ISEEBETTER_DATA: never a literal {data}
        assert f'data = "{home_label}/x"' in nb.cells[1].source and "{data}" not in page
        assert "hide-input" in nb.cells[1].metadata["tags"]  # the injected parameters: folded in the HTML
        assert nb.cells[2].outputs[0]["text"] == "_build/smoke/a.json\n"
    assert titles == {"a_first": "# Fake chapter", "b_second__slow": "# Second: slow",
                      "b_second__fast": "# Second: fast"}
    assert (executed / "a_first.ipynb").read_text().count(str(root.resolve())) == 2  # the executed one is untouched
    only = prepare_book("smoke", root=root, only="a_first")
    assert sorted(p.name for p in (only / "notebooks").iterdir()) == ["a_first.ipynb"]


def test_boilerplate_cells_are_tagged_to_be_hidden_and_kept():
    import nbformat

    params = nbformat.v4.new_code_cell("seed = 1")
    params.metadata["tags"] = ["parameters"]
    imports = nbformat.v4.new_code_cell("import numpy as np\nfrom x import y\nCHAPTER = 'a'")
    work = nbformat.v4.new_code_cell("x = 1\nimport os")
    assert boilerplate_tags(params) == ["remove-cell"]
    assert boilerplate_tags(imports) == ["hide-input"]
    assert boilerplate_tags(work) == []


def test_numbers_in_book_yml_stay_numbers(tmp_path):
    """YAML 1.1 (PyYAML) reads `2e-4` as a string; the book reads it as YAML 1.2 does: a float."""
    root = make_book(tmp_path, book=BOOK.replace("slow: {rate: 0.1}", "slow: {rate: 2e-4, out: '2e-4'}"))
    slow = load_book(root=root).plan("smoke", only="b_second")[0]
    assert slow.parameters["rate"] == 2e-4 and isinstance(slow.parameters["rate"], float)
    assert slow.parameters["out"] == "2e-4"  # quoted: still a string
    real = load_book(root=Path(__file__).resolve().parents[1])
    ablation = real.plan("smoke", only="04_ablation")[0]
    assert all(not isinstance(v, str) for v in ablation.parameters["overrides"].values())


def test_figures_are_byte_identical_and_placed_by_profile(tmp_path):
    import matplotlib.pyplot as plt
    import numpy as np

    def draw():
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot(np.random.default_rng(3).normal(size=50))
        ax.imshow(np.arange(64).reshape(8, 8), extent=(0, 10, 0, 1))
        ax.set_title("determinism")
        return fig

    first = figure_bytes(draw())
    assert first == figure_bytes(draw())
    path = save_figure(draw(), "03_training", "loss", "smoke", root=tmp_path, show=False)
    assert path == tmp_path / "_build" / "smoke" / "figures" / "03_training" / "loss.png"
    assert path.read_bytes() == first
    assert figure_path("03_training", "loss", "full", root=tmp_path) == tmp_path / "figures/03_training/loss.png"
    with pytest.raises(UserError, match="name"):
        figure_path("03", "../evil", "smoke", root=tmp_path)


def test_command_registers_run_and_build():
    import argparse

    parser = argparse.ArgumentParser()
    book_command.register(parser.add_subparsers())
    args = parser.parse_args(["book", "run", "--profile", "smoke", "--only", "03_training"])
    assert args.profile == "smoke" and args.only == "03_training" and callable(args.run)
    args = parser.parse_args(["book", "build", "--profile", "full"])
    assert args.run is book_command._build
    with pytest.raises(SystemExit):
        parser.parse_args(["book", "run", "--profile", "nightly"])


def test_plot_helpers_draw_from_the_model_and_logs():
    import matplotlib.pyplot as plt

    from iseebetter_lib.book import plots
    from iseebetter_lib.book.display import md_table
    from iseebetter_lib.config import preset
    from iseebetter_lib.models import build_generator

    model = build_generator(preset("tiny").model)
    counts = plots.branch_parameters(model)
    assert counts["total"] == sum(p.numel() for p in model.parameters())
    assert sum(v for k, v in counts.items() if k != "total") == counts["total"]  # branches cover the model
    assert "DBPN" in plots.module_tree(model, depth=1)
    history = [{"step": 1, "stage": "pretrain", "loss": 0.5, "pixel": 0.5, "epoch": 0},
               {"step": 2, "stage": "gan", "loss": 0.4, "pixel": 0.3, "adversarial": -0.1, "epoch": 0}]
    for fig in (plots.architecture_diagram(model), plots.loss_curves(history)):
        assert fig.axes
        plt.close(fig)
    titles = [ax.get_title() for ax in plots.loss_curves(history).axes]
    assert titles[:3] == ["loss", "pixel", "adversarial"] and "epoch" not in titles
    plt.close("all")
    assert md_table([{"a": 1.234, "b": None, "c": 12345}]).splitlines()[2] == "| 1.23 | - | 12,345 |"
    assert md_table([{"|x|": "a|b"}]).splitlines()[2] == "| a\\|b |"


def test_widgets_build_without_a_frontend():
    import numpy as np

    from iseebetter_lib.book import widgets

    video = np.zeros((3, 8, 12, 3), np.uint8)
    box = widgets.frame_compare({"bicubic": video, "ours": video + 10})
    slider = box.children[0]
    slider.value = 2  # moving the slider re-renders the images
    assert slider.max == 2 and bytes(box.children[1].children[1].children[1].value)[:4] == b"\x89PNG"
    wipe = widgets.before_after(video[0], video[1] + 50)
    assert bytes(wipe.children[2].value)[:4] == b"\x89PNG"
    flow = np.zeros((2, 8, 12), np.float32)
    overlay = widgets.flow_overlay(video[0], flow, lambda f, m: np.full(f.shape[1:] + (3,), 255, np.uint8))
    assert bytes(overlay.children[1].value)[:4] == b"\x89PNG"
    from iseebetter_lib.book.samples import sample_frames

    player = widgets.degradation_player(sample_frames("bikes", 5, crop=(60, 200, 32, 48)))
    assert player.children[0].max == 4  # a real sequence: one slider position per frame
    assert [c.children[0].value for c in player.children[1].children] == ["HR", "BI x4", "BD x4"]
    player.children[0].value = 4
    assert bytes(player.children[1].children[2].children[1].value)[:4] == b"\x89PNG"


@pytest.mark.slow
def test_time_limit_interrupts_a_cell_with_a_clear_message(tmp_path):
    slow = GOOD.replace("# %%\nimport json", "# %%\nimport time\ntime.sleep(60)\n\n# %%\nimport json")
    root = make_book(tmp_path, book=BOOK.replace("timeout: 60\n        parameters: {out: \"{build}/a.json\", steps",
                                                 "timeout: 3\n        parameters: {out: \"{build}/a.json\", steps"),
                     first=slow)
    with pytest.raises(UserError, match="a_first") as info:
        run_book("smoke", only="a_first", root=root, progress=False, log=lambda m: None)
    assert "time limit" in str(info.value) or "Timeout" in str(info.value)


def test_ablation_comparison_splits_into_readable_tables():
    from iseebetter_lib.book.ch04_ablation import COLUMNS, TABLES, ablation_markdown, ablation_tables

    row = {key: i for i, key in enumerate(COLUMNS)}
    tables = ablation_tables([row, {**row, "variant": "tv"}])
    assert all(len(t[0]) <= 7 and len(t) == 2 for t in tables.values())
    covered = {key for columns in TABLES.values() for _, key in columns}
    assert covered == set(COLUMNS)  # every column of the comparison appears in one of the parts
    quality = "Quality on the test frames (Y channel)"
    assert tables[quality][1] == {"variant": "tv", "PSNR (dB)": 7, "SSIM": 8, "torch bicubic PSNR (dB)": 11,
                                  "gain over bicubic (dB)": 12, "detail ratio": 9, "bicubic detail ratio": 10}
    text = ablation_markdown([row])
    assert text.count("| variant |") == len(TABLES) and f"**{quality}**" in text


ONCE = GOOD.replace("# %%\nimport json", "# %%\nimport pathlib, time\nmark = pathlib.Path(out + '.tried')\n"
                    "if variant == 'fast' and not mark.exists():\n    mark.write_text('x')\n    time.sleep(0.5)\n"
                    "    raise RuntimeError('stopped the first time')\n\n# %%\nimport json")


@pytest.mark.slow
def test_a_stopped_run_continued_records_every_part_in_book_json(tmp_path):
    """The first run stops in b_second__fast; the same command again completes. book.json's times add up both
    parts (the stopped chapter's time included) and list them."""
    root = make_book(tmp_path, second=ONCE)
    with pytest.raises(ChapterFailed, match="stopped the first time"):
        run_book("smoke", root=root, progress=False, log=lambda m: None)
    book_file = root / "_build" / "smoke" / "figures" / "book.json"
    assert not book_file.exists()
    run_book("smoke", root=root, progress=False, log=lambda m: None)
    book = json.loads(book_file.read_text())
    first, second = book["parts"]
    assert set(first["chapters"]) == {"a_first", "b_second__slow"} and first["stopped_in"]["b_second__fast"] >= 0.5
    assert set(second["chapters"]) == {"a_first", "b_second__slow", "b_second__fast"} and second["complete"]
    for name in ("a_first", "b_second__slow"):
        assert book["seconds"][name] == pytest.approx(first["chapters"][name] + second["chapters"][name], abs=0.11)
    assert book["seconds"]["b_second__fast"] == pytest.approx(
        first["stopped_in"]["b_second__fast"] + second["chapters"]["b_second__fast"], abs=0.11)
    assert book["total_seconds"] == pytest.approx(sum(book["seconds"].values()), abs=0.5)

    run_book("smoke", root=root, progress=False, log=lambda m: None)  # a complete run in one part: no parts
    assert "parts" not in json.loads(book_file.read_text())


def test_a_killed_part_is_marked_and_the_next_run_continues_the_list(tmp_path):
    from iseebetter_lib.book import run_parts

    build = tmp_path / "b"
    run_parts.begin(build, "abc", 400.0)
    run_parts.chapter_started(build, "03_training")  # then SIGKILL: nothing more is written
    run_parts.begin(build, "abc", 300.0)
    parts = run_parts.read_parts(build)
    assert len(parts) == 2 and parts[0]["stopped_in"] == {"03_training": None} and not parts[0]["in_progress"]
    run_parts.chapter_finished(build, "03_training", 12.0)
    assert run_parts.chapter_seconds(run_parts.complete(build, 310.0)) == {"03_training": 12.0}
    run_parts.begin(build, "abc", 300.0)  # after a complete run a new list starts
    assert len(run_parts.read_parts(build)) == 1
    run_parts.begin(build, "other commit", 300.0)  # and after a run of other code
    assert len(run_parts.read_parts(build)) == 1
