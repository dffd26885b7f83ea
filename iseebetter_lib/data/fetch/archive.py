"""Install files out of a zip or tar archive, or a folder, into a data-home folder, all or nothing.

A `select` function maps each member's path (``/``-separated) to its path inside the target folder, or None to skip
it. Files are written into a temporary folder beside the target, which replaces the target only when every file is
in place: an interrupted extraction leaves nothing at the target.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Callable

from iseebetter_lib.errors import UserError

Select = Callable[[str], "str | None"]


def _safe(rel: str) -> str:
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise UserError(f"{rel}: unsafe path in archive (absolute or with ..); refusing to install it")
    return str(p)


def _members(source: Path, stack: contextlib.ExitStack) -> list[tuple[str, int, Callable[[], IO[bytes]]]]:
    """(relative path, size, opener) of every regular file in a zip, a tar, or a folder (kept open by `stack`)."""
    if source.is_dir():
        out = []
        for dirpath, _, files in os.walk(source):
            for f in sorted(files):
                full = Path(dirpath) / f
                out.append((full.relative_to(source).as_posix(), full.stat().st_size,
                            lambda full=full: open(full, "rb")))
        return out
    if zipfile.is_zipfile(source):
        zf = stack.enter_context(zipfile.ZipFile(source))
        return [(i.filename, i.file_size, lambda i=i: zf.open(i)) for i in zf.infolist() if not i.is_dir()]
    if tarfile.is_tarfile(source):
        tf = stack.enter_context(tarfile.open(source))
        return [(i.name, i.size, lambda i=i: tf.extractfile(i)) for i in tf.getmembers() if i.isfile()]
    raise UserError(f"{source}: not a zip or tar archive, nor a folder")


def install(source: str | os.PathLike, target: str | os.PathLike, select: Select, progress: bool = True,
            desc: str = "extracting", check: Callable[[list[str]], None] | None = None) -> int:
    """Copy the selected files of `source` into `target` (replacing it); returns how many files were installed.

    `check` sees the selected target paths before anything is written and may refuse them (raise UserError).
    """
    from tqdm.auto import tqdm

    source, target = Path(source), Path(target)
    if not source.exists():
        raise UserError(f"--from {source}: not found")
    try:
        with contextlib.ExitStack() as stack:
            chosen = []
            for name, size, opener in _members(source, stack):
                rel = select(name)
                if rel is not None:
                    chosen.append((_safe(rel), size, opener))
            if not chosen:
                return 0
            if check is not None:
                check([rel for rel, _, _ in chosen])
            target.parent.mkdir(parents=True, exist_ok=True)
            work = target.with_name(f".{target.name}.partial")
            if work.exists():
                shutil.rmtree(work)
            stack.callback(lambda: work.exists() and shutil.rmtree(work))
            bar = stack.enter_context(tqdm(total=sum(s for _, s, _ in chosen), unit="B", unit_scale=True,
                                           unit_divisor=1024, desc=desc, disable=not progress, dynamic_ncols=True))
            for rel, _, opener in chosen:
                out = work / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                with opener() as src, open(out, "wb") as dst:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        dst.write(block)
                        bar.update(len(block))
            if target.exists():
                shutil.rmtree(target)
            os.replace(work, target)
            return len(chosen)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise UserError(f"{source}: damaged archive ({exc}); fetch it again with --force") from None
    except OSError as exc:
        raise UserError(f"{target}: cannot install ({exc.strerror or exc})") from None
