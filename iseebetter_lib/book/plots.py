"""Plot helpers for the book: architecture diagram from the model, image grids, zoomed crops, temporal profiles,
flow colour figures and loss curves. Every function returns a matplotlib Figure (save it with `save_figure`)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

# RBPN submodules (original names) grouped into the paper's branches.
BRANCHES = {
    "input features (feat0)": ("feat0",),
    "SISR: DBPN-S": ("DBPN",),
    "MISR: feat1 + ResNet": ("feat1", "res_feat1"),
    "decoder (res_feat2)": ("res_feat2",),
    "encoder (res_feat3)": ("res_feat3",),
    "output conv": ("output",),
}


def branch_parameters(model: Any) -> dict[str, int]:
    """Parameter count of each RBPN branch (plus 'total'), read from the model's own modules."""
    counts = {}
    for label, names in BRANCHES.items():
        counts[label] = sum(p.numel() for n in names for p in getattr(model, n).parameters())
    counts["total"] = sum(p.numel() for p in model.parameters())
    return counts


def module_tree(model: Any, depth: int = 2) -> str:
    """Indented module tree with parameter counts, `depth` levels deep."""
    lines: list[str] = []

    def walk(module: Any, name: str, level: int) -> None:
        n = sum(p.numel() for p in module.parameters())
        lines.append(f"{'  ' * level}{name or type(module).__name__} ({type(module).__name__}): {n:,} params")
        if level < depth:
            for child_name, child in module.named_children():
                walk(child, child_name, level + 1)

    walk(model, "", 0)
    return "\n".join(lines)


def _box(ax: Any, xy: tuple[float, float], text: str, color: str, w: float = 2.2, h: float = 0.8) -> tuple:
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", fc=color, ec="black",
                                lw=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=8)
    return (x, y, w, h)


def _arrow(ax: Any, a: tuple, b: tuple, text: str = "", rad: float = 0.0) -> None:
    (xa, ya, wa, ha), (xb, yb, wb, hb) = a, b
    start = (xa + wa / 2, ya) if abs(xb - xa) > abs(yb - ya) else (xa, ya - np.sign(ya - yb) * ha / 2)
    end = (xb - wb / 2, yb) if abs(xb - xa) > abs(yb - ya) else (xb, yb + np.sign(ya - yb) * hb / 2)
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, lw=1,
                                 connectionstyle=f"arc3,rad={rad}"))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.15, text, ha="center", fontsize=7)


def architecture_diagram(model: Any) -> Any:
    """RBPN's recurrent step drawn as boxes labelled with the model's own parameter counts."""
    p = branch_parameters(model)
    n = model.nFrames - 1
    fig, ax = plt.subplots(figsize=(11, 4.6))
    ax.set_xlim(0, 15.8)
    ax.set_ylim(0, 6)
    ax.axis("off")
    k = {label: f"{count / 1e3:,.1f} k" if count < 1e6 else f"{count / 1e6:.2f} M" for label, count in p.items()}
    tgt = _box(ax, (1.2, 4.8), "target LR $x_t$", "#eeeeee")
    f0 = _box(ax, (3.8, 4.8), f"feat0\n{k['input features (feat0)']}", "#dddddd")
    sisr = _box(ax, (6.8, 4.8), f"SISR: DBPN-S\n{k['SISR: DBPN-S']}", "#a6cee3")
    inp = _box(ax, (1.2, 2.2), "$x_t$, neighbour $x_j$,\nflow $F_{t\\to j}$", "#eeeeee")
    misr = _box(ax, (4.4, 2.2), f"MISR: feat1 + ResNet\n{k['MISR: feat1 + ResNet']}", "#b2df8a", w=2.6)
    dec = _box(ax, (8.4, 3.5), f"decoder\n{k['decoder (res_feat2)']}", "#fdbf6f")
    h = _box(ax, (11.3, 3.5), "$H_j = h_0 + \\mathrm{Dec}(h_0 - h_1)$", "#ffffff", w=2.6)
    enc = _box(ax, (11.3, 1.0), f"encoder\n{k['encoder (res_feat3)']}", "#fb9a99")
    out = _box(ax, (14.5, 3.5), f"output conv\nconcat of {n} $H_j$\n{k['output conv']}", "#cab2d6", w=2.4,
               h=1.1)
    _arrow(ax, tgt, f0)
    _arrow(ax, f0, sisr, "state $L_{j-1}$")
    _arrow(ax, sisr, dec, "$h_0$")
    _arrow(ax, inp, misr)
    _arrow(ax, misr, dec, "$h_1$")
    _arrow(ax, dec, h)
    _arrow(ax, h, out)
    _arrow(ax, h, enc)
    ax.add_patch(FancyArrowPatch((10.2, 1.0), (6.8, 4.35), arrowstyle="-|>", mutation_scale=10, lw=1, ls="--",
                                 connectionstyle="arc3,rad=-0.3"))
    ax.text(6.3, 0.35, "next state $L_j$ (recurrence over the neighbours j = 1..%d)" % n, fontsize=7)
    residual = " + bicubic($x_t$)" if getattr(model, "residual", False) else ""
    ax.set_title(f"RBPN generator: {p['total']:,} parameters, {model.nFrames} frames, "
                 f"x{model.scale_factor}{residual}", fontsize=10)
    return fig


