"""Ingest as an update of the current snapshot, and real exports read through source profiles."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import LOG, current_folder, current_id, current_manifest
from asi_me.ingest import profiles
from asi_me.ingest.pipeline import run_cli
from asi_me.ingest.template import template_bytes

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "data"


@pytest.fixture(autouse=True)
def _settings(monkeypatch):
    monkeypatch.delenv("ASI_MASS_BALANCE", raising=False)
    # Durability is not under test here; skipping fsync keeps these tests fast on slow disks.
    monkeypatch.setattr("asi_me.data.snapshot.os.fsync", lambda fd: None)


@pytest.fixture
def demo_dir(tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns(LOG, ".staging-*"))
    return target


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def demo_table(data_dir: Path, name: str):
    return pq.read_table(current_folder(data_dir) / f"{name}.parquet")


# --------------------------------------------------------------------------- updates


def test_adding_six_certifications_to_the_demo_touches_only_those_rows(demo_dir, tmp_path, capsys):
    before = {name: demo_table(demo_dir, name) for name in TABLES}
    facilities = before["facilities"].column("facility_id").to_pylist()[:6]
    rows = [
        {"certification_id": f"PS-2026-9{i:02d}", "facility_id": facility, "standard": "PS",
         "standard_version": "PS-2022", "certification_type": "full", "status": "certified",
         "issued_on": "2026-09-01", "expires_on": "2029-09-01", "scope": "Whole site.", "auditing_firm_id": "AF01",
         "external_certifications": "ISO 14001"}
        for i, facility in enumerate(facilities)
    ]
    path = write_csv(tmp_path / "certifications.csv", rows)
    report = tmp_path / "report.csv"

    code = run_cli([path], demo_dir, dry_run=False, report=report)

    assert code == 0
    assert read_csv(report) == []  # nothing at all about the tables the file does not touch
    printed = capsys.readouterr().out
    assert "6 new, 0 updating the row with the same key, 0 removed" in printed
    after = {name: demo_table(demo_dir, name) for name in TABLES}
    for name in TABLES:
        if name != "certifications":
            assert after[name].equals(before[name]), f"{name} changed"
    old, new = before["certifications"], after["certifications"]
    assert new.num_rows == old.num_rows + 6
    assert new.slice(0, old.num_rows).equals(old)
    assert new.column("certification_id").to_pylist()[-6:] == [r["certification_id"] for r in rows]


def test_an_update_changes_a_row_in_place_and_keeps_the_columns_a_file_leaves_out(demo_dir, tmp_path):
    old = demo_table(demo_dir, "facilities").to_pylist()
    target = old[3]
    path = write_csv(tmp_path / "facilities.csv", [{"facility_id": target["facility_id"], "workers": "4321"}])

    assert run_cli([path], demo_dir, dry_run=False) == 0

    new = demo_table(demo_dir, "facilities").to_pylist()
    assert len(new) == len(old)
    assert new[3] == dict(target, workers=4321)
    assert new[:3] == old[:3] and new[4:] == old[4:]


def test_a_deletion_list_removes_rows_and_names_what_still_points_at_them(demo_dir, tmp_path):
    certs = demo_table(demo_dir, "certifications").to_pylist()
    audits = demo_table(demo_dir, "audits").to_pylist()
    audited = next(a["certification_id"] for a in audits)
    unaudited = next(c["certification_id"] for c in certs if c["certification_id"] not in
                     {a["certification_id"] for a in audits})
    report = tmp_path / "report.csv"

    # Deleting a certification that audits point at is refused, naming the kept audit rows.
    path = write_csv(tmp_path / "certifications.delete.csv", [{"certification_id": audited}])
    before = current_id(demo_dir)
    assert run_cli([path], demo_dir, dry_run=False, report=report) == 1
    problems = read_csv(report)
    assert problems and {p["rule"] for p in problems} == {"reference"}
    assert all(p["file"].startswith("audits.parquet (current snapshot") and p["value"] == audited for p in problems)
    assert current_id(demo_dir) == before

    # One that nothing points at goes; every other row stays.
    write_csv(path, [{"certification_id": unaudited}])
    assert run_cli([path], demo_dir, dry_run=False, report=report) == 0
    left = demo_table(demo_dir, "certifications").column("certification_id").to_pylist()
    assert len(left) == len(certs) - 1 and unaudited not in left


def test_replace_makes_the_file_the_whole_table(demo_dir, tmp_path):
    path = write_csv(tmp_path / "governance_meetings.csv", [
        {"meeting_id": "G-NEW", "body": "Board", "held_on": "2026-10-01", "location": "virtual"},
    ])
    assert run_cli([path], demo_dir, dry_run=False, replace=["governance_meetings"]) == 0
    table = demo_table(demo_dir, "governance_meetings").to_pylist()
    assert [(r["meeting_id"], r["body"]) for r in table] == [("G-NEW", "board")]


# --------------------------------------------------------------------------- a messy public list


def _public_list(demo_dir: Path) -> list[dict[str, str]]:
    """Rows as someone copies them from ASI's public web page: labels, names, month dates, no ids."""
    facilities = demo_table(demo_dir, "facilities").to_pylist()
    firms = demo_table(demo_dir, "auditing_firms").to_pylist()
    de = next(f for f in facilities if f["country"] == "DE")
    br = next(f for f in facilities if f["country"] == "BR")
    cn = next(f for f in facilities if f["country"] == "CN")
    firm = firms[0]["name"]

    def row(**cells: str) -> dict[str, str]:
        base = {"Entity": br["name"], "Country": "Brazil", "Standard": "Performance Standard",
                "Version": "PS V3 (2022)", "Status": "certified (full)", "Certificate issued": "March 2024",
                "Certificate expires": "", "Auditor": firm}
        return base | cells

    return [
        # published: one unambiguous fact each
        row(),  # labels, a country name, a month-precision date, expiry derived (three years)
        row(Entity=de["name"].upper(), Country="germany", Standard="ps", Version="ps-2022",
            Status="Certified (full/provisional not stated)", **{"Certificate issued": "14 March 2023",
                                                                 "Certificate expires": "2026-03-14"}),
        row(Entity=cn["name"], Country="CN", Standard="Chain of Custody Standard", Version="CoC V2 (2022)",
            Status="certified (provisional)", **{"Certificate issued": "certificate issued 2 May 2025"}),
        # quarantined: each row holds more than one fact, or one the contract cannot take
        row(Country="Brazil; Germany", **{"Certificate issued": "April 2024"}),  # two countries
        row(Standard="PS + CoC", **{"Certificate issued": "May 2024"}),  # two standards
        row(**{"Certificate issued": "2018/2019"}),  # two dates
        row(Version="not stated", **{"Certificate issued": "June 2024"}),  # no version
        row(Entity="Copperwik Juruti Mien", **{"Certificate issued": "July 2024"}),  # no such facility (a typo)
        # no type, and no expiry to derive it from
        row(Status="certified (full/provisional not stated)", **{"Certificate issued": "August 2024"}),
    ]


