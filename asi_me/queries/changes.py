"""Why did a tile move? The change of the members and certificate tiles between two dates,
broken down into what entered and what left, and the records behind each part.

The breakdown reads the very rows the dashboard tile counts (queries/outcomes_member_spells.sql,
queries/outcomes_certificate_segments.sql, through `outcomes.tile_query_rows`) with the same
rule (a row counts on a date when start <= date < end), so the records counted on the start
date plus those that entered minus those that left are exactly the records counted on the end
date, and both counts equal the tile's. The counts are programme figures (how many
certificates or members, never a company's volumes), published like the tiles; the records
behind them go to the secretariat, and to a member for its own company only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict

from asi_me.data.store import Store
from asi_me.data.vocab import Role, country_name, label
from asi_me.filters import Filters, Viewer
from asi_me.publish.numbers import format_day
from asi_me.queries import outcomes
from asi_me.queries.certifications import ensure_macros, run_arrow_query

Subject = Literal["members", "ps_certificates", "coc_certificates"]
Figure = Literal["value", "secondary"]
Direction = Literal["entered", "left"]

SUBJECTS: dict[str, str] = {
    "ps_certificates": "PS certificates",
    "coc_certificates": "CoC certificates",
    "members": "Members",
}
# What each subject's figures are called, and how they can be broken down (allow-lists).
FIGURE_LABELS: dict[tuple[str, str], str] = {
    ("ps_certificates", "value"): "PS certificates issued (cumulative)",
    ("ps_certificates", "secondary"): "PS certificates valid on the date",
    ("coc_certificates", "value"): "CoC certificates issued (cumulative)",
    ("coc_certificates", "secondary"): "CoC certificates valid on the date",
    ("members", "value"): "Members",
}
GROUP_BY: dict[str, tuple[str, ...]] = {
    "ps_certificates": ("country", "region", "activity", "standard_version", "membership_class"),
    "coc_certificates": ("country", "region", "activity", "standard_version", "membership_class"),
    "members": ("country", "region", "membership_class"),
}
_CERTIFICATE_FIGURES = {("ps_certificates", "value"): "ps_issued", ("ps_certificates", "secondary"): "ps_valid",
                        ("coc_certificates", "value"): "coc_issued", ("coc_certificates", "secondary"): "coc_valid"}

# The reasons a record enters or leaves a figure, in the order they are shown.
REASONS: dict[str, tuple[Direction, str, str]] = {
    "new_certification": ("entered", "New certification",
                          "Issued in the window to a facility with no earlier certificate of this standard."),
    "recertification": ("entered", "Recertification",
                        "Issued in the window to a facility that held a certificate of this standard before "
                        "(a renewal)."),
    "full_after_provisional": ("entered", "Full after provisional",
                               "A full certificate issued in the window where the facility's previous one of this "
                               "standard was provisional."),
    "joined": ("entered", "Joined", "Became a member in the window."),
    "expired": ("left", "Expired", "Reached its expiry date in the window."),
    "withdrawn": ("left", "Withdrawn", "Withdrawn in the window."),
    "suspended": ("left", "Suspended", "Suspended in the window."),
    "left": ("left", "Left", "Membership ended in the window."),
}
_EPOCH = date(1970, 1, 1)
_GROUP_COLUMNS = ("group_value", "group_label")


class ChangeBreakdown(BaseModel):
    """One tile figure on two dates and what entered and left in between, by reason (and group)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    subject: str
    figure: str
    figure_label: str
    start_on: date
    end_on: date
    count_start: int
    count_end: int
    # direction, reason, reason_label, records, change (+ entered, - left), in REASONS order
    reasons: pd.DataFrame
    group_by: str | None = None
    # group_value, group_label, direction, reason, reason_label, records, change
    groups: pd.DataFrame | None = None
    note: str | None = None

    @property
    def change(self) -> int:
        return self.count_end - self.count_start

    @property
    def entered(self) -> int:
        return int(self.reasons.loc[self.reasons["direction"] == "entered", "records"].sum())

    @property
    def left(self) -> int:
        return int(self.reasons.loc[self.reasons["direction"] == "left", "records"].sum())

    def waterfall(self) -> pd.DataFrame:
        """The steps from the start count to the end count: step, kind (start/entered/left/end),
        change (signed), and where each bar starts and ends, for a waterfall chart and its table."""
        rows = [{"step": format_day(self.start_on), "kind": "start", "change": self.count_start,
                 "bar_from": 0, "bar_to": self.count_start}]
        level = self.count_start
        for row in self.reasons.itertuples(index=False):
            rows.append({"step": row.reason_label, "kind": row.direction, "change": int(row.change),
                         "bar_from": level, "bar_to": level + int(row.change)})
            level += int(row.change)
        rows.append({"step": format_day(self.end_on), "kind": "end", "change": self.count_end,
                     "bar_from": 0, "bar_to": self.count_end})
        return pd.DataFrame(rows, columns=["step", "kind", "change", "bar_from", "bar_to"])


