"""TensorBoard scalars of a fine-tuning run continue the step axis of the generator it starts from."""

from __future__ import annotations

import time

import pytest
import torch

from iseebetter_lib.training.logs import TensorBoardLog, checkpoint_step


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
