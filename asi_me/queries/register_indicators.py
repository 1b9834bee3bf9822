"""Indicators the register itself answers: one answer for the dashboard, the ToC and the files.

Twelve operational M&E indicators count records the app holds (members, certificates,
countries, auditing firms, trainings, meetings, the share of PS certifications leveraging
external certifications). The dashboard tiles compute them; the indicator observations
ASI records hold them too. Two sources of one figure can disagree (a month recorded late,
a scaled or corrected register), and a reader who sees 476 members on the dashboard and
437 on the Theory of Change trusts neither. So the headline ("total") value of each of
these indicators is taken from the tile's own computation at the end of its period's
month, wherever the ToC, the data files and the data API serve it; the recorded value
stays in the snapshot and the secretariat's raw table. Their disaggregations (by region,
class, activity) are ASI's records and are served as recorded.
"""

from __future__ import annotations

import threading
import weakref
from datetime import date

import pandas as pd

from asi_me.data.store import Store
from asi_me.publish.indicators import base_code
from asi_me.queries.outcomes import tile_figures_on

# Indicator code -> (dashboard tile, "value" or "secondary").
REGISTER_INDICATORS: dict[str, tuple[str, str]] = {
    "OP-01": ("members", "value"),
    "OP-02": ("ps_certificates", "value"),
    "OP-03": ("coc_certificates", "value"),
    "OP-04": ("certified_countries", "value"),
    "OP-05": ("auditing_firms", "value"),
    "OP-06": ("auditing_firms", "secondary"),
    "OP-07": ("auditors_trained", "value"),
    "OP-08": ("members_stakeholders_trained", "value"),
    "OP-09": ("board_meetings", "value"),
    "OP-10": ("standards_committee_meetings", "value"),
    "OP-11": ("ipaf_meetings", "value"),
    "ST-01": ("ps_external_share", "value"),
}
TOTAL = "total"

_memo: weakref.WeakKeyDictionary[Store, dict[date, dict[str, float | None]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def is_register_indicator(code: str) -> bool:
    return base_code(code) in REGISTER_INDICATORS


def _month_end(on: date) -> date:
    return (pd.Timestamp(on) + pd.offsets.MonthEnd(0)).date()


def register_values(store: Store, periods: list[date]) -> dict[date, dict[str, float | None]]:
    """period -> base indicator code -> the tile's value at the end of the period's month
    (None where the tile has no value then, e.g. before it starts or after the data's date).
    Computed once per snapshot and period."""
    wanted = sorted(set(periods))
    with _lock:
        known = _memo.setdefault(store, {})
        missing = [p for p in wanted if p not in known]
    if missing:
        limit = store.data_as_of
        ends = {p: _month_end(p) for p in missing}
        dates = sorted({e for e in ends.values() if limit is None or e <= limit})
        figures = tile_figures_on(store, sorted(set(REGISTER_INDICATORS.values())), dates) if dates else {}
        found = {
            p: {code: figures.get(figure, {}).get(ends[p]) for code, figure in REGISTER_INDICATORS.items()}
            for p in missing
        }
        with _lock:
            known.update(found)
    with _lock:
        return {p: known[p] for p in wanted}


def with_register_totals(store: Store, frame: pd.DataFrame, *, code: str = "indicator_code",
                         period: str = "period_on", value: str = "value",
                         dimension: str | None = "dimension") -> pd.DataFrame:
    """`frame` (observation-like rows) with the headline value of every register indicator
    replaced by the register's answer for its period. Rows of other indicators, other
    dimensions, or periods the register has no value for keep their value."""
    if frame.empty:
        return frame
    codes = frame[code].astype(str).map(base_code)
    rows = codes.isin(REGISTER_INDICATORS) & frame[period].notna()
    if dimension is not None:
        rows &= frame[dimension] == TOTAL
    if not rows.any():
        return frame
    periods = [pd.Timestamp(p).date() for p in frame.loc[rows, period]]
    values = register_values(store, periods)
    out = frame.copy()
    replaced = [values[p][c] for p, c in zip(periods, codes[rows], strict=True)]
    current = out.loc[rows, value].tolist()
    out[value] = out[value].astype("float64") if out[value].dtype.kind in "iuf" else out[value]
    out.loc[rows, value] = [r if r is not None else c for r, c in zip(replaced, current, strict=True)]
    return out
