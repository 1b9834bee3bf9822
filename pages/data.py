"""Data: the catalogue of tables, data-quality flags, the ingest log (Secretariat) and downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from asi_me import quality
from asi_me.snapshot import read_log
from asi_me.ui import charts
from asi_me.ui.cache import cached
from asi_me.ui.context import page_context
from asi_me.ui.widgets import chart_card, data_table, empty_state, friendly_errors
from asi_me.vocab import Role

ctx = page_context()
viewer, filters = ctx.viewer, ctx.filters
is_secretariat = viewer.role is Role.SECRETARIAT

st.caption(
    "What the figures are made of: every table with its size, version and source, the checks the data "
    "passes or fails, and downloads. Public downloads hold published aggregates and public tables only."
)

# ------------------------------------------------------------------ data quality
st.subheader("Data quality")
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
                                                  received="received"),
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
            "missing_coordinates": ("Facilities without coordinates", quality.quality_missing_coordinates),
            "coc_yield_outliers": ("Implausible CoC yields", quality.quality_coc_yield_outliers),
        }
        for code, (title, fn) in details.items():
            frame = cached(fn, viewer, filters)
            with st.expander(f"{title} ({len(frame)})"):
                if frame.empty:
                    empty_state("Nothing flagged.")
                else:
                    data_table(frame, key=f"detail-{code}", download=f"asi-quality-{code}",
                               min_reporters=ctx.min_reporters)
        outliers = cached(quality.quality_indicator_outliers, viewer)
        with st.expander(f"Indicator outliers ({len(outliers)})"):
            if outliers.empty:
                empty_state("No indicator observation is far from its series.")
            else:
                data_table(outliers, key="detail-indicator-outliers", download="asi-quality-indicator-outliers",
                           min_reporters=ctx.min_reporters)
    else:
        st.caption("Row-level detail of these checks is available to the ASI Secretariat and, for their own "
                   "facilities, to members.")

# ------------------------------------------------------------------ ingest log
if is_secretariat:
    st.subheader("Ingest log")
    with friendly_errors("the ingest log"):
        log_rows = read_log(ctx.settings.data_dir)
        if not log_rows:
            empty_state("No ingest or validation run has been logged in this data folder yet.",
                        hint="Runs of `python -m asi_me validate` and `python -m asi_me ingest` appear here.")
        else:
            log = pd.DataFrame(log_rows[::-1])
            data_table(log.astype(str), key="ingest-log", download="asi-ingest-log", min_reporters=ctx.min_reporters)
