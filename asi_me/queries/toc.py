"""Theory-of-change queries: the graph, indicators per node with their on-track status,
indicator time series by disaggregation, and the evaluations and Stories of Change that
evidence each node. Indicators, observations, nodes and evidence are public tables."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from asi_me.data.store import Store
from asi_me.data.vocab import Dimension, Direction, EvaluationStatus, EvidenceKind, FindingBearing, label
from asi_me.filters import Filters, Viewer
from asi_me.publish.gate import protected_rows
from asi_me.publish.indicators import sensitivity
from asi_me.queries.certifications import filter_params, run_query
from asi_me.queries.register_indicators import is_register_indicator, with_register_totals

TrackStatus = Literal["on_track", "off_track", "no_target", "no_data"]
# Worst first: a node shows the worst status among its indicators.
TRACK_ORDER: tuple[TrackStatus, ...] = ("off_track", "no_data", "no_target", "on_track")
TRACK_LABELS: dict[str, str] = {
    "on_track": "On track",
    "off_track": "Off track",
    "no_target": "No target",
    "no_data": "No data",
}
MAINTAIN_TOLERANCE = 0.05  # a "maintain" indicator is on track within 5 % of its target
# Which filter list narrows the values of each disaggregation.
_DIMENSION_FILTER: dict[str, str] = {
    Dimension.REGION.value: "regions",
    Dimension.MEMBERSHIP_CLASS.value: "membership_classes",
    Dimension.ACTIVITY.value: "activities",
    Dimension.STANDARD.value: "standards",
}


class TocGraph(BaseModel):
    """Nodes (with layout level, indicator count and worst status) and edges."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    nodes: pd.DataFrame
    edges: pd.DataFrame

    def node(self, node_id: str | None) -> dict[str, Any] | None:
        """One node's row (label, type, impact area, description, ...) or None if it is not in the graph."""
        if not node_id:
            return None
        rows = self.nodes.loc[self.nodes["node_id"] == node_id]
        return None if rows.empty else rows.iloc[0].to_dict()

    @property
    def node_ids(self) -> list[str]:
        """Node ids in layout order (strategies first)."""
        return [str(n) for n in self.nodes["node_id"]]

    @property
    def labels(self) -> dict[str, str]:
        """node_id -> label."""
        return dict(zip(self.node_ids, self.nodes["label"].astype(str), strict=True))

    @property
    def node_types(self) -> dict[str, str]:
        """node_id -> node type code."""
        return dict(zip(self.node_ids, self.nodes["node_type"].astype(str), strict=True))

    @property
    def indicator_counts(self) -> dict[str, int]:
        """node_id -> number of indicators measuring it."""
        return dict(zip(self.node_ids, self.nodes["n_indicators"].astype(int), strict=True))

    @property
    def worst_statuses(self) -> dict[str, str]:
        """node_id -> worst status among its indicators, for nodes that have indicators."""
        return {n: s for n, s in zip(self.node_ids, self.nodes["worst_status"], strict=True) if isinstance(s, str)}


def expected_value(
    baseline_value: float | None,
    baseline_on: date | None,
    target_value: float,
    target_on: date | None,
    on: date,
) -> float:
    """Where the straight line from (baseline_on, baseline) to (target_on, target) is on `on`,
    held flat before the baseline and after the target date. Without a usable baseline or
    dates there is no line, and the target itself is expected."""
    if baseline_value is None or baseline_on is None or target_on is None or target_on <= baseline_on:
        return target_value
    progress = (on - baseline_on).days / (target_on - baseline_on).days
    progress = min(max(progress, 0.0), 1.0)
    return baseline_value + progress * (target_value - baseline_value)


