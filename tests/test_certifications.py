"""Certification queries on tiny hand-made snapshots: status on a date, register filters,
map points and grid cells, country aggregates, detail panel and the member firewall."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from conftest import make_store as shared_make_store

from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.queries import certifications as cert

DEFAULTS: dict[str, dict] = {
    "members": {"name": "Member", "membership_class": "production_transformation", "country": "DE",
                "joined_on": date(2016, 1, 1), "left_on": None},
    "facilities": {"member_id": "M1", "name": "Facility", "country": "DE", "latitude": 50.0, "longitude": 10.0,
                   "activities": ["casthouse"], "workers": 100},
    "certifications": {"facility_id": "F1", "standard": "PS", "standard_version": "PS-2017",
                       "certification_type": "full", "status": "certified", "issued_on": date(2019, 1, 1),
                       "expires_on": date(2022, 1, 1), "status_changed_on": None, "scope": "Casthouse",
                       "auditing_firm_id": "A1", "external_certifications": []},
    "audits": {"audit_type": "initial", "audited_on": date(2018, 12, 1), "auditing_firm_id": "A1"},
    "audit_findings": {"principle": 1, "criterion": "1.1", "rating": "conformance", "is_closed_at_next_audit": None},
    "auditing_firms": {"name": "Audit Firm", "accredited_on": date(2017, 1, 1), "accreditation_ended_on": None,
                       "countries": ["DE"]},
    "smelter_emissions": {"year": 2020, "source": "CRU"},
}


def make_store(tmp_path, **tables: list[dict]) -> Store:
    """A store over a snapshot holding the given rows; missing columns take DEFAULTS."""
    return shared_make_store(
        tmp_path, **{name: [{**DEFAULTS.get(name, {}), **row} for row in rows] for name, rows in tables.items()}
    )


SECRETARIAT = Viewer.secretariat()
PUBLIC = Viewer.public()


@pytest.fixture
def two_companies(tmp_path) -> Store:
    """M1 (German casthouse, PS suspended 2020-06-15, plus CoC) and M2 (Norwegian smelter)."""
    return make_store(
        tmp_path,
        members=[{"member_id": "M1", "name": "Alpha"},
                 {"member_id": "M2", "name": "Beta", "membership_class": "industrial_users", "country": "NO"}],
        facilities=[
            {"facility_id": "F1", "member_id": "M1", "name": "Alpha Casthouse"},
            {"facility_id": "F2", "member_id": "M2", "name": "Beta Smelter", "country": "NO", "latitude": 60.0,
             "longitude": 5.0, "activities": ["primary_production", "casthouse"], "workers": 400},
            {"facility_id": "F3", "member_id": "M2", "name": "Beta Yard", "country": "NO", "latitude": None,
             "longitude": None, "activities": ["remelting_refining"]},
        ],
        certifications=[
            {"certification_id": "C1", "facility_id": "F1", "status": "suspended",
             "status_changed_on": date(2020, 6, 15), "external_certifications": ["ISO 14001"]},
            {"certification_id": "C2", "facility_id": "F1", "standard": "CoC", "standard_version": "CoC-2017",
             "issued_on": date(2019, 3, 1)},
            {"certification_id": "C3", "facility_id": "F2", "certification_type": "provisional",
             "issued_on": date(2020, 1, 10), "expires_on": date(2021, 1, 10)},
            {"certification_id": "C4", "facility_id": "F3", "standard": "CoC", "standard_version": "CoC-2017",
             "issued_on": date(2020, 2, 1), "expires_on": date(2023, 2, 1)},
        ],
        auditing_firms=[{"auditing_firm_id": "A1"}],
        audits=[
            {"audit_id": "AU1", "certification_id": "C1", "audited_on": date(2018, 12, 1)},
            {"audit_id": "AU2", "certification_id": "C1", "audit_type": "surveillance",
             "audited_on": date(2019, 12, 1)},
            {"audit_id": "AU3", "certification_id": "C3", "audited_on": date(2019, 12, 20)},
        ],
        audit_findings=[
            {"audit_id": "AU1", "criterion": "1.1", "rating": "minor_nc", "is_closed_at_next_audit": True},
            {"audit_id": "AU1", "principle": 5, "criterion": "5.1", "rating": "conformance"},
            {"audit_id": "AU3", "principle": 5, "criterion": "5.1", "rating": "major_nc"},
        ],
        smelter_emissions=[{"facility_id": "F2", "year": 2019, "ghg_intensity_t_per_t": 12.0},
                           {"facility_id": "F2", "year": 2020, "ghg_intensity_t_per_t": 4.0}],
    )


def _status(store: Store, on: date) -> dict[str, str]:
    register = cert.certification_register(store, PUBLIC, Filters(as_of=on))
    return dict(zip(register["certification_id"], register["status"], strict=True))


def test_suspension_shows_from_its_date_and_certified_before(two_companies):
    assert _status(two_companies, date(2020, 6, 14))["C1"] == "certified"
    assert _status(two_companies, date(2020, 6, 15))["C1"] == "suspended"


def test_status_follows_issue_provisional_and_expiry_dates(two_companies):
    assert _status(two_companies, date(2019, 2, 1)) == {"C1": "certified"}  # C2-C4 not yet issued
    on_2020 = _status(two_companies, date(2020, 12, 31))
    assert on_2020["C3"] == "provisional"
    assert _status(two_companies, date(2021, 1, 10))["C3"] == "expired"
    assert _status(two_companies, date(2022, 1, 1))["C2"] == "expired"


def test_register_filters_change_rows(two_companies):
    on = date(2020, 12, 31)

    def ids(**kw) -> list[str]:
        return sorted(cert.certification_register(two_companies, PUBLIC, Filters(as_of=on, **kw))["certification_id"])

    assert ids() == ["C1", "C2", "C3", "C4"]
    assert ids(countries=("NO",)) == ["C3", "C4"]
    assert ids(regions=("Europe",)) == ["C1", "C2", "C3", "C4"]
    assert ids(regions=("Asia",)) == []
    assert ids(activities=("primary_production",)) == ["C3"]
    assert ids(standards=("CoC",)) == ["C2", "C4"]
    assert ids(versions=("PS-2017",)) == ["C1", "C3"]
    assert ids(statuses=("suspended",)) == ["C1"]
    assert ids(membership_classes=("industrial_users",)) == ["C3", "C4"]


def test_register_row_carries_firm_and_external_certifications_but_no_workers(two_companies):
    register = cert.certification_register(two_companies, PUBLIC, Filters(as_of=date(2020, 12, 31)))
    row = register.set_index("certification_id").loc["C1"]
    assert row["auditing_firm_name"] == "Audit Firm"
    assert list(row["external_certifications"]) == ["ISO 14001"]
    assert row["member_name"] == "Alpha"
    assert "workers" not in register.columns


def test_register_gives_internal_ids_only_to_owner_and_secretariat(two_companies):
    on = Filters(as_of=date(2020, 12, 31))

    def ids(viewer: Viewer) -> dict[str, object]:
        register = cert.certification_register(two_companies, viewer, on).set_index("certification_id")
        return {c: (None if pd.isna(v) else v) for c, v in register["facility_id"].items()}

    assert ids(PUBLIC) == {"C1": None, "C2": None, "C3": None, "C4": None}
    assert ids(Viewer.member("M1")) == {"C1": "F1", "C2": "F1", "C3": None, "C4": None}
    assert ids(SECRETARIAT) == {"C1": "F1", "C2": "F1", "C3": "F2", "C4": "F3"}
    points = cert.facility_points(two_companies, Viewer.member("M2"), on).set_index("certification_ids")
    assert pd.isna(points.loc["C1;C2", "facility_id"]) and points.loc["C3", "facility_id"] == "F2"
    other = cert.certification_detail(two_companies, Viewer.member("M2"), "C1")
    assert other.certification["facility_name"] == "Alpha Casthouse" and other.certification["member_id"] is None


def test_facility_points_best_status_and_standard_key(two_companies):
    points = cert.facility_points(two_companies, SECRETARIAT, Filters(as_of=date(2020, 12, 31)))
    by_id = points.set_index("facility_id")
    # F1 holds a suspended PS and a certified CoC: best status certified, both standards.
    assert by_id.loc["F1", "status"] == "certified"
    assert by_id.loc["F1", "standard_key"] == "both"
    assert by_id.loc["F2", "standard_key"] == "PS"
    assert "F3" not in by_id.index  # no coordinates
    assert points["n_facilities"].sum() == 2


def test_without_coordinates_count_for_public_names_for_owner(two_companies):
    on = Filters(as_of=date(2020, 12, 31))
    assert cert.facilities_without_coordinates(two_companies, PUBLIC, on).model_dump() == {"count": 1, "names": None}
    assert cert.facilities_without_coordinates(two_companies, Viewer.member("M2"), on).names == ["Beta Yard"]
    assert cert.facilities_without_coordinates(two_companies, Viewer.member("M1"), on).names == []
    assert cert.facilities_without_coordinates(two_companies, SECRETARIAT, on).names == ["Beta Yard"]


def test_grid_aggregation_keeps_total_and_caps_rows(tmp_path):
    # 30 facilities: 20 around Oslo (certified), 10 around Rome (10 suspended ones).
    facilities = [{"facility_id": f"F{i}", "latitude": 59.5 + i * 0.01, "longitude": 10.7} for i in range(20)]
    facilities += [{"facility_id": f"G{i}", "country": "IT", "latitude": 41.9, "longitude": 12.5 + i * 0.01}
                   for i in range(10)]
    certs = [{"certification_id": f"C{f['facility_id']}", "facility_id": f["facility_id"]} for f in facilities]
    for c in certs[20:]:
        c.update(status="suspended", status_changed_on=date(2019, 6, 1))
    store = make_store(tmp_path, members=[{"member_id": "M1"}], facilities=facilities, certifications=certs)
    on = Filters(as_of=date(2020, 1, 1))
    assert len(cert.facility_points(store, PUBLIC, on, max_points=30)) == 30
    cells = cert.facility_points(store, PUBLIC, on, max_points=5)
    assert len(cells) <= 5
    assert cells["n_facilities"].sum() == 30
    assert cells["is_cell"].all()
    # Two markers allowed: 0.1-degree cells split Oslo in two, 0.25-degree cells do not.
    two = cert.facility_points(store, PUBLIC, on, max_points=2).sort_values("n_facilities")
    assert two["n_facilities"].tolist() == [10, 20]
    assert two["status"].tolist() == ["suspended", "certified"]
    assert two["cell_deg"].tolist() == [0.25, 0.25]
    one = cert.facility_points(store, PUBLIC, on, max_points=1)
    assert len(one) == 1 and one["n_facilities"].iloc[0] == 30 and one["status"].iloc[0] == "certified"


def test_grid_cells_bin_coordinates_as_python_floor_division(tmp_path):
    # 1.0 // 0.1 is 9 in Python (floor(1.0 / 0.1) would be 10): 0.95 and 1.0 share the cell
    # from 0.9, 1.05 is alone in the next one.
    latitudes = (0.95, 1.0, 1.05)
    facilities = [{"facility_id": f"F{i}", "latitude": lat, "longitude": 10.05} for i, lat in enumerate(latitudes)]
    certs = [{"certification_id": f"C{i}", "facility_id": f"F{i}"} for i in range(3)]
    store = make_store(tmp_path, members=[{"member_id": "M1"}], facilities=facilities, certifications=certs)
    cells = cert.facility_points(store, PUBLIC, Filters(as_of=date(2020, 1, 1)), max_points=2)
    assert cells["n_facilities"].tolist() == [2, 1]
    assert cells["latitude"].tolist() == pytest.approx([0.975, 1.05])
    assert cells["cell_deg"].tolist() == [0.1, 0.1]
    assert list(cells.columns) == ["latitude", "longitude", "n_facilities", "status", "standard_key", "is_cell",
                                   "cell_deg"]


def test_grid_falls_back_to_one_cell_per_hemisphere_quarter(tmp_path):
    # Even 360-degree cells split the equator and the prime meridian: two cells, not an error.
    facilities = [{"facility_id": "N", "latitude": 10.0, "longitude": 5.0},
                  {"facility_id": "S", "latitude": -10.0, "longitude": 5.0}]
    certs = [{"certification_id": f"C{f['facility_id']}", "facility_id": f["facility_id"]} for f in facilities]
    store = make_store(tmp_path, members=[{"member_id": "M1"}], facilities=facilities, certifications=certs)
    cells = cert.facility_points(store, PUBLIC, Filters(as_of=date(2020, 1, 1)), max_points=1)
    assert cells["latitude"].tolist() == [-10.0, 10.0]
    assert cells["cell_deg"].tolist() == [360.0, 360.0]


def test_register_is_in_country_facility_standard_issue_order(tmp_path):
    # The register query does not sort; it relies on certification_facts being stored in
    # this order. Rows are given here in the reverse order to prove it.
    facilities = [{"facility_id": "FA", "name": "Zeta", "country": "DE"},
                  {"facility_id": "FB", "name": "Alpha", "country": "DE"},
                  {"facility_id": "FC", "name": "Alpha", "country": "AT"}]
    certs = [{"certification_id": "C9", "facility_id": "FA"},
             {"certification_id": "C8", "facility_id": "FB", "issued_on": date(2019, 6, 1)},
             {"certification_id": "C7", "facility_id": "FB", "standard": "CoC", "standard_version": "CoC-2017"},
             {"certification_id": "C6", "facility_id": "FB"},
             {"certification_id": "C5", "facility_id": "FC"}]
    store = make_store(tmp_path, members=[{"member_id": "M1"}], facilities=facilities, certifications=certs)
    register = cert.certification_register(store, SECRETARIAT, Filters(as_of=date(2020, 1, 1)))
    # AT before DE; Alpha before Zeta; CoC before PS; PS issued 2019-01-01 before 2019-06-01
    assert register["certification_id"].tolist() == ["C5", "C7", "C6", "C8", "C9"]
    page = cert.certification_register_page(store, SECRETARIAT, Filters(as_of=date(2020, 1, 1)), limit=3)
    assert page.rows["certification_id"].tolist() == ["C5", "C7", "C6"]


def test_register_page_holds_the_first_rows_and_the_whole_registers_counts(two_companies):
    on = Filters(as_of=date(2020, 12, 31))
    register = cert.certification_register(two_companies, PUBLIC, on)
    page = cert.certification_register_page(two_companies, PUBLIC, on, limit=2)
    # register order is country, facility, standard: DE Alpha Casthouse CoC (C2), PS (C1), then NO
    assert page.rows["certification_id"].tolist() == ["C2", "C1"]
    pd.testing.assert_frame_equal(page.rows, register.head(2))
    assert (page.total, page.countries) == (4, 2)
    assert page.rows["facility_id"].isna().all()  # ids stay hidden from the public
    whole = cert.certification_register_page(two_companies, SECRETARIAT, on, limit=500)
    assert whole.rows["facility_id"].tolist() == ["F1", "F1", "F2", "F3"]
    only_suspended = Filters(as_of=on.as_of, statuses=("suspended",))
    suspended = cert.certification_register_page(two_companies, PUBLIC, only_suspended)
    assert (suspended.rows["certification_id"].tolist(), suspended.total, suspended.countries) == (["C1"], 1, 1)
    with pytest.raises(ValueError, match="limit must be at least 1"):
        cert.certification_register_page(two_companies, PUBLIC, on, limit=0)


def test_country_aggregates_count_valid_certificates_and_centroid(two_companies):
    agg = cert.country_aggregates(two_companies, PUBLIC, Filters(as_of=date(2020, 12, 31))).set_index("country")
    # DE: C1 suspended, C2 CoC certified -> 1 facility, 0 PS, 1 CoC.
    assert agg.loc["DE", ["certified_facilities", "ps_certificates", "coc_certificates"]].tolist() == [1, 0, 1]
    # NO: C3 provisional PS at F2, C4 CoC at F3 -> 2 facilities; centroid from F2 only (F3 has none).
    assert agg.loc["NO", ["certified_facilities", "ps_certificates", "coc_certificates"]].tolist() == [2, 1, 1]
    assert agg.loc["NO", "latitude"] == 60.0
    assert agg.loc["NO", "region"] == "Europe"


def test_detail_findings_only_for_owner_and_secretariat(two_companies):
    public = cert.certification_detail(two_companies, PUBLIC, "C1")
    assert public is not None
    assert public.audits["audit_type"].tolist() == ["initial", "surveillance"]
    assert public.findings is None and public.findings_summary is None and public.workers is None
    other = cert.certification_detail(two_companies, Viewer.member("M2"), "C1")
    assert other.findings is None and other.workers is None
    owner = cert.certification_detail(two_companies, Viewer.member("M1"), "C1")
    assert owner.workers == 100
    assert owner.findings["rating"].tolist() == ["minor_nc", "conformance"]
    assert owner.findings_summary.set_index("audit_id").loc["AU1", "minor_nc"] == 1
    assert cert.certification_detail(two_companies, SECRETARIAT, "C3").findings["rating"].tolist() == ["major_nc"]
    assert cert.certification_detail(two_companies, PUBLIC, "NOPE") is None


def test_growth_replay_counts_per_month(two_companies):
    frame = cert.growth_replay(
        two_companies, PUBLIC, Filters(as_of=date(2020, 3, 15), period_from=date(2019, 12, 1))
    ).set_index("month_on")
    # Dec 2019: C1, C2 valid at F1. Jan 2020: + C3 (F2). Feb 2020: + C4 (F3). Mid-March same.
    assert frame["certificates_valid"].tolist() == [2, 3, 4, 4]
    assert frame["certified_facilities"].tolist() == [1, 2, 3, 3]
    assert frame.index[-1] == pd.Timestamp(2020, 3, 15)


def test_smelter_emissions_detail_is_firewalled(two_companies):
    on = Filters(as_of=date(2020, 12, 31))
    secretariat = cert.smelter_emissions(two_companies, SECRETARIAT, on)
    assert secretariat.smelters["ghg_intensity_t_per_t"].tolist() == [4.0]  # latest year 2020
    assert not secretariat.smelters["is_above_threshold"].iloc[0]
    assert cert.smelter_emissions(two_companies, Viewer.member("M1"), on).smelters.empty
    assert cert.smelter_emissions(two_companies, Viewer.member("M2"), on).smelters["facility_id"].tolist() == ["F2"]
    assert cert.smelter_emissions(two_companies, PUBLIC, on).smelters.empty
    in_2019 = cert.smelter_emissions(two_companies, SECRETARIAT, Filters(as_of=date(2019, 12, 31)))
    assert in_2019.smelters["is_above_threshold"].tolist() == [True]  # 12 t CO2e/t in 2019


def test_public_emission_aggregates_pass_the_disclosure_policy(tmp_path):
    # Europe: five companies, one smelter each (4, 6, 9, 12, 15 t CO2e/t). Asia: one company.
    europe = [("NO", 4.0), ("NO", 6.0), ("DE", 9.0), ("IS", 12.0), ("FR", 15.0)]
    smelters = [*europe, ("CN", 10.0)]
    store = make_store(
        tmp_path,
        members=[{"member_id": f"M{i}"} for i in range(len(smelters))],
        facilities=[{"facility_id": f"F{i}", "member_id": f"M{i}", "country": country,
                     "activities": ["primary_production"]} for i, (country, _) in enumerate(smelters)],
        smelter_emissions=[{"facility_id": f"F{i}", "ghg_intensity_t_per_t": value}
                           for i, (_, value) in enumerate(smelters)],
    )
    on = Filters(as_of=date(2020, 12, 31))
    public = cert.smelter_emissions(store, PUBLIC, on).by_region.set_index("region")
    assert public.loc["All regions", ["smelters", "above_threshold", "at_or_below_threshold"]].tolist() == [6, 4, 2]
    assert public.loc["All regions", "median_t_per_t"] == 9.5
    assert public.loc["Asia", "suppression_note"] == "suppressed (fewer than 5 reporters)"
    # Europe = All regions - Asia, so Europe is hidden too, or Asia could be derived.
    assert public.loc["Europe", "suppression_note"] == "suppressed (to protect another suppressed cell)"
    assert public.loc[["Asia", "Europe"], "smelters"].isna().all()
    secretariat = cert.smelter_emissions(store, SECRETARIAT, on).by_region.set_index("region")
    assert secretariat.loc["Europe", ["smelters", "above_threshold", "median_t_per_t"]].tolist() == [5, 3, 9.0]
    assert bool(secretariat.loc["Europe", "would_be_suppressed"]) and not secretariat["is_suppressed"].any()
    # Choosing Europe picks the Europe row of the same protected view: still hidden, or
    # "All regions" (6) minus Europe (5) would give the Asian company's smelter.
    europe_only = cert.smelter_emissions(store, PUBLIC, on.replace(regions=("Europe",))).by_region
    assert europe_only["region"].tolist() == ["Europe"] and europe_only["smelters"].isna().all()
    assert europe_only["suppression_note"].tolist() == ["suppressed (to protect another suppressed cell)"]
    # A country list does not apply to the published aggregates, and the result says so.
    not_china = cert.smelter_emissions(store, PUBLIC, on.replace(countries=("NO", "DE", "IS", "FR")))
    assert not_china.by_region.set_index("region").loc["All regions", "smelters"] == 6
    assert not_china.filters_not_applied == ["country"]
    assert set(not_china.by_region["filters_not_applied"]) == {"country"}
    assert "country" in not_china.note and "subtracting" in not_china.note
    # The secretariat's analysis follows the country list.
    assert cert.smelter_emissions(store, SECRETARIAT, on.replace(countries=("NO", "DE", "IS", "FR"))).by_region[
        "region"].tolist() == ["Europe", "All regions"]


def test_public_emissions_hide_a_region_whose_complement_is_one_company(tmp_path):
    # Europe: companies E0..E5 with one smelter each; Asia: company A with 2 smelters and company B with 1;
    # North America: company N with 1 smelter (9 t, above threshold).
    # World: 9 companies, 10 smelters, largest share 2/10 = 20% -> published.
    # Europe passes (6 companies, 1/6 each), but world minus Europe = A, B, N (3 companies) fails,
    # so Europe is hidden; Asia (2 companies) and North America (1) fail the primary check.
    smelters = [(f"E{i}", "DE", 4.0) for i in range(6)] + [("A", "CN", 10.0), ("A", "CN", 11.0), ("B", "IN", 3.0),
                                                             ("N", "CA", 9.0)]
    store = make_store(
        tmp_path,
        members=[{"member_id": m} for m in dict.fromkeys(m for m, _, _ in smelters)],
        facilities=[{"facility_id": f"F{i}", "member_id": m, "country": c, "activities": ["primary_production"]}
                    for i, (m, c, _) in enumerate(smelters)],
        smelter_emissions=[{"facility_id": f"F{i}", "ghg_intensity_t_per_t": v}
                           for i, (_, _, v) in enumerate(smelters)],
    )
    public = cert.smelter_emissions(store, PUBLIC, Filters(as_of=date(2020, 12, 31))).by_region.set_index("region")
    assert public.loc["All regions", ["smelters", "above_threshold", "at_or_below_threshold"]].tolist() == [10, 3, 7]
    assert public.loc["All regions", "median_t_per_t"] == 4.0
    assert public.loc["Asia", "suppression_note"] == "suppressed (fewer than 5 reporters)"
    assert public.loc["North America", "suppression_note"] == "suppressed (fewer than 5 reporters)"
    assert public.loc["Europe", "suppression_note"] == "suppressed (to protect another suppressed cell)"
    assert public.loc[["Asia", "Europe", "North America"], "median_t_per_t"].isna().all()


def test_month_ends_end_on_as_of():
    assert cert.month_ends(date(2020, 1, 15), date(2020, 3, 10)) == [
        date(2020, 1, 31), date(2020, 2, 29), date(2020, 3, 10)
    ]
    assert cert.month_ends(date(2020, 1, 1), date(2020, 1, 31)) == [date(2020, 1, 31)]


def test_query_files_follow_the_house_shape():
    """Every outcomes/cert/toc query: a comment saying what it answers, CTEs ending in `final`,
    lowercase keywords, values only as $parameters (no date or quoted-list literals)."""
    import re

    from asi_me.settings import QUERIES_DIR

    files = sorted(p for prefix in ("cert_", "outcomes_", "toc_") for p in QUERIES_DIR.glob(f"{prefix}*.sql"))
    assert len(files) >= 20
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("-- "), f"{path.name} does not start with a comment"
        if path.name == "cert_status_macro.sql":
            assert "create macro if not exists cert_status_on(" in text
            continue
        assert "\nwith\n" in text and re.search(r"\nselect \* from final\b", text), path.name
        assert not re.search(r"\b(SELECT|FROM|WHERE|JOIN|GROUP BY|ORDER BY)\b", text), path.name
        assert not re.search(r"date '\d{4}|'\d{4}-\d{2}-\d{2}'", text), f"{path.name} hard-codes a date"
