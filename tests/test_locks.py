"""One writer at a time, with real concurrent processes: a run folder (training, a book profile's build), an
evaluation's per-frame log and an upscale output are locked for the run's life; a second run is refused with one
line naming the first; SIGKILL of the first leaves nothing that blocks the next run. An output that appeared while a
run was writing it is not replaced without --overwrite: the run's result is kept beside it under a name it gives.

The first run is held deterministically: a helper process takes the lock through the library and waits on a pipe
(no timing), or a real CLI run is stopped from inside (a frame source that waits for the test)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bad_inputs_support import REPO, make_video
from iseebetter_lib.cli import main
from iseebetter_lib.errors import UserError
from iseebetter_lib.locks import LOCK_NAME, folder_lock, output_lock
from synthetic import moving_clip, write_frames

ENV = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
HOLD = """import sys
from iseebetter_lib.locks import folder_lock, output_lock
with {"folder": folder_lock, "output": output_lock}[sys.argv[1]](sys.argv[2]):
    print("locked", flush=True)
    sys.stdin.read()
"""
BOOK = """title: Fake book
author: tests
chapters:
  - {name: a_first, title: First}
profiles:
  full:
    chapters:
      a_first: {timeout: 60, requires_gpu: true, parameters: {}}
"""


def _holder(kind: str, target: Path) -> subprocess.Popen:
    """A process holding the lock of `target` until its stdin closes or it is killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, kind, str(target)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=ENV, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("locks")
    make_video(root / "in.mp4", frames=6, size=(16, 12))
    for i in range(2):
        write_frames(root / "frames" / f"c{i}", moving_clip(4, size=32, seed=i))
    (root / "book" / "notebooks").mkdir(parents=True)
    (root / "book" / "notebooks" / "a_first.py").write_text('# %% tags=["parameters"]\nprofile = "full"\n')
    (root / "book" / "book.yml").write_text(BOOK)
    assert main(_train(root, root / "base")) == 0
    return root


def _train(ws: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--preset", "tiny", "--out", str(out), "--device", "cpu", "--no-progress", "--data-source",
            "folder", "--data-root", str(ws / "frames"), "--patch-size", "8", "--steps", "2", "--gan-steps", "0",
            "--num-workers", "0", "--set", f"data.cache_dir={ws / 'cache'}", *extra]


# name: (lock kind, locked target, argv of the second run, what shows that it proceeded after the kill: a file it
# wrote, or for the fake book the error of a step after the lock)
CASES = {
    "train-fresh": ("folder", "run", lambda ws, t: _train(ws, t, "--overwrite"), "generator.pt"),
    "train-resume": ("folder", "run", lambda ws, t: _train(ws, t, "--resume", "--steps", "3"), "generator.pt"),
    "book-run": ("folder", "book/_build/full", lambda ws, t: ["book", "run", "--profile", "full"],
                 "error: chapter a_first requires a GPU"),  # its only chapter: reaching it shows the lock was taken
    "book-build": ("folder", "book/_build/full", lambda ws, t: ["book", "build", "--profile", "full"],
                   "executed notebook(s) missing"),
    "evaluate-log": ("output", "eval/r.frames.jsonl", lambda ws, t: [
        "evaluate", "--dataset", "folder", "--root", str(ws / "frames"), "--method", "bicubic", "--quiet",
        "--json", str(t.parent / "r.json")], "r.json"),
    "upscale-video": ("output", "up/x4.mp4", lambda ws, t: [
        "upscale", str(ws / "in.mp4"), "-o", str(t), "--method", "bicubic", "--quiet"], "x4.mp4"),
    "upscale-frames": ("output", "up/x4", lambda ws, t: [
        "upscale", str(ws / "in.mp4"), "-o", str(t) + "/", "--method", "bicubic", "--quiet"], "x4"),
}


