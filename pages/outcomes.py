"""Outcomes dashboard (home): the published tiles, growth charts, NC closure and M&E Insights."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from asi_me.data.vocab import Role
from asi_me.publish.numbers import format_day
from asi_me.queries import changes, members, outcomes
from asi_me.ui import charts
from asi_me.ui.cache import cached, cached_view
from asi_me.ui.context import page_context
from asi_me.ui.filter_bar import EARLIEST_DATA
from asi_me.ui.links import screen_link
from asi_me.ui.outcome_tiles import outcome_tiles
from asi_me.ui.questions import four_questions
from asi_me.ui.widgets import Tile, chart_card, data_table, empty_state, friendly_errors, kpi_grid

ctx = page_context()
viewer, filters = ctx.viewer, ctx.filters

if not ctx.presenting:
    four_questions(viewer.role)
    st.caption("The figures ASI publishes, counted on the as-of date, with the change since the previous month "
               "and year.")
if not ctx.has_data:
    empty_state(
        "This data snapshot holds no records yet, so every figure below is empty.",
        hint="Load the demo data with `python -m asi_me demo` or ingest exports with `python -m asi_me ingest`.",
    )

# ------------------------------------------------------------------ published tiles


def _tiles() -> tuple[tuple[Tile, ...], pd.DataFrame]:
    """The tiles and their table: built once per snapshot, viewer and filters, shared by sessions."""
    board = cached(outcomes.dashboard_tiles, viewer, filters)
    tiles = outcome_tiles(board, cached(outcomes.version_breaks, viewer, filters))
    return tiles, board.to_frame()


# Everything a card below reads besides the snapshot: its table and chart are cached under this.
shown_for = (viewer, filters)



@st.fragment
def _tile_table(tile_table: pd.DataFrame) -> None:
    """The tiles as a table, sent only while its section is open (`?tile_table=true` reopens it),
    so the first screen carries no table; opening it reruns this section alone."""
    section = st.expander("The tiles as a table, with definitions and sources", key="tile_table",
                          bind="query-params")
    with section:
        if section.open:
            data_table(tile_table, key="tiles", download="asi-outcome-tiles", min_reporters=ctx.min_reporters,
                       content_key=shown_for)


with friendly_errors("the published tiles"):
    tiles, tile_table = cached_view("outcome-tiles", shown_for, _tiles)
    kpi_grid(tiles, content_key=shown_for)
    _tile_table(tile_table)

# ------------------------------------------------------------------ why did it move?
_GROUP_WORDS = {None: "Reason only", "country": "Country", "region": "Region", "activity": "Supply-chain activity",
                "standard_version": "Standard version", "membership_class": "Membership class"}


def _why_it_moved() -> None:
    """What entered and left a tile between two dates, and for the secretariat (and a member,
    for its own rows) the records behind each bar."""
    pick = st.columns([3, 2, 2, 2, 3])
    subject = pick[0].selectbox("Figure", list(changes.SUBJECTS), format_func=changes.SUBJECTS.get,
                                key="why_subject", bind="query-params", help="The tile whose change to explain.")
    figure = "value"
    if subject != "members":
        figure = pick[1].segmented_control(
            "Count", ["value", "secondary"], default="value", required=True, key="why_figure", bind="query-params",
            format_func={"value": "Issued", "secondary": "Valid"}.get,
            help="Issued: every certificate issued, cumulative (the tile's figure). Valid: certified or provisional "
            "on the date (the tile's second figure).")
    default_start, default_end = changes.window_ending(ctx.as_of)
    start_on = pick[2].date_input("From", value=default_start, min_value=EARLIEST_DATA, max_value=ctx.as_of,
                                  key="why_from", format="YYYY-MM-DD", bind="query-params")
    end_on = pick[3].date_input("To", value=default_end, min_value=EARLIEST_DATA, max_value=ctx.as_of,
                                key="why_to", format="YYYY-MM-DD", bind="query-params")
    group_by = pick[4].selectbox("Break down by", [None, *changes.GROUP_BY[subject]], format_func=_GROUP_WORDS.get,
                                 key="why_by", bind="query-params")
    if not start_on or not end_on or start_on >= end_on:
        empty_state("Choose a “From” date before the “To” date to see what changed in between.")
        return
    found = cached(changes.change_breakdown, viewer, filters, subject=subject, figure=figure, start_on=start_on,
                   end_on=end_on, by=group_by)
    st.markdown(
        f"**{found.figure_label}: {found.count_start:,} on {format_day(start_on)}, {found.count_end:,} on "
        f"{format_day(end_on)} ({found.change:+,})**: {found.entered:,} entered and {found.left:,} left."
    )
    if found.entered == 0 and found.left == 0:
        empty_state("Nothing entered or left between these dates under the selected filters: the figure did not move.",
                    hint="Widen the dates or clear a filter.")
        return
    view = (viewer, filters, subject, figure, start_on, end_on, group_by)
    chart_card(
        "What entered and what left",
        cached_view("outcomes:why-steps", view, found.waterfall),
        lambda f: charts.waterfall(f, step="step", kind="kind", start="bar_from", end="bar_to", change="change",
                                   value_title=found.figure_label),
        key="why-waterfall",
        source="elementAl assurance platform" if subject != "members" else "Membership applications (CRM)",
        definition=("From the count on the first date, each bar adds what entered or takes away what left, "
                    "and lands on the count on the second date: the same rows the tile counts. "
                    + " ".join(f"{words[1]}: {words[2]}" for code, words in changes.REASONS.items()
                               if code in set(found.reasons["reason"]))),
        min_reporters=ctx.min_reporters,
        titles={"step": "Step", "kind": "Kind", "change": "Change", "bar_from": "From", "bar_to": "To"},
        content_key=view,
    )
    if group_by is not None:
        st.markdown(f"**By {_GROUP_WORDS[group_by].lower()}**")
        data_table(cached_view("outcomes:why-groups", view, lambda: changes.groups_table(found)).drop(
            columns="group_value"), key="why-groups", download="asi-change-by-" + group_by.replace("_", "-"),
            min_reporters=ctx.min_reporters, titles={"group_label": _GROUP_WORDS[group_by],
                                                     "net_change": "Net change"}, content_key=view)
        if found.note:
            st.caption(found.note)
    _records_behind(found, view)


def _records_behind(found: changes.ChangeBreakdown, view: tuple) -> None:
    """The click-through: pick a bar, see the records it counts (own rows only for a member)."""
    if viewer.role is Role.PUBLIC:
        st.caption("The records behind each bar are listed for the ASI Secretariat, and for a member company for "
                   "its own facilities; the public sees the counts.")
        return
    bars: dict[str, tuple[str, str | None, int]] = {
        f"{row.reason_label} ({row.records:,})": (row.reason, None, int(row.records))
        for row in found.reasons.itertuples()
    }
    if found.groups is not None:
        bars |= {f"{row.group_label}: {row.reason_label} ({row.records:,})": (row.reason, row.group_value,
                                                                              int(row.records))
                 for row in found.groups.itertuples()}
    chosen = st.selectbox("Show the records behind", list(bars), index=None, key="why_bar",
                          placeholder="Choose a bar", help="The certificates or members one bar counts.")
    if chosen is None:
        return
    reason, group_value, counted = bars[chosen]
    rows = cached(changes.change_records, viewer, filters, subject=found.subject, figure=found.figure,
                  start_on=found.start_on, end_on=found.end_on, reason=reason,
                  by=found.group_by if group_value is not None else None, group_value=group_value)
    if viewer.role is Role.MEMBER:
        st.caption(f"Only your company's records are listed: {len(rows):,} of the {counted:,} this bar counts.")
    if rows.empty:
        empty_state("None of these records is your company's." if viewer.role is Role.MEMBER
                    else "This bar counts no records.")
        return
    shown = rows.drop(columns=["direction", "reason"])
    data_table(shown, key="why-records", download="asi-change-records", min_reporters=ctx.min_reporters,
               titles={"reason_label": "Reason", "certification_id": "Certificate", "facility_name": "Facility",
                       "member_name": "Company", "country_name": "Country name", "issued_on": "Issued",
                       "expires_on": "Expires", "status_changed_on": "Status changed",
                       "status_at_start": f"Status {format_day(found.start_on)}",
                       "status_at_end": f"Status {format_day(found.end_on)}",
                       "previous_certification_id": "Previous certificate", "joined_on": "Joined", "left_on": "Left"},
               content_key=(*view, chosen))


# The breakdown's own choices in a link (?why_subject=...) open it, as before it was built on demand.
WHY_CHOICES = ("why_subject", "why_figure", "why_from", "why_to", "why_by")


@st.fragment
def _why_section() -> None:
    """The breakdown, run only while its section is open (`?why=true` reopens it): a closed section
    costs the page no query and sends no chart; its choices rerun this section alone."""
    section = st.expander("Why did it move? What entered and what left between two dates", key="why",
                          bind="query-params", expanded=any(k in st.query_params for k in WHY_CHOICES))
    with section, friendly_errors("the change breakdown"):
        if section.open:
            _why_it_moved()


if not ctx.presenting:
    _why_section()

# ------------------------------------------------------------------ a member's own view
if viewer.role is Role.MEMBER and not ctx.presenting:
    with friendly_errors("your company's certifications"), st.container(border=True):
        own = cached(members.own_certifications, viewer, filters)
        name = cached(members.own_company_name, viewer) or viewer.member_id
        st.markdown(f"**Your company's certifications on {format_day(ctx.as_of)}: {name}**")
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

# The months a standard version took effect (within the standard filters): every series marks them.
breaks = cached(outcomes.version_breaks, viewer, filters)

with growth_left, friendly_errors("members by class"):
    by_class = cached_view("outcomes:members-by-class", shown_for, lambda: cached(
        outcomes.members_by_class, viewer, filters)[["month_on", "membership_class", "members"]])
    chart_card(
        "Members by membership class",
        by_class,
        lambda f: charts.stacked_bars(f, x="month_on", y="members", series="membership_class",
                                      y_title="Members", x_title="", version_marks=breaks),
        key="members-by-class",
        source="Membership applications (CRM), month ends",
        definition="Organisations that were members at each month end, by membership class. Dashed lines mark "
                   "new standard versions.",
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
        ["indicator_code", "name", "unit", "period_on", "value", "previous_value", "change", "direction", "status",
         "toc_node_label", "toc_node_id"]])
    with st.container(border=True):
        st.markdown("**Level-1 indicators measured monthly: latest value and change since the previous month**")
        if insights.empty:
            empty_state("No monthly indicator values on or before the as-of date.",
                        hint="Monthly M&E Insights start with the M&E system's indicator observations.")
        else:
            data_table(
                insights.drop(columns="toc_node_id"),
                key="me-insights", download="asi-me-insights", min_reporters=ctx.min_reporters,
                row_limit=INSIGHTS_SHOWN,
                titles={"indicator_code": "Code", "name": "Indicator", "period_on": "Month",
                        "previous_value": "Previous month", "direction": "Good direction",
                        "toc_node_label": "Reports on (Theory of change)"},
                content_key=shown_for,
            )
            st.caption("Source: ASI M&E indicator observations (provisional until the annual M&E report). "
                       "Definitions are in the Theory of change screen.")
            if not ctx.presenting:
                st.markdown("**Open the Theory-of-change outcome an insight reports on**")
                with st.container(key="insight_outcomes", horizontal=True):
                    for node_id, reported in insights.groupby("toc_node_id", sort=False):
                        codes = ", ".join(reported["indicator_code"].astype(str))
                        screen_link("toc", f"{reported['toc_node_label'].iloc[0]} ({codes})", viewer.role,
                                    icon=":material/hub:", node=str(node_id),
                                    help="Opens the Theory-of-change explorer on this node, with its indicators.")
