"""Training state beside the weights: RNG states that load with weights_only=True, and atomic links of checkpoints."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from iseebetter_lib.io import atomic_path

CHECKPOINT_FORMAT = "iseebetter-checkpoint"


def rng_state(device: torch.device) -> dict[str, Any]:
    """Torch, CUDA, NumPy and Python RNG states as tensors and plain data (loadable with weights_only=True)."""
    np_state = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
             "python_version": random.getstate()[0],
             "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                       "has_gauss": int(np_state[3]), "gauss": float(np_state[4])}}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` saved (tensors may have been mapped to a GPU on load)."""
    torch.set_rng_state(state["torch"].cpu())
    random.setstate((state["python_version"], tuple(state["python"]), None))
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].cpu().numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def link_or_copy(src: Path, dst: Path) -> None:
    """`dst` becomes the same content as `src`, atomically (a hard link when the file system allows)."""
    with atomic_path(dst) as tmp:
        tmp.unlink()
        try:
            tmp.hardlink_to(src)
        except OSError:
            shutil.copyfile(src, tmp)
