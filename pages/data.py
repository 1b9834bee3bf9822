"""Data: the catalogue of tables, data-quality flags, the ingest log (Secretariat) and downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from asi_me.data.snapshot import read_log
from asi_me.data.vocab import Role, label
from asi_me.publish import exports
from asi_me.queries import catalogue, quality
from asi_me.ui import builds, charts
from asi_me.ui.cache import cached, current_store
from asi_me.ui.context import page_context
from asi_me.ui.widgets import chart_card, data_table, empty_state, friendly_errors

# Rows of a flag-detail table sent to the browser (the CSV holds all): at 100x the indicator
# outliers alone are 391,000 rows.
DETAIL_ROW_LIMIT = 500

ctx = page_context()
viewer, filters = ctx.viewer, ctx.filters


is_secretariat = viewer.role is Role.SECRETARIAT

st.caption(
    "What the figures are made of: every table with its size, version and source, the checks the data "
    "passes or fails, and downloads. Public downloads hold published aggregates and public tables only."
)

# ------------------------------------------------------------------ catalogue and downloads
if not ctx.has_data:
    empty_state(
        "This data snapshot holds no rows yet: every table below is empty and the checks have nothing to flag.",
        hint="Load the demo data with `python -m asi_me demo`, or validate and ingest exports from elementAl "
             "and the CRM with `python -m asi_me validate PATH` and `python -m asi_me ingest PATH`.",
    )
st.header("Tables")
with friendly_errors("the catalogue of tables"):
    tables = cached(catalogue.table_catalogue, viewer)
    data_table(
        tables[["title", "kind", "rows", "is_public",
                *(["data_version"] if is_secretariat else []),  # the id is the secretariat's
                "snapshot_created_at", "last_ingest_at", "source_files", "download_scope"]
               ].fillna({"download_scope": "no (not public)"}),
        key="catalogue", download="asi-table-catalogue", min_reporters=ctx.min_reporters,
        height=36 * (len(tables) + 1) + 4,
        titles={"title": "Table", "is_public": "Public", "snapshot_created_at": "Snapshot created",
                "last_ingest_at": "Last ingest", "download_scope": "You may download"},
        column_config={"Public": st.column_config.CheckboxColumn()},
    )
    st.caption("Column definitions for every table are in the data dictionary and in the zip's README.")

st.header("Downloads")
with friendly_errors("the downloads"), st.container(border=True, key="controls_downloads"):
    allowed = tables[tables["is_downloadable"]]
    titles = dict(zip(allowed["name"], allowed["title"], strict=True))
    c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="bottom")
    with c1:
        choice = st.selectbox("One table as CSV", list(titles), format_func=lambda n: titles[n], key="dl_table",
                              help="Tables you may download with your role; published aggregates follow the "
                                   "global filters.")
        if choice:
            builds.table_download(current_store(), viewer, filters, choice, titles[choice])
    with c2:
        builds.whole_download(current_store(), viewer, filters, "xlsx")
    with c3:
        builds.whole_download(current_store(), viewer, filters, "zip")
    scope = {"public": "public tables and published aggregates",
             "member": "public tables, your company's own rows and published aggregates",
             "secretariat": "every table"}[viewer.role]
    st.caption(
        f"As {label(viewer.role)} you may download {scope}. Published aggregates pass the ASI antitrust policy "
        f"(at least {ctx.min_reporters} reporting companies per cell); withheld cells read "
        f"“suppressed (fewer than {ctx.min_reporters} reporters)”. The README holds definitions, suppression "
        "notes and how to cite the data."
    )
    # from the snapshot's manifest: no file is built until a button is clicked
    for left_out in cached(exports.tables_left_out_of_workbook, viewer):
        st.info(left_out["note"], icon=":material/info:")

# ------------------------------------------------------------------ data quality
st.header("Data quality")
with friendly_errors("the data-quality flags"):
    flags = cached(quality.quality_flags, viewer, filters)
    received = cached(quality.quality_coc_reports_received, viewer, filters)
    left, right = st.columns([3, 2])
    with left, st.container(border=True):
        st.markdown("**Flags on the current data**")
        data_table(
            flags[["description", "count"]], key="quality-flags", download="asi-data-quality-flags",
            min_reporters=ctx.min_reporters, titles={"description": "Check", "count": "Flagged"},
        )
        scope = ("your own facilities" if viewer.role is Role.MEMBER else
                 "all data" if is_secretariat else "published figures; counts only")
        st.caption(f"Scope: {scope}. Global filters for region, country and membership class apply.")
    with right:
        chart_card(
            "CoC reports received vs expected",
            received[["reporting_year", "expected", "received", "missing"]] if not received.empty else received,
            lambda f: charts.received_vs_expected(f, period="reporting_year", expected="expected",
                                                  received="received", version_marks=("CoC",)),
            key="coc-reports-received",
            source="elementAl CoC material reports and certifications",
            definition="Expected: facilities holding a valid CoC certification in the reporting year.",
            empty_message=("No CoC material reports are expected yet: CoC certification began in 2018 and the "
                           "first reports cover 2019." if not ctx.rows("coc_reports")
                           else "No CoC reports match the selected filters."),
            min_reporters=ctx.min_reporters,
        )

    if viewer.role is not Role.PUBLIC:
        st.markdown("**Flag detail**" + (" for your own facilities" if viewer.role is Role.MEMBER else ""))
        details = {
            "coc_reports_missing": ("CoC reports expected but not received", quality.quality_coc_reports_missing),
            "late_reports": ("Late CoC reports", quality.quality_late_reports),
            "mass_balance_failures": ("Mass-balance failures", quality.quality_mass_balance_failures),
            "missing_coordinates": ("Facilities without coordinates (all, certified or not)",
                                    quality.quality_missing_coordinates),
            "coc_yield_outliers": ("Implausible CoC yields", quality.quality_coc_yield_outliers),
            "coc_flow_problems": ("CoC flows that are negative or leave a stage with no reports",
                                  quality.quality_coc_flow_problems),
        }
        for code, (title, fn) in details.items():
            frame = cached(fn, viewer, filters)
            # A detail table is sent only while its section is open (?detail_<code>=true reopens it).
            section = st.expander(f"{title} ({len(frame)})", key=f"detail_{code}", bind="query-params")
            with section:
                if section.open and frame.empty:
                    empty_state("Nothing flagged.")
                elif section.open:
                    data_table(frame, key=f"detail-{code}", download=f"asi-quality-{code}",
                               min_reporters=ctx.min_reporters, row_limit=DETAIL_ROW_LIMIT)
        outliers = cached(quality.quality_indicator_outliers, viewer)
        section = st.expander(f"Indicator outliers ({len(outliers)})", key="detail_indicator_outliers",
                              bind="query-params")
        with section:
            if section.open and outliers.empty:
                empty_state("No indicator observation is far from its series.")
            elif section.open:
                data_table(outliers, key="detail-indicator-outliers", download="asi-quality-indicator-outliers",
                           min_reporters=ctx.min_reporters, row_limit=DETAIL_ROW_LIMIT)
    else:
        st.caption("Row-level detail of these checks is available to the ASI Secretariat and, for their own "
                   "facilities, to members.")

# ------------------------------------------------------------------ ingest log
if is_secretariat:
    st.header("Ingest log")
    with friendly_errors("the ingest log"):
        log_rows = read_log(ctx.settings.data_dir)
        if not log_rows:
            empty_state("No ingest or validation run has been logged in this data folder yet.",
                        hint="Runs of `python -m asi_me validate` and `python -m asi_me ingest` appear here.")
        else:
            log = pd.DataFrame(log_rows[::-1])
            data_table(log.astype(str), key="ingest-log", download="asi-ingest-log", min_reporters=ctx.min_reporters)
