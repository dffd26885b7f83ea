"""Execute the book: jupytext source -> papermill (the project kernel, cwd notebooks/) -> `_build/<profile>/notebooks/`.

Stops at the first failing chapter with one clear message (the failing cell's source and the error); a chapter that
`requires_gpu` refuses to start without CUDA. Per-chapter wall times go to `_build/<profile>/timings.json`.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from iseebetter_lib.book import run_parts
from iseebetter_lib.book.results import (MACHINE_REFERENCE, RUN_ENV, provenance, reference_units,
                                        save_book_timings, unsubstitute)
from iseebetter_lib.book.spec import BookSpec, ChapterRun, check_parameters, load_book, parameters_cell
from iseebetter_lib.deprecation import renamed
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_path, atomic_write_text
from iseebetter_lib.locks import folder_lock
from iseebetter_lib.paths import BOOK_ROOT_ENV, book_root, repository_root

KERNEL = "iseebetter"  # the project kernel: `make setup` installs it; `jupyter/kernels/` ships it for JUPYTER_PATH
KERNEL_DISPLAY = "Python (iseebetter)"
KERNEL_PATH = "jupyter"  # folder of the repository holding kernels/iseebetter (argv "python": this interpreter)


class ChapterFailed(UserError):
    """A chapter's notebook raised: the message carries the cell and the error."""


@dataclass
class ChapterResult:
    name: str  # executed notebook stem
    seconds: float
    output: Path


def gpu_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def kernel_search_path(root: Path) -> str:
    """JUPYTER_PATH with the repository's `jupyter/` folder first, so that papermill finds the project kernel even
    in an environment where `make setup` did not install it (jupyter_client runs a kernel whose argv is "python"
    with the interpreter it runs in)."""
    package_jupyter = Path(__file__).resolve().parents[2] / KERNEL_PATH
    folders = [str(root / KERNEL_PATH), str(package_jupyter), os.environ.get("JUPYTER_PATH", "")]
    return os.pathsep.join(dict.fromkeys(f for f in folders if f))


def to_notebook(source: Path, target: Path) -> Path:
    """Convert a percent-format .py to .ipynb (the project kernel) atomically."""
    import jupytext
    import nbformat

    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": KERNEL_DISPLAY, "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    with atomic_path(target) as tmp:
        nbformat.write(nb, str(tmp))
    return target


def _failure(run: ChapterRun, exc: Exception, output: Path) -> ChapterFailed:
    src = getattr(exc, "source", "") or ""
    lines = src.splitlines()
    excerpt = "\n".join("    " + ln for ln in lines[:20]) + ("\n    ..." if len(lines) > 20 else "")
    ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", str(exc))
    cell = getattr(exc, "exec_count", None)
    hint = (f" -- the cell ran into the chapter's time limit ({run.timeout} s, book.yml) and was interrupted"
            if ename == "KeyboardInterrupt" else "")
    return ChapterFailed(f"chapter {run.output_name} failed in cell [{cell}]:\n{excerpt}\n"
                         f"{ename}: {evalue}{hint}\n(executed notebook with the full traceback: {output})")


