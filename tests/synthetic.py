"""Small synthetic clips for tests: moving textures written as frame folders."""

from __future__ import annotations

import numpy as np
from PIL import Image


def moving_clip(n: int = 4, size: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth random texture moving 4 HR px (1 LR px) right per frame: (n, size, size, 3) uint8."""
    rng = np.random.default_rng(seed)
    big = np.kron(rng.integers(0, 256, (size // 8 + n + 2, size // 8 + n + 2, 3)), np.ones((8, 8, 1)))
    return np.stack([big[:size, 4 * t:4 * t + size] for t in range(n)]).astype(np.uint8)


def write_frames(folder, frames) -> None:
    folder.mkdir(parents=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{i:03d}.png")
