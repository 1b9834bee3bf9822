"""Pure parts of the UI layer: display/CSV of suppressed cells, chart builders, role mapping, URL parsing."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd

from asi_me.filters import Viewer
from asi_me.ui import charts
from asi_me.ui.auth import is_demo, role_for_email
from asi_me.ui.filter_bar import parse_url
from asi_me.ui.palette import STATUS_STYLE
from asi_me.ui.tables import column_title, csv_bytes, display_frame
from asi_me.ui.widgets import format_change, format_value


def _cells() -> pd.DataFrame:
    return pd.DataFrame({
        "stage": ["bauxite_mining", "alumina_refining", "semi_fabrication"],
        "output_t": [1200.0, None, None],
        "reporters": [7, 3, 6],
        "is_suppressed": [False, True, True],
        "suppression_note": [None, "suppressed (fewer than 5 reporters)", "suppressed (one reporter above 25% share)"],
    })


def test_suppressed_cells_read_their_marking_never_zero_or_blank():
    shown = display_frame(_cells())
    assert list(shown.columns) == ["Stage", "Output (t)", "Reporters"]
    assert shown["Stage"].tolist() == ["Bauxite mining", "Alumina refining", "Semi-fabrication"]
    assert shown["Output (t)"].tolist() == [
        "1200", "suppressed (fewer than 5 reporters)", "suppressed (one reporter above 25% share)"
    ]
    csv = pd.read_csv(io.BytesIO(csv_bytes(shown)), encoding="utf-8-sig", dtype=str)
    assert csv["Output (t)"].tolist() == shown["Output (t)"].tolist()
    assert csv["Reporters"].tolist() == ["7", "3", "6"]  # published counts are kept


def test_a_suppressed_row_without_a_note_gets_the_configured_minimum():
    frame = _cells().drop(columns=["suppression_note"])
    shown = display_frame(frame, min_reporters=4)
    assert shown["Output (t)"].tolist()[1] == "suppressed (fewer than 4 reporters)"


def test_unsuppressed_frames_keep_their_numbers():
    frame = pd.DataFrame({"month_on": pd.to_datetime(["2020-01-31"]), "members": [12]})
    shown = display_frame(frame)
    assert shown["Month date"].tolist() == [date(2020, 1, 31)]  # a whole day reads 2020-01-31
    assert shown["Members"].tolist() == [12]


def test_column_titles_read_as_words():
    assert column_title("certificates_t") == "Certificates (t)"
    assert column_title("is_public") == "Public"
    assert column_title("ps_external_share") == "PS external share"


def test_changes_carry_arrows_and_signs():
    assert format_change(3) == "▲ +3"
    assert format_change(-2.0) == "▼ −2"
    assert format_change(0) == "► no change"
    assert format_change(0.25, percent=True) == "▲ +0.2 pp"
    assert format_change(None) is None
    assert format_value(189965.0) == "189,965"
    assert format_value(68.83, percent=True) == "68.8%"
    assert format_value(float("nan")) == "—"


def test_time_series_marks_version_changes_inside_the_period_only():
    frame = pd.DataFrame({
        "month_on": pd.date_range("2021-01-31", periods=24, freq="ME"),
        "certificates": range(24),
        "standard": ["PS"] * 24,
    })
    spec = charts.time_series(frame, x="month_on", y="certificates", series="standard",
                              version_marks=["PS"]).to_dict()
    rules = list(_layers_with_mark(spec, "rule"))
    assert len(rules) == 1
    rule_data = spec["datasets"][rules[0]]
    assert [row["text"] for row in rule_data] == ["PS V3"]  # 2017 is outside the period


def test_version_markers_come_from_the_vocabulary_and_stay_inside_the_dates():
    from asi_me.data.vocab import VERSION_EFFECTIVE_ON, StandardVersion

    every = charts.version_markers("2014-01-01", "2026-12-31")
    assert every["text"].tolist() == ["PS V1", "PS V2 · CoC V1", "PS V3 · CoC V2"]
    assert every["on"].tolist() == [pd.Timestamp(VERSION_EFFECTIVE_ON[v]) for v in (
        StandardVersion.PS_2014, StandardVersion.PS_2017, StandardVersion.PS_2022)]
    assert "figures either side are not comparable" in every["detail"].iloc[1].lower()
    assert charts.version_markers("2016-01-01", "2021-12-31", ["CoC"])["text"].tolist() == ["CoC V1"]
    assert charts.version_markers("2018-01-01", "2022-04-30").empty  # both changes fall outside
    assert charts.version_markers("2014-01-01", "2026-12-31", []).empty  # asked for none
    breaks = pd.DataFrame({"standard_version": ["PS-2022"], "effective_on": [pd.Timestamp("2022-05-01")]})
    assert charts.version_markers("2020-01-01", "2024-01-01", breaks)["text"].tolist() == ["PS V3"]


def _layers_with_mark(spec: dict, mark: str, data: str | None = None):
    """Dataset names of the layers drawing `mark` (a layer inherits its parent's data)."""
    data = spec.get("data", {}).get("name", data)
    for layer in spec.get("layer", []):
        kind = layer.get("mark")
        if (kind.get("type") if isinstance(kind, dict) else kind) == mark:
            yield layer.get("data", {}).get("name", data)
        yield from _layers_with_mark(layer, mark, data)


def test_status_colours_come_with_shapes_and_symbols():
    shapes = {style.shape for style in STATUS_STYLE.values()}
    symbols = {style.symbol for style in STATUS_STYLE.values()}
    assert len(shapes) == len(STATUS_STYLE) and len(symbols) == len(STATUS_STYLE)
    assert STATUS_STYLE["certified"].rgb == [0, 158, 115]


def test_login_emails_map_to_roles():
    config = {
        "users": {"Lee@Example-Metals.com": "member:M0001", "ana@aluminium-stewardship.org": "public"},
        "domains": {"aluminium-stewardship.org": "secretariat", "bad.org": "member:"},
    }
    assert role_for_email("lee@example-metals.com", config) == Viewer.member("M0001")
    assert role_for_email("ana@aluminium-stewardship.org", config) == Viewer.public()  # exact address wins
    assert role_for_email("kim@aluminium-stewardship.org", config) == Viewer.secretariat()
    assert role_for_email("someone@else.com", config) == Viewer.public()
    assert role_for_email("x@bad.org", config) == Viewer.public()  # malformed rule: no rights


def test_only_a_demo_manifest_allows_role_switching():
    from asi_me.data.snapshot import Manifest

    def manifest(note: str, sources: list[str]) -> Manifest:
        return Manifest("abc", "2026-01-01", None, {"members": {"rows": 1, "sources": sources}}, note)

    assert is_demo(manifest("Demo dataset (fictitious)", []))
    assert is_demo(manifest("", ["asi_me.demo.generate"]))
    assert not is_demo(manifest("ingest of elementAl export", ["members.csv"]))
    assert not is_demo(None)


def test_url_parsing_drops_only_the_bad_values():
    filters, warnings = parse_url({"region": ["Europe,Atlantis"], "as_of": ["2021-02-30"], "class": "civil_society"})
    assert filters.regions == ("Europe",)
    assert filters.as_of is None
    assert filters.membership_classes == ("civil_society",)
    assert len(warnings) == 2
    assert any("region='Atlantis'" in w for w in warnings)
    assert any("as_of='2021-02-30'" in w for w in warnings)


def test_url_parsing_drops_an_end_before_the_start():
    filters, warnings = parse_url({"from": "2022-01-01", "to": "2021-01-01"})
    assert filters.period_from == date(2022, 1, 1) and filters.period_to is None
    assert "swap them" in warnings[0]


def test_list_cells_read_as_labelled_text_in_the_table_and_the_csv():
    import pyarrow as pa

    frame = pd.DataFrame({
        "facility_name": ["Smelter A", "Mill B", "Mill C"],
        "activities": pd.Series([["primary_production", "casthouse"], ["semi_fabrication"], None],
                                dtype=pd.ArrowDtype(pa.list_(pa.string()))),
        "external_certifications": [["ISO 14001", "SA8000"], [], None],
    })
    shown = display_frame(frame)
    assert shown["Activities"].tolist()[:2] == ["Primary aluminium production;Casthouse", "Semi-fabrication"]
    assert shown["Activities"].iloc[2] == "—"  # missing, never "None"
    assert shown["External certifications"].tolist()[:2] == ["ISO 14001;SA8000", ""]
    text = csv_bytes(shown).decode("utf-8-sig")
    assert "Smelter A,Primary aluminium production;Casthouse,ISO 14001;SA8000" in text
    assert "[" not in text


def test_a_downloaded_table_cannot_run_a_formula_in_a_spreadsheet():
    shown = display_frame(pd.DataFrame({"facility_name": ["=HYPERLINK(\"http://x\")", "@SUM(A1)", "Plain Mill"],
                                        "workers": [120, 80, 50]}))
    rows = csv_bytes(shown).decode("utf-8-sig").splitlines()
    assert rows[1].startswith("\"'=HYPERLINK(\"\"http://x\"\")\",120")
    assert rows[2] == "'@SUM(A1),80"
    assert rows[3] == "Plain Mill,50"
