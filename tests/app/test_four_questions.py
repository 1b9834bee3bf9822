"""The dashboard's introduction: ASI's four M&E questions, each linked to the screens that answer it."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from asi_me.data.snapshot import current_id
from asi_me.data.vocab import Role
from tests.app.conftest import ROLES, assert_clean

QUESTIONS = (
    "Are we doing what we said we would do?",
    "Are we doing things well?",
    "Are we making any difference, and to whom?",
    "Are these the right things to do?",
)


def _keyed(node, key: str) -> list:
    """The blocks under `node` drawn with st.container(key=key)."""
    found = []
    for child in getattr(node, "children", {}).values():
        if str(getattr(getattr(child, "proto", None), "id", "")).endswith(f"-{key}"):
            found.append(child)
        found += _keyed(child, key)
    return found


def _question_cards(at) -> dict[str, list]:
    """Question -> the page links drawn in its card on the dashboard."""
    (intro,) = _keyed(at.main, "asi_me_questions")
    cards: dict[str, list] = {}
    for card in intro.get("column"):
        texts = [m.value for m in card.get("markdown")]
        asked = [q for q in QUESTIONS if f"**{q}**" in texts]
        if len(asked) == 1:
            cards[asked[0]] = list(card.get("page_link"))
    return cards


def _menu(at) -> set[str]:
    return {link.proto.page for link in at.sidebar.get("page_link")}


@pytest.mark.parametrize("role", ROLES)
def test_each_question_links_to_screens_the_role_can_open(open_app, demo_dir, demo_member, role):
    at = open_app(demo_dir, role=role, member=demo_member if role == "member" else None,
                  params={"region": "Europe", "cert_by": "activity"})
    assert_clean(at)
    cards = _question_cards(at)
    assert list(cards) == list(QUESTIONS)
    menu = _menu(at)
    for question, links in cards.items():
        assert links, f"{question!r} links nowhere"
        for link in links:
            assert link.proto.page in menu, f"{question!r} links to {link.proto.page}, not in the {role} menu"
            query = parse_qs(link.proto.query_string)
            # The view travels with the link: filters, role and data version; the dashboard's own choices do not.
            assert query["region"] == ["Europe"]
            assert query["v"] == [current_id(demo_dir)]
            assert "cert_by" not in query
            assert ("role" in query) is (role != "public")
    targets = {q: [(link.proto.page, parse_qs(link.proto.query_string)) for link in links]
               for q, links in cards.items()}
    assert [page for page, _ in targets[QUESTIONS[0]]] == ["toc"]
    assert [page for page, _ in targets[QUESTIONS[1]]] == ["map", "data"]
    assert [page for page, _ in targets[QUESTIONS[2]]] == ["coc_flow", "evaluations"]
    assert targets[QUESTIONS[2]][1][1]["evidence_status"] == ["Completed"]  # as the status control writes it
    ((page, query),) = targets[QUESTIONS[3]]
    assert page == "evaluations" and query["section"] == ["Findings and assumptions"]


def test_a_screen_the_public_may_not_open_is_never_linked_for_the_public(open_app, demo_dir, monkeypatch):
    from asi_me.ui import screens

    # Make the Data screen, one of "doing things well?"'s answers, the Secretariat's only.
    restricted = tuple(
        screens.Screen(s.file, s.title, s.icon, s.url_path, frozenset({Role.SECRETARIAT}))
        if s.url_path == "data" else s for s in screens.SCREENS
    )
    monkeypatch.setattr(screens, "SCREENS", restricted)
    public = _question_cards(open_app(demo_dir))
    assert [link.proto.page for link in public[QUESTIONS[1]]] == ["map"]
    assert all(link.proto.page != "data" for links in public.values() for link in links)
    secretariat = _question_cards(open_app(demo_dir, role="secretariat"))
    assert [link.proto.page for link in secretariat[QUESTIONS[1]]] == ["map", "data"]


def test_presentation_mode_leaves_the_introduction_out(open_app, demo_dir):
    at = open_app(demo_dir, params={"present": "1"})
    assert_clean(at)
    assert not _keyed(at.main, "asi_me_questions")


def test_the_evidence_link_opens_the_completed_evaluations_and_stories(open_app, demo_dir, demo_store):
    from asi_me.filters import Viewer
    from asi_me.queries import toc

    home = open_app(demo_dir)
    (link,) = [link for link in _question_cards(home)[QUESTIONS[2]] if link.proto.page == "evaluations"]
    at = open_app(demo_dir, page="pages/evaluations.py", params=parse_qs(link.proto.query_string))
    assert_clean(at)
    completed = toc.evidence_list(demo_store, Viewer.public(), status="completed")
    assert 0 < len(completed) < len(toc.evidence_list(demo_store, Viewer.public()))
    assert f"{len(completed)} items" in [s.value for s in at.header]
