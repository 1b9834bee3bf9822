"""Built downloads are served again to whoever is entitled to the same file, and to nobody else."""

from __future__ import annotations

import io
import logging
import zipfile
from datetime import date

import pandas as pd
import pytest
from conftest import certification, facility, make_store, member

from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.publish import download_cache, exports

PUBLIC = Viewer.public()


@pytest.fixture
def folder(tmp_path, monkeypatch):
    where = tmp_path / "downloads"
    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_DIR", str(where))
    monkeypatch.delenv("ASI_DOWNLOAD_CACHE_MB", raising=False)
    return where


@pytest.fixture
def store(tmp_path) -> Store:
    return make_store(
        tmp_path / "data",
        members=[member("M1"), member("M2")],
        facilities=[facility("F1", "M1"), facility("F2", "M2")],
        certifications=[certification("C1", "F1"), certification("C2", "F2", standard="PS",
                                                                 standard_version="PS-2017")],
        governance_meetings=[{"meeting_id": "B1", "body": "board", "held_on": date(2016, 2, 1), "location": None}],
    )


@pytest.fixture
def builds(monkeypatch):
    """How many times each download was actually built."""
    counts = {"zip": 0, "xlsx": 0}
    real_zip, real_book = exports._build_zip, exports._build_workbook

    def counting_zip(*args, **kwargs):
        counts["zip"] += 1
        return real_zip(*args, **kwargs)

    def counting_book(*args, **kwargs):
        counts["xlsx"] += 1
        return real_book(*args, **kwargs)

    monkeypatch.setattr(exports, "_build_zip", counting_zip)
    monkeypatch.setattr(exports, "_build_workbook", counting_book)
    return counts


def test_the_second_click_gets_the_same_file_without_building_it(store, folder, builds):
    first = exports.download_zip(store, PUBLIC)
    again = exports.download_zip(store, PUBLIC)
    assert again == first
    assert builds["zip"] == 1
    assert exports.download_workbook(store, PUBLIC) == exports.download_workbook(store, PUBLIC)
    assert builds["xlsx"] == 1
    assert len(list(folder.iterdir())) == 2


def test_other_filters_another_role_or_another_company_get_their_own_file(store, folder, builds):
    public = exports.download_zip(store, PUBLIC)
    exports.download_zip(store, PUBLIC, Filters(standards=("PS",)))
    m1 = exports.download_zip(store, Viewer.member("M1"))
    m2 = exports.download_zip(store, Viewer.member("M2"))
    assert builds["zip"] == 4
    members_of = {name: pd.read_csv(io.BytesIO(zipfile.ZipFile(io.BytesIO(data)).read("members.csv")))
                  for name, data in (("M1", m1), ("M2", m2))}
    assert members_of["M1"]["member_id"].tolist() == ["M1"]
    assert members_of["M2"]["member_id"].tolist() == ["M2"]
    assert "members.csv" not in zipfile.ZipFile(io.BytesIO(public)).namelist()
    # and again: each is served its own
    assert exports.download_zip(store, Viewer.member("M2")) == m2
    assert builds["zip"] == 4


def test_a_stricter_disclosure_policy_is_never_served_a_file_built_under_a_looser_one(store, folder, builds,
                                                                                      monkeypatch):
    exports.download_zip(store, PUBLIC)
    monkeypatch.setenv("ASI_MIN_REPORTERS", "7")
    stricter = zipfile.ZipFile(io.BytesIO(exports.download_zip(store, PUBLIC)))
    assert builds["zip"] == 2
    assert "at least 7 member companies" in stricter.read("README.md").decode()


def test_a_new_snapshot_builds_its_own_files(tmp_path, store, folder, builds):
    exports.download_zip(store, PUBLIC)
    newer = make_store(tmp_path / "data", members=[member("M1"), member("M2"), member("M3")])
    assert newer.snapshot_id != store.snapshot_id
    exports.download_zip(newer, PUBLIC)
    assert builds["zip"] == 2