def window_ending(as_of: date) -> tuple[date, date]:
    """The window the breakdown opens on: the last year end before the as-of date, to the as-of date."""
    return date(as_of.year - 1, 12, 31), as_of


def groups_table(breakdown: ChangeBreakdown) -> pd.DataFrame:
    """The groups of a breakdown as one row per group: the signed change of each reason (in
    REASONS order) and the net change, largest net change first."""
    groups = breakdown.groups
    if groups is None or groups.empty:
        return pd.DataFrame(columns=["group_value", "group_label", "net_change"])
    reasons = list(dict.fromkeys(groups.sort_values("reason", key=lambda s: s.map(_reason_order))["reason_label"]))
    wide = groups.pivot_table(index=["group_value", "group_label"], columns="reason_label", values="change",
                              aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=reasons, fill_value=0).astype("int64")
    wide["net_change"] = wide.sum(axis=1)
    wide = wide.reset_index()
    wide.columns.name = None
    return wide.sort_values(["net_change", "group_label"], ascending=[False, True], kind="stable").reset_index(
        drop=True)


def default_window(store: Store, filters: Filters | None = None) -> tuple[date, date]:
    """`window_ending` the filter bar's as-of date (the data's as-of date when none is set)."""
    return window_ending(store.as_of((filters or Filters()).as_of))


def reason_label(reason: str) -> str:
    """Words for a reason code; a status change under a status filter reads "Now expired" etc."""
    if reason in REASONS:
        return REASONS[reason][1]
    return f"Now {label(reason.removeprefix('now_')).lower()}"


def _check(subject: str, figure: str, start_on: date, end_on: date, by: str | None) -> None:
    if (subject, figure) not in FIGURE_LABELS:
        raise ValueError(f"There is no {figure!r} figure of {subject!r} to break down; choose one of "
                         + ", ".join(f"{s} {f}" for s, f in FIGURE_LABELS) + ".")
    if start_on >= end_on:
        raise ValueError(f"The start date ({format_day(start_on)}) must be before the end date ({format_day(end_on)}).")
    if by is not None and by not in GROUP_BY[subject]:
        raise ValueError(f"Cannot break {SUBJECTS[subject]} down by {by!r}; choose one of "
                         f"{', '.join(GROUP_BY[subject])}.")


def _days(column: pa.ChunkedArray, missing: date) -> np.ndarray:
    return pc.cast(pc.fill_null(column, missing), pa.int32()).to_numpy().astype("int64")


def _day(on: date) -> int:
    return (on - _EPOCH).days


def _counted(rows: pa.Table, mask: np.ndarray, start: str, end: str, on: date) -> np.ndarray:
    """The rows the tile counts on a date: start <= date < end (end null: still open)."""
    day = _day(on)
    return mask & (_days(rows.column(start), date.max) <= day) & (day < _days(rows.column(end), date.max))


def _changed_ids(
    store: Store, subject: str, figure: str, filters: Filters | None, *, start_on: date, end_on: date
) -> tuple[int, int, pd.DataFrame]:
    """The counts on both dates and each record that entered or left (id, direction, and for
    certificates the first day a segment of it counted)."""
    rows = outcomes.tile_query_rows(store, subject, filters)
    if subject == "members":
        key, start, end = "member_id", "joined_on", "left_on"
        mask = np.ones(rows.num_rows, dtype=bool)
    else:
        key, start, end = "certification_id", "segment_start", "segment_end"
        flags = {name: rows.column(name).to_numpy(zero_copy_only=False).astype(bool)
                 for name in ("is_ps", "is_coc", "is_valid")}
        mask = outcomes.certificates_counted(flags, _CERTIFICATE_FIGURES[(subject, figure)])
    # set operations on integer codes of the ids (on strings numpy compares every pair)
    encoded = pc.dictionary_encode(rows.column(key).combine_chunks())
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype("int64")
    names = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    at_start = _counted(rows, mask, start, end, start_on)
    at_end = _counted(rows, mask, start, end, end_on)
    codes_start, codes_end = codes[at_start], codes[at_end]
    if len(np.unique(codes_start)) != len(codes_start) or len(np.unique(codes_end)) != len(codes_end):
        raise RuntimeError(f"A record of {SUBJECTS[subject]} counts twice on one date; its rows overlap.")
    entered = np.setdiff1d(codes_end, codes_start, assume_unique=True)
    left = np.setdiff1d(codes_start, codes_end, assume_unique=True)
    changed = np.concatenate([entered, left])
    frame = pd.DataFrame({key: names[changed], "direction": ["entered"] * len(entered) + ["left"] * len(left)})
    if subject != "members":
        first_day = np.full(len(names), np.iinfo("int64").max)
        np.minimum.at(first_day, codes[mask], _days(rows.column(start), date.max)[mask])
        frame["first_counted_on"] = [_EPOCH + timedelta(days=int(day)) for day in first_day[changed]]
    return int(at_start.sum()), int(at_end.sum()), frame


