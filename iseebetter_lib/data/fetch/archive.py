"""Install files out of a zip or tar archive, or a folder, into a data-home folder, all or nothing.

A `select` function maps each member's path (``/``-separated) to its path inside the target folder, or None to skip
it. Files are written into a temporary folder beside the target (`io.atomic_dir`), which replaces the target only
when every file is in place: an interrupted or failed extraction leaves the previously installed copy as it was.

Every failure of the source is one `ArchiveError` naming the archive (and the member): a damaged or truncated
member (CRC, zlib/bz2/lzma errors, a tar cut short), an encrypted member, a compression method this Python cannot
read, a member that is both a file and a folder. Encryption and compression methods are checked before anything
is written; the free space the selected members need is checked too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterator, NamedTuple

from iseebetter_lib.data.fetch.catalogue import human_size
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_dir, kind_of

Select = Callable[[str], "str | None"]
KINDS = "zip, tar, tar.gz, tar.bz2 or tar.xz"
BLOCK = 4096  # files occupy whole blocks: the free-space check rounds each size up to one
# zip compression methods by number (APPNOTE 4.4.5), to name the ones zipfile cannot read
ZIP_METHODS = {0: "stored", 1: "shrink", 6: "implode", 8: "deflate", 9: "deflate64", 12: "bzip2", 14: "lzma",
               93: "zstandard", 95: "xz", 96: "jpeg", 97: "wavpack", 98: "PPMd", 99: "AES encryption"}


class ArchiveError(UserError):
    """The archive (or folder) given to install cannot be used: damaged, truncated, encrypted, unsupported."""


class Member(NamedTuple):
    name: str  # path inside the archive
    size: int  # bytes once extracted
    open: Callable[[], IO[bytes]]
    problem: str | None = None  # why it cannot be extracted, known before reading it


def _readable_zip_methods() -> set[int]:
    methods = {zipfile.ZIP_STORED}
    for method, module in ((zipfile.ZIP_DEFLATED, "zlib"), (zipfile.ZIP_BZIP2, "bz2"), (zipfile.ZIP_LZMA, "lzma")):
        with contextlib.suppress(ImportError):
            __import__(module)
            methods.add(method)
    return methods


def _zip_problem(info: zipfile.ZipInfo, readable: set[int]) -> str | None:
    if info.flag_bits & 0x1:
        return "is encrypted (password-protected archives are not supported): extract it with its password and " \
               "pass the folder with --from"
    if info.compress_type not in readable:
        method = ZIP_METHODS.get(info.compress_type, "unknown")
        return f"uses compression method {info.compress_type} ({method}), which cannot be read here: repack it " \
               f"as a plain zip or tar, or extract it and pass the folder with --from"
    return None


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


@contextlib.contextmanager
def _reading(source: Path, member: str | None = None) -> Iterator[None]:
    """Any failure while opening, listing or reading the source becomes one ArchiveError naming it."""
    try:
        yield
    except (UserError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile, tarfile and the decompressors raise many types
        where = f"member {member}: " if member else ""
        what = "cannot read the folder" if source.is_dir() else "damaged or truncated archive"
        raise ArchiveError(f"{source}: {what} ({where}{_reason(exc)})") from None


def _tar_members(source: Path, stack: contextlib.ExitStack) -> list[Member]:
    tf = stack.enter_context(tarfile.open(source))
    infos = tf.getmembers()
    tf.fileobj.seek(tf.offset)  # a whole archive ends with a zero block; tarfile stops quietly at a cut or bad header
    if tf.fileobj.read(tarfile.BLOCKSIZE) != tarfile.NUL * tarfile.BLOCKSIZE:
        last = f" after member {infos[-1].name}" if infos else ""
        raise ArchiveError(f"{source}: damaged or truncated archive (no end-of-archive marker{last})")
    while tf.fileobj.read(1 << 20):  # to the end of a compressed stream, whose check (gzip CRC) comes last
        pass
    return [Member(i.name, i.size, lambda i=i: tf.extractfile(i)) for i in infos if i.isfile()]


def _folder_members(source: Path) -> list[Member]:
    out = []
    for dirpath, _, files in os.walk(source):
        for f in sorted(files):
            full = Path(dirpath) / f
            kind = kind_of(full)
            ok = kind == "a regular file"
            out.append(Member(full.relative_to(source).as_posix(), full.stat().st_size if ok else 0,
                              lambda full=full: open(full, "rb"), None if ok else f"is not a regular file ({kind})"))
    return out


def _members(source: Path, stack: contextlib.ExitStack) -> list[Member]:
    """Every regular file of a zip, a tar, or a folder (the archive is kept open by `stack`)."""
    if source.is_dir():
        return _folder_members(source)
    with _reading(source):
        if zipfile.is_zipfile(source):
            zf = stack.enter_context(zipfile.ZipFile(source))
            readable = _readable_zip_methods()
            return [Member(i.filename, i.file_size, lambda i=i: zf.open(i), _zip_problem(i, readable))
                    for i in zf.infolist() if not i.is_dir()]
        if tarfile.is_tarfile(source):
            return _tar_members(source, stack)
    raise ArchiveError(f"{source}: not a readable archive ({KINDS}) nor a folder; damaged or truncated?")


def _safe(source: Path, rel: str) -> str:
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts or "\0" in rel:
        raise ArchiveError(f"{source}: unsafe path {rel!r} in archive (absolute, with .. or a NUL byte); refusing to "
                           f"install it")
    return str(p)


def _choose(source: Path, members: list[Member], select: Select) -> list[tuple[str, Member]]:
    """(target path, member) of the selected members; refused before anything is written when one cannot be
    extracted or a path is both a file and a folder."""
    chosen = [(_safe(source, rel), m) for m in members if (rel := select(m.name)) is not None]
    for _, m in chosen:
        if m.problem:
            raise ArchiveError(f"{source}: member {m.name} {m.problem}")
    folders = {str(parent) for rel, _ in chosen for parent in PurePosixPath(rel).parents}
    clash = next((m.name for rel, m in chosen if rel in folders), None)
    if clash is not None:
        raise ArchiveError(f"{source}: member {clash} is both a file and a folder of other members")
    return chosen


def check_free_space(path: str | os.PathLike, needed: int) -> None:
    """Refuse (one line) when the file system holding `path` (or its nearest existing parent) has less than
    `needed` bytes free."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed:
        raise UserError(f"{probe}: {human_size(free)} free, {human_size(needed)} needed; free some space or pass "
                        f"--dest on a larger disk")


