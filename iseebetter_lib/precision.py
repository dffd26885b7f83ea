"""Numeric precision of a forward pass: the one autocast rule for training, evaluation and upscaling."""

from __future__ import annotations

import contextlib

import torch

from iseebetter_lib.config.schema import PRECISIONS
from iseebetter_lib.errors import UserError

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def check_precision(precision: str, device: torch.device, option: str = "--precision") -> str:
    """fp32 anywhere; bf16 on CUDA or CPU; fp16 only on CUDA. Anything else is a `UserError` naming `option`."""
    if precision not in PRECISIONS:
        raise UserError(f"{option}: unknown precision {precision!r} (expected {', '.join(PRECISIONS)})")
    if precision == "fp16" and device.type != "cuda":
        raise UserError(f"{option}: fp16 needs CUDA (use fp32 or bf16 on CPU)")
    return precision


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The autocast dtype of `precision` (None for fp32)."""
    return AUTOCAST_DTYPES.get(precision)


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """`torch.autocast` for bf16/fp16 on `device`; a no-op for fp32."""
    dtype = autocast_dtype(precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
