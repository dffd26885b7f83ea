"""Upscaling: sliding window order and streaming, tiling equivalence and budget, writer atomicity, the CLI."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import torch

from iseebetter_lib.config import preset
from iseebetter_lib.errors import UserError
from iseebetter_lib.inference import tiling
from iseebetter_lib.inference.window import SlidingWindow, _default_index_fn


def _labelled(n, h=4, w=5):
    return [np.full((h, w, 3), i, np.uint8) for i in range(n)]


# ---------------------------------------------------------------- sliding window
@pytest.mark.parametrize("nFrames", [2, 3, 5, 7])
@pytest.mark.parametrize("future", [True, False])
@pytest.mark.parametrize("boundary", ["copy", "reflect"])
def test_window_order_matches_neighbour_indices(nFrames, future, boundary):
    neighbour_indices = _default_index_fn()  # data.neighbour_indices

    for n_total in (1, 2, nFrames - 1, nFrames, 2 * nFrames + 3):
        if n_total < 1:
            continue
        sw = SlidingWindow(iter(_labelled(n_total)), nFrames, future=future, boundary=boundary)
        windows = list(sw)
        assert [w.index for w in windows] == list(range(n_total))
        for w in windows:
            expected = list(neighbour_indices(w.index, n_total, nFrames, future=future, boundary=boundary))
            assert w.indices == expected
            assert int(w.target[0, 0, 0]) == w.index
            assert [int(f[0, 0, 0]) for f in w.neighbours] == expected
        ahead = max(max(w.indices + [w.index]) - w.index for w in windows)
        assert sw.max_buffered <= sw.back + 1 + ahead + 1


def test_window_is_one_window_and_reads_lazily():
    """Paper order for 7 frames; the reader runs exactly nFrames//2 frames ahead; never more than 7 held."""
    consumed = []

    def frames():
        for f in _labelled(20):
            consumed.append(int(f[0, 0, 0]))
            yield f

    sw = SlidingWindow(frames(), 7, future=True, boundary="copy")
    it = iter(sw)
    first = next(it)
    assert consumed == [0, 1, 2, 3]
    assert first.indices == [0, 0, 0, 1, 2, 3]  # t-3, t-2, t-1 copied from the target, then t+1..t+3
    mid = next(itertools.islice(it, 9, None))  # t = 10
    assert mid.indices == [7, 8, 9, 11, 12, 13]
    assert max(consumed) == 13
    list(it)
    assert sw.max_buffered <= 7
    past = list(SlidingWindow(iter(_labelled(6)), 4, future=False))
    assert past[4].indices == [3, 2, 1]  # nearest first


# ---------------------------------------------------------------- tiling
def test_tiles_cover_each_pixel_once():
    for h, w, tile, ov in [(37, 53, 16, 5), (8, 8, 8, 3), (100, 9, 30, 24)]:
        cover = np.zeros((h, w), int)
        for t in tiling.plan_tiles(h, w, tile, ov):
            assert t.py0 <= t.y0 < t.y1 <= t.py1 and t.px0 <= t.x0 < t.x1 <= t.px1
            assert t.y1 - t.y0 <= tile and t.x1 - t.x0 <= tile
            assert t.y0 - t.py0 == min(ov, t.y0) and t.py1 - t.y1 == min(ov, h - t.y1)
            cover[t.y0:t.y1, t.x0:t.x1] += 1
        assert (cover == 1).all()


def test_receptive_radius_values():
    assert tiling.receptive_radius(preset("tiny").model) == 11
    assert tiling.receptive_radius(preset("full").model) == 126


def _tiny_generator(seed=0, name="tiny"):
    cfg = preset(name).model
    torch.manual_seed(seed)
    from iseebetter_lib.models import build_generator

    g = build_generator(cfg).eval()
    with torch.no_grad():  # a larger output scale than the preset's makes the learned branch matter
        g.output.conv.weight.mul_(10.0)
    return g, cfg


def _real_lr(sample_videos, n=3, crop=(40, 56)):
    from iseebetter_lib.data.video import iter_video_frames

    frames = list(iter_video_frames(sample_videos["carphone_pristine"], max_frames=n))
    return np.stack([f[50:50 + crop[0], 60:60 + crop[1]] for f in frames])


def _window_tensors(lr, rng):
    x = torch.from_numpy(lr[1]).permute(2, 0, 1)[None].float() / 255
    nb = torch.from_numpy(lr[[0, 2]]).permute(0, 3, 1, 2)[None].float() / 255
    fl = torch.from_numpy(rng.normal(0, 1, (1, 2, 2) + lr.shape[1:3]).astype(np.float32))
    return x, nb, fl


