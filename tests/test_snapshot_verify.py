"""A snapshot is served only if every file matches its manifest; otherwise the latest earlier one that
does, and never the fictitious demo in place of real data. `verify` names the damaged file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from asi_me.cli import main as cli_main
from asi_me.data import snapshot
from asi_me.data.derived import DERIVED_DIR, derived_path
from asi_me.data.readiness import readiness
from asi_me.data.snapshot import (
    NoSnapshotError,
    NoVerifiedSnapshotError,
    SnapshotVerificationError,
    current_id,
    serve,
    verify_snapshot,
    write_snapshot,
)
from asi_me.data.store import Store
from tests.integrity import NEW_MEMBERS, demo_tables, flip_byte, write_two_snapshots

MEMBERS_NOW = "select count(*) as n from members"


@pytest.fixture(scope="module")
def two_snapshots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    data_dir = tmp_path_factory.mktemp("two")
    older, newer = write_two_snapshots(data_dir)
    return data_dir, older, newer


@pytest.fixture
def data_dir(tmp_path: Path, two_snapshots: tuple[Path, str, str]) -> Path:
    """A private copy of the two-snapshot folder, free to damage."""
    target = tmp_path / "data"
    shutil.copytree(two_snapshots[0], target)
    return target


def _members(store: Store) -> int:
    return int(store.query(MEMBERS_NOW).n[0])


BASE_FILES = sorted(p.name for p in (Path(__file__).parent.parent / "data" / "snapshots").glob("*/*.parquet"))


@pytest.mark.parametrize("file", BASE_FILES)
def test_a_flipped_byte_in_any_table_serves_the_previous_snapshot(data_dir, two_snapshots, file) -> None:
    _, older, newer = two_snapshots
    assert serve(data_dir).snapshot_id == newer
    flip_byte(data_dir / "snapshots" / newer / file)
    served = serve(data_dir)
    assert served.snapshot_id == older
    assert current_id(data_dir) == newer  # nothing is rewritten: the operator decides
    notice = served.notice() or ""
    assert f"Snapshot {newer} failed verification: snapshots/{newer}/{file}: expected" in notice
    assert f"Serving snapshot {older}" in notice
    store = Store.open_current(data_dir)
    try:
        assert store.snapshot_id == older
        assert _members(store) == _members_of(data_dir, older)
    finally:
        store.close()


def _members_of(data_dir: Path, snapshot_id: str) -> int:
    store = Store(data_dir / "snapshots" / snapshot_id)
    try:
        return _members(store)
    finally:
        store.close()


def test_the_two_snapshots_differ_by_the_new_members(data_dir, two_snapshots) -> None:
    _, older, newer = two_snapshots
    assert _members_of(data_dir, newer) == _members_of(data_dir, older) + NEW_MEMBERS


def test_a_damaged_snapshot_is_never_opened(data_dir, two_snapshots) -> None:
    newer = two_snapshots[2]
    flip_byte(data_dir / "snapshots" / newer / "members.parquet")
    damage = r"members\.parquet: expected sha256 \w{12}, found [\d,]+ bytes, sha256 \w{12}"
    with pytest.raises(SnapshotVerificationError, match=damage):
        Store(data_dir / "snapshots" / newer)


def test_a_damaged_derived_file_is_not_read_and_the_figures_stay_right(data_dir, two_snapshots, caplog) -> None:
    newer = two_snapshots[2]
    folder = data_dir / "snapshots" / newer
    facts = "select count(*) as n, sum(register_order) as s from certification_facts"
    intact = Store(folder)
    expected = intact.query(facts).to_dict("records")
    intact.close()
    damaged = derived_path(folder, "certification_facts")
    flip_byte(damaged, offset=damaged.stat().st_size - 12)  # inside the footer: statistics and offsets
    verification = verify_snapshot(folder)
    assert verification.ok  # the snapshot's own tables are intact: it is still served
    assert [p.file for p in verification.derived_problems] == [f"snapshots/{newer}/{DERIVED_DIR}/{damaged.name}"]
    store = Store.open_current(data_dir)
    try:
        assert store.snapshot_id == newer
        assert store.query(facts).to_dict("records") == expected
    finally:
        store.close()
    assert any(damaged.name in r.getMessage() for r in caplog.records)
    # `derive` stores it again, recorded, and `verify` is clean.
    assert cli_main(["--data-dir", str(data_dir), "derive"]) == 0
    assert verify_snapshot(folder).derived_problems == ()
    assert cli_main(["verify", "--data-dir", str(data_dir)]) == 0


def test_no_verified_predecessor_serves_nothing_and_says_which_file(tmp_path) -> None:
    write_snapshot(tmp_path, demo_tables(), note="demo: one snapshot")
    folder = tmp_path / "snapshots" / str(current_id(tmp_path))
    flip_byte(folder / "certifications.parquet")
    with pytest.raises(NoVerifiedSnapshotError, match=r"certifications\.parquet: expected .* No earlier snapshot"):
        serve(tmp_path)
    with pytest.raises(NoSnapshotError):
        Store.open_current(tmp_path)


def test_the_demo_never_stands_in_for_real_data(tmp_path) -> None:
    tables = demo_tables()
    write_snapshot(tmp_path, tables, note="demo: fictitious", fixed_time="2026-01-01T00:00:00+00:00")
    real, _ = write_snapshot(tmp_path, {"members": tables["members"]}, note="ingest of crm.csv",
                             fixed_time="2026-02-01T00:00:00+00:00")
    flip_byte(tmp_path / "snapshots" / real / "members.parquet")
    with pytest.raises(NoVerifiedSnapshotError):
        serve(tmp_path)


def test_a_snapshot_newer_than_current_is_not_a_fallback(data_dir, two_snapshots) -> None:
    # After a rollback to the older snapshot, its damage must not put the rolled-back one back.
    _, older, _newer = two_snapshots
    assert cli_main(["--data-dir", str(data_dir), "snapshots", "rollback", older]) == 0
    flip_byte(data_dir / "snapshots" / older / "members.parquet")
    with pytest.raises(NoVerifiedSnapshotError):
        serve(data_dir)


def test_a_changed_row_count_in_the_manifest_is_caught(data_dir, two_snapshots) -> None:
    newer = two_snapshots[2]
    manifest = data_dir / "snapshots" / newer / "manifest.json"
    text = manifest.read_text()
    rows = snapshot.Manifest.load(manifest.parent).tables["members"]["rows"]
    manifest.write_text(text.replace(f'"rows": {rows},', f'"rows": {rows - 39},', 1))
    verification = verify_snapshot(manifest.parent)
    assert not verification.ok
    assert any(p.file.endswith(".parquet") and "rows (manifest)" in p.expected for p in verification.problems)


def test_files_are_hashed_once_per_process_not_on_every_page_run(data_dir, two_snapshots, monkeypatch) -> None:
    snapshot.forget_verifications()
    hashed: list[str] = []
    original = snapshot._sha256
    monkeypatch.setattr(snapshot, "_sha256", lambda path: hashed.append(path.name) or original(path))
    serve(data_dir)
    first = len(hashed)
    assert first >= 16  # every table file of the snapshot (and its derived files)
    for _ in range(5):  # what each page run does
        serve(data_dir)
    assert len(hashed) == first
    flip_byte(data_dir / "snapshots" / two_snapshots[2] / "members.parquet")
    assert serve(data_dir).snapshot_id == two_snapshots[1]
    # The changed file, then the older snapshot's files (checked once, to serve it instead).
    assert hashed[first] == "members.parquet"
    after_fallback = len(hashed)
    for _ in range(5):
        serve(data_dir)
    assert len(hashed) == after_fallback


# ---------------------------------------------------------------- the verify command


def _verify(data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asi_me", "verify", "--data-dir", str(data_dir), *extra],
        capture_output=True, text=True, check=False, timeout=120,
    )


def test_verify_exits_1_and_names_the_damaged_file(data_dir, two_snapshots) -> None:
    _, older, newer = two_snapshots
    ok = _verify(data_dir)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"snapshot {newer} verified" in ok.stdout
    flip_byte(data_dir / "snapshots" / newer / "audits.parquet")
    bad = _verify(data_dir)
    assert bad.returncode == 1
    assert f"snapshots/{newer}/audits.parquet: expected" in bad.stdout
    assert f"The app serves snapshot {older} instead" in bad.stdout
    assert _verify(data_dir, "--snapshot", older).returncode == 0


# ---------------------------------------------------------------- readiness


def test_readiness_is_503_without_data_and_200_with_the_served_snapshot(tmp_path, data_dir, two_snapshots) -> None:
    _, older, newer = two_snapshots
    empty = readiness(tmp_path / "nothing-here")
    assert (empty.ok, empty.status, empty.snapshot_id) == (False, 503, None)
    assert "No snapshot is current" in empty.reason
    good = readiness(data_dir)
    assert (good.ok, good.status, good.snapshot_id) == (True, 200, newer)
    flip_byte(data_dir / "snapshots" / newer / "members.parquet")
    fallback = readiness(data_dir)
    assert (fallback.status, fallback.snapshot_id) == (200, older)
    assert f"Snapshot {newer} failed verification" in fallback.reason
    flip_byte(data_dir / "snapshots" / older / "facilities.parquet")
    corrupt = readiness(data_dir)
    assert (corrupt.ok, corrupt.status) == (False, 503)
    assert "members.parquet" in corrupt.reason


def test_readiness_is_503_when_current_names_a_missing_snapshot(data_dir) -> None:
    (data_dir / "CURRENT").write_text("0000000000000000\n")
    result = readiness(data_dir)
    assert result.status == 503
    assert "snapshots/0000000000000000/manifest.json" in result.reason


# ---------------------------------------------------------------- the benchmark part


def test_the_benchmark_measures_verification_once_and_no_hashing_on_page_runs(data_dir) -> None:
    from asi_me.bench import bench_verification, unmeasured

    part = bench_verification(data_dir, reps=3)
    assert part["files_hashed_first_open"] == part["files"] >= 16
    assert part["files_hashed_on_page_runs"] == 0
    assert part["page_run_recheck"]["runs"] >= 3
    assert unmeasured({"factors": {"1": {"verification": part}}}) == []
    nothing = {**part, "files_hashed_first_open": 0}
    assert unmeasured({"factors": {"1": {"verification": nothing}}}) == [
        "x1 verification: hashed 0 files on first open and 0 on page runs"]


def test_an_update_ingest_never_builds_on_a_damaged_snapshot(data_dir, two_snapshots, tmp_path, capsys) -> None:
    newer = two_snapshots[2]
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "ingest_valid" / "governance_meetings.csv", exports)
    flip_byte(data_dir / "snapshots" / newer / "facilities.parquet")
    code = cli_main(["--data-dir", str(data_dir), "ingest", str(exports)])
    err = capsys.readouterr().err
    assert code != 0
    assert f"snapshots/{newer}/facilities.parquet: expected" in err
    assert "snapshots rollback ID" in err and "Nothing was changed." in err
    assert current_id(data_dir) == newer
    assert sorted(p.name for p in (data_dir / "snapshots").iterdir() if not p.name.startswith(".")) == sorted(
        two_snapshots[1:])


def test_a_preview_that_was_never_published_is_never_served(tmp_path) -> None:
    from asi_me.data.snapshot import append_log
    from tests.integrity import with_new_members

    tables = demo_tables()
    published, _ = write_snapshot(tmp_path, tables, note="demo: a", fixed_time="2026-01-01T00:00:00+00:00")
    preview, _ = write_snapshot(tmp_path, with_new_members(tables, date(2026, 1, 15), 2), note="demo: preview",
                                fixed_time="2026-02-01T00:00:00+00:00", make_current=False)
    append_log(tmp_path, {"command": "prepare", "ok": True, "snapshot_id": preview})
    newest, _ = write_snapshot(tmp_path, with_new_members(tables, date(2026, 1, 15), 3), note="demo: b",
                               fixed_time="2026-03-01T00:00:00+00:00")
    flip_byte(tmp_path / "snapshots" / newest / "members.parquet")
    assert serve(tmp_path).snapshot_id == published


def test_the_bundled_demo_verifies_with_every_derived_table_recorded() -> None:
    """Otherwise every process computes the derived tables in memory when it opens the demo."""
    from asi_me.data.derived import DERIVED
    from asi_me.data.snapshot import current_folder
    from asi_me.settings import REPO_ROOT

    folder = current_folder(REPO_ROOT / "data")
    verification = verify_snapshot(folder)
    assert verification.ok, verification.summary()
    missing = [name for name in DERIVED if derived_path(folder, name).name not in verification.trusted_derived]
    assert not missing, f"data/ does not record derived tables {missing}: run `python -m asi_me derive`, commit data/."
