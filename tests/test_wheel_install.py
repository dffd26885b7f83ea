"""A wheel install (``pip install .``, not editable) carries the shipped model: `upscale` finds it without --weights.

The wheel is built from a copy of the sources (the Cython flow extension is compiled as part of it) and installed
with pip into a bare target folder, offline and without dependencies (torch and the rest come from this
environment); the installed package then upscales one frame of a small generated video from a folder outside the
repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from synthetic import moving_clip

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "iseebetter_lib", "pyflow", "jupyter")  # what the wheel reads
SHIPPED = ("laptop.pt", "laptop.md", "laptop.json")


def _pip(*args: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args, "--no-deps", "--no-index", "--no-build-isolation",
                           "--disable-pip-version-check", "--quiet"], cwd=cwd, capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode == 0, f"pip {args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _write_video(path: Path, frames: np.ndarray) -> None:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "10"})
        stream.height, stream.width, stream.pix_fmt = frames.shape[1], frames.shape[2], "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _frames(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.mark.slow
def test_wheel_install_upscales_with_the_shipped_model(tmp_path):
    assert (REPO / "iseebetter_lib" / "weights" / "laptop.pt").is_file(), "the shipped model is committed, and missing"
    pytest.importorskip("Cython", reason="the build requirements are not installed (pip install -e '.[test]')")
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:  # sources only: the extension is compiled afresh, nothing built here is reused
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c"))
        else:
            shutil.copy2(REPO / name, source / name)
    _pip("wheel", "--wheel-dir", str(tmp_path / "dist"), str(source), cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("iseebetter-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {f"iseebetter_lib/weights/{name}" for name in SHIPPED} <= names
    site = tmp_path / "site"
    _pip("install", "--target", str(site), str(wheel), cwd=tmp_path)

    work = tmp_path / "work"
    work.mkdir()
    _write_video(work / "clip.mp4", moving_clip(n=3, size=32))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ISEEBETTER_SHIPPED_WEIGHTS")}
    env.update(PYTHONPATH=str(site), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", "import iseebetter_lib, sys; print(iseebetter_lib.__file__); "
                           "from iseebetter_lib.cli import main; sys.exit(main(sys.argv[1:]))",
                           "upscale", "clip.mp4", "-o", "x4.mp4", "--max-frames", "1", "--device", "cpu"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[0].startswith(str(site))  # the installed package ran, not this checkout
    assert "using the shipped model" in done.stderr and str(site / "iseebetter_lib" / "weights") in done.stderr
    frames = _frames(work / "x4.mp4")
    assert len(frames) == 1 and frames[0].shape == (128, 128, 3)
