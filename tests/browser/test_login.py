"""Login end to end: a real OpenID Connect provider on loopback, the app behind the production
entrypoint with an `[auth]` section pointing at it, and Chromium going through the real
redirects. A member sees its own company and no one else's; the Secretariat sees the
unpublished report lines; after logging out, or with a forged or expired login cookie,
a person gets the public view.

Without Streamlit's auth extra (Authlib) the "Log in" click ends on an error page and
every test here fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from playwright.sync_api import Browser, BrowserContext, Page, expect

from asi_me.data.store import Store
from asi_me.filters import Viewer
from asi_me.queries.certifications import certification_register
from asi_me.queries.members import own_company_name

if TYPE_CHECKING:
    from conftest import StreamlitServer

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 45_000
USER_COOKIE = "_streamlit_user"  # Streamlit's signed login cookie
STAFF = {"sub": "staff@aluminium-stewardship.org", "email": "staff@aluminium-stewardship.org",
         "email_verified": True, "groups": ["asi-staff"]}
MEMBER_EMAIL = "lee@example-metals.com"
OUTSIDER_EMAIL = "sam@elsewhere.org"
SESSION_HOURS = 2


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class Provider:
    url: str  # http://localhost:PORT: another host than the app's 127.0.0.1, so cookies never mix


@dataclass
class Member:
    member_id: str
    name: str


@pytest.fixture(scope="module")
def member() -> Member:
    """A member company of the demo data that holds certifications."""
    store = Store.open_current(REPO_ROOT / "data")
    try:
        register = certification_register(store, Viewer.secretariat())
        member_id = str(register["member_id"].value_counts().index[0])
        return Member(member_id, own_company_name(store, Viewer.member(member_id)) or member_id)
    finally:
        store.close()


@pytest.fixture(scope="module")
def provider(artifacts: Path, member: Member) -> Iterator[Provider]:
    """oidc-provider-mock on a free loopback port, with the staff and member users predefined."""
    log_path = artifacts / "oidc-provider.log"
    users = [STAFF, {"sub": MEMBER_EMAIL, "email": MEMBER_EMAIL, "email_verified": True, "groups": []},
             {"sub": OUTSIDER_EMAIL, "email": OUTSIDER_EMAIL, "email_verified": True}]
    port = _free_port()
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    for user in users:
        command += ["--user-claims", json.dumps(user)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/.well-known/openid-configuration", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the OIDC provider did not start; {log_path}:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        yield Provider(url)
    finally:
        _stop(process)


@dataclass
class LoginApp:
    server: StreamlitServer
    cookie_secret: str


@pytest.fixture(scope="module")
def login_app(provider: Provider, member: Member, artifacts: Path, tmp_path_factory: pytest.TempPathFactory,
              browser: Browser, asgi_server_control) -> Iterator[LoginApp]:
    """The app through uvicorn (asi_me.ui.asgi) with a generated secrets.toml whose [auth] points at
    the provider; role switching off, as on real data."""
    start_asgi_server, stop_server = asgi_server_control
    home = tmp_path_factory.mktemp("login-home")
    cookie_secret = secrets.token_urlsafe(32)
    # The redirect URI names the app's port: choose it before writing the secrets.
    app_port = _free_port()
    redirect_uri = f"http://127.0.0.1:{app_port}/oauth2callback"
    (home / ".streamlit").mkdir()
    (home / ".streamlit" / "secrets.toml").write_text(
        f"""[auth]
redirect_uri = "{redirect_uri}"
cookie_secret = "{cookie_secret}"
client_id = "asi-explorer"
client_secret = "{secrets.token_urlsafe(16)}"
server_metadata_url = "{provider.url}/.well-known/openid-configuration"

[asi_roles]
session_hours = {SESSION_HOURS}

[asi_roles.groups]
"asi-staff" = "secretariat"