def test_tiled_equals_untiled(sample_videos):
    g, cfg = _tiny_generator()
    lr = _real_lr(sample_videos)
    x, nb, fl = _window_tensors(lr, np.random.default_rng(0))
    h, w = lr.shape[1:3]
    with torch.inference_mode():
        whole = tiling.run_tiled(g, x, nb, fl, 4, tiling.plan_tiles(h, w, None, 0))
        exact = tiling.run_tiled(g, x, nb, fl, 4, tiling.plan_tiles(h, w, 16, tiling.receptive_radius(cfg)))
        no_overlap = tiling.run_tiled(g, x, nb, fl, 4, tiling.plan_tiles(h, w, 16, 0))
    assert whole.shape == (4 * h, 4 * w, 3) and whole.std() > 10
    diff = np.abs(whole.astype(int) - exact.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    assert np.abs(whole.astype(int) - no_overlap.astype(int)).max() > 5  # the overlap is what makes it exact


def test_choose_tile_fits_budget():
    bpp, ov = 1000.0, 6
    assert tiling.choose_tile(50, 60, bpp, 50 * 60 * bpp, ov) is None
    budget = 40 * 40 * bpp
    tile = tiling.choose_tile(120, 90, bpp, budget, ov)
    assert tile is not None and tiling.padded_pixels(120, 90, tile, ov) * bpp <= budget
    assert tiling.padded_pixels(120, 90, tile + 1, ov) * bpp > budget or tile + 1 > 120
    with pytest.raises(UserError, match="--memory-budget"):
        tiling.choose_tile(120, 90, bpp, 10 * 10 * bpp, ov)


def test_measured_bytes_per_pixel_is_near_estimate():
    from iseebetter_lib.inference.engine import bytes_per_pixel

    g, cfg = _tiny_generator()
    cpu = torch.device("cpu")

    def forward(h, w):
        with torch.inference_mode():
            return g(torch.rand(1, 3, h, w), torch.rand(1, 2, 3, h, w), torch.zeros(1, 2, 2, h, w))

    measured = tiling.measure_bytes_per_pixel(forward, cpu)
    assert measured is not None  # the profiler trace worked (else upscaling silently uses the estimate)
    estimate = tiling.estimate_bytes_per_pixel(cfg)
    assert 0.5 * estimate < measured <= estimate  # the estimate is conservative
    assert measured == pytest.approx(tiling.measure_bytes_per_pixel(forward, cpu, size=24), rel=0.05)  # linear
    assert bytes_per_pixel(g, cfg, cpu, "fp32") == pytest.approx(measured, rel=0.05)


# ---------------------------------------------------------------- super_resolve_clip
def test_super_resolve_clip_streaming_and_tiling_agree(sample_videos):
    from iseebetter_lib.inference.engine import super_resolve_clip

    g, cfg = _tiny_generator()
    lr = _real_lr(sample_videos, n=4, crop=(32, 40))
    from_array = list(super_resolve_clip(g, lr, cfg, progress=False))
    from_iter = list(super_resolve_clip(g, iter(list(lr)), cfg, progress=False))
    tiled = list(super_resolve_clip(g, lr, cfg, tile=12, progress=False))
    assert len(from_array) == 4 and all(f.shape == (128, 160, 3) and f.dtype == np.uint8 for f in from_array)
    for a, b, c in zip(from_array, from_iter, tiled):
        assert np.array_equal(a, b)
        assert np.abs(a.astype(int) - c.astype(int)).max() <= 1
    from iseebetter_lib.inference.engine import plan_frame_tiles

    assert len(plan_frame_tiles(g, cfg, 32, 40, torch.device("cpu"), "fp32", "auto", 4.0)) > 1
    budget = list(super_resolve_clip(g, lr[:2], cfg, memory_budget_mb=4.0, progress=False))
    assert np.abs(budget[0].astype(int) - from_array[0].astype(int)).max() <= 1


def test_super_resolve_clip_bf16_on_cpu_is_close(sample_videos):
    from iseebetter_lib.inference.engine import super_resolve_clip

    g, cfg = _tiny_generator(name="reduced")  # tiny random nets cancel too much for bf16; reduced is like trained
    lr = _real_lr(sample_videos, n=2, crop=(24, 32))
    fp32 = np.stack(list(super_resolve_clip(g, lr, cfg, progress=False)))
    bf16 = np.stack(list(super_resolve_clip(g, lr, cfg, precision="bf16", progress=False)))
    assert bf16.dtype == np.uint8 and bf16.shape == fp32.shape
    diff = np.abs(bf16.astype(int) - fp32.astype(int))
    assert 0 < diff.mean() < 3  # autocast did run, and stays close


def test_super_resolve_clip_rejects_bad_arguments():
    from iseebetter_lib.inference.engine import super_resolve_clip

    g, cfg = _tiny_generator()
    lr = np.zeros((2, 8, 8, 3), np.uint8)
    for kwargs, match in [({"precision": "fp8"}, "--precision"), ({"device": "tpu"}, "--device"),
                          ({"precision": "fp16"}, "fp16 needs CUDA"), ({"tile": "big"}, "--tile")]:
        with pytest.raises(UserError, match=match):
            next(super_resolve_clip(g, lr, cfg, progress=False, **kwargs))
    with pytest.raises(UserError, match="frame 1"):
        list(super_resolve_clip(g, iter([lr[0], np.zeros((9, 8, 3), np.uint8)]), cfg, progress=False))


# ---------------------------------------------------------------- writer
def test_writer_is_atomic_on_interrupt(tmp_path):
    from iseebetter_lib.inference.writer import open_output

    for name in ("out.mp4", "frames"):
        with pytest.raises(KeyboardInterrupt):
            with open_output(tmp_path / name, 25) as writer:
                writer.write(np.zeros((16, 16, 3), np.uint8))
                raise KeyboardInterrupt
        assert list(tmp_path.iterdir()) == []


def test_the_same_frames_make_the_same_video_file_on_a_busy_machine(tmp_path):
    """x264's MB-tree rate control gave different files for the same frames when another core was busy; the writer
    turns it off, so an upscale is reproducible byte for byte."""
    import hashlib
    import threading

    from iseebetter_lib.inference.writer import open_output

    rng = np.random.default_rng(0)
    frames = [np.kron(rng.integers(0, 255, (32, 48, 3), dtype=np.uint8), np.ones((4, 4, 1), np.uint8))
              for _ in range(30)]
    stop = threading.Event()

    def busy() -> None:  # numpy's matrix products release the GIL: the other core is loaded while we encode
        a = rng.random((300, 300))
        while not stop.is_set():
            a = a @ a / 300

    load = threading.Thread(target=busy, daemon=True)
    load.start()
    digests = set()
    try:
        for i in range(16):
            with open_output(tmp_path / f"v{i}.mp4", 25) as writer:
                for f in frames:
                    writer.write(f)
            digests.add(hashlib.sha256((tmp_path / f"v{i}.mp4").read_bytes()).hexdigest())
    finally:
        stop.set()
        load.join()
    assert len(digests) == 1


# ---------------------------------------------------------------- command line
@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    from iseebetter_lib.models.checkpoints import generator_file_state, save_checkpoint

    g, cfg = _tiny_generator()
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "generator.pt", generator_file_state(g.state_dict(), cfg))


