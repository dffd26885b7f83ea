"""`iseebetter fetch` against a local HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import collections
import hashlib
import io
import json
import socket
import zipfile

import pytest

from iseebetter_lib import cli
from iseebetter_lib.data import home
from iseebetter_lib.data.fetch import archive, fetch
from iseebetter_lib.data.fetch.catalogue import VID4_FRAMES
from iseebetter_lib.data.fetch.download import download, part_path
from iseebetter_lib.errors import UserError

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture(autouse=True)
def _no_vid4_override(monkeypatch):
    monkeypatch.delenv(home.ENV_VID4, raising=False)


def _vid4_zip(extra_lr: bool = True, drop: str | None = None) -> bytes:
    """A VSR-DUF-like repository archive: inputs/G/<clip>/ frames (and LR decoys in inputs/L/)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("VSR-DUF-master/README.md", "readme")
        for clip, n in VID4_FRAMES.items():
            if clip == drop:
                continue
            for i in range(1, n + 1):
                zf.writestr(f"VSR-DUF-master/inputs/G/{clip}/Frame {i:03d}.png", f"{clip}{i}")
                if extra_lr:
                    zf.writestr(f"VSR-DUF-master/inputs/L/{clip}/Frame {i:03d}.png", "lr")
    return buf.getvalue()


def test_complete_download_installs_and_records_digest(server, tmp_path):
    server.files["/w/RBPN_4x.pth"] = PAYLOAD
    lines = fetch("rbpn-4x", data_home=tmp_path, source=server.url + "/w/RBPN_4x.pth", progress=False)
    target = tmp_path / "weights" / "RBPN_4x.pth"
    assert target.read_bytes() == PAYLOAD and "rbpn-4x" in lines[0]
    assert not part_path(target).exists()
    record = json.loads((tmp_path / "manifest.json").read_text())["items"]["rbpn-4x"]
    assert record["sha256"] == hashlib.sha256(PAYLOAD).hexdigest() and record["size"] == len(PAYLOAD)
    again = fetch("rbpn-4x", data_home=tmp_path, source=server.url + "/w/RBPN_4x.pth", progress=False)
    assert "already" in again[0] and len(server.ranges) == 1  # present: nothing downloaded


def test_interrupted_download_resumes_with_a_range_request(server, tmp_path):
    server.files["/f.bin"] = PAYLOAD
    server.cuts = 1
    dest = tmp_path / "f.bin"
    with pytest.raises(UserError, match="interrupted.*run the same command again to resume"):
        download(server.url + "/f.bin", dest, retries=0, progress=False)
    assert not dest.exists()
    kept = part_path(dest).stat().st_size
    assert 0 < kept < len(PAYLOAD)
    digest = download(server.url + "/f.bin", dest, retries=0, progress=False)
    assert server.ranges == [None, f"bytes={kept}-"]
    assert dest.read_bytes() == PAYLOAD and digest == hashlib.sha256(PAYLOAD).hexdigest()
    assert not part_path(dest).exists()


def test_cut_connection_is_resumed_within_one_call_and_a_server_without_ranges_restarts(server, tmp_path):
    server.files["/f.bin"] = PAYLOAD
    server.cuts = 2
    download(server.url + "/f.bin", tmp_path / "a.bin", progress=False)
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD and server.ranges[1].startswith("bytes=")
    server.cuts, server.honour_range = 1, False
    download(server.url + "/f.bin", tmp_path / "b.bin", progress=False)
    assert (tmp_path / "b.bin").read_bytes() == PAYLOAD


def test_digest_mismatch_is_refused_and_nothing_is_left(server, tmp_path):
    server.files["/f.bin"] = PAYLOAD
    dest = tmp_path / "f.bin"
    with pytest.raises(UserError, match="SHA-256.*nothing installed"):
        download(server.url + "/f.bin", dest, sha256="0" * 64, progress=False)
    assert not dest.exists() and not part_path(dest).exists()


