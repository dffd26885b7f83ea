"""`iseebetter fetch`: datasets and published weights from their public sources into the data home."""

from __future__ import annotations

from iseebetter_lib.data.fetch.catalogue import CATALOGUE, Entry, get
from iseebetter_lib.data.fetch.install import fetch

__all__ = ["CATALOGUE", "Entry", "get", "fetch"]