def _copy(source: Path, member: Member, out: Path, bar) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with _reading(source, member.name):
        src = member.open()
    with src, open(out, "wb") as dst:
        while True:
            with _reading(source, member.name):
                block = src.read(1 << 20)
            if not block:
                break
            dst.write(block)
            bar.update(len(block))


def install(source: str | os.PathLike, target: str | os.PathLike, select: Select, progress: bool = True,
            desc: str = "extracting", check: Callable[[list[str]], None] | None = None) -> int:
    """Copy the selected files of `source` into `target` (replacing it); returns how many files were installed.

    `check` sees the selected target paths before anything is written and may refuse them (raise UserError). A
    source that cannot be used raises `ArchiveError`; `target` is then left as it was.
    """
    from tqdm.auto import tqdm

    source, target = Path(source), Path(target)
    kind = kind_of(source)
    if kind == "not found" or kind.startswith("unreadable"):
        raise UserError(f"--from {source}: {kind}")
    if kind not in ("a regular file", "a folder"):
        raise UserError(f"--from {source}: not a regular file ({kind}); expected an archive ({KINDS}) or a folder")
    with contextlib.ExitStack() as stack:
        chosen = _choose(source, _members(source, stack), select)
        if not chosen:
            return 0
        if check is not None:
            try:
                check([rel for rel, _ in chosen])
            except ArchiveError:
                raise
            except UserError as exc:
                raise ArchiveError(f"{source}: {exc}") from None
        check_free_space(target.parent, sum(-(-m.size // BLOCK) * BLOCK for _, m in chosen))
        try:
            with atomic_dir(target) as work, tqdm(
                    total=sum(m.size for _, m in chosen), unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                    disable=not progress, dynamic_ncols=True) as bar:
                for rel, member in chosen:
                    _copy(source, member, work / rel, bar)
        except OSError as exc:
            raise UserError(f"{target}: cannot install ({exc.strerror or exc})") from None
        return len(chosen)
