"""The inference engine: window -> flows -> tiles -> model -> frame, once, for upscaling, evaluation and the book.

An `Engine` holds a generator, its `ModelConfig` and a resolved `InferenceConfig` (flow parameters, window rule,
precision, tile, device). `Engine.clip` streams every frame of a clip (sliding window, bounded memory);
`Engine.frames` computes only some frames of an in-memory clip, each from its own window, and gives the pixels the
whole-clip run gives. Both go through `Engine.frame`, and every model call goes through `forward` (the one place a
faster path can be hooked in).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import torch

from iseebetter_lib.config import FlowConfig, InferenceConfig, ModelConfig
from iseebetter_lib.config.schema import parse_tile
from iseebetter_lib.device import resolve_device
from iseebetter_lib.errors import UserError
from iseebetter_lib.inference import tiling
from iseebetter_lib.inference.window import SlidingWindow
from iseebetter_lib.precision import autocast, check_precision

DEFAULT_MEMORY_FRACTION = 0.5  # of the free memory, when no budget is given and tiling is "auto"


def forward(generator: torch.nn.Module, x: torch.Tensor, neighbours: torch.Tensor, flows: torch.Tensor,
            cfg: InferenceConfig) -> torch.Tensor:
    """One generator call on (1,C,h,w) / (1,n,C,h,w) / (1,n,2,h,w) tensors under `cfg`'s precision (autocast)."""
    with autocast(x.device, cfg.precision):
        return generator(x, neighbours, flows)


def fast_model(generator: torch.nn.Module, device: torch.device, precision: str) -> torch.nn.Module | None:
    """The CPU fast path of `models.fastpath` for bf16 on a CPU (bf16 weights and activations in channels_last
    where the CPU has native bf16, else bf16 autocast in channels_last; fp32 output tail); None elsewhere and for
    generators the fast path does not know, where `forward`'s autocast applies (their layers whose bf16 kernel is
    faulty on this CPU moved to fp32 first). fp32 always runs the original graph."""
    from iseebetter_lib.models.bf16_guard import guard_bf16
    from iseebetter_lib.models.fastpath import bf16_mode, prepare_generator, supports_fast_path

    if device.type != "cpu" or precision != "bf16":
        return None
    if not supports_fast_path(generator):
        guard_bf16(generator, device)  # autocast then runs faulty bf16 kernels' layers in fp32
        return None

    return prepare_generator(generator, device, mode=bf16_mode(device)).eval()


def to_frames(lr_frames: np.ndarray | Iterable[np.ndarray]) -> tuple[Iterable[np.ndarray], int | None]:
    """(frame iterable, length or None) of a (T, h, w, 3) array or an iterator of frames."""
    if isinstance(lr_frames, np.ndarray):
        if lr_frames.ndim != 4 or lr_frames.shape[-1] != 3:
            raise UserError(f"lr_frames: expected (T, h, w, 3), got shape {lr_frames.shape}")
        return iter(lr_frames), len(lr_frames)
    return lr_frames, None


def checked_frames(frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Frames as uint8 h x w x 3, all of the first frame's size."""
    shape = None
    for i, frame in enumerate(frames):
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[-1] != 3:
            raise UserError(f"frame {i}: expected h x w x 3 uint8, got {frame.dtype} {frame.shape}")
        if shape is None:
            shape = frame.shape
        elif frame.shape != shape:
            raise UserError(f"frame {i}: size {frame.shape[1]}x{frame.shape[0]} differs from the first frame's "
                            f"({shape[1]}x{shape[0]})")
        yield frame


def progress_bar(total: int | None, progress: bool, desc: str, unit: str = "frame") -> Any:
    """A tqdm bar (rate and ETA when `total` is known), silent unless `progress`."""
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, desc=desc, disable=not progress, dynamic_ncols=True)


def _tensor(frames: Sequence[np.ndarray], device: torch.device) -> torch.Tensor:
    """(n, h, w, 3) uint8 -> (1, n, 3, h, w) float in [0, 1]."""
    arr = torch.from_numpy(np.ascontiguousarray(np.stack(frames))).to(device)
    return arr.permute(0, 3, 1, 2).float().div_(255.0).unsqueeze(0)


_BPP_CACHE: dict[tuple[int, str, str, str], float] = {}


