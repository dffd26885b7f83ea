"""TrainingDataset: aligned crops, flows that match the frames after augmentation, determinism, bad clips,
shot-aware windows; the embedded dataset's split; evaluation clips."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from iseebetter_lib.config import DataConfig
from iseebetter_lib.data import (TrainingDataset, degrade, embedded_dataset, imresize, load_eval_clips, read_video)
from iseebetter_lib.data.embedded import assign_splits
from iseebetter_lib.errors import UserError


def _write_clip(folder, frames):
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        Image.fromarray(f).save(folder / f"f{i}.png")


@pytest.fixture(scope="module")
def carphone(sample_videos):
    return read_video(sample_videos["carphone_pristine"], max_frames=8)  # 8 x 144 x 176


def _cfg(tmp_path, **kw):
    base = dict(source="folder", root=str(tmp_path / "clips"), cache_dir=str(tmp_path / "cache"), nFrames=3,
                patch_size=16)
    base.update(kw)
    return DataConfig(**base)


def test_item_layout_alignment_and_determinism(tmp_path, carphone):
    _write_clip(tmp_path / "clips" / "a", carphone)
    ds = TrainingDataset(_cfg(tmp_path, hflip=False, vflip=False, rot180=False), progress=False)
    assert len(ds) == 8
    item = ds[3]
    assert item["target"].shape == (3, 16, 16) and item["neighbours"].shape == (2, 3, 16, 16)
    assert item["flows"].shape == (2, 2, 16, 16) and item["hr"].shape == (3, 64, 64)
    assert all(v.dtype == torch.float32 for v in item.values())
    assert 0 <= item["target"].min() and item["target"].max() <= 1
    # the LR target is the degraded HR patch (away from the patch border, where padding differs)
    hr = (item["hr"].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    lr = (item["target"].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    assert np.abs(degrade(hr, 4).astype(int) - lr.astype(int))[3:-3, 3:-3].max() <= 1
    again = TrainingDataset(_cfg(tmp_path, hflip=False, vflip=False, rot180=False), progress=False)
    _ = again[0], again[7]
    for key in item:
        assert torch.equal(item[key], again[3][key])
    other = TrainingDataset(_cfg(tmp_path, hflip=False, vflip=False, rot180=False), seed=7, progress=False)
    assert not torch.equal(other[3]["target"], item["target"])
    longer = TrainingDataset(_cfg(tmp_path), length=20, progress=False)
    assert len(longer) == 20 and longer[19]["target"].shape == (3, 16, 16)


def test_worker_count_does_not_change_items(tmp_path, carphone):
    _write_clip(tmp_path / "clips" / "a", carphone[:4])
    ds = TrainingDataset(_cfg(tmp_path, rot90=True), progress=False)
    serial = [ds[i]["flows"] for i in range(len(ds))]
    loader = torch.utils.data.DataLoader(ds, batch_size=1, num_workers=2)
    parallel = [b["flows"][0] for b in loader]
    assert len(parallel) == len(serial) > 0
    assert all(torch.equal(a, b) for a, b in zip(serial, parallel))


def test_flows_align_frames_under_augmentation(tmp_path, sample_videos):
    from iseebetter_lib.flow import warp

    frames = read_video(sample_videos["bikes"], max_frames=60)[50:56, :, :256]  # moving camera
    _write_clip(tmp_path / "clips" / "b", frames)
    ds = TrainingDataset(_cfg(tmp_path, patch_size=32, rot90=True), progress=False)
    gain = []
    for i in range(len(ds)):
        item = ds[i]
        target = item["target"].permute(1, 2, 0).numpy()
        for k in range(2):
            nb = item["neighbours"][k].permute(1, 2, 0).numpy()
            warped = warp(nb, item["flows"][k].numpy())
            inner = (slice(4, -4), slice(4, -4))
            gain.append(np.abs(nb - target)[inner].mean() - np.abs(warped - target)[inner].mean())
    assert np.mean(gain) > 0.005 and np.mean(np.array(gain) > 0) > 0.7  # wrong signs: < 0, <= 0.25


def test_short_clip_small_clip_and_modcrop(tmp_path, carphone):
    _write_clip(tmp_path / "clips" / "short", carphone[:2])
    _write_clip(tmp_path / "clips" / "tiny", carphone[:3, :40, :40])
    _write_clip(tmp_path / "clips" / "odd", carphone[:3, :142, :174])
    with pytest.warns(UserWarning) as record:
        ds = TrainingDataset(_cfg(tmp_path, nFrames=5, boundary="reflect"), progress=False)
    text = " ".join(str(w.message) for w in record)
    assert "2 frames < nFrames=5" in text and "smaller than the patch" in text and "not divisible by 4" in text
    assert [c.id for c in ds.clips] == ["odd", "short"]
    assert ds.clips[0].hr.shape[1:3] == (140, 172)
    assert ds[3]["neighbours"].shape == (4, 3, 16, 16)
    with pytest.raises(UserError, match="no clip has LR frames"), pytest.warns(UserWarning):
        TrainingDataset(_cfg(tmp_path, patch_size=64), progress=False)
    with pytest.raises(UserError, match="not found"):
        TrainingDataset(_cfg(tmp_path, root=str(tmp_path / "missing")), progress=False)


def test_video_source_windows_stay_inside_shots(tmp_path, sample_videos, carphone):
    import av

    other = imresize(read_video(sample_videos["bikes"], max_frames=6)[:, :, 100:500], output_shape=(144, 176))
    frames = np.concatenate([carphone[:6], other])
    path = tmp_path / "cut.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "10"})
        stream.width, stream.height, stream.pix_fmt = 176, 144, "yuv420p"
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    ds = TrainingDataset(_cfg(tmp_path, source="video", root=str(path), nFrames=5), progress=False)
    assert [(c.id, len(c)) for c in ds.clips] == [("cut_shot00", 6), ("cut_shot01", 6)]
    assert all(max(ds.neighbours(c, t)) < 6 for c, t in ds.samples)
    on_the_fly = TrainingDataset(_cfg(tmp_path, source="video", root=str(path), nFrames=5), flow_mode="on_the_fly",
                                 progress=False)
    assert on_the_fly[2]["flows"].shape == (4, 2, 16, 16)


def test_split_by_shot_is_deterministic_without_leakage():
    lengths = {"a": 132, "b": 120, "c": 61, "d": 55, "e": 50, "f": 46, "g": 30, "h": 8}
    splits = assign_splits(lengths)
    assert splits == assign_splits(dict(reversed(list(lengths.items()))))
    per = {s: sum(n for k, n in lengths.items() if splits[k] == s) for s in ("train", "val", "test")}
    assert per == {"train": 398, "val": 50, "test": 54}


@pytest.mark.slow
def test_embedded_subset_builds_once(tmp_path, monkeypatch):
    root = embedded_dataset(tmp_path, progress=False, videos=("carphone_pristine", "bikes"), max_frames=40)
    manifest = json.loads((root / "manifest.json").read_text())
    clips = manifest["clips"]
    assert {k: (v["split"], v["n_frames"]) for k, v in clips.items()} == {
        "carphone_pristine_shot00": ("train", 40), "bikes_shot00": ("train", 30), "bikes_shot01": ("val", 10)}
    assert len(list((root / "val" / "bikes_shot01").glob("*.png"))) == 10
    # The second call is a cache hit: the manifest is read, no video is decoded and nothing is rewritten.
    written = {p: p.stat().st_mtime_ns for p in root.rglob("*")}

    def no_decoding(*args, **kwargs):
        raise AssertionError("the cached dataset was rebuilt")

    with monkeypatch.context() as patch:
        patch.setattr("iseebetter_lib.data.video.read_video", no_decoding)
        assert embedded_dataset(tmp_path, progress=False, videos=("carphone_pristine", "bikes"), max_frames=40) == root
        assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == written
        (root / "manifest.json").unlink()  # an interrupted build (no manifest): redone, so the videos are read
        with pytest.raises(AssertionError, match="rebuilt"):
            embedded_dataset(tmp_path, progress=False, videos=("carphone_pristine", "bikes"), max_frames=40)
    embedded_dataset(tmp_path, progress=False, videos=("carphone_pristine", "bikes"), max_frames=40)
    assert (root / "manifest.json").is_file()
    ds = TrainingDataset(DataConfig(root=str(root), cache_dir=str(tmp_path), nFrames=3, patch_size=32),
                         split="val", progress=False)
    assert [c.id for c in ds.clips] == ["bikes_shot01"]


def test_eval_clips(tmp_path, vid4_dir):
    clips = load_eval_clips("vid4", max_frames=2, clips=["calendar"], cache_dir=tmp_path)
    assert len(clips) == 1 and clips[0].name == "calendar"
    assert clips[0].hr.shape == (2, 576, 720, 3) and clips[0].lr.shape == (2, 144, 180, 3)
    np.testing.assert_array_equal(clips[0].lr, degrade(clips[0].hr, 4))
    assert len(list((tmp_path / "eval_lr").glob("*.npy"))) == 1
    cached = load_eval_clips("vid4", max_frames=2, clips=["calendar"], cache_dir=tmp_path)
    np.testing.assert_array_equal(cached[0].lr, clips[0].lr)
    bd = load_eval_clips(vid4_dir, degradation="BD", max_frames=1, frame_step=3,
                         clips=["walk"])
    assert bd[0].lr.shape == (1, 120, 180, 3)
    with pytest.raises(UserError, match="no clip named"):
        load_eval_clips("vid4", clips=["nope"])
    with pytest.raises(UserError, match="not found"):
        load_eval_clips(tmp_path / "nothing")


def test_vimeo_source(tmp_path, carphone):
    for n, seq in enumerate(("00001/0001", "00001/0002")):
        _write_clip(tmp_path / "v" / "sequences" / seq, [])
        for i in range(7):
            Image.fromarray(carphone[i + n, :64, :96]).save(tmp_path / "v" / "sequences" / seq / f"im{i + 1}.png")
    (tmp_path / "v" / "sep_trainlist.txt").write_text("00001/0002\n")
    cfg = DataConfig(source="vimeo90k", root=str(tmp_path / "v"), cache_dir=str(tmp_path / "cache"), patch_size=8,
                     hflip=False, vflip=False, rot180=False)
    ds = TrainingDataset(cfg, progress=False)
    assert len(ds) == 1 and ds.samples == [(0, 3)] and ds.neighbours(0, 3) == [0, 1, 2, 4, 5, 6]
    item = ds[0]
    assert item["neighbours"].shape == (6, 3, 8, 8) and item["hr"].shape == (3, 32, 32)
    assert ds.build_flow_cache(progress=False) == 0  # the item already filled the cache
    with pytest.raises(UserError, match="data.root"):
        TrainingDataset(DataConfig(source="vimeo90k", cache_dir=str(tmp_path / "cache")), progress=False)
