"""Generator weight files: atomic save, safe load (tensors and plain data only), and loading a generator from any
of the layouts below (with the inference configuration saved beside the weights, when there is one).

Loading always uses ``torch.load(weights_only=True)``: a file can hold tensors, numbers, strings, lists, tuples and
dicts, and nothing in it is ever executed. Three layouts are understood by `load_generator`:

- our training checkpoints (``checkpoints/step_XXXXXXX.pt``, ``last.pt``): ``{"generator": sd, "model_config": {...}}``
  plus optimisers, schedulers and RNG states;
- our ``generator.pt``: ``{"format": "iseebetter-generator", "generator": sd, "model_config": {...},
  "inference_config": {...}}`` (files written before the inference configuration was saved lack it);
- a raw state dict of the original iSeeBetter / RBPN-PyTorch generator (keys possibly ``module.``-prefixed,
  possibly wrapped in ``{"state_dict": ...}`` / ``{"model": ...}``); its configuration is inferred from the
  tensor shapes where possible, else `model_cfg`, else the paper's.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any, Mapping, NamedTuple

import torch

from iseebetter_lib.config import ConfigError, FlowConfig, InferenceConfig, ModelConfig
from iseebetter_lib.errors import UserError, load_failure_reason
from iseebetter_lib.io import atomic_path, require_file
from iseebetter_lib.data.published import fetch_hint
from iseebetter_lib.models.checkpoint_check import check_archive, check_tensors_fit

GENERATOR_FORMAT = "iseebetter-generator"
# ModelConfig fields that change the network or its shape (a mismatch cannot load); a saved configuration without
# `name` (files written before the generator registry) is an RBPN's, the field's default.
_SHAPE_FIELDS = ("name", "num_channels", "base_filter", "feat", "num_stages", "n_resblock", "nFrames", "scale_factor")


def save_checkpoint(path: str | os.PathLike, state: Mapping[str, Any]) -> Path:
    """Write `state` with `torch.save` atomically (a crash never leaves a half-written file); returns the path."""
    path = Path(path)
    with atomic_path(path, overwrite=True) as tmp:
        torch.save(dict(state), tmp)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Read a checkpoint without executing code from it; any unreadable file is a `UserError` naming it."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: checkpoint not found{fetch_hint(path)}")
    require_file(path, "checkpoint")  # a device, a FIFO or a folder is named as what it is
    check_archive(path)
    try:
        with warnings.catch_warnings():  # torch's note about old pickle protocols says nothing useful here
            warnings.filterwarnings("ignore", message=".*pickle protocol.*")
            state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UserError(f"{path}: refused to load: not a plain tensor file ({load_failure_reason(exc)})") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, AttributeError, TypeError,
            KeyError, IndexError, MemoryError) as exc:
        raise UserError(f"{path}: not a readable PyTorch checkpoint ({load_failure_reason(exc)})") from None
    if not isinstance(state, Mapping):
        raise UserError(f"{path}: expected a dict in the checkpoint, got {type(state).__name__}")
    return dict(state)


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
    if not all(torch.is_tensor(t) and t.dim() >= 2 for t in (feat0, dbpn_in, out_w)) or not dbpn_in.shape[0]:
        return None
    base_filter, num_channels = int(feat0.shape[0]), int(feat0.shape[1])
    feat = int(dbpn_in.shape[0])
    n_resblock = len({k.split(".")[1] for k in sd if k.startswith("res_feat1.") and ".conv1." in k})
    nFrames = int(out_w.shape[1]) // feat + 1
    deconv = sd.get(f"res_feat1.{n_resblock}.deconv.weight")
    scale = {6: 2, 8: 4, 12: 8}.get(int(deconv.shape[-1]) if torch.is_tensor(deconv) and deconv.dim() else -1, 4)
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


class LoadedGenerator(NamedTuple):
    """A generator in eval mode, its configuration and how it is meant to be applied (None: not saved)."""

    generator: torch.nn.Module
    model_cfg: ModelConfig
    inference_cfg: InferenceConfig | None


def inference_config_from_dict(values: Mapping[str, Any], path: str | os.PathLike) -> InferenceConfig:
    """The saved ``inference_config`` of `path`; missing fields take today's defaults, unknown ones are errors."""
    values = dict(values)
    flow = values.pop("flow", None) or {}
    try:
        cfg = InferenceConfig(flow=FlowConfig(**dict(flow)), **values)
        cfg.validate()
    except (TypeError, ConfigError) as exc:
        raise UserError(f"{path}: bad inference configuration in checkpoint ({exc})") from None
    return cfg


