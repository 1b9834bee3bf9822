"""CoC material flow: the Sankey of ASI CoC material per reporting year, reporters and share of
world production per stage, year-over-year comparison, mass-balance checks, and a member's own
report lines. Every figure comes from asi_me.queries.coc after the disclosure policy."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from asi_me.data.vocab import Role
from asi_me.queries.coc import (
    coc_default_year,
    coc_drawable,
    coc_filter_note,
    coc_mass_balance,
    coc_member_reports,
    coc_reporting_summary,
    coc_stage_flows,
    coc_stage_summary,
    coc_years,
)
from asi_me.queries.quality import quality_coc_flow_problems
from asi_me.ui import cache, widgets
from asi_me.ui.context import page_context
from asi_me.ui.sankey import (
    build_sankey,
    build_share_of_global,
    build_year_comparison,
    compare_stage_outputs,
    sankey_summary,
    sankey_table,
    stage_summary_table,
)
from asi_me.ui.widgets import figure_card

COC_CERTIFICATION_BEGAN = 2018  # first CoC certificates were issued under CoC V1 (December 2017)
UNITS = {"t": "Tonnes", "%": "% of source stage output"}
SOURCE = "ASI annual CoC material reports (elementAl); world totals: IAI. Antitrust policy applied."


def _url_int(param: str) -> int | None:
    raw = st.query_params.get(param)
    return int(raw) if raw and raw.strip().isdigit() else None


def _sync(param: str, value: object, default: object) -> None:
    """Keep a page parameter in the URL while it differs from its default."""
    if value != default and value is not None:
        if st.query_params.get(param) != str(value):
            st.query_params[param] = str(value)
    elif param in st.query_params:
        del st.query_params[param]


def _no_reports_message(year: int, years: list[int]) -> str:
    if year < COC_CERTIFICATION_BEGAN:
        return (
            f"No CoC reports for {year}: CoC certification began in {COC_CERTIFICATION_BEGAN} (the Chain of "
            "Custody Standard V1 took effect in December 2017)."
        )
    if years and year < years[0]:
        return f"No CoC reports for {year}: the first annual CoC material reports cover {years[0]}."
    if years and year > years[-1]:
        return f"No CoC reports for {year} yet: the latest reporting year loaded is {years[-1]}."
    return f"No CoC reports for {year} match the filters."


@st.fragment
def _sankey_card(flows: pd.DataFrame, year: int, view: tuple, minimum: int) -> None:
    """The Sankey with its tonnes / % toggle: a toggle reruns this card only."""
    if "coc_unit" not in st.session_state:
        st.session_state["coc_unit"] = "%" if st.query_params.get("unit") == "pct" else "t"
    with st.container(key="controls_coc_unit"):
        unit = (
            st.segmented_control(
                "Show flows in",
                list(UNITS),
                format_func=UNITS.get,
                key="coc_unit",
                help="Tonnes of each stage's own product, or each link as a share of what its source stage put out.",
            )
            or "t"
        )
    _sync("unit", "pct" if unit == "%" else "t", "t")
    table = cache.cached_view("coc_sankey_table", (*view, unit),
                              lambda: sankey_table(flows, unit=unit, min_reporters=minimum))
    figure_card(
        f"ASI CoC material flow, {year} ({UNITS[unit].lower()})",
        table,
        lambda: st.plotly_chart(
            cache.cached_view("coc_sankey", (*view, unit),
                              lambda: build_sankey(flows, unit=unit, min_reporters=minimum)),
            key="coc_sankey",
            config={"displaylogo": False},
            alt=f"Sankey diagram of ASI CoC material flows in {year}.",
        ),
        key=f"coc_flows_{year}",
        source=SOURCE,
        min_reporters=minimum,
        note="Widths are tonnes of each stage's own product (bauxite, alumina, aluminium), so a node can take "
        "in more tonnes than it puts out. “Left the CoC chain” is material sold or used without ASI CoC "
        "claims."
        if unit == "t"
        else "Each link as a share of its source stage's output; origins are 100%.",
    )


@st.fragment
def _comparison_card(summary: pd.DataFrame, years: list[int], year: int, view: tuple, *, viewer, filters,
                     minimum: int) -> None:
    """Stage output against another year: picking the year reruns this card only."""
    compare_options = [y for y in years if y != year]
    url_compare = _url_int("compare")
    earlier = [y for y in compare_options if y < year]
    default_compare = earlier[-1] if earlier else (compare_options[0] if compare_options else None)
    if st.session_state.get("coc_compare") not in compare_options:
        st.session_state["coc_compare"] = url_compare if url_compare in compare_options else default_compare
    if compare_options:
        with st.container(key="controls_coc_compare"):
            st.selectbox(
                "Compare with",
                compare_options,
                key="coc_compare",
                help="The year shown beside the reporting year in the comparison below.",
            )
    compare = st.session_state.get("coc_compare")
    _sync("compare", compare, default_compare)
    if compare is None:
        widgets.empty_state("Only one reporting year is loaded, so there is nothing to compare with.")
    else:
        before = cache.cached(coc_stage_summary, viewer, compare, filters)
        comparison = cache.cached_view("coc_compare_table", (*view, compare),
                                       lambda: compare_stage_outputs(summary, before))
        figure_card(
            f"Stage output, {year} against {compare}",
            comparison,
            lambda: st.plotly_chart(
                cache.cached_view("coc_compare", (*view, compare), lambda: build_year_comparison(
                    comparison, year=year, previous_year=compare)),
                key="coc_yoy",
                config={"displaylogo": False},
            ),
            key=f"coc_compare_{year}_{compare}",
            source=SOURCE,
            min_reporters=minimum,
            note="Each year is protected on its own; a change is shown only where both years are published.",
        )


def main() -> None:
    ctx = page_context()
    viewer, filters, minimum = ctx.viewer, ctx.filters, ctx.min_reporters
    st.caption(
        "Where ASI Chain of Custody material went along the value chain in one reporting year. A stage is "
        f"published only where at least {minimum} companies report it and none dominates (ASI Antitrust "
        "Compliance Policy)."
        + (" Country, region and membership-class filters apply." if viewer.sees_everything else "")
    )
    filter_note = coc_filter_note(viewer, filters)
    if filter_note:
        st.info(filter_note, icon=":material/filter_alt_off:")
    years = cache.cached(coc_years) if ctx.has_data else []
    if not years:
        widgets.empty_state(
            "No CoC material reports are loaded, so there is no flow to show.",
            hint=f"CoC certification began in {COC_CERTIFICATION_BEGAN}; annual reports are ingested from "
            "elementAl with `python -m asi_me ingest PATH`.",
        )
        return

    # Only years with reports are offered; a year given in the URL without reports opens with its reason.
    options = list(years)
    # The screen opens on the latest year whose reports were due by the as-of date; ?year= wins.
    default_year = cache.cached(coc_default_year, filters.as_of) if filters.as_of else years[-1]
    if default_year is None:
        default_year = options[0]
    url_year = _url_int("year")
    if url_year is not None and url_year not in options:
        options = sorted({*options, url_year})
    if st.session_state.get("coc_year") not in options:
        st.session_state["coc_year"] = url_year if url_year in options else default_year
    with st.container(key="controls_coc_bar"):
        year = st.selectbox("Reporting year", options, key="coc_year", width=240)
    _sync("year", year, default_year)

    if year not in years:
        widgets.empty_state(_no_reports_message(year, years), hint=f"Reporting years loaded: {years[0]}–{years[-1]}.")
        return

    reporting = cache.cached(coc_reporting_summary, viewer, year, filters)
    flows = cache.cached(coc_stage_flows, viewer, year, filters)
    summary = cache.cached(coc_stage_summary, viewer, year, filters)
    if reporting.empty or int(reporting["stages_reported"].iloc[0]) == 0:
        widgets.empty_state(_no_reports_message(year, []), hint="Widen the country, region or class filters.")
        return

    facts = reporting.iloc[0]
    tiles = st.columns(4)
    # Below the minimum number of companies the public gets a label, not the counts.
    few = pd.isna(facts["reporting_entities"]) or pd.isna(facts["reporting_companies"])
    tiles[0].metric(
        "Reporting entities",
        str(facts["reporting_companies_label"]) if few else f"{int(facts['reporting_entities']):,}",
        border=True,
        help="CoC certified entities with a non-zero report line this year.",
    )
    tiles[1].metric(
        "Reporting companies",
        str(facts["reporting_companies_label"]) if few else f"{int(facts['reporting_companies']):,}",
        border=True,
        help="Distinct member companies; the antitrust policy counts companies, not entities.",
    )
    tiles[2].metric(
        "Stages published",
        f"{int(facts['stages_published'])} of {int(facts['stages_reported'])}",
        border=True,
        help=f"Stages with at least {minimum} reporting companies and no dominant one.",
    )
    hidden_links = int(flows["is_suppressed"].fillna(False).astype(bool).sum()) if not flows.empty else 0
    tiles[3].metric(
        "Flows withheld",
        f"{hidden_links} of {len(flows)}",
        border=True,
        help="Links not published under the antitrust policy; they are listed, never drawn as zero.",
    )

    # What the cards derive from the cached query results is built once per snapshot and view.
    view = (repr(viewer), year, repr(filters), minimum)
    text = cache.cached_view("coc_sankey_text", view, lambda: sankey_summary(flows, year=year, min_reporters=minimum))
    if not coc_drawable(flows):
        widgets.empty_state(
            f"No flow of {year} can be published: too few companies reported each link, or one dominated it, "
            "under the ASI Antitrust Compliance Policy.",
            hint="The withheld links are listed in the table below; later years have more reporters.",
        )
    _sankey_card(flows, year, view, minimum)
    with st.expander("Text description of the flow (for screen readers)", expanded=False):
        st.markdown(text)

    left, right = st.columns(2)
    with left:
        figure_card(
            f"ASI share of world production by stage, {year}",
            cache.cached_view("coc_stage_table", view, lambda: stage_summary_table(summary)),
            lambda: st.plotly_chart(cache.cached_view("coc_share", view, lambda: build_share_of_global(summary)),
                                    key="coc_share", config={"displaylogo": False}),
            key=f"coc_stages_{year}",
            source=SOURCE,
            min_reporters=minimum,
            note="The table adds reporters, input, output and attrition per stage.",
        )
    with right:
        _comparison_card(summary, years, year, view, viewer=viewer, filters=filters, minimum=minimum)

    st.header("Mass-balance checks")
    st.caption(
        "Each report line must satisfy: output ≤ input × yield factor + carried-forward balance "
        "(e.g. alumina out ≤ 0.5 × bauxite in)."
    )
    checks = cache.cached(coc_mass_balance, viewer, year, filters)
    if viewer.role is Role.PUBLIC:
        widgets.data_table(
            checks.drop(columns=["stage", "reporting_year"], errors="ignore"),
            key=f"coc_mb_{year}",
            min_reporters=minimum,
            download=f"coc_mass_balance_{year}",
            titles={
                "stage_label": "Stage",
                "lines_checked": "Report lines checked",
                "failures": "Lines failing the check",
            },
        )
    elif checks.empty:
        widgets.empty_state("No report lines to check for this year and these filters.")
    else:
        failing = int((~checks["is_balanced"].astype(bool)).sum())
        whose = "of your " if viewer.role is Role.MEMBER else ""
        st.markdown(f"**{failing} of {len(checks)} {whose}report lines fail the check.**")
        widgets.data_table(
            checks.sort_values("is_balanced", kind="stable"),
            key=f"coc_mb_lines_{year}",
            min_reporters=minimum,
            download=f"coc_mass_balance_lines_{year}",
        )

    problems = cache.cached(quality_coc_flow_problems, viewer, filters, year=year)
    if problems.empty:
        st.caption(f"Flow checks: no flow of {year} is negative or leaves a stage that has no reports.")
    else:
        st.warning(
            f"**{len(problems)} flow{'s' if len(problems) > 1 else ''} of {year} cannot be drawn as reported.** "
            "The Sankey leaves a negative flow out; the table keeps it.\n\n"
            + "\n".join(f"- {text}" for text in problems["explanation"]),
            icon=":material/rule:",
        )

    if viewer.role is not Role.PUBLIC:
        lines = cache.cached(coc_member_reports, viewer, year, filters)
        heading = "Your CoC report lines" if viewer.role is Role.MEMBER else "All CoC report lines (not published)"
        st.header(f"{heading}, {year}")
        if lines.empty:
            widgets.empty_state(
                f"No CoC report lines for {year}" + (" from your company." if viewer.role is Role.MEMBER else "."),
            )
        else:
            st.caption(
                "Shown beside the public aggregates above; these lines are visible only to "
                + ("your company and the ASI Secretariat." if viewer.role is Role.MEMBER else "the Secretariat.")
            )
            widgets.data_table(
                lines, key=f"coc_lines_{year}", min_reporters=minimum, download=f"coc_report_lines_{year}"
            )


main()
