"""Certification map: certified facilities by status and standard, growth replay, country
aggregates, smelter emissions, the linked register and a detail panel per certification.

The linked register shows a page of at most REGISTER_ROW_LIMIT rows (environment variable
ASI_MAP_REGISTER_ROWS overrides it, for tests): at 100x data the whole register was a
19 MB websocket message per run. Only that page and the register's counts are queried
(certification_register_page in register order, certification_register_sorted_page when
sorted by a column or past the first page: the sort runs over every row on the server);
the full filtered register is queried and written as CSV only when someone clicks the
download.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import streamlit as st

from asi_me.data.vocab import Role, label
from asi_me.filters import Filters, Viewer
from asi_me.queries.certifications import (
    REGISTER_SORT_COLUMNS,
    RegisterPage,
    certification_detail,
    certification_register,
    certification_register_page,
    certification_register_sorted_page,
    country_aggregates,
    country_records,
    facilities_without_coordinates,
    facility_points,
    growth_replay,
    smelter_emissions,
)
from asi_me.queries.members import own_certifications
from asi_me.ui import cache, widgets
from asi_me.ui.charts import ranked_bars
from asi_me.ui.context import PageContext, is_phone, page_context
from asi_me.ui.map_charts import (
    GHG_THRESHOLD_T_PER_T,
    MAP_POINTS,
    build_certification_deck,
    build_emissions_by_region,
    choropleth_breaks,
    legend_markdown,
)
from asi_me.ui.palette import MISSING, format_date
from asi_me.ui.tables import csv_bytes, display_frame, register_row_limit

CERT_PARAM = "cert"
COUNTRY_KEY = "map_country_pick"
MONTH_PARAM = "month"
# Growth replay: at most this many frames, one every REPLAY_FRAME_SECONDS, drawn by a fragment
# that the browser reruns on a timer; no server thread sleeps between frames.
PHONE_MAP_PX = 350  # a 390 px phone less the page's side padding
REPLAY_KEY = "map_replay_frames"
REPLAY_TOTAL_KEY = "map_replay_total"
REPLAY_MAX_FRAMES = 24
REPLAY_FRAME_SECONDS = 0.25
REGISTER_COLUMNS = {
    "certification_id": "Certificate",
    "facility_name": "Facility",
    "member_name": "Member",
    "country_name": "Country",
    "standard": "Standard",
    "standard_version": "Version",
    "status": "Status",
    "issued_on": "Issued",
    "expires_on": "Expires",
    "auditing_firm_name": "Auditing firm",
}
COUNTRY_COLUMNS = {
    "country_name": "Country",
    "region": "Region",
    "certified_facilities": "Facilities with a valid certification",
    "ps_certificates": "Valid PS certificates",
    "coc_certificates": "Valid CoC certificates",
    "certifications_shown": "Certifications in the register",
}
POINT_COLUMNS = {
    "facility_name": "Facility",
    "country_name": "Country",
    "status": "Best status",
    "standard_key": "Standards held",
    "certificates": "Certifications",
    "n_facilities": "Facilities at this point",
    "latitude": "Latitude",
    "longitude": "Longitude",
}

EMISSION_COLUMNS = {
    "region": "Region",
    "smelters": "Smelters",
    "above_threshold": "Above threshold",
    "at_or_below_threshold": "At or below threshold",
    "median_t_per_t": "Median t CO2e/t Al",
}


def _stop_replay() -> None:
    st.session_state.pop(REPLAY_KEY, None)


@st.fragment(run_every=REPLAY_FRAME_SECONDS)
def _replay_growth(viewer: Viewer, filters: Filters) -> None:
    """One frame of the growth replay per fragment run; the browser asks for the next one.

    A fragment run is not a page run: it takes no run slot (asi_me/ui/process.py), so
    other sessions' pages run while a replay plays. A progress bar says which month is shown
    and how many are left, and "Stop" ends it. After the last frame a full rerun draws the
    interactive map again.
    """
    frames: list[date] = st.session_state.get(REPLAY_KEY) or []
    if not frames:
        st.session_state.pop(REPLAY_KEY, None)
        st.rerun(scope="app")
    total = max(st.session_state.get(REPLAY_TOTAL_KEY, len(frames)), len(frames))
    step = frames.pop(0)
    shown = total - len(frames)
    frame = cache.cached(facility_points, viewer, filters.replace(as_of=step), max_points=MAP_POINTS)
    with st.container(horizontal=True, vertical_alignment="center", key="map_replay_bar"):
        st.progress(shown / total, text=f"Replaying growth: end of {_month_label(step)}, month {shown} of {total} "
                                        f"· {len(frame):,} points")
        st.button("Stop", key="map_replay_stop", icon=":material/stop:", on_click=_stop_replay,
                  help="Stop the replay and show the selected month.")
    st.pydeck_chart(build_certification_deck(frame), height=540)


def _map_image(countries: pd.DataFrame, month: date, version: str) -> None:
    """The map as a PNG to take away: countries shaded by certified facilities, with its title,
    source and data version drawn in (built when clicked)."""
    from asi_me.ui import images  # noqa: PLC0415 - vl-convert loads only when asked

    title = f"Countries with ASI-certified facilities, end of {_month_label(month)}"

    def make() -> bytes:
        return images.altair_image(images.country_choropleth(countries), title=title, fmt="png", version=version,
                                   source="ASI certification register (elementAl)")

    with st.container(key="controls_map_image"):
        st.download_button("Map as PNG", make, file_name=f"{images.file_stem(title)}.png", mime="image/png",
                           key="map_png", on_click="ignore", type="tertiary", icon=":material/image:",
                           help="The country map as a picture, with its title, source and data version.")


def _month_label(value: date) -> str:
    return f"{value:%b %Y}"


def _pick_certification(certification_id: str | None, origin: str = "register") -> None:
    """Open (or close, with None) a certification's detail. It opens next to where it was picked:
    beside the register for a register row or a link's ?cert=, under the map for a map point."""
    st.session_state["map_cert"] = certification_id
    st.session_state["map_cert_from"] = origin
    if certification_id:
        st.query_params[CERT_PARAM] = certification_id
    elif CERT_PARAM in st.query_params:
        del st.query_params[CERT_PARAM]


