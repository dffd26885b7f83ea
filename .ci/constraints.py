"""Write constraints.txt: the exact versions installed in this environment of everything the project needs.

Run with the environment CI tested (`.venv/bin/python .ci/constraints.py`). The closure starts at the project's
requirements with the `book` and `test` extras (read from pyproject.toml) and follows installed packages' metadata;
only plain `name==version` pins are written (a local build label such as `+cpu` is dropped), never the project.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("book", "test")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(requirements: list[str]) -> dict[str, str]:
    """Installed name -> version for the requirements and everything they pull in (markers evaluated here)."""
    env = default_environment()
    found: dict[str, str] = {}
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({**env, "extra": extra}):
            continue
        key = canonical(req.name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            sys.exit(f"{req.name} is required but not installed in {sys.prefix}")
        first = key not in found
        found[key] = dist.version
        for sub in dist.requires or []:
            sub_req = Requirement(sub)
            wanted = sub_req.marker is None or "extra" not in str(sub_req.marker)
            if first and wanted:
                todo.append((sub_req, ""))
            for ex in req.extras:
                if sub_req.marker is not None and sub_req.marker.evaluate({**env, "extra": ex}):
                    todo.append((sub_req, ex))
    return found


def main() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in EXTRAS:
        reqs += project["optional-dependencies"][extra]
    pins = closure(reqs)
    pins.pop(canonical(project["name"]), None)
    lines = [f"{name}=={version.split('+')[0]}" for name, version in sorted(pins.items())]
    header = ("# pip constraints: the versions CI tested (written by .ci/constraints.py; pins only).\n"
              "# Used by `make` (pip install -c constraints.txt) and environment.yml.\n")
    (ROOT / "constraints.txt").write_text(header + "\n".join(lines) + "\n")
    print(f"constraints.txt: {len(lines)} pins")


if __name__ == "__main__":
    main()
