"""Named presets (`tiny`, `compact`, `laptop`, `reduced`, `full` = the paper) and `build`, the one way the CLI, the
book and the notebooks make a configuration: preset, then a file, then dotted overrides, the order CLI flags apply
in."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Mapping

from iseebetter_lib.config.overrides import apply_overrides, flatten
from iseebetter_lib.config.schema import ConfigError, DataConfig, ExperimentConfig, LossConfig, ModelConfig, TrainConfig
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import read_text

VIMEO_TRAIN_SEPTUPLETS = 64_612  # lines of Vimeo-90K's sep_trainlist.txt
FULL_EPOCHS = 4  # iSeeBetter's fine-tuning length
RBPN_4X = "RBPN_4x.pth"  # the RBPN authors' published generator, found in the data home's weights/ at training time


def _preset_full() -> ExperimentConfig:
    """The paper's training: fine-tune the RBPN authors' published RBPN_4x.pth (RBPN 256/64/3/5, 7 frames, 4x)
    against an SRGAN discriminator trained from scratch, with the four-fold loss, for 4 epochs of Vimeo-90K's training
    list (64,612 septuplets, batch 2 -> 129,224 steps), LR patch 64, Adam 1e-4, generator lr / 10 at half.

    The loss is the original code's (--APITLoss): MSE + 6e-3 VGG-16 features[:31] + 1e-3 (-mean D(SR)) + 2e-8
    squared TV. The paper's variants: ``train.loss.perceptual=vgg19``, ``train.loss.adversarial=log``,
    ``train.loss.tv=abs``. The starting weights are found in the data home's weights/ at training time; training
    from scratch instead: ``train.init_weights=null`` and pixel pre-training, e.g. ``train.pretrain_steps=200000``.
    """
    cfg = ExperimentConfig()
    cfg.data.source = "vimeo90k"
    cfg.train.init_weights = RBPN_4X
    cfg.train.pretrain_steps = 0
    cfg.train.gan_steps = FULL_EPOCHS * VIMEO_TRAIN_SEPTUPLETS // cfg.train.batch_size
    cfg.train.checkpoint_every = VIMEO_TRAIN_SEPTUPLETS // cfg.train.batch_size  # one per epoch
    cfg.train.log_every = 100
    cfg.train.loss = LossConfig()  # the code's variants and weights
    return cfg


def _preset_compact() -> ExperimentConfig:
    """A CPU configuration that learns something in minutes: small RBPN with a bicubic residual path (its lr was
    chosen by measurement: README, "The laptop profile")."""
    cfg = ExperimentConfig(
        model=ModelConfig(base_filter=32, feat=16, num_stages=2, n_resblock=1, nFrames=3, residual=True,
                          output_init_scale=0.1),
        data=DataConfig(nFrames=3, patch_size=32),
        train=TrainConfig(batch_size=4, pretrain_steps=400, gan_steps=20, lr=1e-3, d_lr=1e-4, log_every=10,
                          out_dir="runs/compact",
                          loss=LossConfig(pixel="l1", allow_random_vgg=True)),
    )
    return cfg


def _preset_laptop() -> ExperimentConfig:
    """The `laptop` profile's model: the compact network trained 4,800 bf16 steps on the sample-video clips plus the
    panned still photographs (`data.stills`; about 12 minutes on 2 cores); the lr drops tenfold at 80% of the run.
    Chosen by measurement: the README's "The laptop profile" has the runs and their Vid4 scores."""
    cfg = _preset_compact()
    cfg.data.stills = True
    cfg.train.pretrain_steps = 4800
    cfg.train.gan_steps = 0
    cfg.train.lr_decay_at = 0.8
    cfg.train.precision = "bf16"
    cfg.train.log_every = 50
    cfg.train.checkpoint_every = 600
    cfg.train.out_dir = "runs/laptop"
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


PRESETS = {"tiny": _preset_tiny, "compact": _preset_compact, "laptop": _preset_laptop, "reduced": _preset_reduced,
           "full": _preset_full}


def _preset_config(name: str) -> ExperimentConfig:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}: expected one of {', '.join(PRESETS)}")
    return PRESETS[name]()


def build(preset_name: str | None = "full", file: str | Path | None = None,
          overrides: Mapping[str, Any] | None = None) -> ExperimentConfig:
    """The one way to build a configuration: the preset (None: the schema's defaults), then a YAML/JSON file (nested
    or dotted keys), then overrides (dotted keys, ``loss.`` short for ``train.loss.``, or nested sections as
    `ExperimentConfig.to_dict` writes them), each later source winning; validated before it is returned."""
    cfg = ExperimentConfig() if preset_name is None else _preset_config(preset_name)
    if file is not None:
        apply_overrides(cfg, flatten(read_config_file(Path(file))))
    if overrides:
        apply_overrides(cfg, overrides)
    return cfg.validate()


def preset(name: str) -> ExperimentConfig:
    """A fresh copy of a named preset: ``build(name)``."""
    return build(name)


def read_config_file(path: Path) -> Mapping[str, Any]:
    """The mapping a YAML or JSON configuration file (UTF-8) holds; a missing, unreadable or malformed file is a
    `ConfigError`."""
    try:
        text = read_text(path, "configuration file")
    except UserError as exc:
        raise ConfigError(str(exc)) from None
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
    return values


def load_config(path: str | Path | None = None, preset_name: str = "full",
                overrides: Mapping[str, Any] | None = None) -> ExperimentConfig:
    """Deprecated: ``build(preset_name, path, overrides)``, which it calls."""
    warnings.warn("iseebetter_lib.config.load_config is deprecated: use iseebetter_lib.config.build(preset_name, "
                  "file, overrides)", DeprecationWarning, stacklevel=2)
    return build(preset_name, path, overrides)