def image_grid(images: Sequence[np.ndarray], titles: Sequence[str], ncols: int | None = None,
               size: float = 3.2, suptitle: str | None = None) -> Any:
    """Images side by side (uint8 or float [0,1] RGB, or 2-D maps with a colour bar)."""
    ncols = ncols or len(images)
    nrows = int(np.ceil(len(images) / ncols))
    first = images[0]
    aspect = first.shape[0] / first.shape[1]
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * aspect * nrows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, title in zip(axes.flat, images, titles):
        if img.ndim == 2:
            im = ax.imshow(img, cmap="magma")
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
        else:
            ax.imshow(img)
        ax.set_title(title, fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def zoom_crops(images: Mapping[str, np.ndarray], box: tuple[int, int, int, int], context: str | None = None) -> Any:
    """Paper-style visual comparison: the full frame with the box marked, then the zoomed box of each method.

    `box` is (y, x, height, width) in HR pixels; `context` names the image drawn in full (default: the last)."""
    y, x, hh, ww = box
    names = list(images)
    context = context or names[-1]
    rows = 1 if len(names) <= 4 else 2  # more than four crops wrap to two rows beside the full frame
    cols = -(-len(names) // rows)
    fig = plt.figure(figsize=(3.0 * (cols + 1.6), 3.2 * rows))
    grid = fig.add_gridspec(rows, cols + 1, width_ratios=[1.6] + [1] * cols)
    context_ax = fig.add_subplot(grid[:, 0])
    context_ax.imshow(images[context])
    context_ax.add_patch(Rectangle((x, y), ww, hh, fill=False, ec="red", lw=1.5))
    context_ax.set_title(context, fontsize=9)
    context_ax.axis("off")
    for i, name in enumerate(names):
        ax = fig.add_subplot(grid[i // cols, 1 + i % cols])
        ax.imshow(images[name][y:y + hh, x:x + ww], interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def temporal_profiles(videos: Mapping[str, np.ndarray], row: int, cols: tuple[int, int] | None = None) -> Any:
    """Temporal profile: one fixed image row stacked over time (T x W) per method; flicker shows as streaks."""
    names = list(videos)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.0), squeeze=False)
    for ax, name in zip(axes[0], names):
        frames = videos[name]
        c0, c1 = cols or (0, frames.shape[2])
        ax.imshow(frames[:, row, c0:c1], aspect="auto", interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(f"x (row {row})", fontsize=8)
        ax.set_ylabel("frame", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def flow_figure(pairs: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]], to_color: Any,
                max_norm: float | None = None) -> Any:
    """Rows of (frame 1, frame 2, flow in the Middlebury colour wheel) for (name, im1, im2, flow) tuples;
    `to_color(flow, max_norm)` is the colour coding (e.g. `iseebetter_lib.flow.flow_to_color`)."""
    fig, axes = plt.subplots(len(pairs), 3, figsize=(9.6, 2.6 * len(pairs) + 0.3), squeeze=False)
    for row, (name, im1, im2, flow) in zip(axes, pairs):
        mag = float(np.hypot(flow[0], flow[1]).max())
        for ax, img, title in zip(row, (im1, im2, to_color(flow, max_norm)),
                                  (f"{name}: frame 1", "frame 2", f"flow (max |w| = {mag:.2f} px)")):
            ax.imshow(img)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    return fig


def color_wheel(to_color: Any, size: int = 101) -> np.ndarray:
    """The colour-wheel legend: the flow field (x, y) from the centre, coloured with `to_color`."""
    r = np.linspace(-1, 1, size, dtype=np.float32)
    u, v = np.meshgrid(r, r)
    flow = np.stack([u, v]) * (np.hypot(u, v) <= 1)
    return to_color(flow.astype(np.float32), 1.0)


def loss_curves(history: Sequence[Mapping[str, Any]], keys: Sequence[str] | None = None,
                title: str = "training losses") -> Any:
    """One panel per logged loss against the step, pre-training and GAN stages shaded apart."""
    rows = [r for r in history if "step" in r]
    skip = {"step", "stage", "epoch", "lr", "d_lr", "time", "seconds", "seconds_per_step"}
    if keys is None:
        keys = []
        for r in rows:
            for k, v in r.items():
                if k not in skip and k not in keys and isinstance(v, (int, float)) and v == v and v != 0:
                    keys.append(k)
    ncols = min(4, max(1, len(keys)))
    nrows = int(np.ceil(max(1, len(keys)) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.6 * nrows + 0.4), squeeze=False)
    for ax in axes.flat[len(keys):]:
        ax.axis("off")
    steps = np.array([r["step"] for r in rows])
    stages = [r.get("stage", "") for r in rows]
    for ax, key in zip(axes.flat, keys):
        vals = np.array([float(r[key]) if isinstance(r.get(key), (int, float)) else np.nan for r in rows])
        for stage, color in (("pretrain", "tab:blue"), ("gan", "tab:red")):
            mask = np.array([s == stage for s in stages])
            if mask.any():
                ax.plot(steps[mask], vals[mask], ".-", ms=3, color=color, label=stage)
        if not any(s in ("pretrain", "gan") for s in stages):
            ax.plot(steps, vals, ".-", ms=3)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        if np.isfinite(vals).any() and np.nanmin(vals) > 0 and np.nanmax(vals) / max(np.nanmin(vals), 1e-30) > 20:
            ax.set_yscale("log")
        else:
            _honest_ylim(ax, vals)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


MIN_RELATIVE_SPAN = 0.2  # a loss panel spans at least 20% of its mean value, so noise does not look like a trend


def _honest_ylim(ax: Any, vals: np.ndarray, rel: float = MIN_RELATIVE_SPAN) -> None:
    """Widen a linear y-axis to at least `rel` of the values' mean magnitude (auto-scaling alone would stretch a
    0.1% wiggle of two points over the whole panel)."""
    finite = vals[np.isfinite(vals)]
    if finite.size == 0:
        return
    lo, hi = float(finite.min()), float(finite.max())
    need = rel * float(np.abs(finite).mean())
    if hi - lo < need:
        mid = (hi + lo) / 2
        ax.set_ylim(mid - need / 2, mid + need / 2)


def bar_chart(values: Mapping[str, float], ylabel: str, title: str, baseline: float | None = None,
              baseline_label: str = "baseline") -> Any:
    """Bars for named values from 0 (a bar's length is its value), with an optional horizontal reference line."""
    fig, ax = plt.subplots(figsize=(1.3 * len(values) + 2, 3.0))
    names = list(values)
    ax.bar(range(len(names)), [values[n] for n in names], color="tab:blue")
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    for i, n in enumerate(names):
        ax.text(i, values[n], f"{values[n]:.2f}", ha="center", va="bottom", fontsize=7)
    if baseline is not None:
        ax.axhline(baseline, color="black", ls="--", lw=1, label=baseline_label)
        ax.legend(fontsize=7)
    hi = max(list(values.values()) + ([baseline] if baseline is not None else []) + [0.0])
    lo = min(list(values.values()) + ([baseline] if baseline is not None else []) + [0.0])
    ax.set_ylim(lo * 1.1, hi * 1.15 if hi > 0 else 1.0)  # bars start at 0: their lengths compare honestly
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def floor_bars(ax: Any, names: Sequence[str], diffs: Sequence[float], floor: float, colors: Sequence[str],
               labels: Sequence[str], min_span: float, headroom: float = 1.6, floor_fmt: str = ".3f") -> None:
    """Differences to a reference as bars on `ax`, with the noise floor (two seeds' spread) as a grey band around
    zero when it is known: a bar that leaves the band is a difference the second seed does not explain."""
    diffs = np.asarray(diffs, dtype=float)
    x = np.arange(len(names))
    ax.bar(x, diffs, color=list(colors), zorder=2)
    if floor > 0:
        ax.axhspan(-floor, floor, color="0.85", alpha=0.7, zorder=0,
                   label=f"noise floor ±{floor:{floor_fmt}} dB (two seeds)")
        ax.legend(fontsize=7, loc="lower left")
    ax.axhline(0, color="black", lw=0.8)
    for i, (d, text) in enumerate(zip(diffs, labels)):
        ax.text(i, d, text, ha="center", va="bottom" if d >= 0 else "top", fontsize=7)
    span = max(float(np.abs(diffs).max()) if len(diffs) else 0.0, floor, min_span)
    ax.set_ylim(-headroom * span, headroom * span)


