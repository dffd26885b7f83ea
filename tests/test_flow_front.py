"""The library's flow front: window flows, backends, warping and the Middlebury colour wheel."""

from __future__ import annotations

import numpy as np
import pytest

from iseebetter_lib import flow as F
from iseebetter_lib.config import FlowConfig
from iseebetter_lib.errors import UserError


@pytest.fixture(scope="module")
def frames(flow_reference):
    data = np.load(flow_reference / "pyflow_reference.npz")
    p = "synthetic_bikes_t124_112x64"
    im1, im2, u, v = (data[p + k].astype(np.float64) for k in ("__im1", "__im2", "__gt_u", "__gt_v"))
    return im1, im2, np.stack([u, v])


def test_backends():
    names = F.available_backends()
    assert "pyflow" in names and "dis" in names  # cv2 is part of the test extra


def test_compute_flow_follows_ground_truth(frames):
    im1, im2, gt = frames
    flow = F.compute_flow(im1, im2)
    assert flow.shape == (2, 64, 112) and flow.dtype == np.float32
    assert np.hypot(*(flow - gt))[4:-4, 4:-4].mean() < 0.25
    flow8 = F.compute_flow((im1 * 255).round().astype(np.uint8), (im2 * 255).round().astype(np.uint8))
    assert np.abs(flow8 - flow).mean() < 0.05


def test_window_flows_equal_single_calls(frames):
    im1, im2, _ = frames
    flows = F.compute_window_flows(im1, [im2, im1, im2], threads=2)
    assert flows.shape == (3, 2, 64, 112) and flows.dtype == np.float32
    np.testing.assert_array_equal(flows[0], F.compute_flow(im1, im2))
    assert np.all(flows[1] == 0)
    assert F.compute_window_flows(im1, []).shape == (0, 2, 64, 112)
    with pytest.raises(UserError, match=r"neighbours\[0\]"):
        F.compute_window_flows(im1, [im2[:10]])


def test_dis_backend(frames):
    im1, im2, gt = frames
    cfg = FlowConfig(backend="dis")
    flow = F.compute_flow(im1, im2, cfg)
    assert flow.shape == (2, 64, 112) and flow.dtype == np.float32
    assert np.hypot(*(flow - gt))[4:-4, 4:-4].mean() < 1.0
    assert F.compute_window_flows(im1, [im2, im2], cfg).shape == (2, 2, 64, 112)


def test_bad_config_and_input(frames, monkeypatch):
    im1, im2, _ = frames
    with pytest.raises(UserError, match="flow.backend"):
        F.compute_flow(im1, im2, FlowConfig(backend="raft"))
    with pytest.raises(UserError, match="flow.ratio"):
        F.compute_flow(im1, im2, FlowConfig(ratio=1.5))
    monkeypatch.setattr(F, "available_backends", lambda: ["pyflow"])
    with pytest.raises(UserError, match="'dis' is not available"):
        F.compute_flow(im1, im2, FlowConfig(backend="dis"))
    monkeypatch.undo()
    with pytest.raises(UserError, match="im2"):
        F.compute_flow(im1, im2[:, :50])
    with pytest.raises(UserError, match="NaN"):
        F.compute_flow(np.full_like(im1, np.nan), im2)
    with pytest.raises(UserError, match="dtype"):
        F.compute_flow(im1.astype(np.int32), im2.astype(np.int32))


def test_warp_inverts_flow(frames):
    im1, im2, gt = frames
    np.testing.assert_allclose(F.warp(im2, np.zeros((2, 64, 112))), im2.astype(np.float32), atol=1e-6)
    warped = F.warp(im2, gt)  # im1(x) ~ im2(x + gt(x))
    assert np.abs(warped - im1)[4:-4, 4:-4].mean() < 0.5 * np.abs(im2 - im1)[4:-4, 4:-4].mean()
    chw = F.warp(im2.transpose(2, 0, 1), gt.transpose(1, 2, 0))
    np.testing.assert_allclose(chw, warped, atol=1e-6)
    ramp = np.tile(np.arange(10, dtype=np.float32), (4, 1))
    shifted = F.warp(ramp, np.stack([np.full((4, 10), 1.5), np.zeros((4, 10))]))
    np.testing.assert_allclose(shifted[:, :8, 0], ramp[:, :8] + 1.5, atol=1e-5)
    assert np.all(shifted[:, -1, 0] == 9)  # border replicated
    with pytest.raises(UserError, match="flow"):
        F.warp(im2, np.zeros((2, 3, 3)))


def test_flow_to_color():
    flow = np.zeros((2, 5, 5), np.float32)
    img = F.flow_to_color(flow)
    assert img.shape == (5, 5, 3) and img.dtype == np.uint8 and np.all(img == 255)  # no motion: white
    right = F.flow_to_color(np.stack([np.ones((3, 3)), np.zeros((3, 3))]))
    up = F.flow_to_color(np.stack([np.zeros((3, 3)), -np.ones((3, 3))]))
    left = F.flow_to_color(np.stack([-np.ones((3, 3)), np.zeros((3, 3))]))
    assert right[0, 0, 0] > 200 and right[0, 0, 2] < 100  # right: red
    assert left[0, 0, 2] > 200 or left[0, 0, 1] > 200  # left: cyan/blue side of the wheel
    assert not np.array_equal(up[0, 0], right[0, 0])
    half = F.flow_to_color(np.stack([np.ones((3, 3)), np.zeros((3, 3))]), max_norm=2.0)
    assert half[0, 0].min() > right[0, 0].min()  # smaller relative magnitude: less saturated
    hwc = F.flow_to_color(np.zeros((4, 6, 2)))
    assert hwc.shape == (4, 6, 3)
    nan = F.flow_to_color(np.full((2, 2, 2), np.nan))
    assert nan.shape == (2, 2, 3)
    with pytest.raises(UserError):
        F.flow_to_color(np.zeros((3, 4, 4)))


def test_grey_config_and_threads_do_not_change_flows(frames):
    im1, im2, gt = frames
    grey = F.compute_flow(im1, im2, FlowConfig(col_type=1))
    assert grey.shape == (2, 64, 112) and np.hypot(*(grey - gt))[4:-4, 4:-4].mean() < 0.5
    one = F.compute_window_flows(im1, [im2, im2], threads=1)
    np.testing.assert_array_equal(one, F.compute_window_flows(im1, [im2, im2], threads=3))
