"""Training logs: a CSV file (appended on resume, never with duplicate steps) and TensorBoard scalars (optional)."""

from __future__ import annotations

import csv
import io
import math
import warnings
from pathlib import Path
from typing import Any, Mapping

from iseebetter_lib.io import atomic_write_text

FIELDS = ("step", "stage", "epoch", "loss", "pixel", "perceptual", "adversarial", "tv", "d_loss", "d_hr", "d_sr",
          "lr", "d_lr", "seconds_per_step", "time")


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


class CsvLog:
    """`out_dir/log.csv` with the columns of `FIELDS`.

    Opening for a resumed run at `start_step` keeps the rows up to that step and drops later ones (written after
    the checkpoint the run resumes from), so that the file never holds a step twice.
    """

    def __init__(self, path: str | Path, start_step: int = 0, enabled: bool = True) -> None:
        self.path = Path(path)
        self.enabled = enabled
        if not enabled:
            return
        kept: list[dict[str, str]] = []
        if start_step > 0 and self.path.is_file():
            with self.path.open(newline="") as fh:
                kept = [row for row in csv.DictReader(fh) if _int(row.get("step")) <= start_step]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
        atomic_write_text(self.path, buffer.getvalue())

    def write(self, row: Mapping[str, Any]) -> None:
        if not self.enabled:
            return
        with self.path.open("a", newline="") as fh:
            fh.write(",".join(_fmt(row.get(name)) for name in FIELDS) + "\n")


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """The CSV log as dicts with numbers parsed (empty cells are None)."""
    rows = []
    with Path(path).open(newline="") as fh:
        for raw in csv.DictReader(fh):
            row: dict[str, Any] = {}
            for key, text in raw.items():
                if text in ("", None):
                    row[key] = None
                elif key in ("step", "epoch"):
                    row[key] = int(text)
                elif key == "stage":
                    row[key] = text
                else:
                    row[key] = float(text)
            rows.append(row)
    return rows


def checkpoint_step(path: str | Path | None) -> int:
    """The generator step stored in a checkpoint or generator file (0 for none, or for a file without one)."""
    if not path:
        return 0
    from iseebetter_lib.checkpoint import load_checkpoint

    step = load_checkpoint(Path(path), map_location="cpu").get("step")
    return int(step) if isinstance(step, int) and not isinstance(step, bool) else 0


class TensorBoardLog:
    """Scalars under `out_dir/tensorboard`; silently a no-op when tensorboard is not installed.

    `step_offset` is the step of the generator a fine-tuning run starts from: its curves continue that run's step
    axis (global steps) instead of restarting at 0.
    """

    def __init__(self, log_dir: str | Path, start_step: int = 0, enabled: bool = True, step_offset: int = 0) -> None:
        self.step_offset = step_offset
        self.writer = None
        if not enabled:
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from torch.utils.tensorboard import SummaryWriter
        except Exception:  # noqa: BLE001 - tensorboard missing or broken: CSV is enough
            return
        # purge_step drops events a previous run wrote after the checkpoint we resume from.
        self.writer = SummaryWriter(str(log_dir),
                                    purge_step=step_offset + start_step + 1 if start_step > 0 else None)

    def write(self, row: Mapping[str, Any]) -> None:
        if self.writer is None:
            return
        step = self.step_offset + int(row["step"])
        for name in FIELDS[3:-2]:
            value = row.get(name)
            if isinstance(value, (int, float)) and math.isfinite(value):
                group = "lr" if name.endswith("lr") else ("discriminator" if name.startswith("d_") else "loss")
                self.writer.add_scalar(f"{group}/{name}", value, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