def test_a_messy_public_list_publishes_the_unambiguous_rows_and_quarantines_the_rest(demo_dir, tmp_path, capsys):
    rows = _public_list(demo_dir)
    path = write_csv(tmp_path / "asi-certified-entities.csv", rows)
    report = tmp_path / "report.csv"
    quarantine = tmp_path / "quarantine.csv"
    old = demo_table(demo_dir, "certifications").num_rows

    code = run_cli([path], demo_dir, dry_run=False, report=report, keep_valid=True, quarantine=quarantine)

    assert code == 0
    printed = capsys.readouterr().out
    assert "read with profile public-certifications" in printed
    certs = demo_table(demo_dir, "certifications").to_pylist()
    assert len(certs) == old + 3
    added = certs[-3:]
    assert [(c["standard"], c["standard_version"], c["certification_type"], c["status"]) for c in added] == [
        ("PS", "PS-2022", "full", "certified"),
        ("PS", "PS-2022", "full", "certified"),
        ("CoC", "CoC-2022", "provisional", "provisional"),
    ]
    first = added[0]
    assert (str(first["issued_on"]), first["issued_on_precision"], str(first["expires_on"])) == (
        "2024-03-01", "month", "2027-03-01")
    assert first["derived_columns"] == ["certification_id", "expires_on"]
    assert added[1]["derived_columns"] == ["certification_id", "certification_type"]
    assert all(c["certification_id"].startswith("PUB-") for c in added)

    set_aside = read_csv(quarantine)
    assert [int(r["row"]) for r in set_aside] == [5, 6, 7, 8, 9, 10]
    problems = {int(p["row"]): p for p in read_csv(report) if p["severity"] == "quarantined"}
    per_row = [int(p["row"]) for p in read_csv(report) if p["severity"] == "quarantined"]
    assert sorted(per_row) == [5, 6, 7, 8, 9, 10]  # one problem each: the one that matters
    assert set(problems) == {5, 6, 7, 8, 9, 10}
    assert "names several countries (BR, DE)" in problems[5]["message"]
    assert problems[6]["rule"] == "one value per cell" and "'PS + CoC'" in problems[6]["message"]
    assert "names more than one date (2018, 2019)" in problems[7]["message"]
    assert problems[8]["value"] == "not stated" and "use one of PS-2014" in problems[8]["message"]
    assert "did you mean 'Copperwick Juruti Mine'" in problems[9]["message"]
    assert problems[10]["column"] == "certification_type" and "cannot be derived" in problems[10]["message"]


