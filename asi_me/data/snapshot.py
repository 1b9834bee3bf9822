"""Snapshots: immutable folders of Parquet files, one per table, plus a manifest.

Layout of the data folder::

    CURRENT                  id of the snapshot the app serves (replaced atomically)
    snapshots/<id>/          <table>.parquet for every table + manifest.json
    ingest_log.jsonl         one JSON line per ingest or validation run

A snapshot id is derived from the content of its tables, so writing identical data
twice yields the same id and changes nothing. A new snapshot is fully written and
fsynced under a temporary name, renamed into place, and only then does CURRENT
switch, so a process killed at any point leaves the previous snapshot served.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import types
import typing
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from asi_me.data.contract import TABLES, TableSpec
from asi_me.data.derived import DERIVED, DERIVED_DIR, derived_path, write_derived

MANIFEST = "manifest.json"
CURRENT = "CURRENT"
# Protected figures prepared per snapshot (asi_me.publish.prepared), kept beside the snapshots.
PREPARED_DIR = "prepared"
LOG = "ingest_log.jsonl"


class NoSnapshotError(RuntimeError):
    """The data folder has no current snapshot."""


def _arrow_type(annotation: Any) -> pa.DataType:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Annotated:
        return _arrow_type(args[0])
    if origin in (typing.Union, types.UnionType):
        return _arrow_type(args[0])
    if origin is list:
        return pa.list_(_arrow_type(args[0]))
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return pa.bool_()
        if issubclass(annotation, Enum) or issubclass(annotation, str):
            return pa.string()
        if issubclass(annotation, int):
            return pa.int64()
        if issubclass(annotation, float):
            return pa.float64()
        if issubclass(annotation, date):
            return pa.date32()
    raise TypeError(f"No Arrow type for {annotation!r}")


def is_nullable(spec: TableSpec, column: str) -> bool:
    info = spec.model.model_fields[column]
    return not info.is_required() and info.default is None


def arrow_schema(spec: TableSpec) -> pa.Schema:
    """The Parquet schema of a table, derived from its pydantic model."""
    return pa.schema(
        [
            pa.field(name, _arrow_type(info.annotation), nullable=is_nullable(spec, name))
            for name, info in spec.model.model_fields.items()
        ]
    )


def empty_table(name: str) -> pa.Table:
    return arrow_schema(TABLES[name]).empty_table()


@dataclass(frozen=True)
class Manifest:
    snapshot_id: str
    created_at: str
    data_as_of: str | None
    tables: dict[str, dict[str, Any]]
    note: str

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        raw = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return cls(**raw)

    @property
    def is_demo(self) -> bool:
        """Whether this is the fictitious demo dataset (its note or a source says so)."""
        return "demo" in (self.note or "").lower() or any(
            "demo" in str(src).lower() for info in self.tables.values() for src in info.get("sources", [])
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_id(data_dir: Path) -> str | None:
    pointer = data_dir / CURRENT
    if not pointer.exists():
        return None
    value = pointer.read_text(encoding="utf-8").strip()
    return value or None


def current_folder(data_dir: Path) -> Path:
    snapshot_id = current_id(data_dir)
    if snapshot_id is None:
        raise NoSnapshotError(
            f"No snapshot is current in {data_dir}: run `python -m asi_me demo` or `python -m asi_me ingest PATH`."
        )
    folder = data_dir / "snapshots" / snapshot_id
    if not (folder / MANIFEST).exists():
        raise NoSnapshotError(f"{data_dir / CURRENT} names snapshot {snapshot_id!r}, but {folder} has no manifest.")
    # Nothing reads or builds on a damaged snapshot (an update ingest would carry the damage forward).
    verification = verify_snapshot(folder)
    if not verification.ok:
        raise NoVerifiedSnapshotError(
            f"The current {verification.summary()}. Nothing is read from it: roll back to a snapshot that verifies "
            "(`python -m asi_me snapshots list`, then `snapshots rollback ID`) or restore the data folder.",
            verification,
        )
    return folder


def current_manifest(data_dir: Path) -> Manifest:
    return Manifest.load(current_folder(data_dir))


def read_table(folder: Path, name: str) -> pa.Table:
    path = folder / f"{name}.parquet"
    return pq.read_table(path) if path.exists() else empty_table(name)


def _data_as_of(tables: dict[str, pa.Table]) -> str | None:
    """Latest date any record refers to, capped at today (future expiry dates do not count)."""
    candidates: list[date] = []
    event_columns = {
        "members": "joined_on",
        "certifications": "issued_on",
        "audits": "audited_on",
        "coc_reports": "submitted_on",
        "indicator_observations": "period_on",
        "training_records": "completed_on",
        "governance_meetings": "held_on",
    }
    for name, column in event_columns.items():
        table = tables.get(name)
        if table is not None and table.num_rows:
            value = pc.max(table[column]).as_py()
            if value is not None:
                candidates.append(value)
    return max(candidates).isoformat() if candidates else None


def write_snapshot(
    data_dir: Path,
    tables: dict[str, pa.Table],
    sources: dict[str, list[str]] | None = None,
    note: str = "",
    *,
    fixed_time: str | None = None,
    make_current: bool = True,
    _before_switch: typing.Callable[[], None] | None = None,
    _after_table: typing.Callable[[str], None] | None = None,
) -> tuple[str, bool]:
    """Write `tables` (all tables of the contract) as a new snapshot and make it current.

    Returns (snapshot id, whether anything changed). Tables missing from `tables`
    are written empty. Values must already be valid: this function does not check.
    `_before_switch` and `_after_table` (called with each table name once its file
    is written in the staging folder) exist so tests can interrupt a write. With
    `make_current=False` the snapshot is written but CURRENT stays as it is (a preview
    that a person publishes later).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    snapshots = data_dir / "snapshots"
    snapshots.mkdir(exist_ok=True)
    # The writer's pid in the name lets a later ingest tell a dead writer's leftovers from a live one's.
    staging = snapshots / f".staging-{os.getpid()}-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        table_info: dict[str, dict[str, Any]] = {}
        content = hashlib.sha256()
        for name in TABLES:
            schema = arrow_schema(TABLES[name])
            table = tables.get(name, empty_table(name))
            for field in schema:  # an optional column the caller does not know about is written empty
                if field.name not in table.column_names and field.nullable:
                    table = table.append_column(field.name, pa.nulls(table.num_rows, field.type))
            table = table.select(schema.names).cast(schema)
            path = staging / f"{name}.parquet"
            pq.write_table(
                table, path, compression="zstd", write_page_checksum=True, write_statistics=True
            )
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
            sha = _sha256(path)
            content.update(f"{name}:{sha}\n".encode())
            table_info[name] = {
                "file": path.name,
                "sha256": sha,
                "rows": table.num_rows,
                "sources": sorted((sources or {}).get(name, [])),
            }
            if _after_table is not None:
                _after_table(name)
        snapshot_id = content.hexdigest()[:16]
        if (snapshots / snapshot_id / MANIFEST).exists() and (current_id(data_dir) == snapshot_id or not make_current):
            shutil.rmtree(staging)
            # Same data: only derived tables of newer SQL may be missing (each written atomically).
            _add_missing_derived(snapshots / snapshot_id)
            return snapshot_id, False
        record_derived(staging, write_derived(staging))
        manifest = Manifest(
            snapshot_id=snapshot_id,
            created_at=fixed_time or datetime.now(UTC).isoformat(timespec="seconds"),
            data_as_of=_data_as_of(tables),
            tables=table_info,
            note=note,
        )
        manifest_path = staging / MANIFEST
        manifest_path.write_text(json.dumps(manifest.__dict__, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        with manifest_path.open("rb") as fh:
            os.fsync(fh.fileno())
        _fsync_dir(staging)
        final = snapshots / snapshot_id
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
        _fsync_dir(snapshots)
        if not make_current:
            return snapshot_id, True
        if _before_switch is not None:
            _before_switch()
        pointer_tmp = data_dir / f".{CURRENT}.{uuid.uuid4().hex}"
        pointer_tmp.write_text(snapshot_id + "\n", encoding="utf-8")
        with pointer_tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(pointer_tmp, data_dir / CURRENT)
        _fsync_dir(data_dir)
        return snapshot_id, True
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def append_log(data_dir: Path, entry: dict[str, Any]) -> None:
    """Append one JSON line to the ingest log shown on the Data screen."""
    data_dir.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"at": datetime.now(UTC).isoformat(timespec="seconds"), **entry}, sort_keys=True, default=str)
    with (data_dir / LOG).open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def read_log(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / LOG
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --------------------------------------------------------------------------- verification
# A snapshot is served only once every file its manifest lists has the recorded size and
# SHA-256. Digests are remembered per file identity (path, size, mtime_ns, inode), so each
# file is hashed once per process: re-checking an open snapshot on a page run costs a stat
# per file. Derived tables (caches, not part of the snapshot) are recorded in
# derived/checksums.json when written; one that is unrecorded or does not match is never
# read: the Store computes it from the verified tables instead.

DERIVED_CHECKSUMS = "checksums.json"
STALE_STAGING_SECONDS = 15 * 60
log = logging.getLogger(__name__)

_FileIdentity = tuple[str, int, int, int]
_digests: OrderedDict[_FileIdentity, str] = OrderedDict()
_verifications: OrderedDict[tuple[object, ...], Verification] = OrderedDict()
_reported: set[tuple[str, str]] = set()
_cache_lock = threading.Lock()
_DIGESTS_KEPT = 4096
_VERIFICATIONS_KEPT = 64


def _identity(path: Path, stat: os.stat_result) -> _FileIdentity:
    return (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)


def file_digest(path: Path, stat: os.stat_result | None = None) -> str:
    """SHA-256 of a file, hashed once per file identity and process."""
    key = _identity(path, stat or path.stat())
    with _cache_lock:
        known = _digests.get(key)
    if known is not None:
        return known
    digest = _sha256(path)
    with _cache_lock:
        _digests[key] = digest
        while len(_digests) > _DIGESTS_KEPT:
            _digests.popitem(last=False)
    return digest


def forget_verifications() -> None:
    """Drop remembered digests and verifications (tests that rewrite a file within one clock tick)."""
    with _cache_lock:
        _digests.clear()
        _verifications.clear()
        _reported.clear()


@dataclass(frozen=True)
class FileProblem:
    """One file of a snapshot that does not match what was recorded when it was written."""

    file: str  # relative to the data folder, e.g. snapshots/<id>/members.parquet
    expected: str
    found: str

    def sentence(self) -> str:
        return f"{self.file}: expected {self.expected}, found {self.found}"


@dataclass(frozen=True)
class Verification:
    """What checking one snapshot folder against its manifest found."""

    snapshot_id: str
    folder: Path
    problems: tuple[FileProblem, ...]
    derived_problems: tuple[FileProblem, ...] = ()
    trusted_derived: frozenset[str] = frozenset()
    files: int = 0
    bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return f"snapshot {self.snapshot_id} verified ({self.files} files, {self.bytes:,} bytes)"
        return f"snapshot {self.snapshot_id} failed verification: " + "; ".join(p.sentence() for p in self.problems)


class SnapshotVerificationError(RuntimeError):
    """A snapshot's files do not match its manifest."""

    def __init__(self, verification: Verification) -> None:
        super().__init__(verification.summary())
        self.verification = verification


class NoVerifiedSnapshotError(NoSnapshotError):
    """CURRENT's snapshot failed verification and no earlier snapshot verified."""

    def __init__(self, message: str, verification: Verification) -> None:
        super().__init__(message)
        self.verification = verification


def _entries(folder: Path) -> dict[str, os.stat_result]:
    """name -> stat of the files in `folder` (empty if it is missing)."""
    try:
        with os.scandir(folder) as it:
            return {entry.name: entry.stat() for entry in it if entry.is_file(follow_symlinks=False)}
    except (FileNotFoundError, NotADirectoryError):
        return {}


def _relative(path: Path) -> str:
    """snapshots/<id>/<file> (or .../derived/<file>): the path an operator finds under the data folder."""
    parts = path.parts
    for start in range(len(parts) - 1, -1, -1):
        if parts[start] == "snapshots":
            return "/".join(parts[start:])
    return str(path)


def _short(digest: str) -> str:
    return f"sha256 {digest[:12]}"  # enough to tell two digests apart


def verify_snapshot(folder: Path) -> Verification:
    """Check every file the manifest of `folder` lists: present, same size, same SHA-256 and, for
    tables, the recorded row count. Unchanged files are not hashed again (see `file_digest`)."""
    folder = folder.resolve()
    files = _entries(folder)
    derived_files = _entries(folder / DERIVED_DIR)
    key = (str(folder), tuple(sorted((n, s.st_size, s.st_mtime_ns, s.st_ino) for n, s in files.items())),
           tuple(sorted((n, s.st_size, s.st_mtime_ns, s.st_ino) for n, s in derived_files.items())))
    with _cache_lock:
        known = _verifications.get(key)
    if known is not None:
        return known
    result = _verify(folder, files, derived_files)
    with _cache_lock:
        _verifications[key] = result
        while len(_verifications) > _VERIFICATIONS_KEPT:
            _verifications.popitem(last=False)
    return result


def _verify(folder: Path, files: dict[str, os.stat_result], derived_files: dict[str, os.stat_result]) -> Verification:
    manifest_path = folder / MANIFEST
    if MANIFEST not in files:
        return Verification(folder.name, folder, (FileProblem(_relative(manifest_path), "a manifest", "no file"),))
    try:
        manifest = Manifest.load(folder)
        tables = {name: dict(info) for name, info in manifest.tables.items()}
    except (ValueError, TypeError, AttributeError) as exc:
        found = f"unreadable JSON ({type(exc).__name__}: {str(exc)[:80]})"
        return Verification(folder.name, folder, (FileProblem(_relative(manifest_path), "a readable manifest", found),))
    problems: list[FileProblem] = []
    total = 0
    for name in sorted(tables):
        info = tables[name]
        path = folder / str(info.get("file") or f"{name}.parquet")
        stat = files.get(path.name)
        where = _relative(path)
        expected_size = info.get("bytes")
        expected = (f"{expected_size:,} bytes, " if expected_size is not None else "") + _short(str(info.get("sha256")))
        if stat is None:
            problems.append(FileProblem(where, expected, "no file"))
            continue
        total += stat.st_size
        if expected_size is not None and stat.st_size != expected_size:
            problems.append(FileProblem(where, f"{expected_size:,} bytes", f"{stat.st_size:,} bytes"))
            continue
        digest = file_digest(path, stat)
        if digest != info.get("sha256"):
            problems.append(FileProblem(where, expected, f"{stat.st_size:,} bytes, {_short(digest)}"))
            continue
        rows = int(info.get("rows", 0))
        try:
            found_rows = pq.read_metadata(path).num_rows
        except (OSError, pa.ArrowException) as exc:
            problems.append(FileProblem(where, f"a Parquet file of {rows:,} rows", f"unreadable ({exc})"))
            continue
        if found_rows != rows:
            problems.append(FileProblem(where, f"{rows:,} rows (manifest)", f"{found_rows:,} rows"))
    derived_problems, trusted = _verify_derived(folder, derived_files)
    return Verification(
        manifest.snapshot_id, folder, tuple(problems), tuple(derived_problems), frozenset(trusted),
        files=len(tables) + len(trusted), bytes=total + sum(derived_files[n].st_size for n in trusted),
    )


def _derived_records(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / DERIVED_DIR / DERIVED_CHECKSUMS
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, dict)} if isinstance(raw, dict) else {}


