"""The configuration schema: one dataclass per concern, each validating its own fields.

`ModelConfig`, `FlowConfig`, `DataConfig`, `LossConfig` and `TrainConfig` are grouped in an `ExperimentConfig`;
`InferenceConfig` is what applying a trained generator needs (flow, window rule, precision, tile, device) and is
saved beside the weights. The override engine (`overrides.py`) and the presets (`presets.py`) build on this module,
which imports only `iseebetter_lib.errors`.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from iseebetter_lib.errors import UserError


class ConfigError(UserError):
    """A configuration value or key is wrong; the message names it."""


@dataclass
class ModelConfig:
    """The RBPN generator's arguments (original keyword names); defaults are the paper's configuration."""

    num_channels: int = 3
    base_filter: int = 256
    feat: int = 64
    num_stages: int = 3
    n_resblock: int = 5
    nFrames: int = 7
    scale_factor: int = 4
    residual: bool = False  # add the bicubic upsampling of the target (off in the original)
    output_init_scale: float = 1.0  # scales the output conv's Kaiming init; < 1 helps short CPU budgets

    def validate(self) -> None:
        _check(self.scale_factor in (2, 4, 8), "model.scale_factor", self.scale_factor, "2, 4 or 8")
        _check(self.nFrames >= 2, "model.nFrames", self.nFrames, ">= 2")
        _check(self.num_stages >= 1, "model.num_stages", self.num_stages, ">= 1")
        _check(self.n_resblock >= 1, "model.n_resblock", self.n_resblock, ">= 1")
        for name in ("num_channels", "base_filter", "feat"):
            _check(getattr(self, name) >= 1, f"model.{name}", getattr(self, name), ">= 1")

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `iseebetter_lib.models.RBPN`."""
        return dataclasses.asdict(self)


@dataclass
class FlowConfig:
    """Optical-flow parameters; defaults are iSeeBetter's call of `pyflow.coarse2fine_flow`."""

    alpha: float = 0.012
    ratio: float = 0.75
    min_width: int = 20
    n_outer: int = 7
    n_inner: int = 1
    n_sor: int = 30
    col_type: int = 0
    backend: str = "pyflow"  # "pyflow" (ours) or "dis" (OpenCV DIS, when installed)

    def validate(self) -> None:
        _check(0.0 < self.ratio < 1.0, "flow.ratio", self.ratio, "in (0, 1)")
        _check(self.alpha > 0, "flow.alpha", self.alpha, "> 0")
        for name in ("min_width", "n_outer", "n_inner", "n_sor"):
            _check(getattr(self, name) >= 1, f"flow.{name}", getattr(self, name), ">= 1")
        _check(self.col_type in (0, 1), "flow.col_type", self.col_type, "0 (RGB) or 1 (grey)")
        _check(self.backend in ("pyflow", "dis"), "flow.backend", self.backend, "'pyflow' or 'dis'")


@dataclass
class DataConfig:
    """Where training clips come from and how samples are made from them."""

    source: str = "embedded"  # embedded | vimeo90k | folder | video
    root: str | None = None  # dataset root (None: the embedded sample-video clips)
    list_file: str | None = None  # Vimeo-90K sep_trainlist.txt style list
    scale: int = 4
    nFrames: int = 7
    patch_size: int = 64  # LR patch side; HR patch is patch_size * scale
    degradation: str = "BI"  # BI (MATLAB bicubic) or BD (Gaussian blur + subsample)
    future_frames: bool = True  # neighbours t-3..t+3 (paper) or past only
    boundary: str = "copy"  # neighbour outside the clip: "copy" the target (original) or "reflect"
    hflip: bool = True
    vflip: bool = True
    rot180: bool = True
    rot90: bool = False
    cache_dir: str = ".cache"  # flow cache and prepared datasets
    num_workers: int = 0
    flow: FlowConfig = field(default_factory=FlowConfig)

    def validate(self) -> None:
        _check(self.source in ("embedded", "vimeo90k", "folder", "video"), "data.source", self.source,
               "embedded, vimeo90k, folder or video")
        _check(self.scale in (2, 4, 8), "data.scale", self.scale, "2, 4 or 8")
        _check(self.nFrames >= 2, "data.nFrames", self.nFrames, ">= 2")
        _check(self.patch_size >= 8, "data.patch_size", self.patch_size, ">= 8")
        _check(self.degradation in ("BI", "BD"), "data.degradation", self.degradation, "BI or BD")
        _check(self.boundary in ("copy", "reflect"), "data.boundary", self.boundary, "copy or reflect")
        self.flow.validate()


