"""The registries' entry types and their two helpers: `registered` (the rule of a configuration key that names an
entry) and `resolve` (the code an entry names). The registries themselves (`GENERATORS`, `LOSS_TERMS`,
`TRAINING_SOURCES`) are declared in `schema.py` beside the keys that name their entries."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Mapping

from iseebetter_lib.config.rules import Rule


@dataclass(frozen=True)
class GeneratorEntry:
    """A generator: its class or builder (called with the `ModelConfig` fields its signature names) and the
    numbers of input frames it takes (target included)."""

    builder: str
    min_frames: int = 2
    max_frames: int = 64


@dataclass(frozen=True)
class LossTerm:
    """A term of the generator loss: its module (with ``from_config(cfg, weight, vgg)`` and ``inputs``), its
    default weight, and its variants (the first is the default; each term with variants is a `LossConfig` key)."""

    builder: str
    weight: float
    kinds: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class TrainingSource:
    """A source of training clips: its reader, ``reader(cfg: DataConfig, split, progress) -> clips``, and one line
    saying what it reads (the command line's help)."""

    reader: str
    about: str


def resolve(target: str) -> Any:
    """The object a registry entry's "module:attribute" names (imported now; the floor that owns it calls this)."""
    module, _, attribute = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def registered(registry: Mapping[str, Any], what: str) -> Rule:
    """A name in `registry` (looked up when checked, so entries added later are accepted)."""
    return Rule(lambda v: isinstance(v, str) and v in registry, f"a registered {what} ({', '.join(registry)})")