def _verify_derived(folder: Path, files: dict[str, os.stat_result]) -> tuple[list[FileProblem], set[str]]:
    problems: list[FileProblem] = []
    trusted: set[str] = set()
    for name, info in _derived_records(folder).items():
        path = folder / DERIVED_DIR / name
        stat = files.get(name)
        expected = f"{info.get('bytes', 0):,} bytes, " + _short(str(info.get("sha256")))
        if stat is None:
            continue  # removed (e.g. written by older SQL): nothing is read from it
        if stat.st_size != info.get("bytes"):
            problems.append(FileProblem(_relative(path), expected, f"{stat.st_size:,} bytes"))
        elif (digest := file_digest(path, stat)) != info.get("sha256"):
            problems.append(FileProblem(_relative(path), expected, f"{stat.st_size:,} bytes, {_short(digest)}"))
        else:
            trusted.add(name)
    return problems, trusted


def _write_json_atomically(path: Path, payload: Any) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def record_derived(folder: Path, written: dict[str, int]) -> None:
    """Record size and SHA-256 of the derived files just written (`written`: derived name -> rows)
    in derived/checksums.json; entries of files that no longer exist are dropped."""
    target = folder / DERIVED_DIR
    records = _derived_records(folder)
    for name in written:
        path = derived_path(folder, name)
        records[path.name] = {"bytes": path.stat().st_size, "sha256": _sha256(path), "table": name}
    present = {p.name for p in target.glob("*.parquet")}
    records = {name: info for name, info in records.items() if name in present}
    if records or (target / DERIVED_CHECKSUMS).exists():
        _write_json_atomically(target / DERIVED_CHECKSUMS, records)


