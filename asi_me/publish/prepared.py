"""Protected figures prepared once per snapshot and disclosure policy, and kept on disk.

Protecting every month end's workforce and every company-magnitude indicator series
depends only on the snapshot, the disclosure policy and the code. At 100x ASI's size it
costs seconds, so a server that rebuilt it after every restart made its first visitors
wait. It is computed when a snapshot is published (`asi_me.publish.gate.prepare`, called
by the ingest) or, for a snapshot published by an older version of the code, the first
time a process needs it, and kept in `<data folder>/prepared/<snapshot id>/` under a name
that digests the code, the snapshot id, what is prepared and the policy: a file built by
other code or under another policy is never read.

Files are written under a temporary name, fsynced and renamed, so a reader sees the whole
file or none. Parquet files carry page checksums and JSON files a SHA-256 of their body,
both verified on every read: a damaged file is removed and rebuilt, never served. A folder
that cannot be written only means each process computes the figures in memory. Folders of
snapshots that no longer exist are removed when another snapshot is prepared, and with
their snapshot by `python -m asi_me snapshots prune`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from asi_me.data.snapshot import PREPARED_DIR
from asi_me.data.store import Store
from asi_me.publish.download_cache import code_version

log = logging.getLogger(__name__)

_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def root(data_dir: Path) -> Path:
    """Where prepared figures of the data folder `data_dir` are kept."""
    return data_dir / PREPARED_DIR


def folder(store: Store) -> Path:
    # The store's folder is <data folder>/snapshots/<id>.
    return root(store.folder.parent.parent) / store.snapshot_id


def file_path(store: Store, kind: str, parts: list[object], suffix: str) -> Path:
    decided_by = [code_version(), store.snapshot_id, kind, *parts]
    digest = hashlib.sha256(json.dumps(decided_by, default=repr).encode()).hexdigest()[:24]
    return folder(store) / f"{kind}-{digest}{suffix}"


def _lock(path: Path) -> threading.Lock:
    """One build at a time per file in this process: a second caller waits and reads the first's file."""
    with _locks_guard:
        return _locks.setdefault((str(path.parent), path.name), threading.Lock())


def _write(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("Could not keep prepared figures in %s (%s); they are computed in memory.", path.parent, exc)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _damaged(path: Path, exc: Exception) -> None:
    log.warning("Prepared figures in %s are damaged (%s); computing them again.", path, exc)
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def frame(store: Store, kind: str, parts: list[object], build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The frame `build()` returns for this snapshot, read back from disk when prepared before."""
    path = file_path(store, kind, parts, ".parquet")
    with _lock(path):
        try:
            table = pq.read_table(path, page_checksum_verification=True)
        except FileNotFoundError:
            pass
        except Exception as exc:  # any unreadable file is rebuilt, never served
            _damaged(path, exc)
        else:
            return _to_pandas(table)
        result = build()
        table = pa.Table.from_pandas(result, preserve_index=False)
        _write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd", write_page_checksum=True))
        # What later readers get, so the first process serves exactly what the others read back.
        return _to_pandas(table)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """The frame as it was built: columns that were plain Python objects (text with None for
    missing, which callers test for truth) come back as such, not as a string dtype with NaN."""
    frame = table.to_pandas()
    for column in (table.schema.pandas_metadata or {}).get("columns", []):
        name = column.get("name")
        if (column.get("numpy_type") == "object" and name in frame.columns
                and pa.types.is_string(table.schema.field(name).type)):
            frame[name] = pd.Series(table.column(name).to_numpy(zero_copy_only=False), index=frame.index,
                                    dtype=object, name=name)
    return frame


def document(store: Store, kind: str, parts: list[object], build: Callable[[], Any]) -> Any:
    """The JSON-able value `build()` returns for this snapshot, read back from disk when prepared before."""
    path = file_path(store, kind, parts, ".json")
    with _lock(path):
        try:
            stored = json.loads(path.read_bytes())
            body = stored["body"]
            if hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest() != stored["sha256"]:
                raise ValueError("its checksum does not match its contents")
        except FileNotFoundError:
            pass
        except Exception as exc:  # any unreadable file is rebuilt, never served
            _damaged(path, exc)
        else:
            return body
        body = json.loads(json.dumps(build()))  # what later readers get
        text = json.dumps({"sha256": hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest(),
                           "body": body})
        _write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        return body


def remove_stale(data_dir: Path) -> list[str]:
    """Remove the prepared figures of snapshots the data folder no longer holds; their ids."""
    base = root(data_dir)
    if not base.is_dir():
        return []
    snapshots = data_dir / "snapshots"
    removed = []
    for entry in base.iterdir():
        if entry.is_dir() and not (snapshots / entry.name).is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed
