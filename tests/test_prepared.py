"""Protected figures prepared when a snapshot is published and read back by the next process
(asi_me/publish/prepared.py): the same figures as computing them, never a damaged file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from asi_me.data.snapshot import PREPARED_DIR, current_folder, prune
from asi_me.data.store import Store
from asi_me.filters import Viewer
from asi_me.ingest.pipeline import run_cli
from asi_me.memos import forget_memos
from asi_me.publish import gate
from asi_me.publish.policy import DisclosurePolicy
from asi_me.queries import coc, outcomes

FIXTURES = Path(__file__).parent / "fixtures" / "ingest_valid"
OBSERVATIONS = "indicator_observations"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A data folder whose snapshot was published by an ingest that prepares its figures."""
    data_dir = tmp_path_factory.mktemp("prepared") / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ASI_PREPARE_ON_PUBLISH", "1")
        assert run_cli([FIXTURES], data_dir, dry_run=False) == 0
    return data_dir


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """A copy of the demo data (which suppresses figures) with its figures prepared."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    shutil.copytree(Path(__file__).parent.parent / "data", data_dir,
                    ignore=shutil.ignore_patterns(PREPARED_DIR, "downloads", "ingest_log.jsonl"))
    forget_memos()  # the demo snapshot may be in this process's memos already: prepare it from nothing
    gate.prepare(Store(current_folder(data_dir)))
    return data_dir


def _computed(store: Store) -> pd.DataFrame:
    """The protected rows built from the snapshot, bypassing every memo and file."""
    frame = gate.GATED_TABLES[OBSERVATIONS].protected(store, Viewer.public(), DisclosurePolicy.from_settings())
    frame["suppression_note"] = frame["suppression_note"].where(frame["suppression_note"].notna(), None)
    return frame


def _files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / PREPARED_DIR).rglob("*.*"))


def test_publishing_prepares_the_figures(published):
    files = _files(published)
    assert {"gate", "workers"} <= {f.name.split("-")[0] for f in files}, files
    assert all(f.parent.name == current_folder(published).name for f in files)


def test_a_new_process_reads_the_same_figures_as_it_would_compute(demo):
    store = Store(current_folder(demo))  # a new Store: no memo of this one is filled
    served = gate.protected_rows(store, Viewer.public(), OBSERVATIONS)
    pd.testing.assert_frame_equal(served, _computed(store))
    assert served["suppression_note"].map(lambda n: n is None or isinstance(n, str)).all()
    assert served["suppression_note"].notna().any(), "the demo data suppresses some figures"
    policy = DisclosurePolicy.from_settings()
    dates = outcomes.worker_dates(store)
    read = outcomes.protected_worker_cells(store, policy, dates)
    built = outcomes._worker_cells_by_date(outcomes.company_workers(store, dates), policy)
    assert read == {on: built.get(on, {}) for on in dates}
    years = coc.coc_years(store)
    assert len([f for f in _files(demo) if f.name.startswith("coc-protection-")]) == len(years) > 0
    for year in years:  # every CoC year's joint protection, read back
        lines = coc._with_volume(coc.coc_lines(store, [year], None))
        computed = coc._Hierarchy.build(lines, year, policy)
        read_back = coc._Hierarchy.build(lines, year, policy, store=store)
        assert read_back.notes == computed.notes and any(computed.notes.values())
        assert read_back.count_notes == computed.count_notes


def test_a_damaged_file_is_rebuilt_not_served(demo, tmp_path, caplog):
    data_dir = tmp_path / "data"
    shutil.copytree(demo, data_dir)
    (parquet,) = [f for f in _files(data_dir) if f.suffix == ".parquet"]
    (document,) = [f for f in _files(data_dir) if f.name.startswith("workers-cells-")]
    parquet.write_bytes(parquet.read_bytes()[: parquet.stat().st_size // 2])
    document.write_text(document.read_text(encoding="utf-8").replace("suppressed", "published"), encoding="utf-8")
    store = Store(current_folder(data_dir))
    served = gate.protected_rows(store, Viewer.public(), OBSERVATIONS)
    pd.testing.assert_frame_equal(served, _computed(store))
    policy = DisclosurePolicy.from_settings()
    dates = outcomes.worker_dates(store)
    built = outcomes._worker_cells_by_date(outcomes.company_workers(store, dates), policy)
    assert outcomes.protected_worker_cells(store, policy, dates) == {on: built.get(on, {}) for on in dates}
    assert "damaged" in caplog.text
    assert parquet.is_file() and document.is_file(), "rebuilt and kept again"
    assert not [f for f in (data_dir / PREPARED_DIR).rglob(".*")], "no temporary file left behind"


def test_pruning_a_snapshot_removes_its_prepared_figures(published, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(published, data_dir)
    old = current_folder(data_dir).name
    stale = data_dir / PREPARED_DIR / "0000000000000000"
    stale.mkdir()
    (stale / "gate-x.parquet").write_bytes(b"")
    gate.prepare(Store(current_folder(data_dir)))
    assert not stale.exists(), "figures of a snapshot that no longer exists are removed"
    assert (data_dir / PREPARED_DIR / old).is_dir()
    prune(data_dir, keep=0)
    assert (data_dir / PREPARED_DIR / old).is_dir(), "the current snapshot keeps its figures"
