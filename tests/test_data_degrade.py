"""MATLAB-exact bicubic imresize and the BI/BD degradations, checked against the literature and reference frames."""

from __future__ import annotations

import numpy as np
import pytest

from iseebetter_lib.data import degrade, imresize, modcrop
from iseebetter_lib.data.degrade import gaussian_kernel_1d
from iseebetter_lib.data.imresize import contributions, cubic
from iseebetter_lib.data.readers import read_frame_folder
from iseebetter_lib.errors import UserError


def _y(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64) / 255.0
    return 16.0 + 65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


@pytest.mark.parametrize("n_in,n_out,scale", [(720, 180, 0.25), (180, 720, 4.0), (37, 11, 11 / 37), (5, 13, 13 / 5)])
def test_weights_sum_to_one_and_indices_in_range(n_in, n_out, scale):
    w, idx = contributions(n_in, n_out, scale)
    assert w.shape[0] == n_out
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    assert idx.min() >= 0 and idx.max() < n_in


def test_kernel_values():
    assert cubic(np.array([0.0]))[0] == 1.0
    np.testing.assert_allclose(cubic(np.array([1.0, 2.0, -1.0, 2.5])), 0.0)
    np.testing.assert_allclose(cubic(np.array([0.5])), 0.5625)  # a = -0.5


def test_downscale_weights_are_matlab_antialiased():
    # MATLAB imresize 1/4: kernel width 16, output pixel 1 centred at input coordinate 2.5 (1-based)
    w, idx = contributions(64, 16, 0.25)
    assert w.shape[1] == 16  # 18 taps, the two outermost have zero weight and are dropped as MATLAB does
    np.testing.assert_allclose(w[5], w[5][::-1], atol=1e-15)  # symmetric about u = 22.5 (1-based)
    assert list(idx[5, 7:9]) == [21, 22]  # 0-based pixels either side of the centre
    np.testing.assert_array_equal(idx[0, :6], [5, 4, 3, 2, 1, 0])  # symmetric padding at the border


@pytest.mark.parametrize("shape,scale,expected", [((10, 14, 3), 0.25, (3, 4, 3)), ((7, 9), 2.0, (14, 18)),
                                                  ((2, 30, 20, 3), 0.5, (2, 15, 10, 3)),
                                                  ((16, 16, 3), 0.3, (5, 5, 3))])
def test_output_sizes(shape, scale, expected):
    assert imresize(np.zeros(shape, np.uint8), scale).shape == expected


def test_output_shape_argument_and_float():
    img = np.random.default_rng(0).random((20, 30, 3))
    out = imresize(img, output_shape=(7, 11))
    assert out.shape == (7, 11, 3) and out.dtype == np.float64
    assert imresize(img, output_shape=(10, None)).shape == (10, 15, 3)


@pytest.mark.parametrize("value", [0, 1, 117, 255])
def test_constant_stays_constant(value):
    img = np.full((24, 20, 3), value, np.uint8)
    for s in (0.25, 0.5, 3.0, 0.37):
        out = imresize(img, s)
        assert out.dtype == np.uint8 and np.all(out == value)
    for kind in ("BI", "BD"):
        assert np.all(degrade(img, 4, kind) == value)


def test_uint8_is_rounded_and_saturated():
    rng = np.random.default_rng(1)
    img = (rng.random((32, 32, 3)) > 0.5).astype(np.uint8) * 255  # ringing overshoots [0, 255]
    out = imresize(img, 3.0)
    f = imresize(img.astype(np.float64), 3.0)
    assert out.dtype == np.uint8
    assert f.max() > 255 and f.min() < 0
    assert out.max() == 255 and out.min() == 0


def test_stack_equals_per_frame():
    rng = np.random.default_rng(2)
    frames = rng.integers(0, 256, (3, 16, 24, 3), dtype=np.uint8)
    for kind in ("BI", "BD"):
        stack = degrade(frames, 4, kind)
        assert stack.shape == (3, 4, 6, 3) and stack.dtype == np.uint8
        for t in range(3):
            np.testing.assert_array_equal(stack[t], degrade(frames[t], 4, kind))


def test_modcrop_and_bad_sizes():
    img = np.zeros((11, 14, 3), np.uint8)
    assert modcrop(img, 4).shape == (8, 12, 3)
    assert modcrop(np.zeros((2, 9, 9, 3)), 4).shape == (2, 8, 8, 3)
    with pytest.warns(UserWarning, match="not divisible"):
        modcrop(img, 4, warn=True)
    with pytest.raises(UserError, match="multiple of 4"):
        degrade(img, 4)
    with pytest.raises(UserError):
        degrade(np.zeros((8, 8, 3)), 4, kind="XX")


def test_gaussian_kernel():
    k = gaussian_kernel_1d()
    assert k.size == 13 and abs(k.sum() - 1) < 1e-12 and np.argmax(k) == 6


def _vid4(vid4_dir, clip, n):
    frames = read_frame_folder(vid4_dir / clip, max_frames=n)
    return modcrop(frames, 4)


@pytest.mark.slow
@pytest.mark.parametrize("clip,expected", [("calendar", 20.39), ("walk", 26.10)])
def test_vid4_bicubic_row(vid4_dir, clip, expected):
    """Standard protocol (evaluation-protocols.md): MATLAB bicubic down and up, Y-PSNR, whole clips, to 0.01 dB."""
    gt = _vid4(vid4_dir, clip, None)
    up = imresize(degrade(gt, 4, "BI"), 4.0)
    value = np.mean([_psnr(_y(u), _y(g)) for u, g in zip(up, gt)])
    assert abs(value - expected) < 0.01, value


def test_bd_matches_vid4_reference(vid4_dir, vid4_bd_dir):
    gt = _vid4(vid4_dir, "calendar", 3)
    ref = read_frame_folder(vid4_bd_dir / "calendar", max_frames=3)
    lr = degrade(gt, 4, "BD")
    assert lr.shape == ref.shape
    assert _psnr(lr, ref) >= 45.0
