"""Map state dicts of the original code (iSeeBetter / RBPN-PyTorch / SRGAN port) onto our modules.

Our modules keep the original names, so the mapping is the identity apart from the `module.` prefix that
`nn.DataParallel` adds to every key of the original's saved checkpoints.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Mapping

import torch

from iseebetter_lib.errors import UserError

_PREFIXES = ("module.",)


def convert_original_state_dict(sd: Mapping[str, torch.Tensor]) -> "OrderedDict[str, torch.Tensor]":
    """A new state dict with our key names (same tensors); raises `UserError` if `sd` is not a state dict."""
    if not isinstance(sd, Mapping) or not all(isinstance(k, str) for k in sd):
        raise UserError(f"state dict: expected a mapping of parameter names to tensors, got {type(sd).__name__}")
    out: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    for key, value in sd.items():
        new = key
        while new.startswith(_PREFIXES):
            new = new.split(".", 1)[1]
        if new in out:
            raise UserError(f"state dict: key {key!r} collides with {new!r} after removing the 'module.' prefix")
        out[new] = value
    return out
