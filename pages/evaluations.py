"""Evaluations and Stories of Change, linked to the Theory-of-Change outcomes they evidence; and,
for "are these the right things to do?", what they found about each outcome and indicator
(confirms or questions, each opening the ToC explorer on it) and the ToC's assumptions."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from asi_me.data.vocab import EvaluationStatus, EvidenceKind, FindingBearing, label
from asi_me.queries import toc
from asi_me.ui import charts
from asi_me.ui.cache import cached
from asi_me.ui.context import page_context
from asi_me.ui.links import screen_link
from asi_me.ui.questions import EVIDENCE_SECTION, FINDINGS_SECTION
from asi_me.ui.widgets import chart_card, data_table, empty_state, friendly_errors

ctx = page_context()
viewer = ctx.viewer

STATUS_ICON = {"planned": ":material/schedule:", "ongoing": ":material/autorenew:",
               "completed": ":material/check_circle:"}
STATUS_COLOR = {"planned": "gray", "ongoing": "orange", "completed": "green"}
KIND_ICON = {"evaluation": ":material/fact_check:", "story_of_change": ":material/auto_stories:"}

BEARING_COLOR = {FindingBearing.CONFIRMS.value: "green", FindingBearing.QUESTIONS.value: "orange"}
BEARING_ICON = {FindingBearing.CONFIRMS.value: ":material/thumb_up:",
                FindingBearing.QUESTIONS.value: ":material/help:"}
ASSUMPTION_COLOR = {"questioned": "orange", "holds": "green", "untested": "gray"}

evidence_tab, findings_tab = st.tabs([EVIDENCE_SECTION, FINDINGS_SECTION], key="section", bind="query-params")

# Only the open section is built (the tabs are bound to ?section=, so a switch reruns the page):
# the first screen sends no findings, and the findings send no timeline.
if evidence_tab.open:
    with evidence_tab:
        st.caption(
            "Are we making any difference, and to whom? Outcome and impact evaluations (level 3 evidence) and "
            "Stories of Change (level 2), each linked to the Theory-of-Change outcomes it gives evidence for."
        )

    with evidence_tab, friendly_errors("the evaluations and Stories of Change"):
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


# ------------------------------------------------------------------ are these the right things to do?


def _toc_link(node_id: str, node_words: str, indicator_code: object, indicator_name: object, key: str) -> None:
    """Names the ToC node (and indicator) a finding or assumption bears on, with a link that
    opens the explorer on it."""
    has_indicator = isinstance(indicator_code, str) and bool(indicator_code)
    with st.container(key=key):
        st.caption(node_words)
        screen_link("toc", f"{indicator_code} · {indicator_name}" if has_indicator else "Open in the Theory of change",
                    viewer.role, icon=":material/hub:", help="Open this in the Theory-of-change explorer.",
                    node=node_id, **({"indicator": str(indicator_code)} if has_indicator else {}))


if findings_tab.open:
    with findings_tab:
        st.caption(
            "Are these the right things to do? What evaluations and Stories of Change found about the Theory of "
            "Change: each finding confirms or questions an outcome (and the indicator that measures it, where one "
            "does), and the assumptions the Theory of Change rests on hold, are questioned or are not yet tested."
        )

    with findings_tab, friendly_errors("the findings and assumptions"):
        findings = cached(toc.evidence_findings, viewer)
        assumptions = cached(toc.toc_assumptions, viewer)
        f1, f2, f3, f4 = st.columns(4)
        f1.metric("Findings that confirm", int((findings["bearing"] == FindingBearing.CONFIRMS.value).sum()),
                  border=True)
        f2.metric("Findings that question", int((findings["bearing"] == FindingBearing.QUESTIONS.value).sum()),
                  border=True)
        f3.metric("Assumptions questioned", int((assumptions["status"] == "questioned").sum()), border=True)
        f4.metric("Assumptions not yet tested", int((assumptions["status"] == "untested").sum()), border=True)

        st.header("What the evidence found")
        if findings.empty:
            empty_state("No findings of evaluations or Stories of Change have been recorded in this data snapshot.",
                        hint="They come from the evidence_findings table of the M&E evidence register.")
        else:
            for evidence_id, group in findings.groupby("evidence_id", sort=False):
                first = group.iloc[0]
                with st.container(border=True, key=f"findings_{evidence_id}"):
                    when = (f" · completed {pd.Timestamp(first.completed_on):%b %Y}"
                            if pd.notna(first.completed_on) else "")
                    st.markdown(f"**{html.escape(str(first.evidence_title))}**")
                    st.caption(f"{label(first.kind)}{when}")
                    for row in group.itertuples(index=False):
                        left, right = st.columns([3, 2], vertical_alignment="center")
                        with left:
                            st.badge(str(row.bearing_label), icon=BEARING_ICON.get(row.bearing),
                                     color=BEARING_COLOR.get(row.bearing, "gray"))
                            st.markdown(str(row.finding))
                        with right:
                            _toc_link(row.toc_node_id, f"{row.toc_node_type_label}: {row.toc_node_label}",
                                      row.indicator_code, row.indicator_name,
                                      key=f"finding_link_{evidence_id}_{row.finding_no}")
            # Sent only while open (?findings_table=true reopens it).
            findings_table = st.expander("The findings as a table", key="findings_table", bind="query-params")
            with findings_table:
                if findings_table.open:
                    data_table(
                        findings[["evidence_id", "evidence_title", "finding_no", "finding", "bearing_label",
                                  "toc_node_label", "indicator_code", "indicator_name"]],
                        key="evidence-findings", download="asi-evidence-findings", min_reporters=ctx.min_reporters,
                        titles={"evidence_id": "ID", "evidence_title": "Evaluation or Story of Change",
                                "finding_no": "No.", "bearing_label": "Bearing", "toc_node_label": "Outcome",
                                "indicator_code": "Indicator code", "indicator_name": "Indicator"},
                    )

        st.header("The assumptions the Theory of Change rests on")
        if assumptions.empty:
            empty_state("No assumptions of the Theory of Change have been recorded in this data snapshot.",
                        hint="They come from the toc_assumptions table.")
        else:
            for row in assumptions.itertuples(index=False):
                with st.container(border=True, key=f"assumption_{row.assumption_id}"):
                    left, right = st.columns([3, 2], vertical_alignment="center")
                    with left:
                        st.badge(str(row.status_label), color=ASSUMPTION_COLOR.get(row.status, "gray"))
                        st.markdown(str(row.assumption))
                        if isinstance(row.evidence_title, str):
                            st.caption(f"Tested by: {row.evidence_title}")
                    with right:
                        _toc_link(row.toc_node_id, f"Supports: {row.toc_node_label}", None, None,
                                  key=f"assumption_link_{row.assumption_id}")
