"""Our Cython coarse-to-fine flow against the classic pyflow's reference flows (the data home's flow_reference/,
else the trimmed copy in tests/data)."""

from __future__ import annotations

import inspect
import json
import multiprocessing
import os

import numpy as np
import pytest

import pyflow

PARAMS = dict(alpha=0.012, ratio=0.75, minWidth=20, nOuterFPIterations=7, nInnerFPIterations=1,
              nSORIterations=30, colType=0)


@pytest.fixture(scope="module")
def reference(flow_reference):
    data = np.load(flow_reference / "pyflow_reference.npz")
    meta = json.loads((flow_reference / "pyflow_reference.json").read_text())
    pairs = sorted({k.split("__")[0] for k in data.files})
    return {p: {k.split("__")[1]: data[k].astype(np.float64) for k in data.files if k.startswith(p + "__")}
            for p in pairs}, meta


@pytest.fixture(scope="module")
def ours(reference):
    pairs, _ = reference
    return {p: pyflow.coarse2fine_flow(d["im1"], d["im2"], **PARAMS) for p, d in pairs.items()}


def _epe(u1, v1, u2, v2, border=0):
    e = np.hypot(u1 - u2, v1 - v2)
    return float(e[border:e.shape[0] - border, border:e.shape[1] - border].mean() if border else e.mean())


def test_reference_params_match_iseebetter(reference):
    _, meta = reference
    assert meta["params"] == PARAMS


def test_natural_pairs_close_to_classic(reference, ours):
    pairs, _ = reference
    natural = [p for p in pairs if "gt_u" not in pairs[p]]
    assert len(natural) >= 10
    for p in natural:
        u, v, _ = ours[p]
        epe = _epe(u, v, pairs[p]["u"], pairs[p]["v"])
        assert epe <= 0.10, f"{p}: EPE vs classic {epe:.4f}"


def test_synthetic_pairs_as_accurate_as_classic(reference, ours):
    """The issue allows 1.05x the classic's error; we hold 1.01x (measured 0.989-1.001). Reading a coarser level's
    stale weights and increments at the image border, fixed in this version, cost walk 1.017x-1.047x."""
    pairs, meta = reference
    synthetic = [p for p in pairs if "gt_u" in pairs[p]]
    assert len(synthetic) == sum("pyflow_epe_vs_gt_border4" in v for v in meta["pairs"].values()) >= 1
    for p in synthetic:
        u, v, _ = ours[p]
        ours_epe = _epe(u, v, pairs[p]["gt_u"], pairs[p]["gt_v"], border=4)
        classic = meta["pairs"][p]["pyflow_epe_vs_gt_border4"]
        assert ours_epe <= 1.01 * classic, f"{p}: {ours_epe:.4f} vs classic {classic:.4f}"


def test_warped_image_matches_classic(reference, ours):
    pairs, _ = reference
    for p, d in pairs.items():
        _, _, warp = ours[p]
        assert warp.shape == d["warp"].shape and warp.dtype == np.float64
        assert warp.min() >= 0.0 and warp.max() <= 1.0
        assert np.abs(warp - d["warp"]).mean() < 2e-3, p


def test_identical_frames_zero_flow_silently(reference, capfd):
    pairs, _ = reference
    im = pairs["identical_calendar_lr"]["im1"]
    u, v, warp = pyflow.coarse2fine_flow(im, im.copy(), **PARAMS)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert np.all(u == 0) and np.all(v == 0)
    assert np.isfinite(warp).all() and np.abs(warp - im).max() < 1e-12


def test_classic_signature_and_outputs(reference):
    sig = inspect.signature(pyflow.coarse2fine_flow)
    names = list(sig.parameters)[:9]
    assert names == ["im1", "im2", "alpha", "ratio", "minWidth", "nOuterFPIterations", "nInnerFPIterations",
                     "nSORIterations", "colType"]
    defaults = [sig.parameters[n].default for n in names[2:]]
    assert defaults == [1.0, 0.5, 40, 3, 1, 20, 0]
    pairs, _ = reference
    d = pairs["bikes_t124_64x64"]
    u, v, warp = pyflow.coarse2fine_flow(d["im1"], d["im2"])  # classic defaults, positional use
    assert u.shape == v.shape == (64, 64) and u.dtype == v.dtype == np.float64
    assert warp.shape == (64, 64, 3) and u.flags.c_contiguous
    assert np.isfinite(u).all() and np.abs(u).max() > 0  # alpha=1 smooths heavily: small but non-zero