def run_chapter(run: ChapterRun, out_dir: Path, cwd: Path, progress: bool = True) -> ChapterResult:
    """Execute one chapter (or variant); raise ChapterFailed on a notebook error."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if run.requires_gpu and not gpu_available():
        raise UserError(f"chapter {run.output_name} requires a GPU (book.yml: requires_gpu) but "
                        "torch.cuda.is_available() is false: run it on a CUDA machine or use --profile smoke")
    check_parameters(run, parameters_cell(run.source))
    out_dir.mkdir(parents=True, exist_ok=True)
    source_nb = to_notebook(run.source, out_dir / ".sources" / f"{run.output_name}.ipynb")
    output = out_dir / f"{run.output_name}.ipynb"
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source_nb), str(output), parameters=run.parameters, kernel_name=KERNEL, language="python",
            cwd=str(cwd), progress_bar=progress, execution_timeout=run.timeout, log_output=False)
    except PapermillExecutionError as exc:
        raise _failure(run, exc, output) from None
    except Exception as exc:  # noqa: BLE001 - timeouts, dead kernels: one message naming the chapter
        first = (str(exc).strip().splitlines() or [""])[0]
        hint = (f" -- raise its time limit ({run.timeout} s) in book.yml or trim the chapter"
                if "timed out" in first.lower() or "timeout" in type(exc).__name__.lower() else "")
        raise ChapterFailed(f"chapter {run.output_name} could not be executed: {type(exc).__name__}: "
                            f"{first}{hint} (partial output: {output})") from None
    return ChapterResult(run.output_name, time.perf_counter() - start, output)


def run_book(profile: str, only: str | list[str] | None = None, root: str | Path | None = None,
             progress: bool = True, log: Callable[[str], None] | None = None,
             dry_run: bool = False) -> list[ChapterResult]:
    """Run the book's chapters for `profile` (``smoke`` or ``full``) in order; returns each run's time and output.

    `dry_run`: every chapter at its ``dry_run`` sizes on fixtures (`book.dryrun`), GPU not required, into
    ``_build/<profile>-dry``."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    root = Path(root).resolve() if root is not None else book_root()
    spec: BookSpec = load_book(root=root)
    runs = spec.plan(profile, only, dry_run=dry_run)
    build = spec.build_dir(profile, dry_run)
    with folder_lock(build, "book build folder"):  # one run per profile: a second is refused naming this one
        return _run_book(spec, runs, root, build, profile, only, progress, log, dry_run)


def _run_book(spec: BookSpec, runs: list[ChapterRun], root: Path, build: Path, profile: str,
              only: str | list[str] | None, progress: bool, log: Callable[[str], None],
              dry_run: bool) -> list[ChapterResult]:
    out_dir = build / "notebooks"
    env_backup = _kernel_env(spec, profile, root, build, dry_run, log)
    timings_path = build / "timings.json"
    timings = read_timings(timings_path)
    results: list[ChapterResult] = []
    reference_ms = _machine_reference(log)
    whole = only is None and not dry_run  # a whole-book run: its parts add up to book.json's wall time
    if whole:
        run_parts.begin(build, provenance(root)["commit"], reference_ms)
    command = f"iseebetter book run --profile {profile}" + (" --dry-run" if dry_run else "") + (
        f" --only {','.join(_only_names(only))}" if only else "")
    env_backup.setdefault(RUN_ENV, os.environ.get(RUN_ENV))
    placeholders = spec.placeholders(profile, dry_run)
    main_thread = threading.current_thread() is threading.main_thread()  # signal handlers live there only
    previous_term = signal.signal(signal.SIGTERM, _terminate) if main_thread else None  # SIGTERM = Ctrl-C
    try:
        for i, run in enumerate(runs, 1):
            log(f"[{i}/{len(runs)}] {run.output_name} (limit {run.timeout} s)")
            os.environ[RUN_ENV] = json.dumps({
                "output_name": run.output_name, "command": command,
                "parameters": unsubstitute(run.parameters, placeholders)})
            if whole:
                run_parts.chapter_started(build, run.output_name)
            result = run_chapter(run, out_dir, cwd=root / "notebooks", progress=progress)
            if whole:
                run_parts.chapter_finished(build, run.output_name, result.seconds)
            results.append(result)
            timings[run.output_name] = round(result.seconds, 1)
            atomic_write_text(timings_path, json.dumps(timings, indent=1, sort_keys=True) + "\n")
            over = " -- OVER its time limit" if result.seconds > run.timeout else ""
            log(f"[{i}/{len(runs)}] {run.output_name}: {result.seconds:.1f} s{over} -> {result.output}")
    except BaseException:
        if whole:
            run_parts.stopped(build)
        raise
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous_term)
        _restore_env(env_backup)
    after_ms = _machine_reference(log)
    reference = {"before": round(reference_ms, 1), "after": round(after_ms, 1)}
    timings[MACHINE_REFERENCE] = reference
    atomic_write_text(timings_path, json.dumps(timings, indent=1, sort_keys=True) + "\n")
    if whole:
        parts = run_parts.complete(build, after_ms)
        seconds = run_parts.chapter_seconds(parts) if len(parts) > 1 else {r.name: r.seconds for r in results}
        save_book_timings(profile, seconds, command, root, reference, parts if len(parts) > 1 else None)
    log(_book_line(profile, dry_run, results, reference, (reference_ms, after_ms)))
    return results


