"""The parts of a book run that was stopped and run again (`_build/<profile>/run_parts.json`).

A long profile (laptop: hours) may be stopped and continued with the same command; its chapters then reuse the
finished trainings. So that the book's recorded wall time is the time the run really took, every invocation is one
*part*: its chapters' seconds, the time spent in a chapter it was stopped in, and the machine reference it measured.
A complete run's `book.json` adds up all parts; a run that completes in one part records just that part.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from iseebetter_lib.io import atomic_write_text

PARTS_FILE = "run_parts.json"


def _path(build: Path) -> Path:
    return Path(build) / PARTS_FILE


def read_parts(build: Path) -> list[dict[str, Any]]:
    """The parts recorded so far (an empty list when there are none, or the file is damaged)."""
    try:
        data = json.loads(_path(build).read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) and all(isinstance(p, dict) for p in data) else []


def _write(build: Path, parts: list[dict[str, Any]]) -> None:
    Path(build).mkdir(parents=True, exist_ok=True)
    atomic_write_text(_path(build), json.dumps(parts, indent=1, sort_keys=True) + "\n")


def begin(build: Path, commit: str | None, reference_ms: float) -> None:
    """Start a part: after a completed run (or a run of other code) a new list, else one more part. A part that
    was killed in a chapter (no time recorded for it) says so."""
    parts = read_parts(build)
    if not parts or parts[-1].get("complete") or parts[-1].get("commit") != commit:
        parts = []
    elif parts[-1].get("in_progress"):
        last = parts[-1]
        last.setdefault("stopped_in", {})[last["in_progress"]["chapter"]] = None  # killed: its time is unknown
        last["in_progress"] = None
    parts.append({"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "commit": commit,
                  "reference_ms_before": round(reference_ms, 1), "chapters": {}, "in_progress": None})
    _write(build, parts)


def chapter_started(build: Path, name: str) -> None:
    parts = read_parts(build)
    parts[-1]["in_progress"] = {"chapter": name, "since": time.time()}
    _write(build, parts)


def chapter_finished(build: Path, name: str, seconds: float) -> None:
    parts = read_parts(build)
    parts[-1]["chapters"][name] = round(seconds, 1)
    parts[-1]["in_progress"] = None
    _write(build, parts)


def stopped(build: Path) -> None:
    """The part ends early (an error, Ctrl-C, SIGTERM): the chapter under way keeps the time spent in it."""
    parts = read_parts(build)
    if parts and parts[-1].get("in_progress"):
        now = parts[-1]["in_progress"]
        parts[-1].setdefault("stopped_in", {})[now["chapter"]] = round(time.time() - now["since"], 1)
        parts[-1]["in_progress"] = None
        _write(build, parts)


def complete(build: Path, reference_ms_after: float) -> list[dict[str, Any]]:
    """Mark the run complete; returns its parts."""
    parts = read_parts(build)
    parts[-1]["complete"] = True
    parts[-1]["reference_ms_after"] = round(reference_ms_after, 1)
    _write(build, parts)
    return parts


def chapter_seconds(parts: list[dict[str, Any]]) -> dict[str, float]:
    """Each chapter's time over all parts: its finished runs plus the time spent in it when a part was stopped."""
    total: dict[str, float] = {}
    for part in parts:
        for source in (part.get("chapters") or {}, part.get("stopped_in") or {}):
            for name, seconds in source.items():
                total[name] = round(total.get(name, 0.0) + float(seconds or 0.0), 1)
    return total
