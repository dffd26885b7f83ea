"""What a chapter reads when the data home lacks Vid4 or the flow reference, so the book runs on a fresh clone.

Without Vid4 the chapters that score it use the embedded dataset's held-out split instead (shots of the sample
videos that training never sees: bikes shots 01 and 05), and say so in bold at the top; with Vid4 nothing changes.
Without the data home's flow reference, chapter 02 reads the trimmed copy that ships with the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from iseebetter_lib.data import home
from iseebetter_lib.paths import repository_root

NOTE = ("**Vid4 is not in the data home ({home}): this chapter uses the held-out clips of the embedded sample "
        "videos instead ({clips}; never seen in training), so its figures are not comparable with the paper's. "
        "Fetch Vid4 with `{command}` and run the chapter again.**")


@dataclass(frozen=True)
class TestSet:
    """The clips a chapter scores, with the regions its figures zoom into."""

    dataset: str  # "vid4", or "folder" for the held-out sample clips
    root: Path  # folder of clip folders
    zoom_boxes: dict[str, tuple[int, int, int, int]]  # per clip, HR (y, x, h, w)
    profile_clip: str  # clip of the temporal profile
    profile_crop: tuple[int, int, int, int]  # LR (y, x, h, w)
    profile_row: int  # HR row inside the crop
    note: str = ""  # Markdown shown at the top of the chapter ("" with Vid4)
    clips: list[str] = field(default_factory=list)

    @property
    def is_vid4(self) -> bool:
        return self.dataset == "vid4"


def chapter_test_set(vid4_root: str | Path | None, cache_dir: str | Path) -> TestSet:
    """Vid4 (`vid4_root`, else the data home's), or the embedded held-out clips (built in `cache_dir`) when absent."""
    from iseebetter_lib.book.temporal_profile import PROFILE_CLIP, PROFILE_CROP, PROFILE_ROW
    from iseebetter_lib.book.zoom import ZOOM_BOXES

    root = Path(vid4_root) if vid4_root and Path(vid4_root).is_dir() else home.vid4_root(required=False)
    if root is not None:
        return TestSet("vid4", root, dict(ZOOM_BOXES), PROFILE_CLIP, PROFILE_CROP, PROFILE_ROW,
                       clips=sorted(p.name for p in root.iterdir() if p.is_dir()))
    from iseebetter_lib.data.embedded import embedded_dataset

    held_out = embedded_dataset(cache_dir, progress=False) / "test"
    clips = sorted(p.name for p in held_out.iterdir() if p.is_dir())
    note = NOTE.format(home=home.data_home(), clips=", ".join(f"`{c}`" for c in clips), command=home.FETCH_VID4)
    # bikes is 640 x 272 (LR 160 x 68): zoom into the middle, profile a crop through the riders
    return TestSet("folder", held_out, {c: (80, 240, 100, 160) for c in clips}, clips[0], (10, 32, 48, 96), 90,
                   note=note, clips=clips)


def flow_reference_file(path: str | Path | None) -> Path:
    """`path` when it exists, else the data home's full flow reference, else the trimmed copy shipped in tests/data."""
    if path and Path(path).is_file():
        return Path(path)
    folder = home.reference_dir("flow_reference") or repository_root() / "tests" / "data" / "flow_reference"
    full = folder / "pyflow_reference.npz"
    if not full.is_file():
        from iseebetter_lib.errors import UserError

        raise UserError(f"{full}: flow reference data not found")
    return full


def is_trimmed_flow_reference(path: str | Path) -> bool:
    """Whether `path` is the trimmed copy (a subset of the pairs) rather than the data home's full set."""
    return Path(path).resolve().parent == (repository_root() / "tests" / "data" / "flow_reference").resolve()
