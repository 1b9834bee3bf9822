"""Board mode as slides: `?present=1` shows a deck sized to a 1280×720 projector.

One topic per slide (the twelve tiles; growth; the certification map; the CoC flow; the ToC
status; non-conformance closure), moved with the arrow keys or the on-screen buttons, the
slide number in the URL (`slide=`), the filters in a compact popover in the slide's header
and the footer naming the filters, role, data version and as-of date. Each slide reads the
same cached query functions and chart builders as its screen, so the deck's figures are the
screens'; the board pack (PDF) draws the same slides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from asi_me.publish.numbers import format_day
from asi_me.queries import certifications, coc, outcomes, toc
from asi_me.ui import charts, presentation, widgets
from asi_me.ui.cache import cached, cached_view
from asi_me.ui.context import PageContext
from asi_me.ui.map_charts import build_certification_deck
from asi_me.ui.outcome_tiles import outcome_tiles
from asi_me.ui.sankey import build_sankey
from asi_me.ui.toc_graph import build_toc_figure

SLIDE_PARAM = "slide"
SLIDE_KEY = "asi_slide"
# What the body of a slide may take at 1280×720 (header, footer and padding take the rest).
BODY_PX = 430


@dataclass(frozen=True)
class Slide:
    key: str
    title: str
    screen: str  # the url_path of the screen the slide summarises (a deck opened there starts on it)
    draw: Callable[[PageContext], None]


def _tiles(ctx: PageContext) -> None:
    board = cached(outcomes.dashboard_tiles, ctx.viewer, ctx.filters)
    tiles = outcome_tiles(board, cached(outcomes.version_breaks, ctx.viewer, ctx.filters))
    st.html('<div class="asi-deck-tiles">' + widgets.tiles_html(tiles) + "</div>")


def _growth(ctx: PageContext) -> None:
    viewer, filters = ctx.viewer, ctx.filters
    left, right = st.columns(2)
    by_class = cached(outcomes.members_by_class, viewer, filters)
    with left:
        st.markdown("**Members by membership class**")
        if by_class.empty:
            widgets.empty_state("No members match the selected filters.")
        else:
            st.altair_chart(cached_view("deck:members", (viewer, filters), lambda: charts.stacked_bars(
                by_class[["month_on", "membership_class", "members"]], x="month_on", y="members",
                series="membership_class", y_title="Members", height=BODY_PX - 90)), width="stretch")
    certificates = cached(outcomes.certificates_over_time, viewer, filters, by="standard")
    breaks = cached(outcomes.version_breaks, viewer, filters)
    with right:
        st.markdown("**Certificates issued, by standard**")
        if certificates.empty:
            widgets.empty_state("No certificates match the selected filters.")
        else:
            frame = certificates[["month_on", "group_value", "certificates_issued"]].rename(
                columns={"group_value": "standard"})
            st.altair_chart(cached_view("deck:certificates", (viewer, filters), lambda: charts.time_series(
                frame, x="month_on", y="certificates_issued", series="standard", y_title="Certificates",
                version_marks=breaks, step=True, height=BODY_PX - 90)), width="stretch")
    st.caption("Sources: membership applications (CRM) and the elementAl assurance platform, month ends. "
               "Dashed lines mark new standard versions.")


def _map(ctx: PageContext) -> None:
    viewer, filters = ctx.viewer, ctx.filters
    growth = cached(certifications.growth_replay, viewer, filters)
    if growth.empty:
        widgets.empty_state("No certified facilities match the selected filters.")
        return
    month = pd.Timestamp(growth["month_on"].iloc[-1]).date()
    on_map = filters.replace(as_of=month)
    points = cached(certifications.facility_points, viewer, on_map)
    countries = cached(certifications.country_aggregates, viewer, on_map)
    deck = cached_view("deck:map", (viewer, on_map), lambda: build_certification_deck(
        points, countries, show_countries=True))
    deck.initial_view_state.zoom = 0.55  # the whole world in a 16:9 slide
    st.pydeck_chart(deck, height=BODY_PX - 30)
    row = growth.iloc[-1]
    facts = [f"{int(row['certified_facilities']):,} certified facilities",
             f"{int(row['certificates_valid']):,} valid certificates", f"as of {format_day(month)}"]
    st.caption(" · ".join([*facts, "Countries shaded by certified facilities. Source: elementAl assurance platform"]))


def _coc(ctx: PageContext) -> None:
    viewer, filters = ctx.viewer, ctx.filters
    years = cached(coc.coc_years)
    if not years:
        widgets.empty_state("No CoC material reports are loaded, so there is no flow to show.")
        return
    year = years[-1]
    flows = cached(coc.coc_stage_flows, viewer, year, filters)
    if flows.empty:
        widgets.empty_state(f"No CoC flows were reported for {year} with these filters.")
        return
    figure = cached_view("deck:sankey", (viewer, filters, year), lambda: build_sankey(
        flows, unit="t", min_reporters=ctx.min_reporters, height=BODY_PX - 40))
    st.plotly_chart(figure, config={"displaylogo": False, "displayModeBar": False})
    withheld = int(flows["is_suppressed"].fillna(False).astype(bool).sum()) if "is_suppressed" in flows else 0
    note = (f"{withheld} flows withheld under ASI's antitrust policy (fewer than {ctx.min_reporters} reporters "
            "or one company's volumes). " if withheld else "")
    st.caption(f"Reporting year {year}. {note}Source: CoC annual material reports (elementAl).")


def _toc(ctx: PageContext) -> None:
    graph = cached(toc.toc_graph, ctx.viewer, ctx.filters)
    if graph is None or graph.nodes.empty:
        widgets.empty_state("The Theory of Change has not been loaded.")
        return
    figure = cached_view("deck:toc", (ctx.viewer, ctx.filters), lambda: build_toc_figure(
        graph.nodes, graph.edges, None, indicator_counts=graph.indicator_counts,
        node_status=graph.worst_statuses, height=BODY_PX - 20))
    st.plotly_chart(figure, config={"displaylogo": False, "displayModeBar": False})
    statuses = pd.Series(list(graph.worst_statuses.values()), dtype="string").value_counts()
    st.caption("Each outcome coloured by its worst indicator status: "
               + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in statuses.items()) + ".")


def _nc(ctx: PageContext) -> None:
    closure = cached(outcomes.nc_closure_by_principle, ctx.viewer, ctx.filters)
    if closure.empty or not closure["nonconformances"].fillna(0).sum():
        widgets.empty_state("No Performance Standard audit findings match the selected filters and period.")
        return
    shown = closure.dropna(subset=["closed_share"]) if "closed_share" in closure else closure
    st.altair_chart(cached_view("deck:nc", (ctx.viewer, ctx.filters), lambda: charts.ranked_bars(
        shown, category="principle_label", value="closed_share", percent=True,
        value_title="Share closed or downgraded at the next audit", sort=list(shown["principle_label"]),
        height=BODY_PX - 60)), width="stretch")
    st.caption("Of the non-conformances found that have had a next audit, the share closed or downgraded there. "
               "Source: elementAl audit findings, Performance Standard audits.")


SLIDES: tuple[Slide, ...] = (
    Slide("tiles", "Outcomes at a glance", "outcomes", _tiles),
    Slide("growth", "Growth: members and certificates", "", _growth),
    Slide("map", "Where certified facilities operate", "map", _map),
    Slide("coc", "Chain-of-custody material flow", "coc_flow", _coc),
    Slide("toc", "Theory of change: indicator status", "toc", _toc),
    Slide("nc", "Non-conformances closed at the next audit", "", _nc),
)


def _first_slide(screen: str) -> int:
    return next((i for i, s in enumerate(SLIDES) if s.screen and s.screen == screen), 0)


def current(screen: str) -> int:
    """The slide shown (0-based): the URL's `slide=` (1-based), else the one of the screen opened."""
    if SLIDE_KEY not in st.session_state:
        raw = st.query_params.get(SLIDE_PARAM, "")
        st.session_state[SLIDE_KEY] = (min(max(int(raw), 1), len(SLIDES)) - 1 if raw.isdigit()
                                       else _first_slide(screen))
    return int(st.session_state[SLIDE_KEY])


