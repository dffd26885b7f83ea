"""What an evaluation scores and where its results go (`EvalOptions`), beside how a model runs (`InferenceConfig`).

`EvalOptions.validate` holds every check of these options (the command line's and the library's): a bad value is
one line naming its flag. `check_overrides` checks inference settings given one by one (the command line's
``--tile``, ``--precision``, ...) by the schema's validation of the `InferenceConfig` fields they replace.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from iseebetter_lib.config import ConfigError, InferenceConfig
from iseebetter_lib.errors import UserError


@dataclass
class EvalOptions:
    """An evaluation's data, protocol and bookkeeping; the model's settings are its `InferenceConfig`.

    `method`: ``bicubic`` / ``torch_bicubic``, or ``model`` (the default when a model is given, else bicubic).
    `scale`: of a non-learned method (default 4; a model uses its own). `baselines`: upscalers scored on the same
    frames (default: bicubic and torch_bicubic beside a model, none beside a method). `results_log`: a JSONL file
    of per-frame results appended as they come; with `resume`, frames already in it are not rescored
    (`overwrite_log`: start it afresh). `keep_frames`: the scored SR frames under ``"_frames"`` (for figures).
    """

    dataset: str = "vid4"  # vid4, vimeo90k (each septuplet scored on its centre frame) or folder
    root: str | Path | None = None  # vid4 default: vid4/ in the data home
    list_file: str | Path | None = None  # clip names (vimeo90k: septuplets) to keep, one a line
    method: str | None = None
    degradation: str = "BI"  # how LR frames are made: BI (MATLAB bicubic) or BD (blur + subsample)
    scale: int | None = None
    crop: int = 0  # border crop of the Y metrics
    max_frames: int | None = None  # only the first N frames of each clip
    frame_step: int = 1  # score every N-th frame
    tof: bool = False  # temporal consistency tOF (needs consecutive frames)
    tof_backend: str = "auto"
    rounded_y: bool = False
    baselines: Sequence[str] | None = None
    keep_frames: bool = False
    progress: bool = True
    results_log: str | Path | None = None
    resume: bool = False
    overwrite_log: bool = False

    @property
    def center_only(self) -> bool:
        """Vimeo-90K septuplets are scored on their centre frame only (the model sees its 6 neighbours)."""
        return self.dataset == "vimeo90k"

    def validate(self) -> "EvalOptions":
        """One-line errors naming the flag, for numbers out of range and options that exclude each other."""
        for flag, value, minimum in (("--crop", self.crop, 0), ("--max-frames", self.max_frames, 1),
                                     ("--frame-step", self.frame_step, 1), ("--scale", self.scale, 1)):
            if value is not None and value < minimum:
                raise UserError(f"{flag} {value}: must be >= {minimum}")
        if self.tof and (self.center_only or self.frame_step != 1):
            raise UserError("--tof: needs consecutive frames (use --frame-step 1; not with centre-frame scoring)")
        if self.results_log is not None and (self.tof or self.keep_frames):
            raise UserError("per-frame results (--resume, --results-dir): not with --tof or kept frames")
        if self.resume and self.results_log is None:
            raise UserError("--resume: needs --json or --results-dir (where the per-frame results of the run are)")
        return self


def check_overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The inference settings given (None values dropped), each validated by the schema (`InferenceConfig.validate`
    with that field replaced): a bad one is one line naming its flag (``tile`` -> ``--tile``) and the schema's rule."""
    names = {f.name for f in dataclasses.fields(InferenceConfig)}
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    for name, value in given.items():
        if name not in names:
            raise TypeError(f"unknown InferenceConfig field: {name!r}")
        try:
            dataclasses.replace(InferenceConfig(), **{name: value}).validate()
        except ConfigError as exc:
            raise UserError(f"--{name.replace('_', '-')}: {exc}") from None
    return given
