"""An ingest killed mid-write (SIGKILL, a real process) leaves the previous snapshot served and intact."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from asi_me.data.snapshot import LOG, current_id
from asi_me.data.store import Store
from asi_me.ingest.pipeline import LOCK, run_cli

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "ingest_valid"


def fingerprint(data_dir: Path) -> dict[str, str]:
    return {
        str(path.relative_to(data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data_dir.rglob("*"))
        if path.is_file() and path.name not in {LOG, LOCK}
    }


@pytest.mark.parametrize("pause_at", ["table", "switch"])
def test_sigkill_mid_ingest_keeps_previous_snapshot(pause_at, tmp_path, monkeypatch):
    monkeypatch.delenv("ASI_MASS_BALANCE", raising=False)
    data_dir = tmp_path / "data"
    assert run_cli([FIXTURES], data_dir, dry_run=False) == 0
    previous = current_id(data_dir)
    before = fingerprint(data_dir)

    exports = tmp_path / "exports"
    exports.mkdir()
    members = (FIXTURES / "members.csv").read_text(encoding="utf-8")
    (exports / "members.csv").write_text(members + "M004,Delta Metals,general_supporters,NO,2021-11-01,\n", "utf-8")
    marker = tmp_path / "paused"
    env = {
        **os.environ,
        "ASI_INGEST_TEST_PAUSE": str(marker),
        "ASI_INGEST_TEST_PAUSE_AT": pause_at,
        "PYTHONPATH": str(REPO),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "asi_me", "--data-dir", str(data_dir), "ingest", str(exports)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the ingest never reached the pause point"
            time.sleep(0.05)
        # The write is under way: part of the new snapshot is on disk.
        if pause_at == "table":
            assert list((data_dir / "snapshots").glob(".staging-*/*.parquet"))
        else:
            assert len([p for p in (data_dir / "snapshots").iterdir() if p.is_dir()]) == 2
        process.send_signal(signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL

    assert current_id(data_dir) == previous
    after = fingerprint(data_dir)
    assert {name: after.get(name) for name in before} == before
    store = Store.open_current(data_dir)
    assert store.query("select count(*) as n from members").n[0] == 3
    store.close()

    # A staging folder left by the killed process is ignored; the next ingest removes it at once (its
    # writer's pid, in the folder's name, is gone), without waiting for it to grow old.
    leftovers = [p for p in (data_dir / "snapshots").glob(".staging-*") if p.is_dir()]
    assert len(leftovers) == (1 if pause_at == "table" else 0)

    assert run_cli([exports], data_dir, dry_run=False) == 0
    assert current_id(data_dir) != previous
    assert Store.open_current(data_dir).query("select count(*) as n from members").n[0] == 4
    assert not [p for p in (data_dir / "snapshots").glob(".staging-*") if p.is_dir()]
