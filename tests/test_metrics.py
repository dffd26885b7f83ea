"""Metrics on inputs whose answers can be worked out by hand: Y of known colours, PSNR of a known MSE, SSIM, crops,
the original script's RGB PSNR, and tOF of identical sequences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from iseebetter_lib.errors import UserError
from iseebetter_lib.evaluation import metrics, temporal
from iseebetter_lib.evaluation.metrics import (crop_border, frame_metrics, orig_crop, psnr, psnr_rgb_orig, psnr_y,
                                               rgb_to_y, ssim, ssim_y)


def _img(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("rgb, y", [((255, 255, 255), 235.0), ((0, 0, 0), 16.0),
                                    ((255, 0, 0), 16 + 65.481), ((0, 255, 0), 16 + 128.553),
                                    ((0, 0, 255), 16 + 24.966), ((128, 128, 128), 16 + 219 * 128 / 255)])
def test_rgb_to_y_known_colours(rgb, y):
    img = np.full((2, 3, 3), rgb, dtype=np.uint8)
    out = rgb_to_y(img)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out, y, atol=1e-9)
    np.testing.assert_array_equal(rgb_to_y(img, rounded=True), np.floor(y + 0.5))


def test_rgb_to_y_float_and_uint8_agree_and_rejects_grey():
    img = _img(4, 5)
    np.testing.assert_allclose(rgb_to_y(img), rgb_to_y(img.astype(np.float32)), atol=1e-4)
    with pytest.raises(UserError):
        rgb_to_y(np.zeros((4, 5)))


def test_psnr_of_known_mse():
    a = np.zeros((8, 8), dtype=np.float64)
    b = a + 10.0  # MSE 100
    assert psnr(a, b) == pytest.approx(10 * math.log10(255 ** 2 / 100))
    assert psnr(a, a) == math.inf
    c = a.copy()
    c[0, 0] = 8.0  # MSE 64 / 64 = 1
    assert psnr(a, c) == pytest.approx(20 * math.log10(255))
    with pytest.raises(UserError):
        psnr(a, np.zeros((8, 9)))


def test_psnr_y_of_uniform_offset():
    hr = np.full((16, 16, 3), 100, dtype=np.uint8)
    sr = np.full((16, 16, 3), 110, dtype=np.uint8)  # Y differs by 10 * 219/255 everywhere
    dy = 10 * 219 / 255
    assert psnr_y(sr, hr) == pytest.approx(10 * math.log10(255 ** 2 / dy ** 2))


def test_ssim_identical_is_one_and_matches_reference_settings():
    a = _img(40, 48)
    ya = rgb_to_y(a)
    assert ssim(ya, ya) == pytest.approx(1.0)
    assert ssim_y(a, a) == pytest.approx(1.0)
    b = np.clip(a.astype(int) + np.random.default_rng(1).integers(-20, 21, a.shape), 0, 255).astype(np.uint8)
    s = ssim_y(b, a)
    assert 0.0 < s < 1.0
    # Independent evaluation of the MATLAB formula (Gaussian 11x11, sigma 1.5, 'valid' window positions).
    x, y = rgb_to_y(b), rgb_to_y(a)
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5 ** 2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    vals = []
    for i in range(x.shape[0] - 10):
        for j in range(x.shape[1] - 10):
            px, py = x[i:i + 11, j:j + 11], y[i:i + 11, j:j + 11]
            mx, my = (w * px).sum(), (w * py).sum()
            vx, vy = (w * px * px).sum() - mx * mx, (w * py * py).sum() - my * my
            cxy = (w * px * py).sum() - mx * my
            vals.append((2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2)))
    assert s == pytest.approx(float(np.mean(vals)), abs=1e-6)


def test_ssim_rejects_tiny_and_colour_images():
    with pytest.raises(UserError):
        ssim(np.zeros((8, 8)), np.zeros((8, 8)))
    with pytest.raises(UserError):
        ssim(np.zeros((20, 20, 3)), np.zeros((20, 20, 3)))


def test_crop_border_semantics():
    img = np.arange(10 * 12).reshape(10, 12)
    assert crop_border(img, 0) is img
    c = crop_border(img, 2)
    assert c.shape == (6, 8) and c[0, 0] == img[2, 2] and c[-1, -1] == img[7, 9]
    with pytest.raises(UserError):
        crop_border(img, 5)
    with pytest.raises(UserError):
        crop_border(img, -1)


def test_orig_crop_drops_one_more_row_and_column_at_top_left():
    img = np.arange(20 * 24).reshape(20, 24)
    c = orig_crop(img, 4)  # rows 5..15, columns 5..19 (Python slices [5:16], [5:20])
    assert c.shape == (20 - 9, 24 - 9)
    assert c[0, 0] == img[5, 5] and c[-1, -1] == img[15, 19]


def test_psnr_rgb_orig_ignores_the_cropped_border_and_gives_100_when_equal():
    hr = _img(32, 40)
    sr = hr.copy()
    assert psnr_rgb_orig(sr, hr, 4) == 100.0
    sr[:5] = 0  # rows 0..4 are outside [1+s : H-s] with s = 4
    sr[:, -4:] = 0  # the last s columns too
    assert psnr_rgb_orig(sr, hr, 4) == 100.0
    sr[5, 5, 0] = np.uint8((int(hr[5, 5, 0]) + 51) % 256)  # one value inside the crop
    diff = float(sr[5, 5, 0]) - float(hr[5, 5, 0])
    n = (32 - 9) * (40 - 9) * 3
    assert psnr_rgb_orig(sr, hr, 4) == pytest.approx(20 * math.log10(255 / math.sqrt(diff ** 2 / n)))


def test_frame_metrics_consistent_with_single_metrics():
    hr = _img(48, 40, 2)
    sr = _img(48, 40, 3)
    m = frame_metrics(sr, hr, crop=3, scale=4)
    assert m["psnr_y"] == pytest.approx(psnr_y(sr, hr, crop=3))
    assert m["ssim_y"] == pytest.approx(ssim_y(sr, hr, crop=3))
    assert m["psnr_rgb_orig"] == pytest.approx(psnr_rgb_orig(sr, hr, 4))
    assert set(metrics.SSIM_SETTINGS) >= {"gaussian_weights", "sigma", "use_sample_covariance", "data_range"}


@pytest.mark.parametrize("backend", ["farneback", "pyflow"])
def test_tof_zero_for_identical_sequences(backend):
    if backend == "farneback" and not temporal.opencv_available():
        pytest.skip("OpenCV not installed")
    frames = [_img(48, 64, s) for s in range(3)]
    assert temporal.tof(frames, [f.copy() for f in frames], backend=backend) == 0.0
    assert temporal.tof(frames[:1], frames[:1], backend=backend) is None


@pytest.mark.parametrize("backend", ["farneback", "pyflow"])
def test_tof_of_a_frozen_output_is_the_true_motion(backend):
    if backend == "farneback" and not temporal.opencv_available():
        pytest.skip("OpenCV not installed")
    rng = np.random.default_rng(4)
    base = (rng.random((72, 96, 3)) * 255).astype(np.uint8)
    import scipy.ndimage as ndi

    base = ndi.gaussian_filter(base, sigma=(2, 2, 0))
    gt = [base, np.roll(base, 2, axis=1)]  # moves 2 px right
    out = [base, base.copy()]  # output frozen: no motion
    value = temporal.tof(out, gt, backend=backend)
    assert value == pytest.approx(2.0, abs=0.25)  # |flow(gt) - 0| = 2 px everywhere
    assert temporal.tecogan_crop(np.zeros((576, 720))).shape == (544, 704)
    assert temporal.tecogan_crop(np.zeros((480, 720))).shape == (448, 704)


def test_tof_backend_validation():
    with pytest.raises(UserError):
        temporal.resolve_backend("raft")


def test_hf_energy_ratio_one_for_itself_below_one_blurred_above_one_noisy():
    from scipy.ndimage import gaussian_filter

    from iseebetter_lib.evaluation.metrics import hf_energy_ratio

    y = rgb_to_y(np.kron(_img(12, 16, seed=3), np.ones((4, 4, 1))).astype(np.uint8))  # 48 x 64, edges and flats
    assert hf_energy_ratio(y, y) == pytest.approx(1.0)
    blurred = hf_energy_ratio(gaussian_filter(y, 1.0), y)
    noisy = hf_energy_ratio(y + np.random.default_rng(0).normal(0, 10, y.shape), y)
    assert 0.0 < blurred < 0.8 and noisy > 1.1
    assert hf_energy_ratio(np.full((8, 8), 50.0), np.full((8, 8), 90.0)) == 1.0  # flat vs flat: same (no) detail
    assert hf_energy_ratio(y[:8, :8], np.full((8, 8), 90.0)) == math.inf
    with pytest.raises(UserError, match="hf_energy_ratio"):
        hf_energy_ratio(y, y[:10])
    with pytest.raises(UserError, match="single-channel"):
        hf_energy_ratio(np.zeros((8, 8, 3)), np.zeros((8, 8, 3)))
    sr, hr = _img(32, 40, seed=1), _img(32, 40, seed=2)
    got = frame_metrics(sr, hr, crop=4)["hf_ratio"]  # on the same cropped Y as the Y metrics
    assert got == pytest.approx(hf_energy_ratio(crop_border(rgb_to_y(sr), 4), crop_border(rgb_to_y(hr), 4)))
