"""Where a profile's results live and how each chapter records them with their provenance.

The `full` and `laptop` profiles are committed: their figures and a JSON of every number go to `figures/` and
`figures/laptop/` (one JSON per executed notebook, plus `book.json` with the run's wall times); other profiles
write the same files under `_build/<profile>/figures`. Each JSON carries the chapter's parameters as `book.yml`
gave them (placeholders kept), the command and the commit, so that a committed number says what made it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any, Mapping

from iseebetter_lib.io import atomic_write_text
from iseebetter_lib.paths import book_root

COMMITTED = {"full": Path("figures"), "laptop": Path("figures") / "laptop"}
RUN_ENV = "ISEEBETTER_BOOK_RUN"  # the runner's description of the notebook being executed (JSON)
BOOK_FILE = "book.json"
MACHINE_REFERENCE = "_machine_reference_ms"  # timings.json: the machine-speed reference before and after the run


def _root(root: str | Path | None) -> Path:
    return Path(root) if root is not None else book_root()


def results_home(profile: str, root: str | Path | None = None) -> Path:
    """The folder of a profile's figures and result JSON files."""
    root = _root(root)
    return root / COMMITTED[profile] if profile in COMMITTED else root / "_build" / profile / "figures"


def unsubstitute(value: Any, placeholders: Mapping[str, str]) -> Any:
    """`value` with a leading placeholder path written back as ``{name}`` (longest path first), recursively."""
    if isinstance(value, str):
        for name, path in sorted(placeholders.items(), key=lambda kv: -len(kv[1])):
            if path and (value == path or value.startswith(path.rstrip("/") + "/")):
                return "{" + name + "}" + value[len(path.rstrip("/")):]
        return value
    if isinstance(value, dict):
        return {k: unsubstitute(v, placeholders) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [unsubstitute(v, placeholders) for v in value]
    return value


def run_context() -> dict[str, Any]:
    """What the runner says about the notebook being executed ({} when run by hand)."""
    try:
        return json.loads(os.environ.get(RUN_ENV) or "{}")
    except ValueError:
        return {}


def provenance(root: str | Path | None = None) -> dict[str, Any]:
    """The commit (and whether the library, chapters or book.yml differ from it), the machine and torch threads."""
    import torch

    root = _root(root)

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = git("status", "--porcelain", "--", "iseebetter_lib", "notebooks", "book.yml", "pyflow")
    return {"commit": git("rev-parse", "HEAD") or None, "code_changed_since_commit": bool(dirty),
            "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                        "processor": platform.machine(), "python": platform.python_version(),
                        "torch": torch.__version__}}


def _plain(value: Any) -> Any:
    """JSON-safe: numpy scalars and arrays to Python numbers and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def save_results(chapter: str, profile: str, numbers: Mapping[str, Any], root: str | Path | None = None) -> Path:
    """Write the chapter's numbers with the run's parameters, command and commit to
    ``<results home>/<notebook>.json`` (the notebook's executed name: a variant has its own file)."""
    ctx = run_context()
    name = ctx.get("output_name") or chapter
    data = {"chapter": chapter, "notebook": name, "profile": profile, "command": ctx.get("command"),
            "parameters": ctx.get("parameters"), **provenance(root), "numbers": _plain(numbers)}
    path = results_home(profile, root) / f"{name}.json"
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True, allow_nan=True) + "\n")
    return path


def reference_units(total_s: float, reference_ms: Mapping[str, float]) -> float:
    """A wall time in units of the machine-speed reference (its slower measurement, before or after the run)."""
    return 1e3 * total_s / max(reference_ms.values())


def save_book_timings(profile: str, timings: Mapping[str, float], command: str, root: str | Path | None = None,
                      reference_ms: Mapping[str, float] | None = None,
                      parts: list[Mapping[str, Any]] | None = None) -> Path:
    """`book.json`: each notebook's wall time, the total, and the machine-speed reference (our flow on the bikes
    pair, ms, before and after the run) with the total in units of it, for a complete run of a profile. A run made
    in several `parts` (stopped and run again) records them; its times add up every part (`book.run_parts`)."""
    total = round(float(sum(timings.values())), 1)
    data = {"profile": profile, "command": command, **provenance(root),
            "seconds": {k: round(float(v), 1) for k, v in timings.items()}, "total_seconds": total,
            "machine_reference_ms": dict(reference_ms or {}),
            "total_in_reference_units": round(reference_units(total, reference_ms)) if reference_ms else None}
    if parts:
        data["parts"] = [dict(p) for p in parts]
    path = results_home(profile, root) / BOOK_FILE
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path