def bytes_per_pixel(generator: torch.nn.Module, model_cfg: ModelConfig, device: torch.device, precision: str) -> float:
    """Peak bytes per LR pixel of one forward: measured once per (generator, device, precision), else estimated."""
    key = (id(generator), repr(model_cfg), str(device), precision)
    if key not in _BPP_CACHE:
        n = model_cfg.nFrames - 1
        cfg = InferenceConfig(precision=precision, device=str(device))

        def run(h: int, w: int) -> torch.Tensor:
            x = torch.rand(1, model_cfg.num_channels, h, w, device=device)
            nb = torch.rand(1, n, model_cfg.num_channels, h, w, device=device)
            fl = torch.zeros(1, n, 2, h, w, device=device)
            with torch.inference_mode():
                return forward(generator, x, nb, fl, cfg)

        measured = tiling.measure_bytes_per_pixel(run, device)
        _BPP_CACHE[key] = measured or tiling.estimate_bytes_per_pixel(model_cfg, precision)
    return _BPP_CACHE[key]


def plan_frame_tiles(generator: torch.nn.Module, model_cfg: ModelConfig, h: int, w: int, device: torch.device,
                     precision: str, tile: int | str | None, memory_budget_mb: float | None,
                     overlap: int | None = None) -> list[tiling.Tile]:
    """Tiles for an h x w LR frame: whole frame, a fixed core size, or the largest fitting the memory budget."""
    overlap = tiling.default_overlap(model_cfg) if overlap is None else overlap
    if tile is None and memory_budget_mb is None:
        return tiling.plan_tiles(h, w, None, overlap)
    if isinstance(tile, int):
        return tiling.plan_tiles(h, w, tile, overlap)
    if memory_budget_mb is not None:
        budget = memory_budget_mb * 2 ** 20
    else:
        budget = DEFAULT_MEMORY_FRACTION * tiling.available_memory_bytes(device)
    # The window of LR frames and the HR frame stay resident beside the model's activations.
    budget -= (model_cfg.nFrames * 3 + (model_cfg.nFrames - 1) * 8 + 3 * model_cfg.scale_factor ** 2) * h * w
    bpp = bytes_per_pixel(generator, model_cfg, device, precision)
    return tiling.plan_tiles(h, w, tiling.choose_tile(h, w, bpp, max(budget, 1.0), overlap), overlap)


