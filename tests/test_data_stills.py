"""Panned still photographs: each frame is a whole-pixel window of the photograph, paths are deterministic, and
they join only the train split."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from PIL import Image

from iseebetter_lib.config import DataConfig
from iseebetter_lib.data import load_training_clips
from iseebetter_lib.data import stills
from iseebetter_lib.errors import UserError


def _offset(image: np.ndarray, window: np.ndarray) -> tuple[int, int]:
    """The (y, x) where `window` sits in `image` (exhaustive search over the few candidates)."""
    h, w = window.shape[:2]
    for y in range(image.shape[0] - h + 1):
        for x in range(image.shape[1] - w + 1):
            if np.array_equal(image[y:y + h, x:x + w], window):
                return y, x
    raise AssertionError("window not found in the image")


def test_pan_moves_a_window_by_whole_pixels_along_a_bounded_path():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (120, 150, 3), dtype=np.uint8)
    frames = stills.pan(image, 12, np.random.default_rng(5))
    assert frames.shape[0] == 12 and frames.shape[1] % 8 == 0 and frames.shape[2] % 8 == 0
    assert frames.shape[1] >= 120 - 12 * stills.MAX_SPEED - 2 and frames.shape[2] >= 150 - 12 * stills.MAX_SPEED - 2
    offsets = np.array([_offset(image, f) for f in frames])
    step = np.abs(np.diff(offsets, axis=0)).max()
    assert 0 < step <= np.ceil(stills.MAX_SPEED + 2 * stills.JITTER)
    assert (offsets.min(axis=0) == 0).all()  # the path starts at the image's edge: no pixels wasted


def test_still_clips_are_deterministic_at_two_densities_and_large_enough():
    a = stills.still_clips(seed=0, names=("text", "grace_hopper"))
    b = stills.still_clips(seed=0, names=("text", "grace_hopper"))
    c = stills.still_clips(seed=1, names=("text", "grace_hopper"))
    ids = [i for i, _ in a]
    assert ids == ["still_text", "still_grace_hopper", "still_grace_hopper_x0.5"]  # half-size text: too small
    for (ia, fa), (ib, fb) in zip(a, b):
        assert ia == ib and np.array_equal(fa, fb)
        assert fa.dtype == np.uint8 and fa.shape[0] == stills.FRAMES and min(fa.shape[1:3]) >= stills.MIN_SIDE
    assert any(not np.array_equal(fa, fc) for (_, fa), (_, fc) in zip(a, c))
    grey = dict(a)["still_text"]
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])


def test_every_listed_photograph_is_shipped():
    for name in stills.STILLS:
        assert stills.read_still(name).ndim == 3


def test_stills_join_the_train_split_only(tmp_path):
    root = tmp_path / "clips"
    for split in ("train", "val"):
        (root / split / "a").mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((64, 64, 3), 40 * i, np.uint8)).save(root / split / "a" / f"{i}.png")
    cfg = DataConfig(source="folder", root=str(root), stills=True)
    train = [c.id for c in load_training_clips(cfg, "train")]
    assert train[0] == "a" and "still_astronaut" in train and "still_astronaut_x0.5" in train
    assert [c.id for c in load_training_clips(cfg, "val")] == ["a"]
    assert [c.id for c in load_training_clips(DataConfig(source="folder", root=str(root)), "train")] == ["a"]


def test_bad_still_requests_name_the_problem(monkeypatch):
    with pytest.raises(UserError, match="not one of the still photographs"):
        stills.still_path("lena")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UserError, match="skimage is not installed"):
        stills.still_path("astronaut")
    with pytest.raises(UserError, match="data.stills: panned stills can be added"):
        load_training_clips(DataConfig(source="vimeo90k", root="/nonexistent", stills=True), "train")