def _certificate_reasons(records: pd.DataFrame, start_on: date) -> np.ndarray:
    """Why each certificate entered or left: issued in the window and counted from its issue
    date on, it entered by being issued (new, a recertification or full after provisional);
    one that left did so by expiring, being withdrawn or suspended; anything else is a status
    change under a status filter ("now_<status>")."""
    entered = records["direction"].eq("entered").to_numpy()
    issued_on = records["issued_on"].dt.date
    by_issue = (issued_on > start_on).to_numpy() & (records["first_counted_on"] == issued_on).to_numpy()
    first = records["previous_certification_id"].isna().to_numpy()
    after_provisional = (records["previous_certification_type"].eq("provisional")
                         & records["certification_type"].eq("full")).fillna(False).to_numpy(dtype=bool)
    status = records["status_at_end"].astype(object).to_numpy()
    now = np.array([f"now_{s}" for s in status], dtype=object)
    left_by = np.where(np.isin(status, ["expired", "withdrawn", "suspended"]), status, now)
    return np.select(
        [entered & by_issue & first, entered & by_issue & after_provisional, entered & by_issue, entered],
        ["new_certification", "full_after_provisional", "recertification", now],
        left_by,
    ).astype(object)


def _changed_records(
    store: Store, subject: str, figure: str, filters: Filters | None, *, start_on: date, end_on: date
) -> tuple[int, int, pd.DataFrame]:
    """Every record that entered or left, with its reason and the facts the groups read
    (unrestricted: callers restrict it to what the viewer may see)."""
    count_start, count_end, changed = _changed_ids(store, subject, figure, filters, start_on=start_on, end_on=end_on)
    if subject == "members":
        facts = run_arrow_query(store, "changes_member_records", {"member_ids": changed["member_id"].tolist()})
        records = changed.merge(facts, on="member_id", how="inner", validate="one_to_one")
        records["reason"] = np.where(records["direction"] == "entered", "joined", "left")
    else:
        ensure_macros(store)
        facts = run_arrow_query(store, "changes_certificate_records", {
            "certification_ids": changed["certification_id"].tolist(), "start_on": start_on, "end_on": end_on})
        records = changed.merge(facts, on="certification_id", how="inner", validate="one_to_one")
        records["reason"] = _certificate_reasons(records, start_on)
        records = records.sort_values("register_order", kind="stable").drop(columns="register_order")
    if len(records) != len(changed):
        raise RuntimeError(f"{len(changed) - len(records)} changed record(s) of {SUBJECTS[subject]} have no facts.")
    records["reason_label"] = records["reason"].map(reason_label)
    return count_start, count_end, records.reset_index(drop=True)


def _reason_order(reason: str) -> tuple[int, int, str]:
    direction = REASONS[reason][0] if reason in REASONS else ("left" if reason.startswith("now_") else "entered")
    return (0 if direction == "entered" else 1, list(REASONS).index(reason) if reason in REASONS else 99, reason)


