"""Risk register (Secretariat): the Risk Assessment and Management Plan as a likelihood x consequence
matrix, the list with controls, owners and review dates, and how ratings moved across revisions."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from asi_me.data.vocab import RiskCategory, RiskSeverity, Role, label
from asi_me.publish.numbers import format_day
from asi_me.queries import risks
from asi_me.ui import charts
from asi_me.ui.cache import cached
from asi_me.ui.context import page_context
from asi_me.ui.widgets import chart_card, data_table, empty_state, friendly_errors

ctx = page_context()
viewer = ctx.viewer
if viewer.role is not Role.SECRETARIAT:  # the router lists this page for the Secretariat only
    empty_state("This screen is for the Secretariat.", hint="Log in with a Secretariat account.")
    st.stop()

SOURCE = "ASI Risk Assessment and Management Plan (risk register)"

st.caption(
    "The Risk Assessment and Management Plan: each risk rated by likelihood and consequence (1–5 each); its "
    "severity is the band of their product (1–4 low, 5–9 medium, 10–16 high, 20–25 extreme). The plan is "
    "revised at least yearly. Only risks marked public could ever be shown outside the Secretariat."
)

with friendly_errors("the risk register"):
    with st.container(key="controls_risk_filters"):
        c1, c2 = st.columns([3, 2])
        categories = c1.multiselect(
            "Category", [c.value for c in RiskCategory], key="risk_category", format_func=label,
            placeholder="All categories", bind="query-params",
        )
        severities = c2.multiselect(
            "Severity", [s.value for s in RiskSeverity], key="risk_severity", format_func=label,
            placeholder="Any severity", bind="query-params",
        )
    chosen_categories = tuple(categories) or None
    chosen_severities = tuple(severities) or None
    today = date.today()
    register = cached(risks.risk_register, viewer, chosen_categories, chosen_severities, today)
    everything = register if not (chosen_categories or chosen_severities) else cached(
        risks.risk_register, viewer, None, None, today
    )

    if everything.empty:
        empty_state(
            "No risks are loaded in this data snapshot.",
            hint="Load the risk register (table risks) on Data › Update; see docs/ingest.md.",
        )
        st.stop()

    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Risks", len(register), border=True)
    m2.metric("Extreme or high", int(register["severity"].isin(["extreme", "high"]).sum()), border=True)
    m3.metric("Rating worse than last revision", int((register["rating_change"] > 0).sum()), border=True)
    m4.metric("Reviews overdue", int(register["is_review_overdue"].sum()), border=True)

    if register.empty:
        empty_state("No risk matches the selected category and severity.", hint="Clear a filter to see more.")
        st.stop()

    matrix = cached(risks.risk_matrix, viewer, chosen_categories, chosen_severities)
    chart_card(
        "Likelihood × consequence", matrix[["likelihood", "consequence", "rating", "severity", "risks", "risk_ids"]],
        charts.risk_matrix, key="risk_matrix", source=SOURCE,
        definition="Each cell counts the risks whose latest revision is rated there; its colour is the cell's "
        "severity band.",
        titles={"risks": "Risks", "risk_ids": "Which risks", "rating": "Rating"},
    )

    st.subheader("Risks and their controls")
    shown = register.assign(
        severity_shown=register["severity_label"],
        review=[f"Overdue since {format_day(d)}" if late else format_day(d)
                for d, late in zip(register["review_on"], register["is_review_overdue"], strict=True)],
        change=[("—" if pd.isna(p) else f"{int(c):+d} (was {int(p)})")
                for p, c in zip(register["previous_rating"], register["rating_change"], strict=True)],
    )
    data_table(
        shown[["risk_id", "title", "category_label", "likelihood", "consequence", "rating", "severity_shown",
               "change", "controls", "owner", "review", "revision", "is_public"]],
        key="risk_register", download="risk-register",
        titles={"risk_id": "Risk", "title": "Title", "category_label": "Category", "likelihood": "Likelihood",
                "consequence": "Consequence", "rating": "Rating", "severity_shown": "Severity",
                "change": "Change since previous revision", "controls": "Controls", "owner": "Owner",
                "review": "Next review", "revision": "Revision", "is_public": "Marked public"},
    )

    st.subheader("How ratings moved across revisions")
    history = cached(risks.risk_history, viewer, chosen_categories, chosen_severities)
    chart_card(
        "Rating at each revision",
        history[["risk_id", "title", "revision", "revised_on", "likelihood", "consequence", "rating",
                 "severity_label"]],
        charts.risk_rating_history, key="risk_history", source=SOURCE,
        definition="Rating = likelihood × consequence at each revision of the plan; dashed rules mark where the "
        "severity bands begin.",
        titles={"risk_id": "Risk", "title": "Title", "revision": "Revision", "revised_on": "Adopted",
                "likelihood": "Likelihood", "consequence": "Consequence", "rating": "Rating",
                "severity_label": "Severity"},
    )
