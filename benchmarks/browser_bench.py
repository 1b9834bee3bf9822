"""Every page in headless Chromium: to its main chart visible, cold and warm, and a filter change.

A real `streamlit run app.py` on a free loopback port and Debian's Chromium through
Playwright (the harness of server_bench.py: same browser, same flags, only the local
server answers). Each page of the app's navigation is timed as a public visitor:

- cold server: the server is restarted for every cold sample, and the page is the first
  thing any browser opens on it (no warm-up, no other page before it);
- warm: the same page opened again on that server, each time in a new browser context
  (an empty browser cache, so Streamlit's JavaScript bundle is fetched and compiled again,
  as for a first-time visitor), and then once more in the same context ("revisit": the
  bundle comes from the browser's cache, as for a returning visitor);
- filter change: in the warm context, the sidebar's Region filter is set to one region (a
  different region each repetition, so the server computes the filtered view afresh) and
  the time runs from the click on the option to the first frame painted after both the
  run finished and the chart's last change in the DOM.

Times are measured inside the page (performance.now(), from the start of navigation for an
open, from the option's pointerdown for a filter change); an animation-frame loop notes the
first frame in which the page's main chart is drawn with a nonzero size.

The main chart of each page (MAIN_CHARTS): its Streamlit element, and what inside it shows
that the chart was drawn. A page the navigation lists without an entry there is timed to
the first drawn chart or table of its main area (GENERIC).

The first paint of Streamlit's own shell is measured on an empty page (`st.title` only) served
by a second server started with the same configuration: its first contentful paint and its
title visible, against the same figures of our pages. The difference is ours: the page's
script run (timed over a protocol-level websocket, as server_bench.py does) and the drawing
of what it sends.

    python benchmarks/browser_bench.py --data-dir DIR --reps 3 --cold-reps 2 --json OUT
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import Server, start_server, stats_ms, stop_server, write_json
from server_bench import CHROMIUM, CHROMIUM_ARGS, ws_session

VIEWPORT = {"width": 1440, "height": 900}
OPEN_TIMEOUT_S = 120.0  # a page whose chart is not drawn by then is reported as such
IDLE_GIVE_UP_S = 8.0  # the app idle this long without the chart drawn: the chart is not coming
SETTLE_S = 0.8  # a filter change is over when nothing changed for this long
# One region per filter-change repetition, largest first; a repetition past the list repeats it.
REGIONS = ("Europe", "Asia", "North America", "Africa", "Oceania")


@dataclass(frozen=True)
class MainChart:
    """A page's main chart: its Streamlit element (`element`) and the drawn part inside it (`drawn`)."""

    url_path: str
    what: str
    element: str
    drawn: str


MAIN_CHARTS: dict[str, MainChart] = {c.url_path: c for c in (
    MainChart("", "Members by membership class (Vega-Lite, SVG renderer), the first chart of the page",
              '.st-key-asi_chart_members-by-class [data-testid="stVegaLiteChart"]', "svg.marks, canvas.marks"),
    MainChart("map", "the certification map (pydeck / deck.gl)",
              '.st-key-map_deck [data-testid="stDeckGlJsonChart"]', "canvas"),
    MainChart("coc_flow", "the material-flow Sankey (plotly)",
              '.st-key-coc_sankey [data-testid="stPlotlyChart"]', ".main-svg"),
    MainChart("toc", "the Theory-of-Change graph (plotly)",
              '.st-key-toc_graph [data-testid="stPlotlyChart"]', ".main-svg"),
    MainChart("evaluations", "the evidence timeline (Vega-Lite)",
              '.st-key-asi_chart_evidence [data-testid="stVegaLiteChart"]', "svg.marks, canvas.marks"),
    MainChart("data", "the table catalogue (a canvas-drawn grid; the screen has no chart above the fold)",
              '[data-testid="stMain"] [data-testid="stDataFrame"]', "canvas"),
)}
GENERIC = MainChart("?", "the first chart or table drawn in the main area",
                    '[data-testid="stMain"] :is([data-testid="stVegaLiteChart"], [data-testid="stPlotlyChart"], '
                    '[data-testid="stDeckGlJsonChart"], [data-testid="stDataFrame"])',
                    "svg.marks, canvas.marks, .main-svg, canvas")

