"""Still photographs that ship with scikit-image and Matplotlib, panned into short clips: extra training texture.

They are not video. Each clip is one static photograph seen through a window that moves along a straight line with
a little jitter, by whole HR pixels: after the 4x degradation its LR frames differ by sub-pixel shifts and the true
flow is a pure translation. They add what the three sample videos lack (fine natural detail: faces, hair, stone,
grass, gravel, printed text), and only to the training split (`DataConfig.stills`). Each photograph is used at its
own size and at half size (MATLAB bicubic), so its detail appears at two densities; a version whose window would be
under `MIN_SIDE` pixels is left out. Greyscale photographs become grey RGB. Deterministic for a seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iseebetter_lib.data.home import package_dir
from iseebetter_lib.data.imresize import imresize
from iseebetter_lib.errors import UserError

# name -> (package, file inside its sample-data folder)
STILLS = {
    "astronaut": ("skimage", "astronaut.png"), "chelsea": ("skimage", "chelsea.png"),
    "coffee": ("skimage", "coffee.png"), "rocket": ("skimage", "rocket.jpg"),
    "motorcycle_left": ("skimage", "motorcycle_left.png"), "motorcycle_right": ("skimage", "motorcycle_right.png"),
    "hubble_deep_field": ("skimage", "hubble_deep_field.jpg"), "ihc": ("skimage", "ihc.png"),
    "camera": ("skimage", "camera.png"), "coins": ("skimage", "coins.png"), "moon": ("skimage", "moon.png"),
    "page": ("skimage", "page.png"), "text": ("skimage", "text.png"), "brick": ("skimage", "brick.png"),
    "grass": ("skimage", "grass.png"), "gravel": ("skimage", "gravel.png"),
    "grace_hopper": ("matplotlib", "grace_hopper.jpg"),
}
SCALES = (1.0, 0.5)  # each photograph at its own size and at half size
FRAMES = 24  # frames per panned clip
MAX_SPEED = 3.0  # HR pixels per frame along each axis
JITTER = 0.7  # HR pixels of random shake per frame, before rounding
MIN_SIDE = 128  # HR pixels: smaller windows are left out (32 LR pixels at 4x, the laptop patch)


def still_path(name: str) -> Path:
    """The file of one photograph in its package's sample-data folder (located without importing the package)."""
    if name not in STILLS:
        raise UserError(f"{name!r}: not one of the still photographs ({', '.join(STILLS)})")
    package, file = STILLS[name]
    root = package_dir(package)
    if root is None:
        raise UserError(f"{package} is not installed: it ships the still photograph {file} (or set data.stills=false)")
    path = root / ("data" if package == "skimage" else "mpl-data/sample_data") / file
    if not path.is_file():
        raise UserError(f"{path}: {package}'s sample photograph is missing (reinstall {package}, or set "
                        "data.stills=false)")
    return path


def read_still(name: str) -> np.ndarray:
    """One photograph as (H, W, 3) uint8 RGB."""
    from PIL import Image

    with Image.open(still_path(name)) as im:
        return np.asarray(im.convert("RGB"))


def pan(image: np.ndarray, n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """(n_frames, h, w, 3) windows of `image` along a random straight path with jitter, in whole pixels; the window
    is as large as the path allows, cropped to a multiple of 8 (so scales 2, 4 and 8 divide it)."""
    speed = rng.uniform(-MAX_SPEED, MAX_SPEED, 2)
    steps = np.arange(n_frames)[:, None] * speed + rng.uniform(-JITTER, JITTER, (n_frames, 2))
    offsets = np.round(steps).astype(int)
    offsets -= offsets.min(axis=0)
    x, y = offsets[:, 0], offsets[:, 1]
    h, w = image.shape[:2]
    ch, cw = (h - y.max()) // 8 * 8, (w - x.max()) // 8 * 8
    return np.stack([image[y[i]:y[i] + ch, x[i]:x[i] + cw] for i in range(n_frames)])


def clip_id(name: str, scale: float) -> str:
    """The clip id of photograph `name` panned at `scale`: ``still_<name>``, or ``still_<name>_x<scale>``."""
    return f"still_{name}" + ("" if scale == 1.0 else f"_x{scale:g}")


def still_clips(seed: int = 0, names: tuple[str, ...] | None = None, scales: tuple[float, ...] = SCALES,
                n_frames: int = FRAMES) -> list[tuple[str, np.ndarray]]:
    """``[(clip_id, frames)]``: every photograph at every scale, panned (ids: `clip_id`); the path of each depends
    only on `seed`, the name and the scale."""
    clips = []
    for k, name in enumerate(STILLS if names is None else names):
        image = read_still(name)
        for j, s in enumerate(scales):
            img = image
            if s != 1.0:  # uint8 in, uint8 out (rounded and clipped, as MATLAB's imresize)
                h, w = image.shape[:2]
                img = imresize(image, output_shape=(int(h * s), int(w * s)))
            frames = pan(img, n_frames, np.random.default_rng([seed, k, j]))
            if min(frames.shape[1:3]) < MIN_SIDE:
                continue
            clips.append((clip_id(name, s), frames))
    return clips
