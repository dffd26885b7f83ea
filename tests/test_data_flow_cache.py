"""Flow cache: float16 error, keys that never go stale, zero flow for copies, resumable and corruption-proof."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from iseebetter_lib.config import FlowConfig
from iseebetter_lib.data import FlowCache, degrade, read_video


@pytest.fixture(scope="module")
def lr_frames(sample_videos):
    return degrade(read_video(sample_videos["carphone_pristine"], max_frames=5), 4)  # 5 x 36 x 44


def test_float16_storage_error(tmp_path, lr_frames):
    from iseebetter_lib.flow import compute_window_flows

    cache = FlowCache(tmp_path)
    cached = cache.window("c", lr_frames, 2, [0, 1, 3, 4])
    exact = compute_window_flows(lr_frames[2], [lr_frames[j] for j in (0, 1, 3, 4)])
    err = np.abs(cached - exact)
    bound = np.maximum(np.abs(exact), 2.0 ** -14) * 2.0 ** -11  # half an ulp of float16 (normal range)
    assert np.all(err <= bound + 1e-7)
    assert err.max() < 0.004  # flows here are < 8 px: 2**-9 px at most
    again = FlowCache(tmp_path).window("c", lr_frames, 2, [0, 1, 3, 4])
    np.testing.assert_array_equal(again, cached)  # a hit returns exactly what the miss returned


def test_copies_have_zero_flow_and_hits_are_counted(tmp_path, lr_frames):
    cache = FlowCache(tmp_path)
    out = cache.window("c", lr_frames, 0, [0, 0, 1])
    assert np.all(out[:2] == 0) and np.abs(out[2]).max() > 0
    assert (cache.hits, cache.misses) == (0, 1)
    cache.window("c", lr_frames, 0, [1])
    assert (cache.hits, cache.misses) == (1, 1)


def test_keys_depend_on_clip_content_indices_and_parameters(tmp_path, lr_frames):
    cache = FlowCache(tmp_path)
    base = cache.key("c", lr_frames, 1, 2)
    assert cache.key("d", lr_frames, 1, 2) != base
    assert cache.key("c", lr_frames, 2, 1) != base
    edited = lr_frames.copy()
    edited[2, 0, 0, 0] ^= 1
    assert cache.key("c", edited, 1, 2) != base
    other = FlowCache(tmp_path, dataclasses.replace(FlowConfig(), alpha=0.02))
    assert other.key("c", lr_frames, 1, 2) != base
    cache.window("c", lr_frames, 1, [2])
    other.window("c", lr_frames, 1, [2])
    assert other.misses == 1  # other parameters never read the first entry


def test_corrupt_or_partial_entry_is_recomputed(tmp_path, lr_frames):
    cache = FlowCache(tmp_path)
    good = cache.window("c", lr_frames, 1, [2]).copy()
    path = cache.path(cache.key("c", lr_frames, 1, 2))
    data = path.read_bytes()
    for broken in (data[: len(data) // 2], b"garbage", b""):
        path.write_bytes(broken)
        fresh = FlowCache(tmp_path)
        np.testing.assert_array_equal(fresh.window("c", lr_frames, 1, [2]), good)
        assert fresh.misses == 1
    path.write_bytes(bytes(len(data)))  # right size, wrong checksum: also recomputed
    assert FlowCache(tmp_path).build([("c", lr_frames, [(1, [2])])], progress=False) == 1
    np.testing.assert_array_equal(FlowCache(tmp_path).window("c", lr_frames, 1, [2]), good)
    path.write_bytes(bytes(100))  # wrong size
    assert FlowCache(tmp_path).build([("c", lr_frames, [(1, [2])])], progress=False) == 1


def test_build_resumes(tmp_path, lr_frames):
    windows = [(t, [max(t - 1, 0), min(t + 1, 4)]) for t in range(5)]
    cache = FlowCache(tmp_path)
    assert cache.build([("c", lr_frames, windows[:2])], workers=2, progress=False) == 3  # (0,1), (1,0), (1,2)
    assert cache.build([("c", lr_frames, windows)], workers=2, progress=False) == 5
    assert cache.build([("c", lr_frames, windows)], progress=False) == 0
    leftovers = [p for p in (tmp_path / "flows").rglob("*") if p.is_file() and ".part" in p.name]
    assert not leftovers


def test_crop_vs_whole_epe_runs(lr_frames):
    from iseebetter_lib.data import crop_vs_whole_epe

    r = crop_vs_whole_epe(lr_frames, patch=24, n_samples=2)
    assert set(r) == {"epe", "epe_interior", "flow_magnitude"}
    assert all(np.isfinite(v) and v >= 0 for v in r.values())
    with pytest.raises(Exception, match="smaller than the patch"):
        crop_vs_whole_epe(lr_frames, patch=64)