[asi_roles.domains]
"aluminium-stewardship.org" = "public"
"example-metals.com" = "member:{member.member_id}"
""",
        encoding="utf-8",
    )
    server = start_asgi_server(
        REPO_ROOT / "data", artifacts / "server-login.log",
        env={"HOME": str(home), "ASI_ALLOW_ROLE_SWITCH": "0"}, port=app_port,
    )
    try:
        yield LoginApp(server, cookie_secret)
    finally:
        stop_server(server)


@pytest.fixture
def login_context(browser: Browser, login_app: LoginApp, provider: Provider) -> Iterator[BrowserContext]:
    """A fresh browser context that may reach the app and the provider, and nothing else."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    allowed = {urlsplit(login_app.server.url).netloc, urlsplit(provider.url).netloc}
    context.route("**/*", lambda route: route.continue_() if urlsplit(route.request.url).netloc in allowed
                  or route.request.url.startswith(("data:", "blob:")) else route.abort())
    try:
        yield context
    finally:
        context.close()


# ---------------------------------------------------------------- helpers


def _wait_idle(page: Page) -> None:
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            const idle = app && app.dataset.testScriptState === 'notRunning'
                && app.dataset.testConnectionState === 'CONNECTED'
                && !document.querySelector('[data-testid="stStatusWidget"]')
                && document.querySelector('[data-testid="stMain"] h1');
            const now = performance.now();
            if (!idle) { window.__asiIdleSince = undefined; return false; }
            if (window.__asiIdleSince === undefined) window.__asiIdleSince = now;
            return now - window.__asiIdleSince >= 400;
        }""",
        timeout=TIMEOUT_MS, polling=100,
    )


def _sidebar(page: Page):
    return page.locator('[data-testid="stSidebar"]')


def _open(page: Page, url: str, heading: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    _wait_idle(page)
    expect(page.locator('[data-testid="stMain"] h1').first).to_contain_text(heading, timeout=TIMEOUT_MS)


def _log_in_as(page: Page, app: LoginApp, provider: Provider, subject: str) -> None:
    """Click "Log in", pick the user on the provider's page, and come back to the app."""
    _open(page, app.server.url, "Outcomes dashboard")
    _sidebar(page).get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{provider.url}/**", timeout=TIMEOUT_MS)
    page.locator(f'button[name="sub"][value="{subject}"]').click()
    page.wait_for_url(f"{app.server.url}/**", timeout=TIMEOUT_MS)
    _wait_idle(page)


def _assert_public(page: Page) -> None:
    main = page.locator('[data-testid="stMain"]')
    expect(_sidebar(page).get_by_role("button", name="Log in")).to_be_visible()
    expect(_sidebar(page)).not_to_contain_text("Signed in as")
    expect(main).not_to_contain_text("You are viewing as")
    expect(main).not_to_contain_text("Your company's certifications")


def _coc_headings(page: Page, app: LoginApp) -> str:
    _open(page, f"{app.server.url}/coc_flow", "CoC material flow")
    return page.locator('[data-testid="stMain"]').inner_text()


def _login_cookie(app: LoginApp, claims: dict[str, object], *, secret: str | None = None,
                  signed_days_ago: float = 0) -> dict[str, object]:
    """Streamlit's login cookie for `claims`, signed as Streamlit signs it (itsdangerous, the
    cookie name as salt), with `secret` (default: the app's) and a signing time in the past."""

    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - signed_days_ago * 86400)

    payload = {**claims, "origin": app.server.url, "is_logged_in": True, "provider": "default"}
    serializer = URLSafeTimedSerializer(secret or app.cookie_secret, salt=USER_COOKIE, signer=Backdated)
    value = serializer.dumps(json.dumps(payload))
    return {"name": USER_COOKIE, "value": value, "url": app.server.url}


# ---------------------------------------------------------------- tests


def test_a_member_logs_in_sees_its_own_company_and_logs_out(
    login_context: BrowserContext, login_app: LoginApp, provider: Provider, member: Member
) -> None:
    page = login_context.new_page()
    _log_in_as(page, login_app, provider, MEMBER_EMAIL)
    main = page.locator('[data-testid="stMain"]')
    expect(_sidebar(page)).to_contain_text(f"Signed in as {MEMBER_EMAIL} · Member")
    expect(main).to_contain_text(f"You are viewing as Member {member.member_id}")
    expect(main).to_contain_text("Your company's certifications on")
    expect(main).to_contain_text(member.name)

    coc = _coc_headings(page, login_app)
    assert "Your CoC report lines" in coc and "All CoC report lines" not in coc

    _sidebar(page).get_by_role("button", name="Log out").click()
    # The provider confirms the end of its session, then sends the person back to the app.
    page.wait_for_url(f"{provider.url}/**", timeout=TIMEOUT_MS)
    page.get_by_role("button").first.click()
    page.wait_for_url(f"{login_app.server.url}/**", timeout=TIMEOUT_MS)
    _wait_idle(page)
    _assert_public(page)
    assert not [c for c in login_context.cookies(login_app.server.url) if c["name"].startswith(USER_COOKIE)]
    coc = _coc_headings(page, login_app)
    assert "Your CoC report lines" not in coc and "All CoC report lines" not in coc


def test_secretariat_staff_log_in_by_their_groups_claim(
    login_context: BrowserContext, login_app: LoginApp, provider: Provider
) -> None:
    page = login_context.new_page()
    _log_in_as(page, login_app, provider, STAFF["sub"])
    # The domain alone maps to public: the groups claim is what makes this person staff.
    expect(_sidebar(page)).to_contain_text(f"Signed in as {STAFF['email']} · Secretariat")
    expect(page.locator('[data-testid="stMain"]')).to_contain_text("You are viewing as Secretariat")
    coc = _coc_headings(page, login_app)
    assert "All CoC report lines (not published)" in coc


def test_a_person_matched_by_no_rule_is_public(
    login_context: BrowserContext, login_app: LoginApp, provider: Provider
) -> None:
    page = login_context.new_page()
    _log_in_as(page, login_app, provider, OUTSIDER_EMAIL)
    expect(_sidebar(page)).to_contain_text(f"Signed in as {OUTSIDER_EMAIL} · Public")
    coc = _coc_headings(page, login_app)
    assert "Your CoC report lines" not in coc and "All CoC report lines" not in coc


def test_a_forged_login_cookie_gets_the_public_view(login_context: BrowserContext, login_app: LoginApp) -> None:
    now = time.time()
    staff = {**STAFF, "iat": now, "exp": now + 3600}
    login_context.add_cookies([_login_cookie(login_app, staff, secret="not-the-server-secret")])  # type: ignore[list-item]
    page = login_context.new_page()
    _open(page, login_app.server.url, "Outcomes dashboard")
    _assert_public(page)
    coc = _coc_headings(page, login_app)
    assert "All CoC report lines" not in coc


def test_an_expired_login_gets_the_public_view(login_context: BrowserContext, login_app: LoginApp) -> None:
    # Signed with the real secret, but the sign-in is older than session_hours.
    old = time.time() - (SESSION_HOURS + 1) * 3600
    login_context.add_cookies([_login_cookie(login_app, {**STAFF, "iat": old, "exp": old + 3600})])  # type: ignore[list-item]
    page = login_context.new_page()
    _open(page, login_app.server.url, "Outcomes dashboard")
    _assert_public(page)
    expect(page.locator('[data-testid="stMain"]')).to_contain_text("Your sign-in has expired")
    assert "All CoC report lines" not in _coc_headings(page, login_app)


def test_a_login_cookie_past_its_lifetime_gets_the_public_view(
    login_context: BrowserContext, login_app: LoginApp
) -> None:
    # A fresh sign-in time inside, but the cookie itself was signed 40 days ago (Streamlit keeps 30).
    now = time.time()
    login_context.add_cookies([_login_cookie(login_app, {**STAFF, "iat": now}, signed_days_ago=40)])  # type: ignore[list-item]
    page = login_context.new_page()
    _open(page, login_app.server.url, "Outcomes dashboard")
    _assert_public(page)
    assert "All CoC report lines" not in _coc_headings(page, login_app)


def test_the_same_valid_cookie_does_give_the_secretariat_view(
    login_context: BrowserContext, login_app: LoginApp
) -> None:
    """The cookie-forging helper itself is right: signed with the real secret and fresh, it logs in.
    (Otherwise the two tests above would pass for the wrong reason.)"""
    now = time.time()
    login_context.add_cookies([_login_cookie(login_app, {**STAFF, "iat": now, "exp": now + 3600})])  # type: ignore[list-item]
    page = login_context.new_page()
    _open(page, login_app.server.url, "Outcomes dashboard")
    expect(_sidebar(page)).to_contain_text("· Secretariat")
    assert "All CoC report lines (not published)" in _coc_headings(page, login_app)

