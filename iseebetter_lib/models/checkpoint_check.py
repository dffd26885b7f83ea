"""Checks of a generator file before anything is built from it: a few-kB file must not make the process allocate
gigabytes, whether through its saved model configuration or through tensors that claim more data than they hold.

`check_archive` runs before `torch.load` (no compressed zip member, which could inflate far beyond the file);
`check_tensors_fit` runs after it and before the network is built: the network the configuration implies is built on
PyTorch's ``meta`` device (shapes without storage) and compared, name by name, with the file's tensors. Loading then
allocates the file's tensors and the model they describe, nothing more.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any, Mapping

import torch

from iseebetter_lib.config import ConfigError, ModelConfig
from iseebetter_lib.errors import UserError


def check_archive(path: Path) -> None:
    """Refuse a zip checkpoint with a compressed member before torch reads it: PyTorch writes its members stored,
    and a compressed one could inflate to far more memory than the file's size (a decompression bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            packed = next((i.filename for i in archive.infolist() if i.compress_type != zipfile.ZIP_STORED), None)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return  # not a zip (a legacy or raw pickle file): torch.load checks every size it reads against the file
    if packed is not None:
        raise UserError(f"{path}: not a plain tensor file (compressed member {packed}; PyTorch stores them as is)")


def _implied_tensors(cfg: ModelConfig, path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Every tensor of the generator `cfg` describes, built on PyTorch's ``meta`` device: shapes and dtypes without
    storage, so nothing is allocated however large the configuration asks it to be (and no random number drawn)."""
    from iseebetter_lib.models import build_generator

    try:
        with torch.device("meta"):
            model = build_generator(cfg)
    except (ConfigError, ValueError, TypeError) as exc:
        raise UserError(f"{path}: bad model configuration in checkpoint ({exc})") from None
    return dict(model.state_dict())


def implied_shapes(cfg: ModelConfig, path: str | os.PathLike) -> dict[str, torch.Size]:
    """Name -> shape of every tensor of the generator `cfg` describes (nothing allocated: see `_implied_tensors`)."""
    return {key: value.shape for key, value in _implied_tensors(cfg, path).items()}


def _shown_shape(shape: Any) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def _unbacked_tensor(sd: Mapping[str, Any]) -> str | None:
    """Why the tensors of `sd` claim more than the file holds (None when they do not): a ``meta`` or non-dense
    tensor, or shapes whose elements exceed the data actually loaded (a stride-0 expansion, views overlapping in one
    storage); such tensors would make a small file describe an enormous network."""
    held: dict[int, int] = {}
    claimed = 0
    for key, value in sd.items():
        if not torch.is_tensor(value):
            continue
        if value.device.type != "cpu" or value.layout != torch.strided:
            return f"{key}: not a dense tensor with its data ({value.layout}, {value.device.type})"
        storage = value.untyped_storage()
        held[storage.data_ptr()] = storage.nbytes()
        claimed += value.numel() * value.element_size()
    if claimed > sum(held.values()):
        return f"its tensors claim {claimed:,} bytes but hold {sum(held.values()):,} (expanded or overlapping views)"
    return None


def _first_misfit(sd: Mapping[str, Any], expected: Mapping[str, torch.Tensor]) -> str | None:
    """The first difference between the file's tensors and those of the network: a missing or unexpected key, a
    shape, or a kind of number (floating point or not)."""
    for key in expected:
        if key not in sd:
            return f"missing key {key}"
    for key in sd:
        if key not in expected:
            return f"unexpected key {key}"
    for key, want in expected.items():
        got = sd[key]
        if not torch.is_tensor(got):
            return f"{key}: {type(got).__name__} in the file, a tensor in its configuration"
        if got.shape != want.shape:
            return (f"{key}: shape {_shown_shape(got.shape)} in the file, "
                    f"{_shown_shape(want.shape)} in its configuration")
        if got.is_floating_point() != want.is_floating_point() or got.is_complex():
            return f"{key}: {got.dtype} in the file, {want.dtype} in its configuration"
    return None


def check_tensors_fit(sd: Mapping[str, Any], cfg: ModelConfig, path: str | os.PathLike) -> None:
    """A one-line `UserError` unless the tensors of `sd` are exactly those `cfg` implies (names, shapes, kind of
    number) and hold their data: checked before the model is built, so a small file whose configuration (or whose
    tensors' shapes) ask for an enormous network allocates nothing."""
    unbacked = _unbacked_tensor(sd)
    if unbacked:
        raise UserError(f"{path}: not a plain tensor file ({unbacked})")
    expected = _implied_tensors(cfg, path)
    problem = _first_misfit(sd, expected)
    if problem:
        implied = sum(t.numel() for t in expected.values())
        held = sum(t.numel() for t in sd.values() if torch.is_tensor(t))
        raise UserError(f"{path}: the weights do not match the model configuration ({problem}; the configuration "
                        f"implies {implied:,} parameters, the file holds {held:,})")
