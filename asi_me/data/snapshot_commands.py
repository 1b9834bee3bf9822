"""`python -m asi_me verify` and `python -m asi_me snapshots list | rollback ID | prune --keep N`.

Printing only: what they check and change lives in asi_me/data/snapshot.py.
"""

from __future__ import annotations

import time
from pathlib import Path

from asi_me.data.derived import DERIVED, derived_path
from asi_me.data.snapshot import (
    NoSnapshotError,
    SnapshotError,
    current_id,
    list_snapshots,
    prune,
    rollback,
    serve,
    verify_snapshot,
)
from asi_me.settings import snapshots_keep


def run_verify(data_dir: Path, snapshot_id: str | None) -> int:
    """Check one snapshot (CURRENT's by default); 0 when every file matches, 1 naming each that does not."""
    snapshot_id = snapshot_id or current_id(data_dir)
    if snapshot_id is None:
        print(f"No snapshot is current in {data_dir}: nothing to verify. Give --snapshot ID, or run "
              "`python -m asi_me demo` or `python -m asi_me ingest PATH`.")
        return 1
    folder = data_dir / "snapshots" / snapshot_id
    if "/" in snapshot_id or snapshot_id.startswith(".") or not folder.is_dir():
        print(f"There is no snapshot {snapshot_id} in {data_dir / 'snapshots'}: "
              "see `python -m asi_me snapshots list`.")
        return 1
    started = time.perf_counter()
    verification = verify_snapshot(folder)
    took = time.perf_counter() - started
    for problem in verification.derived_problems:
        print(f"derived table file {problem.sentence()} (not read: the app computes it from the verified tables; "
              "`python -m asi_me derive` stores it again)")
    damaged = {Path(problem.file).name for problem in verification.derived_problems}
    unrecorded = [name for name in DERIVED if derived_path(folder, name).name not in
                  verification.trusted_derived | damaged]
    if unrecorded:
        print(f"derived tables not stored and recorded: {', '.join(unrecorded)} (computed in memory when the snapshot "
              "is opened; `python -m asi_me derive` stores them)")
    if verification.ok:
        print(f"{verification.summary()} in {took:.2f} s")
        return 1 if verification.derived_problems else 0
    print(f"{verification.summary()}")
    if snapshot_id == current_id(data_dir):
        try:
            served = serve(data_dir)
            print(f"The app serves snapshot {served.snapshot_id} instead, the latest earlier one that verified.")
        except NoSnapshotError:
            print("No earlier snapshot verifies: the app shows no figures until the data folder is repaired.")
    return 1


def _rows(rows: dict[str, int]) -> str:
    filled = {name: n for name, n in rows.items() if n}
    return f"{sum(rows.values()):,} rows in {len(filled)} of {len(rows)} tables"


def run_snapshots(data_dir: Path, action: str, snapshot_id: str | None, keep: int | None) -> int:
    if action == "list":
        infos = list_snapshots(data_dir)
        if not infos:
            print(f"No snapshots in {data_dir / 'snapshots'}.")
            return 0
        for info in infos:
            mark = "* " if info.is_current else "  "
            print(f"{mark}{info.snapshot_id}  created {info.created_at}  {_rows(info.rows)}  {info.state}")
            print(f"    {info.note}; sources: {', '.join(info.sources) or 'none'}")
        print("(* = CURRENT)")
        return 0
    try:
        if action == "rollback":
            assert snapshot_id is not None
            previous = rollback(data_dir, snapshot_id)
            print(f"CURRENT now names snapshot {snapshot_id} (was {previous or 'none'}).")
            return 0
        if action == "prune":
            result = prune(data_dir, snapshots_keep() if keep is None else keep)
            print(f"kept {len(result.kept)} snapshot(s): {', '.join(result.kept) or 'none'}")
            print(f"removed {len(result.removed)} snapshot(s): {', '.join(result.removed) or 'none'}")
            if result.staging_removed:
                print(f"removed leftovers of dead writers: {', '.join(result.staging_removed)}")
            print(f"freed {result.bytes_freed / 1e6:.1f} MB")
            return 0
    except SnapshotError as exc:
        print(exc)
        return 1
    raise AssertionError(action)