@pytest.mark.parametrize("case", CASES)
def test_second_run_is_refused_naming_the_first_and_a_killed_first_blocks_nothing(case, ws, tmp_path, capsys,
                                                                                  monkeypatch):
    kind, target, argv, made = CASES[case]
    if case.startswith("book"):
        import iseebetter_lib.book.runner as runner

        shutil.copytree(ws / "book", tmp_path / "book")
        monkeypatch.setenv("ISEEBETTER_BOOK_ROOT", str(tmp_path / "book"))
        monkeypatch.setattr(runner, "gpu_available", lambda: False)  # its chapter then stops at once
    if case.startswith("train"):
        shutil.copytree(ws / "base", tmp_path / "run")
    target = tmp_path / target
    args = argv(ws, target)
    holder = _holder(kind, target)
    try:
        before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
        assert main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert err[0].startswith(f"iseebetter: error: {target}: ") and "in use by another run" in err[0]
        assert f"pid {holder.pid} on " in err[0] and "-c " + kind in err[0]  # the holder's pid and command
        assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing written
    finally:
        holder.kill()  # SIGKILL: the lock file stays, but the kernel released the lock
        holder.wait()
    lock_file = target / LOCK_NAME if kind == "folder" else target.parent / f".{target.name}.lock"
    assert lock_file.exists()
    code = main(args)
    err = capsys.readouterr().err
    assert "in use by another run" not in err
    if case.startswith("book"):  # the fake book stops at once, after the lock
        assert code == 2 and made in err, err
    else:
        assert code == 0, err
        assert (target / made if kind == "folder" else target.parent / made).exists()
    assert not lock_file.exists()  # released and removed at the end of the run


def test_two_cli_upscales_on_one_output(ws, tmp_path):
    """Two real `iseebetter upscale` processes: the first is stopped from inside, after its first frame, by a frame
    source that waits on a pipe; the second is refused naming the first; after SIGKILL of the first the next run
    writes the output."""
    out = tmp_path / "x4.mp4"
    script = """import sys
import iseebetter_lib.inference.upscaling as up
clip = up.bicubic_clip
def paused(*a, **k):
    for i, frame in enumerate(clip(*a, **k)):
        if i == 1:
            print("paused", flush=True)
            sys.stdin.read()
        yield frame
up.bicubic_clip = paused
from iseebetter_lib.cli import main
sys.argv[0] = "iseebetter"
sys.exit(main(sys.argv[1:]))
"""
    args = ["upscale", str(ws / "in.mp4"), "-o", str(out), "--method", "bicubic", "--quiet"]
    first = subprocess.Popen([sys.executable, "-c", script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=ENV, text=True)
    try:
        assert first.stdout.readline().strip() == "paused"
        second = subprocess.run([sys.executable, "-m", "iseebetter_lib", *args], env=ENV, capture_output=True,
                                text=True)
        assert second.returncode == 2
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and f"pid {first.pid} on " in lines[0], lines
        assert f"iseebetter upscale {ws / 'in.mp4'} -o {out}" in lines[0]
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert not out.exists()
    third = subprocess.run([sys.executable, "-m", "iseebetter_lib", *args], env=ENV, capture_output=True, text=True)
    assert third.returncode == 0, third.stderr
    assert out.is_file() and not (tmp_path / ".x4.mp4.lock").exists()


def test_locks_nest_within_a_process_and_leave_nothing(tmp_path):
    with folder_lock(tmp_path / "a" / "b") as lock:
        assert lock.is_file()
        with folder_lock(tmp_path / "a" / "b"):  # the same run locking again: goes on
            pass
        assert lock.is_file()
        with output_lock(tmp_path / "a" / "b"):  # another target (the folder as an output): its own lock
            pass
    assert not (tmp_path / "a").exists()  # the folders the lock created are removed again when left empty


# -- an output that appeared while a run was writing it ------------------------------------------------------------


def _intrude(path: Path) -> None:
    """Another process writes `path` (a file, or a folder with one file)."""
    code = ("import sys, pathlib; p = pathlib.Path(sys.argv[1]); d = sys.argv[2] == 'dir'\n"
            "(p.mkdir() or p / 'theirs.txt' if d else p).write_text('theirs')")
    subprocess.run([sys.executable, "-c", code, str(path), "dir" if path.suffix == "" else "file"], check=True)


def _theirs(path: Path) -> str:
    return (path / "theirs.txt" if path.is_dir() else path).read_text()


@pytest.mark.parametrize("name", ["x4.mp4", "x4"])
@pytest.mark.parametrize("overwrite", [False, True])
def test_upscale_does_not_replace_an_output_that_appeared_meanwhile(name, overwrite, ws, tmp_path, monkeypatch,
                                                                    capsys):
    import iseebetter_lib.inference.upscaling as up

    out = tmp_path / name
    clip = up.bicubic_clip

    def intruded(*a, **k):
        for i, frame in enumerate(clip(*a, **k)):
            if i == 2:
                _intrude(out)
            yield frame

    monkeypatch.setattr(up, "bicubic_clip", intruded)
    args = ["upscale", str(ws / "in.mp4"), "-o", str(out), "--method", "bicubic", "--quiet"]
    code = main(args + (["--overwrite"] if overwrite else []))
    err = capsys.readouterr().err.strip().splitlines()
    kept = tmp_path / ("x4.1.mp4" if name.endswith(".mp4") else "x4.1")
    if overwrite:
        assert code == 0 and not kept.exists()
        assert out.is_file() if name.endswith(".mp4") else (out / "frame_000006.png").is_file()
        return
    assert code == 2 and len(err) == 1, err
    assert err[0] == (f"iseebetter: error: {out}: appeared while this run was writing it, and is not replaced "
                      f"without --overwrite; this run's result is in {kept}")
    assert _theirs(out) == "theirs"  # the other process's file is untouched
    if kept.is_dir():
        assert sorted(p.name for p in kept.iterdir()) == [f"frame_{i:06d}.png" for i in range(1, 7)]
    else:
        from iseebetter_lib.data.video import read_video

        assert read_video(kept).shape == (6, 48, 64, 3)  # the whole result, nothing lost
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, kept.name])  # no partial, no lock


