"""One writer at a time: an advisory lock on a run folder or an output file, held for the run's life, and the final
placement of an output that must not replace a file that appeared meanwhile.

The lock is ``fcntl.flock`` on a small file: ``.iseebetter.lock`` inside a run folder (`folder_lock`) or
``.NAME.lock`` beside an output file or frame folder (`output_lock`). The kernel drops it when the holder's process
ends in any way, SIGKILL included, so nothing stale ever blocks a new run: a lock file left by a killed run is simply
taken over. The holder writes its pid, host and command into the file, and a second run is refused with one line
quoting them. A clean release removes the file (under the lock; a run that opened the old file re-checks after
locking, so two runs never both hold the same name). Locks nest within one process (a run that locks what it
already holds goes on); other processes are refused at once, never kept waiting.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shlex
import socket
import sys
from pathlib import Path
from typing import Iterator

from iseebetter_lib.errors import UserError

LOCK_NAME = ".iseebetter.lock"
_held: dict[str, int] = {}  # lock file (absolute) -> its locked descriptor, for the locks this process holds


def _forget_in_child() -> None:
    """A forked child (e.g. a data-loader worker) closes its copies of the lock descriptors: the parent still
    holds each lock, and a child that outlives a killed parent does not keep the next run out."""
    for fd in _held.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def folder_lock(folder: str | os.PathLike, what: str = "run folder") -> contextlib.AbstractContextManager[Path]:
    """Hold the lock of a run folder (created if missing) while the ``with`` block runs."""
    folder = Path(folder)
    return _hold(folder / LOCK_NAME, folder, what)


def output_lock(output: str | os.PathLike, what: str = "output") -> contextlib.AbstractContextManager[Path]:
    """Hold the lock of an output file or frame folder (its lock file sits beside it) while the block runs."""
    path = Path(os.fspath(output).rstrip("/" + os.sep) or os.fspath(output))
    return _hold(path.parent / f".{path.name}.lock", path, what)


def holder_text() -> str:
    """``pid N on HOST: COMMAND`` for this process, as a lock file records it (one line, at most ~300 chars)."""
    argv = list(sys.argv) or ["python"]
    if argv[0].endswith(("__main__.py", "iseebetter")) or argv[0] == "-m":
        argv[0] = "iseebetter"
    command = " ".join(shlex.quote(a) for a in argv)
    command = "".join(c if c.isprintable() else "?" for c in command)
    if len(command) > 240:
        command = command[:237] + "..."
    return f"pid {os.getpid()} on {socket.gethostname() or 'localhost'}: {command}"


@contextlib.contextmanager
def _hold(lock_file: Path, target: Path, what: str) -> Iterator[Path]:
    key = os.path.abspath(lock_file)
    if key in _held:  # this process holds it already (a run locking what it locked): nothing more to do
        yield lock_file
        return
    created = _make_parents(lock_file.parent)
    try:
        fd = _acquire(lock_file, target, what)
    except BaseException:
        _remove_empty(created)
        raise
    _held[key] = fd
    try:
        os.ftruncate(fd, 0)
        os.write(fd, (holder_text() + "\n").encode("utf-8", "replace"))
        yield lock_file
    finally:
        if _held.pop(key, None) is not None:  # None: a forked child, which holds nothing
            with contextlib.suppress(OSError):
                os.unlink(lock_file)  # still ours: the lock is held until the close below
            os.close(fd)
            _remove_empty(created)


def _make_parents(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; returns those created, deepest first (removed again if empty)."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    try:
        for path in reversed(missing):
            path.mkdir(exist_ok=True)
    except OSError as exc:
        _remove_empty(missing)
        raise UserError(f"{path}: cannot create directory ({exc.strerror})") from None
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for path in folders:  # deepest first; a folder the run filled stays
        with contextlib.suppress(OSError):
            path.rmdir()


def _acquire(lock_file: Path, target: Path, what: str) -> int:
    """An open, exclusively locked descriptor of `lock_file`; a UserError naming the holder when another has it."""
    for _ in range(100):
        try:
            fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise UserError(f"{target}: cannot create its lock file {lock_file.name} ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_holder(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise UserError(f"{target}: cannot lock {lock_file.name} ({exc.strerror})") from None
            raise UserError(f"{target}: {what} in use by another run ({holder}); wait for it to end, or stop "
                            "it first") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock_file))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder released and removed the file between our open and lock: take the new one
    raise UserError(f"{target}: could not take its lock file {lock_file.name} (it keeps being replaced)")


def _read_holder(fd: int) -> str:
    with contextlib.suppress(OSError):
        text = os.pread(fd, 400, 0).decode("utf-8", "replace").strip().splitlines()
        if text and text[0].strip():
            return text[0].strip()
    return "holder unknown: it has not written its name yet"


def place_new(tmp: Path, path: Path) -> None:
    """Move the finished `tmp` (a file or folder) onto `path` only if `path` still does not exist: checked
    atomically for a file (a hard link fails on an existing name), just before the rename for a folder (which then
    fails on anything but an empty folder). If something appeared there meanwhile, the result is kept beside it
    under a free name and a UserError names both: neither is lost."""
    if tmp.is_dir():
        if not os.path.lexists(path):
            try:
                os.rename(tmp, path)
                return
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                    raise
        _refuse(tmp, path)
    try:
        os.link(tmp, path)
    except FileExistsError:
        _refuse(tmp, path)
    except OSError:  # no hard links on this file system: check, then rename
        if os.path.lexists(path):
            _refuse(tmp, path)
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _refuse(tmp: Path, path: Path) -> None:
    kept = _keep_beside(tmp, path)
    raise UserError(f"{path}: appeared while this run was writing it, and is not replaced without --overwrite; "
                    f"this run's result is in {kept}")


def _keep_beside(tmp: Path, path: Path) -> Path:
    """Move `tmp` to the first free ``STEM.N.SUFFIX`` beside `path` (N = 1, 2, ...); returns that name."""
    for n in range(1, 10_000):
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
        if os.path.lexists(candidate):
            continue
        if tmp.is_dir():
            os.rename(tmp, candidate)
            return candidate
        try:
            os.link(tmp, candidate)
        except FileExistsError:
            continue
        except OSError:  # no hard links: the free name was checked just above
            os.replace(tmp, candidate)
            return candidate
        os.unlink(tmp)
        return candidate
    raise UserError(f"{path}: no free name beside it to keep this run's result")
