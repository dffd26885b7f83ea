"""The per-chapter times a book run reads back from earlier runs of its profile: a damaged timings.json is one warning
naming it, never a crash, and what is still good in it is kept."""

from __future__ import annotations

import pytest

from iseebetter_lib.book.results import MACHINE_REFERENCE
from iseebetter_lib.book.runner import read_timings

GOOD = b'{"a_first": 12.5, "b_second": 3, "_machine_reference_ms": {"before": 40.0, "after": 41.0}}'

# name: (file content, times kept, the warning's text after the file name)
CASES = {
    "good": (GOOD, {"a_first": 12.5, "b_second": 3, MACHINE_REFERENCE: {"before": 40.0, "after": 41.0}}, None),
    "not-utf8": (b'{"a_first": 1\xff}', {}, "damaged (not a JSON object of chapter times)"),
    "torn": (GOOD[:30], {}, "damaged (not a JSON object of chapter times)"),
    "a-list": (b"[1, 2]", {}, "damaged (not a JSON object of chapter times)"),
    "a-number": (b"3", {}, "damaged (not a JSON object of chapter times)"),
    "string-time": (b'{"a_first": "12", "b_second": 3, "c": NaN, "d": true}', {"b_second": 3},
                    "entries that are not times left out: a_first, c, d"),
}


@pytest.mark.parametrize("case", CASES)
def test_damaged_timings_are_one_warning(case, tmp_path, recwarn):
    content, kept, warning = CASES[case]
    path = tmp_path / "timings.json"
    path.write_bytes(content)
    assert read_timings(path) == kept
    assert [str(w.message) for w in recwarn] == ([] if warning is None else [f"{path}: {warning}"])
    assert read_timings(tmp_path / "none.json") == {}
