"""Training logs: a CSV file (appended on resume, never with duplicate steps), TensorBoard scalars (optional) and
`TrainingLog`, which feeds both and the progress bar with the mean losses of each logging window."""

from __future__ import annotations

import csv
import io
import math
import time
import warnings
from pathlib import Path
from typing import Any, Mapping

from iseebetter_lib.config import LOSS_TERMS
from iseebetter_lib.io import atomic_write_text

FIELDS = ("step", "stage", "epoch", "loss", *LOSS_TERMS, "d_loss", "d_hr", "d_sr", "lr", "d_lr",
          "seconds_per_step", "time")


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


class CsvLog:
    """`out_dir/log.csv` with the columns of `FIELDS`.

    Opening for a resumed run at `start_step` keeps the rows up to that step and drops later ones (written after
    the checkpoint the run resumes from), so that the file never holds a step twice. Damaged rows are dropped with a
    warning (see `read_rows`).
    """

    def __init__(self, path: str | Path, start_step: int = 0, enabled: bool = True) -> None:
        self.path = Path(path)
        self.enabled = enabled
        if not enabled:
            return
        kept: list[dict[str, str]] = []
        if start_step > 0 and self.path.is_file():
            kept = [cells for cells, row in read_rows(self.path) if row["step"] <= start_step]
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


def _parse(header: list[str], cells: list[str]) -> dict[str, Any]:
    """One row's values (empty cells are None); ValueError when it is not a row this module writes."""
    if len(cells) != len(header):
        raise ValueError("wrong number of cells")
    row: dict[str, Any] = {}
    for key, text in zip(header, cells):
        if text == "":
            row[key] = None
        elif key in ("step", "epoch"):
            row[key] = int(text)
        elif key == "stage":
            if text not in ("pretrain", "gan"):
                raise ValueError(f"unknown stage {text!r}")
            row[key] = text
        else:
            row[key] = float(text)
    if not isinstance(row.get("step"), int) or row["step"] < 1:
        raise ValueError("no step")
    return row


def read_rows(path: str | Path) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """(cells, parsed values) of each row of a CSV log. A damaged row (bytes that are not UTF-8, a wrong number of
    cells, a cell that does not parse, a step not after the previous row's, a last line torn by a kill) is skipped
    with one warning naming the file and its line number; a file without the log's header gives no rows."""
    path = Path(path)
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = lines.pop() if lines else b""  # after the last newline: empty, or a row torn mid-write
    try:
        header = next(csv.reader([lines[0].decode("utf-8")])) if lines else []
    except (ValueError, StopIteration):
        header = []
    if "step" not in header:
        if data.strip():
            warnings.warn(f"{path}: line 1 is not the header of a training log; its rows are not read",
                          stacklevel=2)
        return []
    rows: list[tuple[dict[str, str], dict[str, Any]]] = []
    damaged = [len(lines) + 1] if torn.strip() else []
    for number, line in enumerate(lines[1:], 2):
        try:
            cells = next(csv.reader([line.decode("utf-8")]), [])
            row = _parse(header, cells)
            if rows and row["step"] <= rows[-1][1]["step"]:
                raise ValueError("step out of order")
        except (ValueError, csv.Error):
            if line.strip():
                damaged.append(number)
            continue
        rows.append((dict(zip(header, cells)), row))
    damaged.sort()
    for number in damaged[:10]:
        warnings.warn(f"{path}: line {number} is damaged (not a complete row of the log); skipped", stacklevel=2)
    if len(damaged) > 10:
        warnings.warn(f"{path}: {len(damaged) - 10} more damaged lines (lines {damaged[10]}..{damaged[-1]}) skipped",
                      stacklevel=2)
    return rows


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """The CSV log as dicts with numbers parsed (empty cells are None); damaged rows are skipped with a warning."""
    return [row for _, row in read_rows(path)]


def checkpoint_step(path: str | Path | None) -> int:
    """The generator step stored in a checkpoint or generator file (0 for none, or for a file without one)."""
    if not path:
        return 0
    from iseebetter_lib.models.checkpoints import load_checkpoint

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


class TrainingLog:
    """log.csv, TensorBoard and the progress bar of one run: a row per `log_every` steps (and at each stage's end),
    each the mean of the step losses since the previous row (and over processes under DDP)."""

    def __init__(self, out_dir: Path, total: int, log_every: int, start_step: int, batches_per_epoch: int,
                 world_size: int = 1, is_main: bool = True, progress: bool = True, device: Any = None,
                 step_offset: int = 0) -> None:
        from tqdm.auto import tqdm

        self.log_every, self.batches_per_epoch = log_every, batches_per_epoch
        self.world_size, self.device = world_size, device
        self.csv = CsvLog(out_dir / "log.csv", start_step=start_step, enabled=is_main)
        self.tensorboard = TensorBoardLog(out_dir / "tensorboard", start_step=start_step, enabled=is_main,
                                          step_offset=step_offset)
        self.bar = tqdm(total=total, initial=start_step, disable=not (progress and is_main), unit="step",
                        dynamic_ncols=True)
        self.history: list[dict[str, Any]] = []
        self.pending: list[dict[str, float]] = []
        self.window_start = time.perf_counter()

    def record(self, step: int, stage: str, terms: dict[str, float], lr: float, d_lr: float,
               boundary: bool = False) -> None:
        """Step `step` (1-based, just completed) gave `terms`; write a row if a window ends here."""
        self.pending.append(terms)
        if step % self.log_every == 0 or boundary:
            now = time.perf_counter()
            row = {"step": step, "stage": stage, "epoch": (step - 1) // self.batches_per_epoch,
                   **mean_rows(self.pending, self.world_size, self.device), "lr": lr,
                   "d_lr": d_lr if stage == "gan" else None, "seconds_per_step": (now - self.window_start) / len(self.pending), "time": time.time()}
            self.pending, self.window_start = [], now
            self.history.append(row)
            self.csv.write(row)
            self.tensorboard.write(row)
            self.bar.set_postfix_str(f"{stage} loss {row['loss']:.4g} {row['seconds_per_step']:.2f}s/step")
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
        self.tensorboard.close()


def mean_rows(rows: list[dict[str, float]], world_size: int = 1, device: Any = None) -> dict[str, float]:
    """Mean of each loss over `rows`, and over the `world_size` processes of the running process group."""
    import torch

    keys = sorted({k for r in rows for k in r})
    values = torch.tensor([sum(r.get(k, 0.0) for r in rows) / len(rows) for k in keys], dtype=torch.float64)
    if world_size > 1:
        values = values.to(device)
        torch.distributed.all_reduce(values)
        values = values.cpu() / world_size
    return dict(zip(keys, values.tolist()))