def track_status(
    direction: str,
    baseline_value: float | None,
    baseline_on: date | None,
    target_value: float | None,
    target_on: date | None,
    *,
    latest_value: float | None,
    latest_on: date | None,
) -> TrackStatus:
    """On-track rule for one indicator at its latest period.

    - no_data: no headline value on or before the as-of date;
    - no_target: the indicator has no target value;
    - otherwise compare the latest value with the expected value on the latest period's
      date (see `expected_value`: the straight-line trajectory from baseline to target,
      clamped to the baseline before it starts and to the target once the target date
      has passed; the target itself when there is no baseline):
      direction "increase": on track when latest >= expected;
      direction "decrease": on track when latest <= expected;
      direction "maintain": on track when latest is within 5 % of the target
      (exactly equal when the target is 0);
      anything else is off_track.
    """
    if latest_value is None or pd.isna(latest_value) or latest_on is None:
        return "no_data"
    if target_value is None or pd.isna(target_value):
        return "no_target"
    if direction == Direction.MAINTAIN:
        return "on_track" if abs(latest_value - target_value) <= MAINTAIN_TOLERANCE * abs(target_value) else "off_track"
    baseline = None if baseline_value is None or pd.isna(baseline_value) else float(baseline_value)
    expected = expected_value(baseline, _date(baseline_on), float(target_value), _date(target_on), latest_on)
    if direction == Direction.DECREASE:
        return "on_track" if latest_value <= expected else "off_track"
    return "on_track" if latest_value >= expected else "off_track"


