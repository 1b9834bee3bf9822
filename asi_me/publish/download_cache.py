"""Built download files kept on disk and served again to everyone entitled to the same file.

A zip of every public table is about 80 MB and 5 s of CPU at 100x ASI's size, the same
bytes for every public visitor with the same filters on the same day. The first click
builds it; every later click, by anyone with the same role (and company, for a member),
filters and disclosure policy, on the same snapshot, reads it back. Files live in
`<data folder>/downloads/` (ASI_DOWNLOAD_CACHE_DIR overrides it), written to a temporary
name and renamed, so a reader never sees half a file; the least recently used go once
the folder holds more than ASI_DOWNLOAD_CACHE_MB (default 2048). A folder that cannot
be written only means every click builds its file again.

Large files (a whole table of millions of rows, the zip, the workbook) are written
straight into that folder by `cached_file`, batch by batch, and served from there as a
file (asi_me/publish/file_links.py streams it), so no process ever holds one whole. Such a
file is kept even when it alone is larger than the limit (it must be on disk to be
served); the others are evicted around it, and it goes at the next eviction after that.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from asi_me.data.store import Store
from asi_me.settings import REPO_ROOT

log = logging.getLogger(__name__)

# Sources that decide what a download holds: a file built by other code is never served.
_SOURCES = ("asi_me/**/*.py", "queries/*.sql")
DEFAULT_MAX_MB = 2048
_lock = threading.Lock()


def cache_dir(store: Store) -> Path:
    """Where built downloads of this store's data folder are kept."""
    configured = os.environ.get("ASI_DOWNLOAD_CACHE_DIR", "").strip()
    # The store's folder is <data folder>/snapshots/<id>.
    return Path(configured) if configured else store.folder.parent.parent / "downloads"


def max_bytes() -> int:
    raw = os.environ.get("ASI_DOWNLOAD_CACHE_MB", "").strip()
    if not raw:
        return DEFAULT_MAX_MB * 1024 * 1024
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ValueError(
            f"Environment variable ASI_DOWNLOAD_CACHE_MB={raw!r} is not a size in MB; set it to e.g. "
            f"{DEFAULT_MAX_MB}, or 0 to keep no built downloads."
        )
    return int(value * 1024 * 1024)


@functools.cache
def code_version() -> str:
    """A digest of the core's code and SQL, read once per process."""
    digest = hashlib.sha256()
    for pattern in _SOURCES:
        for path in sorted(REPO_ROOT.glob(pattern)):
            digest.update(path.relative_to(REPO_ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def file_key(store: Store, kind: str, parts: list[object]) -> str:
    """The file name for a download: the snapshot, the kind and a digest of what decides its bytes."""
    decided_by = [code_version(), store.snapshot_id, kind, *parts]
    digest = hashlib.sha256(json.dumps(decided_by, default=repr).encode())
    return f"{store.snapshot_id}-{kind}-{digest.hexdigest()[:24]}"


def is_cached(store: Store, kind: str, parts: list[object]) -> bool:
    """Whether `cached_bytes` would read this download back instead of building it."""
    return bool(max_bytes()) and (cache_dir(store) / file_key(store, kind, parts)).is_file()


def cached_file(store: Store, kind: str, parts: list[object], write: Callable[[IO[bytes]], object]) -> Path:
    """The path of the download `kind` described by `parts` on disk: the file built before if
    there is one, else one built now by `write(sink)`, which writes the file batch by batch
    into `sink` (a buffered file under a temporary name, renamed once `write` returns).

    A build that fails leaves no file behind, not even its temporary one, and raises.
    Raises OSError when the folder cannot be written: a file that is served as a file must
    be on disk (`cached_bytes` is the way to build small files in memory instead)."""
    folder = cache_dir(store)
    path = folder / file_key(store, kind, parts)
    if path.is_file():
        _touch(path)
        return path
    folder.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(folder, path)
    try:
        with tmp.open("wb", buffering=1024 * 1024) as sink:
            write(sink)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    _touch(path)
    _evict(folder, max_bytes(), keep=path)
    return path


def _temporary(folder: Path, path: Path) -> Path:
    """A name no reader takes for a built file (it starts with a dot), one per writer."""
    return folder / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"


def cached_bytes(store: Store, kind: str, parts: list[object], build: Callable[[], bytes]) -> bytes:
    """The bytes of the download `kind` described by `parts`: read back if built before, else built now."""
    limit = max_bytes()
    folder = cache_dir(store)
    path = folder / file_key(store, kind, parts)
    if limit:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("Could not read the built download %s (%s); building it again.", path, exc)
        else:
            _touch(path)
            return data
    data = build()
    if limit and len(data) <= limit:
        _keep(folder, path, data, limit)
    return data


def _touch(path: Path) -> None:
    """Mark the file most recently used, to the nanosecond (a file system's own write
    times can be a few milliseconds coarse, and two files written within that would tie)."""
    now = time.time_ns()
    with contextlib.suppress(OSError):
        os.utime(path, ns=(now, now))


def _keep(folder: Path, path: Path, data: bytes, limit: int) -> None:
    tmp = _temporary(folder, path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
        _touch(path)
        _evict(folder, limit)
    except OSError as exc:
        log.warning("Could not keep the built download in %s (%s); the next click builds it again.", folder, exc)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _evict(folder: Path, limit: int, keep: Path | None = None) -> None:
    """Remove the least recently used files until the folder holds at most `limit` bytes;
    `keep` (a file just built, to be served now) is never removed."""
    with _lock:
        files = []
        for entry in folder.iterdir():
            if entry.name.startswith("."):
                continue
            try:
                stat = entry.stat()
            except FileNotFoundError:
                continue
            files.append((stat.st_mtime, stat.st_size, entry))
        total = sum(size for _, size, _ in files)
        for _, size, entry in sorted(files, key=lambda f: f[0]):
            if total <= limit:
                break
            if entry == keep:
                continue
            entry.unlink(missing_ok=True)
            total -= size
