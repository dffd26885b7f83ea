"""Studies paired by seed: every row of a table trained once per seed, so that rows can be compared seed by seed.

A seed fixes the sample order: the sampler and each item's crop depend only on the seed and the dataset's length,
and every frame of every clip is a sample whatever the window size. It does not by itself fix the initial weights
across architectures: every layer draws its default initialisation from torch's RNG before the Kaiming pass, so a
layer whose shape changes (RBPN's `output` grows with `nFrames`; DBPN lacks `feat1` and the multi-image branch)
shifts the stream for all the others. `pair_initial_weights` therefore starts every row from the reference row's
initial weights of the same seed, tensor by tensor wherever the name and shape match (7 frames: all but `output`;
DBPN: `feat0` and the `DBPN` branch); the rest keep the row's own seeded initialisation. What a finished
(row, seed) left is reused on a re-run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch

from iseebetter_lib.book.display import read_json, write_json

ROW_FILE = "row.json"


def initial_state(model_cfg: Any, seed: int) -> dict[str, torch.Tensor]:
    """The initial generator weights the trainer draws for `model_cfg` under `seed`."""
    from iseebetter_lib.models import build_generator

    torch.manual_seed(seed)
    return build_generator(model_cfg).state_dict()


def paired_state(model_cfg: Any, reference_cfg: Any, seed: int) -> tuple[dict[str, torch.Tensor], list[str]]:
    """`model_cfg`'s initial weights under `seed` with every tensor that the reference model has under the same
    name and shape replaced by the reference's of the same seed; and the names of those shared tensors."""
    state = initial_state(model_cfg, seed)
    reference = initial_state(reference_cfg, seed)
    shared = [k for k, v in state.items() if k in reference and reference[k].shape == v.shape]
    for key in shared:
        state[key] = reference[key].clone()
    return state, shared


def pair_initial_weights(cfg: Any, reference_model: Any, init_dir: str | Path) -> Any:
    """`cfg` itself when it trains the reference's model (the seed alone gives the same start) or starts from given
    weights; otherwise writes its paired start (`paired_state`) as a generator file in `init_dir` and returns `cfg`
    with `train.init_weights` naming it, so the ordinary trainer starts from it."""
    from iseebetter_lib.models.checkpoints import generator_file_state, save_checkpoint

    if cfg.train.init_weights or dataclasses.asdict(cfg.model) == dataclasses.asdict(reference_model):
        return cfg
    m = cfg.model
    path = Path(init_dir) / f"{m.name}{m.nFrames}_seed{cfg.train.seed}.pt"
    state, _ = paired_state(m, reference_model, cfg.train.seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(path, generator_file_state(state, m))  # rewritten each time: cheap, and never stale
    cfg.train.init_weights = str(path)
    return cfg


def run_scored(cfg: Any, test_set: Any, frame_step: int, describe: Mapping[str, Any],
               train: Callable[[Any], Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Train one (row, seed) configuration and score it on `test_set`; a finished run of the same configuration,
    starting weights and scoring (its `row.json` in the run's folder) is reused, so a stopped study resumes at its
    first unfinished run, and a changed test set re-scores the trained model without training it again."""
    from iseebetter_lib.book.training_runs import run_key, run_training
    from iseebetter_lib.evaluation import EvalOptions, evaluate

    path = Path(cfg.train.out_dir) / ROW_FILE
    key = run_key(cfg)
    scored_on = {"dataset": test_set.dataset, "root": None if test_set.root is None else str(test_set.root),
                 "frame_step": frame_step}
    if path.is_file():
        done = read_json(path)
        if (done.get("config"), done.get("init_digest"), done.get("scored_on")) == (
                key["config"], key["init_digest"], scored_on):
            return done
    summary = (train or (lambda c: run_training(c, progress=False)))(cfg)
    result = evaluate(EvalOptions(test_set.dataset, test_set.root, frame_step=frame_step, baselines=["torch_bicubic"],
                                  progress=False), summary["checkpoint"])
    avg = result["average"]
    data = {**describe, "seed": cfg.train.seed, "steps": summary["steps"], "train_s": summary["seconds"],
            "psnr_y": avg["psnr_y"], "ssim_y": avg["ssim_y"], "hf_ratio": avg.get("hf_ratio"),
            "torch_bicubic_psnr_y": result["baselines"]["torch_bicubic"]["average"]["psnr_y"],
            "clips": {c: v["psnr_y"] for c, v in result["clips"].items()},
            "frames_scored": sum(v["frames"] for v in result["clips"].values()),
            "config": key["config"], "init_digest": key["init_digest"], "scored_on": scored_on}
    write_json(path, data)
    return data


def scores(results: Mapping[str, Mapping[int, Mapping[str, Any]]]) -> dict[str, dict[int, dict[str, float]]]:
    """`results[row][seed]` (what `run_scored` returns) as `effects_table`'s `scores[row][seed][measure]`: the
    average PSNR-Y under "average", each clip's under its name."""
    return {row: {seed: {"average": r["psnr_y"], **r["clips"]} for seed, r in per_seed.items()}
            for row, per_seed in results.items()}


def seeds_of(values: Sequence[Any]) -> list[int]:
    """The study's seeds as distinct integers, in order (a `UserError` names a bad list)."""
    from iseebetter_lib.errors import UserError

    try:
        seeds = [int(s) for s in values]
    except (TypeError, ValueError):
        raise UserError(f"seeds: expected a list of integers, got {values!r}") from None
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise UserError(f"seeds: a paired study needs at least two distinct seeds (got {values!r})")
    return seeds