def _summarise(records: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    columns = [*keys, "direction", "reason", "reason_label", "records", "change"]
    if records.empty:
        return pd.DataFrame(columns=columns).astype({"records": "int64", "change": "int64"})
    out = records.groupby([*keys, "direction", "reason", "reason_label"], sort=False).size().rename("records")
    out = out.reset_index()
    out["change"] = np.where(out["direction"] == "entered", out["records"], -out["records"]).astype("int64")
    order = out["reason"].map(_reason_order)
    out = out.assign(_order=order).sort_values([*keys, "_order"], kind="stable").drop(columns="_order")
    return out[columns].reset_index(drop=True)


def _with_groups(records: pd.DataFrame, by: str) -> pd.DataFrame:
    """The records with group_value and group_label; by activity a certificate is in each of its activities."""
    if by == "activity":
        out = records.assign(group_value=records["activities"].map(list)).explode("group_value")
        out = out.dropna(subset=["group_value"])
    else:
        out = records.assign(group_value=records[by])
    out["group_value"] = out["group_value"].astype(str)
    names = {v: (country_name(v) if by == "country" else v if by == "region" else label(v))
             for v in out["group_value"].unique()}
    out["group_label"] = out["group_value"].map(names)
    return out


def change_breakdown(
    store: Store,
    viewer: Viewer,
    filters: Filters | None = None,
    *,
    subject: Subject = "ps_certificates",
    figure: Figure = "value",
    start_on: date | None = None,
    end_on: date | None = None,
    by: str | None = None,
) -> ChangeBreakdown:
    """A tile figure (members, PS or CoC certificates; the value or, for certificates, the
    valid count) on start_on and end_on under the filter bar, and the records that entered
    and left in between counted by reason: entered minus left equals the tile's change
    exactly. With `by` (GROUP_BY), also per group; by activity a certificate counts in each
    activity of its facility, so groups can add up to more than the total. Dates default to
    `default_window`. Counts only, the same for every role (programme figures)."""
    del viewer
    default_start, default_end = default_window(store, filters)
    start_on, end_on = start_on or default_start, end_on or default_end
    _check(subject, figure, start_on, end_on, by)
    count_start, count_end, records = _changed_records(
        store, subject, figure, filters, start_on=start_on, end_on=end_on
    )
    groups = None
    note = None
    if by is not None:
        groups = _summarise(_with_groups(records, by), list(_GROUP_COLUMNS))
        if by == "activity":
            note = ("A certificate counts once in each supply-chain activity of its facility, so the activities add "
                    "up to more than the total.")
    return ChangeBreakdown(
        subject=subject, figure=figure, figure_label=FIGURE_LABELS[(subject, figure)], start_on=start_on,
        end_on=end_on, count_start=count_start, count_end=count_end, reasons=_summarise(records, []),
        group_by=by, groups=groups, note=note,
    )


_CERTIFICATE_RECORD_COLUMNS = [
    "direction", "reason", "reason_label", "certification_id", "facility_name", "member_name", "member_id",
    "country", "country_name", "activities", "standard", "standard_version", "certification_type", "issued_on",
    "expires_on", "status_changed_on", "status_at_start", "status_at_end", "previous_certification_id",
]
_MEMBER_RECORD_COLUMNS = [
    "direction", "reason", "reason_label", "member_id", "member_name", "membership_class", "country",
    "country_name", "joined_on", "left_on",
]


def change_records(
    store: Store,
    viewer: Viewer,
    filters: Filters | None = None,
    *,
    subject: Subject = "ps_certificates",
    figure: Figure = "value",
    start_on: date | None = None,
    end_on: date | None = None,
    reason: str | None = None,
    by: str | None = None,
    group_value: str | None = None,
) -> pd.DataFrame:
    """The records behind one bar of `change_breakdown` (one reason, optionally within one
    group of `by`; None: every record that entered or left), for the secretariat. A member
    gets only its own company's records among them; the public gets none (counts only)."""
    default_start, default_end = default_window(store, filters)
    start_on, end_on = start_on or default_start, end_on or default_end
    _check(subject, figure, start_on, end_on, by)
    columns = _MEMBER_RECORD_COLUMNS if subject == "members" else _CERTIFICATE_RECORD_COLUMNS
    if not viewer.sees_everything and viewer.role is not Role.MEMBER:
        return pd.DataFrame(columns=columns)
    _, _, records = _changed_records(store, subject, figure, filters, start_on=start_on, end_on=end_on)
    if not viewer.sees_everything:
        records = records.loc[records["member_id"].eq(viewer.member_id).fillna(False).astype(bool)]
    if reason is not None:
        records = records.loc[records["reason"] == reason]
    if by is not None and group_value is not None:
        grouped = _with_groups(records, by) if len(records) else records.assign(group_value=pd.Series(dtype=str))
        records = grouped.loc[grouped["group_value"] == str(group_value)]
    return records[columns].reset_index(drop=True)


QUERY_FUNCTIONS = [
    change_breakdown,
    change_records,
]
