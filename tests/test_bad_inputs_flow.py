"""Bad parameters for the flow API (`pyflow` and `iseebetter_lib.flow`): a one-line ValueError / UserError naming
the parameter, before any work; the extension itself never crashes, even when called past the validation."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import pyflow
from iseebetter_lib.config import FlowConfig
from iseebetter_lib.errors import UserError
from iseebetter_lib.flow import compute_flow, compute_window_flows

RNG = np.random.default_rng(0)
A, B = RNG.random((12, 14, 3)), RNG.random((12, 14, 3))
GOOD = dict(alpha=0.012, ratio=0.75, minWidth=4, nOuterFPIterations=2, nInnerFPIterations=1, nSORIterations=3,
            colType=0)

BAD_PARAMS = [
    ("alpha", 1e36), ("alpha", 1e300), ("alpha", -1e36), ("alpha", 1e-38), ("alpha", 5e-324), ("alpha", 0.0),
    ("alpha", math.nan), ("alpha", math.inf), ("alpha", "0.1"), ("alpha", True), ("alpha", None),
    ("alpha", np.float32(2e6)),
    ("ratio", 1.0), ("ratio", 0.0), ("ratio", math.nan), ("ratio", -math.inf), ("ratio", 1e308), ("ratio", "0.5"),
    ("minWidth", 2.5), ("minWidth", True), ("minWidth", "3"), ("minWidth", 0), ("minWidth", 10**30),
    ("minWidth", math.inf),
    ("nOuterFPIterations", -1), ("nOuterFPIterations", 100001), ("nOuterFPIterations", math.nan),
    ("nInnerFPIterations", 0), ("nInnerFPIterations", 1.5),
    ("nSORIterations", 2**63), ("nSORIterations", np.float64(3.25)), ("nSORIterations", None),
    ("colType", 2), ("colType", -1), ("colType", 0.5), ("colType", False),
]


@pytest.mark.parametrize("front", ["pair", "batch"])
@pytest.mark.parametrize(("name", "value"), BAD_PARAMS, ids=[f"{n}={v!r}" for n, v in BAD_PARAMS])
def test_bad_parameter_is_one_line_naming_it(front, name, value):
    params = dict(GOOD, **{name: value})
    with pytest.raises(ValueError) as info:
        if front == "pair":
            pyflow.coarse2fine_flow(A, B, **params)
        else:
            pyflow.coarse2fine_flow_batch(A, [B, B], **params)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{name}:"), message


@pytest.mark.parametrize(("name", "value"), [("alpha", 1e-6), ("alpha", 1e6), ("minWidth", 4.0),
                                             ("nSORIterations", np.int64(3)), ("alpha", np.float32(0.5))])
def test_edges_of_the_documented_ranges_are_accepted(name, value):
    u, v, w = pyflow.coarse2fine_flow(A, B, **dict(GOOD, **{name: value}))
    assert np.isfinite(u).all() and np.isfinite(v).all() and np.isfinite(w).all()


def test_library_front_turns_it_into_a_user_error():
    """An out-of-range alpha is a one-line error naming the configuration key, before pyflow is called."""
    cfg = FlowConfig(alpha=1e36, min_width=4, n_outer=2, n_sor=3)
    for call in (lambda: compute_flow(A, B, cfg), lambda: compute_window_flows(A, [B], cfg)):
        with pytest.raises(UserError, match=r"^flow\.alpha=1e\+36 is invalid: expected a finite number"):
            call()


@pytest.mark.parametrize(("field", "value"), [("n_sor", 2.5), ("min_width", 10**9), ("ratio", float("nan"))])
def test_library_front_names_the_configuration_key(field, value):
    with pytest.raises(UserError, match=rf"^flow.{field}[:=]"):  # config.py's own check or pyflow's
        compute_flow(A, B, FlowConfig(**{field: value}))


def test_extension_survives_overflowing_alpha_past_the_validation():
    """The segfault of alpha ~1e36 came from indexing the warp with a NaN flow: the private extension call (no
    validation) must now return, whatever the numbers, in a process of its own so that a crash fails the test."""
    code = ("import numpy as np, pyflow; r = np.random.default_rng(0); a, b = r.random((40, 50, 3)), "
            "r.random((40, 50, 3))\n"
            "for alpha in (1e36, 3e38, 1e-45):\n"
            "    u, v, w = pyflow._ext.c2f(a, b, alpha, 0.75, 4, 3, 1, 10, 0, threads=1)\n"
            "    assert np.isfinite(w).all() and w.shape == a.shape\n"
            "print('survived')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "survived" in result.stdout, (result.returncode, result.stderr[-500:])
