"""Every screen, opened by URL in Chromium, for every role and on an empty dataset.

A screen passes when the real server runs it to the end with its heading shown, the
menu offering exactly the role's screens, no exception box and no console error. A screenshot of each is kept in
test-artifacts/browser/ for a person to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from asi_me.data.snapshot import current_folder, read_table
from asi_me.data.vocab import Role

if TYPE_CHECKING:  # fixtures come from conftest.py; these names are for reading only
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Screen:
    """One st.Page of app.py: where it lives, what its heading says, who may open it."""

    key: str
    url_path: str
    heading: str
    roles: frozenset[Role] = frozenset(Role)


# The router's table (app.py SCREENS), written out again here: the menu test fails if
# they drift. The default screen is served at the root URL.
SCREENS: tuple[Screen, ...] = (
    Screen("outcomes", "", "Outcomes dashboard"),
    Screen("map", "map", "Certification map"),
    Screen("coc_flow", "coc_flow", "CoC material flow"),
    Screen("toc", "toc", "Theory of change"),
    Screen("evaluations", "evaluations", "Evaluations & Stories of Change"),
    Screen("data", "data", "Data"),
    Screen("data_update", "data_update", "Data › Update", frozenset({Role.SECRETARIAT})),
    Screen("risks", "risks", "Risk register", frozenset({Role.SECRETARIAT})),
)
HIDDEN_FROM_PUBLIC = tuple(s for s in SCREENS if Role.PUBLIC not in s.roles)


def _params(role: Role, member_id: str | None = None) -> dict[str, str]:
    return {"role": role.value, **({"member": member_id} if member_id else {})}


NOT_FOUND = "The page that you have requested does not seem to exist"
MENU_LINKS = '[data-testid="stSidebarNav"] a, [data-testid="stSidebar"] [data-testid="stPageLink"] a'


def _nav_paths(app: AppPage, expected: set[str] | None = None) -> set[str]:
    """The url paths the sidebar menu links to, "" for the home page.

    app.py draws the menu with st.page_link (Streamlit's own menu is hidden). Streamlit
    writes the default page's link as a bare "?query" href (a click goes home; see
    test_home_link_opens_the_dashboard_in_a_new_tab), so such a link counts as "".
    The links can appear a moment after the run ends, so this polls (up to 10 s) until
    the menu matches `expected`, and returns what it shows last.
    """
    links = app.page.locator(MENU_LINKS)
    paths: set[str] = set()
    for _ in range(40):
        hrefs = links.evaluate_all("links => links.map(a => a.getAttribute('href') || '')")
        paths = {href.removeprefix(app.server_url).strip("/").split("?")[0] for href in hrefs}
        if expected is None or paths == expected:
            break
        app.page.wait_for_timeout(250)
    return paths


@pytest.fixture(scope="module")
def demo_member_id(demo_server: StreamlitServer) -> str:
    """The demo member company with the most certified facilities of its own."""
    folder = current_folder(demo_server.data_dir)
    owner = {row["facility_id"]: row["member_id"] for row in read_table(folder, "facilities").to_pylist()}
    counts: dict[str, int] = {}
    for row in read_table(folder, "certifications").to_pylist():
        member_id = owner[row["facility_id"]]
        counts[member_id] = counts.get(member_id, 0) + 1
    assert counts, "the demo data has no certified facility, so no member has a view of its own"
    return max(sorted(counts), key=counts.__getitem__)


def _open_screen(app: AppPage, server: StreamlitServer, screen: Screen, params: dict[str, str]) -> AppPage:
    app.open(server.page_url(screen.url_path, **params), heading=screen.heading)
    app.assert_healthy()
    role = Role(params["role"])
    menu = {s.url_path for s in SCREENS if role in s.roles}
    assert _nav_paths(app, menu) == menu, f"the {role} menu differs from SCREENS in {Path(__file__).name}"
    if role is not Role.PUBLIC:
        # Otherwise a role switch that silently fell back would test the public view again.
        who = {Role.SECRETARIAT: "Secretariat", Role.MEMBER: f"Member {params.get('member')}"}[role]
        expect(app.main.get_by_text(f"You are viewing as {who}")).to_be_visible()
    return app


@pytest.mark.parametrize("screen", SCREENS, ids=[s.key for s in SCREENS])
def test_public_screen_renders_on_demo_data(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage], screen: Screen
) -> None:
    if Role.PUBLIC not in screen.roles:
        pytest.skip("not a public screen; test_public_cannot_open_hidden_screens covers it")
    app = _open_screen(new_app_page(demo_server), demo_server, screen, _params(Role.PUBLIC))
    app.screenshot(screen.key)


@pytest.mark.parametrize("screen", SCREENS, ids=[s.key for s in SCREENS])
def test_secretariat_screen_renders_on_demo_data(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage], screen: Screen
) -> None:
    app = _open_screen(new_app_page(demo_server), demo_server, screen, _params(Role.SECRETARIAT))
    app.screenshot(f"secretariat-{screen.key}")


@pytest.mark.parametrize("screen", SCREENS, ids=[s.key for s in SCREENS])
def test_member_screen_renders_on_demo_data(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage], screen: Screen, demo_member_id: str
) -> None:
    if Role.MEMBER not in screen.roles:
        pytest.skip("not a member screen")
    app = _open_screen(new_app_page(demo_server), demo_server, screen, _params(Role.MEMBER, demo_member_id))
    app.screenshot(f"member-{screen.key}")


@pytest.mark.parametrize("screen", SCREENS, ids=[s.key for s in SCREENS])
def test_public_screen_explains_an_empty_dataset(
    empty_server: StreamlitServer, new_app_page: Callable[..., AppPage], screen: Screen
) -> None:
    if Role.PUBLIC not in screen.roles:
        pytest.skip("not a public screen")
    app = _open_screen(new_app_page(empty_server), empty_server, screen, _params(Role.PUBLIC))
    # An empty screen says why it is empty (asi_me.ui.widgets.empty_state draws an info box).
    expect(app.main.locator('[data-testid="stAlertContentInfo"]').first).to_be_visible()
    app.screenshot(f"empty-{screen.key}")


@pytest.mark.skipif(not HIDDEN_FROM_PUBLIC, reason="app.py shows every screen to the public role")
@pytest.mark.parametrize("screen", HIDDEN_FROM_PUBLIC, ids=[s.key for s in HIDDEN_FROM_PUBLIC])
def test_public_cannot_open_hidden_screens_by_url(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage], screen: Screen
) -> None:
    app = new_app_page(demo_server).open(demo_server.page_url(screen.url_path, **_params(Role.PUBLIC)))
    assert app.main.locator("h1").first.inner_text() != screen.heading
    public = {s.url_path for s in SCREENS if Role.PUBLIC in s.roles}
    assert _nav_paths(app, public) == public


def test_first_visitor_after_start_cannot_bypass_the_router(
    cold_demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    """Streamlit serves a pages/ folder by legacy auto-discovery until app.py has run once.

    On a fresh server, the very first request is a deep link to a screen whose URL is not
    its file name (or one hidden from the public, if any): the router must still decide,
    so the menu lists only public screens and the linked screen opens.
    """
    target = (HIDDEN_FROM_PUBLIC or [s for s in SCREENS if s.key == "toc"])[0]
    server = cold_demo_server
    shown = target if Role.PUBLIC in target.roles else SCREENS[0]  # a hidden screen falls back to home
    app = new_app_page(server).open(server.page_url(target.url_path, **_params(Role.PUBLIC)), heading=shown.heading)
    public = {s.url_path for s in SCREENS if Role.PUBLIC in s.roles}
    assert _nav_paths(app, public) == public
    assert app.page.locator('[data-testid="stException"]').count() == 0
    assert not [entry.text for entry in app.console if NOT_FOUND in entry.text]
    expect(app.page.get_by_text("Page not found")).to_have_count(0)
    app.assert_healthy()


def test_secretariat_sections_are_not_reachable_by_a_public_url(
    demo_server: StreamlitServer, empty_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    """The Data screen's ingest log and flag detail are for the Secretariat only.

    On the demo data a link may switch role (to preview each view); on any other data
    a link asking for the secretariat view still gets the public one.
    """
    data = next(s for s in SCREENS if s.key == "data")

    def open_data(server: StreamlitServer, role: Role) -> AppPage:
        return _open_screen(new_app_page(server), server, data, _params(role))

    secretariat = open_data(demo_server, Role.SECRETARIAT)
    expect(secretariat.main.get_by_role("heading", name="Ingest log")).to_be_visible()
    expect(secretariat.main.get_by_text("Flag detail", exact=True)).to_be_visible()

    public = open_data(demo_server, Role.PUBLIC)
    expect(public.main.get_by_role("heading", name="Data quality")).to_be_visible()
    expect(public.main.get_by_role("heading", name="Ingest log")).to_have_count(0)
    expect(public.main.get_by_text("Flag detail")).to_have_count(0)

    forged = new_app_page(empty_server).open(empty_server.page_url(data.url_path, role="secretariat"), data.heading)
    forged.assert_healthy()
    expect(forged.main.get_by_role("heading", name="Ingest log")).to_have_count(0)
    expect(forged.main.get_by_text("switching roles is only possible on the demo dataset")).to_be_visible()


@pytest.mark.xfail(
    strict=True,
    reason="Streamlit 1.67 st.page_link writes the default page as a bare '?query' href, so opening the "
    "Outcomes dashboard link in a new tab (or copying it) from another screen reopens that screen",
)
def test_home_link_opens_the_dashboard_in_a_new_tab(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(demo_server).open(demo_server.page_url("map", country="DE"), heading="Certification map")
    home = app.page.locator(MENU_LINKS).filter(has_text="Outcomes dashboard").first
    resolved = home.evaluate("a => a.href")
    assert urlsplit(resolved).path == "/", f"the Outcomes dashboard link from the map points to {resolved}"
