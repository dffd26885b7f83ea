"""Checkpoints: atomic save, safe load (tensors and plain data only), and loading a generator from any of them.

Loading always uses ``torch.load(weights_only=True)``: a file can hold tensors, numbers, strings, lists, tuples and
dicts, and nothing in it is ever executed. Three layouts are understood by `load_generator`:

- our training checkpoints (``checkpoints/step_XXXXXXX.pt``, ``last.pt``): ``{"generator": sd, "model_config": {...}}``
  plus optimisers, schedulers and RNG states;
- our ``generator.pt``: ``{"format": "iseebetter-generator", "generator": sd, "model_config": {...}}``;
- a raw state dict of the original iSeeBetter / RBPN-PyTorch generator (keys possibly ``module.``-prefixed,
  possibly wrapped in ``{"state_dict": ...}`` / ``{"model": ...}``); its configuration is inferred from the
  tensor shapes where possible, else `model_cfg`, else the paper's.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import random
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from iseebetter_lib.config import ConfigError, InferenceConfig, ModelConfig
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_path
from iseebetter_lib.published import fetch_hint

CHECKPOINT_FORMAT = "iseebetter-checkpoint"
GENERATOR_FORMAT = "iseebetter-generator"
# ModelConfig fields that change the shape of the network (a mismatch cannot load).
_SHAPE_FIELDS = ("num_channels", "base_filter", "feat", "num_stages", "n_resblock", "nFrames", "scale_factor")


def save_checkpoint(path: str | os.PathLike, state: Mapping[str, Any]) -> Path:
    """Write `state` with `torch.save` atomically (a crash never leaves a half-written file); returns the path."""
    path = Path(path)
    with atomic_path(path, overwrite=True) as tmp:
        torch.save(dict(state), tmp)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Read a checkpoint without executing code from it; any unreadable file is a `UserError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found{fetch_hint(path)}")
    try:
        with warnings.catch_warnings():  # torch's note about old pickle protocols says nothing useful here
            warnings.filterwarnings("ignore", message=".*pickle protocol.*")
            state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: refused to load (not plain tensors/data; weights_only load failed: "
                        f"{first[:200]})") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, AttributeError, TypeError,
            KeyError, IndexError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: not a readable PyTorch checkpoint ({first[:200]})") from None
    if not isinstance(state, Mapping):
        raise UserError(f"{path}: expected a dict in the checkpoint, got {type(state).__name__}")
    return dict(state)


def rng_state(device: torch.device) -> dict[str, Any]:
    """Torch, CUDA, NumPy and Python RNG states as tensors and plain data (loadable with weights_only=True)."""
    np_state = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
             "python_version": random.getstate()[0],
             "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                       "has_gauss": int(np_state[3]), "gauss": float(np_state[4])}}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` saved (tensors may have been mapped to a GPU on load)."""
    torch.set_rng_state(state["torch"].cpu())
    random.setstate((state["python_version"], tuple(state["python"]), None))
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].cpu().numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def link_or_copy(src: Path, dst: Path) -> None:
    """`dst` becomes the same content as `src`, atomically (a hard link when the file system allows)."""
    with atomic_path(dst) as tmp:
        tmp.unlink()
        try:
            tmp.hardlink_to(src)
        except OSError:
            shutil.copyfile(src, tmp)


def generator_file_state(generator_sd: Mapping[str, torch.Tensor], model_cfg: ModelConfig,
                         step: int | None = None, inference_cfg: InferenceConfig | None = None) -> dict[str, Any]:
    """The content of a ``generator.pt``: weights, model configuration and how to apply it (small, for upscaling)."""
    state = {"format": GENERATOR_FORMAT, "model_config": dataclasses.asdict(model_cfg),
             "generator": {k: v.detach().cpu() for k, v in generator_sd.items()}, "step": step}
    if inference_cfg is not None:
        state["inference_config"] = dataclasses.asdict(inference_cfg)
    return state


def model_config_mismatch(stored: ModelConfig, requested: ModelConfig) -> list[str]:
    """Human-readable differences in the fields that change the network's shape."""
    return [f"{name}: checkpoint {getattr(stored, name)}, requested {getattr(requested, name)}"
            for name in _SHAPE_FIELDS if getattr(stored, name) != getattr(requested, name)]


