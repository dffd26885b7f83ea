"""What a trained model uses, at no training cost: score it with one of its inputs taken away.

A *probe* wraps the generator so that, on the same frames, the engine's inputs are changed before the model sees
them:

- ``copies``: every neighbour is replaced by a copy of the target frame, and the flows are zeroed (copies do not
  move). The model then sees no more than a single-image model would: what the neighbours add is the difference.
- ``zero_flow``: the real neighbours, with their flows zeroed. What the optical flow adds on top of the neighbours.
- ``shuffled``: the real neighbours with their own flows, given in a fixed shuffled order (a permutation drawn from
  `seed`, never the identity when there are two or more neighbours). How much the model relies on each neighbour
  being in its place (near/far, past/future); with one neighbour there is nothing to shuffle.

The unmodified model is scored through the same wrapper (probe ``none``), so that a difference in numerical path
(the CPU fast path, which applies only to generators it knows, or the autocast) cannot pass for an effect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from iseebetter_lib.errors import UserError

PROBES = ("none", "copies", "zero_flow", "shuffled")
PROBE_TEXT = {
    "none": "the model as trained",
    "copies": "neighbours replaced by copies of the target frame (flows zeroed)",
    "zero_flow": "real neighbours, flows zeroed",
    "shuffled": "real neighbours and their flows in a shuffled order",
}


def permutation(n: int, seed: int = 0) -> list[int]:
    """A fixed permutation of ``range(n)`` drawn from `seed`; never the identity when ``n >= 2``."""
    if n < 2:
        return list(range(n))
    rng = np.random.default_rng(seed)
    while True:
        order = [int(i) for i in rng.permutation(n)]
        if order != list(range(n)):
            return order


def _stacked(frames: Any) -> torch.Tensor:
    """(B, n, C, h, w) from a tensor of that shape or a list of (B, C, h, w) (the generators take both)."""
    if isinstance(frames, (list, tuple)):
        return torch.stack(list(frames), dim=1) if frames else torch.empty(0)
    return frames


class ProbedGenerator(torch.nn.Module):
    """`generator` called as ``generator(x, neighbours, flows)`` with its inputs changed as `probe` says."""

    def __init__(self, generator: torch.nn.Module, probe: str = "none", seed: int = 0) -> None:
        super().__init__()
        if probe not in PROBES:
            raise UserError(f"probe {probe!r}: expected one of {', '.join(PROBES)}")
        self.generator = generator
        self.probe = probe
        self.seed = seed

    def probed_inputs(self, x: torch.Tensor, neighbours: Any, flows: Any) -> tuple[torch.Tensor, Any, Any]:
        """The inputs the wrapped generator receives."""
        if self.probe == "none":
            return x, neighbours, flows
        nb, fl = _stacked(neighbours), _stacked(flows)
        n = nb.shape[1] if nb.dim() == 5 else 0
        if n == 0:  # a one-frame model: nothing to take away
            return x, neighbours, flows
        if self.probe == "copies":
            return x, x.unsqueeze(1).expand_as(nb).contiguous(), torch.zeros_like(fl)
        if self.probe == "zero_flow":
            return x, nb, torch.zeros_like(fl)
        order = permutation(n, self.seed)
        return x, nb[:, order], fl[:, order]

    def forward(self, x: torch.Tensor, neighbours: Any, flows: Any) -> torch.Tensor:
        return self.generator(*self.probed_inputs(x, neighbours, flows))


def _loaded(model: Any) -> Any:
    """`model` (a generator file or a `LoadedGenerator`) as a `LoadedGenerator`."""
    from iseebetter_lib.models.checkpoints import load_generator_file

    if isinstance(model, (str, Path)):
        if not Path(model).is_file():
            raise UserError(f"{model}: checkpoint not found")
        return load_generator_file(model, device="cpu")
    return model


def probe_scores(options: Any, model: Any, overrides: Mapping[str, Any] | None = None,
                 probes: Sequence[str] = PROBES, seed: int = 0) -> dict[str, dict[str, Any]]:
    """`evaluate` of `model` under each probe on the same frames (options' frames, baselines left out):
    ``{probe: {"clips": {clip: {"psnr_y", "ssim_y"}}, "average": {...}}}``. A one-frame model is scored once
    (``none``): it has no neighbours to take away."""
    import dataclasses

    from iseebetter_lib.evaluation.evaluate import evaluate
    from iseebetter_lib.models.checkpoints import LoadedGenerator

    loaded = _loaded(model)
    if int(loaded.model_cfg.nFrames) < 2:
        probes = ("none",)
    opts = dataclasses.replace(options, method="model", baselines=(), tof=False, keep_frames=False,
                               results_log=None)
    out = {}
    for probe in dict.fromkeys(("none", *probes)):
        wrapped = LoadedGenerator(ProbedGenerator(loaded.generator, probe, seed), loaded.model_cfg,
                                  loaded.inference_cfg)
        res = evaluate(opts, wrapped, overrides)
        out[probe] = {"clips": {c: {"psnr_y": v["psnr_y"], "ssim_y": v["ssim_y"]} for c, v in res["clips"].items()},
                      "average": {"psnr_y": res["average"]["psnr_y"], "ssim_y": res["average"]["ssim_y"]}}
    return out


def probe_table(scores: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per probe: PSNR-Y and SSIM-Y on average, and the difference to the unmodified model in dB on
    average and per clip (``"diff <clip> (dB)"``); negative = the probe costs the model that much."""
    base = scores["none"]
    rows = []
    for probe, sc in scores.items():
        row: dict[str, Any] = {"probe": probe, "what the model sees": PROBE_TEXT.get(probe, probe),
                               "PSNR-Y (dB)": sc["average"]["psnr_y"], "SSIM-Y": sc["average"]["ssim_y"],
                               "diff (dB)": sc["average"]["psnr_y"] - base["average"]["psnr_y"]}
        for clip in base["clips"]:
            row[f"diff {clip} (dB)"] = sc["clips"][clip]["psnr_y"] - base["clips"][clip]["psnr_y"]
        rows.append(row)
    return rows


def probe_sentences(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """One sentence per probe: how many dB that input is worth to the model as trained."""
    what = {"copies": "What the neighbouring frames bring (their content, with its motion)",
            "zero_flow": "The optical flow, given the real neighbours,",
            "shuffled": "The neighbours' order (which neighbour sits in which place)"}
    out = []
    for row in rows:
        if row["probe"] == "none":
            continue
        worth, before, after = -row["diff (dB)"], row["PSNR-Y (dB)"] - row["diff (dB)"], row["PSNR-Y (dB)"]
        name = what.get(row["probe"], row["probe"])
        if abs(worth) < 5e-4:
            out.append(f"{name} is worth nothing measurable to the model as trained (probe '{row['probe']}' moves "
                       f"PSNR-Y by less than 0.001 dB, {before:.3f} dB unmodified).")
        elif worth > 0:
            out.append(f"{name} is worth {worth:.3f} dB to the model as trained (probe '{row['probe']}' lowers "
                       f"PSNR-Y from {before:.3f} to {after:.3f} dB).")
        else:
            out.append(f"{name} is worth nothing to the model as trained: probe '{row['probe']}' raises PSNR-Y by "
                       f"{-worth:.3f} dB (from {before:.3f} to {after:.3f} dB).")
    return out