# Installed in every document before the page's own scripts: notes, on a performance.now()
# clock, the first contentful paint, the frame the title and the main chart are first drawn
# in, the script's running / finished transitions, and DOM changes inside the chart.
PROBE = """
(([element, drawn]) => {
  const m = window.__asiBench = {fcp: null, h1At: null, visibleAt: null, runningAt: null, finishedAt: null,
                                 running: false, firstFinishedAt: null, t0: null, changes: 0, lastChange: null,
                                 paintedAt: null, pending: false, runs: 0};
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') m.fcp = e.startTime;
    }).observe({type: 'paint', buffered: true});
  } catch (e) {}
  const chartDrawn = () => {
    for (const root of document.querySelectorAll(element)) {
      for (const el of root.querySelectorAll(drawn)) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.height > 0) return true;
      }
    }
    return false;
  };
  const inChart = (node) => {
    const el = node && (node.nodeType === 1 ? node : node.parentElement);
    return !!(el && el.closest && el.closest(element));
  };
  const onMutations = (records) => {
    const now = performance.now();
    for (const r of records) {
      if (r.type === 'attributes' && r.attributeName === 'data-test-script-state') {
        const state = r.target.getAttribute('data-test-script-state');
        if (state === 'running' && !m.running) {
          m.running = true; m.runs += 1; if (m.runningAt === null) m.runningAt = now;
        }
        else if (state === 'notRunning' && m.running) {
          m.running = false; m.finishedAt = now; m.pending = true;
          if (m.firstFinishedAt === null) m.firstFinishedAt = now;
        }
        continue;
      }
      if (m.t0 === null) continue;
      const added = r.type === 'childList' && Array.from(r.addedNodes).some(
        (n) => n.nodeType === 1 && (n.matches(element) || n.querySelector(element)));
      if (added || inChart(r.target)) { m.changes += 1; m.lastChange = now; m.pending = true; }
    }
  };
  const observe = () => new MutationObserver(onMutations).observe(document.documentElement, {
    subtree: true, childList: true, attributes: true, characterData: true});
  if (document.documentElement) observe(); else document.addEventListener('DOMContentLoaded', observe);
  const tick = () => {
    const now = performance.now();
    if (m.h1At === null && document.querySelector('[data-testid="stMain"] h1')) m.h1At = now;
    if (m.visibleAt === null && chartDrawn()) m.visibleAt = now;
    if (m.pending) { m.paintedAt = now; m.pending = false; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  // A filter change: the clock starts at the pointerdown on an option of a drop-down.
  window.__asiArm = () => {
    m.t0 = null; m.changes = 0; m.lastChange = null; m.paintedAt = null; m.finishedAt = null; m.runs = 0;
    m.armed = true;
  };
  document.addEventListener('pointerdown', (e) => {
    if (m.armed && e.target.closest && e.target.closest('[role="option"]')) {
      m.t0 = performance.now(); m.armed = false;
    }
  }, true);
})
"""

STATE = """() => {
  const m = window.__asiBench || {};
  const app = document.querySelector('[data-testid="stApp"]');
  const stat = performance.getEntriesByType('resource').filter((e) => e.name.includes('/static/'));
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const fcp = paint ? paint.startTime : m.fcp;
  return {...m, fcp, now: performance.now(), state: app ? app.dataset.testScriptState : null,
          exceptions: document.querySelectorAll('[data-testid="stException"]').length,
          static_files: stat.length,
          static_bytes: stat.reduce((s, e) => s + (e.encodedBodySize || 0), 0),
          static_done: stat.reduce((s, e) => Math.max(s, e.responseEnd), 0),
          // files fetched after the first paint: chunks of the elements the run sent (charts, widgets)
          lazy_static_bytes: stat.filter((e) => fcp != null && e.startTime > fcp)
            .reduce((s, e) => s + (e.encodedBodySize || 0), 0),
          lazy_static: stat.filter((e) => fcp != null && e.startTime > fcp)
            .sort((a, b) => (b.encodedBodySize || 0) - (a.encodedBodySize || 0)).slice(0, 5).map((e) => ({
              file: e.name.split('/').pop(), start: Math.round(e.startTime), end: Math.round(e.responseEnd),
              bytes: e.encodedBodySize || 0}))};
}"""


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# ---------------------------------------------------------------- one browser context


