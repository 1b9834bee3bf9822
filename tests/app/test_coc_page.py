"""The CoC material-flow screen in Streamlit's AppTest: every role, demo and empty data,
URL parameters, year changes, and the antitrust policy on everything the public sees."""

from __future__ import annotations

import json

import pytest

from asi_me.filters import Filters, Viewer
from asi_me.queries.coc import FILTER_NOTE, coc_lines, coc_member_reports, coc_stage_flows, coc_stage_summary

PAGE = "pages/coc_flow.py"
ROLES = ("public", "member", "secretariat")


def assert_clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def everything_shown(at) -> str:
    """Every text element, table, metric and chart spec on the screen."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [frame.value.to_csv(index=False) for frame in at.dataframe]
    parts += [chart.proto.spec for chart in at.get("plotly_chart")]
    return "\n".join(parts)


def numbers_in(spec: object) -> list[float]:
    """Every number inside a chart spec (values, positions, anything)."""
    if isinstance(spec, bool):
        return []
    if isinstance(spec, int | float):
        return [float(spec)]
    if isinstance(spec, dict):
        return [n for v in spec.values() for n in numbers_in(v)]
    if isinstance(spec, list):
        return [n for v in spec for n in numbers_in(v)]
    return []


def sankey_values(at) -> list[float]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return sorted(round(float(v), 1) for v in spec["data"][0]["link"]["value"])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("dataset", ["demo", "empty"])
def test_every_role_opens_the_screen_without_error(open_app, demo_dir, empty_dir, demo_member, role, dataset) -> None:
    data_dir = demo_dir if dataset == "demo" else empty_dir
    at = open_app(data_dir, page=PAGE, role=role, member=demo_member if role == "member" else None)
    assert_clean(at)
    if dataset == "empty":
        assert "No CoC material reports are loaded" in " ".join(i.value for i in at.info)


def test_public_screen_never_shows_a_suppressed_value(open_app, demo_dir, demo_store, downloads) -> None:
    year = 2019  # the first reporting year: few reporters, so the policy withholds cells
    public = coc_stage_flows(demo_store, Viewer.public(), year)
    truth = coc_stage_flows(demo_store, Viewer.secretariat(), year)
    hidden = truth.loc[public["is_suppressed"].to_numpy(), "value_t"].tolist()
    stages = coc_stage_summary(demo_store, Viewer.public(), year)
    stage_truth = coc_stage_summary(demo_store, Viewer.secretariat(), year)
    hidden += stage_truth.loc[stages["is_suppressed"].to_numpy(), "output_t"].tolist()
    # Small true values (a stage nobody reported is 0 t) cannot be told apart from other digits on screen.
    hidden = [v for v in hidden if v >= 100]
    assert hidden, "the demo data should have suppressed cells in 2019"

    at = open_app(demo_dir, page=PAGE, role="public", params={"year": str(year)})
    assert_clean(at)
    shown = everything_shown(at)
    # Every text file the screen offers (tables, SVG images); PNG pictures hold no text to search.
    files = b"\n".join(d["data"] for d in downloads if not str(d["file_name"]).endswith(".png")).decode("utf-8-sig")
    drawn = [v for chart in at.get("plotly_chart") for v in numbers_in(json.loads(chart.proto.spec))]
    for value in hidden:
        for text in (f"{value:,.0f}", f"{value:,.1f}"):
            assert text not in shown, f"suppressed value {value} is visible as {text!r}"
            assert text not in files, f"suppressed value {value} is downloadable as {text!r}"
        assert not [v for v in drawn if abs(v - value) < 0.05], f"suppressed value {value} is drawn"
    assert "suppressed (fewer than 5 reporters)" in shown
    assert "suppressed (fewer than 5 reporters)" in files
    # the Sankey draws only published links, and draws none as zero
    assert 0 not in sankey_values(at)
    published = public.loc[~public["is_suppressed"] & (public["value_t"] > 0), "value_t"]
    assert sankey_values(at) == sorted(round(float(v), 1) for v in published)


def test_year_in_the_url_reproduces_the_view_and_changing_it_changes_the_figures(
    open_app, demo_dir, demo_store
) -> None:
    at = open_app(demo_dir, page=PAGE, params={"year": "2020"})
    assert_clean(at)
    assert at.selectbox(key="coc_year").value == 2020
    expected_2020 = coc_stage_flows(demo_store, Viewer.public(), 2020)
    assert sankey_values(at) == sorted(round(float(v), 1) for v in expected_2020["value_t"] if v > 0)

    at.selectbox(key="coc_year").set_value(2022).run()
    assert_clean(at)
    expected_2022 = coc_stage_flows(demo_store, Viewer.public(), 2022)
    assert sankey_values(at) == sorted(round(float(v), 1) for v in expected_2022["value_t"] if v > 0)
    assert sankey_values(at) != sorted(round(float(v), 1) for v in expected_2020["value_t"] if v > 0)
    assert at.query_params["year"] == "2022"


def test_percent_toggle_draws_shares_of_source_output(open_app, demo_dir, demo_store) -> None:
    at = open_app(demo_dir, page=PAGE, params={"year": "2021", "unit": "pct"})
    assert_clean(at)
    flows = coc_stage_flows(demo_store, Viewer.public(), 2021)
    # origins count as 100 %, every other published link as its share of the source's output
    expected = [
        100.0 if source.startswith("origin_") else round(share * 100, 1)
        for source, share, value in zip(flows["source"], flows["share_of_source"], flows["value_t"], strict=True)
        if value > 0 and (source.startswith("origin_") or share == share)  # NaN: withheld, not drawn
    ]
    assert sankey_values(at) == sorted(expected)
    assert len(expected) < len(flows) or not flows["is_share_suppressed"].any()


def test_a_year_before_coc_certification_is_explained(open_app, demo_dir) -> None:
    at = open_app(demo_dir, page=PAGE, params={"year": "2017"})
    assert_clean(at)
    text = " ".join(i.value for i in at.info)
    assert "No CoC reports for 2017: CoC certification began in 2018" in text
    assert not at.get("plotly_chart")


def test_member_sees_its_own_lines_beside_the_public_aggregates(open_app, demo_dir, demo_store, demo_member) -> None:
    at = open_app(demo_dir, page=PAGE, role="member", member=demo_member, params={"year": "2024"})
    assert_clean(at)
    own = coc_member_reports(demo_store, Viewer.member(demo_member), 2024)
    headings = [h.value for h in at.header]
    assert "Your CoC report lines, 2024" in headings
    tables = [
        t.value for t in at.dataframe if "Submitted date" in t.value.columns and "Balanced" not in t.value.columns
    ]
    assert len(tables) == 1
    assert len(tables[0]) == len(own)
    assert set(tables[0]["Member name"]) <= set(own["member_name"])


def test_public_sees_counts_not_lines_of_mass_balance(open_app, demo_dir) -> None:
    at = open_app(demo_dir, page=PAGE, params={"year": "2024"})
    assert_clean(at)
    assert not any("report lines" in h.value.lower() for h in at.header)
    checks = [t.value for t in at.dataframe if "Report lines checked" in t.value.columns]
    assert len(checks) == 1
    assert "Facility name" not in checks[0].columns


def test_public_filter_leaving_fewer_than_5_companies_shows_a_label(open_app, demo_dir, demo_store) -> None:
    # In the demo data 3 companies report from the Middle East in 2025.
    lines = coc_lines(demo_store, [2025], Filters(regions=("Middle East",)))
    active = lines[lines["input_t"] + lines["output_t"] > 0]
    assert active["member_id"].nunique() == 3
    at = open_app(demo_dir, page=PAGE, role="public", params={"year": "2025", "region": "Middle East"})
    assert_clean(at)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Reporting entities"] == "fewer than 5"
    assert tiles["Reporting companies"] == "fewer than 5"


def test_the_as_of_date_picks_the_latest_year_whose_reports_were_due(open_app, demo_dir) -> None:
    # Demo reports for year Y are due on 31 May of Y + 1: on 30 June 2021 the latest due year is 2020.
    at = open_app(demo_dir, page=PAGE, params={"as_of": "2021-06-30"})
    assert_clean(at)
    assert at.selectbox(key="coc_year").value == 2020
    at = open_app(demo_dir, page=PAGE, params={"as_of": "2021-05-01"})
    assert at.selectbox(key="coc_year").value == 2019
    # An explicit year still wins.
    at = open_app(demo_dir, page=PAGE, params={"as_of": "2021-06-30", "year": "2022"})
    assert_clean(at)
    assert at.selectbox(key="coc_year").value == 2022


def test_public_country_filter_does_not_apply_and_the_screen_says_so(open_app, demo_dir, demo_store) -> None:
    at = open_app(demo_dir, page=PAGE, role="public", params={"year": "2025", "country": "AT"})
    assert_clean(at)
    assert FILTER_NOTE in [i.value for i in at.info]
    # The figures drawn are the world's, not Austria's.
    world = coc_stage_flows(demo_store, Viewer.public(), 2025)
    assert sankey_values(at) == sorted(round(float(v), 1) for v in world["value_t"] if v > 0)
    # The secretariat's analysis applies the country filter, without the note.
    at = open_app(demo_dir, page=PAGE, role="secretariat", params={"year": "2025", "country": "AT"})
    assert_clean(at)
    assert FILTER_NOTE not in [i.value for i in at.info]


def test_year_lists_offer_only_years_with_reports(open_app, demo_dir, demo_store) -> None:
    """2019 is the first year with reports: its page offers no 2018 to compare with."""
    from asi_me.queries.coc import coc_years

    at = open_app(demo_dir, page=PAGE, params={"year": "2019"})
    assert_clean(at)
    years = coc_years(demo_store)
    assert at.selectbox(key="coc_year").options == [str(y) for y in years]
    compare = at.selectbox(key="coc_compare")
    assert compare.options == [str(y) for y in years if y != 2019]
    assert "2018" not in compare.options and compare.value == 2020
    assert "previous output 0.0" not in everything_shown(at)


def test_secretariat_sees_why_a_2019_flow_cannot_be_drawn(open_app, demo_dir, demo_store) -> None:
    """The demo's 2019 recycling stage has no reports, yet its receivers report material
    from it: the screen names both problems, and the Sankey draws no negative width."""
    from asi_me.queries.quality import quality_coc_flow_problems

    at = open_app(demo_dir, page=PAGE, role="secretariat", params={"year": "2019"})
    assert_clean(at)
    problems = quality_coc_flow_problems(demo_store, Viewer.secretariat(), year=2019)
    assert len(problems) == 3
    warning = " ".join(w.value for w in at.warning)
    assert "3 flows of 2019 cannot be drawn as reported" in warning
    for text in problems["explanation"]:
        assert text in warning
    assert min(sankey_values(at)) > 0
    public = open_app(demo_dir, page=PAGE, params={"year": "2019"})
    assert "Flow checks: no flow of 2019 is negative" in " ".join(c.value for c in public.caption)
