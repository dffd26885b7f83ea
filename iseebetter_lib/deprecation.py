"""Renamed public names keep working for a while: a module's `__getattr__` warns and returns the new object.

Use: ``__getattr__ = renamed(__name__, {"OldName": "iseebetter_lib.where.NewName"})`` at the end of the module
where the old name lived. Imports nothing of the project (floor 1).
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any, Callable, Mapping


def renamed(module: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for `module`: each old name of `names` warns `DeprecationWarning` naming its
    new dotted name and returns that object; any other name raises AttributeError as usual."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        new = names[name]
        warnings.warn(f"{module}.{name} is deprecated: use {new}", DeprecationWarning, stacklevel=2)
        where, _, attribute = new.rpartition(".")
        return getattr(importlib.import_module(where), attribute)

    return __getattr__
