"""One visitor's growth replay on the map does not stall anyone else.

The replay used to sleep inside its page run while holding one of the server's run slots
(asi_me/ui/process.py), so another session's page waited for the whole animation. It is
now a fragment the browser reruns on a timer: no run slot, no sleeping thread. This test
times another session's page alone and during a replay, on the same server, and compares.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

if TYPE_CHECKING:
    from conftest import StreamlitServer

pytestmark = pytest.mark.browser

# Generous: the replay's fragment runs still share the CPU (two cores, the browser included).
MAX_RATIO = 2.0
TIMEOUT_MS = 45_000
REPLAYING = re.compile("Replaying growth: end of")


def _time_page_run(page: Page, url: str, heading: str) -> float:
    """Seconds from asking for `url` until its run has finished and drawn its heading."""
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(
        """(heading) => {
            const app = document.querySelector('[data-testid="stApp"]');
            const h1 = document.querySelector('[data-testid="stMain"] h1');
            return app && app.dataset.testScriptState === 'notRunning'
                && app.dataset.testConnectionState === 'CONNECTED'
                && h1 && h1.innerText.includes(heading);
        }""",
        arg=heading, timeout=TIMEOUT_MS, polling=20,
    )
    return time.perf_counter() - started


def test_another_sessions_page_runs_in_its_normal_time_during_a_replay(
    browser: Browser, asgi_demo_server: StreamlitServer, artifacts
) -> None:
    replayer = browser.new_context(viewport={"width": 1440, "height": 900})
    other = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        target = asgi_demo_server.page_url("toc")
        other_page = other.new_page()
        _time_page_run(other_page, target, "Theory of change")  # warm the browser's and the server's caches
        alone = [_time_page_run(other_page, target, "Theory of change") for _ in range(3)]

        map_page = replayer.new_page()
        map_page.goto(asgi_demo_server.page_url("map"), wait_until="domcontentloaded")
        button = map_page.locator('[data-testid="stMain"]').get_by_role("button", name="Replay growth", exact=True)
        button.click(timeout=TIMEOUT_MS)
        caption = map_page.locator('[data-testid="stMain"]').get_by_text(REPLAYING)
        expect(caption).to_be_visible(timeout=TIMEOUT_MS)
        first_frame = caption.inner_text()

        during = _time_page_run(other_page, target, "Theory of change")
        # The replay began before the other page was asked for and had not ended when it was drawn.
        still_replaying = caption.count() > 0
        last_frame = caption.inner_text() if still_replaying else "ended"
        ratio = during / statistics.median(alone)
        report = (
            f"Theory-of-change page run: alone {', '.join(f'{s:.2f}' for s in alone)} s "
            f"(median {statistics.median(alone):.2f} s); during a replay {during:.2f} s; ratio {ratio:.2f} "
            f"(replay at {first_frame!r} before, {last_frame!r} after)"
        )
        print(report)
        (artifacts / "replay-isolation.txt").write_text(report + "\n", encoding="utf-8")
        assert still_replaying, f"the replay was not running while the other page ran, so nothing was shown: {report}"
        assert ratio <= MAX_RATIO, report
        # And the replay itself plays to its end.
        expect(caption).to_have_count(0, timeout=60_000)
    finally:
        replayer.close()
        other.close()
