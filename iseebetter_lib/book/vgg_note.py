"""The VGG features the perceptual loss will use, in one sentence (chapters 00, 03 and 04 show it before training)."""

from __future__ import annotations

from typing import Any

from iseebetter_lib.errors import UserError


def _tilde(text: str) -> str:
    """`text` with the home folder written as `~` (no absolute home path on a page)."""
    from pathlib import Path

    home = str(Path.home()).rstrip("/")
    return text.replace(home + "/", "~/") if home and home != "/" else text


def vgg_status(loss_cfg: Any) -> str:
    """One sentence on the VGG features the perceptual loss will use (real weights or the explicit random opt-in)."""
    import warnings

    from iseebetter_lib.vgg import RandomVGGWarning, load_vgg_features

    try:
        load_vgg_features(loss_cfg.perceptual, loss_cfg.vgg_weights, allow_random=False)
        return f"Perceptual loss: {loss_cfg.perceptual} with real ImageNet weights."
    except UserError as exc:
        if not loss_cfg.allow_random_vgg:
            raise
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            load_vgg_features(loss_cfg.perceptual, None, allow_random=True)
        # the chapter shows this statement: the losses built later in this kernel need not repeat it
        warnings.filterwarnings("ignore", category=RandomVGGWarning)
        return (f"**WARNING: no {loss_cfg.perceptual} ImageNet weights on this machine ({_tilde(str(exc))}). "
                "This profile explicitly opts into RANDOM VGG features (loss.allow_random_vgg=True): the perceptual term is a "
                "random-feature loss, not the paper's.**")
