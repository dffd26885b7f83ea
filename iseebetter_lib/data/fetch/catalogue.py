"""What `iseebetter fetch` can install: each dataset or weights file, its public source and where it lands.

Sources are the public places the world keeps them: Vid4 from the VSR-DUF repository (``inputs/G/<clip>/``),
Vimeo-90K from its authors' server, the published weights from the original iSeeBetter repository's ``weights/``.
SHA-256 digests are not published for any of them: the first download records its digest in the data home's
manifest and later downloads of the same file are checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from iseebetter_lib.data import home
from iseebetter_lib.errors import UserError

VID4_ARCHIVE_URL = "https://github.com/yhjo09/VSR-DUF/archive/refs/heads/master.zip"
VID4_FRAMES = {"calendar": 41, "city": 34, "foliage": 49, "walk": 47}
VIMEO_URL = "http://data.csail.mit.edu/tofu/dataset/vimeo_septuplet.zip"
WEIGHTS_URL = "https://github.com/amanchadha/iSeeBetter/raw/master/weights/{file}"
GB = 1000 ** 3
MB = 1000 ** 2


@dataclass(frozen=True)
class Entry:
    """One installable item. `kind`: vid4 (frames picked out of an archive), vimeo90k (archive) or weights (file)."""

    name: str
    kind: str
    url: str
    size: int  # bytes downloaded, approximate where the source does not say
    description: str
    file: str = ""  # weights: file name in weights/
    sha256: str | None = None  # published digest, when one exists
    members: tuple[str, ...] = field(default=())  # weights group: names of the entries it installs

    def target(self, data_home: str | Path | None = None) -> Path:
        """Where this entry lands in the data home."""
        if self.kind == "weights":
            return home.weight_path(self.file, data_home)
        if self.kind == "group":
            return home.weights_dir(data_home)
        return home.default_path(self.kind, data_home)

    def present(self, data_home: str | Path | None = None) -> bool:
        """Whether it is installed (Vid4 in either accepted layout; all files of a group)."""
        if self.kind == "vid4":
            root = home.vid4_root(data_home, required=False)
            return root is not None and all((root / c).is_dir() for c in VID4_FRAMES)
        if self.kind == "vimeo90k":
            return (home.vimeo_root(data_home) / "sep_trainlist.txt").is_file()
        if self.kind == "group":
            return all(get(m).present(data_home) for m in self.members)
        return self.target(data_home).is_file()


# (name, file, size in MB, what it is); sizes estimated from the parameter counts (the 4x generator has 12.8 M float32
# parameters, the discriminator 5.2 M).
_WEIGHTS = (
    ("rbpn-2x", "RBPN_2x.pth", 51, "RBPN authors' L1-trained 2x generator"),
    ("rbpn-4x", "RBPN_4x.pth", 51, "RBPN authors' L1-trained 4x generator (paper configuration)"),
    ("rbpn-8x", "RBPN_8x.pth", 51, "RBPN authors' L1-trained 8x generator"),
    ("rbpn-4x-f11", "RBPN_4x_F11_NTIRE2019.pth", 51, "RBPN 4x, 11-frame variant (NTIRE 2019)"),
    ("iseebetter", "netG_epoch_4_1.pth", 51, "iSeeBetter's published 4x generator"),
    ("iseebetter-apit", "netG_epoch_4_1_APITLoss.pth", 51, "iSeeBetter generator, four-fold loss run"),
    ("iseebetter-full", "netG_epoch_4_1_FullDataSet.pth", 51, "iSeeBetter generator, full Vimeo-90K run"),
    ("iseebetter-d-full", "netD_epoch_4_1_FullDataSet.pth", 21, "iSeeBetter discriminator, full Vimeo-90K run"),
)

CATALOGUE: dict[str, Entry] = {
    "vid4": Entry("vid4", "vid4", VID4_ARCHIVE_URL, 120 * MB,
                  "Vid4 ground truth: calendar 41, city 34, foliage 49, walk 47 frames (from VSR-DUF inputs/G/)"),
    "vimeo90k": Entry("vimeo90k", "vimeo90k", VIMEO_URL, 82 * GB,
                      "Vimeo-90K septuplets (64,612 train / 7,824 test), needs ~170 GB free"),
    **{name: Entry(name, "weights", WEIGHTS_URL.format(file=file), mb * MB, text, file=file)
       for name, file, mb, text in _WEIGHTS},
}
CATALOGUE["weights"] = Entry("weights", "group", WEIGHTS_URL.format(file=""), sum(w[2] for w in _WEIGHTS) * MB,
                             "all published weights above", members=tuple(w[0] for w in _WEIGHTS))


def get(name: str) -> Entry:
    """The catalogue entry called `name` (a weights file name such as RBPN_4x.pth also works)."""
    if name in CATALOGUE:
        return CATALOGUE[name]
    for entry in CATALOGUE.values():
        if entry.file and entry.file == name:
            return entry
    raise UserError(f"fetch {name!r}: unknown item (known: {', '.join(CATALOGUE)}; see `iseebetter fetch --list`)")


def human_size(n: float) -> str:
    """1.2 GB / 51 MB style."""
    for unit, size in (("GB", GB), ("MB", MB), ("kB", 1000)):
        if n >= size:
            return f"{n / size:.0f} {unit}" if n >= 10 * size else f"{n / size:.1f} {unit}"
    return f"{int(n)} B"