def test_batch_equals_single_and_threads_do_not_change_results(reference):
    pairs, _ = reference
    t = pairs["bikes_t124_112x64"]["im1"]
    nbs = [pairs["bikes_t124_112x64"]["im2"], pairs["bikes_t10_112x64"]["im2"], t]
    bu, bv, bw = pyflow.coarse2fine_flow_batch(t, nbs, **PARAMS, threads=2)
    assert bu.shape == (3, 64, 112) and bw.shape == (3, 64, 112, 3)
    for i, nb in enumerate(nbs):
        u, v, w = pyflow.coarse2fine_flow(t, nb, **PARAMS, threads=1)
        np.testing.assert_array_equal(bu[i], u)
        np.testing.assert_array_equal(bv[i], v)
        np.testing.assert_array_equal(bw[i], w)
    u2, v2, _ = pyflow.coarse2fine_flow(t, nbs[0], **PARAMS, threads=2)
    np.testing.assert_array_equal(u2, bu[0])
    assert np.all(bu[2] == 0) and np.all(bv[2] == 0)
    eu, ev, ew = pyflow.coarse2fine_flow_batch(t, [], **PARAMS)
    assert eu.shape == (0, 64, 112) and ew.shape == (0, 64, 112, 3)


def test_grey_mode_and_input_conversions(reference):
    pairs, _ = reference
    d = pairs["vid4_walk_lr_f1_f2"]
    g1 = np.ascontiguousarray(d["im1"] @ [0.299, 0.587, 0.114])[..., None]
    g2 = np.ascontiguousarray(d["im2"] @ [0.299, 0.587, 0.114])[..., None]
    u, v, warp = pyflow.coarse2fine_flow(g1, g2, **{**PARAMS, "colType": 1})
    assert warp.shape == g1.shape
    assert _epe(u, v, d["u"], d["v"]) < 0.3  # grey loses the colour channels but follows the same motion
    # float32 and uint8 inputs are converted (uint8 / 255); non-contiguous views are copied
    a8, b8 = (d["im1"] * 255).round().astype(np.uint8), (d["im2"] * 255).round().astype(np.uint8)
    u8, v8, _ = pyflow.coarse2fine_flow(a8, b8, **PARAMS)
    uf, vf, _ = pyflow.coarse2fine_flow(a8 / 255.0, b8 / 255.0, **PARAMS)
    np.testing.assert_array_equal(u8, uf)
    u32, _, _ = pyflow.coarse2fine_flow(d["im1"].astype(np.float32), d["im2"].astype(np.float32), **PARAMS)
    assert np.abs(u32 - d["u"]).mean() < 0.05
    flipped = pyflow.coarse2fine_flow(d["im1"][:, ::-1], d["im2"][:, ::-1], **PARAMS)[0]
    assert np.isfinite(flipped).all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(ratio=1.0), "ratio"), (dict(ratio=0.0), "ratio"), (dict(alpha=0.0), "alpha"),
    (dict(alpha=float("nan")), "alpha"), (dict(nOuterFPIterations=0), "nOuterFPIterations"),
    (dict(nSORIterations=-3), "nSORIterations"), (dict(minWidth=0), "minWidth"), (dict(colType=2), "colType"),
])
def test_bad_parameters_raise_value_error(kwargs, match):
    im = np.zeros((8, 8, 3))
    with pytest.raises(ValueError, match=match):
        pyflow.coarse2fine_flow(im, im, **kwargs)


def test_bad_images_raise_value_error():
    im = np.zeros((8, 8, 3))
    with pytest.raises(ValueError, match="im2"):
        pyflow.coarse2fine_flow(im, np.zeros((8, 9, 3)))
    with pytest.raises(ValueError, match="channel"):
        pyflow.coarse2fine_flow(im[..., :2].copy(), im[..., :2].copy())
    with pytest.raises(ValueError, match="NaN"):
        bad = im.copy()
        bad[1, 1, 1] = np.nan
        pyflow.coarse2fine_flow(im, bad)
    with pytest.raises(ValueError, match="dtype"):
        pyflow.coarse2fine_flow(im.astype(np.int32), im.astype(np.int32))
    with pytest.raises(ValueError, match="empty"):
        pyflow.coarse2fine_flow(np.zeros((0, 4, 3)), np.zeros((0, 4, 3)))


@pytest.mark.parametrize("shape", [(1, 1, 3), (2, 3, 3), (1, 50, 3), (50, 1, 3), (5, 200, 3)])
def test_tiny_images_work(shape):
    rng = np.random.default_rng(0)
    a, b = rng.random(shape), rng.random(shape)
    u, v, w = pyflow.coarse2fine_flow(a, b, **PARAMS)
    assert u.shape == shape[:2] and np.isfinite(u).all() and np.isfinite(v).all() and np.isfinite(w).all()


