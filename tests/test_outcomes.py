"""Outcomes dashboard queries on tiny hand-made snapshots, with values worked out by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from conftest import make_store as shared_make_store

from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.queries import outcomes

DEFAULTS: dict[str, dict] = {
    "members": {"name": "Member", "membership_class": "production_transformation", "country": "DE",
                "joined_on": date(2016, 1, 1), "left_on": None},
    "facilities": {"member_id": "M1", "name": "Facility", "country": "DE", "latitude": 50.0, "longitude": 10.0,
                   "activities": ["casthouse"], "workers": 100},
    "certifications": {"facility_id": "F1", "standard": "PS", "standard_version": "PS-2017",
                       "certification_type": "full", "status": "certified", "issued_on": date(2019, 1, 1),
                       "expires_on": date(2022, 1, 1), "status_changed_on": None, "scope": "Casthouse",
                       "auditing_firm_id": "A1", "external_certifications": []},
    "audits": {"audit_type": "initial", "audited_on": date(2019, 1, 1), "auditing_firm_id": "A1"},
    "audit_findings": {"principle": 1, "criterion": "1.1", "rating": "conformance", "is_closed_at_next_audit": None},
    "auditing_firms": {"name": "Audit Firm", "accredited_on": date(2017, 1, 1), "accreditation_ended_on": None,
                       "countries": ["DE"]},
    "training_records": {"course": "Intro", "country": "DE"},
    "governance_meetings": {"location": "virtual"},
    "indicators": {"name": "Indicator", "definition": "Definition.", "unit": "count", "level": "1",
                   "data_source": "elementAl", "frequency": "monthly", "is_iseal_cci": False, "iseal_cci_area": None,
                   "direction": "increase", "baseline_value": None, "baseline_on": None, "target_value": None,
                   "target_on": None, "toc_node_id": "N1"},
    "indicator_observations": {"dimension": "total", "dimension_value": "all", "status": "final"},
    "toc_nodes": {"label": "Node", "node_type": "output", "impact_area": None, "description": None},
}


def make_store(tmp_path, **tables: list[dict]) -> Store:
    """A store over a snapshot holding the given rows; missing columns take DEFAULTS."""
    return shared_make_store(
        tmp_path, **{name: [{**DEFAULTS.get(name, {}), **row} for row in rows] for name, rows in tables.items()}
    )


PUBLIC = Viewer.public()
SECRETARIAT = Viewer.secretariat()


@pytest.fixture
def store(tmp_path) -> Store:
    return make_store(
        tmp_path,
        members=[
            {"member_id": "M1", "joined_on": date(2015, 6, 10)},
            {"member_id": "M2", "joined_on": date(2016, 3, 1), "membership_class": "civil_society", "country": "FR"},
            {"member_id": "M3", "joined_on": date(2017, 5, 20), "left_on": date(2019, 2, 1), "country": "CN"},
        ],
        facilities=[
            {"facility_id": "F1", "member_id": "M1", "workers": 120},
            {"facility_id": "F2", "member_id": "M2", "country": "FR", "workers": 80,
             "activities": ["primary_production"]},
        ],
        certifications=[
            # F1: PS issued 2018-05-01, recertified 2021-05-01 (two issued certificates, one valid at a time)
            {"certification_id": "P1", "issued_on": date(2018, 5, 1), "expires_on": date(2021, 5, 1),
             "external_certifications": ["ISO 14001"]},
            {"certification_id": "P2", "issued_on": date(2021, 5, 1), "expires_on": date(2024, 5, 1)},
            # F2: PS provisional 2019-09-15 (expires after one year), CoC suspended 2020-03-01
            {"certification_id": "P3", "facility_id": "F2", "certification_type": "provisional",
             "issued_on": date(2019, 9, 15), "expires_on": date(2020, 9, 15)},
            {"certification_id": "K1", "facility_id": "F2", "standard": "CoC", "standard_version": "CoC-2017",
             "issued_on": date(2019, 10, 1), "status": "suspended", "status_changed_on": date(2020, 3, 1)},
        ],
        auditing_firms=[
            {"auditing_firm_id": "A1", "countries": ["DE", "FR", "CN"]},
            {"auditing_firm_id": "A2", "accredited_on": date(2019, 6, 1), "countries": ["DE", "US"]},
        ],
        training_records=[
            {"record_id": "T1", "person_ref": "p1", "audience": "auditor", "completed_on": date(2017, 3, 1)},
            {"record_id": "T2", "person_ref": "p1", "audience": "auditor", "completed_on": date(2018, 3, 1)},
            {"record_id": "T3", "person_ref": "p2", "audience": "auditor", "completed_on": date(2019, 3, 1),
             "country": "US"},
            {"record_id": "T4", "person_ref": "p3", "audience": "member", "completed_on": date(2018, 7, 1)},
            {"record_id": "T5", "person_ref": "p4", "audience": "stakeholder", "completed_on": date(2019, 9, 1)},
        ],
        governance_meetings=[
            {"meeting_id": "B1", "body": "board", "held_on": date(2016, 2, 1)},
            {"meeting_id": "B2", "body": "board", "held_on": date(2019, 12, 5)},
            {"meeting_id": "S1", "body": "standards_committee", "held_on": date(2016, 4, 1)},
            {"meeting_id": "I1", "body": "ipaf", "held_on": date(2015, 9, 1)},
        ],
        audits=[
            {"audit_id": "AU1", "certification_id": "P1", "audited_on": date(2018, 4, 1)},
            {"audit_id": "AU2", "certification_id": "P3", "audited_on": date(2019, 9, 1)},
        ],
        audit_findings=[
            {"audit_id": "AU1", "principle": 5, "criterion": "5.1", "rating": "minor_nc",
             "is_closed_at_next_audit": True},
            {"audit_id": "AU1", "principle": 5, "criterion": "5.2", "rating": "major_nc",
             "is_closed_at_next_audit": False},
            {"audit_id": "AU2", "principle": 5, "criterion": "5.3", "rating": "minor_nc",
             "is_closed_at_next_audit": True},
            {"audit_id": "AU2", "principle": 9, "criterion": "9.1", "rating": "minor_nc",
             "is_closed_at_next_audit": None},
            {"audit_id": "AU2", "principle": 7, "criterion": "7.1", "rating": "conformance"},
        ],
        toc_nodes=[{"node_id": "N1"}, {"node_id": "N2", "label": "Continual improvement",
                                       "node_type": "short_term_outcome"}],
        indicators=[
            {"indicator_code": "IN-1", "toc_node_id": "N2"},
            {"indicator_code": "IN-2", "frequency": "annual"},
            {"indicator_code": "IN-3", "level": "2"},
        ],
        indicator_observations=[
            {"indicator_code": "IN-1", "period_on": date(2021, 1, 1), "value": 10.0},
            {"indicator_code": "IN-1", "period_on": date(2021, 2, 1), "value": 14.0},
            {"indicator_code": "IN-1", "period_on": date(2021, 3, 1), "value": 13.0, "status": "provisional"},
            {"indicator_code": "IN-1", "period_on": date(2021, 3, 1), "value": 99.0, "dimension": "region",
             "dimension_value": "Europe"},
            {"indicator_code": "IN-2", "period_on": date(2021, 1, 1), "value": 1.0},
        ],
    )


def _values(store: Store, on: date, viewer: Viewer = PUBLIC, **filters) -> dict[str, float]:
    tiles = outcomes.dashboard_tiles(store, viewer, Filters(as_of=on, **filters))
    return {t.code: t.value for t in tiles.tiles}


def test_member_tile_at_dates_with_changes(store):
    tiles = outcomes.dashboard_tiles(store, PUBLIC, Filters(as_of=date(2019, 3, 1)))
    members = tiles.tile("members")
    # M1, M2 and M3 joined by 2017-05-20; M3 left 2019-02-01.
    assert members.value == 2
    assert members.value_month_ago == 2  # 2019-02-01: M3 has left that day
    assert members.value_year_ago == 3
    assert (members.change_month, members.change_year) == (0, -1)
    series = {p.on_date: p.value for p in members.series}
    assert series[date(2015, 6, 30)] == 1
    assert series[date(2016, 2, 29)] == 1
    assert series[date(2016, 3, 31)] == 2
    assert series[date(2017, 5, 31)] == 3
    assert series[date(2019, 1, 31)] == 3
    assert max(series) == date(2019, 3, 1)
    assert min(series) == date(2015, 6, 30)


def test_member_filters_change_the_number(store):
    on = date(2018, 1, 1)
    assert _values(store, on)["members"] == 3
    assert _values(store, on, membership_classes=("civil_society",))["members"] == 1
    assert _values(store, on, countries=("CN",))["members"] == 1
    assert _values(store, on, regions=("Europe",))["members"] == 2


def test_certificate_tiles_by_hand(store):
    at_2019_end = outcomes.dashboard_tiles(store, PUBLIC, Filters(as_of=date(2019, 12, 31)))
    ps = at_2019_end.tile("ps_certificates")
    assert (ps.value, ps.secondary_value) == (2, 2)  # P1 + P3 issued and valid
    assert at_2019_end.tile("coc_certificates").value == 1
    assert at_2019_end.tile("certified_countries").value == 2  # DE, FR
    assert at_2019_end.tile("ps_external_share").value == 50.0  # P1 of P1, P3
    # F1 (120) + F2 (80) for the secretariat; two companies are too few to publish.
    assert outcomes.dashboard_tiles(store, SECRETARIAT, Filters(as_of=date(2019, 12, 31))).tile(
        "ps_workers").value == 200
    assert at_2019_end.tile("ps_workers").suppression_note == "suppressed (fewer than 5 reporters)"
    v = _values(store, date(2021, 6, 30), SECRETARIAT)
    # P1 expired and P2 issued: 3 PS issued, only P2 valid; CoC K1 suspended but still issued.
    assert (v["ps_certificates"], v["coc_certificates"]) == (3, 1)
    assert v["certified_countries"] == 1
    assert v["ps_external_share"] == 0.0
    assert v["ps_workers"] == 120
    tiles = outcomes.dashboard_tiles(store, PUBLIC, Filters(as_of=date(2021, 6, 30)))
    assert tiles.tile("ps_certificates").secondary_value == 1
    assert tiles.tile("coc_certificates").secondary_value == 0


def test_certificate_filters_change_the_number(store):
    on = date(2019, 12, 31)
    assert _values(store, on, countries=("FR",))["ps_certificates"] == 1
    assert _values(store, on, SECRETARIAT, activities=("primary_production",))["ps_workers"] == 80
    assert _values(store, on, membership_classes=("civil_society",))["certified_countries"] == 1
    assert _values(store, on, versions=("CoC-2017",))["ps_certificates"] == 0
    assert _values(store, on, statuses=("provisional",))["ps_certificates"] == 1


def test_firms_training_and_meetings(store):
    tiles = outcomes.dashboard_tiles(store, PUBLIC, Filters(as_of=date(2019, 12, 31)))
    firms = tiles.tile("auditing_firms")
    assert (firms.value, firms.secondary_value) == (2, 4)  # DE, FR, CN, US
    assert firms.value_year_ago == 1
    assert tiles.tile("auditors_trained").value == 2  # p1 counted once
    assert tiles.tile("members_stakeholders_trained").value == 2
    assert tiles.tile("board_meetings").value == 2
    assert tiles.tile("board_meetings").change_month == 1  # B2 on 2019-12-05, after 2019-11-30
    assert tiles.tile("standards_committee_meetings").value == 1
    assert tiles.tile("ipaf_meetings").value == 1
    in_us = _values(store, date(2019, 12, 31), countries=("US",))
    assert (in_us["auditing_firms"], in_us["auditors_trained"]) == (1, 1)


def test_every_published_tile_has_words_for_the_public(store):
    tiles = outcomes.dashboard_tiles(store, PUBLIC, Filters(as_of=date(2019, 12, 31)))
    assert len(tiles.tiles) == 12
    for tile in tiles.tiles:
        assert tile.definition.endswith(".") and tile.label and tile.source and tile.unit
    frame = tiles.to_frame()
    assert frame.loc[frame["code"] == "members", "value"].item() == 2


def test_series_follow_period_filter(store):
    tiles = outcomes.dashboard_tiles(
        store, PUBLIC, Filters(as_of=date(2019, 12, 31), period_from=date(2019, 10, 1), period_to=date(2019, 11, 30))
    )
    assert [p.on_date for p in tiles.tile("members").series] == [date(2019, 10, 31), date(2019, 11, 30)]


def test_members_by_class_monthly(store):
    frame = outcomes.members_by_class(store, PUBLIC, Filters(as_of=date(2016, 4, 15), period_from=date(2016, 2, 1)))
    pivot = frame.pivot_table(index="month_on", columns="membership_class", values="members", fill_value=0)
    assert pivot["production_transformation"].tolist() == [1, 1, 1]
    assert pivot["civil_society"].tolist() == [0, 1, 1]
    assert set(frame["membership_class_label"]) == {"Production and Transformation", "Civil Society"}


def test_certificates_over_time_groups_and_version_breaks(store):
    f = Filters(as_of=date(2020, 3, 31), period_from=date(2019, 12, 1))
    by_standard = outcomes.certificates_over_time(store, PUBLIC, f, by="standard")
    last = by_standard[by_standard["month_on"] == pd.Timestamp(2020, 3, 31)].set_index("group_value")
    assert last.loc["PS", "certificates_issued"] == 2
    assert last.loc["CoC", "certificates_valid"] == 0  # suspended on 2020-03-01
    by_status = outcomes.certificates_over_time(store, PUBLIC, f, by="status")
    last = by_status[by_status["month_on"] == pd.Timestamp(2020, 3, 31)].set_index("group_value")
    assert last["certificates_issued"].to_dict() == {"certified": 1, "provisional": 1, "suspended": 1}
    by_activity = outcomes.certificates_over_time(store, PUBLIC, f, by="activity")
    assert set(by_activity["group_value"]) == {"casthouse", "primary_production"}
    by_country = outcomes.certificates_over_time(store, PUBLIC, f, by="country")
    assert set(by_country["group_label"]) == {"Germany", "France"}
    with pytest.raises(ValueError, match="Cannot group certificates by 'member_id'"):
        outcomes.certificates_over_time(store, PUBLIC, f, by="member_id")  # type: ignore[arg-type]


def test_version_change_marks_the_month_it_breaks_comparability(store):
    f = Filters(as_of=date(2022, 6, 30), period_from=date(2022, 4, 1))
    frame = outcomes.certificates_over_time(store, PUBLIC, f, by="standard")
    flagged = frame[frame["is_version_break"]]
    # PS V3 and CoC V2 both took effect on 2022-05-01.
    assert sorted(flagged["group_value"]) == ["CoC", "PS"]
    assert set(flagged["month_on"]) == {pd.Timestamp(2022, 5, 31)}
    assert "PS V3 (2022)" in flagged.set_index("group_value").loc["PS", "version_note"]
    breaks = outcomes.version_breaks(store, PUBLIC, Filters(standards=("CoC",)))
    assert breaks["standard_version"].tolist() == ["CoC-2017", "CoC-2022"]


def test_nc_closure_by_principle_by_hand(store):
    frame = outcomes.nc_closure_by_principle(store, SECRETARIAT, Filters(as_of=date(2020, 1, 1))).set_index(
        "principle"
    )
    assert len(frame) == 11
    assert frame.loc[5, "principle_label"] == "GHG emissions"
    # principle 5: three NCs, all followed up, two closed -> 2/3
    assert frame.loc[5, ["nonconformances", "followed_up", "closed_at_next_audit"]].tolist() == [3, 3, 2]
    assert frame.loc[5, "closed_share"] == pytest.approx(2 / 3)
    assert pd.isna(frame.loc[9, "closed_share"])  # follow-up not yet known
    assert frame.loc[7, "nonconformances"] == 0  # conformance is not an NC
    only_fr = outcomes.nc_closure_by_principle(
        store, SECRETARIAT, Filters(as_of=date(2020, 1, 1), countries=("FR",))
    ).set_index("principle")
    assert only_fr.loc[5, "closed_share"] == 1.0
    early = outcomes.nc_closure_by_principle(store, SECRETARIAT, Filters(as_of=date(2018, 12, 31)))
    assert early.set_index("principle").loc[9, "nonconformances"] == 0


def test_public_nc_closure_hides_principles_from_few_companies(store, monkeypatch):
    public = outcomes.nc_closure_by_principle(store, PUBLIC, Filters(as_of=date(2020, 1, 1))).set_index("principle")
    assert public.loc[5, "is_suppressed"]
    assert pd.isna(public.loc[5, "closed_share"])
    assert public.loc[5, "suppression_note"] == "suppressed (fewer than 5 reporters)"
    assert not public.loc[7, "is_suppressed"]  # no NC at all: nothing to protect
    assert public.loc[5, "publication_note"] == "suppressed (fewer than 5 reporters)"
    monkeypatch.setenv("ASI_MIN_REPORTERS", "2")
    dominated = outcomes.nc_closure_by_principle(store, PUBLIC, Filters(as_of=date(2020, 1, 1))).set_index("principle")
    # principle 5: M1 has 2 of the 3 NCs, above the 25 % dominance limit
    assert dominated.loc[5, "suppression_note"] == "suppressed (one reporter above 25% share)"
    monkeypatch.setenv("ASI_MAX_DOMINANCE", "1")
    two = outcomes.nc_closure_by_principle(store, PUBLIC, Filters(as_of=date(2020, 1, 1))).set_index("principle")
    # with two companies, either one learns the other's count exactly: the p% rule hides it
    assert two.loc[5, "suppression_note"] == "suppressed (the largest reporter could be estimated within 10%)"
    monkeypatch.setenv("ASI_P_PERCENT", "0")
    relaxed = outcomes.nc_closure_by_principle(store, PUBLIC, Filters(as_of=date(2020, 1, 1))).set_index("principle")
    assert not relaxed.loc[5, "is_suppressed"] and relaxed.loc[9, "is_suppressed"]
    assert relaxed.loc[5, "closed_share"] == pytest.approx(2 / 3)
    secretariat = outcomes.nc_closure_by_principle(store, SECRETARIAT, Filters(as_of=date(2020, 1, 1)))
    assert "nonconformances_by_company" not in secretariat.columns  # company breakdown never leaves the query


def test_me_insights_latest_monthly_level1_values(store):
    frame = outcomes.me_insights(store, PUBLIC, Filters(as_of=date(2021, 3, 31)))
    assert frame["indicator_code"].tolist() == ["IN-1"]  # IN-2 annual, IN-3 level 2
    row = frame.iloc[0]
    assert (row["value"], row["previous_value"], row["change"]) == (13.0, 14.0, -1.0)
    assert row["status"] == "provisional"
    # Each insight names the ToC node its indicator reports on.
    assert (row["toc_node_id"], row["toc_node_label"], row["toc_node_type"]) == (
        "N2", "Continual improvement", "short_term_outcome")
    earlier = outcomes.me_insights(store, PUBLIC, Filters(as_of=date(2021, 2, 15))).iloc[0]
    assert (earlier["value"], earlier["change"]) == (14.0, 4.0)


def test_version_series_that_starts_after_the_change_is_marked_at_its_first_month(tmp_path):
    # PS V3 took effect on 2022-05-01, but the first PS V3 certificate was issued on 2023-07-10:
    # the PS V2 series breaks at 2022-05-31 and the PS V3 series is marked at its first month, 2023-07-31.
    store = make_store(
        tmp_path,
        members=[{"member_id": "M1"}],
        facilities=[{"facility_id": "F1"}, {"facility_id": "F2"}],
        certifications=[
            {"certification_id": "P1", "issued_on": date(2021, 1, 1), "expires_on": date(2024, 1, 1)},
            {"certification_id": "P2", "facility_id": "F2", "standard_version": "PS-2022",
             "issued_on": date(2023, 7, 10), "expires_on": date(2026, 7, 10)},
        ],
    )
    f = Filters(as_of=date(2023, 9, 30), period_from=date(2022, 1, 1), standards=("PS",))
    frame = outcomes.certificates_over_time(store, PUBLIC, f, by="standard_version")
    flagged = frame[frame["is_version_break"]].set_index("group_value")["month_on"].to_dict()
    assert flagged == {"PS-2017": pd.Timestamp(2022, 5, 31), "PS-2022": pd.Timestamp(2023, 7, 31)}
    assert frame.loc[frame["group_value"] == "PS-2022", "month_on"].min() == pd.Timestamp(2023, 7, 31)
    # a chart that starts after the change does not mark it
    later = outcomes.certificates_over_time(store, PUBLIC, f.replace(period_from=date(2023, 1, 1)),
                                            by="standard_version")
    assert not later["is_version_break"].any()


def _workers_store(tmp_path) -> Store:
    """Six companies with one PS-certified facility each, valid through 2019 and 2020:
    Europe: C0 DE 100, C1 DE 100, C2 FR 100, C3 FR 100, C4 AT 100; Asia: C5 CN 100.
    C4's AT facility loses its certificate on 2020-07-01 (withdrawn)."""
    places = [("DE", 100), ("DE", 100), ("FR", 100), ("FR", 100), ("AT", 100), ("CN", 100)]
    return make_store(
        tmp_path,
        members=[{"member_id": f"C{i}"} for i in range(len(places))],
        facilities=[{"facility_id": f"F{i}", "member_id": f"C{i}", "country": c, "workers": w}
                    for i, (c, w) in enumerate(places)],
        certifications=[
            {"certification_id": f"P{i}", "facility_id": f"F{i}", "issued_on": date(2019, 1, 1),
             "expires_on": date(2022, 1, 1),
             **({"status": "withdrawn", "status_changed_on": date(2020, 7, 1)} if c == "AT" else {})}
            for i, (c, _) in enumerate(places)
        ],
    )


