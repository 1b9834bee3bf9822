"""Warm start: every public screen's default view computed before its first visitor.

The disclosure protections (every CoC year, every month end's workforce) and the default
queries of each screen cost seconds the first time per snapshot and process. The ASGI
entrypoint (asi_me/ui/asgi.py) starts `Warmer` when the server starts: it computes them
for the served snapshot through the same cache the pages use (same functions, same
arguments, so a visitor's page run finds them), and again whenever another snapshot
becomes current (a publish, a roll back), so the first visitor after a restart or a new
snapshot waits no longer than the hundredth. `/_app/ready` reports whether it has finished.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from asi_me.data.snapshot import NoSnapshotError, serve
from asi_me.data.vocab import Role
from asi_me.filters import Filters, Viewer
from asi_me.publish import exports
from asi_me.queries import catalogue, certifications, changes, coc, members, outcomes, quality, toc
from asi_me.settings import Settings
from asi_me.ui import cache, process
from asi_me.ui.map_charts import MAP_POINTS
from asi_me.ui.tables import register_row_limit

log = logging.getLogger(__name__)

PUBLIC = Viewer(Role.PUBLIC)
NO_FILTERS = Filters()
Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


_primed = False


def default_view_calls() -> list[Call]:
    """The query calls of every public screen's default view, with the arguments the pages pass
    (a URL without parameters: the public viewer, no filters, the latest CoC year and month)."""
    calls: list[Call] = [
        (outcomes.dashboard_tiles, (PUBLIC, NO_FILTERS), {}),
        (outcomes.members_by_class, (PUBLIC, NO_FILTERS), {}),
        (outcomes.certificates_over_time, (PUBLIC, NO_FILTERS), {"by": "standard"}),
        (outcomes.version_breaks, (PUBLIC, NO_FILTERS), {}),
        (outcomes.nc_closure_by_principle, (PUBLIC, NO_FILTERS), {}),
        (outcomes.me_insights, (PUBLIC, NO_FILTERS), {}),
        (toc.toc_graph, (PUBLIC, NO_FILTERS), {}),
        (toc.evidence_counts, (PUBLIC,), {}),
        (toc.evidence_by_outcome, (PUBLIC,), {}),
        (toc.evidence_list, (PUBLIC, None, None, None), {}),  # no kind, status or outcome chosen
        (toc.evidence_findings, (PUBLIC,), {}),
        (toc.toc_assumptions, (PUBLIC,), {}),
        (catalogue.table_catalogue, (PUBLIC,), {}),
        (quality.quality_flags, (PUBLIC, NO_FILTERS), {}),
        (quality.quality_coc_reports_received, (PUBLIC, NO_FILTERS), {}),
        (exports.tables_left_out_of_workbook, (PUBLIC,), {}),
        (certifications.growth_replay, (PUBLIC, NO_FILTERS), {}),
        (members.member_companies, (), {}),  # the demo's role switch lists them
    ]
    as_of = cache.current_store().data_as_of or date.today()
    start_on, end_on = changes.window_ending(as_of)  # the dashboard's "Why did it move?" opens on these
    calls.append((changes.change_breakdown, (PUBLIC, NO_FILTERS), {
        "subject": next(iter(changes.SUBJECTS)), "figure": "value", "start_on": start_on, "end_on": end_on,
        "by": None}))
    years = cache.cached(coc.coc_years)
    if years:
        latest = years[-1]
        calls += [(fn, (PUBLIC, latest, NO_FILTERS), {}) for fn in (
            coc.coc_reporting_summary, coc.coc_stage_flows, coc.coc_stage_summary, coc.coc_mass_balance)]
        calls.append((quality.quality_coc_flow_problems, (PUBLIC, NO_FILTERS), {"year": latest}))
        if len(years) > 1:  # the year it is compared with
            calls.append((coc.coc_stage_summary, (PUBLIC, years[-2], NO_FILTERS), {}))
    growth = cache.cached(certifications.growth_replay, PUBLIC, NO_FILTERS)
    if not growth.empty:
        month = growth["month_on"].iloc[-1]
        on_map = NO_FILTERS.replace(as_of=month.date() if hasattr(month, "date") else month)
        calls.append((certifications.facility_points, (PUBLIC, on_map), {"max_points": MAP_POINTS}))
        calls += [(fn, (PUBLIC, on_map), {}) for fn in (
            certifications.country_aggregates, certifications.facilities_without_coordinates)]
        calls.append((certifications.certification_register_page, (PUBLIC, on_map), {"limit": register_row_limit()}))
    return calls


@dataclass
class WarmState:
    """What the warmer has done: the snapshot it last finished, and how long that took."""

    snapshot_id: str | None = None
    finished: bool = False
    seconds: float | None = None
    failed: str | None = None


def prime_libraries() -> None:
    """Import the pages' chart libraries and use each once, so the first page run after a start
    does not pay for it: Altair's import and its Vega-Lite schema validator (built at the first
    conversion), plotly's and pydeck's first serialisation, and the page modules' helpers.
    About 0.6 s of the first home-page run on a warmed server at 100x went here."""
    import altair as alt  # noqa: PLC0415 - loaded here, off the request path, on purpose
    import pandas as pd  # noqa: PLC0415
    import plotly.graph_objects as go  # noqa: PLC0415
    import pydeck as pdk  # noqa: PLC0415

    from asi_me.ui import (  # noqa: F401, PLC0415 - imported for their import cost (app.py's and the pages')
        auth,
        board_pack,
        builds,
        charts,
        deck,
        filter_bar,
        map_charts,
        observe,
        outcome_tiles,
        presentation,
        sankey,
        tables,
        toc_graph,
        widgets,
    )

    sample = pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]})
    chart = alt.Chart(sample).mark_bar().encode(x="x:Q", y="y:N")
    if widgets._to_vega_lite is not None:  # the conversion the pages' charts go through
        widgets._to_vega_lite(chart)
    else:
        chart.to_dict()
    go.Figure(go.Bar(x=[1, 2], y=[1, 2])).to_json()
    pdk.Deck(layers=[pdk.Layer("ScatterplotLayer", data=sample.assign(lat=0.0, lon=0.0),
                               get_position=["lon", "lat"])]).to_json()


def warm(config: Settings) -> WarmState:
    """Compute every public default view of the served snapshot into the page cache (and,
    the first time, load the chart libraries: `prime_libraries`)."""
    started = time.perf_counter()
    global _primed  # noqa: PLW0603 - once per process
    if not _primed:
        try:
            prime_libraries()
        except Exception:  # a library that fails here fails on the page too, with its own error
            log.exception("Warm start: loading the chart libraries failed")
        _primed = True
    store = cache.current_store(config)
    state = WarmState(store.snapshot_id)
    with cache.pinned_store(store):
        for fn, args, kwargs in default_view_calls():
            try:
                cache.cached(fn, *args, **kwargs)
            except Exception as exc:  # one failing view must not stop the others; the page shows its own error
                log.exception("Warm start: %s failed", fn.__qualname__)
                state.failed = f"{fn.__qualname__}: {exc}"
    # What is built now lives as long as the snapshot: out of the collector's way, so the first
    # page runs' own heap freeze (asi_me/ui/process.py) has little left to walk.
    process.freeze_heap_once("warm start")
    state.finished, state.seconds = True, round(time.perf_counter() - started, 3)
    log.info("Warm start of snapshot %s took %.2f s", store.snapshot_id, state.seconds)
    return state


class Warmer:
    """A daemon thread that warms the served snapshot at start and each time another is served."""

    def __init__(self, config: Settings, *, poll_seconds: float = 5.0) -> None:
        self.config = config
        self.poll_seconds = poll_seconds
        self.state = WarmState()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="asi-warm-start", daemon=True)

    def start(self) -> Warmer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                served = serve(self.config.data_dir).snapshot_id
                if served != self.state.snapshot_id or not self.state.finished:
                    self.state = WarmState(served)
                    self.state = warm(self.config)
            except NoSnapshotError:
                pass  # nothing to warm until data is loaded
            except Exception:
                log.exception("Warm start failed")
            self._stop.wait(self.poll_seconds)


_warmer: Warmer | None = None


def start(config: Settings) -> Warmer:
    """Start the process's warmer (once)."""
    global _warmer  # noqa: PLW0603 - one warmer per process
    if _warmer is None:
        _warmer = Warmer(config).start()
    return _warmer


def status() -> dict[str, Any]:
    """For /_app/ready: whether the served snapshot's default views are computed."""
    if _warmer is None:
        return {"warm": None}
    state = _warmer.state
    return {"warm": state.finished, "warm_snapshot": state.snapshot_id, "warm_seconds": state.seconds}
