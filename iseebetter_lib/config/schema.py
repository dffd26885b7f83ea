"""The configuration schema: one dataclass per concern; each field declares its type and range (`rules.py`).

`ModelConfig`, `FlowConfig`, `DataConfig`, `LossConfig` (with `LossWeights`) and `TrainConfig` make an
`ExperimentConfig`; `InferenceConfig` (flow, window rule, precision, tile, device) is saved beside the weights.
The lists of accepted names, the tile rule and the registries (`GENERATORS`, `LOSS_TERMS`, `TRAINING_SOURCES`) are
declared here, beside their fields, and imported by every module and command-line option that needs them. Below:
`rules.py` (types, ranges), `registry.py` (entries), `overrides.py` (dotted keys); `presets.py` builds on it.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

from iseebetter_lib.config.overrides import apply_overrides, flatten
from iseebetter_lib.config.registry import (GeneratorEntry, LossTerm, TrainingSource, registered,  # noqa: F401
                                            resolve)
from iseebetter_lib.config.rules import (ConfigError, Rule, check, check_fields, choice, flag,  # noqa: F401
                                         integer, pair, real, setting, text)

PRECISIONS = ("fp32", "bf16", "fp16")  # TrainConfig.precision, InferenceConfig.precision, --precision
BOUNDARIES = ("copy", "reflect")  # DataConfig.boundary, InferenceConfig.boundary, --boundary
SCALES = (2, 4, 8)
DEGRADATIONS = ("BI", "BD")  # DataConfig.degradation, evaluate --degradation: MATLAB bicubic, or blur + subsample
DEVICES = ("auto", "cpu", "cuda")  # TrainConfig.device, train --device (InferenceConfig.device also takes cuda:N)
EVAL_DATASETS = ("vid4", "vimeo90k", "folder")  # `EvalSet`'s kinds of evaluation set, evaluate --dataset
TILE_MIN = 8  # smallest core tile side in LR pixels (InferenceConfig.tile, --tile; see `parse_tile`)


# Registries (entry types in `registry.py`): one entry adds a generator, a loss term or a training source. An entry
# names its code as "module:attribute", imported by the floor that owns it (`models.registry`, `losses`,
# `data.sources`), so this floor knows the names, and validates them, without importing what is above it.
GENERATORS: dict[str, GeneratorEntry] = {
    "rbpn": GeneratorEntry("iseebetter_lib.models.rbpn:RBPN"),  # iSeeBetter's generator (the paper's)
    "dbpn": GeneratorEntry("iseebetter_lib.models.dbpn:DBPN", 1, 1),  # RBPN's single-image branch alone
}

LOSS_TERMS: dict[str, LossTerm] = {  # the four-fold loss, in its usual order; weights are the original code's
    "pixel": LossTerm("iseebetter_lib.losses:PixelLoss", 1.0, ("mse", "l1"),
                      "mse (paper, --APITLoss) or l1 (original default)"),
    "perceptual": LossTerm("iseebetter_lib.losses:PerceptualLoss", 6e-3, ("vgg16", "vgg19"),
                           "features[:31] (code) or vgg19 (paper figure)"),
    "adversarial": LossTerm("iseebetter_lib.losses:AdversarialLoss", 1e-3, ("mean", "log"),
                            "-mean D(SR) (code) or -log D(SR) (paper)"),
    "tv": LossTerm("iseebetter_lib.losses:TVLoss", 2e-8, ("sq", "abs"),
                   "squared differences (code) or absolute (paper)"),
}
DISCRIMINATOR_LOSSES = ("original", "bce")  # 1 - D(HR) + D(SR), or BCE

TRAINING_SOURCES: dict[str, TrainingSource] = {
    "embedded": TrainingSource("iseebetter_lib.data.sources:embedded_clips", "clips cut from the sample videos"),
    "vimeo90k": TrainingSource("iseebetter_lib.data.sources:vimeo_clips", "a Vimeo-90K septuplet tree"),
    "folder": TrainingSource("iseebetter_lib.data.sources:folder_clips", "folders of frames, one per clip"),
    "video": TrainingSource("iseebetter_lib.data.sources:video_clips", "video files, cut into shots"),
}


@dataclass
class ModelConfig:
    """The generator (`name`, a key of `GENERATORS`) and its arguments (the original's keyword names); defaults are
    the paper's RBPN. A generator takes the fields its signature names (DBPN: no `n_resblock`)."""

    name: str = setting("rbpn", registered(GENERATORS, "generator"))
    num_channels: int = setting(3, integer(1, 64))
    base_filter: int = setting(256, integer(1, 4096))
    feat: int = setting(64, integer(1, 4096))
    num_stages: int = setting(3, integer(1, 64))
    n_resblock: int = setting(5, integer(1, 64))
    nFrames: int = setting(7, integer(1, 64))  # frames per window, target included; the range is the generator's
    scale_factor: int = setting(4, choice(*SCALES))
    residual: bool = setting(False, flag())  # add the bicubic upsampling of the target (off in the original)
    # scales the output conv's Kaiming init; < 1 helps short CPU budgets
    output_init_scale: float = setting(1.0, real(gt=0, le=1e3))

    def validate(self, prefix: str = "model") -> None:
        check_fields(self, prefix)
        entry = GENERATORS[self.name]
        check(entry.min_frames <= self.nFrames <= entry.max_frames, f"{prefix}.nFrames", self.nFrames,
              (f"{entry.min_frames}" if entry.min_frames == entry.max_frames else
               f"an integer in [{entry.min_frames}, {entry.max_frames}]")
              + f" for {prefix}.name={self.name!r} (and data.nFrames the same)")

    def kwargs(self) -> dict[str, Any]:
        """The generator's keyword arguments: every field but `name`."""
        values = dataclasses.asdict(self)
        values.pop("name")
        return values


@dataclass
class FlowConfig:
    """Optical-flow parameters; defaults are iSeeBetter's call of `pyflow.coarse2fine_flow`.

    Ranges are conservative: wide enough for any sensible setting, narrow enough that a value cannot make the
    solver loop for ever or build a degenerate pyramid.
    """

    alpha: float = setting(0.012, real(gt=0, le=1e3))  # smoothness weight
    ratio: float = setting(0.75, real(gt=0.05, lt=0.98))  # pyramid downsampling ratio
    min_width: int = setting(20, integer(1, 4096))  # width of the coarsest level
    n_outer: int = setting(7, integer(1, 1000))
    n_inner: int = setting(1, integer(1, 1000))
    n_sor: int = setting(30, integer(1, 10000))
    col_type: int = setting(0, choice(0, 1))  # 0 RGB, 1 grey
    backend: str = setting("pyflow", choice("pyflow", "dis", "zero"))  # ours, OpenCV DIS, or all-zero (ablation)

    def validate(self, prefix: str = "flow") -> None:
        check_fields(self, prefix)


@dataclass
class DataConfig:
    """Where training clips come from and how samples are made from them."""

    source: str = setting("embedded", registered(TRAINING_SOURCES, "training source"))
    root: str | None = setting(None, text(optional=True))  # dataset root (None: the embedded sample-video clips)
    list_file: str | None = setting(None, text(optional=True))  # Vimeo-90K sep_trainlist.txt style list
    scale: int = setting(4, choice(*SCALES))
    nFrames: int = setting(7, integer(1, 64))  # must equal model.nFrames (1: no neighbours, no flows)
    patch_size: int = setting(64, integer(8, 4096))  # LR patch side; HR patch is patch_size * scale
    degradation: str = setting("BI", choice(*DEGRADATIONS))  # MATLAB bicubic, or Gaussian blur + subsample
    future_frames: bool = setting(True, flag())  # neighbours t-3..t+3 (paper) or past only
    boundary: str = setting("copy", choice(*BOUNDARIES))  # neighbour outside the clip: copy the target, or reflect
    hflip: bool = setting(True, flag())
    vflip: bool = setting(True, flag())
    rot180: bool = setting(True, flag())
    rot90: bool = setting(False, flag())
    # add panned still photographs from scikit-image and Matplotlib to the train split (not video; see stills.py)
    stills: bool = setting(False, flag())
    cache_dir: str = setting(".cache", text())  # flow cache and prepared datasets
    num_workers: int = setting(0, integer(0, 256))
    flow: FlowConfig = field(default_factory=FlowConfig)

    def validate(self, prefix: str = "data") -> None:
        check_fields(self, prefix)


def _weights_validate(self: Any, prefix: str = "loss.weights") -> None:
    check_fields(self, prefix)


def _weights_as_dict(self: Any) -> dict[str, float]:
    """``{term: weight}`` in `LOSS_TERMS` order (a term registered after import has its entry's weight)."""
    return {name: float(getattr(self, name, term.weight)) for name, term in LOSS_TERMS.items()}


# One field per registered loss term (0 switches a term off).
LossWeights = dataclasses.make_dataclass(
    "LossWeights", [(name, float, setting(term.weight, real(ge=0))) for name, term in LOSS_TERMS.items()],
    namespace={"validate": _weights_validate, "as_dict": _weights_as_dict,
               "__doc__": "The weight of each term of the generator loss (0 switches a term off); defaults are "
                          "the original code's (`LOSS_TERMS`)."})
LossWeights.__module__ = __name__


def _loss_validate(self: Any, prefix: str = "loss") -> None:
    check_fields(self, prefix)


# The variant of each loss term that has variants (`LOSS_TERMS`), then the discriminator loss and the VGG source.
LossConfig = dataclasses.make_dataclass("LossConfig", [
    *[(name, str, setting(term.kinds[0], choice(*term.kinds))) for name, term in LOSS_TERMS.items() if term.kinds],
    ("discriminator", str, setting("original", choice(*DISCRIMINATOR_LOSSES))),
    ("imagenet_norm", bool, setting(False, flag())),  # the original feeds VGG un-normalised inputs
    ("weights", LossWeights, field(default_factory=LossWeights)),
    # a torchvision-layout VGG state dict (else $ISEEBETTER_VGG_WEIGHTS/hub)
    ("vgg_weights", "str | None", setting(None, text(optional=True))),
    # explicit opt-in to random VGG features when no weights exist
    ("allow_random_vgg", bool, setting(False, flag())),
], namespace={"validate": _loss_validate,
              "__doc__": "The generator loss: which variant of each term (`LOSS_TERMS`), its weights, the "
                         "discriminator loss and where VGG comes from."})
LossConfig.__module__ = __name__


@dataclass
class TrainConfig:
    """Optimisation schedule: pixel-loss pre-training, then adversarial fine-tuning with the four-fold loss."""

    seed: int = setting(123, integer(0, 2**63 - 1))
    batch_size: int = setting(2, integer(1, 1 << 16))
    pretrain_steps: int = setting(0, integer(0))  # generator-only steps with the pixel loss
    gan_steps: int = setting(0, integer(0))  # steps of the four-fold loss with D/G alternation
    lr: float = setting(1e-4, real(gt=0, le=1))
    d_lr: float = setting(1e-4, real(gt=0, le=1))
    betas: tuple[float, float] = setting((0.9, 0.999), pair(real(ge=0, lt=1)))
    eps: float = setting(1e-8, real(gt=0, le=1))
    lr_decay_at: float = setting(0.5, real(ge=0, le=1))  # generator lr / 10 at this fraction of each stage
    grad_clip: float = setting(0.0, real(ge=0))  # 0: off (the original does not clip)
    checkpoint_every: int = setting(0, integer(0))  # 0: only at the end
    keep_checkpoints: int = setting(3, integer(0))  # newest step checkpoints kept besides last.pt; 0: keep all
    log_every: int = setting(10, integer(1))
    out_dir: str = setting("runs/default", text())
    # start G from these weights (checkpoint or generator file); not on resume
    init_weights: str | None = setting(None, text(optional=True))
    device: str = setting("auto", choice(*DEVICES))
    precision: str = setting("fp32", choice(*PRECISIONS))  # autocast on CUDA
    # bf16 on a CPU only: torch.compile the generator's step (needs a C++ compiler; the first step compiles for
    # about a minute on 2 cores, then steps run about 1.4x faster: benchmarks/train_step.py)
    compile: bool = setting(False, flag())
    loss: LossConfig = field(default_factory=LossConfig)

    def validate(self, prefix: str = "train") -> None:
        check_fields(self, prefix)


def _is_device(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    kind, _, index = value.partition(":")
    return value in DEVICES or (kind == "cuda" and index.isdigit())


def parse_tile(tile: Any, option: str = "--tile") -> int | str | None:
    """The one tile rule (`InferenceConfig.tile`, ``--tile`` of upscale and evaluate, the engine): None (whole
    frame), "auto" (from the memory budget) or a core tile side of at least `TILE_MIN` LR pixels, returned as an int;
    anything else is a one-line `ConfigError` naming `option`."""
    if tile is None or tile == "auto":
        return tile
    try:
        value = int(tile)
    except (TypeError, ValueError):
        raise ConfigError(f"{option}: {tile!r} is not 'auto' or a number of LR pixels") from None
    if value < TILE_MIN:
        raise ConfigError(f"{option}: {value} is too small (at least {TILE_MIN} LR pixels)")
    return value


def _is_tile(value: Any) -> bool:
    if isinstance(value, bool) or not (value is None or isinstance(value, (int, str))):
        return False
    try:
        parse_tile(value)
    except ConfigError:
        return False
    return True


@dataclass
class InferenceConfig:
    """How a trained generator is applied: flow parameters, window rule, precision, tile and device.

    Training saves it inside ``generator.pt`` (from the data configuration it trained with), so that evaluation and
    upscaling use the same flow and neighbours; an explicit argument overrides a saved value.
    """

    flow: FlowConfig = field(default_factory=FlowConfig)
    future_frames: bool = setting(True, flag())  # neighbours t-3..t+3 (paper) or past only
    boundary: str = setting("copy", choice(*BOUNDARIES))  # neighbour outside the clip: copy the target, or reflect
    precision: str = setting("fp32", choice(*PRECISIONS))  # fp16 only on CUDA
    # None: whole frame; "auto": from the memory budget; "N": core tile side in LR px
    tile: str | None = setting(None, Rule(_is_tile, f"null, 'auto' or a number of LR pixels >= {TILE_MIN}"))
    device: str = setting("auto", Rule(_is_device, "auto, cpu, cuda or cuda:N"))

    def validate(self, prefix: str = "inference") -> None:
        check_fields(self, prefix)


@dataclass
class ExperimentConfig:
    """Everything one run needs: model, data and training configuration."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self) -> "ExperimentConfig":
        self.model.validate("model")
        self.data.validate("data")
        self.train.validate("train")
        check(self.model.nFrames == self.data.nFrames, "data.nFrames", self.data.nFrames,
               f"equal to model.nFrames ({self.model.nFrames})")
        check(self.model.scale_factor == self.data.scale, "data.scale", self.data.scale,
               f"equal to model.scale_factor ({self.model.scale_factor})")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def inference_config(self) -> InferenceConfig:
        """How the generator this run trains is meant to be applied: its data's flow and window rule, and bf16 when
        it trained in bf16 (the CPU fast path; fp16 training stays fp32 here, as fp16 runs only on CUDA)."""
        return InferenceConfig(flow=copy.deepcopy(self.data.flow), future_frames=self.data.future_frames,
                               boundary=self.data.boundary,
                               precision="bf16" if self.train.precision == "bf16" else "fp32")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ExperimentConfig":
        """Deprecated: ``config.build(None, overrides=values)`` builds from a nested dict (as `to_dict` writes)."""
        warnings.warn("ExperimentConfig.from_dict is deprecated: use iseebetter_lib.config.build(None, "
                      "overrides=values)", DeprecationWarning, stacklevel=2)
        return apply_overrides(cls(), flatten(values))

    def override(self, overrides: Mapping[str, Any]) -> "ExperimentConfig":
        """A copy with dotted-key overrides applied, e.g. ``{"train.lr": 4e-4}``."""
        return apply_overrides(copy.deepcopy(self), overrides)