def test_public_workers_tile_passes_the_disclosure_policy(tmp_path):
    store = _workers_store(tmp_path)
    on = date(2020, 3, 31)
    # World: 6 companies x 100 = 600, largest share 1/6 -> published.
    assert _values(store, on)["ps_workers"] == 600
    # Europe: 5 companies (500) but world minus Europe is one company (C5 in China): hidden,
    # or 600 - 500 would give C5's workforce.
    europe = outcomes.dashboard_tiles(store, PUBLIC, Filters(as_of=on, regions=("Europe",))).tile("ps_workers")
    assert pd.isna(europe.value) and europe.is_suppressed
    assert europe.suppression_note == "suppressed (to protect another suppressed cell)"
    assert "figure for Europe is suppressed" in europe.definition
    # Asia's one company: fewer than 5 reporters; its series shows only the true zeros of 2018,
    # before any certificate; every month since is hidden.
    asia = outcomes.dashboard_tiles(store, PUBLIC, Filters(as_of=on, regions=("Asia",))).tile("ps_workers")
    assert asia.suppression_note == "suppressed (fewer than 5 reporters)" and pd.isna(asia.value)
    assert asia.change_month is None and {p.value for p in asia.series} == {0.0}
    assert max(p.on_date for p in asia.series) == date(2018, 12, 31)
    # Workforce is never published by country: a country filter shows the world, and says so.
    at = outcomes.dashboard_tiles(store, PUBLIC, Filters(as_of=on, countries=("AT",))).tile("ps_workers")
    assert at.value == 600 and "The country filter(s) do not apply to this figure." in at.definition
    # The secretariat still sees the filtered figures.
    assert _values(store, on, SECRETARIAT, countries=("AT",))["ps_workers"] == 100
    assert _values(store, on, SECRETARIAT, regions=("Europe",))["ps_workers"] == 500


