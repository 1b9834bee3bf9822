"""The deploy kit's nginx (Debian's package, deploy/nginx.conf) in front of two replicas on
loopback: a browser works through it (WebSocket upgrade), stays on one replica, and when
that replica dies it reconnects through the proxy to the other and renders its view again."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from benchmarks.replicas import Cluster, start_cluster

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
NGINX = Path("/usr/sbin/nginx")


@pytest.fixture(scope="module")
def cluster(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not NGINX.exists():
        pytest.skip("nginx is missing; scripts/test installs Debian's nginx package")
    started = start_cluster(REPO_ROOT / "data", 2, tmp_path_factory.mktemp("cluster"), str(NGINX))
    try:
        yield started
    finally:
        started.stop()


def _sessions(url: str) -> int:
    """Browser sessions connected to one replica now (its own metrics, not through the proxy)."""
    try:
        with urllib.request.urlopen(f"{url}/_app/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return -1
    found = re.search(r"^asi_websocket_sessions (\d+)", text, re.MULTILINE)
    return int(found.group(1)) if found else 0


def test_a_session_survives_the_death_of_its_replica(browser: Browser, cluster: Cluster) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{cluster.url}/map?standard=PS", wait_until="domcontentloaded")
        heading = page.locator('[data-testid="stMain"] h1').first
        expect(heading).to_contain_text("Certification map", timeout=60_000)
        assert any(c["name"] == "asi_route" for c in context.cookies(cluster.url)), "nginx set no affinity cookie"
        # the metrics route stays private behind the proxy
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(f"{cluster.url}/_app/metrics", timeout=5)

        counts = [_sessions(r.url) for r in cluster.replicas]
        assert sorted(counts) == [0, 1], f"the one browser session should be on exactly one replica: {counts}"
        ours = counts.index(1)

        # Reloading keeps the browser on the same replica (the cookie decides).
        page.reload(wait_until="domcontentloaded")
        expect(heading).to_contain_text("Certification map", timeout=60_000)
        page.wait_for_timeout(500)
        assert [_sessions(r.url) for r in cluster.replicas][ours] == 1

        cluster.kill_replica(ours)
        # Streamlit's page reconnects on its own; nginx sends it to the live replica.
        other = cluster.replicas[1 - ours]
        page.wait_for_function(
            """() => {
                const app = document.querySelector('[data-testid="stApp"]');
                return app && app.dataset.testConnectionState === 'CONNECTED'
                    && app.dataset.testScriptState === 'notRunning';
            }""",
            timeout=60_000,
        )
        expect(heading).to_contain_text("Certification map", timeout=60_000)
        for _ in range(50):
            if _sessions(other.url) == 1:
                break
            page.wait_for_timeout(200)
        assert _sessions(other.url) == 1, "the session did not move to the live replica"
        assert "standard=PS" in page.url  # the view came back from its URL
        expect(page.locator('[aria-label="Active filters"]')).to_contain_text("Performance Standard")
    finally:
        context.close()
