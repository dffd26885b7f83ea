"""Chapter 00: each loss term on a real crop (the VGG note the chapter shows first is `book.vgg_note`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iseebetter_lib.book.samples import sample_frames
from iseebetter_lib.errors import UserError

# how each loss variant is computed (the formulas of `losses.py`), and the paper's choice for each term
TERM_FORMULAS = {
    "pixel": {"mse": "MSE(SR, HR)", "l1": "L1(SR, HR)"},
    "perceptual": {"vgg16": "MSE of VGG-16 features[:31] (to the last max-pool)",
                   "vgg19": "MSE of VGG-19 features to relu5_4"},
    "adversarial": {"mean": "-mean D(SR)", "log": "-mean log D(SR)"},
    "tv": {"sq": "2 (mean dy² + mean dx²)", "abs": "mean |dy| + mean |dx|"},
    "discriminator": {"original": "1 - mean D(HR) + mean D(SR)", "bce": "-mean log D(HR) - mean log(1 - D(SR))"},
}
PAPER_LOSS = {"pixel": "mse", "perceptual": "vgg19", "adversarial": "log", "tv": "abs"}


def loss_variant_rows(preset_names: list[str]) -> list[dict[str, Any]]:
    """Per loss term, the paper's formula and what each named preset computes, with its weight."""
    from iseebetter_lib.config import preset

    losses = {name: preset(name).train.loss for name in preset_names}
    rows = []
    for term, formulas in TERM_FORMULAS.items():
        row: dict[str, Any] = {"term": term,
                               "paper (figure)": formulas.get(PAPER_LOSS.get(term, ""), "not stated")}
        for name, loss in losses.items():
            weight = getattr(loss.weights, term, None)
            row[name] = formulas[getattr(loss, term)] + ("" if weight is None else f", weight {weight:g}")
        rows.append(row)
    return rows


def deviations(preset_name: str) -> str:
    """One sentence naming where a preset's loss differs from the paper's figure."""
    from iseebetter_lib.config import preset

    loss = preset(preset_name).train.loss
    diffs = [f"{term}: {TERM_FORMULAS[term][getattr(loss, term)]} instead of {TERM_FORMULAS[term][paper]}"
             for term, paper in PAPER_LOSS.items() if getattr(loss, term) != paper]
    if not diffs:
        return f"The `{preset_name}` preset computes every term as the paper's figure states."
    return (f"The `{preset_name}` preset departs from the paper's figure in {len(diffs)} term(s) -- "
            + "; ".join(diffs) + ".")


def loss_terms_demo(loss_cfg: Any, seed: int = 0, size: int = 96) -> list[dict[str, Any]]:
    """Each weighted loss term for a bicubic x4 reconstruction of a real crop vs its ground truth (and for GT itself).

    The adversarial term uses an untrained SRGAN discriminator: it only shows the scale of the term."""
    import torch
    import torch.nn.functional as F

    from iseebetter_lib.data import imresize
    from iseebetter_lib.losses import GeneratorLoss
    from iseebetter_lib.models import Discriminator

    torch.manual_seed(seed)
    hr = sample_frames("bikes", 1, start=10, crop=(60, 200, size, size))[0]
    lr = imresize(hr, 0.25)
    to_t = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255  # noqa: E731
    hr_t = to_t(hr)
    bic = F.interpolate(to_t(lr), scale_factor=4, mode="bicubic", align_corners=False).clamp(0, 1)
    loss_fn = GeneratorLoss(loss_cfg)
    disc = Discriminator().eval()
    rows = []
    for name, sr in (("bicubic x4", bic), ("ground truth", hr_t)):
        with torch.no_grad():
            total, terms = loss_fn(sr, hr_t, disc(sr).flatten())
        rows.append({"input": name, **{k: float(v) for k, v in terms.items()}, "total": float(total)})
    return rows
