"""The override engine: dotted keys (``"train.lr"``, ``"model.base_filter"``) set from papermill parameters, CLI
flags and YAML/JSON files, converted to each field's type, then validated against the declared ranges.

``loss.`` is short for ``train.loss.`` everywhere. A mapping sets several keys of one section at once
(``{"train.loss.weights": {"pixel": 1, "tv": 0}}`` sets those two weights and leaves the others).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import TYPE_CHECKING, Any, Mapping

from iseebetter_lib.config.rules import ConfigError

if TYPE_CHECKING:  # the annotation only: the schema builds on this module, not the other way round
    from iseebetter_lib.config.schema import ExperimentConfig

SHORTHANDS = {"loss.": "train.loss."}
_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", tuple: "a list of numbers"}


def expand_key(dotted: str) -> str:
    """The full dotted key: ``loss.weights.tv`` -> ``train.loss.weights.tv``."""
    for short, full in SHORTHANDS.items():
        if dotted.startswith(short):
            return full + dotted[len(short):]
    return dotted


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dict -> dotted keys (``{"train": {"lr": 1}}`` -> ``{"train.lr": 1}``)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def apply_overrides(cfg: ExperimentConfig, overrides: Mapping[str, Any]) -> ExperimentConfig:
    """Set dotted keys in place (``train.loss.weights.tv`` sets one weight) and validate; returns `cfg`."""
    for key, value in overrides.items():
        dotted = expand_key(str(key))
        *path, last = dotted.split(".")
        target: Any = cfg
        for part in path:
            target = getattr(target, part, None)
            if not dataclasses.is_dataclass(target):
                raise ConfigError(f"unknown configuration key {dotted!r}")
        if last not in {f.name for f in dataclasses.fields(target)}:
            raise ConfigError(f"unknown configuration key {dotted!r}")
        setattr(target, last, _coerce(dotted, getattr(target, last), value))
    return cfg.validate()


def _coerce(name: str, current: Any, value: Any) -> Any:
    """Convert `value` to the type of the current setting (strings from CLI flags, lists from JSON).

    Only the type is converted here; ranges are checked by the schema's `validate`.
    """
    if dataclasses.is_dataclass(current):
        if isinstance(value, str):  # a JSON object from a CLI flag, e.g. loss.weights={"tv": 0}
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name}={value!r} is invalid: expected a mapping of its keys")
        return apply_nested(copy.deepcopy(current), value, name)
    try:
        if isinstance(current, bool):
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return lowered in ("true", "1", "yes")
            if not isinstance(value, (bool, int)) or value not in (0, 1):
                raise ValueError
            return bool(value)
        if isinstance(current, (int, float, tuple)) and isinstance(value, bool):
            raise ValueError  # true/false is not a number
        if isinstance(current, int):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if isinstance(current, float):
            return float(value)
        if isinstance(current, tuple):
            if isinstance(value, str):
                value = [v for v in value.strip("()[] ").split(",")]
            return tuple(float(v) for v in value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{name}={value!r} is invalid: expected {_TYPE_NAMES[type(current)]}") from None
    if value is None or current is None or isinstance(current, str):
        if isinstance(value, (Mapping, list, tuple)):
            raise ConfigError(f"{name}={value!r} is invalid: expected a single value")
        return None if value is None else str(value)
    return value


def apply_nested(obj: Any, values: Mapping[str, Any], prefix: str) -> Any:
    """Set the keys of the mapping `values` on the section `obj` (named `prefix` in errors); returns `obj`."""
    names = {f.name for f in dataclasses.fields(obj)}
    for key, value in values.items():
        if key not in names:
            raise ConfigError(f"unknown configuration key {prefix + '.' + str(key)!r}")
        setattr(obj, key, _coerce(f"{prefix}.{key}", getattr(obj, key), value))
    return obj
