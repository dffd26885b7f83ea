"""A JupyterLab server for the tests: on 127.0.0.1 with a token, rooted at the repository, with the project's
Jupyter settings (jupyter/), a private HOME and runtime folder; stopped by `stop()`."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAB_CONFIG = REPO / "jupyter"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A JupyterLab server on 127.0.0.1 with a token, rooted at the repository."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.token = _free_port(), secrets.token_hex(16)
        env = {**os.environ, "JUPYTER_CONFIG_PATH": str(LAB_CONFIG), "JUPYTER_PATH": str(LAB_CONFIG),
               "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "PYTHONPATH": os.pathsep.join(
                   p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
               "JUPYTERLAB_SETTINGS_DIR": str(tmp / "user-settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"), "HOME": str(tmp)}
        self.log = open(tmp / "lab.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
             f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={REPO}", "--ServerApp.port_retries=0",
             "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> dict:
        request = urllib.request.Request(f"{self.base}{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=60) as resp:
            return json.load(resp)

    def wait(self, seconds: float = 90.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                self.get("/api/status")
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        pytest.fail(f"JupyterLab did not start: {Path(self.log.name).read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
