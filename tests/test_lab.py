"""JupyterLab as `make lab` starts it: on 127.0.0.1, with the project's Jupyter settings, serving the .py chapters
as notebooks (jupytext's contents manager) and opening them with the Jupytext Notebook viewer by default, on the
project kernel, without marking them modified on open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHAPTER = "notebooks/00_overview.py"
DOCMANAGER = "@jupyterlab/docmanager-extension:plugin"

pytest.importorskip("jupyterlab", reason="JupyterLab not installed (the book extra installs it)")
pytest.importorskip("jupytext", reason="jupytext not installed (the book extra installs it)")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    from lab_server import Lab

    server = Lab(tmp_path_factory.mktemp("lab"))
    server.wait()
    yield server
    server.stop()


@pytest.mark.slow
def test_a_chapter_is_served_as_a_notebook_with_its_parameters_cell(lab):
    model = lab.get(f"/api/contents/{CHAPTER}?type=notebook&content=1")
    assert model["type"] == "notebook" and model["format"] == "json"
    cells = model["content"]["cells"]
    assert cells[0]["cell_type"] == "markdown" and cells[0]["source"].startswith("# ")
    tagged = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and "seed = " in tagged[0]["source"]
    assert model["content"]["metadata"]["kernelspec"]["name"] == "iseebetter"


@pytest.mark.slow
def test_the_project_kernel_is_the_default(lab):
    specs = lab.get("/api/kernelspecs")
    assert specs["default"] == "iseebetter" and "iseebetter" in specs["kernelspecs"]
    assert specs["kernelspecs"]["iseebetter"]["spec"]["display_name"] == "Python (iseebetter)"


@pytest.mark.slow
def test_a_served_chapter_already_holds_what_the_kernel_would_write(lab):
    """JupyterLab marks a notebook modified when starting its kernel changes `kernelspec` or `language_info`; the
    served chapter holds exactly what the project kernel reports, so nothing changes (deep equality)."""
    from ipykernel.ipkernel import IPythonKernel

    spec = lab.get("/api/kernelspecs")["kernelspecs"]["iseebetter"]["spec"]
    metadata = lab.get(f"/api/contents/{CHAPTER}?type=notebook&content=1")["content"]["metadata"]
    assert metadata["kernelspec"] == {"name": "iseebetter", "display_name": spec["display_name"],
                                      "language": spec["language"]}
    assert metadata["language_info"] == IPythonKernel.language_info
    assert "language_info" not in (REPO / CHAPTER).read_text(), "the source keeps no machine-specific metadata"


@pytest.mark.slow
def test_python_files_open_with_the_jupytext_notebook_viewer(lab):
    setting = lab.get(f"/lab/api/settings/{DOCMANAGER}")  # an override changes the schema's default
    assert setting["schema"]["properties"]["defaultViewers"]["default"]["python"] == "Jupytext Notebook"
    assert "defaultViewers" not in setting["settings"], "nothing is written into the user's settings"


def test_the_setting_ships_in_the_environment():
    """pip installs the same file into <prefix>/etc/jupyter (pyproject data-files), which Jupyter reads."""
    import tomllib

    data_files = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    shipped = [f for files in data_files.values() for f in files]
    assert "etc/jupyter/labconfig/default_setting_overrides.d" in data_files
    for name in shipped:
        overrides = json.loads((REPO / name).read_text())
        assert overrides[DOCMANAGER]["defaultViewers"]["python"] == "Jupytext Notebook"


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "notebooks").glob("*.py")))
def test_a_chapter_opened_and_saved_in_jupyterlab_is_byte_identical(tmp_path, name):
    """What JupyterLab's save writes (our contents manager: jupytext's, with the kernel's language_info) is the
    file itself: the header already holds what jupytext would add, and language_info is filtered out again."""
    import asyncio
    import shutil

    from iseebetter_lib.book.lab import ProjectContentsManager

    (tmp_path / "notebooks").mkdir()
    shutil.copy(REPO / "jupytext.toml", tmp_path / "jupytext.toml")
    shutil.copy(REPO / "notebooks" / name, tmp_path / "notebooks" / name)
    manager = ProjectContentsManager(root_dir=str(tmp_path))

    async def open_and_save() -> dict:
        model = await manager.get(f"notebooks/{name}", content=True, type="notebook")
        await manager.save({"type": "notebook", "format": "json", "content": model["content"]}, f"notebooks/{name}")
        return model

    model = asyncio.run(open_and_save())
    assert "language_info" in model["content"]["metadata"]
    assert (tmp_path / "notebooks" / name).read_text() == (REPO / "notebooks" / name).read_text()
