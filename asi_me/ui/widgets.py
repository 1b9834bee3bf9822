"""Shared widgets every screen uses: chart cards, KPI tiles, empty states, error
wrapper, the "data as of" stamp and the active-filter chips.

Widgets lay out what query functions return; they never query or reshape data
beyond formatting for display (asi_me.ui.tables).
"""

from __future__ import annotations

import base64
import html
import logging
import math
import re
import types
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any
from urllib.parse import quote

import altair as alt
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import pydeck as pdk
import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from asi_me.data.snapshot import NoSnapshotError
from asi_me.filters import Filters
from asi_me.publish.numbers import format_day
from asi_me.ui import cache, context, filter_bar
from asi_me.ui.palette import DOWN, FLAT, GREY, MISSING, UP
from asi_me.ui.share_script import SHARE_LINK_SCRIPT
from asi_me.ui.tables import (
    SUPPRESSED_FLAG,
    SUPPRESSED_NOTE,
    csv_bytes,
    display_frame,
    screen_frame,
    suppressed_count,
    suppression_text,
)

log = logging.getLogger(__name__)



# ---------------------------------------------------------------- stamps and chips


VISITOR_NO_DATA_HINT = (
    "The figures are being updated. Please come back later; ASI's published reports are on "
    "aluminium-stewardship.org in the meantime."
)


def version_label(release: str, snapshot_id: str | None, *, technical: bool) -> str:
    """How a data version is named: its release (date) for every reader, and its id for the
    secretariat only (the public never sees a hash)."""
    if technical and snapshot_id:
        return f"data version {snapshot_id} ({release})"
    return release


def data_as_of_stamp(data_as_of: date | None, as_of: date | None = None, version: str | None = None) -> None:
    """The "data as of" line under a screen's title; `version` is `version_label(...)`."""
    if data_as_of is None:
        text = "No data loaded yet"
    else:
        text = f"Data as of <b>{_long_date(data_as_of)}</b>"
        if as_of and as_of != data_as_of:
            text += f" · figures counted on <b>{_long_date(as_of)}</b>"
    if version:
        text += f" · {html.escape(version)}"
    st.html(f'<p class="asi-stamp">{text}</p>')


def _long_date(day: date) -> str:
    return format_day(day)


def pinned_version_banner(page: Any, version: str, params: dict[str, list[str]]) -> None:
    """The note on a link pinned to an older data version, with the way to the current view.
    `version` is `version_label(...)`: the release, and the id for the secretariat only."""
    current = {k: v for k, v in params.items() if k != "v"}
    with st.container(key="asi_pinned_version", border=True):
        left, right = st.columns([5, 2], vertical_alignment="center")
        left.markdown(
            f":material/history: These figures are from the {version}, as the link you "
            "opened was pinned to. **Newer data is available.**"
        )
        with right:
            st.page_link(page, label="Open the current view", icon=":material/update:", query_params=current)


def share_link(title: str, published: str) -> None:
    """A "Copy link" control: the full URL of this view, its filters and its data version.

    The box is filled on the server and then kept equal to the address bar in the browser, so a
    part of the page that reruns alone (a fragment changing ?node= or ?unit=) never leaves it stale."""
    query = "&".join(f"{quote(k)}={quote(v)}" for k in st.query_params for v in st.query_params.get_all(k))
    base = st.context.url or ""
    url = f"{base}?{query}" if query else base or "?"
    with st.popover("Copy link", icon=":material/link:", help="A link that reopens this view, with these filters, "
                    "on this data version."):
        st.html(
            '<div class="asi-share" style="display:flex;gap:.5rem;align-items:center">'
            f'<input class="asi-share-url" type="text" readonly value="{html.escape(url, quote=True)}" '
            'aria-label="Link to this view" style="flex:1;min-width:0;font-family:monospace;font-size:.85rem;'
            'padding:.4rem .5rem;border:1px solid rgba(49,51,63,.3);border-radius:.4rem">'
            '<button type="button" class="asi-share-copy" style="padding:.4rem .8rem;border:1px solid '
            'rgba(49,51,63,.3);border-radius:.4rem;background:transparent;cursor:pointer">Copy</button></div>'
            '<p class="asi-share-status" role="status" aria-live="polite" style="margin:.25rem 0 0;'
            'font-size:.85rem"></p>'
            f"<script>{SHARE_LINK_SCRIPT}</script>",
            unsafe_allow_javascript=True,
        )
        st.caption(f"Reopens “{title}” with the same filters on {published}, while that data version is kept.")


