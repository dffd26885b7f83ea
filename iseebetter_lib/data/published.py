"""The published generators (iSeeBetter's and the RBPN authors' releases): where they are found in the data home,
and the one-line message that names `iseebetter fetch` when one is missing."""

from __future__ import annotations

import os
from pathlib import Path

from iseebetter_lib.data.fetch.catalogue import CATALOGUE
from iseebetter_lib.data.home import weight_path
from iseebetter_lib.errors import UserError

RBPN_4X = "RBPN_4x.pth"  # the RBPN authors' L1-trained generator: iSeeBetter's starting point
ISEEBETTER_4X = "netG_epoch_4_1.pth"  # iSeeBetter's generator after 4 epochs of fine-tuning
# Published file name -> its name in `iseebetter fetch`'s catalogue.
FETCH_NAMES = {entry.file: entry.name for entry in CATALOGUE.values() if entry.file}


def fetch_hint(path: str | os.PathLike) -> str:
    """' (download it: iseebetter fetch NAME)' when `path` names a published file, else ''."""
    name = FETCH_NAMES.get(Path(path).name)
    return f" (download it: iseebetter fetch {name})" if name else ""


def resolve_weights(name_or_path: str | os.PathLike) -> Path:
    """A bare published file name (``RBPN_4x.pth``) resolves through the data home; a path stays as given.
    A missing file is a `UserError` naming `iseebetter fetch`."""
    text = str(name_or_path)
    path = weight_path(text) if text in FETCH_NAMES else Path(text)
    if not path.is_file():
        raise UserError(f"{path}: published weights not found{fetch_hint(path) or ' (iseebetter fetch)'}")
    return path

