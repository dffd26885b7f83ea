"""The data home: one resolution for every part of the project, and the layouts it accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from iseebetter_lib import cli
from iseebetter_lib.data import home
from iseebetter_lib.errors import UserError


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No $ISEEBETTER_DATA / $ISEEBETTER_VID4, no development folder, a cache home inside tmp_path."""
    monkeypatch.delenv(home.ENV_HOME, raising=False)
    monkeypatch.delenv(home.ENV_VID4, raising=False)
    monkeypatch.setattr(home, "_dev_data", lambda: tmp_path / "absent")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return monkeypatch


def _clips(root: Path) -> Path:
    for clip in home.VID4_CLIPS:
        (root / clip).mkdir(parents=True)
    return root


def test_resolution_order(clean_env, tmp_path):
    assert home.data_home() == tmp_path / "xdg" / "iseebetter"
    clean_env.delenv("XDG_CACHE_HOME")
    assert home.data_home() == Path.home() / ".cache" / "iseebetter"
    dev = tmp_path / "dev"
    dev.mkdir()
    clean_env.setattr(home, "_dev_data", lambda: dev)
    assert home.data_home() == dev
    clean_env.setenv(home.ENV_HOME, str(tmp_path / "env"))
    assert home.data_home() == tmp_path / "env"  # even before it exists (fetch creates it)
    assert home.data_home(tmp_path / "explicit") == tmp_path / "explicit"


def test_paths_follow_the_documented_layout(clean_env, tmp_path):
    clean_env.setenv(home.ENV_HOME, str(tmp_path))
    assert home.weight_path("RBPN_4x.pth") == tmp_path / "weights" / "RBPN_4x.pth"
    assert home.vimeo_root() == tmp_path / "vimeo_septuplet"
    assert home.manifest_path() == tmp_path / "manifest.json"
    assert home.reference_dir("flow_reference") is None


def test_vid4_layouts_documented_first(clean_env, tmp_path):
    with pytest.raises(UserError) as err:
        home.vid4_root(tmp_path)
    message = str(err.value)
    assert "\n" not in message and "iseebetter fetch vid4" in message and str(tmp_path) in message
    assert home.vid4_root(tmp_path, required=False) is None
    _clips(tmp_path / "Vid4" / "GT")
    assert home.vid4_root(tmp_path) == tmp_path / "Vid4" / "GT"
    _clips(tmp_path / "vid4")
    assert home.vid4_root(tmp_path) == tmp_path / "vid4"


def test_vid4_environment_override(clean_env, tmp_path):
    clean_env.setenv(home.ENV_HOME, str(tmp_path / "empty"))
    clean_env.setenv(home.ENV_VID4, str(_clips(tmp_path / "elsewhere")))
    assert home.vid4_root() == tmp_path / "elsewhere"
    from iseebetter_lib.data import vid4_root

    assert vid4_root() == tmp_path / "elsewhere"


def test_evaluate_without_vid4_says_how_to_fetch_it(clean_env, tmp_path, capsys):
    clean_env.setenv(home.ENV_HOME, str(tmp_path))
    assert cli.main(["evaluate", "--dataset", "vid4", "--method", "bicubic", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "iseebetter fetch vid4" in err


def test_one_locator_of_the_sample_videos():
    from iseebetter_lib.book.samples import sample_video_paths
    from iseebetter_lib.data import sample_video_dir

    paths = home.sample_video_paths()
    assert {"bikes", "carphone_pristine", "bigbuckbunny"} <= set(paths)
    assert sample_video_dir() == home.sample_video_dir() == paths["bikes"].parent
    assert sample_video_paths() == paths


def test_book_spec_resolves_data_placeholder_to_the_data_home(clean_env, tmp_path):
    from iseebetter_lib.book.spec import load_book

    clean_env.setenv(home.ENV_HOME, str(tmp_path / "dh"))
    spec = load_book(home.repository_root() / "book.yml")
    runs = {r.chapter: r for r in spec.plan("smoke", only="02_flow")}
    assert runs["02_flow"].parameters["reference"] == str(tmp_path / "dh" / "flow_reference" / "pyflow_reference.npz")
    assert all("vid4_root" not in r.parameters for r in spec.plan("smoke"))  # chapters ask the data home


def test_chapters_fall_back_to_the_trimmed_flow_reference(clean_env, tmp_path):
    from iseebetter_lib.book.fallbacks import flow_reference_file, is_trimmed_flow_reference

    clean_env.setenv(home.ENV_HOME, str(tmp_path))
    path = flow_reference_file(str(tmp_path / "flow_reference" / "pyflow_reference.npz"))
    assert path.is_file() and is_trimmed_flow_reference(path)


def test_chapter_test_set_is_vid4_or_the_held_out_clips_with_a_bold_note(clean_env, tmp_path, monkeypatch):
    from iseebetter_lib.book.fallbacks import chapter_test_set
    from iseebetter_lib.data import embedded

    clean_env.setenv(home.ENV_HOME, str(tmp_path / "dh"))
    built = tmp_path / "cache" / "embedded-v1"
    for split, clip in (("train", "bikes_shot00"), ("test", "bikes_shot01"), ("test", "bikes_shot05")):
        (built / split / clip).mkdir(parents=True)
    monkeypatch.setattr(embedded, "embedded_dataset", lambda cache_dir, progress=True: built)
    fallback = chapter_test_set(None, tmp_path / "cache")
    assert fallback.dataset == "folder" and fallback.root == built / "test"
    assert fallback.clips == ["bikes_shot01", "bikes_shot05"] and set(fallback.zoom_boxes) == set(fallback.clips)
    assert fallback.note.startswith("**") and fallback.note.endswith("**") and "`iseebetter fetch vid4`" in fallback.note
    _clips(tmp_path / "dh" / "vid4")
    with_vid4 = chapter_test_set(None, tmp_path / "cache")
    assert with_vid4.is_vid4 and with_vid4.root == tmp_path / "dh" / "vid4" and with_vid4.note == ""