def _take_register_selection() -> None:
    """Open the certification of a newly selected register row, read at the start of the run
    (before anything is drawn, so the detail is drawn once, beside the table). The row indexes
    the ids of the rows the previous run sent; a selection seen before is not taken again, so
    closing the detail or clicking the map is not undone by a row that stays selected."""
    state = st.session_state.get("map_register")
    rows = list(state["selection"]["rows"]) if state is not None else []
    if rows == st.session_state.get("map_register_rows_taken", []):
        return
    st.session_state["map_register_rows_taken"] = rows
    ids = st.session_state.get("map_register_ids", [])
    if rows and rows[0] < len(ids):
        _pick_certification(ids[rows[0]], "register")


def _take_map_selection() -> None:
    """A clicked point opens its certification(s); a grouped cell says how many it holds; a
    clicked country lists the records behind its figures (below the country chart). Read at
    the start of the run, like the register's selection; a click seen before is not taken again."""
    state = st.session_state.get("map_deck")
    selected = (state["selection"]["objects"] or {}) if state is not None else {}
    picked_country = [*selected.get("countries", []), *selected.get("country-points", [])]
    facility_ids = [str(o.get("certification_ids") or o.get("n_facilities")) for o in selected.get("facilities", [])]
    seen = (tuple(_country_code(o) for o in picked_country), tuple(facility_ids))
    if seen == st.session_state.get("map_deck_taken"):
        return
    st.session_state["map_deck_taken"] = seen
    if picked_country:
        code = _country_code(picked_country[0])
        if code:
            st.session_state[COUNTRY_KEY] = code
        return
    objects = selected.get("facilities", [])
    if not objects:
        return
    picked = objects[0]
    if picked.get("is_cell"):
        st.session_state["map_cell"] = int(picked.get("n_facilities") or 0)
        st.session_state["map_point_certs"] = []
        return
    st.session_state["map_cell"] = 0
    ids = [c for c in str(picked.get("certification_ids") or "").split(";") if c]
    st.session_state["map_point_certs"] = ids
    st.session_state["map_point_name"] = picked.get("title") or "This facility"  # the facility's name
    if len(ids) == 1:
        _pick_certification(ids[0], "map")


