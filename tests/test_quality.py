"""Data-quality flags: detail for the secretariat, own rows for a member, counts for the public."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from conftest import auditing_firm, certification, coc_line, facility, make_store, member

from asi_me.filters import Filters, Viewer
from asi_me.queries import quality


def _observation(value: float, month: int) -> dict:
    return {
        "indicator_code": "OP-01",
        "period_on": date(2020, month, 1),
        "dimension": "total",
        "dimension_value": "all",
        "value": value,
        "status": "final",
    }


@pytest.fixture
def store(tmp_path):
    """Five miners M1-M5 (F1-F5) and one refiner R (F6, no coordinates, refines too much).

    CoC certifications: F1-F5 valid 2019-2022; F6 valid from 2021-06; F7 (of M1) valid
    2019-2022 but never reports; F8 (of M2) withdrawn in 2019; F9 (of M3) only PS.
    """
    members = [member(m) for m in ("M1", "M2", "M3", "M4", "M5", "R")]
    facilities = [facility(f"F{i}", f"M{i}") for i in range(1, 6)]
    facilities += [
        facility("F6", "R", latitude=None, longitude=None),
        facility("F7", "M1"),
        facility("F8", "M2"),
        facility("F9", "M3"),
    ]
    certifications = [certification(f"C{i}", f"F{i}") for i in (1, 2, 3, 4, 5, 7)]
    certifications += [
        certification("C6", "F6", issued_on=date(2021, 6, 1), expires_on=date(2024, 6, 1)),
        certification("C8", "F8", status="withdrawn", status_changed_on=date(2019, 6, 1)),
        certification("C9", "F9", standard="PS", standard_version="PS-2017"),
    ]
    lines = []
    for year in (2020, 2021):
        lines += [coc_line(f"F{i}", "bauxite_mining", "asi_bauxite", 100, 100, year=year) for i in range(1, 6)]
    # F1's 2020 report came ten days late.
    lines[0] = coc_line("F1", "bauxite_mining", "asi_bauxite", 100, 100, year=2020, submitted_on=date(2021, 4, 10))
    # The refiner reports without a valid certificate in 2020, and its yield 0.8 is
    # above 1.5 x 0.5 and breaks the mass balance (allowance 50 t).
    lines.append(coc_line("F6", "alumina_refining", "asi_bauxite", 100, 80, year=2020))
    observations = [_observation(v, m) for m, v in enumerate([10, 11, 10, 12, 11, 10, 11, 10, 12, 50], start=1)]
    return make_store(
        tmp_path,
        members=members,
        facilities=facilities,
        certifications=certifications,
        auditing_firms=[auditing_firm()],
        coc_reports=lines,
        indicator_observations=observations,
    )


def test_reports_received_against_expected_per_year(store):
    counts = quality.quality_coc_reports_received(store, Viewer.public())
    assert counts.to_dict("records") == [
        # 2020: expected F1-F5 and F7; received F1-F5 and F6 (not expected).
        {"reporting_year": 2020, "expected": 6, "received": 6, "missing": 1, "received_unexpected": 1},
        # 2021: F6 is now certified but did not report.
        {"reporting_year": 2021, "expected": 7, "received": 5, "missing": 2, "received_unexpected": 0},
    ]
    missing = quality.quality_coc_reports_missing(store, Viewer.secretariat())
    assert list(zip(missing["reporting_year"], missing["facility_id"], strict=True)) == [
        (2020, "F7"),
        (2021, "F6"),
        (2021, "F7"),
    ]
    assert quality.quality_coc_reports_missing(store, Viewer.member("M1"))["facility_id"].tolist() == ["F7", "F7"]
    assert quality.quality_coc_reports_missing(store, Viewer.member("M2")).empty
    assert quality.quality_coc_reports_missing(store, Viewer.public()).empty


def test_late_reports(store):
    detail = quality.quality_late_reports(store, Viewer.secretariat())
    assert detail[["facility_id", "reporting_year", "days_late"]].values.tolist() == [["F1", 2020, 10]]
    assert quality.quality_late_reports(store, Viewer.member("M2")).empty
    public = quality.quality_late_reports(store, Viewer.public())
    assert public.to_dict("records") == [
        {"reporting_year": 2020, "reports": 6, "late": 1},
        {"reporting_year": 2021, "reports": 5, "late": 0},
    ]
    assert "facility_id" not in public.columns


def test_facilities_without_coordinates(store):
    assert quality.quality_missing_coordinates(store, Viewer.secretariat())["facility_id"].tolist() == ["F6"]
    assert quality.quality_missing_coordinates(store, Viewer.member("R"))["facility_id"].tolist() == ["F6"]
    assert quality.quality_missing_coordinates(store, Viewer.member("M1")).empty
    assert quality.quality_missing_coordinates(store, Viewer.public())["facilities"].tolist() == [1]


def test_indicator_outliers_use_median_and_mad(store):
    # Median 11, MAD 1: 50 is (50 - 11) / 1.4826 = 26 robust z away; 12 is 0.7.
    outliers = quality.quality_indicator_outliers(store, Viewer.public())
    assert outliers[["period_on", "value"]].values.tolist() == [[pd.Timestamp(2020, 10, 1), 50.0]]
    assert outliers["robust_z"].iloc[0] == pytest.approx(39 / 1.4826)



def test_indicator_outliers_at_thresholds_above_and_below_the_precomputed_one(store):
    # |z| is 0 for the three 11s, 1 / 1.4826 = 0.67 for the four 10s and two 12s, 26.3 for 50.
    public = Viewer.public()
    low = quality.quality_indicator_outliers(store, public, threshold=0.5)  # below 3.5: every observation scored
    assert low["value"].tolist() == [10.0, 10.0, 12.0, 10.0, 10.0, 12.0, 50.0]  # in period order
    assert quality.quality_indicator_outliers(store, public, threshold=26.0)["value"].tolist() == [50.0]
    none = quality.quality_indicator_outliers(store, public, threshold=27.0)
    assert none.empty
    default = quality.quality_indicator_outliers(store, public)
    assert low.dtypes.to_dict() == default.dtypes.to_dict() == none.dtypes.to_dict()
    with pytest.raises(ValueError, match="Outlier threshold 'high' is not a number"):
        quality.quality_indicator_outliers(store, public, threshold="high")

def test_mass_balance_and_yield_counts_never_reveal_a_suppressed_stage(store):
    # The refiner is alone at its stage: the secretariat sees its failing line, the
    # public count leaves the unpublished stage out entirely.
    failures = quality.quality_mass_balance_failures(store, Viewer.secretariat())
    assert failures[["facility_id", "excess_t"]].values.tolist() == [["F6", 30.0]]
    assert quality.quality_mass_balance_failures(store, Viewer.member("R"))["facility_id"].tolist() == ["F6"]
    assert quality.quality_mass_balance_failures(store, Viewer.member("M1")).empty
    public = quality.quality_mass_balance_failures(store, Viewer.public())
    assert ("alumina_refining" not in set(public[public["reporting_year"] == 2020]["stage"]))
    assert public["lines"].sum() == 0
    yields = quality.quality_coc_yield_outliers(store, Viewer.secretariat())
    assert yields[["facility_id", "yield_ratio"]].values.tolist() == [["F6", 0.8]]
    assert quality.quality_coc_yield_outliers(store, Viewer.public())["lines"].sum() == 0


def test_quality_flags_summary_by_role(store):
    secretariat = quality.quality_flags(store, Viewer.secretariat()).set_index("flag")
    assert secretariat["count"].to_dict() == {
        "coc_reports_missing": 3,
        "late_reports": 1,
        "mass_balance_failures": 1,
        "missing_coordinates": 1,
        "coc_flow_problems": 0,
        "indicator_outliers": 1,
        "coc_yield_outliers": 1,
    }
    assert secretariat["is_detail_available"].all()
    public = quality.quality_flags(store, Viewer.public()).set_index("flag")
    assert public["count"].to_dict() == {
        "coc_reports_missing": 3,
        "late_reports": 1,
        "mass_balance_failures": 0,
        "missing_coordinates": 1,
        "coc_flow_problems": 0,
        "indicator_outliers": 1,
        "coc_yield_outliers": 0,
    }
    assert not public.loc["late_reports", "is_detail_available"]
    assert "published CoC stages only" in public.loc["mass_balance_failures", "description"]
    own = quality.quality_flags(store, Viewer.member("R")).set_index("flag")
    assert own.loc["mass_balance_failures", "count"] == 1 and own["is_own_only"].all()
    published = quality.quality_flags(store, Viewer.secretariat(), for_publication=True)
    assert published["count"].tolist() == public["count"].tolist()


def test_empty_dataset_has_no_flags(tmp_path):
    empty = make_store(tmp_path)
    for viewer in (Viewer.public(), Viewer.secretariat()):
        assert quality.quality_flags(empty, viewer)["count"].sum() == 0


def test_public_report_counts_are_world_totals_whatever_the_place_filter(store):
    from asi_me.filters import Filters

    # Every test facility is in Germany: a Brazil filter would count none if it applied.
    country = Filters(countries=("BR",))
    world = quality.quality_coc_reports_received(store, Viewer.public())
    assert world["expected"].tolist() == [6, 7]
    assert quality.quality_coc_reports_received(store, Viewer.public(), country).equals(world)
    late = quality.quality_late_reports(store, Viewer.public())
    assert quality.quality_late_reports(store, Viewer.public(), country).equals(late)
    assert quality.world_counts_note(Viewer.public(), country) == quality.WORLD_COUNTS_NOTE
    assert quality.world_counts_note(Viewer.public(), Filters()) is None
    flags = quality.quality_flags(store, Viewer.public(), country).set_index("flag")
    assert flags.loc["late_reports", "description"].endswith("(all countries, regions and classes)")
    # The secretariat's filter still applies: no facility in Brazil.
    assert quality.quality_coc_reports_received(store, Viewer.secretariat(), country).empty
    assert quality.world_counts_note(Viewer.secretariat(), country) is None


@pytest.fixture(scope="module")
def demo_store():
    from asi_me.data.snapshot import current_id
    from asi_me.data.store import Store
    from asi_me.settings import REPO_ROOT

    if current_id(REPO_ROOT / "data") is None:
        pytest.skip("data/ has no snapshot yet: run `python -m asi_me demo` to write the demo dataset.")
    store = Store.open_current(REPO_ROOT / "data")
    yield store
    store.close()


@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(regions=("Europe",)), Filters(membership_classes=("production_transformation",))],
    ids=["world", "one region", "one class"],
)
def test_public_line_counts_are_the_secretariat_lines_at_published_stage_years(demo_store, filters):
    # The public counts come from their own aggregate queries; they must count exactly the
    # lines the secretariat sees listed, wherever the public CoC view publishes the stage.
    for flag in (quality.quality_mass_balance_failures, quality.quality_coc_yield_outliers):
        public = flag(demo_store, Viewer.public(), filters)
        lines = flag(demo_store, Viewer.secretariat(), filters)
        listed = lines.groupby(["reporting_year", "stage"]).size().to_dict()
        keys = zip(public["reporting_year"], public["stage"], strict=True)
        counted = dict(zip(keys, public["lines"], strict=True))
        assert counted == {key: listed.get(key, 0) for key in counted}, flag.__name__


def test_flows_a_sankey_cannot_draw_are_flagged_with_their_reason(tmp_path):
    """Five semi-fabricators report eligible scrap received from recyclers in 2020, but no
    recycler reports that year: the recycling node sends 500 t it never put out, and its
    attrition (output minus links) is -500 t."""
    members = [member(f"M{i}") for i in range(1, 6)]
    facilities = [facility(f"F{i}", f"M{i}") for i in range(1, 6)]
    certifications = [certification(f"C{i}", f"F{i}") for i in range(1, 6)]
    lines = [coc_line(f"F{i}", "semi_fabrication", "eligible_scrap", 100, 90) for i in range(1, 6)]
    store = make_store(tmp_path, members=members, facilities=facilities, certifications=certifications,
                       coc_reports=lines)
    problems = quality.quality_coc_flow_problems(store, Viewer.secretariat())
    assert sorted(zip(problems["check"], problems["source"], problems["target"], problems["value_t"], strict=True)) == [
        (quality.FLOW_FROM_NO_REPORTS, "recycling", "semi_fabrication", 500.0),
        (quality.NEGATIVE_FLOW, "recycling", "left_chain", -500.0),
    ]
    negative = problems.set_index("check").loc[quality.NEGATIVE_FLOW, "explanation"]
    assert "-500.0 t in 2020: a flow cannot be negative" in negative
    silent = problems.set_index("check").loc[quality.FLOW_FROM_NO_REPORTS, "explanation"]
    assert silent.startswith("No recycling / eligible scrap reports for 2020, yet semi-fabrication reports receiving")
    flags = quality.quality_flags(store, Viewer.secretariat()).set_index("flag")
    assert flags.loc["coc_flow_problems", "count"] == 2
    # The public is checked on what it is served: the same links, published or hidden.
    public = quality.quality_coc_flow_problems(store, Viewer.public())
    assert set(public["check"]) <= {quality.FLOW_FROM_NO_REPORTS, quality.NEGATIVE_FLOW}
