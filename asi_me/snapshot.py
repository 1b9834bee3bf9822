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

import hashlib
import json
import os
import shutil
import types
import typing
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from asi_me.contract import TABLES, TableSpec
from asi_me.derived import write_derived

MANIFEST = "manifest.json"
CURRENT = "CURRENT"
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
            write_derived(snapshots / snapshot_id)
            return snapshot_id, False
        write_derived(staging)
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
