"""Configuration objects, one per concern, shared by the notebooks, the CLI and the tests.

`ModelConfig`, `FlowConfig`, `DataConfig`, `LossConfig` and `TrainConfig` are plain dataclasses grouped in an
`ExperimentConfig`. Named presets (`tiny`, `compact`, `reduced`, `full`) give ready configurations; `full` holds the
paper's values. Overrides use dotted keys (``"train.lr"``, ``"model.base_filter"``) so that papermill parameters, CLI
flags and YAML/JSON files all map onto the same objects. This module imports only `iseebetter_lib.errors`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
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

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ExperimentConfig":
        """Build from a nested dict (as `to_dict` writes); unknown keys are errors."""
        cfg = cls()
        return apply_overrides(cfg, flatten(values))

    def override(self, overrides: Mapping[str, Any]) -> "ExperimentConfig":
        """A copy with dotted-key overrides applied, e.g. ``{"train.lr": 4e-4}``."""
        return apply_overrides(copy.deepcopy(self), overrides)


def _check(ok: bool, name: str, value: Any, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{name}={value!r} is invalid: expected {expected}")


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dict -> dotted keys; `loss.weights` stays one value (a dict)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and not dotted.endswith("weights"):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def apply_overrides(cfg: ExperimentConfig, overrides: Mapping[str, Any]) -> ExperimentConfig:
    """Set dotted keys in place (``train.loss.weights.tv`` sets one weight) and validate; returns `cfg`."""
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        target: Any = cfg
        for i, part in enumerate(parts[:-1]):
            if isinstance(target, dict):
                break
            if not dataclasses.is_dataclass(target) or not hasattr(target, part):
                raise ConfigError(f"unknown configuration key {dotted!r}")
            target = getattr(target, part)
        last = parts[-1]
        if isinstance(target, dict):
            if last not in ("pixel", "perceptual", "adversarial", "tv"):
                raise ConfigError(f"unknown configuration key {dotted!r}")
            target[last] = float(value)
            continue
        fields = {f.name: f for f in dataclasses.fields(target)}
        if last not in fields:
            raise ConfigError(f"unknown configuration key {dotted!r}")
        setattr(target, last, _coerce(dotted, getattr(target, last), value))
    return cfg.validate()


def _coerce(name: str, current: Any, value: Any) -> Any:
    """Convert `value` to the type of the current setting (strings from CLI flags, lists from JSON)."""
    if dataclasses.is_dataclass(current):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name} expects a mapping, got {value!r}")
        return apply_nested(copy.deepcopy(current), value, name)
    try:
        if isinstance(current, bool):
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return lowered in ("true", "1", "yes")
            return bool(value)
        if isinstance(current, int) and not isinstance(current, bool):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if isinstance(current, float):
            return float(value)
        if isinstance(current, tuple):
            if isinstance(value, str):
                value = [float(v) for v in value.strip("()[] ").split(",")]
            return tuple(float(v) for v in value)
        if isinstance(current, dict):
            if isinstance(value, str):
                value = json.loads(value)
            return {str(k): float(v) for k, v in dict(value).items()}
    except (TypeError, ValueError, json.JSONDecodeError):
        raise ConfigError(f"{name}={value!r} is invalid: expected a {type(current).__name__}") from None
    if value is None or current is None or isinstance(current, str):
        return None if value is None else str(value)
    return value


def apply_nested(obj: Any, values: Mapping[str, Any], prefix: str) -> Any:
    for key, value in values.items():
        if not hasattr(obj, key):
            raise ConfigError(f"unknown configuration key {prefix}.{key!r}")
        setattr(obj, key, _coerce(f"{prefix}.{key}", getattr(obj, key), value))
    return obj


def _preset_full() -> ExperimentConfig:
    """The paper: RBPN 256/64/3/5, 7 frames, 4x, Vimeo-90K patches 64, batch 2, Adam 1e-4, four-fold loss."""
    cfg = ExperimentConfig()
    cfg.data.source = "vimeo90k"
    cfg.train.pretrain_steps = 200_000
    cfg.train.gan_steps = 200_000
    cfg.train.checkpoint_every = 5_000
    cfg.train.log_every = 100
    cfg.train.loss = LossConfig(pixel="mse", perceptual="vgg19", adversarial="log", tv="abs")
    return cfg


def _preset_compact() -> ExperimentConfig:
    """A CPU configuration that learns something in minutes: small RBPN with a bicubic residual path."""
    cfg = ExperimentConfig(
        model=ModelConfig(base_filter=32, feat=16, num_stages=2, n_resblock=1, nFrames=3, residual=True,
                          output_init_scale=0.1),
        data=DataConfig(nFrames=3, patch_size=32),
        # Tuned by training on the embedded clips (Vid4 Y-PSNR gain over torch bicubic): 300 pre-training steps at
        # lr 4e-4 +0.22 dB, 1e-3 +0.36..+0.54 dB (two sample orders), 2e-3 +0.47 dB; 400 steps at 1e-3 +0.53 dB
        # (3.5 min wall on one loaded CPU core).
        train=TrainConfig(batch_size=4, pretrain_steps=400, gan_steps=20, lr=1e-3, d_lr=1e-4, log_every=10,
                          out_dir="runs/compact",
                          loss=LossConfig(pixel="l1", allow_random_vgg=True)),
    )
    return cfg


def _preset_tiny() -> ExperimentConfig:
    """The smallest thing that runs every code path: for tests."""
    cfg = ExperimentConfig(
        model=ModelConfig(base_filter=16, feat=8, num_stages=1, n_resblock=1, nFrames=3, residual=True,
                          output_init_scale=0.1),
        data=DataConfig(nFrames=3, patch_size=16),
        train=TrainConfig(batch_size=2, pretrain_steps=2, gan_steps=2, log_every=1, out_dir="runs/tiny",
                          loss=LossConfig(allow_random_vgg=True)),
    )
    return cfg


def _preset_reduced() -> ExperimentConfig:
    """The notes' reduced configuration (1.49 M parameters, 5 frames): a longer CPU run."""
    cfg = ExperimentConfig(
        model=ModelConfig(base_filter=64, feat=32, num_stages=3, n_resblock=2, nFrames=5, residual=True,
                          output_init_scale=0.1),
        data=DataConfig(nFrames=5, patch_size=32),
        train=TrainConfig(batch_size=4, pretrain_steps=2000, gan_steps=200, lr=4e-4, out_dir="runs/reduced",
                          loss=LossConfig(pixel="l1", allow_random_vgg=True)),
    )
    return cfg


PRESETS = {"tiny": _preset_tiny, "compact": _preset_compact, "reduced": _preset_reduced, "full": _preset_full}


def preset(name: str) -> ExperimentConfig:
    """A fresh copy of a named preset."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}: expected one of {', '.join(PRESETS)}")
    return PRESETS[name]().validate()


def load_config(path: str | Path | None = None, preset_name: str = "full",
                overrides: Mapping[str, Any] | None = None) -> ExperimentConfig:
    """Preset, then a YAML/JSON file (nested or dotted keys), then overrides: the order CLI flags apply in."""
    cfg = preset(preset_name)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: configuration file not found")
        text = path.read_text()
        try:
            if path.suffix.lower() in (".yml", ".yaml"):
                import yaml

                values = yaml.safe_load(text) or {}
            else:
                values = json.loads(text)
        except Exception as exc:  # noqa: BLE001 - any parse error becomes one line
            raise ConfigError(f"{path}: cannot parse configuration ({str(exc).splitlines()[0]})") from None
        if not isinstance(values, Mapping):
            raise ConfigError(f"{path}: expected a mapping at the top level")
        apply_overrides(cfg, flatten(values))
    if overrides:
        apply_overrides(cfg, overrides)
    return cfg