def test_recorded_digest_guards_a_later_download(server, tmp_path):
    url = server.url + "/w/netG_epoch_4_1.pth"
    server.files["/w/netG_epoch_4_1.pth"] = PAYLOAD
    fetch("iseebetter", data_home=tmp_path, source=url, progress=False)
    server.files["/w/netG_epoch_4_1.pth"] = PAYLOAD[::-1]  # the file changed upstream (or was corrupted)
    with pytest.raises(UserError, match="SHA-256"):
        fetch("iseebetter", data_home=tmp_path, source=url, force=True, progress=False)
    assert (tmp_path / "weights" / "netG_epoch_4_1.pth").read_bytes() == PAYLOAD  # the good copy is untouched


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_host_is_one_line_naming_the_url_and_from(tmp_path, capsys):
    url = f"http://127.0.0.1:{_closed_port()}/VSR-DUF-master.zip"
    assert cli.main(["fetch", "vid4", "--dest", str(tmp_path), "--from", url, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and url in err and "--from" in err
    assert not (tmp_path / "vid4").exists()


def test_vid4_from_a_repository_archive_picks_the_ground_truth(server, tmp_path, capsys):
    server.files["/master.zip"] = _vid4_zip()
    assert cli.main(["fetch", "vid4", "--dest", str(tmp_path), "--from", server.url + "/master.zip",
                     "--quiet"]) == 0
    assert "171 frames" in capsys.readouterr().out
    root = home.vid4_root(tmp_path)
    assert root == tmp_path / "vid4"
    assert {c: len(list((root / c).iterdir())) for c in VID4_FRAMES} == VID4_FRAMES
    assert (root / "calendar" / "Frame 001.png").read_bytes() == b"calendar1"  # G, not the L decoys
    assert not (tmp_path / "downloads" / "master.zip").exists()  # installed: archive removed
    assert json.loads((tmp_path / "manifest.json").read_text())["items"]["vid4"]["files"] == 171


def test_vid4_from_a_folder_of_the_four_clips(tmp_path):
    src = tmp_path / "GT"
    with zipfile.ZipFile(io.BytesIO(_vid4_zip(extra_lr=False))) as zf:
        for name in zf.namelist():
            if "/inputs/G/" in name:
                out = src / name.split("/inputs/G/")[1]
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(zf.read(name))
    dest = tmp_path / "home"
    assert cli.main(["fetch", "vid4", "--dest", str(dest), "--from", str(src), "--quiet"]) == 0
    assert sorted(p.name for p in (dest / "vid4").iterdir()) == sorted(VID4_FRAMES)
    assert len(list((dest / "vid4" / "walk").glob("*.png"))) == 47


def test_vid4_incomplete_source_is_refused_and_nothing_installed(tmp_path, capsys):
    (tmp_path / "dl.zip").write_bytes(_vid4_zip(drop="city"))
    assert cli.main(["fetch", "vid4", "--dest", str(tmp_path / "h"), "--from", str(tmp_path / "dl.zip"),
                     "--quiet"]) == 2
    assert "city 0" in capsys.readouterr().err
    assert not (tmp_path / "h" / "vid4").exists()


def _vimeo_zip(path, seqs=("00001/0001", "00001/0002"), payload=b"x"):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("vimeo_septuplet/sep_trainlist.txt", "\n".join(seqs) + "\n")
        zf.writestr("vimeo_septuplet/sep_testlist.txt", "")
        for seq in seqs:
            for i in range(1, 8):
                zf.writestr(f"vimeo_septuplet/sequences/{seq}/im{i}.png", payload)
    return path


_Usage = collections.namedtuple("_Usage", "total used free")


def _free(monkeypatch, free: int) -> None:
    """Pretend every file system has `free` bytes free."""
    monkeypatch.setattr(archive.shutil, "disk_usage", lambda path: _Usage(free, 0, free))


def test_vimeo_from_a_small_local_archive_needs_only_its_own_size_free(tmp_path, monkeypatch, capsys):
    archive_path = _vimeo_zip(tmp_path / "vimeo_septuplet.zip")
    _free(monkeypatch, 10 ** 9)  # 1 GB: far less than the full set's 82 GB, far more than this archive's 15 files
    assert cli.main(["fetch", "vimeo90k", "--dest", str(tmp_path / "h"), "--from", str(archive_path), "--quiet"]) == 0
    assert "2 septuplets" in capsys.readouterr().out
    assert (tmp_path / "h" / "vimeo_septuplet" / "sequences" / "00001" / "0002" / "im7.png").is_file()
    _free(monkeypatch, 15 * archive.BLOCK - 1)  # one byte short of 15 files of one block each
    assert cli.main(["fetch", "vimeo90k", "--dest", str(tmp_path / "h2"), "--from", str(archive_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "61 kB needed" in err and not (tmp_path / "h2" / "vimeo_septuplet").exists()


def test_a_download_too_large_for_the_disk_is_refused_before_it_starts(server, tmp_path, monkeypatch, capsys):
    server.files["/v.zip"] = _vimeo_zip(tmp_path / "v.zip").read_bytes()
    _free(monkeypatch, len(server.files["/v.zip"]))  # room for the download, not for its extraction as well
    home_dir = tmp_path / "h"
    assert cli.main(["fetch", "vimeo90k", "--dest", str(home_dir), "--from", server.url + "/v.zip", "--quiet"]) == 2
    assert "needed" in capsys.readouterr().err and not home_dir.exists()


def test_list_and_bad_names(tmp_path, capsys):
    assert cli.main(["fetch", "--list", "--dest", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("vid4", "vimeo90k", "rbpn-4x", "iseebetter", "weights"):
        assert f"\n{name} " in out
    assert str(tmp_path / "vid4") in out and "yes" not in out
    assert cli.main(["fetch", "nope", "--dest", str(tmp_path)]) == 2
    assert "unknown item" in capsys.readouterr().err
    assert cli.main(["fetch", "--dest", str(tmp_path)]) == 2
