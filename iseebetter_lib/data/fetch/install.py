"""Install one catalogue entry into the data home, from its public source, a URL, a local archive or a folder."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Callable
from urllib.parse import unquote, urlsplit

from iseebetter_lib.data import home
from iseebetter_lib.data.fetch import manifest
from iseebetter_lib.data.fetch.archive import ArchiveError, check_free_space
from iseebetter_lib.data.fetch.archive import install as install_files
from iseebetter_lib.data.fetch.catalogue import VID4_FRAMES, Entry, get, human_size
from iseebetter_lib.data.fetch.download import download, sha256_of
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_path, kind_of

LR_FOLDERS = {"L", "LR", "BDx4", "BIx4", "input"}


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _hint(entry: Entry) -> str:
    return f"download it by hand and run `iseebetter fetch {entry.name} --from FILE`"


def vid4_member(name: str) -> str | None:
    """``<clip>/<frame>.png`` for a Vid4 ground-truth frame anywhere in an archive or folder, else None.

    VSR-DUF keeps the ground truth under ``inputs/G/<clip>/`` and the LR frames under ``inputs/L/``: only G counts.
    """
    parts = PurePosixPath(name).parts
    if not name.lower().endswith(".png") or len(parts) < 2:
        return None
    if "inputs" in parts:
        i = parts.index("inputs")
        if parts[i + 1:i + 2] != ("G",):
            return None
    if parts[-2] not in VID4_FRAMES or LR_FOLDERS & set(parts[:-2]):
        return None
    return f"{parts[-2]}/{parts[-1]}"


def vimeo_member(name: str) -> str | None:
    """Path inside ``vimeo_septuplet/`` of a member of the authors' zip (or of a folder holding it)."""
    parts = PurePosixPath(name).parts
    if "vimeo_septuplet" in parts:
        parts = parts[parts.index("vimeo_septuplet") + 1:]
    if not parts or not (parts[0] == "sequences" or parts[0].endswith(".txt")):
        return None
    return "/".join(parts)


def _check_vid4(rels: list[str]) -> None:
    counts = Counter(r.split("/")[0] for r in rels)
    if dict(counts) != VID4_FRAMES:
        found = ", ".join(f"{c} {counts.get(c, 0)}" for c in VID4_FRAMES)
        want = ", ".join(f"{c} {n}" for c, n in VID4_FRAMES.items())
        raise UserError(f"found {found} frames: not the Vid4 ground truth (expected {want})")


def count_septuplets(root: Path) -> int:
    """Folders ``sequences/<5 digits>/<4 digits>/`` holding im1..im7.png."""
    seq = root / "sequences"
    n = 0
    for a in (os.scandir(seq) if seq.is_dir() else ()):
        if a.is_dir():
            n += sum(1 for b in os.scandir(a.path) if b.is_dir() and os.path.isfile(os.path.join(b.path, "im7.png")))
    return n


def download_name(url: str, entry: Entry) -> str:
    """The file name a download is kept under in ``downloads/``: the URL's last path segment, unless that is not a
    plain file name (empty, ``.``, ``..``, hidden, with a separator once unquoted): then the item's name."""
    segment = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not segment or segment.startswith(".") or any(c in segment for c in "/\\\0"):
        return f"{entry.name}.download"
    return segment[:200]


def _discard(archive: Path) -> None:
    """Remove a downloaded archive (and ``downloads/`` when that leaves it empty)."""
    archive.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        archive.parent.rmdir()


def _archive(entry: Entry, source: str | None, data_home: Path | None, force: bool,
             progress: bool) -> tuple[Path, dict, bool]:
    """(archive to install from, its manifest record, whether it was downloaded into ``downloads/``): a local path,
    or a verified download. Before a download starts, the disk must hold it and its extraction (about its size)."""
    if source is not None and not _is_url(source):
        path = Path(source).expanduser()
        return path, {"source": str(path.resolve())}, False
    url = source or entry.url
    dest = home.data_home(data_home) / "downloads" / download_name(url, entry)
    if dest.is_file() and not force:
        return dest, {"url": url, "sha256": manifest.known_digest(url, data_home)}, True
    digest = download(url, dest, sha256=manifest.known_digest(url, data_home), progress=progress,
                      hint=_hint(entry), check_space=lambda left, total: check_free_space(dest.parent, left + total))
    return dest, {"url": url, "sha256": digest}, True