def test_single_pair_threads_fall_back_when_cores_are_busy(monkeypatch):
    monkeypatch.setattr(pyflow.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(pyflow, "_busy_threads", lambda: 3)
    assert pyflow._pair_threads(4) == 1
    monkeypatch.setattr(pyflow, "_busy_threads", lambda: 1)
    assert pyflow._pair_threads(4) == 3 and pyflow._pair_threads(2) == 2
    monkeypatch.setattr(pyflow, "_busy_threads", lambda: 0)
    assert pyflow._pair_threads(4) == 4 and pyflow._pair_threads(1) == 1
    with pytest.raises(ValueError, match="threads"):
        pyflow.coarse2fine_flow(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)), threads="many")
    assert 0 <= pyflow._busy_threads() < 10_000  # the real reading (this process is not counted)


def _child_batch(queue, target, nbs, expected):
    u, _, _ = pyflow.coarse2fine_flow_batch(target, nbs, nOuterFPIterations=2, threads=2)
    queue.put(bool(np.array_equal(u, expected)))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork-only hazard")
def test_forked_child_after_parallel_use_does_not_hang():
    """GNU OpenMP hangs in a child forked after a parallel region (DataLoader workers); children run serially."""
    rng = np.random.default_rng(1)
    target, nbs = rng.random((24, 24, 3)), [rng.random((24, 24, 3)) for _ in range(3)]
    expected, _, _ = pyflow.coarse2fine_flow_batch(target, nbs, nOuterFPIterations=2, threads=2)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_batch, args=(queue, target, nbs, expected))
    proc.start()
    proc.join(30)
    if proc.is_alive():
        proc.kill()
        pytest.fail("forked child hung in OpenMP")
    assert queue.get(timeout=5) is True


def _c2f_args():
    p = PARAMS
    return (p["alpha"], p["ratio"], p["minWidth"], p["nOuterFPIterations"], p["nInnerFPIterations"],
            p["nSORIterations"], p["colType"])


@pytest.mark.parametrize("crop", [(64, 112), (37, 53)])  # odd sizes: a colour's last compact slot is padding
def test_parallel_sor_on_every_level_equals_one_thread(reference, crop):
    """Red-black SOR split over threads (forced on every pyramid level) gives bit-identical flows."""
    pairs, _ = reference
    d = pairs["bikes_t124_112x64"]
    a, b = (np.ascontiguousarray(d[k][:crop[0], :crop[1]]) for k in ("im1", "im2"))
    one = pyflow._ext.c2f(a, b, *_c2f_args(), threads=1)
    for nt in (2, 3):
        many = pyflow._ext.c2f(a, b, *_c2f_args(), threads=nt, extra={"par_min": 0})
        for x, y in zip(one, many):
            np.testing.assert_array_equal(x, y)


def test_avx2_build_is_bit_identical_to_baseline(reference):
    """Both builds of the extension compute the same flow (no FMA contraction, no reassociation)."""
    from pyflow import _flow as baseline
    try:
        from pyflow import _flow_avx2
    except ImportError:
        pytest.skip("no AVX2 build on this platform")
    if not pyflow._cpu_has_avx2():
        pytest.skip("this CPU has no AVX2")
    pairs, _ = reference
    for name in ("bikes_t124_112x64", "vid4_calendar_lr_f1_f2"):
        d = pairs[name]
        for crop in (None, (31, 45)):
            a, b = d["im1"], d["im2"]
            if crop:
                a, b = (np.ascontiguousarray(x[:crop[0], :crop[1]]) for x in (a, b))
            for x, y in zip(baseline.c2f(a, b, *_c2f_args()), _flow_avx2.c2f(a, b, *_c2f_args())):
                np.testing.assert_array_equal(x, y)
    assert pyflow.SIMD in ("avx2", "baseline")


def test_simd_choice_from_environment(repo_root):
    """PYFLOW_SIMD=baseline forces the portable build; a bad value is a one-line ImportError naming the variable."""
    import subprocess
    import sys

    code = "import pyflow; print(pyflow.SIMD)"
    env = dict(os.environ, PYFLOW_SIMD="baseline")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=repo_root)
    assert out.returncode == 0 and out.stdout.strip() == "baseline"
    env["PYFLOW_SIMD"] = "sse9"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=repo_root)
    assert out.returncode != 0 and "PYFLOW_SIMD: expected auto, avx2 or baseline, got 'sse9'" in out.stderr