def active_filters(filters: Filters, *, key: str = "page") -> None:
    """Chips naming each active filter, and a "Reset filters" button when any is on."""
    parts = filter_bar.describe(filters)
    if parts:
        chips = "".join(f'<span class="asi-chip">{html.escape(p)}</span>' for p in parts)
    else:
        chips = '<span class="asi-chip none">No filters: all regions, activities, standards and classes</span>'
    left, right = st.columns([6, 1], vertical_alignment="center")
    with left:
        st.html(f'<div class="asi-chips" aria-label="Active filters">{chips}</div>')
    if parts:
        right.button("Reset filters", key=f"flt_reset_{key}", on_click=filter_bar.reset_filters,
                     icon=":material/restart_alt:", type="tertiary")


# ---------------------------------------------------------------- empty states and errors


_OPERATOR_WORDS = re.compile(r"python -m|`|/snapshots/|\.parquet|\.md\b|data_dir|ASI_[A-Z_]+")


def for_reader(text: str | None) -> str | None:
    """Operator's detail (commands, paths, settings) for the secretariat; a visitor's sentence otherwise."""
    if text and not context.is_secretariat() and _OPERATOR_WORDS.search(text):
        return VISITOR_NO_DATA_HINT
    return text


def empty_state(message: str, *, hint: str | None = None) -> None:
    """Say why there is nothing to show (and, where useful, what to change).

    A hint meant for the operator (a command or a path) is shown to the secretariat only."""
    hint = for_reader(hint)
    st.info(message + (f"\n\n{hint}" if hint else ""), icon=":material/info:")


@contextmanager
def friendly_errors(what: str) -> Iterator[None]:
    """Show one sentence instead of a traceback if `what` fails; log the exception."""
    try:
        yield
    except ScriptControlException:
        raise
    except NoSnapshotError as exc:
        st.warning(for_reader(str(exc)) or "", icon=":material/database:")
    except Exception:
        log.exception("Could not show %s", what)
        st.error(
            f"Sorry, {what} could not be shown because of an internal error. It has been logged for the "
            "data team; try other filters or reload the page.",
            icon=":material/error:",
        )


# ---------------------------------------------------------------- tables and downloads


def download_csv(shown: pd.DataFrame, file_name: str, *, key: str, label: str = "Download CSV") -> None:
    """A CSV download of exactly the displayed frame."""
    # Built when clicked, not on every run: a page run only registers the button.
    st.download_button(
        label, lambda: csv_bytes(shown),
        file_name=file_name if file_name.endswith(".csv") else f"{file_name}.csv",
        mime="text/csv", key=key, on_click="ignore", icon=":material/download:",
    )


def data_table(
    frame: pd.DataFrame, *, key: str, min_reporters: int = 5, titles: dict[str, str] | None = None,
    download: str | None = None, height: int | str = "auto", column_config: dict | None = None,
    row_limit: int | None = None, content_key: Hashable | None = None,
) -> pd.DataFrame:
    """A sortable table of a query result (suppressed cells marked) with an optional CSV download.

    With `row_limit`, only the first rows go to the browser, a caption says how many there
    are, and the CSV (built on click) still holds every row. Returns the displayed frame.
    `content_key` names the frame's content, as for chart_card.
    """
    total = len(frame)
    limited = row_limit is not None and total > row_limit
    shown, payload = prepared_table(frame.head(row_limit) if limited else frame, key=key,
                                    min_reporters=min_reporters, titles=titles,
                                    content_key=(content_key, row_limit) if content_key is not None else None)
    if limited:
        st.caption(f"Showing the first {row_limit:,} of {total:,} rows; the CSV holds all of them.")
    st.dataframe(payload, hide_index=True, height=height, column_config=column_config, key=f"tbl_{key}")
    if download:
        name = download if download.endswith(".csv") else f"{download}.csv"
        if limited:
            st.download_button(
                f"Download all {total:,} rows (CSV)",
                lambda: csv_bytes(display_frame(frame, min_reporters=min_reporters, titles=titles)),
                file_name=name, mime="text/csv", key=f"dl_{key}", on_click="ignore", icon=":material/download:",
            )
        else:
            download_csv(shown, download, key=f"dl_{key}")
    return shown


