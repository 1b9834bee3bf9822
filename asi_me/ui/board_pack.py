"""The board pack: the deck's six slides as a PDF, for the viewer's filters and data version.

The same query functions and chart builders as the deck (asi_me/ui/deck.py) and the
screens, so the pack's figures are the screen's: the tiles as vector text, the Altair charts
(growth, the country choropleth, non-conformance closure) rendered by vl-convert at twice
their size, the plotly charts (CoC Sankey, ToC) by kaleido through the machine's Chromium
when it is there (a table of the same figures otherwise), and every suppression note in
words. fpdf2 writes the PDF. No Streamlit here: the Data and deck screens call `build`.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import altair as alt
import pandas as pd
import plotly
import plotly.graph_objects as go
import vl_convert
from fpdf import FPDF

from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.progress import Progress, silent
from asi_me.publish.numbers import format_day
from asi_me.queries import certifications, coc, outcomes, toc
from asi_me.ui import charts
from asi_me.ui.deck import SLIDES
from asi_me.ui.images import country_choropleth
from asi_me.ui.outcome_tiles import outcome_tiles
from asi_me.ui.sankey import build_sankey, sankey_table
from asi_me.ui.toc_graph import build_toc_figure
from asi_me.ui.widgets import Tile, format_change, format_value

log = logging.getLogger(__name__)

# A 16:9 page, in millimetres (a 1280x720 slide at 96 dpi is 338.7 x 190.5 mm).
PAGE_W, PAGE_H = 338.7, 190.5
MARGIN = 12.0
INK, MUTED, RULE, FOOTER = (31, 42, 54), (93, 104, 117), (200, 205, 212), (31, 42, 54)
CHART_SCALE = 2  # pixels per CSS pixel of the rendered charts (print resolution)
_PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
_CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


@dataclass(frozen=True)
class PackContext:
    """What the footer says and what the slides are computed for."""

    viewer: Viewer
    filters: Filters
    filter_text: Sequence[str]
    role_text: str
    release: str
    as_of: date
    min_reporters: int


def _text(value: object) -> str:
    """fpdf2's core fonts are Latin-1: keep the words, swap the few typographic characters."""
    swaps = {"–": "-", "—": "-", "→": "->", "’": "'", "“": '"', "”": '"', "…": "...", "×": "x", "±": "+/-",
             "≥": ">=", "≤": "<=", "·": "-", "▲": "+", "▼": "-", "►": ">", "\u2009": " ", "\u00a0": " "}
    out = str(value)
    for old, new in swaps.items():
        out = out.replace(old, new)
    return out.encode("latin-1", "replace").decode("latin-1")


class _Pack(FPDF):
    def __init__(self, context: PackContext) -> None:
        super().__init__(orientation="L", unit="mm", format=(PAGE_H, PAGE_W))
        self.context = context
        self.set_auto_page_break(auto=False)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_title("ASI M&E Explorer: board pack")
        self.set_author("Aluminium Stewardship Initiative")

    def slide(self, number: int, total: int, title: str) -> None:
        self.add_page()
        self.set_text_color(*INK)
        self.set_font("Helvetica", "B", 20)
        self.set_xy(MARGIN, MARGIN - 2)
        self.cell(PAGE_W - 2 * MARGIN - 20, 10, _text(title))
        self.set_font("Helvetica", "", 10)
        self.set_text_color(*MUTED)
        self.set_xy(PAGE_W - MARGIN - 20, MARGIN - 1)
        self.cell(20, 8, f"{number} / {total}", align="R")
        footer = "  -  ".join(_text(p) for p in (
            *self.context.filter_text, self.context.role_text, self.context.release,
            f"Figures as of {format_day(self.context.as_of)}"))
        self.set_fill_color(*FOOTER)
        self.rect(0, PAGE_H - 9, PAGE_W, 9, style="F")
        self.set_text_color(255, 255, 255)
        self.set_font("Helvetica", "", 8)
        self.set_xy(MARGIN, PAGE_H - 8)
        self.cell(PAGE_W - 2 * MARGIN, 7, footer)
        self.set_text_color(*INK)

    def note(self, text: str, y: float) -> float:
        """A caption under a chart (sources, suppression notes); returns where it ends."""
        self.set_font("Helvetica", "", 8)
        self.set_text_color(*MUTED)
        self.set_xy(MARGIN, y)
        self.multi_cell(PAGE_W - 2 * MARGIN, 3.8, _text(text))
        self.set_text_color(*INK)
        return self.get_y()

    def picture(self, png: bytes, x: float, y: float, w: float, h: float) -> None:
        self.image(io.BytesIO(png), x=x, y=y, w=w, h=h, keep_aspect_ratio=True)


