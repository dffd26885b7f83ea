"""Training runs of the book (chapters 03, 03b and 04 train; 04-06 read what they left): configurations from notebook
parameters, runs that leave a small JSON for later chapters, and the trained model loaded back."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Mapping

from iseebetter_lib.book.display import read_json, write_json
from iseebetter_lib.config import ExperimentConfig, build
from iseebetter_lib.errors import UserError
from iseebetter_lib.training.logs import read_log

RESULT = "book_result.json"  # what chapter 03 leaves in its run_dir for chapters 05/06
STARTED = "book_run.json"  # the run_key of the run in progress, so that a stopped chapter resumes it


def experiment_config(preset_name: str, out_dir: str | Path, cache_dir: str | Path, seed: int,
                      data_root: str | None = None, overrides: Mapping[str, Any] | None = None,
                      weights: Mapping[str, float] | None = None) -> ExperimentConfig:
    """The preset with the book's paths, seed, optional dataset root, loss weights and dotted overrides.

    Starting weights (``train.init_weights``) that name a published file (``RBPN_4x.pth``) resolve through the data
    home; a missing file is one line naming `iseebetter fetch`."""
    from iseebetter_lib.data.published import resolve_weights

    values: dict[str, Any] = {"train.out_dir": str(out_dir), "data.cache_dir": str(cache_dir), "train.seed": seed}
    if data_root is not None:
        values["data.root"] = str(data_root)
    if weights is not None:
        values["train.loss.weights"] = dict(weights)
    values.update(overrides or {})
    cfg = build(preset_name, overrides=values)
    if cfg.train.init_weights:
        cfg.train.init_weights = str(resolve_weights(cfg.train.init_weights))
    return cfg


def describe(cfg: ExperimentConfig) -> list[dict[str, Any]]:
    """Rows for a Markdown table of the settings that matter."""
    m, d, t = cfg.model, cfg.data, cfg.train
    return [
        {"setting": "model", "value": f"RBPN base_filter={m.base_filter} feat={m.feat} stages={m.num_stages} "
                                      f"resblocks={m.n_resblock} frames={m.nFrames} x{m.scale_factor}"
                                      f"{' + bicubic residual' if m.residual else ''}"},
        {"setting": "data", "value": f"{d.source} {d.root or '(sample-video clips)'}"
                                     f"{' + panned stills' if d.stills else ''}, LR patch {d.patch_size}, "
                                     f"{d.degradation}"},
        {"setting": "generator start", "value": t.init_weights or "random (Kaiming)"},
        {"setting": "schedule", "value": f"{t.pretrain_steps} pixel ({t.loss.pixel}) + {t.gan_steps} four-fold "
                                         f"steps, batch {t.batch_size}, Adam lr {t.lr:g}"},
        {"setting": "loss weights", "value": ", ".join(f"{k} {v:g}" for k, v in t.loss.weights.as_dict().items())},
        {"setting": "device / precision", "value": f"{t.device} / {t.precision}"},
    ]


def plain_config(cfg: Any) -> dict[str, Any]:
    """`cfg.to_dict()` as it reads back from a JSON file (tuples become lists), to compare with a saved run's."""
    return json.loads(json.dumps(cfg.to_dict(), default=str))


def run_key(cfg: ExperimentConfig) -> dict[str, Any]:
    """What makes two runs the same: the configuration and the content of the starting weights (a chapter 03
    re-trained under the same path must not let an ablation variant reuse runs that started from the old model)."""
    init = cfg.train.init_weights
    digest = None
    if init and Path(init).is_file():
        digest = hashlib.blake2b(Path(init).read_bytes(), digest_size=16).hexdigest()
    return {"config": plain_config(cfg), "init_digest": digest}


def run_training(cfg: ExperimentConfig, progress: bool = False, dataset: Any = None) -> dict[str, Any]:
    """Train `cfg` and write `out_dir/book_result.json`; a re-run of the chapter picks up where it stopped.

    A finished run of the same `run_key` (its `book_result.json` and checkpoint) is returned as it is; an unfinished
    one resumes exactly from its last checkpoint; anything else in `out_dir` is overwritten. `seconds` adds up the
    training time of every part (`resumed_at_step`: where the last part began, None for one part)."""
    from iseebetter_lib.training import train
    from iseebetter_lib.training.outputs import clear_outputs

    out_dir, key = Path(cfg.train.out_dir), run_key(cfg)
    finished = _finished_run(out_dir, key)
    if finished is not None:
        return finished
    resume_step, seconds_before = _resumable(out_dir, key)
    if resume_step is None:  # a fresh start: clear an older run's outputs first, then say which run is under way
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / RESULT).unlink(missing_ok=True)
        clear_outputs(out_dir)
        write_json(out_dir / STARTED, key)
    start = time.perf_counter()
    result = train(cfg, resume=resume_step is not None, overwrite=resume_step is None, progress=progress,
                   dataset=dataset)
    seconds = seconds_before + time.perf_counter() - start
    history = result.history if resume_step is None else read_log(result.log_csv)
    summary = {"checkpoint": str(result.checkpoint), "log_csv": str(result.log_csv), "steps": result.step,
               "seconds": round(seconds, 1), "resumed_at_step": resume_step, **key, "history": history}
    write_json(out_dir / RESULT, summary)
    return summary


def _finished_run(out_dir: Path, key: Mapping[str, Any]) -> dict[str, Any] | None:
    """The saved summary of a finished run with this `run_key` in `out_dir`, or None."""
    path = out_dir / RESULT
    if not path.is_file():
        return None
    done = read_json(path, "training result")
    same = all(done.get(k) == v for k, v in key.items())
    return done if same and Path(done.get("checkpoint", "")).is_file() else None


def _resumable(out_dir: Path, key: Mapping[str, Any]) -> tuple[int | None, float]:
    """(step, training seconds so far) of an unfinished run with this `run_key` to resume, else (None, 0).

    The seconds come from the run's log: each row's seconds per step times the steps since the row before."""
    from iseebetter_lib.training.logs import checkpoint_step
    from iseebetter_lib.training.outputs import last_checkpoint

    started, last = out_dir / STARTED, last_checkpoint(out_dir)
    if not (started.is_file() and last.is_file()) or read_json(started, "training run key") != dict(key):
        return None, 0.0
    try:
        step = checkpoint_step(last)
    except UserError:
        return None, 0.0
    seconds, previous = 0.0, 0
    for row in read_log(out_dir / "log.csv") if (out_dir / "log.csv").is_file() else []:
        if row.get("step") and row["step"] <= step and row.get("seconds_per_step"):
            seconds += row["seconds_per_step"] * (row["step"] - previous)
            previous = row["step"]
    return (step or None), seconds


def trained_checkpoint(run_dir: str | Path) -> Path:
    """The checkpoint chapter 03 (or an ablation variant) left in `run_dir`."""
    summary = read_json(Path(run_dir) / RESULT, "training result of chapter 03")
    path = Path(summary["checkpoint"])
    if not path.is_file():
        raise UserError(f"{path}: checkpoint named by {Path(run_dir) / RESULT} is missing")
    return path


def load_trained(run_dir: str | Path, device: str = "cpu") -> tuple[Any, Any, Any]:
    """(generator, model configuration, inference configuration) of the model chapter 03 trained in `run_dir`."""
    from iseebetter_lib.models.checkpoints import load_generator_file

    return tuple(load_generator_file(trained_checkpoint(run_dir), device=device))
