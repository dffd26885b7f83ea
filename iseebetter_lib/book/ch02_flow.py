"""Chapter 02: our flow against the classic implementation's reference output, ground truth and OpenCV DIS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from iseebetter_lib.config import FlowConfig
from iseebetter_lib.errors import UserError
from iseebetter_lib.evaluation.flow_accuracy import CLASSIC_MS, epe, flow_time_ms, warp_error

def load_reference(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """{pair: {"im1", "im2", "u", "v", ["gt_u", "gt_v", "warp"]}} from pyflow_reference.npz."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: flow reference data not found")
    pairs: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path) as data:
        for key in data.files:
            pair, field = key.split("__", 1)
            pairs.setdefault(pair, {})[field] = data[key].astype(np.float64)  # the trimmed copy is float32
    return pairs


def _u8(im: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(im) * 255 + 0.5, 0, 255).astype(np.uint8) if im.dtype != np.uint8 else im


def flows(im1: np.ndarray, im2: np.ndarray) -> dict[str, np.ndarray]:
    """Ours (pyflow backend) and OpenCV DIS when available."""
    from iseebetter_lib.flow import available_backends, compute_flow

    out = {"ours": compute_flow(im1, im2, FlowConfig())}
    if "dis" in available_backends():
        out["OpenCV DIS"] = compute_flow(im1, im2, FlowConfig(backend="dis"))
    return out


def accuracy_rows(ref: dict[str, dict[str, np.ndarray]]) -> list[dict[str, Any]]:
    """Synthetic pairs with known flow: EPE of ours, DIS and the classic implementation; ours vs classic."""
    rows = []
    for name, p in ref.items():
        if "gt_u" not in p:
            continue
        f = flows(p["im1"], p["im2"])
        classic = np.stack([p["u"], p["v"]])
        row = {"pair": name, "size": f"{p['im1'].shape[1]}x{p['im1'].shape[0]}",
               "EPE ours": epe(f["ours"], p["gt_u"], p["gt_v"]),
               "EPE classic pyflow": epe(classic, p["gt_u"], p["gt_v"]),
               "EPE OpenCV DIS": epe(f["OpenCV DIS"], p["gt_u"], p["gt_v"]) if "OpenCV DIS" in f else None,
               "ours vs classic": epe(f["ours"], p["u"], p["v"])}
        rows.append(row)
    return rows


def warping_rows(ref: dict[str, dict[str, np.ndarray]], names: list[str]) -> tuple[list[dict[str, Any]], list]:
    """Real pairs: warping error with zero flow, ours, classic and DIS; also (name, im1, im2, ours) for figures."""
    rows, figs = [], []
    for name in names:
        p = ref[name]
        f = flows(p["im1"], p["im2"])
        classic = np.stack([p["u"], p["v"]]).astype(np.float32)
        zero = np.zeros_like(classic)
        row = {"pair": name, "no flow": warp_error(p["im1"], p["im2"], zero),
               "ours": warp_error(p["im1"], p["im2"], f["ours"]),
               "classic pyflow": warp_error(p["im1"], p["im2"], classic)}
        if "OpenCV DIS" in f:
            row["OpenCV DIS"] = warp_error(p["im1"], p["im2"], f["OpenCV DIS"])
        rows.append(row)
        figs.append((name, _u8(p["im1"]), _u8(p["im2"]), f["ours"]))
    return rows, figs


def speed_rows(ref: dict[str, dict[str, np.ndarray]], names: list[str], repeats: int = 3) -> list[dict[str, Any]]:
    """Best-of-`repeats` wall time per pair size: ours vs OpenCV DIS (same process, same inputs), and the classic's
    reference time where one was measured for that size (`CLASSIC_MS`)."""
    from iseebetter_lib.flow import available_backends

    rows = []
    for name in names:
        p = ref[name]
        row: dict[str, Any] = {"pair": name, "size": f"{p['im1'].shape[1]}x{p['im1'].shape[0]}"}
        for label, backend in (("ours ms", "pyflow"), ("OpenCV DIS ms", "dis")):
            if backend not in available_backends():
                continue
            row[label] = flow_time_ms(p["im1"], p["im2"], backend, repeats)
        if "OpenCV DIS ms" in row:
            row["ours / DIS"] = row["ours ms"] / row["OpenCV DIS ms"]
        size = (p["im1"].shape[1], p["im1"].shape[0])
        if size in CLASSIC_MS and "ours ms" in row:
            row["classic ms (reference)"] = CLASSIC_MS[size]
            row["classic / ours"] = CLASSIC_MS[size] / row["ours ms"]
        rows.append(row)
    return rows


