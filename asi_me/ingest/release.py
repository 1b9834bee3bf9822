"""Reviewed releases: an ingest written as a preview snapshot, compared with the current one, then published.

The Data › Update screen (pages/data_update.py) and any script use these steps:

1. `prepare(paths, data_dir, ...)` validates the files as an update of the current snapshot and,
   if they pass, writes the result as a snapshot that is *not* current (CURRENT is untouched, so
   the public and members keep seeing the published one);
2. `table_changes(...)` and `tile_changes(...)` say what publishing it would change: rows added,
   changed and removed per table, and each dashboard tile's value today, before and after;
3. `publish(...)` makes it current; `roll_back(...)` makes an earlier snapshot current again;
   `history(...)` lists what was published, by whom, when and from which files.

Every step is written to the ingest log with the user who took it.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import CURRENT, MANIFEST, Manifest, NoSnapshotError, append_log, current_id, read_log
from asi_me.data.store import Store
from asi_me.data.vocab import Role
from asi_me.filters import Filters, Viewer
from asi_me.ingest.pipeline import IngestResult, _ingest_lock, ingest


@dataclass
class Prepared:
    """A validated update and the unpublished snapshot it was written to (None when it failed)."""

    result: IngestResult
    snapshot_id: str | None
    previous_id: str | None

    @property
    def ok(self) -> bool:
        return self.result.ok and self.snapshot_id is not None


def prepare(
    paths: list[Path], data_dir: Path, user: str, *, files: list[str] | None = None, profile: str | None = None,
    replace: set[str] | None = None, keep_valid: bool = False, mass_balance: str = "error",
) -> Prepared:
    """Validate `paths` and, if they pass, write the unpublished snapshot to preview."""
    previous = current_id(data_dir)
    result = ingest(paths, data_dir, mass_balance=mass_balance, replace=set(replace or ()), profile=profile,
                    keep_valid=keep_valid, make_current=False)
    snapshot_id = result.snapshot_id if result.ok else None
    append_log(data_dir, {
        "command": "prepare", "user": user, "ok": result.ok, "files": files or [str(p) for p in paths],
        "rows": result.rows_by_table(), "errors": result.errors, "warnings": result.warnings,
        "quarantined": result.quarantined_rows, "profiles": result.profiles,
        "problems": result.problems["rule"].value_counts().to_dict(), "snapshot_id": snapshot_id,
        "previous_id": previous, "changed": False,
    })
    return Prepared(result, snapshot_id, previous)


def _folder(data_dir: Path, snapshot_id: str) -> Path:
    folder = data_dir / "snapshots" / snapshot_id
    if not (folder / MANIFEST).exists():
        raise NoSnapshotError(f"Snapshot {snapshot_id} does not exist in {data_dir / 'snapshots'}.")
    return folder


def table_changes(data_dir: Path, before_id: str | None, after_id: str) -> pd.DataFrame:
    """Per table: rows before and after, and how many were added, changed and removed (by key)."""
    after = _folder(data_dir, after_id)
    before = _folder(data_dir, before_id) if before_id else None
    rows = []
    con = duckdb.connect()
    try:
        for name, spec in TABLES.items():
            new_path = after / f"{name}.parquet"
            old_path = before / f"{name}.parquet" if before else None
            key = ", ".join(spec.key)
            new = f"select {key}, md5(to_json(t)::varchar) as row_hash from read_parquet(?) as t"
            if old_path is None or not old_path.exists():
                count = con.execute("select count(*) from read_parquet(?)", [str(new_path)]).fetchone()[0]
                rows.append({"table": name, "rows_before": 0, "rows_after": count, "added": count, "changed": 0,
                             "removed": 0})
                continue
            join = " and ".join(f"n.{c} is not distinct from o.{c}" for c in spec.key)
            first = spec.key[0]
            sql = f"""
                with n as ({new}), o as ({new.replace('?', '$old')})
                select
                    (select count(*) from o) as rows_before,
                    (select count(*) from n) as rows_after,
                    count(*) filter (where o.{first} is null) as added,
                    count(*) filter (where n.{first} is null) as removed,
                    count(*) filter (where n.{first} is not null and o.{first} is not null
                                     and n.row_hash <> o.row_hash) as changed
                from n full outer join o on {join}
            """
            sql = sql.replace("read_parquet(?)", "read_parquet($new)", 1)
            values = con.execute(sql, {"new": str(new_path), "old": str(old_path)}).fetchone()
            rows.append({"table": name, "rows_before": values[0], "rows_after": values[1], "added": values[2],
                         "changed": values[4], "removed": values[3]})
    finally:
        con.close()
    return pd.DataFrame(rows)


def _tiles(folder: Path, on: date) -> pd.DataFrame:
    from asi_me.queries.outcomes import dashboard_tiles  # noqa: PLC0415 - heavy, and only the preview needs it

    store = Store(folder)
    try:
        tiles = dashboard_tiles(store, Viewer(Role.PUBLIC), Filters(as_of=min(on, store.data_as_of or on)))
    finally:
        store.close()
    return tiles.to_frame()[["code", "label", "value", "unit"]]


def tile_changes(data_dir: Path, before_id: str | None, after_id: str, on: date | None = None) -> pd.DataFrame:
    """Each public dashboard tile as of `on` (default today) in the published and in the new snapshot."""
    on = on or date.today()
    after = _tiles(_folder(data_dir, after_id), on).rename(columns={"value": "after"})
    if before_id is None:
        after["before"] = float("nan")
    else:
        before = _tiles(_folder(data_dir, before_id), on)[["code", "value"]].rename(columns={"value": "before"})
        after = after.merge(before, on="code", how="left")
    after["change"] = after["after"] - after["before"]
    return after[["code", "label", "unit", "before", "after", "change"]]


def _switch_current(data_dir: Path, snapshot_id: str) -> None:
    _folder(data_dir, snapshot_id)
    pointer = data_dir / f".{CURRENT}.{uuid.uuid4().hex}"
    pointer.write_text(snapshot_id + "\n", encoding="utf-8")
    with pointer.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(pointer, data_dir / CURRENT)


def publish(data_dir: Path, snapshot_id: str, user: str, *, expected_current: str | None = None) -> None:
    """Make `snapshot_id` current. With `expected_current`, refuse if someone published meanwhile."""
    with _ingest_lock(data_dir):
        now = current_id(data_dir)
        if expected_current is not None and now != expected_current:
            raise RuntimeError(
                f"Snapshot {now} was published while this preview was open (it was prepared against "
                f"{expected_current}); prepare the update again so its preview is true."
            )
        _switch_current(data_dir, snapshot_id)
    manifest = Manifest.load(_folder(data_dir, snapshot_id))
    append_log(data_dir, {"command": "publish", "user": user, "ok": True, "snapshot_id": snapshot_id,
                          "previous_id": now, "changed": now != snapshot_id, "note": manifest.note})


def roll_back(data_dir: Path, snapshot_id: str, user: str) -> None:
    """Make an earlier snapshot current again (the newer one stays on disk, listed in the history)."""
    with _ingest_lock(data_dir):
        now = current_id(data_dir)
        _switch_current(data_dir, snapshot_id)
    append_log(data_dir, {"command": "roll back", "user": user, "ok": True, "snapshot_id": snapshot_id,
                          "previous_id": now, "changed": now != snapshot_id})


def discard(data_dir: Path, prepared: Prepared, user: str) -> None:
    """Note in the log that a preview was not published (its folder stays until pruned)."""
    append_log(data_dir, {"command": "discard", "user": user, "ok": True, "snapshot_id": prepared.snapshot_id,
                          "changed": False})


def history(data_dir: Path) -> pd.DataFrame:
    """Every snapshot on disk: when it was made, whether it is current, and who published it from which files."""
    current = current_id(data_dir)
    log = read_log(data_dir)
    published: dict[str, dict] = {}
    prepared: dict[str, dict] = {}
    for entry in log:
        sid = entry.get("snapshot_id")
        if not sid:
            continue
        if entry.get("command") in {"publish", "roll back"} or (entry.get("command") == "ingest" and entry.get("ok")):
            published[sid] = entry
        if entry.get("command") in {"prepare", "ingest"} and entry.get("ok"):
            prepared.setdefault(sid, entry)
    rows = []
    folder = data_dir / "snapshots"
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.name.startswith(".") or not (path / MANIFEST).exists():
            continue
        manifest = Manifest.load(path)
        made = prepared.get(path.name, {})
        last = published.get(path.name, {})
        rows.append({
            "snapshot_id": path.name,
            "is_current": path.name == current,
            "created_at": manifest.created_at,
            "data_as_of": manifest.data_as_of,
            "files": ", ".join(made.get("files", [])) or manifest.note,
            "prepared_by": made.get("user"),
            "published_by": last.get("user"),
            "published_at": last.get("at"),
            "rows": sum(t.get("rows", 0) for t in manifest.tables.values()),
        })
    out = pd.DataFrame(rows, columns=["snapshot_id", "is_current", "created_at", "data_as_of", "files",
                                      "prepared_by", "published_by", "published_at", "rows"])
    return out.sort_values("created_at", ascending=False, kind="stable").reset_index(drop=True)
