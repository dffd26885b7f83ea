"""Which `InferenceConfig` a run uses: the one saved in the generator file, the caller's defaults, explicit arguments.

Rule, field by field: an explicit argument wins (and a one-line note says so when it differs from a saved value);
else the saved value (flow and window rule always; precision, tile and device when saved with a non-default value);
else the caller's default (e.g. ``tile="auto"`` for `upscale`). Files without a saved configuration (older
``generator.pt``, training checkpoints, original state dicts) take today's defaults.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, Callable, Mapping

from iseebetter_lib.config import FlowConfig, InferenceConfig

RUNTIME_FIELDS = ("precision", "tile", "device")  # how to run here, rather than how the model was trained


def _stderr_note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def _flow_differences(saved: FlowConfig, given: FlowConfig) -> list[str]:
    return [f"flow.{f.name} {getattr(given, f.name)!r}" for f in dataclasses.fields(FlowConfig)
            if getattr(saved, f.name) != getattr(given, f.name)]


def resolve_inference_config(saved: InferenceConfig | None, explicit: Mapping[str, Any] | None = None,
                             defaults: Mapping[str, Any] | None = None, source: str = "checkpoint",
                             note: Callable[[str], None] | None = _stderr_note) -> InferenceConfig:
    """The `InferenceConfig` to run with (see module doc). `explicit` and `defaults` map field names of
    `InferenceConfig` to values; None values count as not given. `note` receives one line per override."""
    explicit = {k: v for k, v in (explicit or {}).items() if v is not None}
    defaults = {k: v for k, v in (defaults or {}).items() if v is not None}
    unknown = (set(explicit) | set(defaults)) - {f.name for f in dataclasses.fields(InferenceConfig)}
    if unknown:
        raise TypeError(f"unknown InferenceConfig fields: {sorted(unknown)}")
    blank = InferenceConfig()
    cfg = dataclasses.replace(saved) if saved is not None else InferenceConfig()
    for name in RUNTIME_FIELDS:
        if name in defaults and (saved is None or getattr(saved, name) == getattr(blank, name)):
            setattr(cfg, name, defaults[name])
    for name, value in explicit.items():
        if name == "tile":
            value = str(value)
        if saved is not None and note is not None and getattr(saved, name) != value:
            if name == "flow":
                changed = _flow_differences(saved.flow, value)
                note(f"{', '.join(changed)} given overrides the flow saved in {source}")
            elif name not in RUNTIME_FIELDS or getattr(saved, name) != getattr(blank, name):
                note(f"{name} {value!r} given overrides {getattr(saved, name)!r} saved in {source}")
        setattr(cfg, name, value)
    return cfg