def _date(value: object) -> date | None:
    if value is None or (not isinstance(value, date) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def indicator_status(store: Store, viewer: Viewer, filters: Filters | None = None) -> pd.DataFrame:
    """Per indicator: definition, unit, level, data source, frequency, ISEAL CCI flag and
    area, baseline, target, the latest headline (total) value on or before the as-of date
    with its period, the value expected by the trajectory then, and the status
    (on_track / off_track / no_target / no_data, rule in `track_status`). Only the as-of
    date applies: headline values are not disaggregated."""
    params = filter_params(store, filters)
    frame = run_query(store, "toc_indicator_latest", params)
    # The indicators the register answers carry the dashboard's figure (one answer per question).
    frame = with_register_totals(store, frame, period="latest_period_on", value="latest_value", dimension=None)
    if not viewer.sees_everything:
        frame = _protected_latest(store, viewer, frame, params["as_of"])
    expected, statuses = _track(frame)
    frame["expected_value"] = pd.array(expected, dtype="Float64")
    frame["track_status"] = statuses
    frame["track_status_label"] = frame["track_status"].map(TRACK_LABELS)
    frame["level_label"] = frame["level"].map(
        {"1": "1 Members and certification data", "2": "2 Case studies, surveys, collaborations",
         "3": "3 Independent evaluations"}
    )
    return frame


def _protected_latest(store: Store, viewer: Viewer, frame: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Latest values of company-magnitude indicators from the gated series (asi_me.publish):
    the latest total on or before the as-of date, hidden where its cell is hidden, and no
    baseline (a past company magnitude) for them."""
    gated = protected_rows(store, viewer, "indicator_observations")
    # Each indicator's last total on or before the date, in the gated rows' order: the rows are
    # filtered once, not once per indicator (500 indicators over 9 M rows took 13 s at 100x).
    totals = gated[(gated["dimension"] == "total") & (pd.to_datetime(gated["period_on"]) <= pd.Timestamp(as_of))]
    latest = totals.groupby("indicator_code", sort=False, observed=True).tail(1).set_index("indicator_code")
    out = frame.copy()
    # column-wise: a row at a time cost 0.4 s for 3,400 indicators at 100x
    protected = np.fromiter((sensitivity(code, unit) != "programme"
                             for code, unit in zip(out["indicator_code"], out["unit"], strict=True)),
                            dtype=bool, count=len(out))
    if not protected.any():
        return out
    last = latest.reindex(out.loc[protected, "indicator_code"].to_numpy())
    has = last["period_on"].notna().to_numpy()
    shown_status = [(note if isinstance(note, str) and note else status) if found else None
                    for note, status, found in zip(last["suppression_note"], last["status"], has, strict=True)]
    out.loc[protected, "baseline_value"] = np.nan
    out.loc[protected, "latest_period_on"] = pd.to_datetime(last["period_on"]).to_numpy()
    out.loc[protected, "latest_value"] = pd.to_numeric(last["value"]).to_numpy(dtype="float64", na_value=np.nan)
    out.loc[protected, "latest_status"] = shown_status
    return out


def _days(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    """Whole days from `earlier` to `later` (dates), as floats; NaN where either is missing."""
    return ((pd.to_datetime(later) - pd.to_datetime(earlier)) / pd.Timedelta(days=1)).to_numpy(dtype="float64")


def _track(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The expected value (NaN where there is no line) and the status of every row of
    toc_indicator_latest: `expected_value` and `track_status` applied column-wise, with the
    same arithmetic in the same order, so the figures are those of the one-row functions."""
    latest = frame["latest_value"].to_numpy(dtype="float64", na_value=np.nan)
    target = frame["target_value"].to_numpy(dtype="float64", na_value=np.nan)
    baseline = frame["baseline_value"].to_numpy(dtype="float64", na_value=np.nan)
    direction = frame["direction"].astype(str).to_numpy()
    has_on = frame["latest_period_on"].notna().to_numpy()
    # A straight line from the baseline to the target needs both dates, in that order.
    span = _days(frame["target_on"], frame["baseline_on"])
    has_line = ~np.isnan(baseline) & (span > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        progress = np.clip(_days(frame["latest_period_on"], frame["baseline_on"]) / span, 0.0, 1.0)
        on_line = np.where(has_line, baseline + progress * (target - baseline), target)
    maintain = direction == Direction.MAINTAIN.value
    with np.errstate(invalid="ignore"):
        on_track = np.where(
            maintain,
            np.abs(latest - target) <= MAINTAIN_TOLERANCE * np.abs(target),
            np.where(direction == Direction.DECREASE.value, latest <= on_line, latest >= on_line),
        )
    statuses = np.where(on_track, "on_track", "off_track").astype(object)
    statuses[np.isnan(target)] = "no_target"
    statuses[np.isnan(latest) | ~has_on] = "no_data"
    expected = np.where(has_on & ~np.isnan(target) & ~maintain, on_line, np.nan)
    return expected, statuses


def toc_graph(store: Store, viewer: Viewer, filters: Filters | None = None) -> TocGraph:
    """The Theory of Change: nodes with type (and label), impact area, level order for layout
    (0 strategy .. 4 long-term impact), number of indicators and the worst status among them
    (None for a node without indicators), and the edges between nodes."""
    nodes = run_query(store, "toc_nodes", {})
    edges = run_query(store, "toc_edges", {})
    indicators = indicator_status(store, viewer, filters)
    rank = {status: i for i, status in enumerate(TRACK_ORDER)}
    per_node = indicators.assign(rank=indicators["track_status"].map(rank)).groupby("toc_node_id").agg(
        n_indicators=("indicator_code", "size"), worst_rank=("rank", "min")
    )
    nodes["node_type_label"] = nodes["node_type"].map(label)
    nodes["n_indicators"] = nodes["node_id"].map(per_node["n_indicators"]).fillna(0).astype("int64")
    nodes["worst_status"] = nodes["node_id"].map(per_node["worst_rank"]).map(
        lambda r: None if pd.isna(r) else TRACK_ORDER[int(r)]
    )
    nodes["worst_status_label"] = nodes["worst_status"].map(TRACK_LABELS).astype("string")
    return TocGraph(nodes=nodes, edges=edges)


def node_indicators(store: Store, viewer: Viewer, node_id: str, filters: Filters | None = None) -> pd.DataFrame:
    """The indicators measuring one node, with their status (see `indicator_status`)."""
    frame = indicator_status(store, viewer, filters)
    return frame[frame["toc_node_id"] == node_id].reset_index(drop=True)


def indicator_series(
    store: Store,
    viewer: Viewer,
    indicator_code: str,
    dimension: str = Dimension.TOTAL.value,
    filters: Filters | None = None,
) -> pd.DataFrame:
    """One indicator's values over time for one disaggregation (allow-listed: the Dimension
    vocabulary), from the period start to the as-of date. The region, membership-class,
    activity and standard filters narrow the matching disaggregation's values. For everyone
    but the secretariat a company-magnitude indicator comes through the disclosure gate
    (hidden values are NaN with a suppression_note; uncovered disaggregations are empty)."""
    allowed = [d.value for d in Dimension]
    if dimension not in allowed:
        raise ValueError(f"Cannot break indicator {indicator_code} down by {dimension!r}; use one of "
                         f"{', '.join(allowed)}.")
    params = filter_params(store, filters)
    narrowing = params[_DIMENSION_FILTER[dimension]] if dimension in _DIMENSION_FILTER else []
    if not viewer.sees_everything and sensitivity(indicator_code, _unit(store, indicator_code)) != "programme":
        # A company magnitude: its values come from the protected cells, never the stored series.
        gated = protected_rows(store, viewer, "indicator_observations")
        on = pd.to_datetime(gated["period_on"])
        keep = (gated["indicator_code"] == indicator_code) & (gated["dimension"] == dimension)
        keep &= on <= pd.Timestamp(params["as_of"])
        if params["period_from"]:
            keep &= on >= pd.Timestamp(params["period_from"])
        if len(narrowing):
            keep &= gated["dimension_value"].isin(list(narrowing))
        frame = gated.loc[keep, ["period_on", "dimension", "dimension_value", "value", "status",
                                 "suppression_note"]].reset_index(drop=True)
        frame["period_on"] = pd.to_datetime(frame["period_on"])
        frame["dimension_value_label"] = frame["dimension_value"].map(label)
        return frame
    frame = run_query(store, "toc_indicator_series", {**params, "indicator_code": indicator_code,
                                                      "dimension": dimension, "dimension_values": narrowing})
    if dimension == Dimension.TOTAL.value and is_register_indicator(indicator_code):
        frame = with_register_totals(store, frame.assign(indicator_code=indicator_code)).drop(
            columns="indicator_code")
    frame["dimension_value_label"] = frame["dimension_value"].map(label)
    return frame


def _unit(store: Store, indicator_code: str) -> str | None:
    found = store.query("select unit from indicators where indicator_code = $code", {"code": indicator_code})
    return None if found.empty else str(found.iloc[0, 0])


class EvidenceCounts(BaseModel):
    """How many evaluations there are by status, and how many Stories of Change."""

    model_config = ConfigDict(frozen=True)

    evaluations_completed: int = 0
    evaluations_ongoing: int = 0
    evaluations_planned: int = 0
    stories_of_change: int = 0

    @property
    def total(self) -> int:
        """Every evaluation and Story of Change."""
        return self.evaluations_completed + self.evaluations_ongoing + self.evaluations_planned + self.stories_of_change


def indicator_evidence(
    store: Store, viewer: Viewer, indicator_code: str | None = None, node_id: str | None = None
) -> pd.DataFrame:
    """Evaluations and Stories of Change linked to a node: the given node, or the node the
    given indicator measures. Empty when neither is known."""
    nodes: list[str] = []
    if node_id:
        nodes.append(node_id)
    if indicator_code:
        nodes += run_query(store, "toc_indicator_node", {"indicator_code": indicator_code})["toc_node_id"].tolist()
    if not nodes:
        return evidence_list(store, viewer).head(0)
    return _evidence(store, nodes, None, None)


def evidence_list(
    store: Store,
    viewer: Viewer,
    kind: str | None = None,
    status: str | None = None,
    node_id: str | None = None,
) -> pd.DataFrame:
    """Evaluations (planned / ongoing / completed) and Stories of Change for the evaluations
    page, newest first, optionally of one kind and one status (allow-listed) and only those
    evidencing one ToC node. Each row carries kind and status labels, the names of the nodes
    it evidences (`toc_node_labels`) and those names joined with "; " (`outcomes`)."""
    del viewer
    if kind is not None and kind not in {k.value for k in EvidenceKind}:
        raise ValueError(f"Evidence kind {kind!r} is unknown; use evaluation or story_of_change.")
    if status is not None and status not in {s.value for s in EvaluationStatus}:
        raise ValueError(f"Evaluation status {status!r} is unknown; use planned, ongoing or completed.")
    return _evidence(store, [node_id] if node_id else [], kind, status)


def evidence_by_outcome(store: Store, viewer: Viewer) -> pd.DataFrame:
    """The ToC nodes some evaluation or Story of Change evidences, by name: node_id, label,
    node_type, evaluations, stories_of_change and items (each item once per node it names)."""
    del viewer
    return run_query(store, "toc_evidence_by_outcome", {})


def evidence_counts(store: Store, viewer: Viewer) -> EvidenceCounts:
    """Evaluations completed, ongoing and planned, and Stories of Change, over all evidence."""
    frame = evidence_list(store, viewer)
    evaluations = frame.loc[frame["kind"] == EvidenceKind.EVALUATION.value, "status"].value_counts()
    return EvidenceCounts(
        evaluations_completed=int(evaluations.get(EvaluationStatus.COMPLETED.value, 0)),
        evaluations_ongoing=int(evaluations.get(EvaluationStatus.ONGOING.value, 0)),
        evaluations_planned=int(evaluations.get(EvaluationStatus.PLANNED.value, 0)),
        stories_of_change=int((frame["kind"] == EvidenceKind.STORY_OF_CHANGE.value).sum()),
    )


def evidence_findings(
    store: Store, viewer: Viewer, node_id: str | None = None, bearing: str | None = None
) -> pd.DataFrame:
    """What evaluations and Stories of Change found about the Theory of Change, newest evidence
    first: each finding with its evidence (title, kind, status, completion), the node and, where
    one measures it, the indicator it bears on, and whether it confirms or questions them
    (`bearing`, allow-listed; `bearing_label` in words); optionally only those on one node."""
    del viewer
    if bearing is not None and bearing not in {b.value for b in FindingBearing}:
        raise ValueError(f"Finding bearing {bearing!r} is unknown; use confirms or questions.")
    frame = run_query(store, "toc_evidence_findings", {"node_id": node_id, "bearing": bearing})
    frame["bearing_label"] = frame["bearing"].map(label).astype("string")
    frame["toc_node_type_label"] = frame["toc_node_type"].map(label).astype("string")
    return frame


def toc_assumptions(store: Store, viewer: Viewer, node_id: str | None = None) -> pd.DataFrame:
    """The assumptions the Theory of Change rests on, questioned ones first, each with the node
    it supports, its status (`status_label` in words) and the evidence that tested it."""
    del viewer
    frame = run_query(store, "toc_assumptions", {"node_id": node_id})
    frame["status_label"] = frame["status"].map(label).astype("string")
    return frame


def _evidence(store: Store, nodes: list[str], kind: str | None, status: str | None) -> pd.DataFrame:
    frame = run_query(store, "toc_evidence", {"node_ids": nodes, "kind": kind, "status": status})
    names = run_query(store, "toc_nodes", {}).set_index("node_id")["label"].to_dict()
    frame["kind_label"] = frame["kind"].map(label)
    frame["status_label"] = frame["status"].map(label)
    # An evidence row may name a node the ToC does not hold (yet); show its id then.
    frame["toc_node_labels"] = frame["toc_node_ids"].map(
        lambda ids: [str(names.get(n, n)) for n in (ids if ids is not None else [])]
    )
    frame["outcomes"] = frame["toc_node_labels"].map("; ".join).astype("string")
    return frame


QUERY_FUNCTIONS = [
    toc_graph,
    node_indicators,
    indicator_status,
    indicator_series,
    indicator_evidence,
    evidence_list,
    evidence_by_outcome,
    evidence_counts,
    evidence_findings,
    toc_assumptions,
]
