"""Catalogue and downloads: who may download what, member-scoped rows, the Excel workbook
and the zip with its README; plus the member firewall across the query modules."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import openpyxl
import pandas as pd
import pytest
from conftest import auditing_firm, certification, facility, make_store, member

from asi_me.data.snapshot import append_log
from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.publish import exports
from asi_me.queries import catalogue, certifications, outcomes
from asi_me.queries.catalogue import data_dir_of

PUBLIC = Viewer.public()
SECRETARIAT = Viewer.secretariat()
M1 = Viewer.member("M1")


@pytest.fixture
def store(tmp_path) -> Store:
    return make_store(
        tmp_path,
        members=[member("M1", name="=HYPERLINK(\"http://x\")"), member("M2")],
        facilities=[facility("F1", "M1"), facility("F2", "M2", latitude=None, longitude=None),
                    facility("F3", "M2", activities=["primary_production"])],
        certifications=[certification("C1", "F1", external_certifications=["ISO 14001", "ISO 45001"]),
                        certification("C2", "F2"), certification("C3", "F3", standard="PS",
                                                                 standard_version="PS-2017")],
        auditing_firms=[auditing_firm()],
        audits=[{"audit_id": "A1", "certification_id": "C1", "audit_type": "initial",
                 "audited_on": date(2018, 12, 1), "auditing_firm_id": "AF1"},
                {"audit_id": "A2", "certification_id": "C2", "audit_type": "initial",
                 "audited_on": date(2018, 12, 1), "auditing_firm_id": "AF1"},
                {"audit_id": "A3", "certification_id": "C3", "audit_type": "initial",
                 "audited_on": date(2018, 12, 1), "auditing_firm_id": "AF1"}],
        audit_findings=[{"audit_id": "A1", "principle": 1, "criterion": "1.1", "rating": "minor_nc",
                         "is_closed_at_next_audit": True},
                        {"audit_id": "A2", "principle": 2, "criterion": "2.1", "rating": "major_nc",
                         "is_closed_at_next_audit": False},
                        {"audit_id": "A3", "principle": 5, "criterion": "5.1", "rating": "minor_nc",
                         "is_closed_at_next_audit": True}],
        smelter_emissions=[{"facility_id": "F3", "year": 2019, "ghg_intensity_t_per_t": 9.0, "source": "CRU"}],
        governance_meetings=[{"meeting_id": "B1", "body": "board", "held_on": date(2016, 2, 1), "location": None}],
    )


def test_catalogue_rows_version_and_download_rights(store):
    public = catalogue.table_catalogue(store, PUBLIC).set_index("name")
    assert public.loc["members", "rows"] == 2
    assert public.loc["certifications", "rows"] == 3
    assert set(public["data_version"]) == {store.snapshot_id}
    assert not public.loc["members", "is_downloadable"]
    assert public.loc["governance_meetings", "is_downloadable"]
    assert public.loc["certification_register", "kind"] == "published aggregate"
    assert public.loc["certification_register", "is_downloadable"]
    member_view = catalogue.table_catalogue(store, M1).set_index("name")
    assert member_view.loc["certifications", "download_scope"] == "your company's rows"
    assert not member_view.loc["training_records", "is_downloadable"]
    assert catalogue.table_catalogue(store, SECRETARIAT)["is_downloadable"].all()


def test_catalogue_reads_last_ingest_and_sources_from_the_log(store):
    data_dir = data_dir_of(store)
    append_log(data_dir, {"command": "validate", "ok": True, "rows": {"members": 2}, "files": ["dry.csv"]})
    append_log(data_dir, {"command": "ingest", "ok": True, "rows": {"members": 2}, "files": ["crm_members.csv"]})
    append_log(data_dir, {"command": "ingest", "ok": False, "rows": {"members": 2}, "files": ["broken.csv"]})
    frame = catalogue.table_catalogue(store, SECRETARIAT).set_index("name")
    assert frame.loc["members", "source_files"] == "crm_members.csv"
    assert frame.loc["members", "last_ingest_at"] is not None
    assert pd.isna(frame.loc["facilities", "last_ingest_at"])


def test_downloads_respect_roles_and_member_scope(store):
    with pytest.raises(PermissionError, match="'members' is not public"):
        catalogue.table_for_download(store, PUBLIC, "members")
    with pytest.raises(KeyError, match="no table or published aggregate named 'passwords'"):
        catalogue.table_for_download(store, PUBLIC, "passwords")
    assert len(catalogue.table_for_download(store, PUBLIC, "governance_meetings")) == 1
    assert catalogue.table_for_download(store, M1, "members")["member_id"].tolist() == ["M1"]
    assert catalogue.table_for_download(store, M1, "certifications")["certification_id"].tolist() == ["C1"]
    assert catalogue.table_for_download(store, M1, "audit_findings")["audit_id"].tolist() == ["A1"]
    assert catalogue.table_for_download(store, M1, "smelter_emissions").empty
    assert len(catalogue.table_for_download(store, SECRETARIAT, "audit_findings")) == 3
    register = catalogue.table_for_download(store, PUBLIC, "certification_register", Filters(as_of=date(2020, 1, 1)))
    assert sorted(register["certification_id"]) == ["C1", "C2", "C3"]


def test_excel_workbook_sheets_values_and_defused_formulas():
    frames = {
        "certifications/2020": pd.DataFrame({"id": ["C1"], "external": [["ISO 14001", "ISO 45001"]],
                                             "issued_on": [pd.Timestamp(2020, 1, 31)], "n": [3]}),
        "certifications:2020": pd.DataFrame({"name": ["=1+1", "plain"]}),
        "a" * 40: pd.DataFrame({"x": [1.5, None]}),
    }
    book = openpyxl.load_workbook(io.BytesIO(exports.excel_workbook(frames)))
    assert book.sheetnames == ["certifications_2020", "certifications_2020 (2)", "a" * 31]
    first = list(book["certifications_2020"].values)
    assert first[0] == ("id", "external", "issued_on", "n")
    assert first[1][:2] == ("C1", "ISO 14001;ISO 45001") and first[1][2].date() == date(2020, 1, 31)
    assert first[1][3] == 3
    assert [r[0] for r in book["certifications_2020 (2)"].values] == ["name", "'=1+1", "plain"]
    assert [r[0] for r in book["a" * 31].values][:2] == ["x", 1.5]
    assert book["certifications_2020"].freeze_panes == "A2"
    empty = openpyxl.load_workbook(io.BytesIO(exports.excel_workbook({})))
    assert empty.sheetnames == ["No data"]


def _zip(store: Store, viewer: Viewer) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(exports.download_zip(store, viewer, Filters(as_of=date(2020, 1, 1)))))


def test_public_zip_holds_public_tables_aggregates_and_readme(store):
    archive = _zip(store, PUBLIC)
    names = set(archive.namelist())
    assert "members.csv" not in names and "audit_findings.csv" not in names
    assert {"README.md", "governance_meetings.csv", "certification_register.csv", "outcomes_dashboard.csv"} <= names
    readme = archive.read("README.md").decode()
    assert store.snapshot_id in readme
    assert "Data as of: 2019-01-01" in readme  # latest issue date in the fixture
    assert "at least 5 member companies" in readme and "25%" in readme
    assert "suppressed (fewer than 5 reporters)" in readme
    assert f"Aluminium Stewardship Initiative (ASI), ASI M&E Explorer data, version {store.snapshot_id}" in readme
    assert "- `held_on`: Date held." in readme
    register = pd.read_csv(io.BytesIO(archive.read("certification_register.csv")))
    assert "ISO 14001;ISO 45001" in register["external_certifications"].tolist()
    # principle 5's only PS non-conformance comes from one company: hidden, never 0
    closure = pd.read_csv(io.BytesIO(archive.read("nc_closure_by_principle.csv"))).set_index("principle")
    assert closure.loc[5, "suppression_note"] == "suppressed (fewer than 5 reporters)"
    assert pd.isna(closure.loc[5, "nonconformances"])
    assert closure.loc[1, "nonconformances"] == 0  # C1's finding is from a CoC audit


def test_member_zip_holds_only_its_own_rows_and_defuses_formulas(store):
    archive = _zip(store, M1)
    members_csv = archive.read("members.csv").decode()
    assert "M2" not in members_csv
    assert "'=HYPERLINK" in members_csv  # a spreadsheet will not run it
    assert pd.read_csv(io.BytesIO(archive.read("audits.csv")))["audit_id"].tolist() == ["A1"]
    assert "training_records.csv" not in archive.namelist()
    secretariat = _zip(store, SECRETARIAT)
    assert len(pd.read_csv(io.BytesIO(secretariat.read("audits.csv")))) == 3


def test_member_never_sees_another_members_non_public_detail(store):
    on = Filters(as_of=date(2020, 1, 1))
    other = certifications.certification_detail(store, M1, "C2")
    assert other is not None and other.findings is None and other.findings_summary is None and other.workers is None
    own = certifications.certification_detail(store, M1, "C1")
    assert own.findings["rating"].tolist() == ["minor_nc"]
    assert certifications.facilities_without_coordinates(store, M1, on).names == []
    assert certifications.smelter_emissions(store, M1, on).smelters.empty
    assert certifications.smelter_emissions(store, Viewer.member("M2"), on).smelters["facility_id"].tolist() == ["F3"]
    closure = outcomes.nc_closure_by_principle(store, M1, on)
    assert closure.loc[closure["is_suppressed"], "principle"].tolist() == [5]  # M2's smelter only
    assert "nonconformances_by_company" not in closure.columns
    for name in ("members", "facilities", "certifications", "audits", "audit_findings", "coc_reports",
                 "smelter_emissions"):
        frame = catalogue.table_for_download(store, M1, name)
        if "member_id" in frame.columns:
            assert set(frame["member_id"]) <= {"M1"}
        if "facility_id" in frame.columns:
            assert set(frame["facility_id"]) <= {"F1"}


@pytest.mark.parametrize("role", ["public", "member", "secretariat"])
def test_every_query_runs_on_an_empty_snapshot(tmp_path, role):
    from conftest import call_query

    from asi_me.queries import toc

    store = make_store(tmp_path)
    viewer = Viewer.member("M1") if role == "member" else Viewer(role)
    values = {"certification_id": "C1", "node_id": "N1", "indicator_code": "I1", "name": "governance_meetings"}
    modules = (outcomes, certifications, toc, catalogue, exports)
    for fn in [fn for module in modules for fn in module.QUERY_FUNCTIONS]:
        call_query(fn, store, viewer, Filters(as_of=date(2020, 1, 1)), **values)
    tiles = outcomes.dashboard_tiles(store, viewer)
    assert tiles.tile("members").value == 0
    assert certifications.facility_points(store, viewer).empty
    assert toc.toc_graph(store, viewer).nodes.empty


def _sheet_text(book: openpyxl.Workbook, sheet: str) -> list[str]:
    return [str(row[0]) for row in book[sheet].values if row and row[0] is not None]


def test_workbook_leaves_out_a_table_longer_than_a_sheet_and_says_where_it_is(store, monkeypatch):
    # a sheet of 3 rows holds a header and 2 data rows: the 3 certifications do not fit, the 2 members do
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 3)
    book = openpyxl.load_workbook(io.BytesIO(exports.download_workbook(store, SECRETARIAT, Filters())))
    assert book.sheetnames[0] == "README"
    assert "certifications" not in book.sheetnames and "audit_findings" not in book.sheetnames
    assert [r[0] for r in book["members"].values] == ["member_id", "M1", "M2"]
    assert [r[0] for r in book["governance_meetings"].values] == ["meeting_id", "B1"]
    readme = _sheet_text(book, "README")
    assert "Left out of this workbook (too many rows for Excel):" in readme
    assert ("Certifications (certifications, 3 rows) is not in this workbook: an Excel sheet holds at most 3 rows "
            "including its header. The full table is certifications.csv in the zip of CSVs "
            "(\"Zip of CSVs with README\" on the Data screen).") in readme
    assert "members: Members, 2 rows" in readme
    # never cut short: every sheet that is there is whole, and the zip still has the full table
    assert all(book[s].max_row <= 3 for s in book.sheetnames[1:])
    archive = zipfile.ZipFile(io.BytesIO(exports.download_zip(store, SECRETARIAT, Filters())))
    certs = pd.read_csv(io.BytesIO(archive.read("certifications.csv")))
    assert certs["certification_id"].tolist() == ["C1", "C2", "C3"]


def test_workbook_readme_names_version_and_citation_and_nothing_is_left_out_when_it_fits(store):
    book = openpyxl.load_workbook(io.BytesIO(exports.download_workbook(store, PUBLIC, Filters(as_of=date(2020, 1, 1)))))
    readme = _sheet_text(book, "README")
    assert f"Data version (snapshot): {store.snapshot_id}" in readme
    assert "Data as of: 2019-01-01" in readme
    assert "Published aggregates computed as of: 2020-01-01" in readme
    assert any(line.startswith(f"How to cite: Aluminium Stewardship Initiative (ASI), ASI M&E Explorer data, "
                               f"version {store.snapshot_id}") for line in readme)
    assert not any("Left out" in line for line in readme)
    assert "members" not in book.sheetnames  # not public
    assert "governance_meetings: Governance meetings, 1 rows" in readme
    meetings = list(book["governance_meetings"].values)
    assert meetings[1][:2] == ("B1", "board") and meetings[1][2].date() == date(2016, 2, 1)
    assert book["governance_meetings"].freeze_panes == "A2"
    register = list(book["certification_register"].values)
    column = register[0].index("external_certifications")
    assert "ISO 14001;ISO 45001" in [row[column] for row in register[1:]]


def test_data_screen_note_names_the_tables_left_out_of_the_workbook(store, monkeypatch):
    assert exports.tables_left_out_of_workbook(store, PUBLIC) == []
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 3)
    # the public may not download certifications, so only its own tables are named
    assert exports.tables_left_out_of_workbook(store, PUBLIC) == []
    notes = exports.tables_left_out_of_workbook(store, SECRETARIAT)
    assert [n["name"] for n in notes] == ["facilities", "certifications", "audits", "audit_findings"]
    assert notes[1]["note"] == (
        "Certifications (certifications, 3 rows) is left out of the Excel workbook: an Excel sheet holds at most "
        "3 rows including its header. The full table is certifications.csv in the zip of CSVs "
        "(\"Zip of CSVs with README\" on the Data screen).")


def test_single_table_csv_is_what_the_zip_holds(store):
    archive = zipfile.ZipFile(io.BytesIO(exports.download_zip(store, M1, Filters())))
    assert exports.table_csv(store, M1, "certifications", Filters()) == archive.read("certifications.csv")
    csv = exports.table_csv(store, M1, "members").decode()
    assert csv.splitlines()[0] == ('"member_id","name","membership_class","country","joined_on","left_on",'
                                   '"joined_on_precision"')
    assert "'=HYPERLINK" in csv and "M2" not in csv
    with pytest.raises(PermissionError, match="'members' is not public"):
        exports.table_csv(store, PUBLIC, "members")