def test_public_workers_tile_ignores_lists_and_other_filters_and_says_so(tmp_path):
    store = _workers_store(tmp_path)
    on = date(2020, 3, 31)
    # Europe minus Austria as a country list: resolves to the world (600), not 400,
    # so 500 - 400 cannot give C4's workforce.
    europe_minus_at = Filters(as_of=on, countries=("DE", "FR"))
    tile = outcomes.dashboard_tiles(store, PUBLIC, europe_minus_at).tile("ps_workers")
    assert tile.value == 600
    assert "The country filter(s) do not apply to this figure." in tile.definition
    by_class = outcomes.dashboard_tiles(store, PUBLIC, Filters(as_of=on, membership_classes=("civil_society",)))
    assert by_class.tile("ps_workers").value == 600
    assert "The class filter(s) do not apply" in by_class.tile("ps_workers").definition
    assert outcomes.workers_cell(Filters(countries=("DE",), regions=("Asia",))) == (("region", "Asia"), ["country"])
    assert outcomes.workers_cell(Filters(regions=("Europe", "Asia"))) == (("world", "All regions"), ["region"])


def test_public_workers_series_hides_the_months_the_tile_would_hide(tmp_path):
    store = _workers_store(tmp_path)
    # Until June 2020 six companies: 600 each month. From 2020-07-01 C4 is withdrawn: five
    # companies of 100 pass the rules, but C5, Asia's only company, would subtract its own 100
    # from the world's 500 and learn Europe's four companies' total: the world is hidden too.
    tile = outcomes.dashboard_tiles(store, PUBLIC, Filters(as_of=date(2020, 8, 31), period_from=date(2020, 5, 1)))
    points = {p.on_date: p.value for p in tile.tile("ps_workers").series}
    assert points == {date(2020, 5, 31): 600, date(2020, 6, 30): 600}
    assert tile.tile("ps_workers").is_suppressed
    # Europe (four companies from July) is hidden in every month, so its series is empty.
    europe = outcomes.dashboard_tiles(
        store, PUBLIC, Filters(as_of=date(2020, 8, 31), period_from=date(2020, 5, 1), regions=("Europe",))
    ).tile("ps_workers")
    assert europe.series == [] and europe.value_month_ago is None and europe.value_year_ago is None