def identical_case(ref: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    """Flow between a frame and itself (a neighbour outside the clip is replaced by the target): must be zero."""
    p = ref["identical_calendar_lr"]
    f = flows(p["im1"], p["im1"])["ours"]
    return {"pair": "identical_calendar_lr", "max abs flow (ours, px)": float(np.abs(f).max()),
            "finite": bool(np.isfinite(f).all())}


def color_legend(size: int = 101) -> np.ndarray:
    """The colour-wheel legend image (flow of unit magnitude at the rim)."""
    from iseebetter_lib.book.plots import color_wheel
    from iseebetter_lib.flow import flow_to_color

    return color_wheel(flow_to_color, size)


def pyramid_rows(width: int, height: int, cfg: FlowConfig | None = None) -> list[dict[str, Any]]:
    """The coarse-to-fine pyramid the solver builds for an image of this size, coarsest first (the order it visits
    them): per level its size, the image it is resized from and the Gaussian sigma applied first (levels beyond a
    quarter of the width are made from a finer level), and the iterations spent there (n_outer + k, n_sor + 3k)."""
    import math

    from pyflow import _flow

    cfg = cfg or FlowConfig()
    levels = _flow.n_levels_for(width, cfg.ratio, cfg.min_width)
    nsub, base = int(math.log(0.25) / math.log(cfg.ratio)), 1 / cfg.ratio - 1
    sizes = [(width, height)]
    rows = [{"level": 0, "size": f"{width}x{height}", "made from": "-", "Gaussian sigma": 0.0,
             "outer iterations": cfg.n_outer, "SOR sweeps": cfg.n_sor}]
    for k in range(1, levels):
        src = 0 if k <= nsub else k - nsub
        rate = cfg.ratio ** k * (1 if src == 0 else width / sizes[src][0])
        sizes.append((max(int(sizes[src][0] * rate), 1), max(int(sizes[src][1] * rate), 1)))
        rows.append({"level": k, "size": f"{sizes[k][0]}x{sizes[k][1]}",
                     "made from": "the input" if src == 0 else f"level {src}", "Gaussian sigma": base * min(k, nsub),
                     "outer iterations": cfg.n_outer + k, "SOR sweeps": cfg.n_sor + 3 * k})
    return rows[::-1]


def ground_truth_pair(ref: dict[str, dict[str, np.ndarray]], wanted: str) -> str:
    """`wanted` when the reference holds it, else its first pair with a ground-truth flow (the trimmed copy shipped
    with the tests has fewer pairs than the data home's)."""
    if wanted in ref:
        return wanted
    return next(name for name, p in ref.items() if "gt_u" in p)


def alpha_sweep(ref: dict[str, dict[str, np.ndarray]], pair: str, alphas: list[float]) -> list[dict[str, Any]]:
    """Our flow on one reference pair for several smoothness weights: endpoint error against the ground truth (when
    the pair has one), warping error, and the flow's roughness (mean |grad u| + |grad v|, px per px)."""
    from iseebetter_lib.flow import compute_flow

    p = ref[pair]
    rows = []
    for alpha in alphas:
        flow = compute_flow(p["im1"], p["im2"], FlowConfig(alpha=alpha))
        gy, gx = np.gradient(flow, axis=(1, 2))
        row = {"alpha": alpha, "warping error (0..255)": warp_error(p["im1"], p["im2"], flow),
               "roughness": float(np.mean(np.abs(gx)) + np.mean(np.abs(gy)))}
        if "gt_u" in p:
            row["EPE vs ground truth (px)"] = epe(flow, p["gt_u"], p["gt_v"])
        rows.append(row)
    return rows
