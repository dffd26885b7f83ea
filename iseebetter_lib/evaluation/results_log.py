"""Long evaluations: per-frame results appended to a JSONL file as they come (an interrupted run resumes), and a
time estimate from the first frame.

The first line describes the run (protocol, method, weights); each further line is one scored frame of one upscaler
(``{"run", "clip", "frame", metrics...}``), flushed at once. Resuming reads the finished frames back and refuses a
log written by a different run; a damaged line (torn by a kill mid-write, or not a record of a scored frame: another
JSON value, missing metrics, a metric that is not a number, bytes that are not UTF-8) is skipped with a warning naming
its line number, and its frame is scored again, so the result equals an uninterrupted run's.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Mapping

from iseebetter_lib.errors import UserError
from iseebetter_lib.locks import output_lock


REQUIRED = ("psnr_y", "ssim_y", "psnr_rgb_orig")  # every record has these; `hf_ratio` came later (optional)
_SHOWN = 10  # damaged lines warned about one by one; the rest in one summary warning
NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}  # how a non-finite metric is written


def _clean(value: Any) -> Any:
    """A metric as written: a finite number, or "inf", "-inf" or "nan" (a PSNR of identical frames is inf)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _metric(value: Any) -> float:
    """A metric read back: the number, a NON_FINITE name, or null (older logs wrote non-finite values as null);
    ValueError for anything else (a damaged record)."""
    if value is None:
        return math.nan
    if isinstance(value, str) and value in NON_FINITE:
        return NON_FINITE[value]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise ValueError(f"not a metric: {value!r}")


def parse_record(line: bytes) -> tuple[tuple[str, str], int, dict[str, float]] | None:
    """((run, clip), frame, metrics) of one log line, or None when the line is damaged: not UTF-8, not a JSON
    object, without its run, clip, frame index or required metrics, or with a metric that is not a number (as
    `_metric` reads them)."""
    try:
        row = json.loads(line.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
        return None
    if not isinstance(row, dict):
        return None
    name, clip, frame = row.pop("run_name", None), row.pop("clip", None), row.pop("frame", None)
    if not (isinstance(name, str) and isinstance(clip, str) and isinstance(frame, int)
            and not isinstance(frame, bool) and frame >= 0):
        return None
    if any(m not in row for m in REQUIRED):
        return None
    try:
        return (name, clip), frame, {k: _metric(v) for k, v in row.items()}
    except ValueError:
        return None


class FrameLog:
    """Append-only per-frame results of one evaluation run (see module doc); locked while open, so that a second
    run on the same file is refused (`locks.output_lock`)."""

    def __init__(self, path: str | os.PathLike, run: Mapping[str, Any], resume: bool = False,
                 overwrite: bool = False) -> None:
        self.path = Path(path)
        self.run = json.loads(json.dumps(dict(run), default=str))
        self._done: dict[tuple[str, str], dict[int, dict[str, float]]] = {}
        if self.path.is_dir():
            raise UserError(f"{self.path}: is a directory (expected a per-frame results file)")
        self._lock = output_lock(self.path, "per-frame results file")
        self._lock.__enter__()
        try:
            self._open(resume, overwrite)
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise

    def _open(self, resume: bool, overwrite: bool) -> None:
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
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise UserError(f"{self.path}: cannot read ({exc.strerror})") from None
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()  # after the last newline
        try:
            header = json.loads(lines[0].decode("utf-8"))["run"] if lines else None
        except (ValueError, KeyError, TypeError):
            header = None
        if not isinstance(header, dict):
            raise UserError(f"{self.path}: not a per-frame results file of `iseebetter evaluate`")
        changed = sorted(k for k in set(header) | set(self.run) if header.get(k) != self.run.get(k))
        if changed:
            key = changed[0]
            raise UserError(f"{self.path}: written by a different run ({key}: {header.get(key)!r} there, "
                            f"{self.run.get(key)!r} now); use another results file or --overwrite")
        damaged = []
        for number, line in enumerate(lines[1:], 2):
            record = parse_record(line)
            if record is None:
                if line.strip():
                    damaged.append(number)
                continue
            key, t, metrics = record
            self._done.setdefault(key, {})[t] = metrics
        self._warn_damaged(damaged)
        if lines and not data.endswith(b"\n"):
            with open(self.path, "ab") as fh:  # end a torn line so the next record starts on its own
                fh.write(b"\n")

    def _warn_damaged(self, damaged: list[int]) -> None:
        """One warning per damaged line (the first few; then one for the rest): the frames are scored again."""
        for number in damaged[:_SHOWN]:
            warnings.warn(f"{self.path}: line {number} is damaged (not a complete record of a scored frame); "
                          "skipped, that frame is scored again", stacklevel=4)
        if len(damaged) > _SHOWN:
            warnings.warn(f"{self.path}: {len(damaged) - _SHOWN} more damaged lines (lines "
                          f"{damaged[_SHOWN]}..{damaged[-1]}) skipped, their frames are scored again", stacklevel=4)

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
        try:
            self._fh.close()
        finally:
            self._lock.__exit__(None, None, None)


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
