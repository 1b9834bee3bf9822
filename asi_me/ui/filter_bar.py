"""The global filter bar, bound to the URL both ways.

On a session's first run the URL's filter parameters seed the widgets (through
`Filters.from_query_params`, one parameter at a time so one bad value does not
discard the others). Every run then writes the widgets' values back to the URL with
`Filters.to_query_params`, so a copied link or a reload reproduces the view, and the
values persist across pages because the widgets live in the frame (app.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from asi_me.data.vocab import (
    Activity,
    CertificationStatus,
    MembershipClass,
    Region,
    Standard,
    StandardVersion,
    countries,
    country_name,
    label,
)
from asi_me.filters import FilterError, Filters
from asi_me.publish.numbers import format_day
from asi_me.ui import state

# URL parameter -> (session-state key of the widget, Filters field)
FIELDS: dict[str, tuple[str, str]] = {
    "as_of": ("flt_as_of", "as_of"),
    "from": ("flt_from", "period_from"),
    "to": ("flt_to", "period_to"),
    "region": ("flt_region", "regions"),
    "country": ("flt_country", "countries"),
    "activity": ("flt_activity", "activities"),
    "standard": ("flt_standard", "standards"),
    "version": ("flt_version", "versions"),
    "class": ("flt_class", "membership_classes"),
    "status": ("flt_status", "statuses"),
}
_DATES = {"as_of", "from", "to"}
_INIT = "flt_initialised"
_WARNINGS = "flt_warnings"
EARLIEST = date(2012, 1, 1)  # ASI was founded in 2012; nothing to show before
EARLIEST_DATA = date(2015, 1, 1)  # the first records (members, IPAF meetings) are from 2015


def _default(param: str) -> Any:
    return None if param in _DATES else []


def parse_url(params: Any) -> tuple[Filters, list[str]]:
    """Filters from URL parameters, dropping (and explaining) each bad value instead of failing."""
    kept: dict[str, list[str]] = {}
    warnings: list[str] = []
    for param in FIELDS:
        if param not in params:
            continue
        raw = params.get_all(param) if hasattr(params, "get_all") else params.get(param)
        items = [raw] if isinstance(raw, str) else list(raw or [])
        values = [v for item in items for v in str(item).split(",") if v.strip()]
        good: list[str] = []
        for value in values[-1:] if param in _DATES else values:
            try:
                Filters.from_query_params({param: [value]})
                good.append(value)
            except FilterError as exc:
                warnings.append(f"Ignored URL parameter {param}={value!r}: {exc} Showing the default instead.")
        if good:
            kept[param] = good
    try:
        return Filters.from_query_params(kept), warnings
    except FilterError as exc:
        kept.pop("to", None)
        warnings.append(f"Ignored URL parameter 'to': {exc}")
        return Filters.from_query_params(kept), warnings


def cap_as_of(as_of: date | None, data_as_of: date | None) -> tuple[date | None, str | None]:
    """An as-of date inside the data's time span, and a warning when it had to be moved.

    A date after the data's "data as of" stamp would show figures that simply have not
    been recorded yet (e.g. 0 valid certificates in 2099) as if they were real, so it is
    capped to the stamp; a date before the first records is raised to EARLIEST_DATA.
    """
    if as_of is None:
        return None, None
    if data_as_of is not None and as_of > data_as_of:
        return data_as_of, (
            f"as_of={as_of.isoformat()} is after the latest data ({_day(data_as_of)}); "
            f"showing {_day(data_as_of)}."
        )
    if as_of < EARLIEST_DATA:
        return EARLIEST_DATA, (
            f"as_of={as_of.isoformat()} is before the earliest data ({_day(EARLIEST_DATA)}); "
            f"showing {_day(EARLIEST_DATA)}."
        )
    return as_of, None


def _day(on: date) -> str:
    return format_day(on)


def init_from_url(data_as_of: date | None = None) -> None:
    """Seed the filter widgets from the URL, once per session; an as-of outside the data is capped."""
    if st.session_state.get(_INIT):
        return
    filters, warnings = parse_url(st.query_params)
    capped, warning = cap_as_of(filters.as_of, data_as_of)
    if warning:
        filters = filters.replace(as_of=capped)
        warnings.append(warning)
    for key, name in FIELDS.values():
        value = getattr(filters, name)
        st.session_state.setdefault(key, list(value) if isinstance(value, tuple) else value)
    st.session_state[_WARNINGS] = warnings
    st.session_state[_INIT] = True


def reset_filters() -> None:
    """Callback of every "Reset filters" button: all filters back to their defaults."""
    for param, (key, _) in FIELDS.items():
        state.put(key, _default(param))
    st.session_state[_WARNINGS] = []


def _changed(key: str) -> None:
    state.changed(key)
    st.session_state[_WARNINGS] = []


def url_warnings() -> list[str]:
    return list(st.session_state.get(_WARNINGS, []))


def current_filters() -> Filters:
    """Filters from the widgets' session state (valid by construction, but re-checked)."""
    kwargs: dict[str, Any] = {}
    for key, name in FIELDS.values():
        value = st.session_state.get(key)
        kwargs[name] = tuple(value) if isinstance(value, list) else value
    try:
        return Filters(**kwargs)
    except FilterError as exc:
        st.session_state[_WARNINGS] = [*url_warnings(), f"{exc} The end date is ignored."]
        kwargs["period_to"] = None
        return Filters(**kwargs)