# Tables up to this many rows are prepared once and shared (far below Streamlit's lazy-loading
# threshold, so what the browser receives is the same as for the pandas frame).
SHARED_TABLE_ROWS = 20_000


def prepared_table(
    frame: pd.DataFrame, *, key: str, min_reporters: int = 5, titles: dict[str, str] | None = None,
    content_key: Hashable | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | pa.Table]:
    """The displayed frame and what `st.dataframe` is given for it, built once per content.

    `display_frame` (labels, suppression markings, headers) and Streamlit's pandas -> Arrow
    conversion cost a few ms per table and run, every run, for the same cached query result.
    Both depend only on the frame's content and the arguments, so they are cached under a
    fingerprint of those and shared by every session; the Arrow table is exactly what
    Streamlit would make of the frame. Frames without a stable fingerprint are prepared
    each run. `content_key`, when given, stands for the frame's content (see chart_card)
    and spares hashing the frame.
    """
    def build() -> tuple[pd.DataFrame, pd.DataFrame | pa.Table]:
        shown = display_frame(frame, min_reporters=min_reporters, titles=titles)
        on_screen = screen_frame(shown)  # a missing figure reads "—", not the grid's "None"
        return shown, _to_arrow(on_screen) if _to_arrow is not None else on_screen

    if len(frame) > SHARED_TABLE_ROWS:
        return build()
    try:
        content = _fingerprint(frame, 0) if content_key is None else _content(content_key, frame)
    except _Unstable:
        return build()
    fingerprint = (content, min_reporters, tuple(sorted((titles or {}).items())))
    shown, payload = cache.cached_view(f"table:{key}", fingerprint, build)
    # A copy-on-write view: a caller that edits the returned frame changes only its own copy.
    return shown.copy(deep=False), payload


def _content(content_key: Hashable, frame: pd.DataFrame) -> tuple:
    """A caller's name for a frame's content, with its shape as a cheap consistency check."""
    return ("content", content_key, tuple(map(str, frame.columns)), len(frame))


# ---------------------------------------------------------------- chart card

# A figure a card can draw: an Altair chart, a plotly figure or a pydeck deck.
Figure = alt.TopLevelMixin | go.Figure | pdk.Deck
ChartLike = Figure | Callable[[pd.DataFrame], Figure | None]


def render_figure(figure: Figure, *, key: str | None = None) -> None:
    """Draw an Altair chart, plotly figure or pydeck deck full width with its own Streamlit element."""
    if isinstance(figure, go.Figure):
        st.plotly_chart(figure, key=key, config={"displaylogo": False})
    elif isinstance(figure, pdk.Deck):
        st.pydeck_chart(figure, key=key)
    elif isinstance(figure, alt.TopLevelMixin):
        st.altair_chart(figure, width="stretch", key=key)
    elif isinstance(figure, VegaLiteSpec):
        # dict() because Streamlit edits the spec's top level; the shared spec stays as built.
        st.vega_lite_chart(dict(figure.spec), width="stretch", key=key)
    else:
        raise TypeError(
            f"A chart card cannot draw a {type(figure).__name__}; pass an Altair chart, a plotly figure, "
            "a pydeck deck or a function that draws the figure itself."
        )