def _country_code(picked: dict) -> str | None:
    """The country code of a clicked country: a choropleth feature carries it in its
    properties, a point for a country without an outline as a column."""
    properties = picked.get("properties") if isinstance(picked.get("properties"), dict) else picked
    code = properties.get("country")
    return str(code) if code else None


def _country_records(viewer: Viewer, filters: Filters, countries: pd.DataFrame, minimum: int) -> None:
    """The click-through from a country: the certifications its figures count, for the
    secretariat (all) and a member (its own); the public reads the public register instead."""
    if viewer.role is Role.PUBLIC:
        st.caption("The certifications behind a country are listed for the ASI Secretariat, and for a member "
                   "company for its own facilities. Everyone can read every certification in the register below.")
        return
    shown = countries.loc[countries["certified_facilities"].fillna(0) > 0]
    names = dict(zip(shown["country"], shown["country_name"], strict=True))
    figures = {row.country: row for row in shown.itertuples(index=False)}
    if st.session_state.get(COUNTRY_KEY) not in names:
        st.session_state[COUNTRY_KEY] = None
    country = st.selectbox(
        "Show the certifications behind a country", list(names), key=COUNTRY_KEY, index=None,
        format_func=lambda c: f"{names[c]} ({int(figures[c].certified_facilities):,} facilities)",
        placeholder="Click a country on the map or choose one",
        help="The certifications valid on the map's date that the country's figures count."
        + ("" if viewer.sees_everything else " As a member you see your own company's among them."),
    )
    if country is None:
        return
    row = figures[country]
    records = cache.cached(country_records, viewer, country, filters)
    counted = (f"{names[country]}: {int(row.certified_facilities):,} facilities with a valid certification, "
               f"{int(row.ps_certificates):,} valid PS and {int(row.coc_certificates):,} valid CoC certificates")
    if viewer.sees_everything:
        st.markdown(f"**{counted}.** These are the {len(records):,} certifications counted.")
    else:
        st.markdown(f"**{counted}.** Yours among them: {len(records):,} certifications at "
                    f"{records['facility_id'].nunique():,} facilities.")
    if records.empty:
        widgets.empty_state("None of your company's certifications is counted in this country.")
        return
    widgets.data_table(records[list(REGISTER_COLUMNS)], key="map_country_records", min_reporters=minimum,
                       titles=REGISTER_COLUMNS, download=f"certifications_{country}")


def _period_words(filters: Filters) -> str | None:
    """The filter bar's period as the register applies it, in words (None: no period set)."""
    if filters.period_from is None and filters.period_to is None:
        return None
    if filters.period_from and filters.period_to:
        return f"issued from {format_date(filters.period_from)} to {format_date(filters.period_to)}"
    if filters.period_from:
        return f"issued on or after {format_date(filters.period_from)}"
    return f"issued on or before {format_date(filters.period_to)}"