class Visit:
    """A fresh browser context on `server`, local requests only, with the probe for `chart`."""

    def __init__(self, browser: Any, server: Server, chart: MainChart) -> None:
        self.context = browser.new_context(viewport=VIEWPORT)
        local = server.url
        self.context.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith((local, "data:", "blob:")) else route.abort())
        self.context.add_init_script(f"{PROBE}({[chart.element, chart.drawn]!r})")
        self.page = self.context.new_page()
        self.server = server
        self.chart = chart

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()

    def state(self) -> dict[str, Any]:
        return self.page.evaluate(STATE)

    def open(self, url_path: str) -> dict[str, Any]:
        """Go to the page; times (ms from the start of navigation) to its first paint, title, end of run and
        main chart drawn. "error" says why the chart was not timed."""
        t0 = time.perf_counter()
        self.page.goto(f"{self.server.url}/{url_path}", wait_until="commit", timeout=int(OPEN_TIMEOUT_S * 1000))
        deadline = t0 + OPEN_TIMEOUT_S
        idle_since: float | None = None
        state: dict[str, Any] = {}
        while time.perf_counter() < deadline:
            state = self.state()
            if state.get("visibleAt") is not None:
                break
            idle = state.get("state") == "notRunning" and state.get("h1At") is not None and not state.get("running")
            idle_since = (idle_since or time.perf_counter()) if idle else None
            if idle_since is not None and time.perf_counter() - idle_since > IDLE_GIVE_UP_S:
                break
            time.sleep(0.05)
        out = {"wall_ms": round(1000 * (time.perf_counter() - t0), 1), "fcp_ms": _round(state.get("fcp")),
               "title_ms": _round(state.get("h1At")), "chart_ms": _round(state.get("visibleAt")),
               "first_run_finished_ms": _round(state.get("firstFinishedAt")), "exceptions": state.get("exceptions", 0),
               "static_files": state.get("static_files"), "static_bytes": state.get("static_bytes"),
               "static_done_ms": _round(state.get("static_done")),
               "lazy_static_bytes": state.get("lazy_static_bytes"), "lazy_static": state.get("lazy_static", [])}
        if out["chart_ms"] is None:
            out["error"] = ("the main chart was not drawn: the app was idle without it" if idle_since is not None
                            else f"the main chart was not drawn within {OPEN_TIMEOUT_S:.0f} s")
        return out

    def settle(self, seconds: float = SETTLE_S) -> None:
        """Wait until the script has not been running for `seconds`."""
        deadline = time.perf_counter() + OPEN_TIMEOUT_S
        quiet_since: float | None = None
        while time.perf_counter() < deadline:
            state = self.state()
            quiet = state.get("state") == "notRunning" and not state.get("running")
            quiet_since = (quiet_since or time.perf_counter()) if quiet else None
            if quiet_since is not None and time.perf_counter() - quiet_since >= seconds:
                return
            time.sleep(0.05)

    def change_region(self, region: str) -> dict[str, Any]:
        """Pick `region` in the sidebar's Region filter; ms from the click to the re-rendered chart."""
        page = self.page
        box = page.locator('[data-testid="stSidebar"] .st-key-flt_region [data-testid="stMultiSelect"]')
        box.click()
        # typed, so that the option is in the drop-down's list (it shows only the first few)
        page.keyboard.type(region)
        # the drop-down shows labels ("North america"); matched without regard to case
        option = page.get_by_role("option", name=re.compile(f"^{re.escape(region)}$", re.IGNORECASE))
        option.wait_for(timeout=10_000)
        page.evaluate("() => window.__asiArm()")
        option.click()
        deadline = time.perf_counter() + OPEN_TIMEOUT_S
        state: dict[str, Any] = {}
        quiet_since: float | None = None
        last_seen: tuple[Any, ...] = ()
        while time.perf_counter() < deadline:
            state = self.state()
            seen = (state.get("runs"), state.get("changes"), state.get("paintedAt"))
            done = (state.get("t0") is not None and state.get("finishedAt") is not None
                    and state.get("state") == "notRunning" and not state.get("running")
                    and state.get("paintedAt") is not None and not state.get("pending"))
            if done and seen == last_seen:
                quiet_since = quiet_since or time.perf_counter()
                if time.perf_counter() - quiet_since >= SETTLE_S:
                    break
            else:
                quiet_since = None
            last_seen = seen
            time.sleep(0.05)
        with contextlib.suppress(Exception):
            page.keyboard.press("Escape")
        out: dict[str, Any] = {"region": region, "runs": state.get("runs"), "chart_changes": state.get("changes"),
                               "exceptions": state.get("exceptions", 0)}
        t0 = state.get("t0")
        if t0 is None or state.get("finishedAt") is None or state.get("paintedAt") is None:
            out["error"] = ("no click on the region option was seen" if t0 is None
                            else f"the run after the filter change did not finish within {OPEN_TIMEOUT_S:.0f} s")
            return out
        out |= {"ms": round(state["paintedAt"] - t0, 1), "run_finished_ms": round(state["finishedAt"] - t0, 1),
                "chart_changed_ms": _round(None if state.get("lastChange") is None else state["lastChange"] - t0)}
        # Still drawn afterwards (an empty selection could have replaced the chart by a message)?
        still = page.evaluate("""([element, drawn]) => Array.from(document.querySelectorAll(element)).some(
            (root) => Array.from(root.querySelectorAll(drawn)).some((el) => {
              const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; }))""",
                              [self.chart.element, self.chart.drawn])
        out["chart_drawn_after"] = still
        return out


