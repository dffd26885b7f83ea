"""Image-quality metrics of the VSR literature, and of the original iSeeBetter test script.

* `rgb_to_y`: luma of ITU-R BT.601 as MATLAB's ``rgb2ycbcr`` (Y = 16 + 65.481 R + 128.553 G + 24.966 B for R, G, B in
  [0, 1]; range 16..235). By default Y is kept in float64 (as BasicSR/mmagic compute it); ``rounded=True`` rounds it
  to integers as MATLAB does for uint8 input.
* `psnr`: peak 255; identical images give ``inf``.
* `ssim`: MATLAB-compatible SSIM (Gaussian 11 x 11 window, sigma 1.5, K1 0.01, K2 0.03, L 255, population
  covariance, 'valid' border) via scikit-image.
* `psnr_y` / `ssim_y`: the standard protocol on Y, with an optional border crop of `crop` pixels on every side.
* `psnr_rgb_orig`: the original iSeeBetter script's ``PSNR(pred, gt, shave_border=scale)``: RGB, all channels in one
  MSE, rows ``[1+s : H-s]`` and columns ``[1+s : W-s]`` (Python 0-based slices, so 1+s rows/columns are dropped at the
  top/left and s at the bottom/right), 100 for identical images.
* `hf_energy_ratio`: a perceptual proxy needing no downloaded weights: the fine-detail energy of the output relative
  to the ground truth's (high-pass = Y minus its Gaussian blur, sigma 1.5). 1.0 = as much fine detail as the ground
  truth; blurry outputs (bicubic) score < 1, noisy or over-sharpened ones > 1. It says nothing about where the detail
  is (a fidelity metric does): read it beside PSNR/SSIM.
"""

from __future__ import annotations

import math

import numpy as np

from iseebetter_lib.errors import UserError

Y_WEIGHTS = np.array([65.481, 128.553, 24.966], dtype=np.float64)
SSIM_SETTINGS = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255.0,
                     K1=0.01, K2=0.03)


def _as_float(img: np.ndarray) -> np.ndarray:
    """uint8 (0..255) or float arrays -> float64 on the 0..255 scale (floats in [0, 1] are NOT rescaled)."""
    return np.asarray(img, dtype=np.float64)


def _check_pair(a: np.ndarray, b: np.ndarray, what: str) -> None:
    if a.shape != b.shape:
        raise UserError(f"{what}: images differ in shape: {a.shape} vs {b.shape}")
    if a.size == 0:
        raise UserError(f"{what}: empty image")


def rgb_to_y(img: np.ndarray, rounded: bool = False) -> np.ndarray:
    """BT.601 luma (16..235) of RGB image(s) ``(..., 3)`` given on the 0..255 scale (uint8 or float)."""
    a = _as_float(img)
    if a.shape[-1] != 3:
        raise UserError(f"rgb_to_y: expected RGB in the last axis, got shape {a.shape}")
    y = 16.0 + (a @ Y_WEIGHTS) / 255.0
    if rounded:
        y = np.floor(y + 0.5)  # MATLAB rounds half away from zero (all values are positive here)
    return y


