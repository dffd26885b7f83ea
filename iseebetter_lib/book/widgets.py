"""ipywidgets for interactive reading (only when a chapter's `interactive` parameter is true; the static figures
are always drawn too, so headless runs and the HTML book show everything)."""

from __future__ import annotations

import io
from typing import Any, Callable, Mapping

import numpy as np


def _png(img: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(img, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def frame_compare(videos: Mapping[str, np.ndarray], width: int = 320) -> Any:
    """Frame slider + side-by-side images of each named video (T, H, W, 3) uint8, e.g. bicubic / ours / GT."""
    import ipywidgets as w

    names = list(videos)
    n = min(len(v) for v in videos.values())
    images = {k: w.Image(format="png", width=width) for k in names}
    slider = w.IntSlider(value=0, min=0, max=n - 1, description="frame")

    def update(change: Any = None) -> None:
        for k in names:
            images[k].value = _png(videos[k][slider.value])

    slider.observe(update, names="value")
    update()
    columns = [w.VBox([w.Label(k), images[k]]) for k in names]
    return w.VBox([slider, w.HBox(columns)])


def degradation_player(frames: np.ndarray, scale: int = 4, width: int = 320) -> Any:
    """Frame slider over a real sequence (T, H, W, 3): the HR frames beside their BI and BD low-resolution versions
    (shown enlarged by pixel repetition, so the lost detail stays visible)."""
    from iseebetter_lib.data import degrade

    def enlarged(kind: str) -> np.ndarray:
        return np.stack([np.kron(degrade(f, scale, kind), np.ones((scale, scale, 1), np.uint8)) for f in frames])

    return frame_compare({"HR": frames, f"BI x{scale}": enlarged("BI"), f"BD x{scale}": enlarged("BD")}, width)


def before_after(before: np.ndarray, after: np.ndarray, labels: tuple[str, str] = ("bicubic", "ours"),
                 width: int = 480) -> Any:
    """A wipe slider: the left part of the image from `before`, the right part from `after` (same shape)."""
    import ipywidgets as w

    image = w.Image(format="png", width=width)
    split = w.IntSlider(value=before.shape[1] // 2, min=0, max=before.shape[1], description="split",
                        continuous_update=False)

    def update(change: Any = None) -> None:
        out = after.copy()
        out[:, : split.value] = before[:, : split.value]
        out[:, max(split.value - 1, 0): split.value + 1] = (255, 0, 0)
        image.value = _png(out)

    split.observe(update, names="value")
    update()
    return w.VBox([w.Label(f"left: {labels[0]} | right: {labels[1]}"), split, image])


def flow_overlay(frame: np.ndarray, flow: np.ndarray, to_color: Callable[..., np.ndarray], width: int = 480) -> Any:
    """Blend a frame with its flow's colour coding; a slider sets the opacity of the flow."""
    import ipywidgets as w

    color = to_color(flow, None).astype(np.float32)
    image = w.Image(format="png", width=width)
    alpha = w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="flow", continuous_update=False)

    def update(change: Any = None) -> None:
        mix = (1 - alpha.value) * frame.astype(np.float32) + alpha.value * color
        image.value = _png(np.clip(mix + 0.5, 0, 255).astype(np.uint8))

    alpha.observe(update, names="value")
    update()
    return w.VBox([alpha, image])


def show(widget: Any) -> None:
    """Display a widget in a notebook."""
    from IPython.display import display

    display(widget)