def chart_card(
    title: str,
    frame: pd.DataFrame | None,
    chart: ChartLike | None,
    *,
    key: str,
    source: str,
    definition: str = "",
    empty_message: str = "No data for the selected filters.",
    empty_hint: str | None = None,
    min_reporters: int = 5,
    titles: dict[str, str] | None = None,
    note: str | None = None,
    bordered: bool = True,
    content_key: Hashable | None = None,
) -> pd.DataFrame | None:
    """A chart with a Chart/Table toggle, a CSV download of the table shown, and source/definition.

    `chart` is an Altair chart, plotly figure or pydeck deck, or a builder `frame -> figure`
    (builder errors are caught). Suppressed rows are drawn as gaps and listed in the table
    with their marking. Returns the displayed table (None when empty). With `bordered=False`
    the page draws the card's border itself (e.g. to put controls inside it, above the chart).

    `content_key` (hashable, e.g. `(viewer, filters, selection)`) names everything `frame`
    and a builder `chart` read besides the snapshot: the table and the chart spec are then
    cached under it instead of a hash of the data (a few ms per card and run). Leave it out
    when unsure; a wrong key shows another view's figures.
    """

    def draw(data: pd.DataFrame) -> None:
        built = _built_chart(chart, data, key, content_key) if callable(chart) else chart
        if built is None:
            empty_state("This view has no chart; see the table.")
            return
        with st.container(key=f"asi_chart_{key}"):
            if embedded_chart() == key:
                _embed_credit(title, source)
            render_figure(built)
        if chart is not None and not isinstance(built, pdk.Deck):
            _take_away(chart, data, title=title, source=source, key=key)

    return _card(
        title, frame, draw, key=key, source=source, definition=definition, empty_message=empty_message,
        empty_hint=empty_hint, min_reporters=min_reporters, titles=titles, note=note, bordered=bordered,
        content_key=content_key,
    )


# ---------------------------------------------------------------- take it away: images and embeds


def embedded_chart() -> str | None:
    """The chart key of an embed view (`?embed=1&chart=KEY`), else None.

    Streamlit keeps `embed` out of st.query_params (it is its own parameter), so `chart=`
    alone marks the view; `embed=1` is in the links so that the proxy lets other sites frame
    them (asi_me/ui/asgi.py)."""
    return st.query_params.get("chart") or None


def image_version() -> str:
    """The data version drawn into an image: the release, and the id for the secretariat."""
    try:
        ctx = context.page_context()
    except Exception:  # drawn outside a page run
        return "ASI M&E Explorer"
    if ctx.manifest is None:
        return "ASI M&E Explorer"
    from asi_me.data.versions import release_name  # noqa: PLC0415

    release = release_name(ctx.settings.data_dir, ctx.manifest.snapshot_id)
    return version_label(release, ctx.manifest.snapshot_id, technical=context.is_secretariat())


def _link_here(**extra: str) -> str:
    params = {k: st.query_params.get_all(k) for k in st.query_params if k not in {"embed", "chart", "role", "member"}}
    query = "&".join(f"{quote(k)}={quote(v)}" for k, values in params.items() for v in values)
    query += "".join(f"&{quote(k)}={quote(v)}" for k, v in extra.items())
    return f"{st.context.url or ''}?{query.lstrip('&')}"


def _embed_credit(title: str, source: str) -> None:
    back = html.escape(_link_here())
    st.html(f'<p class="asi-embed-credit"><b>{html.escape(title)}</b> · Source: {html.escape(source.rstrip("."))} · '
            f'{html.escape(image_version())} · <a href="{back}" target="_blank" rel="noopener">'
            "Open in the ASI M&E Explorer</a></p>")