def _cli(*argv):
    from iseebetter_lib.cli import main

    return main(["upscale", *map(str, argv), "--quiet"])


def _probe(path):
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
        return s.average_rate, frames


def test_cli_video_to_video(tmp_path, sample_videos, tiny_ckpt, capsys):
    src = sample_videos["carphone_pristine"]
    out = tmp_path / "x4.mp4"
    assert _cli(src, "-o", out, "--weights", tiny_ckpt, "--max-frames", 3, "--device", "cpu") == 0
    rate, frames = _probe(out)
    assert rate == Fraction(30000, 1001) and len(frames) == 3 and frames[0].shape == (576, 704, 3)
    assert "3 frames" in capsys.readouterr().out
    from iseebetter_lib.io import default_mode

    assert out.stat().st_mode & 0o777 == default_mode(0o666)  # not the temporary file's private 0600
    before = out.stat().st_mtime_ns
    assert _cli(src, "-o", out, "--weights", tiny_ckpt, "--max-frames", 2) == 2
    assert "already exists" in capsys.readouterr().err and out.stat().st_mtime_ns == before
    assert _cli(src, "-o", out, "--weights", tiny_ckpt, "--max-frames", 2, "--overwrite", "--tile", 32) == 0
    assert len(_probe(out)[1]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x4.mp4"]


def test_cli_frames_to_pngs_and_bicubic(tmp_path, sample_videos, tiny_ckpt):
    from PIL import Image

    from iseebetter_lib.data.imresize import imresize

    lr = _real_lr(sample_videos, n=3, crop=(24, 32))
    src = tmp_path / "lr"
    src.mkdir()
    for i, f in enumerate(lr):  # natural order: 2 before 10
        Image.fromarray(f).save(src / f"f{[2, 10, 11][i]}.png")
    out = tmp_path / "sr"
    assert _cli(src, "-o", str(out) + "/", "--weights", tiny_ckpt) == 0
    assert oct(out.stat().st_mode & 0o777) != oct(0o700)  # not the temporary folder's private mode
    names = sorted(p.name for p in out.iterdir())
    assert names == ["frame_000001.png", "frame_000002.png", "frame_000003.png"]
    assert np.asarray(Image.open(out / names[0])).shape == (96, 128, 3)
    assert _cli(src, "-o", tmp_path / "bic", "--method", "bicubic") == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "bic" / "frame_000002.png")), imresize(lr[1], 4))
    assert _cli(src, "-o", tmp_path / "bic.avi", "--method", "bicubic", "--fps", 12) == 0
    rate, frames = _probe(tmp_path / "bic.avi")
    assert rate == 12 and len(frames) == 3


