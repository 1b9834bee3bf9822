"""ASI's four M&E questions and where the app answers each: the dashboard's introduction.

Each question has a plain-language line and links to the screens and sections that answer
it; a link is drawn only to a screen the viewer's role may open (asi_me/ui/links.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from asi_me.data.vocab import EvaluationStatus, Role, label
from asi_me.ui.links import screen, screen_link

# The Evaluations screen's sections (tabs, bound to ?section=); the fourth question opens the second.
EVIDENCE_SECTION = "Evaluations and Stories of Change"
FINDINGS_SECTION = "Findings and assumptions"


@dataclass(frozen=True)
class Answer:
    """A link to the screen (and, through its parameters, the section) that answers a question."""

    url_path: str
    label: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MeQuestion:
    question: str
    line: str
    answers: tuple[Answer, ...]


ME_QUESTIONS: tuple[MeQuestion, ...] = (
    MeQuestion(
        "Are we doing what we said we would do?",
        "The outputs ASI committed to (the tiles below) and every M&E indicator's latest value against its "
        "target, on track or not.",
        (Answer("toc", "Indicators against targets"),),
    ),
    MeQuestion(
        "Are we doing things well?",
        "Whether certification drives improvement: non-conformances closed at the next audit (below), audit "
        "histories, and checks on the data itself.",
        (Answer("map", "Audit histories"), Answer("data", "Data-quality checks")),
    ),
    MeQuestion(
        "Are we making any difference, and to whom?",
        "Responsible material moving along the value chain, and the evaluations and Stories of Change behind "
        "each outcome and impact.",
        # Bound widgets read their option's words from the URL (docs/configuration.md).
        (Answer("coc_flow", "ASI material flow"),
         Answer("evaluations", "Evidence of outcomes", (("evidence_status", label(EvaluationStatus.COMPLETED)),))),
    ),
    MeQuestion(
        "Are these the right things to do?",
        "What independent evaluations found about the Theory of Change: the outcomes and indicators they "
        "confirm or question, and the assumptions it rests on.",
        (Answer("evaluations", "Findings and assumptions", (("section", FINDINGS_SECTION),)),),
    ),
)


def answers_for(role: Role) -> list[tuple[MeQuestion, list[Answer]]]:
    """Each question with the answers the role may open."""
    return [(q, [a for a in q.answers if screen(a.url_path, role) is not None]) for q in ME_QUESTIONS]


def four_questions(role: Role) -> None:
    """The introduction: one bordered card per question, with its line and links."""
    with st.container(key="asi_me_questions"):
        st.markdown("**The four questions of ASI's M&E programme, and where this app answers them**")
        columns = st.columns(len(ME_QUESTIONS))
        for column, (question, answers) in zip(columns, answers_for(role), strict=True):
            with column, st.container(border=True, height="stretch"):
                st.markdown(f"**{question.question}**")
                st.caption(question.line)
                for answer in answers:
                    screen_link(answer.url_path, answer.label, role, **dict(answer.params))
