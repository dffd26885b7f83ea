"""DDP on CPU (gloo): two processes with half a batch each train exactly like one process with the whole batch."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch

from iseebetter_lib.models.checkpoints import load_checkpoint
from iseebetter_lib.config import preset
from iseebetter_lib.training import train
from iseebetter_lib.training.distributed import StepBatchSampler, derived_seed


def _config(out_dir: Path, cache_dir: str):
    return preset("tiny").override({
        "train.out_dir": str(out_dir), "train.pretrain_steps": 2, "train.gan_steps": 2, "train.batch_size": 2,
        "data.patch_size": 12, "data.cache_dir": cache_dir, "train.device": "cpu",
        # Adam with eps 1e-8 turns float rounding in exactly-zero gradients (conv bias before BatchNorm) into
        # full lr steps; a larger eps keeps the comparison about the algorithm, not the summation order.
        "train.eps": 1e-3})


def real_clips(scale: int = 4) -> list:
    """Small real clips: 8 frames of carphone (176x144) and of a 128x96 window of bikes, from the sample videos."""
    from iseebetter_lib.data import Clip, read_video, sample_video_dir

    folder = sample_video_dir()
    carphone = read_video(folder / "carphone_pristine.mp4", max_frames=8)
    bikes = read_video(folder / "bikes.mp4", max_frames=8)[:, 80:176, 200:328]
    return [Clip("carphone", carphone, scale, "BI"), Clip("bikes", np.ascontiguousarray(bikes), scale, "BI")]


def real_dataset(cfg):
    """The real `TrainingDataset` over `real_clips` (flows cached in cfg.data.cache_dir)."""
    from iseebetter_lib.data import TrainingDataset

    return TrainingDataset(cfg.data, "train", seed=cfg.train.seed, clips=real_clips(cfg.data.scale), progress=False)


def _worker(rank: int, world: int, port: int, out_dir: str, cache_dir: str) -> None:
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank), "OMP_NUM_THREADS": "1"})
    torch.set_num_threads(1)
    cfg = _config(Path(out_dir), cache_dir)
    train(cfg, progress=False, dataset=real_dataset(cfg))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sampler_shards_partition_the_global_batch():
    whole = StepBatchSampler(10, 4, seed=5)
    parts = [StepBatchSampler(10, 4, seed=5, rank=r, world_size=2) for r in range(2)]
    for step in range(7):  # crosses epochs (2 batches per epoch, drop_last)
        keys = whole.keys(step)
        assert parts[0].keys(step) + parts[1].keys(step) == keys
        assert len({k[2] for k in keys}) == 4
    epoch0 = whole.global_indices(0) + whole.global_indices(1)
    assert len(set(epoch0)) == 8 and whole.global_indices(2) != whole.global_indices(0)
    assert StepBatchSampler(10, 4, seed=5, start_step=3).keys(3) == whole.keys(3)
    assert derived_seed(1, 2) == derived_seed(1, 2) != derived_seed(2, 1)


@pytest.mark.slow
def test_two_gloo_processes_match_one(tmp_path):
    cache = str(tmp_path / "cache")
    cfg = _config(tmp_path / "one", cache)
    single = train(cfg, progress=False, dataset=real_dataset(cfg))
    torch.multiprocessing.spawn(_worker, args=(2, _free_port(), str(tmp_path / "two"), cache), nprocs=2,
                                join=True)
    one = load_checkpoint(single.checkpoint)
    two = load_checkpoint(tmp_path / "two" / "checkpoints" / "last.pt")
    assert one["step"] == two["step"] == 4 and two["world_size"] == 2
    for net in ("generator", "discriminator"):
        assert one[net].keys() == two[net].keys()
        for key in one[net]:
            a, b = one[net][key], two[net][key]
            if a.is_floating_point():
                assert torch.allclose(a, b, rtol=1e-4, atol=1e-6), (net, key, (a - b).abs().max())
            else:
                assert torch.equal(a, b), (net, key)
    # Only the rank-0 process wrote: one CSV header, one row per step.
    rows = (tmp_path / "two" / "log.csv").read_text().splitlines()
    assert len(rows) == 1 + 4