def store_derived(folder: Path) -> dict[str, int]:
    """Store every derived table of the snapshot in `folder` that is missing, unrecorded or damaged,
    computed from its tables once they verify, and record the files. Returns rows per table written.

    Raises SnapshotVerificationError when the snapshot's own tables fail verification.
    """
    verification = verify_snapshot(folder)
    if not verification.ok:
        raise SnapshotVerificationError(verification)
    for name in DERIVED:
        path = derived_path(folder, name)
        if path.is_file() and path.name not in verification.trusted_derived:
            path.unlink()  # unrecorded (older code) or damaged: written again below
    written = write_derived(folder)
    record_derived(folder, written)
    return written


def _add_missing_derived(folder: Path) -> None:
    """After an identical re-write: store (and record) derived tables of newer SQL, leaving the rest
    of the snapshot as it is. Nothing is derived from tables that fail verification."""
    verification = verify_snapshot(folder)
    if not verification.ok:
        log.error("Not storing derived tables: %s", verification.summary())
        return
    record_derived(folder, write_derived(folder))


# --------------------------------------------------------------------------- serving


@dataclass(frozen=True)
class Served:
    """The snapshot the app serves: CURRENT's when it verifies, else the latest earlier one that does."""

    current_id: str
    verification: Verification  # of the served snapshot (always ok)
    failed: Verification | None = None  # CURRENT's, when it failed

    @property
    def snapshot_id(self) -> str:
        return self.verification.snapshot_id

    @property
    def folder(self) -> Path:
        return self.verification.folder

    def notice(self) -> str | None:
        """The sentence the secretariat sees when CURRENT failed verification (None otherwise)."""
        if self.failed is None:
            return None
        return (f"Snapshot {self.current_id} failed verification: "
                + "; ".join(p.sentence() for p in self.failed.problems)
                + f". Serving snapshot {self.snapshot_id}, the latest earlier one that verified. Check the disk, "
                "then re-run the ingest or `python -m asi_me snapshots rollback ID`.")


