"""Property-based robustness: random shapes, dtypes, values and parameters never crash or hang the extension."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyflow

DTYPES = [np.float64, np.float32, np.uint8, np.int16, np.int64, np.bool_, np.complex64, np.float16]


@st.composite
def image_pairs(draw):
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    channels = draw(st.sampled_from([None, 1, 2, 3, 4]))
    shape = (h, w) if channels is None else (h, w, channels)
    dtype = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = (rng.random(shape) * draw(st.sampled_from([1.0, 255.0, 2.0]))).astype(dtype)
    b = (rng.random(shape) * 1.0).astype(dtype)
    if draw(st.booleans()) and np.issubdtype(dtype, np.floating):
        flat = a.reshape(-1)
        flat[draw(st.integers(0, flat.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if draw(st.booleans()):  # mismatched shapes
        b = b[: max(1, h - draw(st.integers(0, 2)))]
    if draw(st.booleans()):  # non-contiguous views
        a = np.asfortranarray(a)
    return a, b


def _whole_float_range():
    """Any float64 (subnormals, huge, NaN, Inf), with extra weight near the documented range and its edges."""
    lo, hi = pyflow.ALPHA_RANGE
    return st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(1e-4, 10),
                     st.sampled_from([lo, hi, lo * 0.999, hi * 1.001, 1e36, 1e-38, 0.0, -1.0]))


def _int_param(lo, hi):
    """Small valid and invalid integers, huge integers, integral and fractional floats, bools and strings (valid
    counts above `hi` are left out: they are legal but slow)."""
    return st.one_of(st.integers(lo, hi), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.sampled_from([True, "3", None, 2.5])).filter(
        lambda x: not isinstance(x, (int, float)) or not (hi < x <= 100000))


params = st.fixed_dictionaries({
    "alpha": _whole_float_range(),
    "ratio": st.one_of(st.floats(0.05, 0.99), st.floats(allow_nan=True, allow_infinity=True),
                       st.sampled_from([0.0, 1.0, 1.5, -0.5, 5e-324, 1 - 2**-53])),
    "minWidth": st.one_of(st.integers(-2, 30), st.sampled_from([10**6, 2**63, 4.0])),
    "nOuterFPIterations": _int_param(-1, 3),
    "nInnerFPIterations": _int_param(-1, 2),
    "nSORIterations": _int_param(-1, 4),
    "colType": st.one_of(st.integers(-1, 2), st.sampled_from([0.0, 1.5, True])),
})


def _is_int(x, lo, hi) -> bool:
    if isinstance(x, bool):
        return False
    if isinstance(x, float):
        if not (np.isfinite(x) and x.is_integer()):
            return False
        x = int(x)
    return isinstance(x, int) and lo <= x <= hi


def _valid(a, b, p) -> bool:
    channels = 1 if a.ndim == 2 else a.shape[2]
    lo, hi = pyflow.ALPHA_RANGE
    col = p["colType"]
    return (a.shape == b.shape and a.dtype in (np.float64, np.float32, np.uint8)
            and np.isfinite(a.astype(np.float64)).all() and np.isfinite(b.astype(np.float64)).all()
            and isinstance(p["alpha"], float) and lo <= p["alpha"] <= hi
            and isinstance(p["ratio"], float) and 0 < p["ratio"] < 1
            and all(_is_int(p[k], 1, 100000) for k in ("minWidth", "nOuterFPIterations", "nInnerFPIterations",
                                                      "nSORIterations"))
            and _is_int(col, 0, 1) and channels == (3 if int(col) == 0 else 1))


@pytest.mark.slow
@settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(pair=image_pairs(), p=params)
def test_random_inputs_return_or_raise_value_error(pair, p):
    a, b = pair
    try:
        u, v, w = pyflow.coarse2fine_flow(a, b, **p)
    except ValueError as exc:
        assert "\n" not in str(exc) and str(exc)
        assert not _valid(a, b, p), f"valid input rejected: {exc}"
        return
    assert _valid(a, b, p)
    assert u.shape == v.shape == a.shape[:2] and w.shape[:2] == a.shape[:2]
    assert np.isfinite(u).all() and np.isfinite(v).all() and np.isfinite(w).all()
    assert w.min() >= 0 and w.max() <= 1


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(h=st.integers(1, 10), w=st.integers(1, 10), n=st.integers(0, 4), threads=st.integers(1, 3))
def test_random_batches(h, w, n, threads):
    rng = np.random.default_rng(h * 100 + w * 10 + n)
    t = rng.random((h, w, 3))
    nbs = [rng.random((h, w, 3)) for _ in range(n)]
    u, v, warp = pyflow.coarse2fine_flow_batch(t, nbs, alpha=0.012, ratio=0.75, minWidth=2,
                                               nOuterFPIterations=2, nSORIterations=3, threads=threads)
    assert u.shape == (n, h, w) and warp.shape == (n, h, w, 3)
    assert np.isfinite(u).all() and np.isfinite(warp).all()


def test_batch_rejects_mismatched_neighbour():
    with pytest.raises(ValueError, match=r"neighbours\[1\]"):
        pyflow.coarse2fine_flow_batch(np.zeros((4, 4, 3)), [np.zeros((4, 4, 3)), np.zeros((4, 5, 3))])


def test_out_of_range_values_still_give_a_warp_in_the_unit_range():
    """Found by the fuzz test on a newer hypothesis: a 1x1 grey pair with a value of 162 (an unscaled image)."""
    u, v, w = pyflow.coarse2fine_flow(np.array([[162.42523027]]), np.array([[0.26978671]]), minWidth=1,
                                      nOuterFPIterations=1, nInnerFPIterations=1, nSORIterations=1, colType=1)
    assert np.isfinite(u).all() and np.isfinite(v).all()
    assert 0.0 <= w.min() and w.max() <= 1.0


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(h=st.integers(1, 40), w=st.integers(1, 40), threads=st.integers(2, 3), grey=st.booleans(),
       seed=st.integers(0, 2**16))
def test_random_sizes_same_flow_for_any_thread_count_and_build(h, w, threads, grey, seed):
    """Every level split over threads (par_min 0), and the portable build, give the one-thread flow bit for bit:
    odd sizes exercise the compact red-black layout's padding slots and the row splits."""
    from pyflow import _flow as portable

    rng = np.random.default_rng(seed)
    c = 1 if grey else 3
    a = rng.random((h, w, c))
    b = np.clip(np.roll(a, 1, axis=1) + 0.05 * rng.random((h, w, c)), 0, 1)
    args = (0.012, 0.75, 4, 2, 1, 5, int(grey))
    one = pyflow._ext.c2f(a, b, *args, threads=1)
    for other in (pyflow._ext.c2f(a, b, *args, threads=threads, extra={"par_min": 0}), portable.c2f(a, b, *args)):
        for x, y in zip(one, other):
            np.testing.assert_array_equal(x, y)
