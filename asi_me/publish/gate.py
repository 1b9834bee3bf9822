"""The disclosure gate: what of a stored table a viewer other than the secretariat is served.

Tables that hold no company magnitude (the Theory of Change, indicators' metadata,
governance meetings, auditing firms, evidence, IAI's global totals) are served as stored.
A table that does hold one is never served as stored to anyone but the secretariat:
`gated_table` rebuilds it from the protected cells (today the indicator observations,
see asi_me.publish.indicators). Every download route (a table's CSV, the zip, the
workbook, the data API) asks `is_gated` before it streams a table from the snapshot.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

import pandas as pd

from asi_me.filters import Viewer
from asi_me.policy import DisclosurePolicy
from asi_me.publish import indicators
from asi_me.store import Store


def _indicator_observations(store: Store, viewer: Viewer, policy: DisclosurePolicy) -> pd.DataFrame:
    observations = store.query("select * from indicator_observations order by indicator_code, period_on, "
                               "dimension, dimension_value")
    units = dict(store.query("select indicator_code, unit from indicators").itertuples(index=False, name=None))
    return indicators.observations_for(store, viewer, observations, units, policy)


# Tables that carry company magnitudes, and how a non-secretariat viewer gets them.
GATED_TABLES: dict[str, Callable[[Store, Viewer, DisclosurePolicy], pd.DataFrame]] = {
    "indicator_observations": _indicator_observations,
}

_memo: weakref.WeakKeyDictionary[Store, dict[tuple[str, DisclosurePolicy], pd.DataFrame]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def is_gated(viewer: Viewer, name: str) -> bool:
    """Whether `name` must be rebuilt through the gate for this viewer."""
    return name in GATED_TABLES and not viewer.sees_everything


def gated_table(store: Store, viewer: Viewer, name: str, policy: DisclosurePolicy | None = None) -> pd.DataFrame:
    """Table `name` as a non-secretariat viewer may have it (the same for the public and
    every member: it holds published aggregates only). Built once per snapshot and policy."""
    policy = policy or DisclosurePolicy.from_settings()
    with _lock:
        known = _memo.setdefault(store, {})
        if (name, policy) in known:
            return known[(name, policy)]
    frame = GATED_TABLES[name](store, Viewer.public(), policy)
    with _lock:
        known[(name, policy)] = frame
    return frame