def test_a_facility_with_overlapping_certificates_counts_once(tmp_path):
    store = make_store(
        tmp_path,
        members=[{"member_id": "M1"}, {"member_id": "M2", "country": "FR"}],
        facilities=[
            {"facility_id": "F1", "member_id": "M1", "workers": 100},
            {"facility_id": "F2", "member_id": "M2", "country": "FR", "workers": 50},
        ],
        certifications=[
            # F1 holds A and B at once from 2021-06-01 to 2022-01-01
            {"certification_id": "A", "issued_on": date(2019, 1, 1), "expires_on": date(2022, 1, 1)},
            {"certification_id": "B", "issued_on": date(2021, 6, 1), "expires_on": date(2024, 6, 1)},
            {"certification_id": "C", "facility_id": "F2", "issued_on": date(2020, 1, 1),
             "expires_on": date(2020, 6, 1)},
        ],
        auditing_firms=[{"auditing_firm_id": "A1"}],
    )

    def figures(on: date) -> tuple[float, ...]:
        tiles = outcomes.dashboard_tiles(store, SECRETARIAT, Filters(as_of=on))
        return (tiles.tile("ps_workers").value, tiles.tile("certified_countries").value,
                tiles.tile("ps_certificates").secondary_value)

    assert figures(date(2020, 3, 31)) == (150, 2, 2)  # A (F1, DE) and C (F2, FR)
    assert figures(date(2021, 7, 31)) == (100, 1, 2)  # A and B both cover F1: its 100 people once
    assert figures(date(2023, 1, 31)) == (100, 1, 1)
    assert figures(date(2024, 6, 30)) == (0, 0, 0)  # B expired on 2024-06-01
    series = outcomes.dashboard_tiles(store, SECRETARIAT, Filters(as_of=date(2022, 2, 28))).tile("ps_workers").series
    values = {p.on_date: p.value for p in series}
    assert (values[date(2020, 5, 31)], values[date(2020, 6, 30)], values[date(2021, 12, 31)]) == (150, 100, 100)


def test_intervals_of_one_key_are_merged_before_counting():
    import numpy as np

    # key 1: [0, 3) and [2, 4) overlap, [5, 6) stands apart; key 2 covers nothing; key 3: [0, 2) and
    # [2, 4) touch. Positions 0..6.
    keys = np.array([1, 1, 1, 2, 3, 3])
    first = np.array([0, 2, 5, 1, 0, 2])
    last = np.array([3, 4, 6, 1, 2, 4])
    weights = np.array([10.0, 10.0, 10.0, 7.0, 1.0, 1.0])
    covered = outcomes._covered_once(keys, first, last, weights, 7)
    assert covered.tolist() == [11, 11, 11, 11, 0, 10, 0]
    assert outcomes._running(first, last, weights, 7).tolist() == [11, 11, 21, 11, 0, 10, 0]