def _fetch_tree(entry: Entry, select: Callable[[str], str | None], check: Callable[[list[str]], None] | None,
                source: str | None, data_home: Path | None, force: bool, progress: bool) -> int:
    """Install a dataset from an archive or folder; a downloaded archive that proves unusable is removed."""
    archive, info, downloaded = _archive(entry, source, data_home, force, progress)
    try:
        n = install_files(archive, entry.target(data_home), select, progress=progress,
                          desc=f"installing {entry.name}", check=check)
        if n == 0:
            raise ArchiveError(f"{archive}: holds no {entry.name} files (expected {entry.description})")
    except ArchiveError as exc:
        if not downloaded:
            raise
        _discard(archive)
        raise ArchiveError(f"{exc}; the download was removed and nothing installed (run the same command again, "
                           f"or {_hint(entry)})") from None
    manifest.record(entry.name, data_home, files=n, **info)
    if downloaded:
        _discard(archive)  # installed: the archive is no longer needed
    return n


def _fetch_weights(entry: Entry, source: str | None, data_home: Path | None, progress: bool) -> str:
    target = entry.target(data_home)
    if source is not None and not _is_url(source):
        path = Path(source).expanduser()
        if path.is_dir():
            path = path / entry.file
        kind = kind_of(path)
        if kind == "not found":
            raise UserError(f"--from {source}: {entry.file} not found there")
        if kind != "a regular file":
            raise UserError(f"--from {path}: not a regular file ({kind}); expected the weights file {entry.file}")
        with atomic_path(target) as part:
            shutil.copyfile(path, part)
            digest = sha256_of(part)
        info = {"source": str(path.resolve())}
    else:
        url = source or entry.url
        digest = download(url, target, sha256=manifest.known_digest(url, data_home), progress=progress,
                          hint=_hint(entry))
        info = {"url": url}
    manifest.record(entry.name, data_home, file=entry.file, sha256=digest, size=target.stat().st_size, **info)
    return f"{entry.name}: {target} ({human_size(target.stat().st_size)}, sha256 {digest[:12]})"


def fetch(name: str, data_home: str | Path | None = None, source: str | None = None, force: bool = False,
          progress: bool = True) -> list[str]:
    """Install catalogue entry `name`; returns one summary line per installed item."""
    try:
        return _fetch(name, data_home, source, force, progress)
    except OSError as exc:
        where = exc.filename or home.data_home(data_home)
        raise UserError(f"{where}: cannot write ({exc.strerror or exc}); pass --dest DIR or set "
                        f"{home.ENV_HOME} to a writable folder") from None


def _fetch(name: str, data_home: str | Path | None, source: str | None, force: bool, progress: bool) -> list[str]:
    entry = get(name)
    data_home = None if data_home is None else Path(data_home)
    if entry.kind == "group":
        lines = []
        for member in entry.members:
            lines += _fetch(member, data_home, source, force, progress)
        return lines
    if entry.present(data_home) and not force:
        where = home.vid4_root(data_home, required=False) if entry.kind == "vid4" else entry.target(data_home)
        return [f"{entry.name}: already in {where} (pass --force to fetch it again)"]
    if entry.kind == "weights":
        return [_fetch_weights(entry, source, data_home, progress)]
    if entry.kind == "vid4":
        n = _fetch_tree(entry, vid4_member, _check_vid4, source, data_home, force, progress)
        return [f"vid4: {n} frames of {len(VID4_FRAMES)} clips in {entry.target(data_home)}"]
    _fetch_tree(entry, vimeo_member, None, source, data_home, force, progress)
    root = entry.target(data_home)
    return [f"vimeo90k: {count_septuplets(root)} septuplets in {root}"]
