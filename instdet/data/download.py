"""Download AAM from Zenodo: resumable, checksummed, and member by member when possible.

An audio zip holds 1000 tracks in about 15 GB. When only some of a zip's tracks are asked for
and the server answers HTTP range requests, the zip is read in place over HTTP (its central
directory, then only the members asked for; each member's CRC-32 is checked as it is read)
instead of downloading it whole. Otherwise the whole zip is downloaded to
``DEST/.downloads/`` (resuming a partial file), its MD5 checked against ``REMOTES``, and the
members asked for extracted. No member may land outside ``DEST``.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import re
import shutil
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Callable, Iterable

from instdet.atomic import atomic_path
from instdet.data.aam import REMOTES, Remote
from instdet.errors import InstdetError

PARTS = ("annotations", "mixes", "multitracks", "midis")
CHUNK = 1 << 20
_MEMBER_ID = re.compile(r"(?:^|/)(\d{4})_[^/]*$")

Progress = Callable[[int], None]


def parse_tracks(spec: str) -> set[int]:
    """``"1-300,512"`` -> {1, ..., 300, 512}; ids must lie in 1..3000."""
    out: set[int] = set()
    try:
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            lo, _, hi = part.partition("-")
            a, b = int(lo), int(hi or lo)
            if a > b:
                raise ValueError
            out.update(range(a, b + 1))
    except ValueError:
        raise InstdetError(f"bad track list {spec!r}; write e.g. 1-300 or 5,17,2001-2010") from None
    if not out or min(out) < 1 or max(out) > 3000:
        raise InstdetError(f"track ids must lie in 1-3000, got {spec!r}")
    return out


def select_remotes(
    tracks: set[int], parts: Iterable[str], remotes: dict[str, Remote] | None = None
) -> list[Remote]:
    parts = list(parts)
    bad = [p for p in parts if p not in PARTS]
    if bad:
        raise InstdetError(f"unknown part {bad[0]!r}; choose from {', '.join(PARTS)}")
    return [
        r for r in (remotes or REMOTES).values()
        if r.part in parts and any(r.first <= t <= r.last for t in tracks)
    ]  # fmt: skip


def _open(url: str, *, start: int = 0, end: int | None = None, timeout: float = 30.0):
    req = urllib.request.Request(url, headers={"User-Agent": "instdet"})
    if start or end is not None:
        req.add_header("Range", f"bytes={start}-{'' if end is None else end}")
    try:
        return urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise InstdetError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InstdetError(f"{url}: cannot connect ({reason})") from None


def remote_size(url: str) -> tuple[int | None, bool]:
    """``(size, accepts_ranges)`` from a one-byte range request."""
    with _open(url, start=0, end=0) as resp:
        if resp.status == 206:
            total = resp.headers.get("Content-Range", "").rpartition("/")[2]
            return (int(total) if total.isdigit() else None), True
        length = resp.headers.get("Content-Length")
        return (int(length) if length else None), False


def md5sum(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def fetch_file(
    url: str, dest: Path, *, md5: str | None = None, retries: int = 5,
    progress: Progress | None = None,
) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` across dropped connections."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(retries + 1):
        have = part.stat().st_size if part.exists() else 0
        try:
            with _open(url, start=have) as resp:
                appending = bool(have) and resp.status == 206
                length = resp.headers.get("Content-Length")
                expected = (have if appending else 0) + int(length) if length else None
                with open(part, "ab" if appending else "wb") as out:
                    while block := resp.read(CHUNK):
                        out.write(block)
                        if progress:
                            progress(len(block))
            # http.client returns short reads silently when a server drops the connection.
            if expected is not None and part.stat().st_size < expected:
                raise ConnectionError(f"connection dropped at {part.stat().st_size} of {expected} bytes")
            break
        except (OSError, InstdetError, http.client.HTTPException) as exc:
            if attempt == retries:
                raise InstdetError(f"{url}: download failed after {retries + 1} tries ({exc})") from None
            time.sleep(min(2.0**attempt * 0.1, 5.0))
    if md5 is not None:
        got = md5sum(part)
        if got != md5:
            part.unlink()
            raise InstdetError(f"{dest.name}: MD5 {got} does not match the expected {md5}; removed")
    os.replace(part, dest)
    return dest


class HttpRangeReader(io.RawIOBase):
    """A read-only, seekable file over HTTP range requests, reading ahead in blocks."""

    def __init__(self, url: str, size: int, *, block: int = 1 << 18):
        self.url, self.size, self.block = url, size, block
        self.pos = 0
        self._buf_start, self._buf = 0, b""
        self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.size - self.pos
        n = min(n, self.size - self.pos)
        if n <= 0:
            return b""
        lo = self.pos - self._buf_start
        if 0 <= lo and lo + n <= len(self._buf):
            data = self._buf[lo : lo + n]
        else:
            want = max(n, self.block)
            end = min(self.size, self.pos + want) - 1
            data_all = self._get(self.pos, end)
            self._buf_start, self._buf = self.pos, data_all
            data = data_all[:n]
        self.pos += len(data)
        return data

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def _get(self, start: int, end: int, retries: int = 5) -> bytes:
        for attempt in range(retries + 1):
            try:
                self.requests += 1
                with _open(self.url, start=start, end=end) as resp:
                    if resp.status != 206:
                        raise InstdetError(f"{self.url}: the server ignored a range request")
                    data = resp.read()
                if len(data) == end - start + 1:
                    return data
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(min(2.0**attempt * 0.1, 5.0))
        raise InstdetError(f"{self.url}: range {start}-{end} failed after {retries + 1} tries")


def safe_target(dest: Path, member: str) -> Path:
    """Where ``member`` extracts to; raise if it would land outside ``dest``."""
    root = dest.resolve()
    target = (root / member).resolve()
    if member.startswith(("/", "\\")) or ":" in member or not target.is_relative_to(root):
        raise InstdetError(f"zip member {member!r} would land outside {dest}; refused")
    return target


def extract_members(
    zf: zipfile.ZipFile, dest: Path, *, tracks: set[int] | None, progress: Progress | None = None
) -> list[Path]:
    """Extract members (only those of ``tracks`` when given) safely and atomically."""
    written = []
    members = [m for m in zf.infolist() if not m.is_dir()]
    for m in members:  # check every path before writing anything
        safe_target(dest, m.filename)
    for m in members:
        hit = _MEMBER_ID.search(m.filename)
        if tracks is not None and (hit is None or int(hit.group(1)) not in tracks):
            continue
        target = safe_target(dest, m.filename)
        if target.exists() and target.stat().st_size == m.file_size:
            written.append(target)
            continue
        try:
            with atomic_path(target) as tmp, zf.open(m) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
        except zipfile.BadZipFile as exc:
            raise InstdetError(f"{m.filename}: corrupt zip member ({exc})") from None
        written.append(target)
        if progress:
            progress(m.compress_size)
    return written


def download(
    dest: str | os.PathLike, *, tracks: set[int], parts: Iterable[str] = ("annotations", "mixes", "midis"),
    url_template: str | None = None, progress: Progress | None = None,
    log: Callable[[str], None] = lambda s: None, remotes: dict[str, Remote] | None = None,
) -> list[Path]:
    """Fetch the asked-for parts of the asked-for tracks into ``dest``.

    ``url_template`` (``{name}`` is the file name) replaces Zenodo's address, e.g. for a mirror;
    ``remotes`` replaces the list of files and checksums (tests use their own small zips).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for remote in select_remotes(tracks, parts, remotes):
        url = url_template.format(name=remote.filename) if url_template else remote.url
        covered = {t for t in tracks if remote.first <= t <= remote.last}
        whole = len(covered) == remote.last - remote.first + 1
        size, ranged = remote_size(url)
        if ranged and size and not whole:
            log(f"{remote.filename}: reading {len(covered)} tracks' members in place ({size} B zip)")
            reader = io.BufferedReader(HttpRangeReader(url, size), buffer_size=1 << 16)
            try:
                with zipfile.ZipFile(reader) as zf:
                    written += extract_members(zf, dest, tracks=covered, progress=progress)
            except zipfile.BadZipFile as exc:
                raise InstdetError(f"{remote.filename}: not a zip file ({exc})") from None
            continue
        log(f"{remote.filename}: downloading the whole zip")
        local = fetch_file(url, dest / ".downloads" / remote.filename, md5=remote.md5,
                           progress=progress)
        try:
            with zipfile.ZipFile(local) as zf:
                written += extract_members(zf, dest, tracks=covered)
        except zipfile.BadZipFile as exc:
            raise InstdetError(f"{remote.filename}: not a zip file ({exc})") from None
    return written
