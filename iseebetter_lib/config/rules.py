"""Declared types and ranges of configuration keys: each schema field carries a `Rule`, checked by `check_fields`.

A rule is attached where the key is declared (``lr: float = setting(1e-4, real(gt=0))``), so a bad value from
any source (preset, file, ``--set``, direct construction) fails before any work with a one-line `ConfigError`
naming the dotted key.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

from iseebetter_lib.errors import UserError


class ConfigError(UserError):
    """A configuration value or key is wrong; the message names it."""


@dataclass(frozen=True)
class Rule:
    """`check(value)` is true for an acceptable value; `expected` says what is accepted, for the error message."""

    check: Callable[[Any], bool]
    expected: str


def setting(default: Any, rule: Rule) -> Any:
    """A dataclass field with `default` and its `rule`."""
    return dataclasses.field(default=default, metadata={"rule": rule})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def integer(lo: int | None = None, hi: int | None = None) -> Rule:
    """An int in [lo, hi] (either bound optional)."""
    span = (f"an integer >= {lo}" if hi is None else f"an integer in [{lo}, {hi}]") if lo is not None else (
        "an integer" if hi is None else f"an integer <= {hi}")
    return Rule(lambda v: _is_int(v) and (lo is None or v >= lo) and (hi is None or v <= hi), span)


def real(gt: float | None = None, ge: float | None = None, lt: float | None = None,
         le: float | None = None) -> Rule:
    """A finite number with optional open (gt, lt) or closed (ge, le) bounds."""
    bounds = [f"> {gt:g}" if gt is not None else "", f">= {ge:g}" if ge is not None else "",
              f"< {lt:g}" if lt is not None else "", f"<= {le:g}" if le is not None else ""]
    text = " and ".join(b for b in bounds if b)

    def ok(v: Any) -> bool:
        return _is_real(v) and (gt is None or v > gt) and (ge is None or v >= ge) and (lt is None or v < lt) and (
            le is None or v <= le)

    return Rule(ok, f"a finite number {text}".rstrip())


def choice(*options: Any) -> Rule:
    """One of `options` (compared with ==, type included: 1 is not "1")."""
    return Rule(lambda v: any(type(v) is type(o) and v == o for o in options),
                "one of " + ", ".join(repr(o) for o in options))


def flag() -> Rule:
    return Rule(lambda v: isinstance(v, bool), "true or false")


def text(optional: bool = False) -> Rule:
    """A non-empty string (or None when `optional`)."""
    return Rule(lambda v: (optional and v is None) or (isinstance(v, str) and v != ""),
                "a non-empty string" + (" or null" if optional else ""))


def pair(rule: Rule) -> Rule:
    """A 2-tuple whose items each satisfy `rule`."""
    return Rule(lambda v: isinstance(v, tuple) and len(v) == 2 and all(rule.check(x) for x in v),
                f"two values, each {rule.expected}")


def check(ok: bool, name: str, value: Any, expected: str) -> None:
    """Raise the one-line `ConfigError` for `name` unless `ok`."""
    if not ok:
        raise ConfigError(f"{name}={value!r} is invalid: expected {expected}")


def check_fields(obj: Any, prefix: str) -> None:
    """Check every field of the dataclass `obj` against its rule; nested sections validate under `prefix.name`."""
    for f in dataclasses.fields(obj):
        value, name = getattr(obj, f.name), f"{prefix}.{f.name}"
        if dataclasses.is_dataclass(value):
            value.validate(name)
            continue
        rule = f.metadata.get("rule")
        if rule is not None:
            check(rule.check(value), name, value, rule.expected)