def _move(step: int) -> None:
    st.session_state[SLIDE_KEY] = min(max(int(st.session_state.get(SLIDE_KEY, 0)) + step, 0), len(SLIDES) - 1)


@dataclass(frozen=True)
class DeckBar:
    """The slide header: title, position and buttons, and the filters popover."""

    title: DeltaGenerator
    nav: DeltaGenerator
    filters: DeltaGenerator


def header() -> DeckBar:
    """Drawn by the frame before the filters, so the filter controls live in its popover."""
    with st.container(key="asi_deck_header"):
        title, nav, filters = st.columns([7, 3, 2], vertical_alignment="center")
    return DeckBar(title, nav, filters.popover("Filters", icon=":material/filter_alt:", width="stretch"))


def show(ctx: PageContext, screen: str, bar: DeckBar) -> None:
    """Draw the current slide in the frame's header and body."""
    index = current(screen)
    slide = SLIDES[index]
    if st.query_params.get(SLIDE_PARAM) != str(index + 1):
        st.query_params[SLIDE_PARAM] = str(index + 1)
    bar.title.markdown(f"# {slide.title}")  # the screen's h1
    with bar.nav:
        back, where, forward = st.columns([1, 1.2, 1], vertical_alignment="center")
        back.button("Back", icon=":material/arrow_back:", key="deck_back", on_click=_move, args=(-1,),
                    disabled=index == 0, shortcut="Left", help="Previous slide (←)")
        where.html(f'<p class="asi-deck-count" aria-live="polite">{index + 1} / {len(SLIDES)}</p>')
        forward.button("Next", icon=":material/arrow_forward:", key="deck_next", on_click=_move, args=(1,),
                       disabled=index == len(SLIDES) - 1, shortcut="Right", help="Next slide (→)")
    with bar.filters:
        presentation.leave()
    with st.container(key=f"asi_slide_{slide.key}"), widgets.friendly_errors(f"the slide “{slide.title}”"):
        slide.draw(ctx)