def _created(folder: Path) -> tuple[str, int]:
    """Sort key of a snapshot folder: its manifest's creation time, then the folder's mtime."""
    try:
        created = Manifest.load(folder).created_at
    except (OSError, ValueError, TypeError):
        created = ""
    try:
        mtime = folder.stat().st_mtime_ns
    except OSError:
        mtime = 0
    return created, mtime


def _is_demo(folder: Path) -> bool | None:
    try:
        return Manifest.load(folder).is_demo
    except (OSError, ValueError, TypeError):
        return None


def snapshot_folders(data_dir: Path) -> list[Path]:
    """Every snapshot folder (not staging folders), newest first."""
    snapshots = data_dir / "snapshots"
    if not snapshots.is_dir():
        return []
    return sorted((p for p in snapshots.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=_created, reverse=True)


def serve(data_dir: Path) -> Served:
    """Which snapshot to serve now. Raises NoSnapshotError when CURRENT names none, and
    NoVerifiedSnapshotError when CURRENT's fails verification and no earlier snapshot of the
    same kind (demo or not: the fictitious demo never stands in for real data) verifies.

    Cheap on every page run once the files were hashed: a read of CURRENT and a stat per file.
    """
    snapshot_id = current_id(data_dir)
    if snapshot_id is None:
        raise NoSnapshotError(
            f"No snapshot is current in {data_dir}: run `python -m asi_me demo` or `python -m asi_me ingest PATH`."
        )
    folder = data_dir.resolve() / "snapshots" / snapshot_id
    verification = verify_snapshot(folder)
    if verification.ok:
        return Served(snapshot_id, verification)
    created, demo = _created(folder), _is_demo(folder)
    previews = never_published(data_dir)
    for candidate in snapshot_folders(data_dir.resolve()):
        if candidate.name in previews:
            continue  # prepared for review and never published: nobody has approved its figures
        # Only a snapshot written before CURRENT's (by its manifest, else by folder time; none when
        # the folder is gone) is a fallback: never one an operator rolled back from.
        earlier = _created(candidate) < created if created[0] else _created(candidate)[1] < created[1]
        if candidate.name == snapshot_id or not earlier:
            continue
        if demo is not None and _is_demo(candidate) is not demo:
            continue
        fallback = verify_snapshot(candidate)
        if fallback.ok:
            served = Served(snapshot_id, fallback, verification)
            _report_once(data_dir, served.notice() or "")
            return served
    message = (f"Snapshot {snapshot_id} failed verification: "
               + "; ".join(p.sentence() for p in verification.problems)
               + ". No earlier snapshot verified, so no figures are shown rather than wrong ones. Run "
               "`python -m asi_me verify` for details, then re-run the ingest or restore the data folder.")
    _report_once(data_dir, message)
    raise NoVerifiedSnapshotError(message, verification)


_PUBLISHING = {"publish", "roll back", "rollback", "ingest"}


def never_published(data_dir: Path) -> set[str]:
    """Snapshots the ingest log shows as prepared for review (Data › Update) but never made current."""
    prepared: set[str] = set()
    published: set[str] = set()
    for entry in read_log(data_dir):
        sid, command = entry.get("snapshot_id"), entry.get("command")
        if not sid or not entry.get("ok"):
            continue
        if command == "prepare":
            prepared.add(str(sid))
        elif command in _PUBLISHING:
            published.add(str(sid))
    return prepared - published


def _report_once(data_dir: Path, message: str) -> None:
    key = (str(data_dir), message)
    with _cache_lock:
        if key in _reported:
            return
        _reported.add(key)
    log.error("%s (data folder %s)", message, data_dir)


# --------------------------------------------------------------------------- lifecycle


@dataclass(frozen=True)
class SnapshotInfo:
    """One snapshot as `python -m asi_me snapshots list` shows it."""

    snapshot_id: str
    created_at: str
    note: str
    sources: tuple[str, ...]
    rows: dict[str, int]
    is_current: bool
    verification: Verification

    @property
    def state(self) -> str:
        if self.verification.ok:
            return "verified" + (f" (derived: {len(self.verification.derived_problems)} damaged, recomputed)"
                                 if self.verification.derived_problems else "")
        return "FAILED: " + "; ".join(p.sentence() for p in self.verification.problems)


def list_snapshots(data_dir: Path) -> list[SnapshotInfo]:
    """Every snapshot of the data folder, newest first, each verified."""
    current = current_id(data_dir)
    out = []
    for folder in snapshot_folders(data_dir):
        verification = verify_snapshot(folder)
        try:
            manifest = Manifest.load(folder)
            created, note = manifest.created_at, manifest.note
            rows = {name: int(info.get("rows", 0)) for name, info in manifest.tables.items()}
            sources = tuple(sorted({s for info in manifest.tables.values() for s in info.get("sources", [])}))
        except (OSError, ValueError, TypeError):
            created, note, rows, sources = "?", "(no readable manifest)", {}, ()
        out.append(SnapshotInfo(folder.name, created, note, sources, rows, folder.name == current, verification))
    return out


@contextmanager
def snapshot_lock(data_dir: Path) -> Iterator[None]:
    """The ingest's lock (snapshots/.staging-ingest.lock): rollback and prune never run during an
    ingest's switch. Like the ingest, the holder writes its pid and start time into the file."""
    (data_dir / "snapshots").mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / "snapshots" / INGEST_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {datetime.now().astimezone().isoformat(timespec='seconds')}\n".encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


INGEST_LOCK = ".staging-ingest.lock"  # the same file asi_me/ingest/pipeline.py locks


def _point_current(data_dir: Path, snapshot_id: str) -> None:
    pointer_tmp = data_dir / f".{CURRENT}.{uuid.uuid4().hex}"
    pointer_tmp.write_text(snapshot_id + "\n", encoding="utf-8")
    with pointer_tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(pointer_tmp, data_dir / CURRENT)
    _fsync_dir(data_dir)


class SnapshotError(ValueError):
    """A lifecycle command cannot do what it was asked (the message says why and what to do)."""


def rollback(data_dir: Path, snapshot_id: str) -> str | None:
    """Make `snapshot_id` current in one atomic rename, if it verifies. Returns the previous CURRENT."""
    folder = data_dir / "snapshots" / snapshot_id
    if snapshot_id.startswith(".") or "/" in snapshot_id or not folder.is_dir():
        known = ", ".join(f.name for f in snapshot_folders(data_dir)) or "none"
        raise SnapshotError(f"There is no snapshot {snapshot_id!r} in {data_dir / 'snapshots'}; known: {known}.")
    with snapshot_lock(data_dir):
        verification = verify_snapshot(folder)
        if not verification.ok:
            raise SnapshotError(f"Will not roll back to a damaged snapshot: {verification.summary()}.")
        previous = current_id(data_dir)
        _point_current(data_dir, snapshot_id)
    append_log(data_dir, {"command": "rollback", "ok": True, "from": previous, "snapshot_id": snapshot_id})
    return previous


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def is_dead_staging(path: Path, now: float | None = None) -> bool:
    """Whether a staging folder (snapshots/.staging-<pid>-<hex>) belongs to a writer that is gone.

    Folders named without a pid (older versions) count as dead once untouched for 15 minutes.
    """
    rest = path.name.removeprefix(".staging-")
    pid_text, dash, _ = rest.partition("-")
    if dash and pid_text.isdigit():
        return int(pid_text) != os.getpid() and not _pid_alive(int(pid_text))
    try:
        age = (now or time.time()) - path.stat().st_mtime
    except OSError:
        return False
    return age > STALE_STAGING_SECONDS


@dataclass(frozen=True)
class PruneResult:
    kept: tuple[str, ...]
    removed: tuple[str, ...]
    staging_removed: tuple[str, ...]
    bytes_freed: int


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def prune(data_dir: Path, keep: int) -> PruneResult:
    """Remove all snapshots but CURRENT's, the one served in its place if it fails verification,
    and the `keep` most recent; and staging folders and pointer files left by dead writers.

    Each snapshot is first renamed to a staging name, so a prune killed halfway leaves no half
    snapshot under its id, only a staging folder that the next prune or ingest removes.
    """
    if keep < 0:
        raise SnapshotError(f"--keep {keep}: the number of snapshots to keep must be 0 or more.")
    snapshots = data_dir / "snapshots"
    removed: list[str] = []
    staging_removed: list[str] = []
    freed = 0
    with snapshot_lock(data_dir):
        folders = snapshot_folders(data_dir)
        protected = {f.name for f in folders[:keep]}
        current = current_id(data_dir)
        if current:
            protected.add(current)
            with suppress(NoSnapshotError):
                protected.add(serve(data_dir).snapshot_id)
        for folder in folders:
            if folder.name in protected:
                continue
            size = _size(folder)
            doomed = snapshots / f".staging-{os.getpid()}-prune-{folder.name}"
            folder.rename(doomed)
            shutil.rmtree(doomed)
            shutil.rmtree(data_dir / PREPARED_DIR / folder.name, ignore_errors=True)  # its prepared figures
            removed.append(folder.name)
            freed += size
        now = time.time()
        for leftover in sorted(snapshots.glob(".staging-*")):
            if leftover.is_dir() and is_dead_staging(leftover, now):
                freed += _size(leftover)
                shutil.rmtree(leftover, ignore_errors=True)
                staging_removed.append(leftover.name)
        for pointer in data_dir.glob(f".{CURRENT}.*"):  # a writer killed before its rename
            if now - pointer.stat().st_mtime > STALE_STAGING_SECONDS:
                pointer.unlink(missing_ok=True)
                staging_removed.append(pointer.name)
    kept = tuple(f.name for f in folders if f.name in protected)
    append_log(data_dir, {"command": "prune", "ok": True, "keep": keep, "removed": removed,
                          "staging_removed": staging_removed})
    return PruneResult(kept, tuple(removed), tuple(staging_removed), freed)