def _take_away(chart: ChartLike, data: pd.DataFrame, *, title: str, source: str, key: str) -> None:
    """PNG and SVG downloads of the chart with its title, source and data version drawn in (built
    when clicked), and the code that embeds it in another site."""
    from asi_me.ui import images  # noqa: PLC0415 - vl-convert loads only when a page offers images
    from asi_me.ui.board_pack import _browser  # noqa: PLC0415

    version = image_version()

    def image(fmt: images.ImageFormat) -> Callable[[], bytes]:
        def make() -> bytes:
            figure = chart(data) if callable(chart) else chart
            if isinstance(figure, alt.TopLevelMixin):
                return images.altair_image(figure, title=title, source=source, version=version, fmt=fmt)
            return images.plotly_image(figure, title=title, source=source, version=version, fmt=fmt)
        return make

    is_plotly = isinstance(chart, go.Figure)  # plotly images need Chromium on the server
    stem = images.file_stem(title)
    with st.container(key=f"controls_img_{key}", horizontal=True, gap="small"):
        if not is_plotly or _browser() is not None:
            st.download_button("PNG", image("png"), file_name=f"{stem}.png", mime="image/png", key=f"png_{key}",
                               on_click="ignore", type="tertiary", icon=":material/image:",
                               help="The chart as a picture, with its title, source and data version.")
            st.download_button("SVG", image("svg"), file_name=f"{stem}.svg", mime="image/svg+xml", key=f"svg_{key}",
                               on_click="ignore", type="tertiary", icon=":material/draw:",
                               help="The chart as a vector drawing, with its title, source and data version.")
        with st.popover("Embed", icon=":material/code:", type="tertiary"):
            url = html.escape(_link_here(embed="1", chart=key))
            st.caption("Paste this into a web page to show this chart, with its source and a link back.")
            st.code(f'<iframe src="{url}" title="{html.escape(title)}" width="100%" height="480" '
                    'style="border:0" loading="lazy"></iframe>', language="html", wrap_lines=True)


@dataclass(frozen=True)
class VegaLiteSpec:
    """An Altair chart already converted to the Vega-Lite spec Streamlit sends (data as Arrow)."""

    spec: dict


def _built_chart(
    build: Callable[[pd.DataFrame], Figure | None], data: pd.DataFrame, key: str, content_key: Hashable | None = None,
) -> Figure | None:
    """`build(data)`, with Altair charts converted to their spec once per snapshot and inputs.

    Building an Altair chart and converting it (schema validation, Arrow data) costs
    20-60 ms per chart and run; the spec depends only on the builder's code, the values it
    reads (closure cells and the page's globals) and `data`, so it is cached under a
    fingerprint of those. Inputs without a stable fingerprint are simply built each run.
    """
    if content_key is not None and isinstance(build, types.FunctionType):
        # The caller names the data and the builder's inputs; the builder's code still counts.
        code = build.__code__
        fingerprint = (_content(content_key, data), code.co_filename, code.co_firstlineno, code.co_code)
    else:
        fingerprint = figure_fingerprint(build, data)
    if fingerprint is None or _to_vega_lite is None:
        return build(data)

    def convert() -> VegaLiteSpec | Figure | None:
        built = build(data)
        return VegaLiteSpec(_to_vega_lite(built)) if isinstance(built, alt.TopLevelMixin) else built

    built = cache.cached_view(f"chart:{key}", fingerprint, convert)
    # Only specs are shared between sessions; anything else is built for this run.
    return built if isinstance(built, VegaLiteSpec) or built is None else build(data)


def figure_fingerprint(build: Callable[..., object], data: pd.DataFrame) -> tuple | None:
    """What a chart built by `build(data)` depends on, as a hashable value; None if unknown."""
    try:
        return (_fingerprint(build, 0), _fingerprint(data, 0))
    except _Unstable:
        return None


class _Unstable(Exception):
    """A value without a repr that is stable across runs."""


