"""Shared pieces of the bad-input and kill suites: a workspace of realistic bad files, its fingerprint, and the
checks every case makes (exit status, one line naming the culprit, no traceback, nothing pre-existing changed)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    """One bad input: the CLI arguments (WS = the workspace folder), the exit status and the words the one-line
    message must contain. `one_line=False` allows argparse's usage block above the error line."""

    id: str
    argv: tuple[str, ...]
    culprit: tuple[str, ...]
    code: int = 2
    one_line: bool = True
    absent: tuple[str, ...] = ()
    xfail: str | None = None
    marks: tuple = field(default=())


def make_video(path: Path, frames: int = 24, size: tuple[int, int] = (32, 24), truncate: bool = False) -> Path:
    """A small H.264 mp4 with its header first (faststart): cutting it in half keeps a header that announces all
    frames while only about half of them decode."""
    import av

    rng = np.random.default_rng(frames)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"g": "6"}
        for _ in range(frames):
            img = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    if truncate:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return path


def build_workspace(ws: Path) -> Path:
    """Files a hostile but realistic user would pass: a good clip, a truncated one, garbage and text as
    checkpoints and videos, an existing output, frame folders (grey, empty) and bad configuration files."""
    from PIL import Image

    ws.mkdir(parents=True, exist_ok=True)
    make_video(ws / "clip.mp4")
    make_video(ws / "trunc.mp4", frames=60, truncate=True)
    rng = np.random.default_rng(0)
    (ws / "garbage.pt").write_bytes(rng.bytes(300))
    (ws / "text.pt").write_text("hello world\n")
    (ws / "notavideo.mp4").write_text("this is not a video\n")
    (ws / "out.mp4").write_bytes(b"the user's own video, never to be overwritten")
    (ws / "results.json").write_text('{"mine": true}\n')
    (ws / "bad.yml").write_text("train: [unclosed\n  : :\n")
    (ws / "list.yml").write_text("- 1\n- 2\n")
    (ws / "empty").mkdir()
    for clip in ("a", "b"):
        (ws / "frames" / clip).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(
                ws / "frames" / clip / f"{i:04d}.png")
    (ws / "grey").mkdir()
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (24, 32), dtype=np.uint8)).save(ws / "grey" / f"{i:03d}.png")
    return ws


def fingerprint(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under `root` (folders as '<dir>')."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            out[os.path.relpath(os.path.join(dirpath, name), root)] = "<dir>"
        for name in filenames:
            p = os.path.join(dirpath, name)
            out[os.path.relpath(p, root)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out


def check_message(case: Case, code: int, stderr: str) -> None:
    assert code == case.code, f"exit {code}, expected {case.code}; stderr:\n{stderr}"
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    assert lines, "no message at all"
    if case.one_line:
        errors = [ln for ln in lines if "warning:" not in ln]
        assert len(errors) == 1, f"expected one line, got:\n{stderr}"
    line = lines[-1]
    assert "error" in line or "terminated" in line or "interrupted" in line, line
    for word in case.culprit:
        assert word in line, f"{word!r} not named in {line!r}"
    for word in case.absent:
        assert word not in stderr, f"{word!r} should not appear in {stderr!r}"


def run_cli(args: list[str], cwd: Path, env: dict | None = None, timeout: float = 120
            ) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run([sys.executable, "-m", "iseebetter_lib", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=timeout)
