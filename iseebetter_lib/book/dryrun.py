"""Fixtures of `iseebetter book run --profile full --dry-run`: the full profile's inputs at the smallest sizes.

Built once into ``_build/<profile>-dry/fixtures`` (a data home, see `iseebetter_lib.data.home`):

- ``weights/RBPN_4x.pth`` and ``weights/netG_epoch_4_1.pth``: random paper-configuration generators saved as the
  originals are (a `DataParallel` state dict, every key ``module.``-prefixed), so the real loading path runs;
- ``torch/hub/checkpoints/vgg16-397923af.pth`` and ``vgg19-dcbb9e9d.pth``: random VGG features in torchvision's key
  layout, found through torch hub's cache (``TORCH_HOME``) as the real weights are;
- ``vimeo_septuplet/``: ``sequences/00001/000N/im1..im7.png`` (448x256 crops of a sample video) with
  ``sep_trainlist.txt`` and ``sep_testlist.txt``;
- ``vid4/<clip>/``: the first frames of each Vid4 clip, cropped to a small centre region.

`fixture_env` gives the kernels' environment that points the library at them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from iseebetter_lib.errors import UserError
from iseebetter_lib.data.published import ISEEBETTER_4X, RBPN_4X

VERSION = 3  # bump when the fixtures change
VID4_FRAMES = 2
VID4_CROP = 96  # HR side (LR 24): paper-configuration inference costs a few seconds per frame on one CPU core
SEPTUPLET_STARTS = (0, 40, 80)  # first frames of the sample-video septuplets
SEPTUPLET_SIZE = (256, 448)  # Vimeo-90K's (height, width)


def fixture_env(fixtures: Path) -> dict[str, str]:
    """Environment of the dry run's kernels: data home, Vid4 and torch hub point into `fixtures`."""
    return {"ISEEBETTER_DATA": str(fixtures), "ISEEBETTER_VID4": str(fixtures / "vid4"),
            "TORCH_HOME": str(fixtures / "torch")}


def _save_state(path: Path, state: dict) -> None:
    import torch

    from iseebetter_lib.io import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, overwrite=True) as tmp:
        torch.save(state, tmp)


def _random_generators(weights: Path) -> None:
    import torch

    from iseebetter_lib.config import ModelConfig
    from iseebetter_lib.models import build_generator

    for seed, name in ((1, RBPN_4X), (2, ISEEBETTER_4X)):
        torch.manual_seed(seed)
        generator = build_generator(ModelConfig()).eval()  # the paper's configuration
        _calibrate(generator)
        _save_state(weights / name, {f"module.{k}": v for k, v in generator.state_dict().items()})


def _calibrate(generator: "torch.nn.Module") -> None:
    """Rescale every conv/deconv so that its output has unit spread on a random window the first time it runs, and
    the final output an image-like spread (one forward pass, LSUV-style). A Kaiming-initialised RBPN of the paper's
    depth outputs values ~1e9; a trained one stays near the image range, and so must the stand-in for the dry run's
    losses, metrics and optimiser steps to stay finite."""
    import torch
    from torch import nn

    seen: set[int] = set()

    def rescale(module: nn.Module, _inputs: tuple, out: torch.Tensor) -> torch.Tensor:
        if id(module) in seen:
            return out
        seen.add(id(module))
        target = 0.25 if module is generator.output.conv else 1.0
        factor = target / max(float(out.std()), 1e-12)
        module.weight.mul_(factor)
        if module.bias is not None:
            module.bias.mul_(factor)
        return out * factor

    hooks = [m.register_forward_hook(rescale) for m in generator.modules()
             if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    g = torch.Generator().manual_seed(0)
    n = generator.nFrames
    try:
        with torch.no_grad():
            generator(torch.rand(1, 3, 8, 8, generator=g), torch.rand(1, n - 1, 3, 8, 8, generator=g),
                      torch.randn(1, n - 1, 2, 8, 8, generator=g))
    finally:
        for hook in hooks:
            hook.remove()


def _random_vgg(hub: Path) -> None:
    import torch

    from iseebetter_lib.vgg import HUB_FILES, VGGFeatures

    for kind, filename in HUB_FILES.items():
        torch.manual_seed(3)
        _save_state(hub / "checkpoints" / filename, VGGFeatures(kind).state_dict())  # keys features.N.*


def _vimeo(root: Path) -> None:
    from PIL import Image

    from iseebetter_lib.book.samples import sample_frames

    h, w = SEPTUPLET_SIZE
    names = []
    for i, start in enumerate(SEPTUPLET_STARTS, 1):
        frames = sample_frames("bikes", 7, start=start)
        y, x = (frames.shape[1] - h) // 2, (frames.shape[2] - w) // 2
        folder = root / "sequences" / "00001" / f"{i:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        for t, frame in enumerate(frames, 1):
            Image.fromarray(np.ascontiguousarray(frame[y:y + h, x:x + w])).save(folder / f"im{t}.png")
        names.append(f"00001/{i:04d}")
    (root / "sep_trainlist.txt").write_text("\n".join(names[:-1]) + "\n")
    (root / "sep_testlist.txt").write_text(names[-1] + "\n")


def _vid4(source: Path, target: Path) -> None:
    from PIL import Image

    from iseebetter_lib.data import list_clip_folders, list_frame_files

    for folder in list_clip_folders(source):
        out = target / folder.name
        out.mkdir(parents=True, exist_ok=True)
        for path in list_frame_files(folder)[:VID4_FRAMES]:
            img = np.asarray(Image.open(path).convert("RGB"))
            y, x = (img.shape[0] - VID4_CROP) // 2, (img.shape[1] - VID4_CROP) // 2
            Image.fromarray(np.ascontiguousarray(img[y:y + VID4_CROP, x:x + VID4_CROP])).save(out / f"{path.stem}.png")


def prepare_fixtures(fixtures: str | Path, vid4_source: str | Path | None = None) -> Path:
    """Build the fixtures (once: a stamp records the version); returns their folder. `vid4_source`: Vid4 ground
    truth to crop (default: the library's Vid4 location)."""
    fixtures = Path(fixtures)
    stamp = fixtures / "fixtures.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("version") == VERSION:
        return fixtures
    if vid4_source is None:
        from iseebetter_lib.data import vid4_root

        vid4_source = vid4_root()
    if not Path(vid4_source).is_dir():
        raise UserError(f"{vid4_source}: Vid4 ground truth not found (the dry run crops its frames)")
    _random_generators(fixtures / "weights")
    _random_vgg(fixtures / "torch" / "hub")
    _vimeo(fixtures / "vimeo_septuplet")
    _vid4(Path(vid4_source), fixtures / "vid4")
    stamp.write_text(json.dumps({"version": VERSION}) + "\n")
    return fixtures
