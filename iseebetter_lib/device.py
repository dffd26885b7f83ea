"""Which torch device a run uses (one rule for training, evaluation and upscaling), and the CPU allocator setting
the command line runs with."""

from __future__ import annotations

import os
import sys

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


def tune_cpu_allocator(device: str | torch.device = "cpu") -> bool:
    """For a run on `device` (as `--device` names it) that is the CPU: ask glibc to keep freed memory (no mmap for large blocks, no trimming), so that the model's large temporaries
    (an HR feature map of a 320x240 frame is 39 MB in bf16) stop costing page faults on every allocation: the compact
    model upscaling 320x240 runs about 3x faster (`benchmarks/model.py compact`). The price is a higher peak where
    temporaries of many sizes interleave (fp32 paper generator on a Vid4 frame: 2.2 -> 3.0 GB). Process-wide, so only
    the command line calls it; returns False where unavailable (not glibc) or disabled with
    ISEEBETTER_NO_MALLOC_TUNING=1, and for other devices."""
    if os.environ.get("ISEEBETTER_NO_MALLOC_TUNING") == "1" or not sys.platform.startswith("linux"):
        return False
    if resolve_device(device).type != "cpu":
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_max = -1, -4
        return bool(libc.mallopt(m_mmap_max, 0)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))
    except (OSError, AttributeError):
        return False
