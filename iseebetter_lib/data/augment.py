"""Geometric augmentations applied identically to every frame of a sample and, with the right signs, to its flows.

Flows are (..., 2, H, W) with u (horizontal) then v (vertical), in pixels, im1(x, y) ~ im2(x + u, y + v):
* hflip (mirror left-right): flip W, negate u;
* vflip (top-bottom): flip H, negate v;
* rot180: flip both, negate both;
* rot90 (``np.rot90``, counter-clockwise): pixel (x, y) moves to (y, W-1-x), so (u, v) -> (v, -u).
They are applied in that order, each with probability 0.5 when enabled (the original: hflip, vflip, rot180).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Augment:
    hflip: bool = False
    vflip: bool = False
    rot180: bool = False
    rot90: bool = False

    @classmethod
    def draw(cls, rng: np.random.Generator, hflip: bool = True, vflip: bool = True, rot180: bool = True,
             rot90: bool = False) -> "Augment":
        """Each enabled transform with p = 0.5 (four draws always made, so the stream does not depend on flags)."""
        r = rng.random(4) < 0.5
        return cls(bool(hflip and r[0]), bool(vflip and r[1]), bool(rot180 and r[2]), bool(rot90 and r[3]))

    def image(self, img: np.ndarray) -> np.ndarray:
        """Channels-last images (..., H, W, C), as a new contiguous array."""
        return np.ascontiguousarray(self.view(img))

    def view(self, img: np.ndarray) -> np.ndarray:
        """`image` without the copy: a strided view, for a caller that converts the pixels anyway (one pass instead
        of two; a flipped uint8 copy is the slowest step of a training sample)."""
        return _spatial(self, img, -3, -2)

    def flow(self, flow: np.ndarray) -> np.ndarray:
        """Flows (..., 2, H, W): the field is moved like an image and its components re-signed / swapped (a new
        contiguous array; one copy, then in-place sign changes)."""
        f = np.array(_spatial(self, flow, -2, -1), order="C", copy=True)
        u_sign = -1.0 if self.hflip != self.rot180 else 1.0
        v_sign = -1.0 if self.vflip != self.rot180 else 1.0
        u, v = f[..., 0, :, :], f[..., 1, :, :]
        if self.rot90:  # (u, v) -> (v, -u), after the flips' signs
            old_u = u.copy()
            np.multiply(v, v_sign, out=u)
            np.multiply(old_u, -u_sign, out=v)
        else:
            if u_sign < 0:
                np.negative(u, out=u)
            if v_sign < 0:
                np.negative(v, out=v)
        return f


def _spatial(aug: Augment, a: np.ndarray, ah: int, aw: int) -> np.ndarray:
    if aug.hflip:
        a = np.flip(a, axis=aw)
    if aug.vflip:
        a = np.flip(a, axis=ah)
    if aug.rot180:
        a = np.flip(a, axis=(ah, aw))
    if aug.rot90:
        a = np.rot90(a, k=1, axes=(ah, aw))
    return a
