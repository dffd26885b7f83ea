"""`iseebetter train`: build an `ExperimentConfig` from a preset, a file, --set overrides and flags, then train."""

from __future__ import annotations

import argparse
import os
from typing import Any

from iseebetter_lib.config.presets import PRESETS
from iseebetter_lib.config.schema import DEVICES, PRECISIONS, TRAINING_SOURCES
from iseebetter_lib.errors import UserError

DESCRIPTION = """\
Train the RBPN generator: pixel-loss pre-training, then adversarial fine-tuning with the four-fold loss
(MSE + VGG perceptual + adversarial + TV) against the SRGAN discriminator.

The configuration is built in this order, later wins: --preset, --config FILE, --set KEY=VALUE, then the flags
below. The default preset is `compact` (a small RBPN with a bicubic residual path that beats bicubic after a few
minutes on a laptop CPU); `full` is the paper's configuration (needs a GPU and Vimeo-90K).

Outputs in --out: checkpoints/step_XXXXXXX.pt (the newest train.keep_checkpoints of them, default 3; 0 keeps all)
and checkpoints/last.pt (everything needed to resume),
generator.pt (weights + model configuration, for `iseebetter upscale/evaluate --weights`), log.csv and
tensorboard/ scalars. Multi-GPU / multi-node: launch with torchrun, e.g.
  torchrun --nproc-per-node 4 -m iseebetter_lib train --preset full --data-root /data/vimeo_septuplet
(train.batch_size is the global batch; each process takes batch_size / world_size)."""

EPILOG = """\
examples:
  iseebetter train                                   compact preset, embedded sample clips, runs/compact
  iseebetter train --preset tiny --steps 20 --gan-steps 5 --out runs/try
  iseebetter train --preset full --data-root /data/vimeo_septuplet --device cuda --precision bf16
  iseebetter train --out runs/compact --resume       continue exactly where the last checkpoint stopped
  iseebetter train --set train.lr=2e-4 --set loss.weights.tv=0   (`loss.` is short for `train.loss.`)
  iseebetter train --preset reduced --precision bf16 --set train.compile=true
                                                     CPU bf16 steps under torch.compile (needs a C++ compiler)"""

# flag dest -> dotted configuration key
FLAG_KEYS = {
    "pretrain_steps": "train.pretrain_steps", "gan_steps": "train.gan_steps", "batch_size": "train.batch_size",
    "out": "train.out_dir", "seed": "train.seed", "device": "train.device", "precision": "train.precision",
    "lr": "train.lr", "checkpoint_every": "train.checkpoint_every", "log_every": "train.log_every",
    "data_root": "data.root", "data_source": "data.source", "patch_size": "data.patch_size",
    "num_workers": "data.num_workers", "vgg_weights": "train.loss.vgg_weights",
}


def register(subparsers: Any) -> None:
    """Add the `train` subcommand to the top-level parser's subparsers."""
    p = subparsers.add_parser("train", help="train a model (pre-training, then GAN fine-tuning)",
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("configuration")
    g.add_argument("--preset", default="compact", choices=tuple(PRESETS),
                   help="starting configuration (default: compact; laptop = the shipped model's; full = the paper's)")
    g.add_argument("--config", metavar="FILE", help="YAML or JSON file with (nested or dotted) configuration keys")
    g.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one configuration key, e.g. train.lr=2e-4 or model.nFrames=5 (repeatable)")
    s = p.add_argument_group("schedule")
    s.add_argument("--steps", "--pretrain-steps", dest="pretrain_steps", type=int, metavar="N",
                   help="generator-only steps with the pixel loss (train.pretrain_steps)")
    s.add_argument("--gan-steps", type=int, metavar="N", help="adversarial steps, four-fold loss (train.gan_steps)")
    s.add_argument("--batch-size", type=int, metavar="N", help="global batch size (train.batch_size)")
    s.add_argument("--lr", type=float, help="generator learning rate (train.lr); /10 at train.lr_decay_at")
    s.add_argument("--seed", type=int, help="seed of initialisation, sampling and augmentation (train.seed)")
    s.add_argument("--checkpoint-every", type=int, metavar="N", help="also checkpoint every N steps (0: end only)")
    s.add_argument("--log-every", type=int, metavar="N", help="one log.csv row per N steps (train.log_every)")
    d = p.add_argument_group("data")
    d.add_argument("--data-source", choices=tuple(TRAINING_SOURCES),
                   help="; ".join(f"{k}: {v.about}" for k, v in TRAINING_SOURCES.items()) + " (data.source)")
    d.add_argument("--data-root", metavar="DIR", help="dataset root for vimeo90k/folder/video (data.root)")
    d.add_argument("--patch-size", type=int, metavar="N", help="LR patch side; HR is N x scale (data.patch_size)")
    d.add_argument("--num-workers", type=int, metavar="N", help="DataLoader worker processes (data.num_workers)")
    d.add_argument("--vgg-weights", metavar="FILE",
                   help="torchvision VGG state dict for the perceptual loss (else $ISEEBETTER_VGG_WEIGHTS / hub)")
    d.add_argument("--allow-random-vgg", action="store_true", default=None,
                   help="accept random VGG features if no weights are found (perceptual term then means little)")
    r = p.add_argument_group("run")
    r.add_argument("--out", metavar="DIR", help="output folder (train.out_dir; default from the preset)")
    r.add_argument("--device", choices=DEVICES, help="auto: CUDA if available (train.device)")
    r.add_argument("--precision", choices=PRECISIONS,
                   help="autocast precision: fp32, bf16 or fp16 on CUDA (fp16 with a GradScaler); fp32 or bf16 on a CPU "
                        "(bf16 takes the channels_last fast path; fp16 there runs in fp32, with a warning)")
    mode = r.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.pt, exactly")
    mode.add_argument("--overwrite", action="store_true",
                      help="start afresh even though OUT already holds checkpoints (they are deleted)")
    r.add_argument("--max-steps", type=int, metavar="N", help="stop (with a checkpoint) after global step N")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def parse_set(items: list[str]) -> dict[str, str]:
    """``["a.b=1", ...]`` -> ``{"a.b": "1"}`` (the configuration expands ``loss.*`` to ``train.loss.*``)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. train.lr=2e-4")
        out[key] = value.strip()
    return out


def build_config(args: argparse.Namespace) -> Any:
    """The `ExperimentConfig` the arguments describe."""
    from iseebetter_lib.config import build

    overrides: dict[str, Any] = parse_set(args.overrides)
    for dest, key in FLAG_KEYS.items():
        value = getattr(args, dest, None)
        if value is not None:
            overrides[key] = value
    if args.allow_random_vgg:
        overrides["train.loss.allow_random_vgg"] = True
    return build(args.preset, args.config, overrides)


def run(args: argparse.Namespace) -> int:
    from iseebetter_lib.training import train

    if args.max_steps is not None and args.max_steps < 1:
        raise UserError(f"--max-steps {args.max_steps}: expected >= 1")
    cfg = build_config(args)
    result = train(cfg, resume=args.resume, progress=not args.no_progress, overwrite=args.overwrite,
                   max_steps=args.max_steps)
    if int(os.environ.get("RANK", "0") or 0) != 0:  # under torchrun, rank 0 reports
        return 0
    last = result.history[-1] if result.history else None
    summary = f"step {result.step}"
    if last is not None:
        summary += f", {last['stage']} loss {last['loss']:.5g}"
    print(f"trained: {summary}\ncheckpoint: {result.checkpoint}\ngenerator: {result.generator}\n"
          f"log: {result.log_csv}")
    return 0
