"""Process groups and deterministic batches: the same samples for any number of processes, and for a resumed run.

Every batch is a pure function of (seed, step): step -> (epoch, position) -> slots of a seeded permutation of the
dataset for that epoch (drop_last). `TrainingDataset` draws each item's crop and flips from (seed, index); any
other dataset's randomness is drawn under global RNGs seeded from (seed, step, slot) (`SeededItems`). Resuming
therefore needs only the step, and with W processes (launched by ``torchrun``) rank r takes the r-th contiguous 1/W
of each global batch: the union over ranks is exactly the single-process batch.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import Dataset, Sampler

from iseebetter_lib.errors import UserError


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: rank 0 of 1 unless launched by torchrun."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None
    owned: bool = False  # this module created the process group (and so destroys it at the end)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device_type: str) -> DistInfo:
    """Join the process group that ``torchrun`` describes in RANK/WORLD_SIZE/LOCAL_RANK (nccl on CUDA, gloo on CPU).

    Without those variables (or with WORLD_SIZE=1) this is a single process and nothing is initialised.
    """
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return DistInfo()
    try:
        rank = int(os.environ["RANK"])
        local_rank = int(os.environ.get("LOCAL_RANK", rank))
    except (KeyError, ValueError):
        raise UserError("WORLD_SIZE is set but RANK is missing or not a number: launch with torchrun") from None
    backend = "nccl" if device_type == "cuda" else "gloo"
    owned = not dist.is_initialized()
    if owned:
        if device_type == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
    return DistInfo(rank=rank, world_size=world, local_rank=local_rank, backend=backend, owned=owned)


def shutdown_distributed(info: DistInfo) -> None:
    if info.enabled and info.owned and dist.is_initialized():
        dist.destroy_process_group()


def derived_seed(*parts: int) -> int:
    """A 63-bit seed from integers (stable across processes and Python versions, unlike hash())."""
    digest = hashlib.blake2b(",".join(str(int(p)) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


class StepBatchSampler(Sampler):
    """Infinite batches (as lists of ``(step, slot, index)`` keys) for this rank, starting at `start_step`."""

    def __init__(self, n_items: int, global_batch: int, seed: int, start_step: int = 0, rank: int = 0,
                 world_size: int = 1) -> None:
        if global_batch % world_size:
            raise UserError(f"train.batch_size={global_batch} is not divisible by the {world_size} processes")
        if n_items < global_batch:
            raise UserError(f"training set: {n_items} samples, fewer than one batch of {global_batch} "
                            f"(drop_last leaves nothing to train on)")
        self.n_items, self.global_batch, self.seed = n_items, global_batch, seed
        self.start_step, self.rank, self.world_size = start_step, rank, world_size
        self.per_rank = global_batch // world_size
        self.batches_per_epoch = n_items // global_batch
        self._perm_epoch = -1
        self._perm = torch.empty(0, dtype=torch.int64)

    def global_indices(self, step: int) -> list[int]:
        """Dataset indices of the whole (all ranks) batch of `step`."""
        epoch, pos = divmod(step, self.batches_per_epoch)
        if epoch != self._perm_epoch:
            gen = torch.Generator().manual_seed(derived_seed(self.seed, 0xE70C, epoch))
            self._perm = torch.randperm(self.n_items, generator=gen)
            self._perm_epoch = epoch
        return self._perm[pos * self.global_batch:(pos + 1) * self.global_batch].tolist()

    def keys(self, step: int) -> list[tuple[int, int, int]]:
        first = self.rank * self.per_rank
        indices = self.global_indices(step)[first:first + self.per_rank]
        return [(step, first + i, index) for i, index in enumerate(indices)]

    def __iter__(self) -> Iterator[list[tuple[int, int, int]]]:
        step = self.start_step
        while True:
            yield self.keys(step)
            step += 1

    def __len__(self) -> int:  # DataLoader asks; the iteration itself is endless
        return self.batches_per_epoch


@contextlib.contextmanager
def seeded_rngs(seed: int) -> Iterator[None]:
    """Seed Python, NumPy and torch (CPU) RNGs for a block, then restore their previous states."""
    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        random.seed(seed)
        np.random.seed(seed % (1 << 32))
        torch.manual_seed(seed)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


class SeededItems(Dataset):
    """Wraps a dataset: item ``(step, slot, index)`` is ``dataset[index]`` drawn under RNGs seeded from
    (seed, step, slot), so crops and flips depend on the sample's place in the schedule and nothing else.

    A dataset with a ``sample(index, rng)`` method (``rng`` a ``numpy.random.Generator``) gets the generator
    directly; otherwise the global RNGs are seeded around ``dataset[index]``.
    """

    def __init__(self, dataset: Any, seed: int) -> None:
        self.dataset, self.seed = dataset, seed

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int, int]) -> Any:
        step, slot, index = key
        seed = derived_seed(self.seed, 0x5A3B, step, slot)
        sample = getattr(self.dataset, "sample", None)
        if callable(sample):
            return sample(index, np.random.default_rng(seed))
        with seeded_rngs(seed):
            return self.dataset[index]


class GlooSyncBatchNorm(torch.nn.BatchNorm2d):
    """BatchNorm2d whose training statistics cover the whole global batch, on any backend (torch's SyncBatchNorm
    needs a GPU). Statistics are summed across processes with an autograd-aware all_reduce, so gradients match a
    single process that sees the whole batch. Same state-dict keys as BatchNorm2d."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized()):
            return super().forward(x)
        import warnings

        from torch.distributed.nn.functional import all_reduce  # autograd-aware (deprecated alias, still there)

        c = x.shape[1]
        count = x.new_full((1,), x.numel() // c)
        stats = torch.cat([x.sum(dim=(0, 2, 3)), (x * x).sum(dim=(0, 2, 3)), count])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            stats = all_reduce(stats)
        n = stats[-1]
        mean = stats[:c] / n
        var = (stats[c:2 * c] / n - mean * mean).clamp_min(0)
        if self.track_running_stats and self.running_mean is not None:
            with torch.no_grad():
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked + 1)
                self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
                self.running_var.mul_(1 - m).add_(var.detach() * n / (n - 1).clamp_min(1), alpha=m)
                self.num_batches_tracked.add_(1)
        shape = (1, c, 1, 1)
        out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


def convert_sync_batchnorm(module: torch.nn.Module, device_type: str) -> torch.nn.Module:
    """Every BatchNorm2d of `module` synchronised across processes (torch's on CUDA, ours elsewhere)."""
    if device_type == "cuda":
        return torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)
    for name, child in module.named_children():
        if isinstance(child, torch.nn.BatchNorm2d) and not isinstance(child, GlooSyncBatchNorm):
            new = GlooSyncBatchNorm(child.num_features, child.eps, child.momentum, child.affine,
                                    child.track_running_stats)
            # Keep the very same parameter and buffer objects (optimisers already hold the parameters).
            for key, value in list(child._parameters.items()):
                new._parameters[key] = value
            for key, value in list(child._buffers.items()):
                new._buffers[key] = value
            setattr(module, name, new)
        else:
            convert_sync_batchnorm(child, device_type)
    return module