class Engine:
    """A generator applied by an `InferenceConfig`; `cfg` is the resolved one (device named, tile parsed)."""

    def __init__(self, generator: torch.nn.Module, model_cfg: ModelConfig, cfg: InferenceConfig | None = None,
                 memory_budget_mb: float | None = None, overlap: int | None = None) -> None:
        cfg = cfg or InferenceConfig()
        self.device = resolve_device(cfg.device)
        check_precision(cfg.precision, self.device)
        self.tile = parse_tile(cfg.tile)
        cfg.validate()
        self.cfg = dataclasses.replace(cfg, device=str(self.device))
        self.model_cfg = model_cfg
        self.generator = generator.to(self.device).eval()
        self.fast = fast_model(self.generator, self.device, self.cfg.precision)
        self.memory_budget_mb = memory_budget_mb
        self.overlap = overlap
        self._plans: dict[tuple[int, int], list[tiling.Tile]] = {}

    def indices(self, t: int, n_total: int) -> list[int]:
        """Neighbour indices of frame `t` in a clip of `n_total` frames, by the configured window rule."""
        from iseebetter_lib.data.windows import neighbour_indices

        return [int(i) for i in neighbour_indices(t, n_total, self.model_cfg.nFrames,
                                                  future=self.cfg.future_frames, boundary=self.cfg.boundary)]

    def _tiles(self, h: int, w: int) -> list[tiling.Tile]:
        if (h, w) not in self._plans:
            self._plans[(h, w)] = plan_frame_tiles(self.generator, self.model_cfg, h, w, self.device,
                                                   self.cfg.precision, self.tile, self.memory_budget_mb,
                                                   self.overlap)
        return self._plans[(h, w)]

    def frame(self, target: np.ndarray, neighbours: Sequence[np.ndarray]) -> np.ndarray:
        """The HR frame (uint8 H x W x 3) of `target` from its neighbours (model order): flows, tiles, model.
        A one-frame model has no neighbours: no flow is computed."""
        h, w = target.shape[:2]
        if neighbours:
            from iseebetter_lib.flow import compute_window_flows

            flows = compute_window_flows(target, list(neighbours), self.cfg.flow)
        else:
            flows = np.zeros((0, 2, h, w), np.float32)
        with torch.inference_mode():
            tiles = self._tiles(h, w)
            x = _tensor([target], self.device)[:, 0]
            nb = _tensor(neighbours, self.device) if neighbours else x.new_zeros((1, 0, *x.shape[1:]))
            fl = torch.from_numpy(np.ascontiguousarray(flows, dtype=np.float32)).to(self.device).unsqueeze(0)
            return tiling.run_tiled(self._model, x, nb, fl, self.model_cfg.scale_factor, tiles)

    def _model(self, x: torch.Tensor, nb: torch.Tensor, fl: torch.Tensor) -> torch.Tensor:
        if self.fast is not None:
            return self.fast(x, nb, fl)
        return forward(self.generator, x, nb, fl, self.cfg)

    def clip(self, lr_frames: np.ndarray | Iterable[np.ndarray], progress: bool = False,
             total: int | None = None) -> Iterator[np.ndarray]:
        """Every HR frame of `lr_frames` ((T, h, w, 3) uint8 or an iterator), in order, streaming."""
        frames, length = to_frames(lr_frames)
        windows = SlidingWindow(checked_frames(frames), self.model_cfg.nFrames, future=self.cfg.future_frames,
                                boundary=self.cfg.boundary)
        bar = progress_bar(length if total is None else total, progress, "upscale")
        try:
            for window in windows:
                hr = self.frame(window.target, window.neighbours)
                bar.update(1)
                yield hr
        finally:
            bar.close()

    def frames(self, lr: np.ndarray, indices: Sequence[int]) -> Iterator[np.ndarray]:
        """The HR frames of `indices` of an in-memory clip (T, h, w, 3): the whole-clip stream when all frames are
        asked for, else each scored frame from its own window (same pixels, 1/step of the cost)."""
        indices = [int(t) for t in indices]
        if indices == list(range(len(lr))):
            yield from self.clip(lr)
            return
        for t in indices:
            yield self.frame(lr[t], [lr[i] for i in self.indices(t, len(lr))])


def inference_config(base: InferenceConfig | None = None, *, flow_cfg: FlowConfig | None = None,
                     future: bool | None = None, boundary: str | None = None, precision: str | None = None,
                     tile: int | str | None = None, device: str | torch.device | None = None) -> InferenceConfig:
    """`base` (default: today's settings on the CPU) with the given fields replaced; None keeps a field.
    The library's silent form of `settings.resolve_inference_config` (no defaults, no notes)."""
    from iseebetter_lib.inference.settings import resolve_inference_config

    explicit = {"flow": flow_cfg, "future_frames": future, "boundary": boundary, "precision": precision,
                "tile": tile, "device": None if device is None else str(device)}
    return resolve_inference_config(base if base is not None else InferenceConfig(device="cpu"), explicit,
                                    note=None)


def super_resolve_clip(generator: torch.nn.Module, lr_frames: np.ndarray | Iterable[np.ndarray],
                       model_cfg: ModelConfig, flow_cfg: FlowConfig | None = None,
                       device: str | torch.device | None = None, precision: str | None = None,
                       tile: int | str | None = None, memory_budget_mb: float | None = None, progress: bool = True,
                       *, future: bool | None = None, boundary: str | None = None, overlap: int | None = None,
                       total: int | None = None, inference_cfg: InferenceConfig | None = None) -> Iterator[np.ndarray]:
    """Yield the HR frames (uint8 H x W x 3, in order) of `lr_frames` ((T, h, w, 3) uint8 or an iterator).

    Settings come from `inference_cfg` (default: today's, on the CPU), each keyword given replacing its field.
    `tile`: None = whole frame (unless `memory_budget_mb` is given), "auto" = from the budget (default: half the
    free memory), an int = core tile side in LR px. Output is clamped to [0, 1] and rounded.
    """
    cfg = inference_config(inference_cfg, flow_cfg=flow_cfg, future=future, boundary=boundary,
                           precision=precision, tile=tile, device=device)
    engine = Engine(generator, model_cfg, cfg, memory_budget_mb=memory_budget_mb, overlap=overlap)
    return engine.clip(lr_frames, progress=progress, total=total)
