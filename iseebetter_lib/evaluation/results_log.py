"""Long evaluations: per-frame results appended to a JSONL file as they come (an interrupted run resumes), and a
time estimate from the first frame.

The first line describes the run (protocol, method, weights); each further line is one scored frame of one upscaler
(``{"run", "clip", "frame", metrics...}``), flushed at once. Resuming reads the finished frames back (a torn last
line, from a kill mid-write, is ignored) and refuses a log written by a different run.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from iseebetter_lib.errors import UserError


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class FrameLog:
    """Append-only per-frame results of one evaluation run (see module doc)."""

    def __init__(self, path: str | os.PathLike, run: Mapping[str, Any], resume: bool = False,
                 overwrite: bool = False) -> None:
        self.path = Path(path)
        self.run = json.loads(json.dumps(dict(run), default=str))
        self._done: dict[tuple[str, str], dict[int, dict[str, float]]] = {}
        if self.path.is_dir():
            raise UserError(f"{self.path}: is a directory (expected a per-frame results file)")
        if self.path.exists() and resume:
            self._read()
        elif self.path.exists() and not overwrite:
            raise UserError(f"{self.path}: per-frame results already exist (pass --resume to continue that run, "
                            "or --overwrite to start afresh)")
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "w") as fh:
                fh.write(json.dumps({"run": self.run}) + "\n")
        self._fh = open(self.path, "a")

    def _read(self) -> None:
        lines = self.path.read_text().splitlines()
        try:
            header = json.loads(lines[0])["run"] if lines else None
        except (ValueError, KeyError, TypeError):
            header = None
        if header is None:
            raise UserError(f"{self.path}: not a per-frame results file of `iseebetter evaluate`")
        changed = sorted(k for k in set(header) | set(self.run) if header.get(k) != self.run.get(k))
        if changed:
            key = changed[0]
            raise UserError(f"{self.path}: written by a different run ({key}: {header.get(key)!r} there, "
                            f"{self.run.get(key)!r} now); use another results file or --overwrite")
        for line in lines[1:]:
            try:
                row = json.loads(line)
                key, t = (str(row.pop("run_name")), str(row.pop("clip"))), int(row.pop("frame"))
            except (ValueError, KeyError, TypeError):
                continue  # a line torn by an interruption
            self._done.setdefault(key, {})[t] = {k: (float("nan") if v is None else v) for k, v in row.items()}
        if lines and not self.path.read_text().endswith("\n"):
            with open(self.path, "a") as fh:  # end a torn line so the next record starts on its own
                fh.write("\n")

    def done(self, run_name: str, clip: str) -> dict[int, dict[str, float]]:
        """Metrics of the frames of `clip` already scored for `run_name`, by frame index."""
        return dict(self._done.get((run_name, clip), {}))

    def append(self, run_name: str, clip: str, frame: int, metrics: Mapping[str, float]) -> None:
        """Record one scored frame (written and flushed at once)."""
        row = {"run_name": run_name, "clip": clip, "frame": int(frame),
               **{k: _clean(float(v)) for k, v in metrics.items()}}
        self._fh.write(json.dumps(row) + "\n")
        self._fh.flush()
        self._done.setdefault((run_name, clip), {})[int(frame)] = dict(metrics)

    def close(self) -> None:
        self._fh.close()


class TimeEstimate:
    """Prints, once, how long the run should take, from the time of its first scored frame."""

    def __init__(self, n_frames: int | None, enabled: bool) -> None:
        self.n_frames, self.enabled, self.start, self.count = n_frames, enabled, None, 0

    def begin(self) -> None:
        """Start the clock (the first call only)."""
        if self.start is None:
            self.start = time.perf_counter()

    def frame_done(self) -> None:
        """Count a scored frame; after the first, print the estimate."""
        self.count += 1
        if self.count == 1 and self.enabled and self.n_frames and self.start is not None:
            seconds = time.perf_counter() - self.start
            total = seconds * self.n_frames
            print(f"estimate: {seconds:.1f} s for the first frame, about {_duration(total)} for "
                  f"{self.n_frames} frames", file=sys.stderr)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"
