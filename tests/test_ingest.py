"""Ingest of exports: every rule names file, row, column, value and rule; nothing is lost on failure."""

from __future__ import annotations

import csv
import hashlib
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import LOG, current_id, current_manifest, read_log
from asi_me.data.store import Store
from asi_me.ingest.pipeline import LOCK, run_cli
from asi_me.ingest.validate import validate_tables

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "ingest_valid"
LIST_COLUMNS = {
    ("facilities", "activities"),
    ("certifications", "external_certifications"),
    ("certifications", "derived_columns"),
    ("auditing_firms", "countries"),
    ("evidence", "toc_node_ids"),
}


# --------------------------------------------------------------------------- helpers


def fingerprint(data_dir: Path) -> dict[str, str]:
    """sha256 of every file of the data folder (CURRENT and all snapshots), except the run log and the empty lock."""
    return {
        str(path.relative_to(data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data_dir.rglob("*"))
        if path.is_file() and path.name not in {LOG, LOCK}
    }


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> None:
    columns = columns or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Change one cell; `row` is the row number a person sees (the header is row 1)."""
    rows = read_rows(path)
    assert column in rows[0]
    rows[row - 2][column] = value
    write_rows(path, rows)


def report_rows(path: Path) -> list[dict[str, str]]:
    return read_rows(path)


@pytest.fixture(autouse=True)
def _default_settings(monkeypatch):
    monkeypatch.delenv("ASI_MASS_BALANCE", raising=False)
    monkeypatch.delenv("ASI_INGEST_TEST_PAUSE", raising=False)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """A data folder whose current snapshot is the valid fixture exports."""
    data_dir = tmp_path_factory.mktemp("baseline") / "data"
    assert run_cli([FIXTURES], data_dir, dry_run=False) == 0
    return data_dir


@pytest.fixture
def data_dir(tmp_path, baseline) -> Path:
    target = tmp_path / "data"
    shutil.copytree(baseline, target)
    return target


@pytest.fixture
def exports(tmp_path) -> Path:
    target = tmp_path / "exports"
    shutil.copytree(FIXTURES, target)
    return target


def run(
    paths: list[Path], data_dir: Path, tmp_path: Path, *, dry_run: bool = False, **options
) -> tuple[int, list[dict]]:
    report = tmp_path / "report.csv"
    code = run_cli(paths, data_dir, dry_run=dry_run, report=report, **options)
    return code, report_rows(report)


# --------------------------------------------------------------------------- one bad cell per rule


def _drop_column(folder: Path) -> None:
    """An update may leave a column out (kept rows keep their value), but a new row then lacks it."""
    rows = read_rows(folder / "governance_meetings.csv")
    rows.append({"meeting_id": "G009", "location": "virtual", "body": "board"})
    write_rows(folder / "governance_meetings.csv", rows, ["meeting_id", "location", "body"])


def _add_column(folder: Path) -> None:
    rows = read_rows(folder / "members.csv")
    for row in rows:
        row["notes"] = "x"
    write_rows(folder / "members.csv", rows)


def _add_unknown_file(folder: Path) -> None:
    shutil.copy(folder / "members.csv", folder / "member.csv")


# (what to spoil, expected (file, row, column, value, rule)); row "" means the column/file, not a row.
BAD_CELLS = {
    "type (date)": (
        ("members.csv", 3, "joined_on", "15/03/2016"), ("members.csv", "3", "joined_on", "15/03/2016", "type")
    ),
    "type (integer)": (("facilities.csv", 3, "workers", "12.5"), ("facilities.csv", "3", "workers", "12.5", "type")),
    "type (boolean)": (
        ("audit_findings.csv", 2, "is_closed_at_next_audit", "maybe"),
        ("audit_findings.csv", "2", "is_closed_at_next_audit", "maybe", "type"),
    ),
    "vocabulary": (
        ("certifications.csv", 2, "standard_version", "PS-2019"),
        ("certifications.csv", "2", "standard_version", "PS-2019", "vocabulary"),
    ),
    "vocabulary in a list": (
        ("facilities.csv", 4, "activities", "primary_production;anodising"),
        ("facilities.csv", "4", "activities", "anodising", "vocabulary"),
    ),
    "range": (("facilities.csv", 2, "workers", "-5"), ("facilities.csv", "2", "workers", "-5", "range")),
    "pattern": (
        ("audit_findings.csv", 3, "criterion", "9-2"), ("audit_findings.csv", "3", "criterion", "9-2", "pattern")
    ),
    "required": (("members.csv", 2, "name", ""), ("members.csv", "2", "name", "", "required")),
    "required list": (
        ("auditing_firms.csv", 3, "countries", ""), ("auditing_firms.csv", "3", "countries", "", "required")
    ),
    "length": (("toc_nodes.csv", 2, "label", "x" * 2001), ("toc_nodes.csv", "2", "label", "x" * 2001, "length")),
    "uniqueness": (
        ("governance_meetings.csv", 3, "meeting_id", "G001"),
        ("governance_meetings.csv", "3", "meeting_id", "G001", "unique key"),
    ),
    "reference": (
        ("certifications.csv", 3, "facility_id", "F999"),
        ("certifications.csv", "3", "facility_id", "F999", "reference"),
    ),
    "list reference": (
        ("evidence.csv", 2, "toc_node_ids", "ST1;O9"),
        ("evidence.csv", "2", "toc_node_ids", "O9", "list reference"),
    ),
    "country code": (("members.csv", 2, "country", "XX"), ("members.csv", "2", "country", "XX", "country code")),
    "country code in a list": (
        ("auditing_firms.csv", 2, "countries", "AU;ZZ"),
        ("auditing_firms.csv", "2", "countries", "ZZ", "country code"),
    ),
    "version of standard": (
        ("certifications.csv", 4, "standard", "CoC"),
        ("certifications.csv", "4", "standard_version", "PS-2022", "version of standard"),
    ),
    "date order (certificate)": (
        ("certifications.csv", 2, "expires_on", "2019-03-01"),
        ("certifications.csv", "2", "expires_on", "2019-03-01", "date order"),
    ),
    "date order (membership)": (
        ("members.csv", 4, "left_on", "2016-12-31"),
        ("members.csv", "4", "left_on", "2016-12-31", "date order"),
    ),
    "coordinates pair": (
        ("facilities.csv", 2, "longitude", ""),
        ("facilities.csv", "2", "longitude", "", "coordinates pair"),
    ),
    "criterion in principle": (
        ("audit_findings.csv", 5, "criterion", "10.1"),
        ("audit_findings.csv", "5", "criterion", "10.1", "criterion in principle"),
    ),
    "CoC stage and material": (
        ("coc_reports.csv", 4, "material", "asi_bauxite"),
        ("coc_reports.csv", "4", "material", "asi_bauxite", "CoC stage and material"),
    ),
    "mass balance": (
        ("coc_reports.csv", 3, "output_t", "470000"),
        ("coc_reports.csv", "3", "output_t", "470000", "mass balance"),
    ),
    "missing column (new row)": (_drop_column, ("governance_meetings.csv", "5", "held_on", "", "required")),
    "unexpected column": (_add_column, ("members.csv", "1", "notes", "notes", "unexpected column")),
    "unknown table": (_add_unknown_file, ("member.csv", "", "", "member", "unknown table")),
}


@pytest.mark.parametrize("case", list(BAD_CELLS))
def test_one_bad_cell_fails_names_it_and_changes_nothing(case, exports, data_dir, tmp_path, capsys):
    spoil, expected = BAD_CELLS[case]
    if callable(spoil):
        spoil(exports)
    else:
        set_cell(exports / spoil[0], spoil[1], spoil[2], spoil[3])
    before = fingerprint(data_dir)

    code, problems = run([exports], data_dir, tmp_path)

    assert code == 1
    found = [(p["file"], p["row"], p["column"], p["value"], p["rule"]) for p in problems]
    assert found == [expected]
    assert fingerprint(data_dir) == before
    printed = capsys.readouterr().out
    assert problems[0]["message"] in printed
    file, row, _, _, rule = expected
    assert f"{file} row {row}" in printed if row else f"{file}" in printed
    assert f"(rule: {rule}" in printed
    assert "Nothing was changed" in printed


def test_vocabulary_message_reads_as_a_sentence(exports, data_dir, tmp_path, capsys):
    rows = read_rows(exports / "certifications.csv")
    rows = rows + [dict(rows[0], certification_id=f"C1{i:02d}") for i in range(11)]
    rows[12]["standard_version"] = "PS-2019"
    write_rows(exports / "certifications.csv", rows)

    code, problems = run([exports / "certifications.csv"], data_dir, tmp_path)

    assert code == 1
    assert [p["message"] for p in problems] == [
        "certifications.csv row 14, column standard_version: value 'PS-2019' is not allowed "
        "(rule: vocabulary StandardVersion); did you mean PS-2014 ('PS V1 (2014)'), PS-2017 ('PS V2 (2017)') or "
        "PS-2022 ('PS V3 (2022)')? Otherwise use one of PS-2014, PS-2017, PS-2022, CoC-2017, CoC-2022 (the codes, "
        "or their labels in the data dictionary, in any case)."
    ]


def test_every_problem_in_every_file_is_reported_at_once(exports, data_dir, tmp_path):
    set_cell(exports / "members.csv", 2, "country", "XX")
    set_cell(exports / "members.csv", 3, "membership_class", "friends")
    set_cell(exports / "coc_reports.csv", 5, "input_t", "lots")
    set_cell(exports / "toc_nodes.csv", 3, "node_type", "goal")

    code, problems = run([exports], data_dir, tmp_path)

    assert code == 1
    assert {(p["file"], p["row"], p["column"], p["rule"]) for p in problems} == {
        ("members.csv", "2", "country", "country code"),
        ("members.csv", "3", "membership_class", "vocabulary"),
        ("coc_reports.csv", "5", "input_t", "type"),
        ("toc_nodes.csv", "3", "node_type", "vocabulary"),
    }


def test_reference_into_a_kept_table_is_checked(exports, data_dir, tmp_path):
    """Replacing members with a list without M002 breaks the current snapshot's facility F004 (row 4)."""
    rows = [r for r in read_rows(exports / "members.csv") if r["member_id"] != "M002"]
    write_rows(exports / "members.csv", rows)
    before = fingerprint(data_dir)

    code, problems = run([exports / "members.csv"], data_dir, tmp_path, replace=["members"])

    assert code == 1
    snapshot = current_id(data_dir)
    assert [(p["file"], p["row"], p["column"], p["value"], p["rule"]) for p in problems] == [
        (f"facilities.parquet (current snapshot {snapshot})", "4", "member_id", "M002", "reference")
    ]
    assert fingerprint(data_dir) == before


def test_ragged_row_is_reported_with_its_row(exports, data_dir, tmp_path):
    text = (exports / "governance_meetings.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    lines.insert(2, "G009,board")  # row 3 has 2 cells instead of 4
    lines.insert(1, "")  # a blank line still counts as a row in a spreadsheet
    (exports / "governance_meetings.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    code, problems = run([exports / "governance_meetings.csv"], data_dir, tmp_path)

    assert code == 1
    assert [(p["file"], p["row"], p["rule"]) for p in problems] == [("governance_meetings.csv", "4", "cells per row")]


def test_mass_balance_can_be_a_warning(exports, data_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASI_MASS_BALANCE", "warn")
    set_cell(exports / "coc_reports.csv", 3, "output_t", "470000")
    previous = current_id(data_dir)

    code, problems = run([exports / "coc_reports.csv"], data_dir, tmp_path)

    assert code == 0
    assert [(p["severity"], p["row"], p["rule"]) for p in problems] == [("warning", "3", "mass balance")]
    assert current_id(data_dir) != previous
    store = Store.open_current(data_dir)
    assert store.query("select max(output_t) as t from coc_reports where facility_id = 'F002'").t[0] == 470000
    assert "1 warning" in capsys.readouterr().out


def test_printed_problems_are_capped_but_the_report_has_all(exports, data_dir, tmp_path, capsys):
    rows = [
        {"indicator_code": "UP-01", "period_on": f"{2000 + i // 12}-{i % 12 + 1:02d}-01", "dimension": "total",
         "dimension_value": "all", "value": str(i), "status": "draft"}
        for i in range(250)
    ]
    write_rows(exports / "indicator_observations.csv", rows)

    code, problems = run([exports / "indicator_observations.csv"], data_dir, tmp_path)

    assert code == 1
    assert len(problems) == 250
    printed = capsys.readouterr().out
    assert printed.count("(rule: vocabulary ObservationStatus)") == 200
    assert "... and 50 more problems not shown" in printed
    assert "vocabulary: 250 errors" in printed


# --------------------------------------------------------------------------- unreadable input


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("members.csv", "member_id,name\n".encode("utf-16"), "not UTF-8"),
        ("members.xlsx", b"not a workbook", "cannot be opened as an Excel workbook"),
        ("members.parquet", b"PAR1 broken", "cannot be read as Parquet"),
        ("members.txt", b"member_id\n", "not a CSV, XLSX or Parquet file"),
        ("members.csv", b"", "has no header row"),
        ("members.csv", b"member_id;name;country\nM001;Alpha;AU\n", "separates its columns with ';'"),
    ],
)
def test_unreadable_input_exits_2_and_changes_nothing(name, content, fragment, data_dir, tmp_path, capsys):
    path = tmp_path / name
    path.write_bytes(content)
    before = fingerprint(data_dir)

    assert run_cli([path], data_dir, dry_run=False) == 2

    assert fragment in capsys.readouterr().err
    assert fingerprint(data_dir) == before
    assert read_log(data_dir)[-1]["ok"] is False


def test_missing_path_exits_2(data_dir, tmp_path, capsys):
    assert run_cli([tmp_path / "nowhere.csv"], data_dir, dry_run=True) == 2
    assert "does not exist" in capsys.readouterr().err


# --------------------------------------------------------------------------- valid ingests


def test_valid_csv_export_becomes_current_and_store_reads_it(baseline):
    store = Store.open_current(baseline)
    assert store.query("select count(*) as n from members").n[0] == 3
    facility = store.query("select * from facilities where facility_id = 'F003'").iloc[0]
    assert list(facility["activities"]) == ["primary_production", "casthouse"]
    no_coordinates = store.query("select facility_id from facilities where latitude is null")
    assert list(no_coordinates.facility_id) == ["F004"]
    cert = store.query("select * from certifications where certification_id = 'C001'").iloc[0]
    assert list(cert["external_certifications"]) == ["ISO 14001", "ISO 45001"]
    assert str(cert["expires_on"])[:10] == "2022-03-01"
    c002 = store.query("select scope, external_certifications from certifications where certification_id = 'C002'")
    assert c002.scope[0] == "Smelting and casting, Alpha Smelter"
    assert list(c002.external_certifications[0]) == []
    manifest = current_manifest(baseline)
    assert manifest.tables["members"]["sources"] == ["members.csv"]
    assert manifest.tables["members"]["rows"] == 3


def test_identical_reingest_changes_nothing(data_dir, tmp_path, capsys):
    before = fingerprint(data_dir)

    code, problems = run([FIXTURES], data_dir, tmp_path)

    assert (code, problems) == (0, [])
    assert fingerprint(data_dir) == before
    assert "identical to the current snapshot" in capsys.readouterr().out
    assert read_log(data_dir)[-1]["changed"] is False


def test_partial_ingest_keeps_the_other_tables(exports, data_dir, tmp_path):
    rows = read_rows(exports / "members.csv")
    rows.append(dict(rows[0], member_id="M004", name="Delta Metals", country="NO", joined_on="2021-11-01"))
    write_rows(exports / "members.csv", rows)
    old = current_manifest(data_dir)

    code, _ = run([exports / "members.csv"], data_dir, tmp_path)

    assert code == 0
    new = current_manifest(data_dir)
    assert new.snapshot_id != old.snapshot_id
    assert new.tables["members"]["rows"] == 4
    for name in TABLES:
        if name != "members":
            assert new.tables[name]["rows"] == old.tables[name]["rows"]
            assert new.tables[name]["sources"] == old.tables[name]["sources"]
    store = Store.open_current(data_dir)
    assert store.query("select name from members where member_id = 'M004'").name[0] == "Delta Metals"
    assert store.query("select count(*) as n from coc_reports").n[0] == 4


def test_validate_never_changes_anything(exports, data_dir, tmp_path, capsys):
    set_cell(exports / "members.csv", 2, "name", "Alpha Aluminium plc")
    before = fingerprint(data_dir)

    code, _ = run([exports], data_dir, tmp_path, dry_run=True)

    assert code == 0
    assert fingerprint(data_dir) == before
    assert "Dry run: nothing was changed" in capsys.readouterr().out


def test_xlsx_workbook_with_sheets_named_after_tables(data_dir, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "members"
    sheet.append(["member_id", "name", "membership_class", "country", "joined_on", "left_on"])
    for row in read_rows(FIXTURES / "members.csv"):
        sheet.append([row["member_id"], row["name"], row["membership_class"], row["country"],
                      datetime.fromisoformat(row["joined_on"]), row["left_on"] or None])
    sheet.append([])  # a blank row between records: later rows keep their sheet row numbers
    sheet.append(["M004", "Delta Metals", "general_supporters", "NO", datetime(2021, 11, 1), None])
    firms = workbook.create_sheet("auditing_firms")
    firms.append(["auditing_firm_id", "name", "accredited_on", "accreditation_ended_on", "countries"])
    firms.append(["AF01", "North Assurance Services", datetime(2016, 5, 1), None, "AU;DE;BR;NO"])
    firms.append(["AF02", "South Audit Partners", datetime(2017, 2, 1), None, "DE"])
    path = tmp_path / "crm_export.xlsx"
    workbook.save(path)

    code, problems = run([path], data_dir, tmp_path)

    assert (code, problems) == (0, [])
    store = Store.open_current(data_dir)
    joined = store.query("select joined_on::varchar as d from members where member_id = 'M004'").d[0]
    assert joined == "2021-11-01"
    assert list(store.query("select countries from auditing_firms where auditing_firm_id = 'AF01'").countries[0]) == [
        "AU", "DE", "BR", "NO",
    ]
    # The members table now holds rows of both files (an update keeps the earlier rows).
    assert current_manifest(data_dir).tables["members"]["sources"] == ["crm_export.xlsx sheet members", "members.csv"]

    firms["C3"] = "soon"
    sheet["D6"] = "Atlantis"
    workbook.save(path)
    before = fingerprint(data_dir)
    code, problems = run([path], data_dir, tmp_path)
    assert code == 1
    assert [(p["file"], p["row"], p["column"], p["value"], p["rule"]) for p in problems] == [
        ("crm_export.xlsx sheet members", "6", "country", "Atlantis", "country code"),
        ("crm_export.xlsx sheet auditing_firms", "3", "accredited_on", "soon", "type"),
    ]
    assert fingerprint(data_dir) == before


def test_xlsx_single_sheet_takes_the_file_name(data_dir, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active  # Excel's default name, "Sheet"
    sheet.append(["meeting_id", "body", "held_on", "location"])
    sheet.append(["G010", "board", datetime(2022, 6, 1), "Zürich"])
    path = tmp_path / "governance_meetings.xlsx"
    workbook.save(path)

    assert run([path], data_dir, tmp_path) == (0, [])
    store = Store.open_current(data_dir)
    # An update: the new meeting is added after the three kept ones.
    ids = list(store.query("select meeting_id from governance_meetings").meeting_id)
    assert ids == ["G001", "G002", "G003", "G010"]
    assert store.query("select location from governance_meetings where meeting_id = 'G010'").location[0] == "Zürich"


def test_unknown_sheet_is_named_with_the_table_names(data_dir, tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "members"
    workbook.active.append(["member_id"])
    notes = workbook.create_sheet("notes")
    notes.append(["anything"])
    path = tmp_path / "export.xlsx"
    workbook.save(path)

    code, problems = run([path], data_dir, tmp_path)

    assert code == 1
    unknown = [p for p in problems if p["rule"] == "unknown table"]
    assert [(p["file"], p["value"]) for p in unknown] == [("export.xlsx sheet notes", "notes")]
    assert "members, facilities, certifications" in unknown[0]["message"]


def test_parquet_export_with_typed_columns(data_dir, tmp_path):
    table = pa.table(
        {
            "auditing_firm_id": ["AF01", "AF02", "AF03"],
            "name": ["North Assurance Services", "South Audit Partners", "East Verification"],
            "accredited_on": pa.array([date(2016, 5, 1), date(2017, 2, 1), date(2023, 1, 9)], pa.date32()),
            "accreditation_ended_on": pa.array([None, None, None], pa.date32()),
            "countries": [["AU", "DE", "BR"], ["DE"], ["ZA", "GN"]],
        }
    )
    path = tmp_path / "auditing_firms.parquet"
    pq.write_table(table, path)

    assert run([path], data_dir, tmp_path) == (0, [])
    store = Store.open_current(data_dir)
    assert list(store.query("select countries from auditing_firms where auditing_firm_id = 'AF03'").countries[0]) == [
        "ZA", "GN",
    ]

    bad = table.set_column(4, "countries", pa.array([["AU"], [], ["ZA"]]))
    pq.write_table(bad, path)
    code, problems = run([path], data_dir, tmp_path)
    assert code == 1
    assert [(p["file"], p["row"], p["column"], p["rule"]) for p in problems] == [
        ("auditing_firms.parquet", "2", "countries", "required")
    ]


def test_log_records_every_run(exports, data_dir, tmp_path):
    set_cell(exports / "members.csv", 2, "country", "XX")
    run([exports / "members.csv"], data_dir, tmp_path, dry_run=True)
    run([exports / "members.csv"], data_dir, tmp_path)
    set_cell(exports / "members.csv", 2, "country", "GB")
    run([exports / "members.csv"], data_dir, tmp_path)

    log = read_log(data_dir)[-3:]
    assert [(e["command"], e["ok"], e["errors"]) for e in log] == [
        ("validate", False, 1), ("ingest", False, 1), ("ingest", True, 0),
    ]
    assert log[0]["problems"] == {"country code": 1}
    assert log[2]["files"] == ["members.csv"]
    assert log[2]["rows"] == {"members": 3}
    assert log[2]["snapshot_id"] == current_id(data_dir)
    assert log[1]["snapshot_id"] == log[0]["snapshot_id"] != log[2]["snapshot_id"]


# --------------------------------------------------------------------------- the demo snapshot


def test_demo_snapshot_passes_every_rule_but_its_one_seeded_mass_balance_failure():
    data = REPO / "data"
    if current_id(data) is None:
        pytest.skip("the demo snapshot has not been generated")
    folder = data / "snapshots" / current_id(data)
    tables = {name: pq.read_table(folder / f"{name}.parquet").to_pandas() for name in TABLES}

    problems = validate_tables(tables, {name: f"{name}.parquet" for name in TABLES})

    assert [(p.file, p.column, p.rule) for p in problems] == [("coc_reports.parquet", "output_t", "mass balance")]
    assert len(validate_tables(tables, mass_balance="warn")) == 1
    assert validate_tables(tables, mass_balance="warn")[0].severity == "warning"


def test_demo_exported_as_csv_reingests_to_the_identical_snapshot(tmp_path, monkeypatch, capsys):
    """CSV round trip loses nothing: same values, same Parquet bytes, same snapshot id."""
    demo = REPO / "data"
    if current_id(demo) is None:
        pytest.skip("the demo snapshot has not been generated")
    data_dir = tmp_path / "data"
    shutil.copytree(demo, data_dir, ignore=shutil.ignore_patterns(LOG, ".staging-*"))
    folder = data_dir / "snapshots" / current_id(data_dir)
    exports = tmp_path / "exports"
    exports.mkdir()
    for name in TABLES:
        frame = pq.read_table(folder / f"{name}.parquet").to_pandas()
        for column in frame.columns:
            if (name, column) in LIST_COLUMNS:
                frame[column] = frame[column].map(";".join)
        frame.to_csv(exports / f"{name}.csv", index=False)
    monkeypatch.setenv("ASI_MASS_BALANCE", "warn")
    before = fingerprint(data_dir)

    code, problems = run([exports], data_dir, tmp_path)

    assert code == 0
    assert [p["rule"] for p in problems] == ["mass balance"]
    assert fingerprint(data_dir) == before
    assert "identical to the current snapshot" in capsys.readouterr().out


def test_common_spreadsheet_forms_are_read_as_their_values():
    members = pd.DataFrame(
        {
            "member_id": [" M001 ", "M002"],
            "name": ["Alpha", "Beta"],
            "membership_class": ["civil_society", "associations"],
            "country": ["DE", "NO"],
            "joined_on": ["2016-01-04", "2021-03-14 00:00:00"],
            "left_on": ["  ", None],
        }
    )
    facilities = pd.DataFrame(
        {
            "facility_id": ["F1", "F2"],
            "member_id": ["M001", "M002"],
            "name": ["One", "Two"],
            "country": ["DE", "NO"],
            "latitude": ["52.5", None],
            "longitude": ["13.4", None],
            "activities": ["casthouse; semi_fabrication;", "sale_of_products"],
            "workers": ["+12", "40.0"],
        }
    )
    findings = pd.DataFrame(
        {"audit_id": ["A1", "A1"], "principle": ["5", "9"], "criterion": ["5.1", "9.2a"],
         "rating": ["minor_nc", "conformance"], "is_closed_at_next_audit": ["TRUE", "no"]}
    )

    problems = validate_tables({"members": members, "facilities": facilities, "audit_findings": findings})

    # Only the audit is unknown (no audits table given): every spreadsheet form above is accepted.
    assert [(p.file, p.row, p.column, p.value, p.rule) for p in problems] == [
        ("audit_findings (in memory)", 1, "audit_id", "A1", "reference"),
        ("audit_findings (in memory)", 2, "audit_id", "A1", "reference"),
    ]
    assert problems[0].message == (
        "audit_findings (in memory) row 1, column audit_id: value 'A1' matches no audit_id in audits "
        "(no audits were supplied or are in the current snapshot) (rule: reference audits.audit_id); "
        "add it to audits or correct audit_id."
    )


def test_a_missing_key_column_is_reported_once_not_per_referencing_row(exports, data_dir, tmp_path):
    rows = read_rows(exports / "members.csv")
    write_rows(exports / "members.csv", rows, ["name", "membership_class", "country", "joined_on", "left_on"])

    code, problems = run([exports / "members.csv"], data_dir, tmp_path)

    assert code == 1
    assert [(p["file"], p["column"], p["rule"]) for p in problems] == [("members.csv", "member_id", "missing column")]


def test_a_snapshot_written_before_a_new_optional_column_can_still_be_extended(exports, data_dir, tmp_path):
    folder = data_dir / "snapshots" / current_id(data_dir)
    recorded = current_manifest(data_dir).tables["governance_meetings"]["sha256"]
    old = pq.read_table(folder / "governance_meetings.parquet").drop_columns(["location"])
    pq.write_table(old, folder / "governance_meetings.parquet")
    # An older version wrote the file and its manifest together: record the file's hash as it would have.
    manifest = folder / "manifest.json"
    sha = hashlib.sha256((folder / "governance_meetings.parquet").read_bytes()).hexdigest()
    manifest.write_text(manifest.read_text().replace(recorded, sha))

    code, problems = run([exports / "members.csv"], data_dir, tmp_path)

    assert (code, problems) == (0, [])
    store = Store.open_current(data_dir)
    assert store.query("select count(*) as n from governance_meetings where location is null").n[0] == 3
