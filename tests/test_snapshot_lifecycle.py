"""`python -m asi_me snapshots list | rollback ID | prune --keep N`: what an operator sees and what is left."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from asi_me.cli import main as cli_main
from asi_me.data.contract import TABLES
from asi_me.data.snapshot import current_id, serve, snapshot_folders, write_snapshot
from tests.integrity import flip_byte


def _members(n: int) -> pa.Table:
    return pa.Table.from_pylist([
        {"member_id": f"M{i:03d}", "name": f"Member {i}", "membership_class": "civil_society", "country": "DE",
         "joined_on": date(2016, 1, 1 + i), "left_on": None} for i in range(n)
    ])


@pytest.fixture
def four(tmp_path: Path) -> tuple[Path, list[str]]:
    """Four snapshots written a month apart, oldest first; the last is current."""
    ids = [
        write_snapshot(tmp_path, {"members": _members(n)}, sources={"members": [f"crm-{n}.csv"]},
                       note=f"ingest of crm-{n}.csv", fixed_time=f"2026-0{n}-01T00:00:00+00:00")[0]
        for n in (1, 2, 3, 4)
    ]
    return tmp_path, ids


def _cli(data_dir: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli_main(["--data-dir", str(data_dir), *args])
    return code, capsys.readouterr().out


def test_list_shows_each_snapshot_with_its_date_sources_rows_and_state(four, capsys) -> None:
    data_dir, ids = four
    flip_byte(data_dir / "snapshots" / ids[1] / "members.parquet")
    code, out = _cli(data_dir, "snapshots", "list", capsys=capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(
        f"* {ids[3]}  created 2026-04-01T00:00:00+00:00  4 rows in 1 of {len(TABLES)} tables  verified"
    )
    assert "sources: crm-4.csv" in lines[1]
    damaged = next(line for line in lines if line.startswith(f"  {ids[1]}"))
    assert f"FAILED: snapshots/{ids[1]}/members.parquet: expected" in damaged


def test_rollback_switches_current_atomically_and_is_logged(four, capsys) -> None:
    data_dir, ids = four
    code, out = _cli(data_dir, "snapshots", "rollback", ids[0], capsys=capsys)
    assert code == 0
    assert f"CURRENT now names snapshot {ids[0]} (was {ids[3]})" in out
    assert current_id(data_dir) == ids[0]
    assert serve(data_dir).snapshot_id == ids[0]
    assert not list(data_dir.glob(".CURRENT.*"))  # the pointer was renamed into place, nothing left over
    log = (data_dir / "ingest_log.jsonl").read_text()
    assert '"command": "rollback"' in log and ids[0] in log


def test_rollback_refuses_a_damaged_or_unknown_snapshot_and_changes_nothing(four, capsys) -> None:
    data_dir, ids = four
    flip_byte(data_dir / "snapshots" / ids[0] / "members.parquet")
    code, out = _cli(data_dir, "snapshots", "rollback", ids[0], capsys=capsys)
    assert code == 1
    assert f"Will not roll back to a damaged snapshot: snapshot {ids[0]} failed verification: snapshots/{ids[0]}/" \
           "members.parquet" in out
    code, out = _cli(data_dir, "snapshots", "rollback", "../../etc", capsys=capsys)
    assert code == 1
    assert "There is no snapshot '../../etc'" in out
    assert current_id(data_dir) == ids[3]


def test_prune_keeps_current_and_the_most_recent(four, capsys) -> None:
    data_dir, ids = four
    code, out = _cli(data_dir, "snapshots", "prune", "--keep", "2", capsys=capsys)
    assert code == 0
    assert {f.name for f in snapshot_folders(data_dir)} == {ids[3], ids[2]}
    assert f"removed 2 snapshot(s): {ids[1]}, {ids[0]}" in out


def test_prune_never_removes_current_after_a_rollback(four, capsys) -> None:
    data_dir, ids = four
    _cli(data_dir, "snapshots", "rollback", ids[0], capsys=capsys)
    assert _cli(data_dir, "snapshots", "prune", "--keep", "0", capsys=capsys)[0] == 0
    assert [f.name for f in snapshot_folders(data_dir)] == [ids[0]]
    assert serve(data_dir).snapshot_id == ids[0]


def test_prune_keeps_the_snapshot_served_in_place_of_a_damaged_current(four, capsys) -> None:
    data_dir, ids = four
    flip_byte(data_dir / "snapshots" / ids[3] / "members.parquet")
    assert serve(data_dir).snapshot_id == ids[2]
    _cli(data_dir, "snapshots", "prune", "--keep", "0", capsys=capsys)
    assert {f.name for f in snapshot_folders(data_dir)} == {ids[3], ids[2]}
    assert serve(data_dir).snapshot_id == ids[2]


def test_prune_default_comes_from_the_environment(four, capsys, monkeypatch) -> None:
    data_dir, ids = four
    monkeypatch.setenv("ASI_SNAPSHOTS_KEEP", "1")
    _cli(data_dir, "snapshots", "prune", capsys=capsys)
    assert [f.name for f in snapshot_folders(data_dir)] == [ids[3]]
    monkeypatch.setenv("ASI_SNAPSHOTS_KEEP", "-1")
    with pytest.raises(ValueError, match="ASI_SNAPSHOTS_KEEP=-1 must be 0 or more"):
        _cli(data_dir, "snapshots", "prune", capsys=capsys)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_prune_removes_staging_folders_of_dead_writers_only(four, capsys) -> None:
    data_dir, ids = four
    snapshots = data_dir / "snapshots"
    dead = snapshots / f".staging-{_dead_pid()}-0123abcd"
    live = snapshots / f".staging-{os.getppid()}-4567ef"  # a running process: the one that started pytest
    for folder in (dead, live):
        folder.mkdir()
        (folder / "members.parquet").write_bytes(b"x" * 1000)
    lock = snapshots / ".staging-ingest.lock"
    lock.write_text("")
    code, out = _cli(data_dir, "snapshots", "prune", "--keep", "9", capsys=capsys)
    assert code == 0
    assert not dead.exists()
    assert live.exists() and lock.exists()
    assert f"removed leftovers of dead writers: {dead.name}" in out
    assert {f.name for f in snapshot_folders(data_dir)} == set(ids)


def test_an_ingest_killed_while_writing_leaves_a_folder_that_prune_removes(tmp_path, capsys) -> None:
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from asi_me.data.snapshot import write_snapshot\n"
        "def stop(name):\n"
        "    os._exit(9)  # as if killed after the first table file\n"
        f"write_snapshot(Path({str(tmp_path)!r}), {{}}, _after_table=stop)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=False, timeout=120)
    left = list((tmp_path / "snapshots").glob(".staging-*"))
    assert len(left) == 1 and left[0].is_dir()
    code, out = _cli(tmp_path, "snapshots", "prune", capsys=capsys)
    assert code == 0
    assert not list((tmp_path / "snapshots").glob(".staging-*-*"))
    assert left[0].name in out
