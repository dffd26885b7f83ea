"""Readers: natural order, Vimeo-90K layout, video files, and every kind of bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from iseebetter_lib.data import (iter_video_frames, list_vimeo_septuplets, natural_sort, read_frame_folder,
                                 read_frames, read_image, read_septuplet, read_video, video_info)
from iseebetter_lib.errors import UserError


def _png(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def test_natural_sort():
    names = [f"Frame {i}.png" for i in (10, 2, 1, 33, 3)]
    assert natural_sort(names) == ["Frame 1.png", "Frame 2.png", "Frame 3.png", "Frame 10.png", "Frame 33.png"]
    assert natural_sort(["im10", "im9", "Im1"]) == ["Im1", "im9", "im10"]


def test_frame_folder_natural_order(tmp_path):
    for i in range(1, 11):
        _png(tmp_path / "clip" / f"Frame {i}.png", np.full((8, 12, 3), i, np.uint8))
    (tmp_path / "clip" / "notes.txt").write_text("not a frame")
    frames = read_frame_folder(tmp_path / "clip")
    assert frames.shape == (10, 8, 12, 3) and frames.dtype == np.uint8
    assert list(frames[:, 0, 0, 0]) == list(range(1, 11))
    assert list(read_frame_folder(tmp_path / "clip", max_frames=3, frame_step=2)[:, 0, 0, 0]) == [1, 3, 5]
    assert read_frames(tmp_path / "clip", max_frames=2).shape == (2, 8, 12, 3)


def test_vid4_names(vid4_dir):
    frames = read_frame_folder(vid4_dir / "foliage", max_frames=2)
    assert frames.shape == (2, 480, 720, 3)


def test_missing_and_empty_folder(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_frame_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no image frames"):
        read_frame_folder(tmp_path / "empty")
    with pytest.raises(UserError, match="no such file"):
        read_frames(tmp_path / "nope.mp4")


def test_corrupt_image_names_file(tmp_path):
    _png(tmp_path / "c" / "0.png", np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "c" / "1.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(UserError, match="1.png: cannot read image"):
        read_frame_folder(tmp_path / "c")


def test_frames_of_different_sizes(tmp_path):
    _png(tmp_path / "c" / "0.png", np.zeros((8, 8, 3), np.uint8))
    _png(tmp_path / "c" / "1.png", np.zeros((8, 12, 3), np.uint8))
    with pytest.raises(UserError, match="1.png: frame size 12x8 differs"):
        read_frame_folder(tmp_path / "c")


def test_grey_rgba_16bit_are_converted_with_warnings(tmp_path):
    grey = np.arange(48, dtype=np.uint8).reshape(6, 8)
    _png(tmp_path / "g.png", grey)
    with pytest.warns(UserWarning, match="grey"):
        out = read_image(tmp_path / "g.png")
    assert out.shape == (6, 8, 3) and np.all(out == grey[:, :, None])

    rgba = np.random.default_rng(0).integers(0, 256, (6, 8, 4), dtype=np.uint8)
    _png(tmp_path / "a.png", rgba)
    with pytest.warns(UserWarning, match="alpha"):
        out = read_image(tmp_path / "a.png")
    np.testing.assert_array_equal(out, rgba[..., :3])

    g16 = (np.arange(48).reshape(6, 8) * 1300).astype(np.uint16)
    Image.fromarray(g16).save(tmp_path / "g16.png")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = read_image(tmp_path / "g16.png")
    messages = " ".join(str(w.message) for w in record)
    assert "16-bit" in messages and "grey" in messages
    np.testing.assert_array_equal(out[..., 0], np.floor(g16 / 257.0 + 0.5).astype(np.uint8))

    cv2 = pytest.importorskip("cv2")
    rgb16 = (np.random.default_rng(1).integers(0, 65536, (6, 8, 3))).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "c16.png"), rgb16[..., ::-1])
    with pytest.warns(UserWarning, match="16-bit"):
        out = read_image(tmp_path / "c16.png")
    assert np.abs(out.astype(int) - (rgb16 >> 8)).max() <= 1


def test_plain_rgb_no_warning(tmp_path):
    _png(tmp_path / "x.png", np.zeros((4, 4, 3), np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_image(tmp_path / "x.png")


def test_vimeo_layout(tmp_path):
    for seq in ("00001/0001", "00001/0002", "00002/0001"):
        for i in range(1, 8):
            _png(tmp_path / "sequences" / seq / f"im{i}.png", np.full((8, 8, 3), i, np.uint8))
    assert [p.parts[-2:] for p in list_vimeo_septuplets(tmp_path)] == [
        ("00001", "0001"), ("00001", "0002"), ("00002", "0001")]
    (tmp_path / "sep_trainlist.txt").write_text("00001/0002\n\n00002/0001\n")
    (tmp_path / "sep_testlist.txt").write_text("00001/0001\n")
    assert [p.name for p in list_vimeo_septuplets(tmp_path)] == ["0002", "0001"]
    assert len(list_vimeo_septuplets(tmp_path, split="test")) == 1
    assert list(read_septuplet(list_vimeo_septuplets(tmp_path)[0])[:, 0, 0, 0]) == list(range(1, 8))
    (tmp_path / "bad.txt").write_text("00009/0001\n")
    with pytest.raises(UserError, match="00009"):
        list_vimeo_septuplets(tmp_path, tmp_path / "bad.txt")
    with pytest.raises(UserError, match="no Vimeo-90K"):
        list_vimeo_septuplets(tmp_path / "sequences" / "00001")


def test_video_info_and_streaming(sample_videos):
    path = sample_videos["carphone_pristine"]
    info = video_info(path)
    assert (info.n_frames, info.width, info.height) == (120, 176, 144)
    assert abs(info.fps - 29.97) < 0.01
    frames = iter_video_frames(path, max_frames=5)
    first = next(frames)
    assert first.shape == (144, 176, 3) and first.dtype == np.uint8
    assert len(list(frames)) == 4
    clip = read_frames(path, max_frames=6, frame_step=2)
    assert clip.shape == (6, 144, 176, 3)
    np.testing.assert_array_equal(clip[1], read_video(path, max_frames=3)[2])


def test_corrupt_video(tmp_path, sample_videos):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    with pytest.raises(UserError, match="bad.mp4"):
        video_info(bad)
    with pytest.raises(UserError, match="bad.mp4"):
        read_video(bad)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(sample_videos["carphone_pristine"].read_bytes()[:4000])
    with pytest.raises(UserError, match="cut.mp4"):
        read_video(cut)
