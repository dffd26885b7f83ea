"""Published figures (iSeeBetter's Table 3 and the literature's Vid4 rows) and our results set beside them.

Text only (markdown), no pandas: `results_table` for one evaluation, `comparison_rows` for the dict form, `csv_text`
for the per-clip CSV the CLI writes.
"""

from __future__ import annotations

import copy
import csv
import io
import math
from typing import Any, Mapping

VID4_CLIPS = ("calendar", "city", "foliage", "walk")

# iSeeBetter paper, Table 3 (Vid4, 4x; PSNR/SSIM; protocol not stated). None: not published.
_T3_METHODS = ("Bicubic", "DBPN", "B123+T", "DRDVSR", "FRVSR", "RBPN/6-PF", "VSR-DUF", "iSeeBetter")
_T3 = {
    "calendar": [(19.82, .554), (22.19, .714), (21.66, .704), (22.18, .746), None, (23.99, .807), (24.09, .813),
                 (24.13, .817)],
    "city": [(24.93, .586), (26.01, .684), (26.45, .720), (26.98, .755), None, (27.73, .803), (28.26, .833),
             (28.34, .841)],
    "foliage": [(23.42, .575), (24.67, .662), (24.98, .698), (25.42, .720), None, (26.22, .757), (26.38, .771),
                (26.57, .773)],
    "walk": [(26.03, .802), (28.61, .870), (28.26, .859), (28.92, .875), None, (30.70, .909), (30.50, .912),
             (30.68, .908)],
    "average": [(23.53, .629), (25.37, .737), (25.34, .745), (25.88, .774), (26.69, .822), (27.12, .818),
                (27.31, .832), (27.43, .835)],
}
# iSeeBetter paper: Vimeo-90K fast motion (PSNR/SSIM).
VIMEO_FAST = {"Bicubic": (34.05, .902), "DBPN": (37.46, .944), "RBPN": (40.03, .960), "VSR-DUF": (37.49, .949),
              "iSeeBetter": (40.17, .971)}
# The standard protocol (Y, MATLAB bicubic LR, no crop) on our Vid4 copy: the literature's bicubic row.
STANDARD_BICUBIC_VID4 = {"calendar": (20.39, .5720), "city": (25.17, .6028), "foliage": (23.47, .5666),
                         "walk": (26.10, .7974), "average": (23.78, .6347)}
# Published Vid4 4x BI averages on Y (VRT/RVRT papers' tables).
PUBLISHED_VID4_Y = {"Bicubic": (23.78, .6347), "RBPN": (27.12, .8180), "EDVR": (27.35, .8264),
                    "BasicVSR": (27.24, .8251), "IconVSR": (27.39, .8279), "BasicVSR++": (27.79, .8400),
                    "VRT": (27.93, .8425), "RVRT": (27.99, .8462)}


def paper_table3() -> dict[str, dict[str, dict[str, float] | None]]:
    """Table 3 as ``{method: {clip or "average": {"psnr": .., "ssim": ..} or None}}``."""
    table: dict[str, dict[str, dict[str, float] | None]] = {}
    for i, method in enumerate(_T3_METHODS):
        table[method] = {row: (None if vals[i] is None else {"psnr": vals[i][0], "ssim": vals[i][1]})
                         for row, vals in _T3.items()}
    return copy.deepcopy(table)