def test_half_a_file_left_by_a_killed_build_is_never_served(store, folder, builds):
    complete = exports.download_zip(store, PUBLIC)
    (built,) = folder.iterdir()
    built.unlink()
    # what a build killed mid-write leaves: a temporary file, never the final name
    (folder / f".{built.name}.123.456.tmp").write_bytes(complete[: len(complete) // 2])
    assert exports.download_zip(store, PUBLIC) == complete
    assert builds["zip"] == 2


def test_the_least_recently_used_files_go_when_the_folder_is_full(store, folder, monkeypatch):
    made = {name: download_cache.cached_bytes(store, "csv", [name], lambda: b"x" * 400_000)
            for name in ("a", "b")}
    assert all(len(data) == 400_000 for data in made.values())
    download_cache.cached_bytes(store, "csv", ["a"], lambda: b"never built")  # "a" is used again
    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_MB", "1")  # room for two of these files
    download_cache.cached_bytes(store, "csv", ["c"], lambda: b"y" * 400_000)
    kept = {p.name for p in folder.iterdir()}
    assert kept == {download_cache.file_key(store, "csv", [n]) for n in ("a", "c")}
    assert download_cache.cached_bytes(store, "csv", ["b"], lambda: b"built again") == b"built again"


def test_a_folder_that_cannot_be_written_only_means_building_every_time(store, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_DIR", str(blocker / "downloads"))
    with caplog.at_level(logging.WARNING, logger="asi_me.publish.download_cache"):
        assert download_cache.cached_bytes(store, "csv", ["a"], lambda: b"data") == b"data"
    assert "Could not keep the built download" in caplog.text


def test_zero_keeps_nothing_and_a_bad_size_names_the_variable(store, folder, monkeypatch):
    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_MB", "0")
    download_cache.cached_bytes(store, "csv", ["a"], lambda: b"data")
    assert not folder.exists()
    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_MB", "lots")
    with pytest.raises(ValueError, match=r"ASI_DOWNLOAD_CACHE_MB='lots' is not a size in MB"):
        download_cache.cached_bytes(store, "csv", ["a"], lambda: b"data")


def test_a_served_aggregate_csv_is_not_computed_again_and_a_forbidden_table_is_still_refused(store, folder,
                                                                                            monkeypatch):
    computed: list[str] = []
    real = exports.table_for_download

    def counting(store_, viewer, name, filters=None):
        computed.append(name)
        return real(store_, viewer, name, filters)

    monkeypatch.setattr(exports, "table_for_download", counting)
    first = exports.table_csv(store, PUBLIC, "outcomes_dashboard")
    assert exports.table_csv(store, PUBLIC, "outcomes_dashboard") == first
    assert computed == ["outcomes_dashboard"]
    exports.table_csv(store, Viewer.secretariat(), "members")  # built and kept for the secretariat
    with pytest.raises(PermissionError):
        exports.table_csv(store, PUBLIC, "members")
    with pytest.raises(KeyError):
        exports.table_csv(store, PUBLIC, "no_such_table")


def test_a_file_built_again_later_the_same_day_is_the_same_bytes(store, folder, monkeypatch):
    """Zip entries carry the day, not the clock: a rebuild (after eviction or a killed
    build) hours later gives a visitor byte-identical files, and the same checksum."""
    import time as clock

    def built_at(hour: int, minute: int, second: int) -> tuple[bytes, bytes]:
        moment = clock.mktime((2026, 6, 1, hour, minute, second, 0, 0, -1))
        monkeypatch.setattr(clock, "time", lambda: moment)
        return exports._build_zip(store, PUBLIC), exports._build_workbook(store, PUBLIC)

    morning, afternoon = built_at(0, 0, 5), built_at(13, 47, 31)
    assert afternoon == morning
    for data in morning:
        stamps = {info.date_time for info in zipfile.ZipFile(io.BytesIO(data)).infolist()}
        assert stamps == {(2026, 6, 1, 0, 0, 0)}
