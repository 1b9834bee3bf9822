"""The four M&E questions in a real browser: the dashboard's links open the screen and
section that answer each, and a finding's link opens the Theory of change on its outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from asi_me.ui.questions import FINDINGS_SECTION

if TYPE_CHECKING:  # fixtures come from conftest.py; these names are for reading only
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser


def test_the_fourth_question_opens_the_findings_and_a_finding_opens_its_outcome(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(demo_server).open(demo_server.page_url("", region="Europe"), heading="Outcomes dashboard")
    app.assert_healthy()
    intro = app.main.locator(".st-key-asi_me_questions")
    for question in ("Are we doing what we said we would do?", "Are we doing things well?",
                     "Are we making any difference, and to whom?", "Are these the right things to do?"):
        expect(intro).to_contain_text(question)
    app.screenshot("questions-dashboard", full_page=False)

    intro.get_by_role("link", name="Findings and assumptions").click()
    app.wait_until_idle()
    app.expect_heading("Evaluations & Stories of Change")
    url = urlsplit(app.page.url)
    assert url.path.rstrip("/").endswith("/evaluations")
    assert parse_qs(url.query)["section"] == [FINDINGS_SECTION] and parse_qs(url.query)["region"] == ["Europe"]
    expect(app.main.get_by_role("tab", name=FINDINGS_SECTION)).to_have_attribute("aria-selected", "true")
    expect(app.main.get_by_text("What the evidence found")).to_be_visible()
    app.assert_healthy()
    app.screenshot("questions-findings")

    finding = app.main.locator('[class*="st-key-finding_link_"]').first
    outcome = finding.locator('[data-testid="stCaptionContainer"]').inner_text().split(": ", 1)[1]
    link = finding.get_by_role("link").first
    target = parse_qs(urlsplit(link.get_attribute("href") or "").query)
    link.click()
    app.wait_until_idle()
    app.expect_heading("Theory of change")
    # The explorer opens on the outcome the finding bears on: its name heads the node's section.
    expect(app.main.get_by_role("heading", name=outcome)).to_be_visible(timeout=30_000)
    app.wait_until_idle()
    assert parse_qs(urlsplit(app.page.url).query)["node"] == target["node"]
    assert parse_qs(urlsplit(app.page.url).query)["region"] == ["Europe"]
    app.assert_healthy()
    app.screenshot("questions-toc-from-finding")
