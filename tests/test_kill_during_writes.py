"""SIGKILL and SIGTERM during an upscale write, a checkpoint write and a flow-cache build.

A test hook (ISEEBETTER_PAUSE_BEFORE_RENAME, see iseebetter_lib.io) holds a chosen write between its partial file
and the rename; the test waits for the partial to appear and signals then, so the kill lands mid-write every time.
SIGTERM must clean up like Ctrl-C (exit 143, one line, no partial); after SIGKILL the partial stays, and the next run
must remove it and produce exactly what an uninterrupted run produces."""

from __future__ import annotations

import fnmatch
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from bad_inputs_support import REPO, build_workspace, fingerprint, make_video
from iseebetter_lib.models.checkpoints import load_checkpoint
from iseebetter_lib.cli import main

pytestmark = pytest.mark.slow
PAUSE_S = 3
_THREADS = int(os.environ.get("ISEEBETTER_TEST_THREADS", "1"))  # as tests/conftest.py sets for in-process runs


def _partials(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".~pid" in p.name]


def _start(args: list[str], cwd: Path, pause: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), ISEEBETTER_PAUSE_BEFORE_RENAME=f"{pause}:{PAUSE_S}",
               OMP_NUM_THREADS=str(_THREADS))  # the in-process runs' thread count: the same float sums
    return subprocess.Popen([sys.executable, "-m", "iseebetter_lib", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _signal_mid_write(proc: subprocess.Popen, root: Path, pause: str, sig: int, timeout: float = 240
                      ) -> tuple[int, str, list]:
    """Wait until `proc` has a non-empty partial of a target named like `pause` under `root`, send `sig`, reap it;
    (exit code, stderr, partials seen at the moment of the signal)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [p for p in _partials(root) if fnmatch.fnmatch(p.name, f".{pause}.~pid{proc.pid}@*~*")
                 and (p.is_dir() and any(p.iterdir()) or p.is_file() and p.stat().st_size > 0)]
        if found:
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"no partial file appeared (exit {proc.returncode}): {err[-800:]}")
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err, found


def _check_signal_outcome(sig: int, code: int, err: str, root: Path, seen: list[Path]) -> None:
    if sig == signal.SIGTERM:
        assert code == 143, err
        lines = [ln for ln in err.splitlines() if ln.strip() and "warning:" not in ln]
        assert lines[-1] == "iseebetter: terminated (nothing partially written)", err
        assert "Traceback" not in err
        assert not _partials(root), "SIGTERM left partial files"
    else:
        assert code == -signal.SIGKILL
        assert all(p.exists() for p in seen), "the partial of a killed write should still be there"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = build_workspace(tmp_path_factory.mktemp("kill") / "ws")
    make_video(ws / "long.mp4", frames=30, size=(48, 32))
    return ws


# -- upscale ----------------------------------------------------------------------------------------------------


def _frames_of(path: Path) -> np.ndarray:
    from iseebetter_lib.data.readers import list_frame_files, read_image
    from iseebetter_lib.data.video import read_video

    if path.is_dir():
        return np.stack([read_image(f) for f in list_frame_files(path)])
    return read_video(path)


@pytest.mark.parametrize(("sig", "name"), [(signal.SIGTERM, "up.mp4"), (signal.SIGKILL, "up.mp4"),
                                           (signal.SIGKILL, "up_frames")],
                         ids=["sigterm-video", "sigkill-video", "sigkill-frame-folder"])
def test_upscale_killed_mid_write(sig, name, workspace, tmp_path, capsys):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "mine.txt").write_text("the user's file\n")
    before = fingerprint(workspace)
    args = ["upscale", str(workspace / "long.mp4"), "-o", str(out_dir / name), "--method", "bicubic"]
    code, err, seen = _signal_mid_write(_start(args, workspace, name), out_dir, name, sig)
    _check_signal_outcome(sig, code, err, out_dir, seen)
    assert not (out_dir / name).exists()
    assert main(args) == 0  # the next run removes the dead run's partial and writes the whole output
    assert not _partials(out_dir)
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(["mine.txt", name])
    assert (out_dir / "mine.txt").read_text() == "the user's file\n"
    straight = tmp_path / ("straight" + Path(name).suffix)
    assert main(args[:3] + [str(straight)] + args[4:]) == 0
    np.testing.assert_array_equal(_frames_of(out_dir / name), _frames_of(straight))
    assert fingerprint(workspace) == before
    capsys.readouterr()


# -- training: checkpoint write and flow-cache build ----------------------------------------------------------


def _train_args(ws: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    return ["train", "--preset", "tiny", "--out", str(out), "--device", "cpu", "--no-progress", "--data-source",
            "folder", "--data-root", str(ws / "frames"), "--patch-size", "8", "--steps", "2", "--gan-steps", "0",
            "--checkpoint-every", "1", "--num-workers", "0", "--allow-random-vgg",
            "--set", f"data.cache_dir={cache}", *extra]


@pytest.fixture(scope="module")
def straight_run(workspace, tmp_path_factory):
    root = tmp_path_factory.mktemp("straight")
    threads = torch.get_num_threads()
    torch.set_num_threads(_THREADS)  # module fixtures run before conftest's per-test thread setting
    try:
        assert main(_train_args(workspace, root / "run", root / "cache")) == 0
    finally:
        torch.set_num_threads(threads)
    return root


def _same_training_state(a: Path, b: Path) -> None:
    x, y = load_checkpoint(a), load_checkpoint(b)
    assert x["step"] == y["step"]
    for part in ("generator", "discriminator"):
        assert x[part].keys() == y[part].keys()
        for key in x[part]:
            assert torch.equal(x[part][key], y[part][key]), f"{part}.{key} differs"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_checkpoint_write_killed_then_resumed_exactly(sig, workspace, straight_run, tmp_path, capsys):
    out, cache = tmp_path / "run", tmp_path / "cache"
    args = _train_args(workspace, out, cache)
    code, err, seen = _signal_mid_write(_start(args, workspace, "step_0000002.pt"), out / "checkpoints",
                                       "step_0000002.pt", sig)
    _check_signal_outcome(sig, code, err, out / "checkpoints", seen)
    assert not (out / "checkpoints" / "step_0000002.pt").exists()
    assert main(args + ["--resume"]) == 0
    assert not _partials(tmp_path)
    _same_training_state(out / "checkpoints" / "last.pt", straight_run / "run" / "checkpoints" / "last.pt")
    capsys.readouterr()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_flow_cache_build_killed_then_completed_exactly(sig, workspace, straight_run, tmp_path, capsys):
    out, cache = tmp_path / "run", tmp_path / "cache"
    args = _train_args(workspace, out, cache)
    code, err, seen = _signal_mid_write(_start(args, workspace, "*.f16"), cache, "*.f16", sig)
    _check_signal_outcome(sig, code, err, cache, seen)
    assert main(args + ["--overwrite"]) == 0
    assert not _partials(tmp_path)
    assert fingerprint(cache) == fingerprint(straight_run / "cache")
    _same_training_state(out / "checkpoints" / "last.pt", straight_run / "run" / "checkpoints" / "last.pt")
    capsys.readouterr()
