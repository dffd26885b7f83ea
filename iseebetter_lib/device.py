"""Which torch device a run uses: one rule for training, evaluation and upscaling."""

from __future__ import annotations

import torch

from iseebetter_lib.errors import UserError


def resolve_device(device: str | torch.device, option: str = "--device") -> torch.device:
    """"auto" -> CUDA when available, else CPU; "cuda"/"cuda:N" without such a GPU is a `UserError` naming `option`."""
    if isinstance(device, torch.device):
        return device
    name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UserError(f"{option}: {device!r} requested but CUDA is not available (use cpu or auto)")
        try:
            dev = torch.device(name)
        except RuntimeError:
            raise UserError(f"{option}: {device!r} is not a valid device") from None
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise UserError(f"{option}: {device!r}: only {torch.cuda.device_count()} CUDA device(s)")
        return dev
    raise UserError(f"{option}: unknown device {device!r} (expected auto, cpu or cuda)")
