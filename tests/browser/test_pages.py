"""Every screen, opened by URL in Chromium, for every role and on an empty dataset.

A screen passes when the real server runs it to the end with its heading shown, no
exception box and no console error. A screenshot of each is kept in
test-artifacts/browser/ for a person to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from asi_me.snapshot import current_folder, read_table
from asi_me.vocab import Role

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
    Screen("coc-flow", "coc-flow", "CoC material flow"),
    Screen("theory-of-change", "theory-of-change", "Theory of change"),
    Screen("evaluations", "evaluations", "Evaluations & Stories of Change"),
    Screen("data", "data", "Data"),
)
HIDDEN_FROM_PUBLIC = tuple(s for s in SCREENS if Role.PUBLIC not in s.roles)


def _params(role: Role, member_id: str | None = None) -> dict[str, str]:
    return {"role": role.value, **({"member": member_id} if member_id else {})}


def _nav_paths(app: AppPage) -> set[str]:
    """The url paths the navigation menu offers, "" for the home page."""
    hrefs = app.page.locator('[data-testid="stSidebarNav"] a').evaluate_all("links => links.map(a => a.href)")
    return {href.removeprefix(app.server_url).strip("/").split("?")[0] for href in hrefs}


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
    app.screenshot(f"empty-{screen.key}")


def test_navigation_offers_exactly_the_screens_of_each_role(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage], demo_member_id: str
) -> None:
    for role in Role:
        app = new_app_page(demo_server).open(
            demo_server.page_url("", **_params(role, demo_member_id if role is Role.MEMBER else None))
        )
        expected = {s.url_path for s in SCREENS if role in s.roles}
        assert _nav_paths(app) == expected, f"the {role} menu differs from SCREENS in {Path(__file__).name}"


@pytest.mark.skipif(not HIDDEN_FROM_PUBLIC, reason="app.py shows every screen to the public role")
@pytest.mark.parametrize("screen", HIDDEN_FROM_PUBLIC, ids=[s.key for s in HIDDEN_FROM_PUBLIC])
def test_public_cannot_open_hidden_screens_by_url(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage], screen: Screen
) -> None:
    app = new_app_page(demo_server).open(demo_server.page_url(screen.url_path, **_params(Role.PUBLIC)))
    assert app.main.locator("h1").first.inner_text() != screen.heading
    assert screen.url_path not in _nav_paths(app)


def test_first_visitor_after_start_cannot_bypass_the_router(
    cold_demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    """Streamlit serves a pages/ folder by legacy auto-discovery until app.py has run once.

    On a fresh server, the very first request goes straight to a non-home screen (one
    hidden from the public if there is any) as the public role: the router must still
    decide, so the menu lists only public screens.
    """
    target = (HIDDEN_FROM_PUBLIC or [s for s in SCREENS if s.url_path])[0]
    server = cold_demo_server
    app = new_app_page(server).open(server.page_url(target.url_path, **_params(Role.PUBLIC)))
    assert _nav_paths(app) == {s.url_path for s in SCREENS if Role.PUBLIC in s.roles}
    if Role.PUBLIC not in target.roles:
        assert app.main.locator("h1").first.inner_text() != target.heading