def _fmt(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def _pair(psnr: Any, ssim: Any) -> str:
    return f"{_fmt(psnr, 2)}/{_fmt(ssim, 4)}"


def comparison_rows(result: dict[str, Any], paper: bool = True) -> list[dict[str, Any]]:
    """One dict per clip (+ "average"): ours (both protocols, tOF), our baselines, and paper Table 3 when Vid4."""
    table3 = result.get("paper_table3") if paper else None
    rows = []
    names = list(result["clips"]) + ["average"]
    for name in names:
        ours = result["average"] if name == "average" else result["clips"][name]
        row: dict[str, Any] = {"clip": name, "frames": ours["frames"], "psnr_y": ours["psnr_y"],
                               "ssim_y": ours["ssim_y"], "psnr_rgb_orig": ours["psnr_rgb_orig"]}
        if "tof" in ours:
            row["tof"] = ours["tof"]
        for base, res in result.get("baselines", {}).items():
            b = res["average"] if name == "average" else res["clips"].get(name, {})
            row[f"{base}_psnr_y"], row[f"{base}_ssim_y"] = b.get("psnr_y"), b.get("ssim_y")
        if table3:
            for method in ("Bicubic", "iSeeBetter"):
                cell = table3[method].get(name)
                row[f"paper_{method}"] = None if cell is None else (cell["psnr"], cell["ssim"])
        rows.append(row)
    return rows


def results_table(result: dict[str, Any], paper: bool = True) -> str:
    """Markdown table: per clip and average, ours beside the baselines and, for Vid4, the paper's Table 3."""
    rows = comparison_rows(result, paper)
    method = result.get("method", "ours")
    has_tof = any("tof" in r for r in rows)
    baselines = list(result.get("baselines", {}))
    head = ["clip", "frames", f"{method} PSNR-Y/SSIM-Y", f"{method} PSNR-RGB (orig. crop)"]
    head += ["tOF"] if has_tof else []
    head += [f"{b} PSNR-Y/SSIM-Y" for b in baselines]
    has_paper = any("paper_iSeeBetter" in r for r in rows)
    if has_paper:
        head += ["paper Bicubic", "paper iSeeBetter"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["clip"], str(r["frames"]), _pair(r["psnr_y"], r["ssim_y"]), _fmt(r["psnr_rgb_orig"], 2)]
        cells += [_fmt(r.get("tof"), 3)] if has_tof else []
        cells += [_pair(r[f"{b}_psnr_y"], r[f"{b}_ssim_y"]) for b in baselines]
        if has_paper:
            for key in ("paper_Bicubic", "paper_iSeeBetter"):
                cell = r.get(key)
                cells.append("-" if cell is None else f"{cell[0]:.2f}/{cell[1]:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    proto = result.get("protocol", {})
    if proto:
        lines.append("")
        lines.append(f"Protocol: {proto.get('degradation')} x{proto.get('scale')}; Y = {proto.get('y')}; "
                     f"crop {proto.get('crop')} px; {proto.get('frames')}; {proto.get('average')}. "
                     "PSNR-RGB (orig. crop): the original iSeeBetter test script's formula.")
        if has_paper:
            lines.append("Paper Table 3: protocol not stated (its bicubic row, 23.53/0.629, is not the standard "
                         "23.78/0.6347).")
    return "\n".join(lines)


def csv_text(result: dict[str, Any]) -> str:
    """Per-clip and average rows of the evaluated method and of each baseline."""
    out = io.StringIO()
    fields = ["method", "clip", "frames", "psnr_y", "ssim_y", "psnr_rgb_orig", "tof"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    runs = [(result.get("method", "ours"), result)] + list(result.get("baselines", {}).items())
    for method, res in runs:
        for name, entry in list(res["clips"].items()) + [("average", res["average"])]:
            writer.writerow({"method": method, "clip": name, "frames": entry["frames"],
                             **{k: ("" if entry.get(k) is None else entry[k]) for k in fields[3:]}})
    return out.getvalue()


def gain_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per clip: model, MATLAB bicubic, torch bicubic (the model's residual base) and the learned gain (Y-PSNR)."""
    rows = []
    base = result.get("baselines", {})
    for name in [*result["clips"], "average"]:
        ours = result["average"] if name == "average" else result["clips"][name]
        pick = lambda b: (base[b]["average"] if name == "average" else base[b]["clips"][name])["psnr_y"]  # noqa
        mat, tor = pick("bicubic"), pick("torch_bicubic")
        rows.append({"clip": name, "ours": ours["psnr_y"], "MATLAB bicubic": mat, "torch bicubic (base)": tor,
                     "gain over MATLAB bicubic": ours["psnr_y"] - mat,
                     "learned gain over own base": ours["psnr_y"] - tor})
    return rows
