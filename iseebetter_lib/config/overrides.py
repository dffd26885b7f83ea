"""The override engine: dotted keys (``"train.lr"``, ``"model.base_filter"``) set from papermill parameters, CLI
flags and YAML/JSON files, converted to each field's type, then validated."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any, Mapping

from iseebetter_lib.config.schema import ConfigError, ExperimentConfig


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dict -> dotted keys; `loss.weights` stays one value (a dict)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and not dotted.endswith("weights"):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def apply_overrides(cfg: ExperimentConfig, overrides: Mapping[str, Any]) -> ExperimentConfig:
    """Set dotted keys in place (``train.loss.weights.tv`` sets one weight) and validate; returns `cfg`."""
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        target: Any = cfg
        for i, part in enumerate(parts[:-1]):
            if isinstance(target, dict):
                break
            if not dataclasses.is_dataclass(target) or not hasattr(target, part):
                raise ConfigError(f"unknown configuration key {dotted!r}")
            target = getattr(target, part)
        last = parts[-1]
        if isinstance(target, dict):
            if last not in ("pixel", "perceptual", "adversarial", "tv"):
                raise ConfigError(f"unknown configuration key {dotted!r}")
            target[last] = float(value)
            continue
        fields = {f.name: f for f in dataclasses.fields(target)}
        if last not in fields:
            raise ConfigError(f"unknown configuration key {dotted!r}")
        setattr(target, last, _coerce(dotted, getattr(target, last), value))
    return cfg.validate()


def _coerce(name: str, current: Any, value: Any) -> Any:
    """Convert `value` to the type of the current setting (strings from CLI flags, lists from JSON)."""
    if dataclasses.is_dataclass(current):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name} expects a mapping, got {value!r}")
        return apply_nested(copy.deepcopy(current), value, name)
    try:
        if isinstance(current, bool):
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return lowered in ("true", "1", "yes")
            return bool(value)
        if isinstance(current, int) and not isinstance(current, bool):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if isinstance(current, float):
            return float(value)
        if isinstance(current, tuple):
            if isinstance(value, str):
                value = [float(v) for v in value.strip("()[] ").split(",")]
            return tuple(float(v) for v in value)
        if isinstance(current, dict):
            if isinstance(value, str):
                value = json.loads(value)
            return {str(k): float(v) for k, v in dict(value).items()}
    except (TypeError, ValueError, json.JSONDecodeError):
        raise ConfigError(f"{name}={value!r} is invalid: expected a {type(current).__name__}") from None
    if value is None or current is None or isinstance(current, str):
        return None if value is None else str(value)
    return value


def apply_nested(obj: Any, values: Mapping[str, Any], prefix: str) -> Any:
    for key, value in values.items():
        if not hasattr(obj, key):
            raise ConfigError(f"unknown configuration key {prefix}.{key!r}")
        setattr(obj, key, _coerce(f"{prefix}.{key}", getattr(obj, key), value))
    return obj
