"""Neighbour order, boundary policies, scene cuts and flow-consistent augmentation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from iseebetter_lib.data import Augment, degrade, detect_cuts, imresize, neighbour_indices, read_video, shots
from iseebetter_lib.data.windows import neighbour_offsets
from iseebetter_lib.errors import UserError


def test_paper_order():
    assert neighbour_offsets(7) == [-3, -2, -1, 1, 2, 3]
    assert neighbour_offsets(3) == [-1, 1]
    assert neighbour_offsets(4) == [-2, -1, 1]
    assert neighbour_offsets(5, future=False) == [-1, -2, -3, -4]
    assert neighbour_indices(10, 20, 7) == [7, 8, 9, 11, 12, 13]
    assert neighbour_indices(10, 20, 4, future=False) == [9, 8, 7]


def test_boundaries():
    assert neighbour_indices(0, 10, 7, boundary="copy") == [0, 0, 0, 1, 2, 3]
    assert neighbour_indices(9, 10, 7, boundary="copy") == [6, 7, 8, 9, 9, 9]
    assert neighbour_indices(0, 10, 7, boundary="reflect") == [3, 2, 1, 1, 2, 3]
    assert neighbour_indices(9, 10, 7, boundary="reflect") == [6, 7, 8, 8, 7, 6]
    assert neighbour_indices(1, 3, 7, boundary="reflect") == [2, 1, 0, 2, 1, 0]
    assert neighbour_indices(0, 1, 3, boundary="reflect") == [0, 0]
    with pytest.raises(UserError):
        neighbour_indices(5, 5, 3)
    with pytest.raises(UserError):
        neighbour_indices(0, 5, 3, boundary="wrap")


def test_scene_cut_on_concatenated_videos(sample_videos):
    a = read_video(sample_videos["carphone_pristine"], max_frames=12)
    b = imresize(read_video(sample_videos["bikes"], max_frames=10)[:, :, 100:500], output_shape=(144, 176))
    frames = np.concatenate([a, b, a[:5]])
    cuts = detect_cuts(frames)
    assert cuts == [12, 22]
    assert shots(len(frames), cuts) == [(0, 12), (12, 22), (22, 27)]
    assert detect_cuts(a) == []


def _shift_pair(sample_videos):
    frame = read_video(sample_videos["bikes"], max_frames=1)[0]
    lr = degrade(frame[:, :544], 4)  # 68 x 136 LR
    a = lr[2:50, 10:58]
    b = lr[3:51, 8:56]  # a(x, y) = b(x + 2, y - 1): flow (u, v) = (2, -1)
    return a, b


@pytest.mark.parametrize("aug", [Augment(hflip=True), Augment(vflip=True), Augment(rot180=True), Augment(rot90=True),
                                 Augment(True, True, False, True), Augment(True, True, True, True)])
def test_augmented_flow_equals_flow_of_augmented(sample_videos, aug):
    from iseebetter_lib.flow import compute_flow

    a, b = _shift_pair(sample_videos)
    flow = compute_flow(a, b)
    m = 6  # ignore borders, where the solver has no data
    assert 1.5 < np.median(flow[0, m:-m, m:-m]) < 2.3 and -1.3 < np.median(flow[1, m:-m, m:-m]) < -0.5
    direct = compute_flow(aug.image(a), aug.image(b))
    moved = aug.flow(flow)
    naive = np.stack([aug.image(flow[c][..., None])[..., 0] for c in range(2)])  # field moved, signs kept
    epe = np.sqrt(((direct - moved) ** 2).sum(0))[m:-m, m:-m].mean()
    wrong = np.sqrt(((direct - naive) ** 2).sum(0))[m:-m, m:-m].mean()
    assert epe < 0.1, epe
    assert wrong > 1.0  # moving the field without fixing the components is visibly wrong


def test_augment_shapes_and_draw():
    rng = np.random.default_rng(0)
    draws = [Augment.draw(rng) for _ in range(400)]
    assert 150 < sum(d.hflip for d in draws) < 250 and not any(d.rot90 for d in draws)
    img = np.arange(2 * 4 * 6 * 3).reshape(2, 4, 6, 3)
    assert Augment(rot90=True).image(img).shape == (2, 6, 4, 3)
    assert Augment(rot90=True).flow(np.zeros((3, 2, 4, 6))).shape == (3, 2, 6, 4)
    np.testing.assert_array_equal(Augment(hflip=True).image(img)[:, :, 0], img[:, :, -1])


def _flow_aug_by_definition(aug: Augment, f: np.ndarray) -> np.ndarray:
    """The module docstring's rules, applied one transform at a time."""
    f = f.copy()
    if aug.hflip:
        f = np.flip(f, -1).copy()
        f[:, 0] = -f[:, 0]
    if aug.vflip:
        f = np.flip(f, -2).copy()
        f[:, 1] = -f[:, 1]
    if aug.rot180:
        f = -np.flip(f, (-2, -1))
    if aug.rot90:
        f = np.rot90(f, 1, axes=(-2, -1))
        f = np.stack([f[:, 1], -f[:, 0]], axis=1)
    return f


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=4)))
def test_flow_augmentation_follows_its_rules_for_every_combination(flags):
    aug = Augment(*flags)
    f = np.random.default_rng(sum(flags)).standard_normal((6, 2, 8, 10)).astype(np.float32)
    got = aug.flow(f)
    np.testing.assert_array_equal(got, _flow_aug_by_definition(aug, f))
    assert got.flags.c_contiguous and not np.shares_memory(got, f)
    img = np.arange(2 * 8 * 10 * 3, dtype=np.uint8).reshape(2, 8, 10, 3)
    np.testing.assert_array_equal(aug.view(img), aug.image(img))