@pytest.mark.parametrize("when", ["before-our-bytes", "after-our-bytes"])
def test_atomic_path_without_overwrite_checks_again_at_the_rename(when, tmp_path):
    from iseebetter_lib import io

    target = tmp_path / "r.json"
    with pytest.raises(UserError, match=r"r\.json: appeared while .* is in .*r\.1\.json$"):
        with io.atomic_path(target, overwrite=False) as tmp:
            if when == "before-our-bytes":
                _intrude(target)
            tmp.write_text("ours")
            if when == "after-our-bytes":
                _intrude(target)
    assert target.read_text() == "theirs" and (tmp_path / "r.1.json").read_text() == "ours"
    with pytest.raises(UserError, match="r.json: already exists"):
        io.atomic_write_text(target, "again", overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.1.json", "r.json"]


def test_a_forked_child_that_outlives_a_killed_holder_keeps_nothing_locked(tmp_path):
    """Data-loader workers are forked while the run folder is locked; when the run is killed, a worker still alive
    must not keep the next run out."""
    script = """import os, sys
from iseebetter_lib.locks import folder_lock
with folder_lock(sys.argv[1]):
    child = os.fork()
    if child == 0:
        os.write(1, b"child ready\\n")  # one write each (atomic on a pipe): the fork hooks have run, its copies closed
        sys.stdin.read()
        os._exit(0)
    os.write(1, f"{child}\\n".encode())
    sys.stdin.read()
"""
    holder = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "run")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=ENV, text=True)
    lines = {holder.stdout.readline().strip() for _ in range(2)}  # the child's pid and its "ready", in any order
    assert "child ready" in lines
    child = int((lines - {"child ready"}).pop())
    try:
        with pytest.raises(UserError, match=f"in use by another run \\(pid {holder.pid} on "):
            with folder_lock(tmp_path / "run"):
                pass
        holder.kill()
        holder.wait()
        os.kill(child, 0)  # the child is still alive, with its copy of the descriptor closed
        with folder_lock(tmp_path / "run") as lock:
            assert f"pid {os.getpid()} on " in lock.read_text()
    finally:
        holder.stdin.close()  # ends the child
