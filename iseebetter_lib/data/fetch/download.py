"""Resumable, verified HTTP downloads with the standard library.

A download is written to ``<file>.part`` and renamed onto ``<file>`` only once complete and verified (size, and the
SHA-256 digest when one is known): an interrupted download leaves only the ``.part`` file, which the next attempt
continues with an HTTP range request (or restarts when the server ignores ranges); a digest mismatch removes it.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

from iseebetter_lib.errors import UserError

CHUNK = 1 << 20
USER_AGENT = "iseebetter-fetch/1"


def sha256_of(path: str | os.PathLike, progress: bool = False) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    from tqdm.auto import tqdm

    h = hashlib.sha256()
    size = os.path.getsize(path)
    with open(path, "rb") as fh, tqdm(total=size, unit="B", unit_scale=True, desc="checking", disable=not progress,
                                      leave=False) as bar:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
            bar.update(len(block))
    return h.hexdigest()


def part_path(dest: Path) -> Path:
    """The temporary name of a download in progress."""
    return dest.with_name(dest.name + ".part")


def _open(url: str, start: int, timeout: float, hint: str):
    headers = {"User-Agent": USER_AGENT}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # nothing left to send: the .part file is already whole
            return None
        raise UserError(f"{url}: the server answered HTTP {exc.code} {exc.reason}; {hint}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(f"{url}: cannot download ({reason}); check the network, or {hint}") from None


def _total(resp, start: int) -> tuple[int, int | None]:
    """(offset the body starts at, total size or None) from the response headers."""
    if resp.status == 206:
        crange = resp.headers.get("Content-Range", "")  # bytes a-b/total
        try:
            first = int(crange.split()[1].split("-")[0])
            total = crange.rsplit("/", 1)[1]
            return first, (None if total == "*" else int(total))
        except (IndexError, ValueError):
            return start, None
    length = resp.headers.get("Content-Length")
    return 0, (int(length) if length and length.isdigit() else None)


def _write_body(resp: Any, part: Path, mode: str, bar: Any) -> None:
    """Append (or write) the response body to the partial file; a cut connection ends quietly (the caller resumes),
    a local write failure is one line."""
    try:
        part.parent.mkdir(parents=True, exist_ok=True)  # only once the server answered
        with open(part, mode) as fh:
            for block in iter(lambda: resp.read(CHUNK), b""):
                fh.write(block)
                bar.update(len(block))
    except (OSError, http.client.HTTPException, socket.timeout) as exc:
        if isinstance(exc, OSError) and exc.errno is not None and not isinstance(
                exc, (ConnectionError, socket.timeout)):
            raise UserError(f"{part}: cannot write the download ({exc.strerror})") from None


def download(url: str, dest: str | os.PathLike, *, size: int | None = None, sha256: str | None = None,
             retries: int = 5, timeout: float = 60.0, progress: bool = True, hint: str = "",
             check_space: Callable[[int, int], None] | None = None) -> str:
    """Download `url` to `dest` (resuming ``dest.part``); verify; rename; return the file's SHA-256.

    `size`: exact expected bytes, when known; `sha256`: expected digest, when known. `retries`: how many times a
    connection cut mid-body is resumed within this call. `hint` ends every error message (what the user can do).
    `check_space(bytes still to come, total bytes)` runs once the server has said the size, before anything is
    written, and may refuse (raise UserError).
    """
    from tqdm.auto import tqdm

    dest = Path(dest)
    hint = hint or "download the file by hand and pass it with --from"
    part = part_path(dest)
    total: int | None = size
    attempt = 0
    with tqdm(unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name, disable=not progress,
              miniters=1, dynamic_ncols=True) as bar:
        while True:
            have = part.stat().st_size if part.is_file() else 0
            if total is not None and have == total:
                break
            resp = _open(url, have, timeout, hint)
            if resp is None:
                break
            with resp:
                first, reported = _total(resp, have)
                total = reported if reported is not None else total
                mode = "ab" if first == have and have else "wb"
                have = have if mode == "ab" else 0
                if check_space is not None and total is not None:
                    check_space(max(total - have, 0), total)
                    check_space = None
                bar.reset(total=total)
                bar.update(have)
                _write_body(resp, part, mode, bar)
            done = part.stat().st_size
            if total is None or done == total:
                break
            attempt += 1
            if attempt > retries:
                raise UserError(f"{url}: download interrupted at {done} of {total} bytes (kept in {part}); "
                                f"run the same command again to resume, or {hint}")
    got = part.stat().st_size if part.is_file() else 0
    if size is not None and got != size:
        part.unlink(missing_ok=True)
        raise UserError(f"{url}: got {got} bytes, expected {size}; nothing installed (try again, or {hint})")
    digest = sha256_of(part, progress=progress)
    if sha256 is not None and digest != sha256.lower():
        part.unlink(missing_ok=True)
        raise UserError(f"{url}: SHA-256 {digest[:16]}... differs from the expected {sha256[:16]}...; the file was "
                        f"removed and nothing installed (try again, or {hint})")
    os.replace(part, dest)
    return digest