def _fingerprint(value: object, depth: int) -> object:
    if depth > 4:
        raise _Unstable
    if isinstance(value, np.ndarray | pd.Index):  # their reprs elide long contents
        value = pd.Series(np.asarray(value).ravel())
    if isinstance(value, pd.DataFrame | pd.Series):
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        try:
            digest = int(pd.util.hash_pandas_object(frame, index=True).sum())
        except TypeError as exc:  # unhashable cells (lists)
            raise _Unstable from exc
        return ("frame", tuple(map(str, frame.columns)), tuple(map(str, frame.dtypes)), len(frame), digest)
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__)
    if isinstance(value, types.FunctionType):
        code = value.__code__
        cells = tuple(_fingerprint(c.cell_contents, depth + 1) for c in value.__closure__ or ())
        # Page scripts run as module code: their lambdas read page variables as globals.
        names = tuple(
            (name, _fingerprint(value.__globals__[name], depth + 1))
            for name in code.co_names if name in value.__globals__
        )
        defaults = _fingerprint(value.__defaults__, depth + 1)
        return ("fn", code.co_filename, code.co_firstlineno, code.co_code, cells, names, defaults)
    if isinstance(value, type | types.BuiltinFunctionType):
        return ("obj", getattr(value, "__module__", ""), getattr(value, "__qualname__", repr(value)))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_fingerprint(v, depth + 1) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((repr(k), _fingerprint(v, depth + 1)) for k, v in value.items()))
    text = repr(value)
    # An address changes every run; "..." means the repr left contents out (numpy, pandas inside).
    if " at 0x" in text or " object at " in text or "..." in text:
        raise _Unstable
    return (type(value).__name__, text)


try:  # Streamlit's own pandas -> Arrow conversion, so a shared table is what st.dataframe would send
    from streamlit.dataframe_util import convert_pandas_df_to_arrow_table as _to_arrow
except ImportError:  # pragma: no cover - another Streamlit version: hand Streamlit the frame
    _to_arrow = None

try:  # Streamlit's own Altair -> Vega-Lite conversion, so the cached spec is what altair_chart sends
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec as _to_vega_lite
except ImportError:  # pragma: no cover - another Streamlit version: build every run
    _to_vega_lite = None


def figure_card(
    title: str,
    table: pd.DataFrame | None,
    figure: Figure | Callable[[], None],
    *,
    key: str,
    source: str,
    min_reporters: int = 5,
    titles: dict[str, str] | None = None,
    columns: Sequence[str] | None = None,
    note: str | None = None,
    definition: str = "",
    empty_message: str = "No data for the selected filters.",
    empty_hint: str | None = None,
) -> pd.DataFrame | None:
    """The chart card for a figure the page draws itself: plotly (with click selection),
    pydeck (layers, replay) or Altair.

    `figure` is a finished figure, or a zero-argument function that draws it (use that to
    pass `on_select`, a key or a height to st.plotly_chart / st.pydeck_chart). The table tab
    and the CSV show `table` (only `columns`, when given, in that order) with suppressed cells
    written as their policy note. Returns the displayed table (None when empty).
    """
    if table is not None and columns is not None:
        keep = [c for c in columns if c in table.columns]
        keep += [c for c in (SUPPRESSED_FLAG, SUPPRESSED_NOTE) if c in table.columns and c not in keep]
        table = table[keep]

    def draw(_: pd.DataFrame) -> None:
        if callable(figure):
            figure()
        else:
            render_figure(figure, key=f"fig_{key}")

    return _card(
        title, table, draw, key=key, source=source, definition=definition, empty_message=empty_message,
        empty_hint=empty_hint, min_reporters=min_reporters, titles=titles, note=note, bordered=True,
    )


def _card(
    title: str,
    frame: pd.DataFrame | None,
    draw: Callable[[pd.DataFrame], None],
    *,
    key: str,
    source: str,
    definition: str,
    empty_message: str,
    empty_hint: str | None,
    min_reporters: int,
    titles: dict[str, str] | None,
    note: str | None,
    bordered: bool,
    content_key: Hashable | None = None,
) -> pd.DataFrame | None:
    """Title, Chart/Table tabs, withheld-values line, note, source and the CSV download."""
    with st.container(border=bordered):
        st.markdown(f"**{title}**")
        if frame is None or frame.empty:
            empty_state(empty_message, hint=empty_hint)
            _source_caption(source, definition)
            return None
        shown, payload = prepared_table(frame, key=key, min_reporters=min_reporters, titles=titles,
                                        content_key=content_key)
        hidden = suppressed_count(frame)
        chart_tab, table_tab = st.tabs(["Chart", "Table"])
        with chart_tab, friendly_errors(f"the chart “{title}”"):
            draw(frame)
        with table_tab:
            st.dataframe(payload, hide_index=True, key=f"tbl_{key}")
        if hidden:
            st.caption(
                f"{hidden} value{'s' if hidden != 1 else ''} withheld under the ASI antitrust policy: "
                f"{suppression_text(frame, min_reporters)}."
            )
        if note:
            st.caption(note)
        _source_caption(source, definition)
        with st.container(key=f"controls_{key}"):
            download_csv(shown, key, key=f"dl_{key}", label="Download this table (CSV)")
        return shown


