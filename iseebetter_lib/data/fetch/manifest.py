"""The data home's ``manifest.json``: what `iseebetter fetch` installed, from where, with SHA-256 digests."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from iseebetter_lib.data import home
from iseebetter_lib.io import atomic_write_text


def read(data_home: str | Path | None = None) -> dict[str, Any]:
    """The manifest (``{"items": {name: record}}``); empty when absent or unreadable."""
    path = home.manifest_path(data_home)
    try:
        data = json.loads(path.read_text())
        if isinstance(data, dict) and isinstance(data.get("items"), dict):
            return data
    except (OSError, ValueError):
        pass
    return {"items": {}}


def known_digest(url: str, data_home: str | Path | None = None) -> str | None:
    """The SHA-256 recorded when `url` was first downloaded, if it was."""
    for record in read(data_home)["items"].values():
        if record.get("url") == url and record.get("sha256"):
            return record["sha256"]
    return None


def record(name: str, data_home: str | Path | None = None, **fields: Any) -> None:
    """Add or replace the record of `name` (atomically), stamped with the time."""
    data = read(data_home)
    data["items"][name] = {**fields, "installed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    atomic_write_text(home.manifest_path(data_home), json.dumps(data, indent=1, sort_keys=True) + "\n")
