"""TensorBoard scalars of a fine-tuning run continue the step axis of the generator it starts from; damaged rows of
the CSV log are skipped with one warning each, on reading and on resuming."""

from __future__ import annotations

import time

import pytest
import torch

from iseebetter_lib.training.logs import CsvLog, TensorBoardLog, checkpoint_step, read_log


def _steps(log_dir) -> list[int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir))
    acc.Reload()
    return [e.step for e in acc.Scalars("loss/loss")]


def test_fine_tuning_logs_global_steps(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard not installed")
    torch.save({"step": 40, "generator": {}}, tmp_path / "generator.pt")
    assert checkpoint_step(tmp_path / "generator.pt") == 40
    assert checkpoint_step(None) == 0
    torch.save({"weight": torch.zeros(1)}, tmp_path / "plain.pt")
    assert checkpoint_step(tmp_path / "plain.pt") == 0  # an original state dict carries no step

    log = TensorBoardLog(tmp_path / "tb", step_offset=checkpoint_step(tmp_path / "generator.pt"))
    for step in (1, 2, 3):
        log.write({"step": step, "loss": 1.0 / step})
    log.close()
    assert _steps(tmp_path / "tb") == [41, 42, 43]

    # TensorBoard reads event files in name order, and a name is <unix second>.<host>.<pid>.<writer count>: a second
    # writer in the same process and second can sort first once the count gains a digit (9 -> 10), so that its purge
    # is read before the events it removes. A resumed run is a new process, later in time: give it a later second.
    time.sleep(1.05)
    resumed = TensorBoardLog(tmp_path / "tb", start_step=2, step_offset=40)  # resume after local step 2
    resumed.write({"step": 3, "loss": 0.5})
    resumed.close()
    assert _steps(tmp_path / "tb") == [41, 42, 43]  # step 43 replaced, not doubled


def _clean_log(path):
    log = CsvLog(path)
    rows = [{"step": s, "stage": "pretrain" if s < 4 else "gan", "epoch": 0, "loss": 1.0 / s, "lr": 1e-4,
             "d_lr": 1e-4 if s >= 4 else None, "time": 1e9 + s} for s in (1, 2, 3, 4, 5)]
    for row in rows:
        log.write(row)
    return read_log(path)


# name: the damaged form of a row's line
CSV_DAMAGES = {
    "not-utf8": lambda line: line.replace(b"pretrain", b"pre\xfftrain"),
    "too-few-cells": lambda line: line.rsplit(b",", 3)[0],
    "too-many-cells": lambda line: line + b",1,2",
    "text-number": lambda line: line.replace(b"0.3333333333333333", b"one third"),
    "unknown-stage": lambda line: line.replace(b"pretrain", b"warmup"),
    "no-step": lambda line: line.split(b",", 1)[1].join([b",", b""]),
    "step-out-of-order": lambda line: b"1" + line[1:],
    "binary": lambda line: b"\x00\x01\x02\xff" * 8,
}


@pytest.mark.parametrize("damage", CSV_DAMAGES)
def test_a_damaged_csv_row_is_skipped_with_one_warning(damage, tmp_path):
    path = tmp_path / "log.csv"
    clean = _clean_log(path)
    lines = path.read_bytes().split(b"\n")
    lines[3] = CSV_DAMAGES[damage](lines[3])  # the row of step 3 (line 4)
    path.write_bytes(b"\n".join(lines))
    with pytest.warns(UserWarning) as caught:
        rows = read_log(path)
    assert [str(w.message) for w in caught] == [f"{path}: line 4 is damaged (not a complete row of the log); skipped"]
    assert rows == [r for r in clean if r["step"] != 3]
    with pytest.warns(UserWarning, match="line 4 is damaged"):
        CsvLog(path, start_step=4)  # a resumed run keeps the good rows up to its step and drops the damaged one
    assert read_log(path) == [r for r in clean if r["step"] in (1, 2, 4)]


def test_a_torn_last_row_and_a_foreign_file(tmp_path):
    path = tmp_path / "log.csv"
    clean = _clean_log(path)
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b",") - 2])  # the last row torn mid-write, its numbers still parse
    with pytest.warns(UserWarning, match="line 6 is damaged"):
        assert read_log(path) == clean[:4]
    path.write_bytes(b"\xff\xfe not a log\n1,2,3\n")
    with pytest.warns(UserWarning, match="line 1 is not the header of a training log"):
        assert read_log(path) == []
    with pytest.warns(UserWarning, match="line 1 is not the header"):
        CsvLog(path, start_step=3)
    assert read_log(path) == []
