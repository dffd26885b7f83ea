"""Atomic writes: the target appears whole or not at all, with ordinary permissions, never silently replaced."""

from __future__ import annotations

import os

import pytest

from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_path, atomic_write_text, default_mode


def test_written_file_has_the_permissions_of_a_plainly_created_one(tmp_path):
    path = atomic_write_text(tmp_path / "sub" / "result.json", "{}")
    assert path.read_text() == "{}"
    assert path.stat().st_mode & 0o777 == default_mode(0o666)
    assert [p.name for p in path.parent.iterdir()] == ["result.json"]


def test_error_inside_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["out.bin"]


def test_refuses_to_overwrite_unless_asked(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("mine")
    with pytest.raises(UserError, match="already exists"):
        atomic_write_text(target, "theirs", overwrite=False)
    assert target.read_text() == "mine"
    atomic_write_text(target, "theirs", overwrite=True)
    assert target.read_text() == "theirs"


def test_temporary_file_keeps_the_requested_extension(tmp_path):
    with atomic_path(tmp_path / "clip.mp4") as tmp:
        assert tmp.suffix == ".mp4" and tmp.parent == tmp_path
        tmp.write_bytes(b"x")


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_partials_of_dead_writers_are_removed_and_nothing_else(tmp_path):
    from iseebetter_lib.io import _host, atomic_dir, remove_stale_partials

    dead, alive, host = _dead_pid(), os.getppid(), _host()
    stale_file = tmp_path / f".clip.mp4.~pid{dead}@{host}~abcd1234.part.mp4"
    stale_dir = tmp_path / f".frames.~pid{dead}@{host}~abcd_123.part"
    live_file = tmp_path / f".clip.mp4.~pid{alive}@{host}~abcd1234.part.mp4"
    other_host = tmp_path / f".clip.mp4.~pid{dead}@elsewhere-1~abcd1234.part.mp4"
    mine = [tmp_path / "clip.mp4", tmp_path / f".clip.mp4.{dead}.part.mp4", tmp_path / ".notes.part", other_host]
    stale_file.write_bytes(b"half")
    (stale_dir / "sub").mkdir(parents=True)
    (stale_dir / "sub" / "000001.png").write_bytes(b"x")
    for p in [live_file] + mine:
        p.write_bytes(b"keep")
    with atomic_dir(tmp_path / "out_frames") as tmp:  # the first atomic write in the folder sweeps it
        assert tmp.name.startswith(f".out_frames.~pid{os.getpid()}@{host}~")
    assert not stale_file.exists() and not stale_dir.exists()
    assert live_file.read_bytes() == b"keep" and all(p.read_bytes() == b"keep" for p in mine)
    assert remove_stale_partials(tmp_path) == []