def infer_model_config(sd: Mapping[str, torch.Tensor]) -> ModelConfig | None:
    """Guess an RBPN configuration from the shapes of an original-layout state dict (None if it is not one)."""
    try:
        feat0 = sd["feat0.conv.weight"]
        dbpn_in = sd["DBPN.feat1.conv.weight"]
        out_w = sd["output.conv.weight"]
    except KeyError:
        return None
    base_filter, num_channels = int(feat0.shape[0]), int(feat0.shape[1])
    feat = int(dbpn_in.shape[0])
    n_resblock = len({k.split(".")[1] for k in sd if k.startswith("res_feat1.") and ".conv1." in k})
    nFrames = int(out_w.shape[1]) // feat + 1
    deconv = sd.get(f"res_feat1.{n_resblock}.deconv.weight")
    scale = {6: 2, 8: 4, 12: 8}.get(int(deconv.shape[-1]) if deconv is not None else -1, 4)
    ups = {k.split(".")[1] for k in sd if k.startswith("DBPN.up") and k.count(".") >= 2}
    downs = {k.split(".")[1] for k in sd if k.startswith("DBPN.down") and k.count(".") >= 2}
    num_stages = len(ups) if ups and len(ups) == len(downs) + 1 else 3
    return ModelConfig(num_channels=num_channels, base_filter=base_filter, feat=feat, num_stages=num_stages,
                       n_resblock=max(n_resblock, 1), nFrames=nFrames, scale_factor=scale)


def _unwrap_raw(state: Mapping[str, Any]) -> Mapping[str, Any]:
    for key in ("state_dict", "model", "generator", "netG"):
        inner = state.get(key)
        if isinstance(inner, Mapping) and inner and all(torch.is_tensor(v) for v in inner.values()):
            return inner
    return state


def load_generator(path: str | os.PathLike, device: str | torch.device = "cpu",
                   model_cfg: ModelConfig | None = None) -> tuple[torch.nn.Module, ModelConfig]:
    """An RBPN in eval mode on `device` with the weights of `path`, and its configuration.

    `model_cfg`, when given, is what the caller expects: a checkpoint of another shape is a `UserError` that names
    the mismatched fields (e.g. ``base_filter: checkpoint 32, requested 64``). Non-shape fields (``residual``) come
    from our checkpoints; for original state dicts they come from `model_cfg` (the original has no residual path).
    """
    from iseebetter_lib.models import build_generator, convert_original_state_dict

    path = Path(path)
    state = load_checkpoint(path, map_location="cpu")
    if isinstance(state.get("generator"), Mapping) and isinstance(state.get("model_config"), Mapping):
        try:
            stored = ModelConfig(**state["model_config"])
        except TypeError as exc:
            raise UserError(f"{path}: bad model configuration in checkpoint ({exc})") from None
        sd = state["generator"]
        if model_cfg is not None:
            problems = model_config_mismatch(stored, model_cfg)
            if problems:
                raise UserError(f"{path}: checkpoint configuration differs from the requested one: "
                                + "; ".join(problems))
        cfg = stored
    else:
        raw = _unwrap_raw(state)
        if not raw or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in raw.items()):
            raise UserError(f"{path}: neither an iSeeBetter checkpoint nor a generator state dict")
        sd = convert_original_state_dict(raw)
        inferred = infer_model_config(sd)
        if inferred is None:
            raise UserError(f"{path}: not an RBPN generator state dict (no feat0/DBPN/output weights)")
        if model_cfg is not None:
            problems = model_config_mismatch(inferred, model_cfg)
            if problems:
                raise UserError(f"{path}: checkpoint configuration differs from the requested one: "
                                + "; ".join(problems))
            cfg = dataclasses.replace(model_cfg)
        else:
            cfg = dataclasses.replace(ModelConfig(), **{f: getattr(inferred, f) for f in _SHAPE_FIELDS})
    try:
        generator = build_generator(cfg)
    except ConfigError as exc:
        raise UserError(f"{path}: {exc}") from None
    try:
        result = generator.load_state_dict(dict(sd), strict=False)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())[:300]
        raise UserError(f"{path}: weights do not fit the RBPN configuration ({detail})") from None
    if result.missing_keys or result.unexpected_keys:
        parts = []
        if result.missing_keys:
            parts.append(f"missing {', '.join(result.missing_keys[:3])}"
                         + (f" (+{len(result.missing_keys) - 3} more)" if len(result.missing_keys) > 3 else ""))
        if result.unexpected_keys:
            parts.append(f"unexpected {', '.join(result.unexpected_keys[:3])}"
                         + (f" (+{len(result.unexpected_keys) - 3} more)" if len(result.unexpected_keys) > 3
                            else ""))
        raise UserError(f"{path}: weights do not fit the RBPN configuration ({'; '.join(parts)})")
    return generator.to(device).eval(), cfg
