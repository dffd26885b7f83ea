"""Chapter 00: each loss term on a real crop (the VGG note the chapter shows first is `book.vgg_note`)."""

from __future__ import annotations

from typing import Any

from iseebetter_lib.book.samples import sample_frames


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
