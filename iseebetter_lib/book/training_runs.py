"""Training runs of the book (chapters 03, 03b and 04 train; 04-06 read what they left): configurations from notebook
parameters, runs that leave a small JSON for later chapters, and the trained model loaded back."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping

from iseebetter_lib.book.display import read_json, write_json
from iseebetter_lib.config import ExperimentConfig, build
from iseebetter_lib.errors import UserError

RESULT = "book_result.json"  # what chapter 03 leaves in its run_dir for chapters 05/06


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


def run_training(cfg: ExperimentConfig, progress: bool = False) -> dict[str, Any]:
    """Train from scratch (overwriting an earlier run in the same out_dir) and write `out_dir/book_result.json`."""
    from iseebetter_lib.training import train

    start = time.perf_counter()
    result = train(cfg, overwrite=True, progress=progress)
    seconds = time.perf_counter() - start
    summary = {"checkpoint": str(result.checkpoint), "log_csv": str(result.log_csv), "steps": result.step,
               "seconds": round(seconds, 1), "config": cfg.to_dict(), "history": result.history}
    write_json(Path(cfg.train.out_dir) / RESULT, summary)
    return summary


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