# ---------------------------------------------------------------- chart rendering


def _altair_png(chart: alt.TopLevelMixin) -> bytes:
    return vl_convert.vegalite_to_png(chart.to_dict(), scale=CHART_SCALE)


def _browser() -> str | None:
    found = os.environ.get("BROWSER_PATH") or next((p for p in _CHROMIUM if Path(p).exists()), None)
    return found or shutil.which("chromium")


def _plotly_pngs(figures: Sequence[tuple[go.Figure, int, int]]) -> list[bytes | None]:
    """Each figure as PNG through kaleido (one Chromium for all), or None where that cannot run."""
    browser = _browser()
    if not figures or browser is None:
        return [None] * len(figures)
    try:
        import kaleido  # noqa: PLC0415 - optional at run time: without Chromium the pack draws tables

        os.environ.setdefault("BROWSER_PATH", browser)

        async def render() -> list[bytes]:
            generator = kaleido.PageGenerator(plotly=str(_PLOTLY_JS), mathjax=False)
            async with kaleido.Kaleido(page_generator=generator, n=1) as k:
                return [await k.calc_fig(fig, opts={"format": "png", "width": w, "height": h,
                                                    "scale": CHART_SCALE}) for fig, w, h in figures]

        # In a thread of its own: asyncio.run refuses a thread whose event loop is running
        # (a test's Playwright, a server's), and the coroutine is made where it is awaited.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="asi-kaleido") as pool:
            return list(pool.submit(lambda: asyncio.run(render())).result())
    except Exception:  # no usable Chromium: the slide shows its table instead
        log.exception("The board pack could not render its plotly charts; tables are used instead")
        return [None] * len(figures)


# ---------------------------------------------------------------- slides


def _tile_box(pdf: _Pack, tile: Tile, box: tuple[float, float, float, float]) -> None:
    x, y, w, h = box
    pdf.set_draw_color(*RULE)
    pdf.rect(x, y, w, h)
    pdf.set_xy(x + 3, y + 3)
    pdf.set_font("Helvetica", "", 9)
    pdf.set_text_color(*INK)
    pdf.multi_cell(w - 6, 4, _text(tile.title))
    pdf.set_xy(x + 3, y + 15)
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(w - 6, 10, _text(format_value(tile.value, percent=tile.percent, unit=tile.unit)))
    pdf.set_font("Helvetica", "", 8)
    pdf.set_text_color(*MUTED)
    month = format_change(tile.change_month, percent=tile.percent)
    year = format_change(tile.change_year, percent=tile.percent)
    changes = "; ".join(p for p in (f"{month} vs previous month" if month else "",
                                    f"{year} vs a year earlier" if year else "") if p)
    pdf.set_xy(x + 3, y + 27)
    pdf.multi_cell(w - 6, 3.6, _text(changes))
    pdf.set_xy(x + 3, pdf.get_y() + 0.5)
    pdf.multi_cell(w - 6, 3.6, _text(tile.note))
    pdf.set_text_color(*INK)


