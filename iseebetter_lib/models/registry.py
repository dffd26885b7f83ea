"""The generator registry's resolver: `config.schema.GENERATORS` names each generator as "module:attribute"; this
module imports it and builds it from a `ModelConfig` (the configuration floor knows the names, this floor the code).

Adding a generator: a module with an `nn.Module` whose call is ``model(x, neighbours, flows) -> sr`` (a
single-frame model ignores the last two) and one entry in `GENERATORS`. Building is side-effect free (no files,
no global state beyond torch's RNG for the initial weights), so it also works under ``torch.device("meta")``.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from torch import nn

from iseebetter_lib.config import ModelConfig
from iseebetter_lib.config.schema import GENERATORS, resolve


def generator_class(name: str) -> Callable[..., nn.Module]:
    """The class (or builder) registered under `name` in `GENERATORS`."""
    return resolve(GENERATORS[name].builder)


def accepted_kwargs(builder: Callable[..., Any], values: dict[str, Any]) -> dict[str, Any]:
    """The items of `values` that `builder`'s signature names (all of them when it takes ``**kwargs``)."""
    params = inspect.signature(builder).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(values)
    return {k: v for k, v in values.items() if k in params}


def build_generator(cfg: ModelConfig) -> nn.Module:
    """The generator `cfg.name` names, from a `ModelConfig` (validated first: bad values raise `ConfigError`)."""
    cfg.validate()
    builder = generator_class(cfg.name)
    return builder(**accepted_kwargs(builder, cfg.kwargs()))
