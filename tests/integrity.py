"""Data folders for the integrity tests: two snapshots of the demo data, and damage done to a file.

`write_two_snapshots(data_dir)` writes the bundled demo snapshot as an older snapshot and the
same data plus NEW_MEMBERS members who joined on its "data as of" date as the newer, current
one, so the Members tile tells which of the two is served. `flip_byte(path)` changes one byte
in the middle of a file, as a bad disk sector would, keeping its size.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pyarrow as pa

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import Manifest, current_folder, read_table, write_snapshot
from asi_me.settings import REPO_ROOT

NEW_MEMBERS = 5


def demo_tables() -> dict[str, pa.Table]:
    source = current_folder(REPO_ROOT / "data")
    return {name: read_table(source, name) for name in TABLES}


def with_new_members(tables: dict[str, pa.Table], joined_on: date, count: int = NEW_MEMBERS) -> dict[str, pa.Table]:
    members = tables["members"]
    extra = pa.Table.from_pylist(
        [{"member_id": f"MZ{i:03d}", "name": f"Newcomer {i}", "membership_class": "civil_society",
          "country": "DE", "joined_on": joined_on, "left_on": None} for i in range(count)],
        schema=members.schema,
    )
    return {**tables, "members": pa.concat_tables([members, extra])}


def write_two_snapshots(data_dir: Path, note: str = "demo: integrity test") -> tuple[str, str]:
    """(older id, newer id); the newer one is current."""
    tables = demo_tables()
    older, _ = write_snapshot(data_dir, tables, note=note, fixed_time="2026-01-01T00:00:00+00:00")
    as_of = date.fromisoformat(str(Manifest.load(current_folder(data_dir)).data_as_of))
    newer, _ = write_snapshot(data_dir, with_new_members(tables, as_of), note=note,
                              fixed_time="2026-02-01T00:00:00+00:00")
    return older, newer


def flip_byte(path: Path, offset: int | None = None) -> None:
    """Invert one byte (the middle one by default), writing a new file in its place."""
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0xFF
    tmp = path.with_name(f".{path.name}.flipped")
    tmp.write_bytes(bytes(data))
    os.replace(tmp, path)
