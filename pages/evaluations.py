"""Evaluations and Stories of Change, linked to the Theory-of-Change outcomes they evidence."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from asi_me.data.vocab import EvaluationStatus, EvidenceKind, label
from asi_me.queries import toc
from asi_me.ui import charts
from asi_me.ui.cache import cached
from asi_me.ui.context import page_context
from asi_me.ui.widgets import chart_card, empty_state, friendly_errors

ctx = page_context()
viewer = ctx.viewer

STATUS_ICON = {"planned": ":material/schedule:", "ongoing": ":material/autorenew:",
               "completed": ":material/check_circle:"}
STATUS_COLOR = {"planned": "gray", "ongoing": "orange", "completed": "green"}
KIND_ICON = {"evaluation": ":material/fact_check:", "story_of_change": ":material/auto_stories:"}

st.caption(
    "Are we making any difference, and to whom? Outcome and impact evaluations (level 3 evidence) and "
    "Stories of Change (level 2), each linked to the Theory-of-Change outcomes it gives evidence for."
)

with friendly_errors("the evaluations and Stories of Change"):
    counts = cached(toc.evidence_counts, viewer)
    outcomes = cached(toc.evidence_by_outcome, viewer)
    node_names = dict(zip(outcomes["node_id"], outcomes["label"], strict=True))

    with st.container(key="controls_evidence_filters"):
        c1, c2, c3 = st.columns([2, 3, 3])
        kind = c1.segmented_control(
            "Kind", [k.value for k in EvidenceKind], key="kind", format_func=label, bind="query-params",
            help="Leave empty for both kinds.",
        )
        status = c2.segmented_control(
            "Status", [s.value for s in EvaluationStatus], key="evidence_status", format_func=label,
            bind="query-params",
            help="Leave empty for any status.",
        )
        node = c3.selectbox(
            "Outcome evidenced", list(node_names), index=None, key="outcome", placeholder="Any outcome or impact",
            bind="query-params",
            format_func=lambda n: node_names.get(n, n),
        )

    evidence = cached(toc.evidence_list, viewer, kind, status, node)

    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Evaluations completed", counts.evaluations_completed, border=True)
    m2.metric("Evaluations ongoing", counts.evaluations_ongoing, border=True)
    m3.metric("Evaluations planned", counts.evaluations_planned, border=True)
    m4.metric("Stories of Change", counts.stories_of_change, border=True)

    if not counts.total:
        empty_state(
            "No evaluations or Stories of Change have been recorded in this data snapshot.",
            hint="They come from the M&E evidence register; see the Data screen for what is loaded.",
        )
    else:
        table = evidence[
            ["evidence_id", "kind", "title", "status", "started_on", "completed_on", "author", "outcomes", "url"]
        ]
        what = " · ".join(p for p in (label(kind) if kind else "", label(status) if status else "",
                                      node_names.get(node, node) if node else "") if p)
        chart_card(
            "Timeline" + (f": {what}" if what else ""),
            table,
            lambda f: charts.timeline(f, start="started_on", end="completed_on", name="title", status="status",
                                      today=pd.Timestamp(ctx.as_of)),
            key="evidence",
            source="ASI M&E evidence register (evaluations and Stories of Change)",
            definition=("Evaluations are independent outcome or impact studies; Stories of Change are documented "
                        "cases. Bars run from start to completion; ongoing work runs to the as-of date. Planned "
                        "work without a start date is listed in the table only."),
            empty_message=("Nothing matches this kind, status and outcome; clear one of the choices above."),
            min_reporters=ctx.min_reporters,
            titles={"evidence_id": "ID", "outcomes": "Outcomes evidenced", "url": "Link"},
        )

        st.header(f"{len(evidence)} item{'s' if len(evidence) != 1 else ''}")
        columns = st.columns(2)
        for i, row in enumerate(evidence.itertuples(index=False)):
            with columns[i % 2], st.container(border=True):
                st.markdown(f"**{html.escape(str(row.title))}**")
                badges = st.container(horizontal=True)
                with badges:
                    st.badge(label(row.kind), icon=KIND_ICON.get(row.kind), color="blue")
                    st.badge(label(row.status), icon=STATUS_ICON.get(row.status),
                             color=STATUS_COLOR.get(row.status, "gray"))
                dates = []
                if pd.notna(row.started_on):
                    dates.append(f"started {pd.Timestamp(row.started_on):%b %Y}")
                if pd.notna(row.completed_on):
                    dates.append(f"completed {pd.Timestamp(row.completed_on):%b %Y}")
                meta = " · ".join([*([str(row.author)] if row.author else []), *dates])
                if meta:
                    st.caption(meta)
                st.write(row.summary)
                st.markdown("Evidences: " + ", ".join(f"*{name}*" for name in row.toc_node_labels))
                if row.url:
                    st.markdown(f"[Read it]({row.url})")