def render(data_as_of: date | None, container: Any = None) -> Filters:
    """Draw the filter bar in the sidebar (or `container`: the board deck's popover) and return
    the selected Filters."""
    init_from_url(data_as_of)
    keys = [key for key, _ in FIELDS.values()]
    state.restore(keys)
    picked = [v for v in (st.session_state.get("flt_as_of"), st.session_state.get("flt_to")) if v]
    # the as-of picker ends at the data's stamp (a later date has nothing recorded yet)
    chosen = st.session_state.get("flt_as_of")
    latest_as_of = max([data_as_of or date.today(), *([chosen] if chosen else [])])
    latest = max([date.today(), data_as_of or date.today(), *picked])
    side = st.sidebar if container is None else container
    side.markdown("### Filters")
    side.date_input(
        "As of",
        key="flt_as_of",
        min_value=EARLIEST_DATA,
        max_value=latest_as_of,
        on_change=_changed,
        args=("flt_as_of",),
        format="YYYY-MM-DD",
        help="Figures are counted on this date. Empty means the latest data.",
    )
    left, right = side.columns(2)
    left.date_input(
        "Series from",
        key="flt_from",
        min_value=EARLIEST,
        max_value=latest,
        on_change=_changed,
        args=("flt_from",),
        format="YYYY-MM-DD",
        help="Start of charts over time. Empty means the beginning.",
    )
    right.date_input(
        "Series to",
        key="flt_to",
        min_value=EARLIEST,
        max_value=latest,
        on_change=_changed,
        args=("flt_to",),
        format="YYYY-MM-DD",
        help="End of charts over time. Empty means the as-of date.",
    )
    side.multiselect(
        "Region",
        [r.value for r in Region],
        key="flt_region",
        format_func=label,
        on_change=_changed,
        args=("flt_region",),
        placeholder="All regions",
    )
    regions = set(st.session_state.get("flt_region") or [])
    selected_countries = list(st.session_state.get("flt_country") or [])
    options = [c for c, (_, region) in countries().items() if not regions or region in regions]
    options = sorted(set(options) | set(selected_countries), key=country_name)
    side.multiselect(
        "Country",
        options,
        key="flt_country",
        format_func=country_name,
        on_change=_changed,
        args=("flt_country",),
        placeholder="All countries",
    )
    side.multiselect(
        "Supply-chain activity",
        [a.value for a in Activity],
        key="flt_activity",
        format_func=label,
        on_change=_changed,
        args=("flt_activity",),
        placeholder="All activities",
    )
    side.multiselect(
        "Standard",
        [s.value for s in Standard],
        key="flt_standard",
        format_func=label,
        on_change=_changed,
        args=("flt_standard",),
        placeholder="PS and CoC",
    )
    standards = set(st.session_state.get("flt_standard") or [])
    selected_versions = list(st.session_state.get("flt_version") or [])
    versions = [v.value for v in StandardVersion if not standards or v.value.split("-")[0] in standards]
    versions += [v for v in selected_versions if v not in versions]
    side.multiselect(
        "Standard version",
        versions,
        key="flt_version",
        format_func=label,
        on_change=_changed,
        args=("flt_version",),
        placeholder="All versions",
    )
    side.multiselect(
        "Membership class",
        [m.value for m in MembershipClass],
        key="flt_class",
        format_func=label,
        on_change=_changed,
        args=("flt_class",),
        placeholder="All classes",
    )
    side.multiselect(
        "Certification status",
        [s.value for s in CertificationStatus],
        key="flt_status",
        format_func=label,
        on_change=_changed,
        args=("flt_status",),
        placeholder="All statuses",
    )
    side.button("Reset filters", on_click=reset_filters, key="flt_reset_sidebar", icon=":material/restart_alt:")
    state.remember(keys)
    filters = current_filters()
    sync_url(filters)
    return filters


def sync_url(filters: Filters) -> None:
    """Write the filters to the URL, touching only filter parameters that changed."""
    wanted = filters.to_query_params()
    for param in FIELDS:
        if param in wanted:
            value = wanted[param]
            values = [value] if isinstance(value, str) else list(value)
            if st.query_params.get_all(param) != values:
                st.query_params[param] = values if len(values) > 1 else values[0]
        elif param in st.query_params:
            del st.query_params[param]


def describe(filters: Filters) -> list[str]:
    """Active filters as short phrases, for chips, captions and the presentation footer."""
    out: list[str] = []
    if filters.as_of:
        out.append(f"As of {format_day(filters.as_of)}")
    if filters.period_from or filters.period_to:
        out.append(f"Series {format_day(filters.period_from) if filters.period_from else '…'} to "
                   f"{format_day(filters.period_to) if filters.period_to else '…'}")
    named = [
        ("Region", filters.regions, label),
        ("Country", filters.countries, country_name),
        ("Activity", filters.activities, label),
        ("Standard", filters.standards, label),
        ("Version", filters.versions, label),
        ("Class", filters.membership_classes, label),
        ("Status", filters.statuses, label),
    ]
    for title, values, fmt in named:
        if values:
            out.append(f"{title}: {', '.join(fmt(v) for v in values)}")
    return out
