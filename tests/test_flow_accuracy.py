"""Flow accuracy measures the book and the benchmarks share: endpoint error and warping error."""

from __future__ import annotations

import numpy as np
import pytest

from iseebetter_lib.evaluation.flow_accuracy import BORDER, epe, warp_error


@pytest.fixture(scope="module")
def pair(flow_reference):
    data = np.load(flow_reference / "pyflow_reference.npz")
    p = "synthetic_bikes_t124_112x64"
    im1, im2, u, v = (data[p + k].astype(np.float64) for k in ("__im1", "__im2", "__gt_u", "__gt_v"))
    return im1, im2, u, v


def test_epe_is_the_mean_endpoint_distance_inside_the_border():
    u, v = np.zeros((20, 30)), np.zeros((20, 30))
    flow = np.stack([u + 3.0, v + 4.0])
    assert epe(np.stack([u, v]), u, v) == 0.0
    assert epe(flow, u, v) == pytest.approx(5.0)
    flow[:, :BORDER] = 100.0  # errors in the excluded border do not count
    assert epe(flow, u, v) == pytest.approx(5.0)
    assert epe(flow, u, v, border=0) > 5.0


def test_warp_error_falls_with_the_true_flow(pair):
    im1, im2, u, v = pair
    assert warp_error(im1, im1, np.zeros((2, *im1.shape[:2]), np.float32)) == 0.0
    zero = warp_error(im1, im2, np.zeros((2, *im1.shape[:2]), np.float32))
    true = warp_error(im1, im2, np.stack([u, v]).astype(np.float32))
    assert true < zero / 2
