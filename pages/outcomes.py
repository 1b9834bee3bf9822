"""Outcomes dashboard (home): the published tiles, growth charts, NC closure and M&E Insights."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from asi_me.data.vocab import Role
from asi_me.queries import members, outcomes
from asi_me.ui import charts
from asi_me.ui.cache import cached, cached_view
from asi_me.ui.context import page_context
from asi_me.ui.widgets import Tile, chart_card, data_table, empty_state, friendly_errors, kpi_grid

ctx = page_context()
viewer, filters = ctx.viewer, ctx.filters

if not ctx.presenting:
    st.caption(
        "Are we doing what we said we would do, and are we doing it well? The figures ASI publishes, counted on "
        "the as-of date, with the change since the previous month and year."
    )
if not ctx.has_data:
    empty_state(
        "This data snapshot holds no records yet, so every figure below is empty.",
        hint="Load the demo data with `python -m asi_me demo` or ingest exports with `python -m asi_me ingest`.",
    )

# ------------------------------------------------------------------ published tiles


def _count(value: float, label: str) -> str:
    """A count with its words, singular for one: "111 countries they operate in", "1 country they operate in"."""
    return f"{value:,.0f} " + (label.replace("countries", "country", 1) if value == 1 else label)


def _tiles() -> tuple[tuple[Tile, ...], pd.DataFrame]:
    """The tiles and their table: built once per snapshot, viewer and filters, shared by sessions."""
    board = cached(outcomes.dashboard_tiles, viewer, filters)
    tiles = tuple(
        Tile(
            title=t.label,
            value=t.value,
            unit=t.unit,
            change_month=t.change_month,
            change_year=t.change_year,
            trend=tuple(p.value for p in t.series),
            help=f"{t.definition} Source: {t.source}.",
            note=(t.suppression_note if t.is_suppressed and t.suppression_note
                  else _count(t.secondary_value, t.secondary_label) if t.secondary_value is not None
                  and t.secondary_label else f"since {t.since.year}"),
            percent=t.unit == "%",
        )
        for t in board.tiles
    )
    return tiles, board.to_frame()


# Everything a card below reads besides the snapshot: its table and chart are cached under this.
shown_for = (viewer, filters)

with friendly_errors("the published tiles"):
    tiles, tile_table = cached_view("outcome-tiles", shown_for, _tiles)
    kpi_grid(tiles, content_key=shown_for)
    with st.expander("The tiles as a table, with definitions and sources"):
        data_table(tile_table, key="tiles", download="asi-outcome-tiles", min_reporters=ctx.min_reporters,
                   content_key=shown_for)

# ------------------------------------------------------------------ a member's own view
if viewer.role is Role.MEMBER and not ctx.presenting:
    with friendly_errors("your company's certifications"), st.container(border=True):
        own = cached(members.own_certifications, viewer, filters)
        name = cached(members.own_company_name, viewer) or viewer.member_id
        st.markdown(f"**Your company's certifications on {ctx.as_of:%d %B %Y}: {name}**")
        if own.empty:
            empty_state("None of your company's facilities holds a certification matching the selected filters.",
                        hint="Certification detail and audit history are on the Certification map screen.")
        else:
            data_table(
                own[["certification_id", "facility_name", "country", "standard", "standard_version",
                     "certification_type", "status", "issued_on", "expires_on", "auditing_firm_name"]],
                key="own-certifications", download="my-certifications", min_reporters=ctx.min_reporters,
                titles={"certification_id": "Certificate", "facility_name": "Facility",
                        "auditing_firm_name": "Auditing firm", "issued_on": "Issued", "expires_on": "Expires"},
            )
            st.caption("Visible only to your company and the ASI Secretariat. Audits and CoC reports are on the "
                       "Certification map and CoC material flow screens.")

# ------------------------------------------------------------------ growth
st.header("Growth")
growth_left, growth_right = st.columns(2)
period_before = (filters.period_to or ctx.as_of) < date(2015, 6, 1)

with growth_left, friendly_errors("members by class"):
    by_class = cached_view("outcomes:members-by-class", shown_for, lambda: cached(
        outcomes.members_by_class, viewer, filters)[["month_on", "membership_class", "members"]])
    chart_card(
        "Members by membership class",
        by_class,
        lambda f: charts.stacked_bars(f, x="month_on", y="members", series="membership_class",
                                      y_title="Members", x_title=""),
        key="members-by-class",
        source="Membership applications (CRM), month ends",
        definition="Organisations that were members at each month end, by membership class.",
        empty_message=("ASI membership records start in mid-2015; choose a later period." if period_before
                       else "No members match the selected filters."),
        min_reporters=ctx.min_reporters,
        content_key=shown_for,
    )

with growth_right, friendly_errors("certificates over time"), st.container(border=True):
    pick_left, pick_right = st.columns([3, 2])
    group_by = pick_left.selectbox(
        "Certificates by", ["standard", "activity", "standard_version", "status"], key="cert_by",
        bind="query-params",
        format_func={"standard": "Standard", "activity": "Activity", "standard_version": "Version",
                     "status": "Status"}.get, help="Group the certificates by standard, supply-chain activity, "
        "standard version or status on each date.",
    )
    measure = pick_right.segmented_control(
        "Count", ["certificates_issued", "certificates_valid"], key="cert_count", default="certificates_issued",
        bind="query-params",
        required=True, help="Issued: cumulative since 2018. Valid: certified or provisional on each date.",
        format_func={"certificates_issued": "Issued",
                                    "certificates_valid": "Valid"}.get,
    )
    certificates = cached_view("outcomes:certificates", (*shown_for, group_by, measure), lambda: cached(
        outcomes.certificates_over_time, viewer, filters, by=group_by,
    )[["month_on", "group_value", measure, "version_note"]].rename(columns={"group_value": group_by}))
    breaks = cached(outcomes.version_breaks, viewer, filters)
    chart_card(
        "Certificates by " + {"standard": "standard", "activity": "supply-chain activity",
                              "standard_version": "standard version", "status": "status"}[group_by],
        certificates,
        lambda f: charts.time_series(f, x="month_on", y=measure, series=group_by, y_title="Certificates",
                                     version_marks=breaks, step=True),
        key=f"certificates-by-{group_by}",
        bordered=False,
        source="elementAl assurance platform, month ends",
        definition=("Issued counts every certificate issued since 2018, including recertifications; valid "
                    "counts certified or provisional certificates on the date. Dashed lines mark new standard "
                    "versions: figures either side are not comparable."
                    + (" A certificate counts once per activity of its facility, so activities can sum to "
                       "more than the total." if group_by == "activity" else "")),
        empty_message=("ASI issued its first certificates in 2018; there are none in the selected period."
                       if (filters.period_to or ctx.as_of) < outcomes.CERTIFICATION_START
                       else "No certificates match the selected filters."),
        min_reporters=ctx.min_reporters,
        content_key=(*shown_for, group_by, measure),
    )

# ------------------------------------------------------------------ continual improvement
st.header("Continual improvement")
with friendly_errors("non-conformance closure"):


    def _closure() -> pd.DataFrame:
        closure = cached(outcomes.nc_closure_by_principle, viewer, filters)
        withheld = "is_suppressed" in closure.columns and closure["is_suppressed"].astype(bool).any()
        if not withheld and not closure["nonconformances"].fillna(0).sum():
            closure = closure.head(0)  # eleven principles without any finding: say so instead of an empty chart
        shown_cols = ["principle", "principle_label", "nonconformances", "followed_up", "closed_at_next_audit",
                      "closed_share", "is_suppressed", "suppression_note"]
        return closure[[c for c in shown_cols if c in closure.columns]]

    chart_card(
        "Non-conformances closed at the next audit, by PS principle",
        cached_view("outcomes:nc-closure", shown_for, _closure),
        lambda f: charts.ranked_bars(f, category="principle_label", value="closed_share", percent=True,
                                     value_title="Share closed or downgraded at the next audit",
                                     sort=list(f["principle_label"])),
        key="nc-closure-by-principle",
        source="elementAl audit findings, Performance Standard audits",
        definition=("Of the minor and major non-conformances found (period start to as-of date) that have had "
                    "a next audit, the share closed or downgraded there: the short-term outcome "
                    "“continual improvement among Certified Entities”."),
        empty_message="No Performance Standard audit findings match the selected filters and period.",
        min_reporters=ctx.min_reporters,
        titles={"principle_label": "Principle name", "closed_share": "Share closed"},
        content_key=shown_for,
    )

# ------------------------------------------------------------------ M&E Insights
# ASI publishes a few dozen monthly indicators; beyond this many rows the home page sends
# the first ones (a caption says so) and the CSV, built on click, holds them all.
INSIGHTS_SHOWN = 100
st.header("Monthly M&E Insights")
with friendly_errors("the M&E Insights"):
    insights = cached_view("outcomes:me-insights", shown_for, lambda: cached(outcomes.me_insights, viewer, filters)[
        ["indicator_code", "name", "unit", "period_on", "value", "previous_value", "change", "direction", "status"]])
    with st.container(border=True):
        st.markdown("**Level-1 indicators measured monthly: latest value and change since the previous month**")
        if insights.empty:
            empty_state("No monthly indicator values on or before the as-of date.",
                        hint="Monthly M&E Insights start with the M&E system's indicator observations.")
        else:
            data_table(
                insights,
                key="me-insights", download="asi-me-insights", min_reporters=ctx.min_reporters,
                row_limit=INSIGHTS_SHOWN,
                titles={"indicator_code": "Code", "name": "Indicator", "period_on": "Month",
                        "previous_value": "Previous month", "direction": "Good direction"},
                column_config={"Change": st.column_config.NumberColumn(format="%+.1f"),
                               "Month": st.column_config.DateColumn(format="MMM YYYY")},
                content_key=shown_for,
            )
            st.caption("Source: ASI M&E indicator observations (provisional until the annual M&E report). "
                       "Definitions are in the Theory of change screen.")