def _detail_panel(certification_id: str, viewer, filters, min_reporters: int, *, narrow: bool = False) -> None:
    """The certification's detail; `narrow` (beside the register) stacks its two halves."""
    detail = cache.cached(certification_detail, viewer, certification_id, filters)
    with st.container(border=True, key="map_detail"):
        if detail is None:
            widgets.empty_state(
                f"Certificate {certification_id} is not in the register.",
                hint="The link may be older than the data; pick a certification in the table.",
            )
            return
        cert = detail.certification
        st.markdown(f"## {cert['facility_name']} · {label(cert['standard'])}")
        status = label(cert["status"]) if cert.get("status") else "not yet issued on this date"
        st.markdown(
            f"**Certificate** {cert['certification_id']} · **Status** {status} · "
            f"**Type** {label(cert['certification_type'])} · **Version** {label(cert['standard_version'])}"
        )
        left, right = (st.container(), st.container()) if narrow else st.columns(2)
        with left:
            st.markdown(f"**Scope**  \n{cert['scope']}")
            activities = ", ".join(label(a) for a in cert.get("activities", [])) or "not recorded"
            st.markdown(f"**Activities**  \n{activities}")
            st.markdown(f"**Member**  \n{cert['member_name']} · {cert['country_name']}")
        with right:
            issued = pd.Timestamp(cert["issued_on"]).date()
            expires = pd.Timestamp(cert["expires_on"]).date()
            changed = cert.get("status_changed_on")
            dates = f"Issued {format_date(issued)} · expires {format_date(expires)}"
            if changed is not None and not pd.isna(changed):
                dates += f" · status changed {format_date(changed)}"
            st.markdown(f"**Dates**  \n{dates}")
            st.markdown(f"**Auditing firm**  \n{cert.get('auditing_firm_name') or cert.get('auditing_firm_id')}")
            external = ", ".join(cert.get("external_certifications") or []) or "none recorded"
            st.markdown(f"**External certifications leveraged**  \n{external}")
            if detail.workers is not None:
                st.markdown(f"**People working at the facility**  \n{detail.workers:,}")
        st.markdown("**Audit history**")
        if detail.audits.empty:
            st.caption("No audits recorded for this certification.")
        else:
            widgets.data_table(
                detail.audits,
                key=f"audits_{certification_id}",
                min_reporters=min_reporters,
                download=f"audits_{certification_id}",
            )
        if detail.is_owner_view and detail.findings_summary is not None and not detail.findings_summary.empty:
            st.markdown("**Findings by audit** (visible to the Secretariat and the certified member only)")
            widgets.data_table(
                detail.findings_summary,
                key=f"findings_{certification_id}",
                min_reporters=min_reporters,
                download=f"findings_{certification_id}",
            )
        st.button(
            "Close detail",
            key="map_detail_close",
            on_click=_pick_certification,
            args=(None,),
            icon=":material/close:",
            type="tertiary",
        )


def _page_state() -> tuple[object, ...]:
    """What the rest of the page, outside the map's fragment, is drawn from: the month (the
    register and the member's certifications) and the certification open (the detail beside
    the register, or under the map)."""
    return (st.session_state.get("map_month"), st.session_state.get("map_cert"),
            st.session_state.get("map_cert_from"))


