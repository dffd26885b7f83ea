"""Atomic file writing (nothing a user wrote is left half-written or overwritten without being asked), and reading
the files a user hands in (`require_file`, `read_text`: one line saying what is wrong, never a traceback).

A write goes to a hidden partial file (or folder) beside the target, named ``.NAME.~pidPID@HOST~XXXXXXXX.part[.EXT]``
(``.old`` for a folder being swapped out), and is renamed onto the target when complete. A process killed mid-write
(SIGKILL, power loss) leaves its partial behind; the next atomic write into the same folder recognises partials by
this pattern and removes those of this host whose owner process is gone (a partial of another host, e.g. on a
shared file system, is left alone: its pid means nothing here). Nothing else is ever touched.

Test hook: ``ISEEBETTER_PAUSE_BEFORE_RENAME=GLOB:SECONDS`` makes a write whose target name matches GLOB wait that
long between writing its partial and renaming it, so that kill tests can land a signal mid-write.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from pathlib import Path
from typing import Iterator

from iseebetter_lib.errors import UserError
from iseebetter_lib.locks import place_new


_PARTIAL = re.compile(r"^\..+\.~pid(\d+)@([A-Za-z0-9-]+)~[a-z0-9_]{8}\.(?:part|old)(?:\.[^/]*)?$")
_swept: set[str] = set()  # folders already swept by this process (a dead owner cannot add partials later)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname() or "localhost")[:40] or "localhost"


def partial_prefix(path: str | os.PathLike) -> str:
    """Start of the name of this process's partial files for `path` (owner pid and host identify stale ones)."""
    return f".{Path(path).name}.~pid{os.getpid()}@{_host()}~"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process, or not a pid at all: leave it
        return True
    return True


def remove_stale_partials(folder: str | os.PathLike) -> list[Path]:
    """Remove the partial files and folders in `folder` (named by this module's pattern) whose owner process is
    dead (on this host); returns what was removed. Files of any other name are never touched."""
    removed: list[Path] = []
    host = _host()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _PARTIAL.match(entry.name)
        if m is None or m.group(2) != host or _pid_alive(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _sweep_once(folder: Path) -> None:
    key = os.path.abspath(folder)
    if key not in _swept:
        _swept.add(key)
        remove_stale_partials(folder)


def _pause_for_tests(path: Path) -> None:
    hook = os.environ.get("ISEEBETTER_PAUSE_BEFORE_RENAME")
    if hook:
        pattern, _, seconds = hook.rpartition(":")
        if fnmatch.fnmatch(path.name, pattern):
            time.sleep(float(seconds))


def _prepare_folder(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{path.parent}: cannot create directory ({exc.strerror})") from None
    if not os.access(path.parent, os.W_OK):
        raise UserError(f"{path.parent}: directory is not writable")
    _sweep_once(path.parent)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = True, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it is renamed onto `path`, on error it is removed.

    With ``overwrite=False`` an existing `path` is an error (raised before anything is written), and a `path` that
    appeared meanwhile is not replaced at the rename (`locks.place_new` keeps the result beside it). `suffix` sets the
    temporary file's extension (writers such as PyAV pick the container from it); default: that of `path`.
    Stale partials of dead processes in the same folder are removed first (see the module docstring).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise UserError(f"{path}: already exists (pass --overwrite to replace it)")
    _prepare_folder(path)
    ext = path.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=partial_prefix(path), suffix=f".part{ext}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, default_mode(0o666))  # mkstemp makes 0600; a finished file gets the usual permissions
    try:
        yield tmp_path
        _pause_for_tests(path)
        if overwrite:
            os.replace(tmp_path, path)
        else:  # checked again at the rename: a file that appeared meanwhile is not replaced
            place_new(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, overwrite: bool = True) -> Iterator[Path]:
    """A temporary folder beside `path`, swapped into place on success (an old folder is removed after the swap),
    removed on error. Stale partial folders of dead processes are removed first. With ``overwrite=False`` a `path`
    that appeared meanwhile is not replaced (`locks.place_new`)."""
    path = Path(path)
    _prepare_folder(path)
    tmp = Path(tempfile.mkdtemp(prefix=partial_prefix(path), suffix=".part", dir=path.parent))
    try:
        yield tmp
        _pause_for_tests(path)
        os.chmod(tmp, default_mode(0o777))  # mkdtemp makes 0700
        if not overwrite:
            place_new(tmp, path)
            return
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=partial_prefix(path), suffix=".old", dir=path.parent))
            os.replace(path, old / "x")
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def default_mode(mode: int) -> int:
    """`mode` less the process umask: the permissions a plainly created file (0o666) or folder (0o777) gets."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = True) -> Path:
    """Write `data` to `path` atomically; returns the path."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, overwrite: bool = True) -> Path:
    """Write `text` (UTF-8) to `path` atomically; returns the path."""
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


def kind_of(path: str | os.PathLike) -> str:
    """What `path` is, in words: "a regular file", "a folder", "a character device", ... or "not found"."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "not found"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((text for test, text in _KINDS if test(mode)), "not a regular file")


def require_file(path: str | os.PathLike, what: str = "file") -> Path:
    """`path` when it names a regular file (symlinks followed); otherwise a one-line `UserError` saying what it is
    instead (``/dev/zero`` is a character device, not "not found"), before anything tries to read it (a device or a
    FIFO would never end or never start)."""
    kind = kind_of(path)
    if kind == "not found":
        raise UserError(f"{path}: {what} not found")
    if kind.startswith("unreadable"):
        raise UserError(f"{path}: {what} is {kind}")
    if kind != "a regular file":
        raise UserError(f"{path}: not a regular file ({kind}); expected a {what}")
    return Path(path)


def read_text(path: str | os.PathLike, what: str = "file", max_bytes: int = 64 << 20) -> str:
    """The text of a file the user hands in (configuration, book.yml, list file), UTF-8 with or without a byte-order
    mark, newlines as ``\\n``. Anything else is one line naming the file: missing, not a regular file, larger than
    `max_bytes`, unreadable, or not UTF-8 (with the line and column of the first bad byte)."""
    path = require_file(path, what)
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise UserError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise UserError(f"{path}: {what} larger than {max_bytes >> 20} MiB; is it the right file?")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserError(f"{path}: {what} is not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}, column "
                        f"{column}); save it as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")