def crop_border(img: np.ndarray, crop: int) -> np.ndarray:
    """Drop `crop` pixels on every side of an H x W[ x C] image (0: unchanged)."""
    if crop < 0:
        raise UserError(f"crop={crop}: must be >= 0")
    if crop == 0:
        return img
    h, w = img.shape[:2]
    if 2 * crop >= min(h, w):
        raise UserError(f"crop={crop}: leaves nothing of a {w}x{h} image")
    return img[crop:h - crop, crop:w - crop]


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """PSNR in dB between two arrays on the same scale; ``inf`` when they are identical."""
    x, y = _as_float(a), _as_float(b)
    _check_pair(x, y, "psnr")
    mse = float(np.mean((x - y) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(peak * peak / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """MATLAB-compatible SSIM of two single-channel images on the 0..255 scale."""
    from skimage.metrics import structural_similarity

    x, y = _as_float(a), _as_float(b)
    _check_pair(x, y, "ssim")
    if x.ndim != 2:
        raise UserError(f"ssim: expected a single-channel H x W image, got shape {x.shape}")
    if min(x.shape) < 11:
        raise UserError(f"ssim: image {x.shape[1]}x{x.shape[0]} is smaller than the 11x11 window")
    return float(structural_similarity(x, y, **SSIM_SETTINGS))


def psnr_y(sr: np.ndarray, hr: np.ndarray, crop: int = 0, rounded_y: bool = False) -> float:
    """Standard protocol: PSNR on BT.601 Y of RGB frames, `crop` pixels dropped on every side."""
    return psnr(crop_border(rgb_to_y(sr, rounded_y), crop), crop_border(rgb_to_y(hr, rounded_y), crop))


def ssim_y(sr: np.ndarray, hr: np.ndarray, crop: int = 0, rounded_y: bool = False) -> float:
    """Standard protocol: MATLAB-style SSIM on BT.601 Y of RGB frames, `crop` pixels dropped on every side."""
    return ssim(crop_border(rgb_to_y(sr, rounded_y), crop), crop_border(rgb_to_y(hr, rounded_y), crop))


def orig_crop(img: np.ndarray, scale: int) -> np.ndarray:
    """The original script's crop of an H x W[ x C] image: ``img[1+s : H-s, 1+s : W-s]``."""
    h, w = img.shape[:2]
    out = img[1 + scale:h - scale, 1 + scale:w - scale]
    if out.size == 0:
        raise UserError(f"orig_crop: scale {scale} leaves nothing of a {w}x{h} image")
    return out


def psnr_rgb_orig(sr: np.ndarray, hr: np.ndarray, scale: int = 4) -> float:
    """The original iSeeBetter test script's PSNR: RGB x255, crop [1+s : H-s, 1+s : W-s], 100 dB when equal."""
    x, y = _as_float(sr), _as_float(hr)
    _check_pair(x, y, "psnr_rgb_orig")
    rmse = math.sqrt(float(np.mean((orig_crop(x, scale) - orig_crop(y, scale)) ** 2)))
    if rmse == 0.0:
        return 100.0
    return 20.0 * math.log10(255.0 / rmse)


HF_SIGMA = 1.5


def high_pass(y: np.ndarray, sigma: float = HF_SIGMA) -> np.ndarray:
    """`y` minus its Gaussian blur (scipy.ndimage, mirrored borders): the image's fine detail."""
    from scipy.ndimage import gaussian_filter

    a = _as_float(y)
    return a - gaussian_filter(a, sigma, mode="reflect")


def hf_energy_ratio(sr_y: np.ndarray, hr_y: np.ndarray) -> float:
    """Mean square of the high-pass of `sr_y` over that of `hr_y` (single-channel, 0..255 scale, already cropped).

    1.0: the ground truth's amount of fine detail; < 1 blurrier, > 1 noisier/over-sharpened. A flat ground truth
    gives 1.0 for a flat output and ``inf`` otherwise."""
    x, y = _as_float(sr_y), _as_float(hr_y)
    _check_pair(x, y, "hf_energy_ratio")
    if x.ndim != 2:
        raise UserError(f"hf_energy_ratio: expected a single-channel H x W image, got shape {x.shape}")
    num, den = float(np.mean(high_pass(x) ** 2)), float(np.mean(high_pass(y) ** 2))
    if den == 0.0:
        return 1.0 if num == 0.0 else math.inf
    return num / den


def frame_metrics(sr: np.ndarray, hr: np.ndarray, crop: int = 0, scale: int = 4,
                  rounded_y: bool = False) -> dict[str, float]:
    """All per-frame metrics of both protocols for one uint8 RGB frame pair (Y computed once)."""
    ys, yh = rgb_to_y(sr, rounded_y), rgb_to_y(hr, rounded_y)
    ys, yh = crop_border(ys, crop), crop_border(yh, crop)
    return {
        "psnr_y": psnr(ys, yh),
        "ssim_y": ssim(ys, yh),
        "psnr_rgb_orig": psnr_rgb_orig(sr, hr, scale),
        "hf_ratio": hf_energy_ratio(ys, yh),
    }