def _tiles_slide(pdf: _Pack, store: Store, ctx: PackContext) -> None:
    tiles = outcome_tiles(outcomes.dashboard_tiles(store, ctx.viewer, ctx.filters))
    columns, gap, top = 4, 4.0, MARGIN + 12
    w = (PAGE_W - 2 * MARGIN - (columns - 1) * gap) / columns
    h = (PAGE_H - top - 14 - 2 * gap) / 3
    for i, tile in enumerate(tiles):
        _tile_box(pdf, tile, (MARGIN + (i % columns) * (w + gap), top + (i // columns) * (h + gap), w, h))


def _growth_slide(pdf: _Pack, store: Store, ctx: PackContext) -> None:
    by_class = outcomes.members_by_class(store, ctx.viewer, ctx.filters)
    certificates = outcomes.certificates_over_time(store, ctx.viewer, ctx.filters, by="standard")
    breaks = outcomes.version_breaks(store, ctx.viewer, ctx.filters)
    half = (PAGE_W - 2 * MARGIN - 6) / 2
    pdf.set_font("Helvetica", "B", 11)
    for x, title in ((MARGIN, "Members by membership class"), (MARGIN + half + 6, "Certificates issued, by standard")):
        pdf.set_xy(x, MARGIN + 12)
        pdf.cell(half, 6, title)
    if not by_class.empty:
        pdf.picture(_altair_png(charts.stacked_bars(
            by_class[["month_on", "membership_class", "members"]], x="month_on", y="members",
            series="membership_class", y_title="Members", height=300).properties(width=560)),
            MARGIN, MARGIN + 19, half, 138)
    if not certificates.empty:
        frame = certificates[["month_on", "group_value", "certificates_issued"]].rename(
            columns={"group_value": "standard"})
        pdf.picture(_altair_png(charts.time_series(
            frame, x="month_on", y="certificates_issued", series="standard", y_title="Certificates",
            version_marks=breaks, step=True, height=300).properties(width=560)),
            MARGIN + half + 6, MARGIN + 19, half, 138)
    pdf.note("Sources: membership applications (CRM) and the elementAl assurance platform, month ends. "
             "Dashed lines mark new standard versions.", PAGE_H - 17)


def _map_slide(pdf: _Pack, store: Store, ctx: PackContext) -> None:
    growth = certifications.growth_replay(store, ctx.viewer, ctx.filters)
    if growth.empty:
        pdf.note("No certified facilities match the selected filters.", MARGIN + 14)
        return
    month = pd.Timestamp(growth["month_on"].iloc[-1]).date()
    countries = certifications.country_aggregates(store, ctx.viewer, ctx.filters.replace(as_of=month))
    pdf.picture(_altair_png(country_choropleth(countries)), MARGIN, MARGIN + 12, PAGE_W - 2 * MARGIN, 142)
    row = growth.iloc[-1]
    top = countries.sort_values("certified_facilities", ascending=False).head(8)
    leaders = ", ".join(f"{r.country_name} {int(r.certified_facilities)}" for r in top.itertuples())
    pdf.note(f"{int(row['certified_facilities']):,} certified facilities and {int(row['certificates_valid']):,} "
             f"valid certificates as of {format_day(month)}. Most facilities: {leaders}. "
             "Source: elementAl assurance platform.", PAGE_H - 21)


def _table(pdf: _Pack, frame: pd.DataFrame, y: float, widths: Sequence[float]) -> float:
    pdf.set_font("Helvetica", "B", 8)
    pdf.set_xy(MARGIN, y)
    for column, w in zip(frame.columns, widths, strict=True):
        pdf.cell(w, 5, _text(column), border="B")
    pdf.ln(5)
    pdf.set_font("Helvetica", "", 8)
    for row in frame.itertuples(index=False):
        pdf.set_x(MARGIN)
        for value, w in zip(row, widths, strict=True):
            pdf.cell(w, 4.4, _text("" if pd.isna(value) else value))
        pdf.ln(4.4)
    return pdf.get_y()


def _coc_slide(pdf: _Pack, ctx: PackContext, png: bytes | None, year: int | None,
               flows: pd.DataFrame | None) -> None:
    if year is None or flows is None or flows.empty:
        pdf.note("No CoC material reports are loaded for these filters.", MARGIN + 14)
        return
    table = sankey_table(flows, unit="t", min_reporters=ctx.min_reporters)
    if png is not None:
        pdf.picture(png, MARGIN, MARGIN + 12, PAGE_W - 2 * MARGIN, 128)
    else:
        _table(pdf, table.head(22).astype(str), MARGIN + 12, [62, 62, 40, 30, 45, 75][: len(table.columns)])
    withheld = flows[flows["is_suppressed"].fillna(False).astype(bool)] if "is_suppressed" in flows else flows.head(0)
    notes = "; ".join(f"{r.source_label} -> {r.target_label}: {r.suppression_note or 'withheld'}"
                      for r in withheld.itertuples()) if not withheld.empty else ""
    pdf.note(f"Reporting year {year}. " + (f"Withheld under ASI's antitrust policy: {notes}. " if notes else "")
             + "Source: CoC annual material reports (elementAl).", PAGE_H - 30)


def _toc_slide(pdf: _Pack, graph: toc.TocGraph | None, png: bytes | None) -> None:
    if graph is None or graph.nodes.empty:
        pdf.note("The Theory of Change has not been loaded.", MARGIN + 14)
        return
    if png is not None:
        pdf.picture(png, MARGIN, MARGIN + 12, PAGE_W - 2 * MARGIN, 142)
    else:  # no Chromium to draw the graph: the outcomes and their status as a table
        worst = graph.worst_statuses
        rows = pd.DataFrame({
            "Outcome or impact": graph.nodes["label"].astype(str),
            "Level": graph.nodes["node_type"].astype(str).str.replace("_", " "),
            "Worst indicator status": [str(worst.get(n, "no indicators")).replace("_", " ")
                                       for n in graph.nodes["node_id"]],
        })
        rows = rows[rows["Worst indicator status"] != "no indicators"].head(26)
        _table(pdf, rows, MARGIN + 12, [150, 60, 60])
    statuses = pd.Series(list(graph.worst_statuses.values()), dtype="string").value_counts()
    pdf.note("Each outcome coloured by its worst indicator status: "
             + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in statuses.items()) + ".", PAGE_H - 17)


def _nc_slide(pdf: _Pack, store: Store, ctx: PackContext) -> None:
    closure = outcomes.nc_closure_by_principle(store, ctx.viewer, ctx.filters)
    if closure.empty or not closure["nonconformances"].fillna(0).sum():
        pdf.note("No Performance Standard audit findings match the selected filters and period.", MARGIN + 14)
        return
    shown = closure.dropna(subset=["closed_share"])
    pdf.picture(_altair_png(charts.ranked_bars(
        shown, category="principle_label", value="closed_share", percent=True,
        value_title="Share closed or downgraded at the next audit", sort=list(shown["principle_label"]),
        height=330).properties(width=900)), MARGIN, MARGIN + 12, PAGE_W - 2 * MARGIN, 140)
    pdf.note("Of the non-conformances found that have had a next audit, the share closed or downgraded there. "
             "Source: elementAl audit findings, Performance Standard audits.", PAGE_H - 17)


SLIDE_TITLES = tuple(slide.title for slide in SLIDES)  # the deck's, in its order


def build(store: Store, context: PackContext, progress: Progress | None = None) -> bytes:
    """The board pack PDF for `context` on the snapshot `store` holds. `progress` hears of
    each step: the flows and the Theory of Change, the two pictures, then each slide."""
    report = progress or silent
    viewer, filters = context.viewer, context.filters
    report(0.0, "Reading the chain-of-custody flows")
    years = coc.coc_years(store)
    year = years[-1] if years else None
    flows = coc.coc_stage_flows(store, viewer, year, filters) if year is not None else None
    report(0.08, "Reading the Theory of Change")
    graph = toc.toc_graph(store, viewer, filters)
    plotly_figures = []
    if flows is not None and not flows.empty:
        sankey = build_sankey(flows, unit="t", min_reporters=context.min_reporters, height=560)
        plotly_figures.append((sankey, 1250, 560))
    if graph is not None and not graph.nodes.empty:
        plotly_figures.append((build_toc_figure(graph.nodes, graph.edges, None, indicator_counts=graph.indicator_counts,
                                                node_status=graph.worst_statuses, height=620), 1250, 620))
    report(0.45, "Drawing the material flow and the Theory of Change")
    pngs = _plotly_pngs(plotly_figures)
    sankey_png = pngs.pop(0) if flows is not None and not flows.empty else None
    toc_png = pngs.pop(0) if pngs else None

    pdf = _Pack(context)
    drawers = (
        lambda: _tiles_slide(pdf, store, context),
        lambda: _growth_slide(pdf, store, context),
        lambda: _map_slide(pdf, store, context),
        lambda: _coc_slide(pdf, context, sankey_png, year, flows),
        lambda: _toc_slide(pdf, graph, toc_png),
        lambda: _nc_slide(pdf, store, context),
    )
    for number, (title, draw) in enumerate(zip(SLIDE_TITLES, drawers, strict=True), start=1):
        report(0.7 + 0.27 * (number - 1) / len(SLIDE_TITLES), f"Slide {number} of {len(SLIDE_TITLES)}: {title}")
        pdf.slide(number, len(SLIDE_TITLES), title)
        draw()
    report(0.97, "Writing the PDF")
    return bytes(pdf.output())