def _source_caption(source: str, definition: str) -> None:
    text = f"Source: {source}"
    if definition:
        text += f"  \nDefinition: {definition}"
    st.caption(text)


# ---------------------------------------------------------------- KPI tiles


@dataclass(frozen=True)
class Tile:
    """One published figure: its value, changes and trend."""

    title: str
    value: float | None
    unit: str = ""
    change_month: float | None = None
    change_year: float | None = None
    trend: Sequence[float] = field(default_factory=tuple)
    help: str = ""
    note: str = ""  # e.g. "since 2017", or a suppression marking when value is None
    percent: bool = False
    trend_on: Sequence[date] = field(default_factory=tuple)  # the date of each trend value
    # (date, sentence) of each standard-version change within the trend, drawn as a dashed line
    version_marks: Sequence[tuple[date, str]] = field(default_factory=tuple)


PHYSICAL_UNITS = frozenset({"t", "kt", "Mt", "t CO2e", "t CO2e/t Al"})


def format_value(value: float | None, *, percent: bool = False, unit: str = "") -> str:
    """A tile value as read aloud: thousands separators, % with one decimal."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if percent:
        return f"{value:.1f}%"
    text = f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"
    # Counts read from the tile title ("Members", "Auditors trained"); only physical units are written.
    return f"{text} {unit}" if unit in PHYSICAL_UNITS or "/" in unit else text


def _signed(change: float, *, percent: bool) -> str:
    """A change as a signed number with its unit: "+3", "−2", "+0.7 pp" (a true minus sign)."""
    unit = " pp" if percent else ""
    number = f"{abs(change):,.1f}" if percent or not float(change).is_integer() else f"{abs(change):,.0f}"
    return f"{'+' if change > 0 else '−'}{number}{unit}"


def format_change(change: float | None, *, percent: bool = False) -> str | None:
    """Signed change with an arrow, so direction does not rely on colour: "▲ +3", "▼ −2", "► 0"."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return None
    if change > 0:
        return f"▲ {_signed(change, percent=percent)}"
    if change < 0:
        return f"▼ {_signed(change, percent=percent)}"
    return "► no change"


# Sparkline drawing box (SVG user units); the SVG stretches to the tile's width.
_SPARK_W, _SPARK_H = 100.0, 30.0
SPARK_MARK = GREY  # the dashed version-change line, as on the growth charts


def spark_mark_x(dates: Sequence[date], on: date) -> float | None:
    """Where a date falls on a sparkline of values at `dates` (evenly spaced, oldest first), in
    its drawing box's units: between the two values either side, by days; None outside."""
    if len(dates) < 2 or not dates[0] <= on <= dates[-1]:
        return None
    step = _SPARK_W / (len(dates) - 1)
    for i, (before, after) in enumerate(pairwise(dates)):
        if before <= on <= after:
            span = (after - before).days or 1
            return (i + (on - before).days / span) * step
    return None


