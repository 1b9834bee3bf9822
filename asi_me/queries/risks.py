"""The risk register (ASI's Risk Assessment and Management Plan): the latest revision of each
risk, the likelihood x consequence matrix, and how each risk's rating moved across revisions.

The secretariat gets every risk. Any other viewer gets only risks marked public (is_public on
the latest revision, and on each earlier revision shown); the screen itself is the
secretariat's, and the table is never in a public download (TableSpec.is_public is False).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from asi_me.data.store import Store
from asi_me.data.vocab import RiskCategory, RiskSeverity, label, severity_of
from asi_me.filters import Viewer
from asi_me.queries.certifications import run_query


def _params(
    viewer: Viewer, categories: Sequence[str] | None, severities: Sequence[str] | None
) -> dict[str, object]:
    # Closed vocabularies only: an unknown code would silently match nothing.
    cats = [RiskCategory(c).value for c in categories] if categories else None
    sevs = [RiskSeverity(s).value for s in severities] if severities else None
    return {"public_only": not viewer.sees_everything, "categories": cats, "severities": sevs}


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    frame["category_label"] = frame["category"].map(label).astype("string")
    frame["severity_label"] = frame["severity"].map(label).astype("string")
    return frame


def risk_history(
    store: Store, viewer: Viewer, categories: Sequence[str] | None = None, severities: Sequence[str] | None = None
) -> pd.DataFrame:
    """Every revision of every risk the viewer may see (one row per risk and revision, oldest
    first), with its rating (likelihood x consequence), severity and whether it is the latest;
    `categories` / `severities` pick risks by their latest revision."""
    frame = run_query(store, "risks_revisions", _params(viewer, categories, severities))
    return _labelled(frame)


def risk_register(
    store: Store,
    viewer: Viewer,
    categories: Sequence[str] | None = None,
    severities: Sequence[str] | None = None,
    on: date | None = None,
) -> pd.DataFrame:
    """The latest revision of each risk, worst rating first, with its controls, owner, review date,
    whether that review is overdue on `on` (today when not given), and the rating at its
    previous revision (`previous_rating`; empty for a risk rated once) and the change since."""
    history = risk_history(store, viewer, categories, severities)
    previous = (
        history[~history["is_latest"]].sort_values(["risk_id", "revision"]).groupby("risk_id").tail(1)
        .set_index("risk_id")
    )
    latest = history[history["is_latest"]].copy()
    latest["revisions"] = latest["risk_id"].map(history.groupby("risk_id").size()).astype("int64")
    latest["previous_rating"] = latest["risk_id"].map(previous["rating"]).astype("Int64")
    latest["rating_change"] = (latest["rating"].astype("Int64") - latest["previous_rating"]).astype("Int64")
    day = pd.Timestamp(on or date.today())
    latest["is_review_overdue"] = pd.to_datetime(latest["review_on"]) < day
    latest = latest.sort_values(["rating", "likelihood", "risk_id"], ascending=[False, False, True])
    return latest.drop(columns=["is_latest"]).reset_index(drop=True)


def risk_matrix(
    store: Store, viewer: Viewer, categories: Sequence[str] | None = None, severities: Sequence[str] | None = None
) -> pd.DataFrame:
    """The 5 x 5 likelihood x consequence matrix of the latest revisions: all 25 cells, each with
    its rating, severity band, number of risks and their ids."""
    frame = run_query(store, "risks_matrix", _params(viewer, categories, severities))

    frame["severity"] = [severity_of(lk, cq).value for lk, cq in zip(frame["likelihood"], frame["consequence"],
                                                                       strict=True)]
    frame["severity_label"] = frame["severity"].map(label).astype("string")
    frame["risk_ids"] = frame["risk_ids"].map(lambda ids: ", ".join(list(ids)) if ids is not None else "")
    return frame


QUERY_FUNCTIONS = [risk_register, risk_matrix, risk_history]
