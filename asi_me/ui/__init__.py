"""Streamlit UI layer of the ASI M&E Explorer: shared widgets, chart builders, one cache.

Pages (pages/*.py) are layout only. They get everything through this package:

Context (asi_me.ui.context)
    ctx = page_context()          -> PageContext resolved by app.py for this run:
        ctx.viewer (asi_me.filters.Viewer), ctx.filters (asi_me.filters.Filters),
        ctx.as_of (date figures are counted on), ctx.data_as_of, ctx.min_reporters,
        ctx.is_demo, ctx.presenting, ctx.has_data, ctx.rows("table"), ctx.settings.

Data (asi_me.ui.cache) — the ONLY caching; never call the store or SQL from a page
    cached(fn, *args, **kwargs)   -> fn(store, *args, **kwargs) on the current snapshot,
                                     cached per (function, snapshot id, arguments).
        e.g. cached(outcomes.members_by_class, ctx.viewer, ctx.filters)
        A page only selects or renames columns of what a query function returns; any
        filtering, grouping or picking of a member's rows is a query function (asi_me/*),
        e.g. cached(members.own_certifications, ctx.viewer, ctx.filters).
        A DataFrame result is a copy-on-write view of the one frame every session shares (no
        copy is made; changing it changes only the page's own view).
    cached_view(name, key, build) -> build() once per (snapshot, name, key), shared by every
                                     session: chart specs, plotly figures, display tables a page
                                     derives from cached results. `key` holds all `build` reads,
        e.g. cached_view("toc_graph", (repr(viewer), repr(filters), selected), lambda: build_toc_figure(...))
        chart_card already caches the Vega-Lite spec of an Altair builder this way.
    current_store()               -> the Store of data/CURRENT (re-opened when it changes).

Widgets (asi_me.ui.widgets)
    chart_card(title, frame, chart, *, key, source, definition="", empty_message=...,
               empty_hint=None, min_reporters=5, titles=None, note=None) -> shown frame | None
        Bordered card: Chart/Table tabs, CSV download of exactly the table shown
        (suppressed cells read "suppressed (fewer than N reporters)"), source/definition
        caption, empty state when frame is None/empty. `chart` is an Altair chart, plotly
        figure or pydeck deck, or a builder frame -> figure (its errors are caught and logged).
    figure_card(title, table, figure, *, key, source, min_reporters=5, titles=None,
                columns=None, note=None, definition="", empty_message=..., empty_hint=None)
        -> shown frame | None
        The same card for figures the page draws itself: `figure` is a plotly figure, pydeck
        deck or Altair chart, or a zero-argument function that draws it (to pass on_select,
        a key or a height). Table tab and CSV show `table` (only `columns`, if given) with
        suppressed cells written as their policy note. e.g.
        figure_card("Theory of Change", nodes_table, lambda: st.plotly_chart(fig, on_select=...),
                    key="toc_nodes", source="ASI M&E Plan", min_reporters=ctx.min_reporters)
    render_figure(figure, *, key=None)   draws an Altair / plotly / pydeck figure full width.
    data_table(frame, *, key, min_reporters=5, titles=None, download=None, ...) -> shown frame
        Sortable table with suppression marking, labelled vocab codes, optional CSV download.
    download_csv(shown_frame, file_name, *, key, label="Download CSV")
    Tile(title, value, unit="", change_month=None, change_year=None, trend=(), help="", note="",
         percent=False); kpi_grid(tiles, content_key=None); tiles_html(tiles) -> str
        One HTML grid of tiles (four to a row when wide): value, a chip with arrow + signed
        change vs previous month, sparkline of `trend`, a line with the year change
        ("▲ +25 vs a year earlier") and the note, the definition behind a "?" tooltip.
        `data-label`/`data-value`/`data-delta`/`data-note` carry what each tile shows.
    empty_state(message, *, hint=None)   say WHY there is nothing, e.g.
        "No CoC reports for 2017: CoC certification began in 2018."
    with friendly_errors("the Sankey"): ...  logs the exception, shows one sentence.
    data_as_of_stamp(data_as_of, as_of=None, version=version_label(...)); active_filters(filters, key=...)
        (app.py already draws the title, stamp, filter chips and Reset button on every page.)

Tables (asi_me.ui.tables, pure pandas)
    display_frame(frame, *, min_reporters=5, titles=None) -> frame as shown/exported
    csv_bytes(shown) ; suppressed_count(frame) ; column_title("certificates_t") -> "Certificates (t)"

Charts (asi_me.ui.charts, pure Altair, no Streamlit; testable directly)
    time_series(frame, *, x, y, series=None, y_title="", version_marks=None, step=False, percent=False)
    stacked_bars(frame, *, x, y, series, temporal=True, version_marks=None)
    version_markers(start, end, marks=None): the standard-version changes every series marks
        (None: all standards; a list of standards; or outcomes.version_breaks' frame)
    ranked_bars(frame, *, category, value, percent=False, sort=None, highlight=None)
    sparkline(frame, *, x, y); version_changes(standards)

Palette (asi_me.ui.palette), the one chart style: Okabe-Ito constants; STATUS_STYLE /
    STANDARD_STYLE map status/standard -> Style(color, shape, symbol, text) with .rgb for
    pydeck; never encode status by colour alone (use .shape on maps/charts and .symbol +
    .text in tables). category_color(code) / category_scale(column, codes): one fixed colour
    per vocabulary value; time_axis(dates): years on every time axis; format_number(value,
    kind), format_date(value), MISSING ("—"). Published figures are rounded in the core
    (asi_me.publish.numbers).

Presentation (asi_me.ui.presentation): is_presenting(); app.py injects the CSS and footer.
    Elements in st.container(key="controls_<x>") and download buttons are hidden when presenting.

Filters: asi_me.ui.filter_bar.describe(filters) -> ["Region: Europe", ...].
"""