def _kernel_env(spec: BookSpec, profile: str, root: Path, build: Path, dry_run: bool,
                log: Callable[[str], None]) -> dict[str, str | None]:
    """Set the environment the kernels inherit (they import the library from this checkout and find the repo
    root; the profile's variables; a dry run's fixtures); returns what to restore afterwards."""
    profile_env = spec.env(profile)
    if dry_run:
        from iseebetter_lib.book.dryrun import fixture_env, prepare_fixtures

        log(f"dry run: fixtures in {build / 'fixtures'}")
        profile_env.update(fixture_env(prepare_fixtures(build / "fixtures")))
    env_backup = {k: os.environ.get(k) for k in ("PYTHONPATH", BOOK_ROOT_ENV, "ISEEBETTER_VGG_WEIGHTS",
                                                 "JUPYTER_PATH", *profile_env)}
    package_root = str(repository_root())
    paths = dict.fromkeys(p for p in (str(root), package_root, env_backup["PYTHONPATH"]) if p)
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)
    os.environ[BOOK_ROOT_ENV] = str(root)
    os.environ["JUPYTER_PATH"] = kernel_search_path(root)
    os.environ.update(profile_env)
    if dry_run:  # VGG weights come from the fixtures' torch hub cache
        os.environ.pop("ISEEBETTER_VGG_WEIGHTS", None)
    return env_backup


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def _restore_env(backup: dict[str, str | None]) -> None:
    """Put the environment variables back as they were before the run (unset where they were unset)."""
    for key, value in backup.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def read_timings(path: Path) -> dict[str, Any]:
    """Per-chapter seconds of earlier runs of a profile (`timings.json`); a damaged file or entry (not UTF-8, not
    a JSON object, a time that is not a number) is left out with one warning naming the file, never a crash."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except ValueError:
        data = None
    data = data if isinstance(data, dict) else {}
    kept = {k: v for k, v in data.items() if k == MACHINE_REFERENCE and isinstance(v, dict)
            or isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
    if not data or len(kept) < len(data):
        warnings.warn(f"{path}: damaged (not a JSON object of chapter times)" if not data else
                      f"{path}: entries that are not times left out: {', '.join(sorted(set(data) - set(kept)))}",
                      stacklevel=2)
    return kept


def _book_line(profile: str, dry_run: bool, results: list[ChapterResult], reference: dict[str, float],
               measured_ms: tuple[float, float]) -> str:
    """The run's last log line: notebooks, seconds, and the seconds in units of the machine reference (measured
    before and after the run)."""
    total = sum(r.seconds for r in results)
    return (f"book {profile}{' (dry run)' if dry_run else ''}: {len(results)} notebook(s) in {total:.1f} s "
            f"= {reference_units(total, reference):.0f}x the machine reference (our flow on the bikes pair: "
            f"{measured_ms[0]:.0f} ms before, {measured_ms[1]:.0f} ms after)")


def _machine_reference(log: Callable[[str], None]) -> float:
    """Our flow on the bikes sample pair (ms): the yardstick the book's wall time is stated against."""
    from iseebetter_lib.evaluation.flow_accuracy import machine_reference_ms

    ms = machine_reference_ms()
    log(f"machine reference: our flow on the bikes pair (640x272) takes {ms:.0f} ms")
    return ms


def _only_names(only: str | list[str]) -> list[str]:
    return [n for n in (only.split(",") if isinstance(only, str) else only) if n]


__getattr__ = renamed(__name__, {"repo_root": "iseebetter_lib.paths.book_root"})