@pytest.mark.parametrize("extra, message", [
    ((), "no --weights given and no shipped model"),
    (("--method", "bicubic", "--precision", "fp64"), "--precision: unknown"),
    (("--method", "bicubic", "--device", "gpu"), "--device: unknown"),
    (("--method", "nearest"), "--method: unknown"),
    (("--method", "bicubic", "--tile", "x"), "--tile"),
    (("--method", "bicubic", "--max-frames", "two"), "--max-frames"),
])
def test_cli_errors_write_nothing(tmp_path, sample_videos, extra, message, capsys, monkeypatch):
    monkeypatch.setenv("ISEEBETTER_SHIPPED_WEIGHTS", str(tmp_path / "none" / "laptop.pt"))  # as without one
    assert _cli(sample_videos["carphone_pristine"], "-o", tmp_path / "o.mp4", *extra) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_cli_bad_paths(tmp_path, sample_videos, tiny_ckpt, capsys):
    src = sample_videos["carphone_pristine"]
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video")
    cases = [((tmp_path / "missing.mp4", "-o", tmp_path / "o.mp4", "--method", "bicubic"), "not found"),
             ((garbage, "-o", tmp_path / "o.mp4", "--method", "bicubic"), "garbage.mp4"),
             ((src, "-o", blocker / "o.mp4", "--method", "bicubic"), "not writable"),
             ((src, "-o", tmp_path / "o.webm", "--method", "bicubic"), "unknown output extension"),
             ((src, "-o", tmp_path / "o.mp4", "--weights", tmp_path / "none.pt"), "none.pt")]
    if not torch.cuda.is_available():
        cases.append(((src, "-o", tmp_path / "o.mp4", "--method", "bicubic", "--device", "cuda"), "CUDA"))
    for argv, message in cases:
        assert _cli(*argv) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "garbage.mp4"]


def test_upscale_interrupted_leaves_nothing(tmp_path, sample_videos, monkeypatch):
    import iseebetter_lib.inference.upscaling as up

    def broken(frames, scale, progress=True, total=None):
        yield np.zeros((16, 16, 3), np.uint8)
        raise KeyboardInterrupt

    monkeypatch.setattr(up, "bicubic_clip", broken)
    for name in ("o.mkv", "o"):
        with pytest.raises(KeyboardInterrupt):
            up.upscale(sample_videos["carphone_pristine"], tmp_path / name, method="bicubic", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_upscale_precision_defaults_to_the_cpu_fast_path_where_bf16_is_native(tmp_path, sample_videos, tiny_ckpt,
                                                                              monkeypatch):
    """Neither --precision nor a saved one: bf16 (the fast path) on a CPU with native bf16 kernels, fp32 on other
    CPUs; an explicit --precision still wins."""
    from PIL import Image

    import iseebetter_lib.models.fastpath as fastpath
    from iseebetter_lib.inference import upscaling

    src = tmp_path / "lr"
    src.mkdir()
    for i, f in enumerate(_real_lr(sample_videos, n=2, crop=(24, 32))):
        Image.fromarray(f).save(src / f"f{i}.png")
    seen = []

    class Spy(upscaling.Engine):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append((self.cfg.precision, self.fast is not None))

    monkeypatch.setattr(upscaling, "Engine", Spy)
    for native, precision, expected in [(True, None, ("bf16", True)), (False, None, ("fp32", False)),
                                        (True, "fp32", ("fp32", False))]:
        monkeypatch.setattr(fastpath, "native_bf16", lambda device, v=native: v)
        upscaling.upscale(src, tmp_path / "sr", weights=tiny_ckpt, device="cpu", precision=precision,
                          overwrite=True, progress=False)
        assert seen[-1] == expected, (native, precision)
