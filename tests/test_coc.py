"""CoC material flow under the antitrust policy, on tiny datasets worked out by hand,
and on the demo snapshot's seeded cases."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import coc_line, facility, make_store, member

from asi_me.filters import Filters, Viewer
from asi_me.publish.policy import DisclosurePolicy
from asi_me.queries import coc
from asi_me.settings import REPO_ROOT

FEW = "suppressed (fewer than 5 reporters)"
DOMINANT = "suppressed (one reporter above 25% share)"
PROTECT = "suppressed (to protect another suppressed cell)"
POLICY = DisclosurePolicy()


def _companies(ids, **facility_overrides):
    return [member(m) for m in ids], [facility(f"F{m}", m, **facility_overrides) for m in ids]


@pytest.fixture
def six_miners_four_refiners(tmp_path):
    """6 companies mine 100 t each; 4 companies refine 100 t of that bauxite into 50 t alumina each."""
    miners, refiners = [f"M{i}" for i in range(1, 7)], [f"R{i}" for i in range(1, 5)]
    members, facilities = _companies(miners + refiners)
    lines = [coc_line(f"F{m}", "bauxite_mining", "asi_bauxite", 100, 100) for m in miners]
    lines += [coc_line(f"F{m}", "alumina_refining", "asi_bauxite", 100, 50) for m in refiners]
    return make_store(tmp_path, members=members, facilities=facilities, coc_reports=lines)


def _by_stage(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("stage")


def _link(flows: pd.DataFrame, source: str, target: str) -> pd.Series:
    match = flows[(flows["source"] == source) & (flows["target"] == target)]
    assert len(match) == 1, f"expected one {source} -> {target} link"
    return match.iloc[0]


def test_public_sees_a_stage_with_four_reporters_suppressed_and_its_links_hidden(six_miners_four_refiners):
    store = six_miners_four_refiners
    summary = _by_stage(coc.coc_stage_summary(store, Viewer.public(), 2020, policy=POLICY))
    refining = summary.loc["alumina_refining"]
    assert math.isnan(refining["input_t"]) and math.isnan(refining["output_t"])
    assert refining["is_suppressed"] and refining["suppression_note"] == FEW
    assert refining["reporters_label"] == "fewer than 5" and pd.isna(refining["reporters"])
    # Mining is published: 600 t mined and output.
    mining = summary.loc["bauxite_mining"]
    assert (mining["input_t"], mining["output_t"], mining["is_suppressed"]) == (600, 600, False)
    # Its attrition (600 - 400 taken by refiners) would reveal the refiners' input: hidden.
    assert math.isnan(mining["attrition_t"]) and math.isnan(mining["attrition_pct"])
    assert mining["attrition_suppression_note"] == PROTECT
    # Ten companies report in total, so showing mining's 6 would give refining's 4 away.
    assert pd.isna(mining["reporters"]) and mining["reporters_label"] == PROTECT

    flows = coc.coc_stage_flows(store, Viewer.public(), 2020, policy=POLICY)
    mined = _link(flows, "origin_bauxite_mining", "bauxite_mining")
    assert mined["value_t"] == 600 and not mined["is_suppressed"]
    into_refining = _link(flows, "bauxite_mining", "alumina_refining")
    assert math.isnan(into_refining["value_t"]) and into_refining["suppression_note"] == FEW
    assert math.isnan(into_refining["share_of_source"])
    mining_loss = _link(flows, "bauxite_mining", "left_chain")
    assert math.isnan(mining_loss["value_t"]) and mining_loss["suppression_note"] == PROTECT
    refining_loss = _link(flows, "alumina_refining", "left_chain")
    assert math.isnan(refining_loss["value_t"]) and refining_loss["is_suppressed"]
    # Nothing is shown as a zero in place of a hidden figure.
    hidden = flows[flows["is_suppressed"]]
    assert hidden["value_t"].isna().all() and hidden["suppression_note"].notna().all()


def test_secretariat_sees_everything_with_publication_flags(six_miners_four_refiners):
    store = six_miners_four_refiners
    summary = _by_stage(coc.coc_stage_summary(store, Viewer.secretariat(), 2020, policy=POLICY))
    refining = summary.loc["alumina_refining"]
    assert (refining["input_t"], refining["output_t"], refining["reporters"]) == (400, 200, 4)
    assert not refining["is_suppressed"] and refining["would_be_suppressed"]
    assert refining["publication_note"] == FEW
    mining = summary.loc["bauxite_mining"]
    assert (mining["attrition_t"], mining["attrition_pct"]) == (200, pytest.approx(1 / 3))
    assert mining["attrition_would_be_suppressed"] and not mining["would_be_suppressed"]
    flows = coc.coc_stage_flows(store, Viewer.secretariat(), 2020, policy=POLICY)
    link = _link(flows, "bauxite_mining", "alumina_refining")
    assert link["value_t"] == 400 and link["share_of_source"] == pytest.approx(400 / 600)
    assert link["would_be_suppressed"] and not link["is_suppressed"]


def test_for_publication_forces_the_public_policy_on_the_secretariat(six_miners_four_refiners):
    store = six_miners_four_refiners
    for query in (coc.coc_stage_summary, coc.coc_stage_flows, coc.coc_year_over_year):
        public = query(store, Viewer.public(), 2020, policy=POLICY)
        published = query(store, Viewer.secretariat(), 2020, for_publication=True, policy=POLICY)
        pd.testing.assert_frame_equal(public, published)


def test_member_gets_public_aggregates_and_only_its_own_lines(six_miners_four_refiners):
    store = six_miners_four_refiners
    viewer = Viewer.member("R1")
    pd.testing.assert_frame_equal(
        coc.coc_stage_summary(store, viewer, 2020, policy=POLICY),
        coc.coc_stage_summary(store, Viewer.public(), 2020, policy=POLICY),
    )
    own = coc.coc_member_reports(store, viewer, 2020)
    assert own[["facility_id", "member_id", "input_t", "output_t"]].values.tolist() == [["FR1", "R1", 100.0, 50.0]]
    assert coc.coc_member_reports(store, Viewer.public(), 2020).empty
    assert len(coc.coc_member_reports(store, Viewer.secretariat(), 2020)) == 10
    balance = coc.coc_mass_balance(store, viewer, 2020)
    assert balance["facility_id"].tolist() == ["FR1"]


def test_one_company_with_30_percent_is_suppressed_for_dominance(tmp_path):
    ids = [f"S{i}" for i in range(1, 6)]
    members, facilities = _companies(ids)
    volumes = {"S1": 300, "S2": 175, "S3": 175, "S4": 175, "S5": 175}  # S1 holds 300 / 1000
    lines = [coc_line(f"F{m}", "semi_fabrication", "asi_aluminium", v, v) for m, v in volumes.items()]
    store = make_store(tmp_path, members=members, facilities=facilities, coc_reports=lines)
    semi = _by_stage(coc.coc_stage_summary(store, Viewer.public(), 2020, policy=POLICY)).loc["semi_fabrication"]
    assert math.isnan(semi["output_t"]) and semi["suppression_note"] == DOMINANT
    # Five companies report, so the count itself is shown.
    assert semi["reporters"] == 5 and semi["reporters_label"] == "5"
    # With 25 % exactly the stage is published.
    shares = zip(ids, [250, 250, 200, 150, 150], strict=True)
    fair = [coc_line(f"F{m}", "semi_fabrication", "asi_aluminium", v, v) for m, v in shares]
    store = make_store(tmp_path, members=members, facilities=facilities, coc_reports=fair)
    semi = _by_stage(coc.coc_stage_summary(store, Viewer.public(), 2020, policy=POLICY)).loc["semi_fabrication"]
    assert semi["output_t"] == 1000 and not semi["is_suppressed"]


def test_two_entities_of_one_company_count_once_and_zero_volume_reporters_not_at_all(tmp_path):
    members = [member(m) for m in ("A", "B", "C", "D", "Z")]
    facilities = [facility("FA1", "A"), facility("FA2", "A")] + [facility(f"F{m}", m) for m in ("B", "C", "D", "Z")]
    lines = [coc_line(f, "recycling", "eligible_scrap", 20, 20) for f in ("FA1", "FA2", "FB", "FC", "FD")]
    lines.append(coc_line("FZ", "recycling", "eligible_scrap", 0, 0))  # a company that reported nothing
    store = make_store(tmp_path, members=members, facilities=facilities, coc_reports=lines)
    secretariat = _by_stage(coc.coc_stage_summary(store, Viewer.secretariat(), 2020, policy=POLICY))
    assert (secretariat.loc["recycling", "reporters"], secretariat.loc["recycling", "entities"]) == (4, 5)
    public = _by_stage(coc.coc_stage_summary(store, Viewer.public(), 2020, policy=POLICY))
    assert public.loc["recycling", "suppression_note"] == FEW
    assert public.loc["recycling", "reporters_label"] == "fewer than 5"
    totals = coc.coc_reporting_summary(store, Viewer.secretariat(), 2020, policy=POLICY).iloc[0]
    assert (totals["reporting_entities"], totals["reporting_companies"], totals["stages_published"]) == (5, 4, 0)
    # Four companies in all would give the one stage's count away: the public total is masked too.
    public_totals = coc.coc_reporting_summary(store, Viewer.public(), 2020, policy=POLICY).iloc[0]
    assert pd.isna(public_totals["reporting_companies"]) and pd.isna(public_totals["reporting_entities"])
    assert public_totals["reporting_companies_label"] == "fewer than 5"


def test_filters_restrict_to_facility_region_and_member_class(tmp_path):
    members = [member(f"E{i}") for i in range(5)]
    members += [member(f"B{i}", membership_class="industrial_users") for i in range(5)]
    facilities = [facility(f"FE{i}", f"E{i}", country="DE") for i in range(5)]
    facilities += [facility(f"FB{i}", f"B{i}", country="BR") for i in range(5)]
    lines = [coc_line(f"FE{i}", "bauxite_mining", "asi_bauxite", 10, 10) for i in range(5)]
    lines += [coc_line(f"FB{i}", "bauxite_mining", "asi_bauxite", 30, 30) for i in range(5)]
    store = make_store(tmp_path, members=members, facilities=facilities, coc_reports=lines)

    def mining_output(filters: Filters) -> float:
        frame = coc.coc_stage_summary(store, Viewer.public(), 2020, filters, policy=POLICY)
        return _by_stage(frame).loc["bauxite_mining", "output_t"]

    assert mining_output(Filters()) == 200
    assert mining_output(Filters(regions=("Europe",))) == 50
    assert mining_output(Filters(membership_classes=("industrial_users",))) == 150
    # Activity is not a CoC dimension and leaves the flow whole.
    assert mining_output(Filters(activities=("casthouse",))) == 200
    # The public can filter by one region or one class only: a country, two regions, or a
    # region with a class do not apply (world figures) and the result says so.
    assert mining_output(Filters(countries=("BR",))) == 200
    assert coc.coc_filters_not_applied(Viewer.public(), Filters(countries=("BR",))) == ["country"]
    both = Filters(regions=("Europe",), membership_classes=("industrial_users",))
    assert mining_output(both) == 200
    assert coc.coc_filters_not_applied(Viewer.public(), both) == ["region", "class"]
    assert coc.coc_filter_note(Viewer.public(), both) == coc.FILTER_NOTE
    assert mining_output(Filters(regions=("Europe", "Latin America & Caribbean"))) == 200
    assert coc.coc_filters_not_applied(Viewer.public(), Filters(regions=("Europe",))) == []
    # The secretariat's analysis applies every filter.
    secretariat = coc.coc_stage_summary(store, Viewer.secretariat(), 2020, Filters(countries=("BR",)), policy=POLICY)
    assert _by_stage(secretariat).loc["bauxite_mining", "output_t"] == 150
    assert coc.coc_filters_not_applied(Viewer.secretariat(), Filters(countries=("BR",))) == []


def test_a_filtered_view_is_hidden_when_the_rest_of_the_world_would_fail_the_policy(tmp_path):
    # 6 miners in Germany (Europe), 3 in Brazil. Europe alone passes, but "all" (90 t) minus
    # "Europe" (60 t) would give Brazil's 3 companies away: Europe's figure is hidden.
    members = [member(f"D{i}") for i in range(6)] + [member(f"B{i}") for i in range(3)]
    facilities = [facility(f"FD{i}", f"D{i}", country="DE") for i in range(6)]
    facilities += [facility(f"FB{i}", f"B{i}", country="BR") for i in range(3)]
    lines = [coc_line(f.get("facility_id"), "bauxite_mining", "asi_bauxite", 10, 10) for f in facilities]
    store = make_store(tmp_path, members=members, facilities=facilities, coc_reports=lines)
    everywhere = _by_stage(coc.coc_stage_summary(store, Viewer.public(), 2020, policy=POLICY))
    assert everywhere.loc["bauxite_mining", "output_t"] == 90
    europe = coc.coc_stage_summary(store, Viewer.public(), 2020, Filters(regions=("Europe",)), policy=POLICY)
    mining = _by_stage(europe).loc["bauxite_mining"]
    assert math.isnan(mining["output_t"]) and mining["suppression_note"] == PROTECT
    analysis = _by_stage(
        coc.coc_stage_summary(store, Viewer.secretariat(), 2020, Filters(regions=("Europe",)), policy=POLICY)
    ).loc["bauxite_mining"]
    assert analysis["output_t"] == 60 and analysis["would_be_suppressed"]
    # The secretariat's country analysis is flagged the same way.
    assert _by_stage(
        coc.coc_stage_summary(store, Viewer.secretariat(), 2020, Filters(countries=("DE",)), policy=POLICY)
    ).loc["bauxite_mining", "would_be_suppressed"]


def test_year_over_year_hides_changes_against_a_suppressed_year(tmp_path):
    ids = [f"M{i}" for i in range(1, 6)]
    members, facilities = _companies(ids)
    lines = [coc_line(f"F{m}", "bauxite_mining", "asi_bauxite", 100, 100, year=2020) for m in ids]
    lines += [coc_line(f"F{m}", "bauxite_mining", "asi_bauxite", 100, 100, year=2019) for m in ids[:3]]
    lines += [coc_line(f"F{m}", "primary_production", "asi_alumina", 100, 50, year=2019) for m in ids]
    lines += [coc_line(f"F{m}", "primary_production", "asi_alumina", 120, 60, year=2020) for m in ids]
    store = make_store(tmp_path, members=members, facilities=facilities, coc_reports=lines)
    yoy = _by_stage(coc.coc_year_over_year(store, Viewer.public(), 2020, policy=POLICY))
    # Primary: 250 t -> 300 t, +20 %.
    assert (yoy.loc["primary_production", "previous_output_t"], yoy.loc["primary_production", "output_t"]) == (250, 300)
    assert yoy.loc["primary_production", "change_pct"] == pytest.approx(0.2)
    # Mining had 3 companies in 2019: the 2019 figure and the change are hidden, 2020 is shown.
    mining = yoy.loc["bauxite_mining"]
    assert mining["output_t"] == 500 and math.isnan(mining["previous_output_t"])
    assert mining["previous_suppression_note"] == FEW
    assert math.isnan(mining["change_t"]) and math.isnan(mining["change_pct"]) and mining["change_is_suppressed"]


def test_mass_balance_allows_carried_forward_stock_and_public_counts_follow_the_policy(tmp_path):
    ids = [f"P{i}" for i in range(1, 6)]
    members, facilities = _companies(ids)
    lines = [
        coc_line("FP1", "primary_production", "asi_alumina", 100, 53),  # exactly 100 x 0.53: fine
        coc_line("FP2", "primary_production", "asi_alumina", 100, 60),  # 7 t too much
        coc_line("FP3", "primary_production", "asi_alumina", 100, 60, carried_forward_t=10),  # stock covers it
        coc_line("FP4", "primary_production", "asi_alumina", 100, 50),
        coc_line("FP5", "primary_production", "asi_alumina", 100, 50),
        coc_line("FP1", "semi_fabrication", "asi_aluminium", 10, 20),  # fails, but only one company
    ]
    store = make_store(tmp_path, members=members, facilities=facilities, coc_reports=lines)
    detail = coc.coc_mass_balance(store, Viewer.secretariat(), 2020)
    failing = detail[~detail["is_balanced"]]
    assert sorted(zip(failing["facility_id"], failing["stage"], failing["excess_t"].round(6), strict=True)) == [
        ("FP1", "semi_fabrication", 10.0),
        ("FP2", "primary_production", 7.0),
    ]
    counts = _by_stage(coc.coc_mass_balance(store, Viewer.public(), 2020, policy=POLICY))
    assert (counts.loc["primary_production", "lines_checked"], counts.loc["primary_production", "failures"]) == (5, 1)
    assert pd.isna(counts.loc["semi_fabrication", "failures"])
    assert counts.loc["semi_fabrication", "suppression_note"] == FEW
    assert "facility_id" not in counts.columns


def test_bad_years_are_refused_in_a_sentence(six_miners_four_refiners):
    for bad in ("2020; drop table members", "1 or 1=1", 2020.5, None, True):
        with pytest.raises(ValueError, match="is not a year"):
            coc.coc_stage_summary(six_miners_four_refiners, Viewer.public(), bad)
    assert coc.coc_stage_summary(six_miners_four_refiners, Viewer.public(), "2020")["output_t"].sum() == 600


def test_an_empty_dataset_gives_empty_but_well_formed_views(tmp_path):
    store = make_store(tmp_path)
    assert coc.coc_years(store) == []
    summary = coc.coc_stage_summary(store, Viewer.public(), 2020)
    assert len(summary) == 6 and (summary["output_t"] == 0).all() and not summary["is_suppressed"].any()
    assert coc.coc_member_reports(store, Viewer.secretariat()).empty


# --- the demo snapshot ----------------------------------------------------------------------

DEMO_DATA = REPO_ROOT / "data"


@pytest.fixture(scope="module")
def demo_store():
    from asi_me.data.snapshot import current_id
    from asi_me.data.store import Store

    if current_id(Path(DEMO_DATA)) is None:
        pytest.skip("data/ has no snapshot yet: run `python -m asi_me demo` to write the demo dataset.")
    store = Store.open_current(DEMO_DATA)
    yield store
    store.close()


def test_demo_public_view_shows_the_published_reporter_counts(demo_store):
    from asi_me.demo.generate import SEEDED_CASES

    totals_2019 = coc.coc_reporting_summary(demo_store, Viewer.public(), 2019, policy=POLICY).iloc[0]
    totals_2020 = coc.coc_reporting_summary(demo_store, Viewer.public(), 2020, policy=POLICY).iloc[0]
    assert totals_2019["reporting_entities"] == 13
    assert totals_2020["reporting_entities"] == 27
    summary_2020 = coc.coc_stage_summary(demo_store, Viewer.public(), 2020, policy=POLICY)
    published = summary_2020[~summary_2020["is_suppressed"]]
    assert len(published) == totals_2020["stages_published"] > 0
    assert (published["reporters"] >= 5).all()

    few = SEEDED_CASES["few_reporters"]
    summary = _by_stage(coc.coc_stage_summary(demo_store, Viewer.public(), few["reporting_year"], policy=POLICY))
    seeded = summary.loc[few["stage"]]
    assert seeded["is_suppressed"] and seeded["suppression_note"] == FEW
    assert math.isnan(seeded["output_t"]) and seeded["reporters_label"] == "fewer than 5"
    secretariat = coc.coc_stage_summary(demo_store, Viewer.secretariat(), few["reporting_year"], policy=POLICY)
    assert _by_stage(secretariat).loc[few["stage"], "reporters"] == few["companies"]


def test_demo_dominant_reporter_and_mass_balance_failure_are_caught(demo_store):
    from asi_me.demo.generate import SEEDED_CASES

    dominant = SEEDED_CASES["dominant_reporter"]
    summary = coc.coc_stage_summary(demo_store, Viewer.public(), dominant["reporting_year"], policy=POLICY)
    assert _by_stage(summary).loc[dominant["stage"], "suppression_note"] == DOMINANT
    failure = SEEDED_CASES["mass_balance_failure"]
    detail = coc.coc_mass_balance(demo_store, Viewer.secretariat(), failure["reporting_year"])
    failing = detail[~detail["is_balanced"]]
    assert (failure["facility_id"], failure["stage"], failure["material"]) in set(
        zip(failing["facility_id"], failing["stage"], failing["material"], strict=True)
    )


def test_default_year_is_the_latest_whose_reports_were_due_by_the_as_of_date(tmp_path):
    from datetime import date

    members, facilities = _companies(["M1"])
    lines = [
        coc_line("FM1", "bauxite_mining", "asi_bauxite", 100, 100, year, due_on=date(year + 1, 5, 31))
        for year in (2019, 2020, 2021)
    ]
    store = make_store(tmp_path, members=members, facilities=facilities, coc_reports=lines)
    assert coc.coc_default_year(store) == 2021
    assert coc.coc_default_year(store, date(2021, 6, 30)) == 2020
    assert coc.coc_default_year(store, date(2021, 5, 31)) == 2020
    assert coc.coc_default_year(store, date(2021, 5, 30)) == 2019
    assert coc.coc_default_year(store, date(2020, 1, 1)) is None