def load_generator(path: str | os.PathLike, device: str | torch.device = "cpu",
                   model_cfg: ModelConfig | None = None) -> tuple[torch.nn.Module, ModelConfig]:
    """An RBPN in eval mode on `device` with the weights of `path`, and its configuration (see
    `load_generator_file`, which also returns the saved inference configuration)."""
    loaded = load_generator_file(path, device=device, model_cfg=model_cfg)
    return loaded.generator, loaded.model_cfg


def _saved_inference_config(state: Mapping[str, Any], path: Path) -> InferenceConfig | None:
    """``generator.pt``'s inference configuration, or a training checkpoint's (its data's flow and window rule)."""
    if isinstance(state.get("inference_config"), Mapping):
        return inference_config_from_dict(state["inference_config"], path)
    if isinstance(state.get("config"), Mapping) and isinstance(state["config"].get("data"), Mapping):
        data = state["config"]["data"]
        return inference_config_from_dict({k: data[k] for k in ("flow", "future_frames", "boundary") if k in data},
                                          path)
    return None


def _check_expected(found: ModelConfig, expected: ModelConfig | None, path: Path) -> None:
    problems = model_config_mismatch(found, expected) if expected is not None else []
    if problems:
        raise UserError(f"{path}: checkpoint configuration differs from the requested one: " + "; ".join(problems))


def _weights_and_config(state: Mapping[str, Any], path: Path,
                        model_cfg: ModelConfig | None) -> tuple[Mapping[str, torch.Tensor], ModelConfig]:
    """(state dict with our key names, configuration) of one of the layouts of the module doc."""
    from iseebetter_lib.models import convert_original_state_dict

    if isinstance(state.get("generator"), Mapping) and isinstance(state.get("model_config"), Mapping):
        try:
            stored = ModelConfig(**state["model_config"])
            stored.validate()  # the schema's bounds, before anything is built from it
        except (TypeError, ConfigError) as exc:
            raise UserError(f"{path}: bad model configuration in checkpoint ({exc})") from None
        _check_expected(stored, model_cfg, path)
        return state["generator"], stored
    raw = _unwrap_raw(state)
    if not raw or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in raw.items()):
        raise UserError(f"{path}: neither an iSeeBetter checkpoint nor a generator state dict")
    sd = convert_original_state_dict(raw)
    inferred = infer_model_config(sd)
    if inferred is None:
        raise UserError(f"{path}: not an RBPN generator state dict (no feat0/DBPN/output weights)")
    _check_expected(inferred, model_cfg, path)
    if model_cfg is not None:
        return sd, dataclasses.replace(model_cfg)
    return sd, dataclasses.replace(ModelConfig(), **{f: getattr(inferred, f) for f in _SHAPE_FIELDS})


def load_generator_file(path: str | os.PathLike, device: str | torch.device = "cpu",
                        model_cfg: ModelConfig | None = None) -> LoadedGenerator:
    """An RBPN in eval mode on `device` with the weights of `path`, its configuration and its `InferenceConfig`:
    saved in ``generator.pt``, from the data configuration of a training checkpoint, or None (``generator.pt``
    files written before it was saved, original state dicts: callers then take today's defaults).

    `model_cfg`, when given, is what the caller expects: a checkpoint of another shape is a `UserError` that names
    the mismatched fields (e.g. ``base_filter: checkpoint 32, requested 64``). Non-shape fields (``residual``) come
    from our checkpoints; for original state dicts they come from `model_cfg` (the original has no residual path).
    The file's tensors are checked against the network its configuration implies (`checkpoint_check`) before the
    network is built: loading allocates the file's tensors and the model they describe, nothing more.
    """
    from iseebetter_lib.models import build_generator

    path = Path(path)
    state = load_checkpoint(path, map_location="cpu")
    inference_cfg = _saved_inference_config(state, path)
    sd, cfg = _weights_and_config(state, path, model_cfg)
    check_tensors_fit(sd, cfg, path)
    generator = build_generator(cfg)
    try:
        generator.load_state_dict(dict(sd), strict=True)
    except RuntimeError as exc:  # e.g. a tensor whose dtype cannot be copied into a parameter
        detail = " ".join(str(exc).split())[:300]
        raise UserError(f"{path}: weights do not fit the model configuration ({detail})") from None
    return LoadedGenerator(generator.to(device).eval(), cfg, inference_cfg)