@st.fragment
def _map_part(ctx: PageContext, growth: pd.DataFrame, months: list[date], version: str) -> date:
    """The map's controls and everything they change: the tiles, the map, its legend, the point
    or cell picked, the chart and records by country and the emissions section.

    Switching "Country totals" or "Smelter emissions", or hovering and zooming, reruns only this
    part. A change that the rest of the page reads (the month, which the register follows, or a
    certification opened from the map, which closes the one beside the register) reruns the
    whole page, so no figure on it is left from another month. Returns the month shown.
    `version` is the data version drawn into the map's PNG, read in the page run (the frame's
    page context is not there in a fragment run).
    """
    viewer, filters, minimum = ctx.viewer, ctx.filters, ctx.min_reporters
    full_run = bool(st.session_state.get("map_full_run"))
    if not full_run:
        _take_map_selection()  # a click on the map reruns only this fragment
    with st.container(key="controls_map_bar"):
        slider_col, toggle_col = st.columns([3, 2], vertical_alignment="bottom")
        with slider_col:
            month = st.select_slider(
                "Replay growth: map as of the end of",
                options=months,
                format_func=_month_label,
                key="map_month",
                help="Move the slider to see which facilities were certified at the end of each month.",
            )
        with toggle_col:
            show_countries = st.toggle(
                "Country totals",
                key="map_countries",
                value=True,
                help="Shades each country by its facilities with a valid certification, names the largest "
                "with their count, and adds a chart by country below the map.",
            )
            show_emissions = st.toggle(
                "Smelter emissions",
                key="map_emissions",
                value=False,
                help=f"Scope 1+2 GHG intensity against the {GHG_THRESHOLD_T_PER_T:g} t CO2e/t Al "
                "threshold of the Performance Standard.",
            )
            replay = st.button(
                "Replay growth",
                key="map_replay",
                icon=":material/play_arrow:",
                help="Animate the map month by month up to the selected month.",
            )
    if month != months[-1]:
        st.query_params[MONTH_PARAM] = month.isoformat()[:7]
    elif MONTH_PARAM in st.query_params:
        del st.query_params[MONTH_PARAM]

    if replay:
        st.session_state["map_replay_asked"] = True
    if full_run:
        st.session_state["map_page_state"] = _page_state()
    elif _page_state() != st.session_state.get("map_page_state") or replay:
        st.rerun(scope="app")
    replay = replay or bool(st.session_state.pop("map_replay_asked", False))

    map_filters = filters.replace(as_of=month)
    points = cache.cached(facility_points, viewer, map_filters, max_points=MAP_POINTS)
    limit = register_row_limit()
    sort_by, descending, page = _register_order()
    # The register's totals, for the tiles; the page itself is drawn with the register below.
    register = _register_page(viewer, map_filters, limit, sort_by=sort_by, descending=descending, page=page)
    if page > 1 and register.rows.empty:
        register = _register_page(viewer, map_filters, limit, sort_by=sort_by, descending=descending, page=1)
    countries = cache.cached(country_aggregates, viewer, map_filters)
    unplaced = cache.cached(facilities_without_coordinates, viewer, map_filters)
    emissions = cache.cached(smelter_emissions, viewer, map_filters) if show_emissions else None

    row = growth.loc[pd.to_datetime(growth["month_on"]).dt.date == month] if not growth.empty else growth
    period = _period_words(filters)
    tiles = st.columns(4)
    tiles[0].metric(
        "Facilities with a valid certification",
        f"{int(row['certified_facilities'].iloc[-1]):,}" if not row.empty else MISSING,
        border=True,
    )
    tiles[1].metric(
        "Certifications in the register",
        f"{register.total:,}",
        border=True,
        help="Every certification issued by this date, whatever its status now"
        + (f"; with the period set, those {period}." if period else "."),
    )
    tiles[2].metric(
        "Countries in the register",
        f"{register.countries:,}",
        border=True,
        help="Countries with any certified facility in the register by this date, including expired and "
        "withdrawn certifications" + (f" ({period})" if period else "") + ". The dashboard's “Countries with a "
        "valid certification” counts valid ones only.",
    )
    tiles[3].metric(
        "Certified facilities without coordinates",
        f"{unplaced.count:,}",
        border=True,
        help="Facilities in this register that are not on the map because their location is not recorded. The "
        "Data screen counts every facility without coordinates, certified or not.",
    )
    if unplaced.names:
        with st.expander(f"{unplaced.count} facilities are not on the map (no coordinates)"):
            st.write(", ".join(unplaced.names))

    is_grouped = bool(points["is_cell"].any()) if "is_cell" in points and not points.empty else False
    note = None
    if is_grouped:
        note = (
            f"Zoomed-out view: {int(points['n_facilities'].sum()):,} facilities are grouped into {len(points):,} "
            f"areas of {float(points['cell_deg'].max()):g}° so the map stays fast; each point says how many "
            "facilities it stands for."
        )

    # The emissions layer places the smelters the viewer may see (never the public's) at their
    # facility's coordinates, which only the full register holds.
    smelters = emissions.smelters if emissions is not None else None
    locations = (
        cache.cached(certification_register, viewer, map_filters)
        if show_emissions and smelters is not None and not smelters.empty
        else None
    )

    if replay:
        steps = months[: months.index(month) + 1]
        stride = max(1, len(steps) // REPLAY_MAX_FRAMES)
        frames = steps[::stride]
        st.session_state[REPLAY_KEY] = frames if frames[-1] == month else [*frames, month]
        st.session_state[REPLAY_TOTAL_KEY] = len(st.session_state[REPLAY_KEY])

    def draw() -> None:
        holder = st.empty()
        if st.session_state.get(REPLAY_KEY):
            with holder.container():
                _replay_growth(viewer, filters)
            return
        # Built once per view and shared by every session (2,920 markers at 100x take 150 ms).
        width_px = PHONE_MAP_PX if is_phone() else 820  # the whole world fits a phone's screen
        deck = cache.cached_view(
            "map-deck", (viewer, map_filters, show_countries, show_emissions, width_px),
            lambda: build_certification_deck(
                points, countries, smelters, locations, show_countries=show_countries, show_emissions=show_emissions,
                width_px=width_px,
            ),
        )
        with holder.container():
            st.pydeck_chart(
                deck,
                height=540,
                on_select="rerun",
                selection_mode="single-object",
                key="map_deck",
                alt=f"Map of {len(points):,} certified facility points at the end of {_month_label(month)}.",
            )
        st.markdown(
            legend_markdown(
                show_countries=show_countries,
                show_emissions=show_emissions,
                inline=True,
                country_breaks=choropleth_breaks(countries["certified_facilities"]),
            )
            + " &nbsp;·&nbsp; <span style='color:#555'>Hover a point for its name and status; click it to open "
            "its certification.</span>",
            unsafe_allow_html=True,
        )
        _map_image(countries, month, version)

    widgets.figure_card(
        f"Certified facilities, end of {_month_label(month)}",
        points,
        draw,
        key="map_points",
        source="ASI certification register (elementAl); coordinates as recorded by the certified entity.",
        min_reporters=minimum,
        titles=POINT_COLUMNS,
        columns=list(POINT_COLUMNS),
        note=note,
        empty_message=f"No certified facility matches the filters at the end of {_month_label(month)}.",
        empty_hint="Widen the filters or move the slider to a later month.",
    )

    if st.session_state.get("map_cell"):
        st.info(
            f"That point groups {st.session_state['map_cell']} facilities. Narrow the filters (country or "
            "activity) to see them one by one, or pick a certification in the register below.",
            icon=":material/zoom_in:",
        )
    point_certs = st.session_state.get("map_point_certs") or []
    if len(point_certs) > 1:
        st.radio(
            f"{st.session_state.get('map_point_name')} holds {len(point_certs)} certifications; open:",
            point_certs,
            horizontal=True,
            key="map_point_pick",
            index=None,
            on_change=lambda: _pick_certification(st.session_state.get("map_point_pick"), "map"),
        )

    if st.session_state.get("map_cert") and st.session_state.get("map_cert_from") == "map":
        _detail_panel(st.session_state["map_cert"], viewer, map_filters, minimum)

    if show_countries:
        widgets.chart_card(
            "Facilities with a valid certification, by country (chart: top 20)",
            countries[list(COUNTRY_COLUMNS)],
            lambda frame: ranked_bars(
                frame.head(20),
                category="country_name",
                value="certified_facilities",
                value_title="Facilities with a valid certification",
                height=420,
            ),
            key="map_countries_table",
            source="ASI certification register (elementAl).",
            definition="A facility counts when it holds a certified or provisional certification on the date.",
            min_reporters=minimum,
            titles=COUNTRY_COLUMNS,
        )
        _country_records(viewer, map_filters, countries, minimum)

    if emissions is not None:
        st.header("Smelter GHG intensity against the Performance Standard")
        if emissions.by_region.empty:
            widgets.empty_state(
                "No smelter emissions data for the selected filters and date.",
                hint="Emissions come from CRU and member reports; they exist only for primary production.",
            )
        else:
            widgets.figure_card(
                f"Median scope 1+2 intensity by region vs {GHG_THRESHOLD_T_PER_T:g} t CO2e/t Al",
                emissions.by_region,
                lambda: st.plotly_chart(build_emissions_by_region(emissions.by_region), key="map_emis_chart"),
                key="map_emissions_by_region",
                source="CRU and member reports; latest year on or before the map date.",
                min_reporters=minimum,
                titles=EMISSION_COLUMNS,
                columns=list(EMISSION_COLUMNS),
            )
            if viewer.role is not Role.PUBLIC and not emissions.smelters.empty:
                who = "all smelters" if viewer.sees_everything else "your smelters"
                st.markdown(f"**Per smelter ({who}; not published)**")
                widgets.data_table(
                    emissions.smelters,
                    key="map_smelters",
                    min_reporters=minimum,
                    download="smelter_emissions",
                    titles={"ghg_intensity_t_per_t": "t CO2e/t Al (scope 1+2)"},
                )
            elif viewer.role is Role.PUBLIC:
                st.caption(
                    "Per-smelter figures are not published; regions with fewer than "
                    f"{minimum} reporting companies are withheld."
                )

    return month


def main() -> None:
    ctx = page_context()
    viewer, filters, minimum = ctx.viewer, ctx.filters, ctx.min_reporters
    st.caption(
        "ASI-certified facilities by certification status and standard. Points are placed at the facility's "
        "recorded coordinates; land and borders are Natural Earth outlines shipped with the app, so the map "
        "works offline."
    )
    if not ctx.has_data or ctx.rows("certifications") == 0:
        widgets.empty_state(
            "There are no certifications in the loaded data, so there is nothing to map.",
            hint="Load certification exports from elementAl with `python -m asi_me ingest PATH`.",
        )
        return

    st.session_state.setdefault("map_cert", st.query_params.get(CERT_PARAM))
    _take_register_selection()
    _take_map_selection()
    growth = cache.cached(growth_replay, viewer, filters)
    months = [pd.Timestamp(m).date() for m in growth["month_on"]] if not growth.empty else [ctx.as_of]
    url_month = st.query_params.get(MONTH_PARAM)
    if "map_month" not in st.session_state:
        wanted = next((m for m in months if url_month and m.isoformat()[:7] == url_month[:7]), months[-1])
        st.session_state["map_month"] = wanted
    elif st.session_state["map_month"] not in months:
        st.session_state["map_month"] = months[-1]

    st.session_state["map_full_run"] = True
    try:
        month = _map_part(ctx, growth, months, widgets.image_version())
    finally:
        st.session_state["map_full_run"] = False
    map_filters = filters.replace(as_of=month)
    limit = register_row_limit()
    sort_by, descending, page = _register_order()
    register = _register_page(viewer, map_filters, limit, sort_by=sort_by, descending=descending, page=page)
    if page > 1 and register.rows.empty:  # the filters narrowed the register below this page
        page = 1
        st.session_state["map_page"] = 1
        register = _register_page(viewer, map_filters, limit, sort_by=sort_by, descending=descending, page=page)
    period = _period_words(filters)

    if viewer.role is Role.MEMBER:
        own = cache.cached(own_certifications, viewer, map_filters)
        st.header(f"Your certifications ({len(own)})")
        if own.empty:
            widgets.empty_state("None of your company's facilities holds a certification matching these filters.")
        else:
            st.caption(
                "Open one with the certificate number in the register below; its detail shows your "
                "audit findings and workforce, which the public does not see."
            )
            widgets.data_table(
                own[list(REGISTER_COLUMNS)],
                key="map_own",
                min_reporters=minimum,
                titles=REGISTER_COLUMNS,
                download="my_certifications",
            )

    st.header("Register")
    if period:
        st.caption(
            f"Period set in the filters: the register lists the certifications {period} (and by the end of "
            f"{_month_label(month)}), with their status then; the certificates that entered the “issued” count "
            "in the dashboard's “Why did it move?” over the same dates. The map above shows every certification "
            "on its date."
        )
    total = register.total
    pages = max(1, -(-total // limit))
    order = st.columns([3, 2, 2])
    order[0].selectbox(
        "Sort the whole register by", [None, *REGISTER_SORT_KEYS], key="map_sort",
        format_func=lambda c: "Register order (country, facility)" if c is None else REGISTER_COLUMNS[c],
        help="Sorted on the server over every row of the filtered register, not only the rows shown.",
    )
    order[1].toggle("Largest first", key="map_sort_desc", help="Descending order; empty values stay last.")
    if pages > 1:
        order[2].number_input("Page", min_value=1, max_value=pages, step=1, key="map_page",
                              help=f"{limit:,} rows a page.")
    st.caption("Select a row to open the certification's detail. Clicking a column heading sorts only the rows "
               "shown; “Sort the whole register by” sorts every row.")
    if total > limit:
        first = (page - 1) * limit + 1
        st.caption(
            f"Showing {first:,}–{min(first + limit - 1, total):,} of {total:,} certifications (page {page} of "
            f"{pages}); change the page, narrow the filters or download the full register (CSV)."
        )
    head = register.rows
    # Row clicks index into these ids, so they must follow the rows actually sent.
    st.session_state["map_register_ids"] = head["certification_id"].tolist()
    shown = display_frame(head[list(REGISTER_COLUMNS)], min_reporters=minimum, titles=REGISTER_COLUMNS)

    def register_table() -> None:
        st.dataframe(
            shown,
            hide_index=True,
            key="map_register",
            on_select="rerun",
            selection_mode="single-row",
            height=360,
        )

    picked = st.session_state.get("map_cert")
    if picked and st.session_state.get("map_cert_from") != "map":
        # the detail opens next to the row picked: beside the table on a wide screen, under it on a phone
        if is_phone():
            register_table()
            _detail_panel(picked, viewer, map_filters, minimum)
        else:
            table_col, detail_col = st.columns([3, 2], gap="small")
            with table_col:
                register_table()
            with detail_col:
                _detail_panel(picked, viewer, map_filters, minimum, narrow=True)
    else:
        register_table()
    with st.container(key="controls_map_register"):
        st.download_button(
            "Download the full register (CSV)" if total > limit else "Download CSV",
            full_register_csv(viewer, map_filters, minimum),
            file_name="certification_register.csv",
            mime="text/csv",
            key="dl_map_register",
            on_click="ignore",
            icon=":material/download:",
        )


# The register columns shown that can be sorted on the server, in the table's order.
REGISTER_SORT_KEYS = tuple(c for c in REGISTER_COLUMNS if c in REGISTER_SORT_COLUMNS)


def _register_order() -> tuple[str | None, bool, int]:
    """The register's sort column (None: register order), direction and page, from the
    controls' state (drawn below the map, read here first so only that page is queried)."""
    sort_by = st.session_state.get("map_sort")
    descending = bool(st.session_state.get("map_sort_desc", False))
    page = int(st.session_state.get("map_page") or 1)
    return (sort_by if sort_by in REGISTER_SORT_KEYS else None), descending, max(1, page)


def _register_page(
    viewer: Viewer, filters: Filters, limit: int, *, sort_by: str | None, descending: bool, page: int
) -> RegisterPage:
    """One page of the register: the head query in register order, else sorted and paged
    over every row on the server; only the page is sent."""
    if sort_by is None and not descending and page == 1:
        return cache.cached(certification_register_page, viewer, filters, limit=limit)
    return cache.cached(certification_register_sorted_page, viewer, filters, sort_by=sort_by or "country",
                        descending=descending, page=page, page_rows=limit)

def full_register_csv(viewer: Viewer, filters: Filters, minimum: int) -> Callable[[], bytes]:
    """A zero-argument builder of the whole filtered register as CSV, run only when someone clicks.

    The same display_frame as the table, over every row, so the file reads as the table does.
    """
    register = cache.deferred(certification_register, viewer, filters)

    def build() -> bytes:
        shown = display_frame(register()[list(REGISTER_COLUMNS)], min_reporters=minimum, titles=REGISTER_COLUMNS)
        return csv_bytes(shown)

    return build


main()
