"""The run folder: where checkpoints go, refusing to mix a fresh run into an old one, and pruning old checkpoints.

Layout: ``checkpoints/step_XXXXXXX.pt`` (every saved step), ``checkpoints/last.pt`` (the newest, a hard link when
the file system allows), ``generator.pt``, ``log.csv`` and ``tensorboard/``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from iseebetter_lib.errors import UserError

STEP_FILE = re.compile(r"step_\d{7}\.pt")


def checkpoint_path(out_dir: Path, step: int) -> Path:
    return out_dir / "checkpoints" / f"step_{step:07d}.pt"


def last_checkpoint(out_dir: Path) -> Path:
    return out_dir / "checkpoints" / "last.pt"


def step_checkpoints(out_dir: Path) -> list[Path]:
    """The step checkpoints in `out_dir`, oldest first (the zero-padded names sort in step order)."""
    folder = out_dir / "checkpoints"
    return sorted(p for p in folder.iterdir() if STEP_FILE.fullmatch(p.name)) if folder.is_dir() else []


def existing_outputs(out_dir: Path) -> list[Path]:
    folder = out_dir / "checkpoints"
    return sorted(folder.glob("*.pt")) if folder.is_dir() else []


def clear_outputs(out_dir: Path) -> None:
    """--overwrite: remove only what a previous run of ours wrote."""
    for path in existing_outputs(out_dir):
        path.unlink()
    for name in ("log.csv", "generator.pt"):
        (out_dir / name).unlink(missing_ok=True)
    shutil.rmtree(out_dir / "tensorboard", ignore_errors=True)


def prepare_out_dir(out_dir: Path, resume: bool, overwrite: bool, is_main: bool) -> Path | None:
    """The checkpoint to resume from (None: fresh run); refuses to mix a fresh run into old checkpoints."""
    if resume and overwrite:
        raise UserError("--resume and --overwrite contradict each other: pick one")
    existing = existing_outputs(out_dir)
    if resume:
        last, steps = last_checkpoint(out_dir), step_checkpoints(out_dir)
        if last.is_file():
            return last
        if steps:
            return steps[-1]
        raise UserError(f"{out_dir}: no checkpoint to resume from (checkpoints/last.pt is missing)")
    if existing and not overwrite:
        raise UserError(f"{out_dir}: already holds checkpoints ({existing[-1].name}); pass --resume to continue "
                        f"or --overwrite to start again")
    if existing and overwrite and is_main:
        clear_outputs(out_dir)
    return None


def prune_checkpoints(out_dir: Path, keep: int) -> list[Path]:
    """Delete step checkpoints older than the newest `keep` (0: keep all); returns the deleted paths.

    Called after a new checkpoint and `last.pt` are complete on disk, so a resumable state always exists; each
    deletion is one atomic unlink, and the file `last.pt` is (a hard link to) is never deleted.
    """
    if keep <= 0:
        return []
    last = last_checkpoint(out_dir)
    deleted = []
    for path in step_checkpoints(out_dir)[:-keep]:
        if last.is_file() and os.path.samefile(path, last):
            continue
        path.unlink(missing_ok=True)
        deleted.append(path)
    return deleted