def _sparkline(values: Sequence[float], colour: str, dates: Sequence[date] = (),
               marks: Sequence[tuple[date, str]] = ()) -> str:
    """The trend as an inline SVG line, decorative (the value and changes are in words), with a
    thin dashed grey line where a standard version changed (`marks`, placed by `dates`)."""
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = _SPARK_W / (len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{_SPARK_H - 2 - (v - low) / span * (_SPARK_H - 4):.1f}" for i, v in enumerate(values)
    )
    rules = ""
    if len(dates) == len(values):
        for on, _ in marks:
            x = spark_mark_x(dates, on)
            if x is not None:
                rules += (f'<line class="version-mark" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{_SPARK_H:g}" '
                          f'stroke="{SPARK_MARK}" stroke-width="1" stroke-dasharray="2 2" '
                          'vector-effect="non-scaling-stroke"/>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_SPARK_W:g} {_SPARK_H:g}" '
        f'preserveAspectRatio="none">{rules}<polyline points="{points}" fill="none" stroke="{colour}" '
        'stroke-width="1.75" stroke-linejoin="round" vector-effect="non-scaling-stroke"/></svg>'
    )
    # An image: st.html's sanitiser removes inline <svg>, and a data URL of it survives.
    encoded = base64.b64encode(svg.encode("ascii")).decode("ascii")
    return f'<img class="asi-spark" src="data:image/svg+xml;base64,{encoded}" alt="" aria-hidden="true">'


def tile_html(tile: Tile) -> str:
    """One tile as HTML: title with its definition, value, change vs the previous month (a chip
    with an arrow and a sign, so direction is not told by colour alone), sparkline, and a line
    with the change vs a year earlier and a note. `data-*` attributes carry what it shows."""
    value = format_value(tile.value, percent=tile.percent, unit=tile.unit)
    change = tile.change_month
    if change is None or (isinstance(change, float) and math.isnan(change)):
        direction, delta = "none", ""
    elif change > 0:
        direction, delta = "up", "↑ " + _signed(change, percent=tile.percent)
    elif change < 0:
        direction, delta = "down", "↓ " + _signed(change, percent=tile.percent)
    else:
        direction, delta = "flat", "0"
    kept = [i for i, v in enumerate(tile.trend) if v is not None and not pd.isna(v)]
    trend = [float(tile.trend[i]) for i in kept]
    trend_on = [tile.trend_on[i] for i in kept] if len(tile.trend_on) == len(tile.trend) else []
    marks = [(on, words) for on, words in tile.version_marks if spark_mark_x(trend_on, on) is not None]
    year = format_change(tile.change_year, percent=tile.percent)
    note = " · ".join([*([f"{year} vs a year earlier"] if year else []), *([tile.note] if tile.note else [])])
    esc = html.escape
    title = esc(tile.title)
    help_text = tile.help
    if marks and len(trend) >= 2:
        help_text = (help_text + " " if help_text else "") + "Dashed lines in the trend: " + " ".join(
            words for _, words in marks)
    versions = ";".join(f"{on.isoformat()}" for on, _ in marks) if len(trend) >= 2 else ""
    parts = [
        f'<div class="asi-tile" role="group" aria-label="{title}" data-label="{title}" data-value="{esc(value)}" '
        f'data-delta="{esc(delta)}" data-note="{esc(note)}" data-version-marks="{esc(versions)}">',
        f'<div class="asi-tile-head"><span class="asi-tile-title">{title}</span>',
    ]
    if help_text:
        parts.append(f'<span class="asi-help" tabindex="0" role="note" aria-label="{esc(help_text)}" '
                     f'data-tip="{esc(help_text)}">?</span>')
    parts.append(f'</div><div class="asi-tile-value">{esc(value)}</div>')
    if delta:
        parts.append(f'<div class="asi-tile-delta"><span class="asi-delta {direction}">{esc(delta)}</span>'
                     " vs previous month</div>")
    parts.append(_sparkline(trend, {"up": UP, "down": DOWN}.get(direction, FLAT), trend_on, marks))
    if note:
        parts.append(f'<div class="asi-tile-note">{esc(note)}</div>')
    parts.append("</div>")
    return "".join(parts)


def tiles_html(tiles: Sequence[Tile]) -> str:
    """The tiles as one grid (four to a row on a wide screen, fewer on a narrow one)."""
    return '<div class="asi-tiles">' + "".join(tile_html(t) for t in tiles) + "</div>"


def kpi_grid(tiles: Sequence[Tile], *, content_key: Hashable) -> None:
    """The tiles as one element, its HTML built once per `content_key` (everything the tiles
    depend on) and shared by every session: one element instead of about fifty per run."""
    st.html(cache.cached_view("kpi-grid", content_key, lambda: tiles_html(tiles)))