@dataclass
class LossConfig:
    """The four-fold loss: which variant of each term and its weight (0 switches a term off)."""

    pixel: str = "mse"  # mse (paper, --APITLoss) or l1 (original default)
    perceptual: str = "vgg16"  # vgg16 features[:31] (code) or vgg19 (paper figure)
    adversarial: str = "mean"  # mean: -mean D(SR) (code); log: -log D(SR) (paper)
    tv: str = "sq"  # sq: squared differences (code); abs: absolute (paper)
    discriminator: str = "original"  # original: 1 - D(HR) + D(SR); bce
    imagenet_norm: bool = False  # the original feeds VGG un-normalised inputs
    weights: dict[str, float] = field(
        default_factory=lambda: {"pixel": 1.0, "perceptual": 6e-3, "adversarial": 1e-3, "tv": 2e-8})
    vgg_weights: str | None = None  # path to a torchvision-layout VGG state dict (else $ISEEBETTER_VGG_WEIGHTS/hub)
    allow_random_vgg: bool = False  # explicit opt-in to random VGG features when no weights exist

    def validate(self) -> None:
        _check(self.pixel in ("mse", "l1"), "loss.pixel", self.pixel, "mse or l1")
        _check(self.perceptual in ("vgg16", "vgg19"), "loss.perceptual", self.perceptual, "vgg16 or vgg19")
        _check(self.adversarial in ("mean", "log"), "loss.adversarial", self.adversarial, "mean or log")
        _check(self.tv in ("sq", "abs"), "loss.tv", self.tv, "sq or abs")
        _check(self.discriminator in ("original", "bce"), "loss.discriminator", self.discriminator,
               "original or bce")
        unknown = set(self.weights) - {"pixel", "perceptual", "adversarial", "tv"}
        _check(not unknown, "loss.weights", sorted(unknown), "keys among pixel, perceptual, adversarial, tv")


@dataclass
class TrainConfig:
    """Optimisation schedule: pixel-loss pre-training, then adversarial fine-tuning with the four-fold loss."""

    seed: int = 123
    batch_size: int = 2
    pretrain_steps: int = 0  # generator-only steps with the pixel loss
    gan_steps: int = 0  # steps of the four-fold loss with D/G alternation
    lr: float = 1e-4
    d_lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    lr_decay_at: float = 0.5  # generator lr / 10 at this fraction of each stage
    grad_clip: float = 0.0  # 0: off (the original does not clip)
    checkpoint_every: int = 0  # 0: only at the end
    log_every: int = 10
    out_dir: str = "runs/default"
    init_weights: str | None = None  # start G from these weights (checkpoint or generator file); not on resume
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "fp32"  # fp32 | bf16 | fp16 (autocast on CUDA)
    loss: LossConfig = field(default_factory=LossConfig)

    def validate(self) -> None:
        _check(self.batch_size >= 1, "train.batch_size", self.batch_size, ">= 1")
        _check(self.pretrain_steps >= 0 and self.gan_steps >= 0, "train.pretrain_steps/gan_steps",
               (self.pretrain_steps, self.gan_steps), ">= 0")
        _check(self.lr > 0 and self.d_lr > 0, "train.lr", self.lr, "> 0")
        _check(0.0 <= self.lr_decay_at <= 1.0, "train.lr_decay_at", self.lr_decay_at, "in [0, 1]")
        _check(self.device in ("auto", "cpu", "cuda"), "train.device", self.device, "auto, cpu or cuda")
        _check(self.precision in ("fp32", "bf16", "fp16"), "train.precision", self.precision, "fp32, bf16 or fp16")
        self.loss.validate()


@dataclass
class InferenceConfig:
    """How a trained generator is applied: flow parameters, window rule, precision, tile and device.

    Training saves it inside ``generator.pt`` (from the data configuration it trained with), so that evaluation and
    upscaling use the same flow and neighbours; an explicit argument overrides a saved value.
    """

    flow: FlowConfig = field(default_factory=FlowConfig)
    future_frames: bool = True  # neighbours t-3..t+3 (paper) or past only
    boundary: str = "copy"  # neighbour outside the clip: "copy" the target (original) or "reflect"
    precision: str = "fp32"  # fp32 | bf16 | fp16 (fp16 only on CUDA)
    tile: str | None = None  # None: whole frame; "auto": from the memory budget; "N": core tile side in LR px
    device: str = "auto"  # auto | cpu | cuda | cuda:N

    def validate(self) -> None:
        self.flow.validate()
        _check(self.boundary in ("copy", "reflect"), "inference.boundary", self.boundary, "copy or reflect")
        _check(self.precision in ("fp32", "bf16", "fp16"), "inference.precision", self.precision,
               "fp32, bf16 or fp16")
        _check(self.tile is None or self.tile == "auto" or str(self.tile).isdigit(), "inference.tile", self.tile,
               "None, 'auto' or a number of LR pixels")


@dataclass
class ExperimentConfig:
    """Everything one run needs: model, data and training configuration."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self) -> "ExperimentConfig":
        self.model.validate()
        self.data.validate()
        self.train.validate()
        _check(self.model.nFrames == self.data.nFrames, "data.nFrames", self.data.nFrames,
               f"equal to model.nFrames ({self.model.nFrames})")
        _check(self.model.scale_factor == self.data.scale, "data.scale", self.data.scale,
               f"equal to model.scale_factor ({self.model.scale_factor})")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def inference_config(self) -> InferenceConfig:
        """How the generator this run trains is meant to be applied (its data's flow and window rule)."""
        return InferenceConfig(flow=copy.deepcopy(self.data.flow), future_frames=self.data.future_frames,
                               boundary=self.data.boundary)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ExperimentConfig":
        """Build from a nested dict (as `to_dict` writes); unknown keys are errors."""
        from iseebetter_lib.config.overrides import apply_overrides, flatten

        return apply_overrides(cls(), flatten(values))

    def override(self, overrides: Mapping[str, Any]) -> "ExperimentConfig":
        """A copy with dotted-key overrides applied, e.g. ``{"train.lr": 4e-4}``."""
        from iseebetter_lib.config.overrides import apply_overrides

        return apply_overrides(copy.deepcopy(self), overrides)


def _check(ok: bool, name: str, value: Any, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{name}={value!r} is invalid: expected {expected}")
