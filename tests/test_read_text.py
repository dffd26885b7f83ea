"""`io.read_text` and `io.require_file`: the one reader of text a user hands in (configuration files, book.yml,
list files). UTF-8 with or without a byte-order mark is read, with any newline convention; anything else is one
`UserError` naming the file and saying what it is."""

from __future__ import annotations

import os

import pytest

from iseebetter_lib.errors import UserError
from iseebetter_lib.io import kind_of, read_text, require_file

TEXT = "train:\n  lr: 0.001  # café “quoted” 試\n"


@pytest.mark.parametrize("data", [TEXT.encode("utf-8"), b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
                                  TEXT.replace("\n", "\r\n").encode("utf-8"), TEXT.replace("\n", "\r").encode()],
                         ids=["utf8", "utf8-bom", "crlf", "cr"])
def test_utf8_in_any_form_reads_the_same(tmp_path, data):
    (tmp_path / "c.yml").write_bytes(data)
    assert read_text(tmp_path / "c.yml") == TEXT


@pytest.mark.parametrize("encoding, line, column", [("latin-1", 2, 19), ("cp1252", 2, 19), ("utf-16", 1, 1),
                                                    ("shift_jis", 2, 21)])
def test_other_encodings_are_one_line_naming_the_file_and_the_byte(tmp_path, encoding, line, column):
    path = tmp_path / "c.yml"
    path.write_bytes(TEXT.encode(encoding, errors="replace"))
    with pytest.raises(UserError) as info:
        read_text(path, "configuration file")
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: configuration file is not UTF-8 text")
    assert f"at line {line}, column {column}" in message


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read_whole(tmp_path):
    (tmp_path / "big.yml").write_bytes(b"#" * 2048)
    with pytest.raises(UserError, match="larger than"):
        read_text(tmp_path / "big.yml", max_bytes=1024)


@pytest.mark.parametrize("make, kind", [
    (lambda p: p / "missing", "not found"),
    (lambda p: p, "a folder"),
    (lambda p: "/dev/zero", "a character device"),
    (lambda p: (os.mkfifo(p / "fifo"), p / "fifo")[1], "a named pipe"),
], ids=["missing", "folder", "dev-zero", "fifo"])
def test_what_is_not_a_regular_file_is_named_as_what_it_is(tmp_path, make, kind):
    path = make(tmp_path)
    assert kind_of(path) == kind
    with pytest.raises(UserError) as info:
        require_file(path, "list file")
    expected = f"{path}: list file not found" if kind == "not found" else \
        f"{path}: not a regular file ({kind}); expected a list file"
    assert str(info.value) == expected
    with pytest.raises(UserError):
        read_text(path, "list file")