# ---------------------------------------------------------------- the parts


def _pages(server: Server) -> list[tuple[str, str]]:
    """(url_path, title) of every page the public viewer's navigation lists, each title once
    (the home page's hidden twin at /outcomes is the same page)."""
    home = asyncio.run(ws_session(server, ""))
    seen: set[str] = set()
    pages = []
    for url_path, title in home.pages or [("", "home")]:
        if title not in seen:
            seen.add(title)
            pages.append((url_path, title))
    return pages


def _server_run_ms(server: Server, url_path: str, runs: int) -> float | None:
    """Median ms of a warm run of the page over a protocol-level websocket (no browser)."""
    times = []
    for _ in range(runs):
        # in a thread of its own: Playwright's sync API keeps an event loop running in this one
        with ThreadPoolExecutor(max_workers=1) as pool:
            run = pool.submit(asyncio.run, ws_session(server, url_path)).result()
        if run.finished:
            times.append(run.seconds)
    return round(1000 * statistics.median(times), 1) if times else None


def _summary(samples: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    values = [s[key] / 1000 for s in samples if s.get(key) is not None]
    return stats_ms(values) if values else None


def measure_page(browser: Any, data_dir: Path, log_dir: Path, url_path: str, title: str, *, reps: int,
                 cold_reps: int, revisit: bool = True) -> dict[str, Any]:
    """Cold (a restarted server per sample), warm, revisit and filter change of one page."""
    chart = MAIN_CHARTS.get(url_path, GENERIC)
    entry: dict[str, Any] = {"page": title, "url_path": url_path, "main_chart": chart.what,
                             "selector": f"{chart.element} >> {chart.drawn}"}
    cold: list[dict[str, Any]] = []
    server: Server | None = None
    try:
        for _ in range(max(1, cold_reps)):
            if server is not None:
                stop_server(server)
            started = time.perf_counter()
            server = start_server(data_dir, log_dir / "browser-server.log")
            restart_s = time.perf_counter() - started
            visit = Visit(browser, server, chart)
            try:
                cold.append({**visit.open(url_path), "server_start_ms": round(1000 * restart_s, 1)})
                visit.settle()
            finally:
                visit.close()
        warm: list[dict[str, Any]] = []
        again: list[dict[str, Any]] = []
        change: list[dict[str, Any]] = []
        for rep in range(max(1, reps)):
            visit = Visit(browser, server, chart)
            try:
                warm.append(visit.open(url_path))
                visit.settle()
                if revisit:
                    again.append(visit.open(url_path))
                    visit.settle()
                region = REGIONS[rep % len(REGIONS)]
                try:
                    change.append(visit.change_region(region))
                except Exception as exc:  # the opens above still count
                    change.append({"region": region, "error": f"{type(exc).__name__}: {exc}"[:300]})
                visit.settle()
            finally:
                visit.close()
        entry["server_run_warm_ms"] = _server_run_ms(server, url_path, 3)
        entry["server_rss_mb"] = round(server.rss_mb(), 1)
    except Exception as exc:  # report and go on with the next page
        entry["error"] = f"{type(exc).__name__}: {exc}"[:500]
        return entry
    finally:
        if server is not None:
            stop_server(server)
    entry |= {"cold_samples": cold, "warm_samples": warm, "revisit_samples": again, "filter_samples": change}
    for name, samples in (("cold", cold), ("warm", warm), ("revisit", again)):
        entry[name] = _summary(samples, "chart_ms")
        entry[f"{name}_fcp"] = _summary(samples, "fcp_ms")
        entry[f"{name}_title"] = _summary(samples, "title_ms")
    entry["filter_change"] = _summary(change, "ms")
    errors = [f"{name}: {s['error']}" for name, samples in (("cold", cold), ("warm", warm), ("revisit", again),
                                                            ("filter change", change))
              for s in samples if s.get("error")]
    errors += [f"filter change to {s['region']}: the chart was no longer drawn" for s in change
               if s.get("chart_drawn_after") is False]
    if errors:
        entry["errors"] = errors[:6]
    return entry


EMPTY_PAGE = 'import streamlit as st\n\nst.title("Empty")\n'


def measure_shell(browser: Any, log_dir: Path, reps: int) -> dict[str, Any]:
    """Streamlit's own cost: an empty page (a title only) on a server with the app's configuration."""
    with tempfile.TemporaryDirectory(prefix="asi-bench-shell-") as folder:
        script = Path(folder) / "empty_page.py"
        script.write_text(EMPTY_PAGE, encoding="utf-8")
        server = start_server(Path(folder), log_dir / "browser-shell.log", script=script)
        chart = MainChart("", "the title of an empty page", '[data-testid="stMain"]', "h1")
        samples: list[dict[str, Any]] = []
        revisits: list[dict[str, Any]] = []
        try:
            for _ in range(max(1, reps) + 1):  # the first open compiles the script; it is not counted
                visit = Visit(browser, server, chart)
                try:
                    samples.append(visit.open(""))
                    visit.settle()
                    revisits.append(visit.open(""))
                finally:
                    visit.close()
        finally:
            stop_server(server)
    samples, revisits = samples[1:], revisits[1:]
    out: dict[str, Any] = {"what": "an empty page (st.title only) on its own server with the same configuration",
                           "samples": samples, "fcp": _summary(samples, "fcp_ms"),
                           "title": _summary(samples, "title_ms"), "revisit_fcp": _summary(revisits, "fcp_ms"),
                           "revisit_title": _summary(revisits, "title_ms"),
                           "static_bytes": samples[-1].get("static_bytes") if samples else None,
                           "static_done": _summary(samples, "static_done_ms")}
    if not samples or out["title"] is None:
        out["error"] = "the empty page's title was never drawn"
    return out


def run(data_dir: Path, log_dir: Path, *, reps: int, cold_reps: int, only: list[str] | None = None,
        revisit: bool = True) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} is missing; install Debian's chromium."}
    result: dict[str, Any] = {
        "method": "headless Chromium, a new browser context per open (empty cache), viewport "
                  f"{VIEWPORT['width']}x{VIEWPORT['height']}; cold: the server restarted before every cold sample "
                  "and the page opened first; warm: the same server afterwards; revisit: the same context again "
                  "(the bundle cached); filter change: the sidebar's Region set to one region, a different one "
                  "each repetition",
        "reps": reps, "cold_reps": cold_reps, "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    server = start_server(data_dir, log_dir / "browser-server.log")
    try:
        pages = _pages(server)
    finally:
        stop_server(server)
    if only:
        pages = [p for p in pages if p[0] in only or p[1] in only or (p[0] == "" and "home" in only)]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            result["shell"] = measure_shell(browser, log_dir, reps)
            result["pages"] = []
            for url_path, title in pages:
                started = time.perf_counter()
                result["pages"].append(measure_page(browser, data_dir, log_dir, url_path, title, reps=reps,
                                                    cold_reps=cold_reps, revisit=revisit))
                print(f"{title}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        finally:
            browser.close()
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--reps", type=int, default=3, help="warm opens and filter changes per page")
    parser.add_argument("--cold-reps", type=int, default=2, help="server restarts per page")
    parser.add_argument("--no-revisit", action="store_true", help="skip the second open in the same context")
    parser.add_argument("--page", action="append", help="only this page (url path or title); repeatable")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    result = run(args.data_dir.resolve(), args.json.parent, reps=args.reps, cold_reps=args.cold_reps,
                 only=args.page, revisit=not args.no_revisit)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
