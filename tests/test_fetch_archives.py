"""`iseebetter fetch --from` hostile sources: every damaged, truncated, encrypted or unsupported archive (zip and each
tar compression), every non-regular file and every odd download name is one line naming the archive and the
problem, exit status 2, and leaves the data home as it was (the installed copy kept, no partial files).

Archives are built here with zipfile/tarfile and damaged by hand; downloads come from a local HTTP server on
127.0.0.1 (never the internet)."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import tarfile
import zipfile
from pathlib import Path
from typing import Callable

import pytest
from bad_inputs_support import fingerprint

from iseebetter_lib import cli
from iseebetter_lib.data import home
from iseebetter_lib.data.fetch.catalogue import VID4_FRAMES

SEQS = ("00001/0001", "00001/0002")
BAD = "vimeo_septuplet/sequences/00001/0002/im4.png"  # the member each damaged archive spoils


def _payload(name: str) -> bytes:
    """Compressible but varied bytes (so that a flipped byte breaks the compressed stream, not only its CRC)."""
    seed = int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)
    return b"".join(b"%d," % ((i * seed) % 9973) for i in range(3000))


def _files() -> dict[str, bytes]:
    files = {"vimeo_septuplet/sep_trainlist.txt": ("\n".join(SEQS) + "\n").encode(),
             "vimeo_septuplet/sep_testlist.txt": b""}
    for seq in SEQS:
        for i in range(1, 8):
            name = f"vimeo_septuplet/sequences/{seq}/im{i}.png"
            files[name] = _payload(name)
    return files


def _zip(method: int = zipfile.ZIP_DEFLATED, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in {**_files(), **(extra or {})}.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tar(mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in _files().items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _flip(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    for k in range(at, at + 8):
        out[k] ^= 0x5A
    return bytes(out)


def _zip_entry(data: bytes, name: str) -> tuple[int, int, int]:
    """(local header offset, central directory entry offset, start of the member's data) of `name`."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        local = zf.getinfo(name).header_offset
    start = local + 30 + int.from_bytes(data[local + 26:local + 28], "little") + int.from_bytes(
        data[local + 28:local + 30], "little")
    pos = data.find(b"PK\x01\x02")
    while data[pos + 46:pos + 46 + int.from_bytes(data[pos + 28:pos + 30], "little")] != name.encode():
        pos = data.find(b"PK\x01\x02", pos + 4)
    return local, pos, start


def _zip_damaged(method: int) -> bytes:
    data = _zip(method)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        size = zf.getinfo(BAD).compress_size
    return _flip(data, _zip_entry(data, BAD)[2] + size // 2)


def _zip_header(flag: int = 0, method: int | None = None) -> bytes:
    """Set general-purpose flag bits and/or the compression method of BAD, in both of its headers."""
    data = bytearray(_zip(zipfile.ZIP_STORED))
    local, central, _ = _zip_entry(bytes(data), BAD)
    for off in (local + 6, central + 8):
        data[off:off + 2] = (int.from_bytes(data[off:off + 2], "little") | flag).to_bytes(2, "little")
        if method is not None:
            data[off + 2:off + 4] = method.to_bytes(2, "little")
    return bytes(data)


def _zip_local_name_differs() -> bytes:
    data = bytearray(_zip())
    local = _zip_entry(bytes(data), BAD)[0]
    data[local + 30 + len(BAD) - 5] ^= 0x01  # im4.png -> im5.png in the local header only
    return bytes(data)


def _tar_offsets(data: bytes) -> list[tuple[str, int, int]]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return [(i.name, i.offset, i.offset_data) for i in tf.getmembers()]


def _tar_cut_in_member() -> bytes:
    data = _tar()
    _, _, start = next(m for m in _tar_offsets(data) if m[0] == BAD)
    return data[:start + 100]


def _tar_cut_at_header() -> bytes:
    data = _tar()
    return data[:next(m for m in _tar_offsets(data) if m[0] == BAD)[1]]  # whole members up to BAD, then nothing


def _tar_bad_header() -> bytes:
    data = _tar()
    header = next(m for m in _tar_offsets(data) if m[0] == BAD)[1]
    return _flip(data, header + 10)  # the name field changes, the checksum no longer matches


def _compressed_tar(mode: str, cut: bool) -> bytes:
    data = _tar(mode)
    return data[:len(data) * 2 // 3] if cut else _flip(data, len(data) // 2)


# (id, archive file name, builder, words the error line must hold)
ARCHIVES: list[tuple[str, str, Callable[[], bytes], tuple[str, ...]]] = [
    ("zip-crc-stored", "v.zip", lambda: _zip_damaged(zipfile.ZIP_STORED), ("damaged", BAD)),
    ("zip-deflate-damaged", "v.zip", lambda: _zip_damaged(zipfile.ZIP_DEFLATED), ("damaged", BAD)),
    ("zip-bzip2-damaged", "v.zip", lambda: _zip_damaged(zipfile.ZIP_BZIP2), ("damaged", BAD)),
    ("zip-lzma-damaged", "v.zip", lambda: _zip_damaged(zipfile.ZIP_LZMA), ("damaged", BAD)),
    ("zip-truncated", "v.zip", lambda: _zip()[:len(_zip()) * 2 // 3], ("damaged or truncated",)),
    ("zip-central-directory-damaged", "v.zip", lambda: _flip(_zip(), _zip_entry(_zip(), BAD)[1]),
     ("damaged",)),
    ("zip-local-name-differs", "v.zip", _zip_local_name_differs, ("damaged", BAD)),
    ("zip-encrypted-member", "v.zip", lambda: _zip_header(flag=0x1), (BAD, "encrypted")),
    ("zip-zstandard-method", "v.zip", lambda: _zip_header(method=93), (BAD, "method 93", "zstandard")),
    ("zip-deflate64-method", "v.zip", lambda: _zip_header(method=9), (BAD, "method 9", "deflate64")),
    ("zip-file-and-folder", "v.zip", lambda: _zip(extra={"vimeo_septuplet/sequences/00001": b"x"}),
     ("vimeo_septuplet/sequences/00001", "both a file and a folder")),
    ("tar-cut-in-member", "v.tar", _tar_cut_in_member, ("damaged or truncated",)),
    ("tar-cut-at-header", "v.tar", _tar_cut_at_header, ("truncated", "end-of-archive")),
    ("tar-bad-header", "v.tar", _tar_bad_header, ("damaged", "end-of-archive")),
    ("tgz-truncated", "v.tar.gz", lambda: _compressed_tar("w:gz", cut=True), ("damaged",)),
    ("tgz-corrupt", "v.tar.gz", lambda: _compressed_tar("w:gz", cut=False), ("damaged",)),
    ("tbz2-truncated", "v.tar.bz2", lambda: _compressed_tar("w:bz2", cut=True), ("damaged",)),
    ("tbz2-corrupt", "v.tar.bz2", lambda: _compressed_tar("w:bz2", cut=False), ("damaged",)),
    ("txz-truncated", "v.tar.xz", lambda: _compressed_tar("w:xz", cut=True), ("damaged",)),
    ("txz-corrupt", "v.tar.xz", lambda: _compressed_tar("w:xz", cut=False), ("damaged",)),
    ("tar-zstandard", "v.tar.zst", lambda: b"\x28\xb5\x2f\xfd" + os.urandom(2000), ("not a readable archive",)),
    ("not-an-archive", "v.zip", lambda: b"<html>404 not found</html>\n", ("not a readable archive",)),
    ("empty-file", "v.zip", lambda: b"", ("not a readable archive",)),
]


def _one_error_line(err: str, *words: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("iseebetter: error: "), err
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    return lines[0]


@pytest.fixture
def installed(tmp_path) -> Path:
    """A data home holding a good Vimeo-90K install (the copy a failed fetch --force must keep)."""
    good = tmp_path / "good.zip"
    good.write_bytes(_zip())
    dest = tmp_path / "home"
    assert cli.main(["fetch", "vimeo90k", "--dest", str(dest), "--from", str(good), "--quiet"]) == 0
    return dest


def test_the_good_archives_install(tmp_path, capsys):
    for name, data in (("v.zip", _zip()), ("v.tar", _tar()), ("v.tgz", _tar("w:gz")), ("v.tbz", _tar("w:bz2")),
                       ("v.txz", _tar("w:xz")), ("v-bz.zip", _zip(zipfile.ZIP_BZIP2)),
                       ("v-xz.zip", _zip(zipfile.ZIP_LZMA))):
        (tmp_path / name).write_bytes(data)
        dest = tmp_path / f"home-{name}"
        assert cli.main(["fetch", "vimeo90k", "--dest", str(dest), "--from", str(tmp_path / name), "--quiet"]) == 0
        assert (dest / "vimeo_septuplet" / BAD.split("/", 1)[1]).read_bytes() == _payload(BAD)
    assert capsys.readouterr().out.count("2 septuplets") == 7


@pytest.mark.parametrize("file_name, build, words", [pytest.param(*a[1:], id=a[0]) for a in ARCHIVES])
def test_a_bad_archive_is_one_line_and_keeps_the_installed_copy(installed, tmp_path, capsys, file_name, build,
                                                                  words):
    bad = tmp_path / file_name
    bad.write_bytes(build())
    before = fingerprint(installed)
    code = cli.main(["fetch", "vimeo90k", "--dest", str(installed), "--from", str(bad), "--force", "--quiet"])
    assert code == 2
    _one_error_line(capsys.readouterr().err, str(bad), *words)
    assert fingerprint(installed) == before  # the installed copy and manifest as they were, no partial files left
    assert bad.exists()  # the user's own file is never removed


@pytest.mark.parametrize("build_id", ["zip-crc-stored", "zip-encrypted-member", "tgz-truncated", "not-an-archive"])
def test_a_bad_download_is_removed_and_the_installed_copy_kept(installed, server, capsys, build_id):
    _, file_name, build, words = next(a for a in ARCHIVES if a[0] == build_id)
    server.files["/dl/" + file_name] = build()
    before = fingerprint(installed)
    code = cli.main(["fetch", "vimeo90k", "--dest", str(installed), "--from", f"{server.url}/dl/{file_name}",
                     "--force", "--quiet"])
    assert code == 2
    _one_error_line(capsys.readouterr().err, str(installed / "downloads" / file_name), *words,
                    "the download was removed")
    assert fingerprint(installed) == before  # no downloads/ folder, no partial file, the install untouched


def _vid4_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for clip, n in VID4_FRAMES.items():
            for i in range(1, n + 1):
                zf.writestr(f"VSR-DUF-master/inputs/G/{clip}/Frame {i:03d}.png", f"{clip}{i}")
    return buf.getvalue()


@pytest.mark.parametrize("path", ["/a/..", "/a/.", "/a/", "/a/%2e%2e", "/a/.hidden", "/a/..%2f..%2fx", ""])
def test_a_url_without_a_plain_file_name_is_kept_under_the_item_name(server, tmp_path, capsys, path):
    server.files[path or "/"] = b"not an archive"
    dest = tmp_path / "home"
    assert cli.main(["fetch", "vid4", "--dest", str(dest), "--from", server.url + path, "--quiet"]) == 2
    _one_error_line(capsys.readouterr().err, str(dest / "downloads" / "vid4.download"), "not a readable archive")
    assert [p for p in tmp_path.rglob("*") if not p.is_dir()] == []  # no partial file, no download left anywhere
    server.files[path or "/"] = _vid4_zip()
    assert cli.main(["fetch", "vid4", "--dest", str(dest), "--from", server.url + path, "--quiet"]) == 0
    assert home.vid4_root(dest) == dest / "vid4" and not (dest / "downloads").exists()


def _fifo(tmp_path: Path) -> str:
    os.mkfifo(tmp_path / "pipe")
    return str(tmp_path / "pipe")


def _socket(tmp_path: Path) -> str:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    return str(tmp_path / "sock")


SPECIAL = [("dev-zero", lambda tmp: "/dev/zero", "a character device"),
           ("fifo", _fifo, "a named pipe"),
           ("socket", _socket, "a socket")]


@pytest.mark.parametrize("item", ["vid4", "vimeo90k", "rbpn-4x"])
@pytest.mark.parametrize("make, kind", [pytest.param(m, k, id=i) for i, m, k in SPECIAL])
def test_a_non_regular_file_is_named_as_what_it_is(tmp_path, capsys, item, make, kind):
    source = make(tmp_path)
    dest = tmp_path / "home"
    assert cli.main(["fetch", item, "--dest", str(dest), "--from", source, "--quiet"]) == 2
    _one_error_line(capsys.readouterr().err, source, "not a regular file", kind)
    assert not dest.exists()


def test_a_folder_whose_member_is_a_device_is_refused_before_writing(installed, tmp_path, capsys):
    src = tmp_path / "src" / "vimeo_septuplet"
    for name, data in _files().items():
        out = src.parent / name
        out.parent.mkdir(parents=True, exist_ok=True)
        if name == BAD:
            out.symlink_to("/dev/zero")
        else:
            out.write_bytes(data)
    before = fingerprint(installed)
    assert cli.main(["fetch", "vimeo90k", "--dest", str(installed), "--from", str(src.parent), "--force",
                     "--quiet"]) == 2
    _one_error_line(capsys.readouterr().err, BAD, "not a regular file", "character device")
    assert fingerprint(installed) == before