def test_without_keep_valid_the_messy_list_changes_nothing(demo_dir, tmp_path):
    path = write_csv(tmp_path / "asi-certified-entities.csv", _public_list(demo_dir))
    before = current_id(demo_dir)
    assert run_cli([path], demo_dir, dry_run=False) == 1
    assert current_id(demo_dir) == before


def test_profiles_are_detected_from_headers_and_unknown_ones_are_named(demo_dir, tmp_path, capsys):
    assert {p.name for p in profiles.detect(["Entity", "standard", "CERTIFICATE ISSUED", "Country"])} == {
        "public-certifications"}
    assert profiles.detect(["member_id", "name"]) == []
    path = write_csv(tmp_path / "x.csv", [{"Entity": "x"}])
    assert run_cli([path], demo_dir, dry_run=True, profile="no-such-profile") == 2
    assert "public-certifications" in capsys.readouterr().err


def test_every_profile_names_a_table_and_contract_columns():
    found = profiles.profiles()
    assert set(found) == {"public-certifications", "elemental-certifications", "elemental-coc-reports",
                          "insightly-organisations", "educational-training"}
    for profile in found.values():
        contract = set(TABLES[profile.table].columns)
        helpers = {h for lookup in profile.lookups.values() for h in lookup.match.values()}
        assert set(profile.columns) <= contract | helpers, profile.name


def test_insightly_organisations_with_labels_names_and_year_dates(demo_dir, tmp_path):
    path = write_csv(tmp_path / "Organisations_Export.csv", [
        {"Organisation ID": "M-NEW-1", "Organisation Name": "Fjordal Metals", "Membership Class": "Civil Society",
         "Billing Country": "Norway", "Membership Start": "2019", "Membership End": ""},
    ])
    assert run_cli([path], demo_dir, dry_run=False) == 0
    member = demo_table(demo_dir, "members").to_pylist()[-1]
    assert (member["membership_class"], member["country"], str(member["joined_on"]), member["joined_on_precision"]) \
        == ("civil_society", "NO", "2019-01-01", "year")
    assert current_manifest(demo_dir).tables["members"]["sources"] == ["Organisations_Export.csv", "demo"]


# --------------------------------------------------------------------------- templates


def test_a_filled_template_ingests_and_offers_the_allowed_codes(demo_dir, tmp_path):
    path = tmp_path / "governance_meetings.xlsx"
    path.write_bytes(template_bytes("governance_meetings"))
    book = openpyxl.load_workbook(path)
    sheet = book["governance_meetings"]
    assert [c.value for c in sheet[1]] == TABLES["governance_meetings"].columns
    assert sheet["B2"].value.startswith("ⓘ board, standards_committee or ipaf")
    validation = sheet.data_validations.dataValidation[0]
    lists = book["allowed values"]
    assert lists.sheet_state == "hidden"
    assert [lists.cell(row=i, column=1).value for i in range(2, 5)] == ["board", "standards_committee", "ipaf"]
    assert "B3" in validation.sqref
    sheet.append(["G-T1", "Standards Committee", "2026-10-05", "Melbourne"])
    book.save(path)

    assert run_cli([path], demo_dir, dry_run=False) == 0
    last = demo_table(demo_dir, "governance_meetings").to_pylist()[-1]
    assert (last["meeting_id"], last["body"]) == ("G-T1", "standards_committee")
