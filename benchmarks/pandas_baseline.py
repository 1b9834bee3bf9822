"""The query layer against fair pandas and fair polars code, same process, same snapshot.

Each computation exists three times: `query` calls the app's query layer (DuckDB over the
snapshot's Parquet files), `pandas` and `polars` are what a competent developer would
write in a plain Streamlit app: read only the columns the computations need, once, with
dates parsed at load (`st.cache_data` would keep the frames); join the register's five
tables once at load, as the app joins them once per snapshot; then answer each question
with vectorised operations (no per-row Python). All three answer the public viewer with
default filters at the snapshot's as-of date, and the answers are checked against each
other (`agreement`) before any time is reported.

Time (median per computation) is measured in this process: the query layer on a warm Store,
pandas and polars on frames already loaded (their load time is reported once per side).
Memory is measured in a fresh child process per computation and side: RSS held after the
side loaded what it needs and answered twice (RSS after minus RSS before, after a garbage
collection), and the peak above the starting RSS. The child's first answer of the query
layer is a truly cold run (fresh process, fresh Store, no memo).

    python benchmarks/pandas_baseline.py --data-dir DIR --reps 7 --json OUT
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from _common import REPO_ROOT, peak_rss_mb, reset_peak_rss, rss_mb, time_call, write_json

from asi_me.data.snapshot import current_folder
from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer

PUBLIC = Viewer.public()
MIN_REPORTERS = 5
MAX_DOMINANCE = 0.25
SIDES = ("query", "pandas", "polars")
COUNTRIES_CSV = REPO_ROOT / "asi_me" / "reference" / "countries.csv"

# ---------------------------------------------------------------- loading, once per side

# The columns each source table contributes; nothing else is read.
COLUMNS: dict[str, list[str]] = {
    "certifications": ["certification_id", "facility_id", "standard", "standard_version", "certification_type",
                       "status", "issued_on", "expires_on", "status_changed_on", "scope", "auditing_firm_id",
                       "external_certifications"],
    "facilities": ["facility_id", "member_id", "name", "country", "latitude", "longitude", "activities", "workers"],
    "members": ["member_id", "name", "membership_class", "joined_on", "left_on"],
    "auditing_firms": ["auditing_firm_id", "name", "accredited_on", "accreditation_ended_on", "countries"],
    "training_records": ["person_ref", "audience", "completed_on"],
    "governance_meetings": ["body", "held_on"],
    "coc_reports": ["facility_id", "reporting_year", "stage", "material", "input_t", "output_t", "carried_forward_t"],
    "indicator_observations": ["indicator_code", "period_on", "dimension", "dimension_value", "value", "status"],
    "indicators": ["indicator_code", "name", "unit", "direction", "baseline_value", "baseline_on", "target_value",
                   "target_on"],
}
# What each prepared frame is built from (a computation names the frames it uses).
FRAME_SOURCES: dict[str, tuple[str, ...]] = {
    "register": ("certifications", "facilities", "members", "auditing_firms"),
    "members": ("members",),
    "firms": ("auditing_firms",),
    "training_firsts": ("training_records",),
    "meetings": ("governance_meetings",),
    "coc": ("coc_reports", "facilities"),
    "observations": ("indicator_observations",),
    "indicators": ("indicators",),
}
REGISTER_ORDER = ["country", "facility_name", "standard", "issued_on", "certification_id"]


def _arrow(folder: Path, name: str, **kwargs: Any) -> pa.Table:
    return pq.read_table(folder / f"{name}.parquet", columns=COLUMNS[name], **kwargs)


def _pandas(table: pa.Table) -> pd.DataFrame:
    # dates become datetime64 once, here, not per computation
    return table.to_pandas(date_as_object=False)


def load_pandas(folder: Path, frames: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """The prepared frames a plain pandas app would keep in `st.cache_data`."""
    out: dict[str, pd.DataFrame] = {}
    if "register" in frames or "coc" in frames:
        facilities = _pandas(_arrow(folder, "facilities"))
    if "register" in frames:
        countries = pd.read_csv(COUNTRIES_CSV, keep_default_na=False, usecols=["country", "country_name", "region"])
        register = (
            _pandas(_arrow(folder, "certifications"))
            .merge(facilities.rename(columns={"name": "facility_name"}), on="facility_id")
            .merge(_pandas(_arrow(folder, "members")).rename(columns={"name": "member_name"})
                   .drop(columns=["joined_on", "left_on"]), on="member_id")
            .merge(countries, on="country", how="left")
            .merge(_pandas(_arrow(folder, "auditing_firms"))[["auditing_firm_id", "name"]]
                   .rename(columns={"name": "auditing_firm_name"}), on="auditing_firm_id", how="left")
            .sort_values(REGISTER_ORDER, ignore_index=True)
        )
        out["register"] = register.assign(is_withdrawn_or_suspended=register["status"].isin(["withdrawn",
                                                                                             "suspended"]))
    if "members" in frames:
        out["members"] = _pandas(pq.read_table(folder / "members.parquet", columns=["joined_on", "left_on"]))
    if "firms" in frames:
        out["firms"] = _pandas(_arrow(folder, "auditing_firms"))
    if "training_firsts" in frames:
        training = _pandas(_arrow(folder, "training_records"))
        training["audience_group"] = np.where(training["audience"] == "auditor", "auditors", "members_stakeholders")
        out["training_firsts"] = (training.groupby(["audience_group", "person_ref"], observed=True)["completed_on"]
                                  .min().reset_index())
    if "meetings" in frames:
        out["meetings"] = _pandas(_arrow(folder, "governance_meetings"))
    if "coc" in frames:
        out["coc"] = _pandas(_arrow(folder, "coc_reports")).merge(facilities[["facility_id", "member_id"]],
                                                                   on="facility_id")
    if "observations" in frames:
        # only the headline rows: every question here reads totals
        obs = _pandas(_arrow(folder, "indicator_observations", filters=[("dimension", "=", "total")],
                             read_dictionary=["indicator_code", "dimension", "dimension_value", "status"]))
        out["observations"] = obs.sort_values(["indicator_code", "period_on"], ignore_index=True)
    if "indicators" in frames:
        out["indicators"] = _pandas(_arrow(folder, "indicators"))
    return out


def _polars(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(folder / f"{name}.parquet", columns=COLUMNS[name])


def load_polars(folder: Path, frames: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    """The prepared frames of a plain polars app, the same as `load_pandas`."""
    out: dict[str, pl.DataFrame] = {}
    if "register" in frames or "coc" in frames:
        facilities = _polars(folder, "facilities")
    if "register" in frames:
        countries = pl.read_csv(COUNTRIES_CSV, columns=["country", "country_name", "region"])
        out["register"] = (
            _polars(folder, "certifications")
            .join(facilities.rename({"name": "facility_name"}), on="facility_id")
            .join(_polars(folder, "members").select("member_id", pl.col("name").alias("member_name"),
                                                    "membership_class"), on="member_id")
            .join(countries, on="country", how="left")
            .join(_polars(folder, "auditing_firms").select("auditing_firm_id",
                                                           pl.col("name").alias("auditing_firm_name")),
                  on="auditing_firm_id", how="left")
            .sort(REGISTER_ORDER)
            .with_columns(is_withdrawn_or_suspended=pl.col("status").is_in(["withdrawn", "suspended"]))
        )
    if "members" in frames:
        out["members"] = pl.read_parquet(folder / "members.parquet", columns=["joined_on", "left_on"])
    if "firms" in frames:
        out["firms"] = _polars(folder, "auditing_firms")
    if "training_firsts" in frames:
        out["training_firsts"] = (
            _polars(folder, "training_records")
            .group_by(pl.when(pl.col("audience") == "auditor").then(pl.lit("auditors"))
                      .otherwise(pl.lit("members_stakeholders")).alias("audience_group"), "person_ref")
            .agg(pl.col("completed_on").min())
        )
    if "meetings" in frames:
        out["meetings"] = _polars(folder, "governance_meetings")
    if "coc" in frames:
        out["coc"] = _polars(folder, "coc_reports").join(facilities.select("facility_id", "member_id"),
                                                         on="facility_id")
    if "observations" in frames:
        out["observations"] = (
            pl.scan_parquet(folder / "indicator_observations.parquet")
            .filter(pl.col("dimension") == "total")
            .select(COLUMNS["indicator_observations"])
            .sort("indicator_code", "period_on")
            .collect()
        )
    if "indicators" in frames:
        out["indicators"] = _polars(folder, "indicators")
    return out


# ---------------------------------------------------------------- dates


def month_ends(start: date, end: date) -> list[pd.Timestamp]:
    out = list(pd.date_range(start, end, freq="ME"))
    if not out or out[-1].date() != end:
        out.append(pd.Timestamp(end))
    return out


def tile_dates(as_of: date) -> np.ndarray:
    """The dates the dashboard's tiles need: month ends since 2015, the as-of date, a month and a year before."""
    on = pd.Timestamp(as_of)
    anchors = {on, on - pd.DateOffset(months=1), on - pd.DateOffset(months=12)}
    return np.array(sorted(anchors | set(month_ends(date(2015, 1, 1), as_of))), dtype="datetime64[D]")


def _days(values: Any) -> np.ndarray:
    """Dates (pandas or polars column, numpy array) as datetime64[D], missing as NaT."""
    if isinstance(values, pl.Series):
        values = values.to_numpy()
    return np.asarray(values, dtype="datetime64[D]")


def count_on_or_before(dates: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """How many of `dates` (NaT never counts) fall on or before each grid date."""
    known = np.sort(dates[~np.isnat(dates)])
    return np.searchsorted(known, grid, side="right")


def spells_open(start: np.ndarray, end: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """How many spells [start, end) (end NaT: still open) are open on each grid date."""
    closed = np.where(np.isnat(end), end, np.maximum(start, end))
    return count_on_or_before(start, grid) - count_on_or_before(closed, grid)


def groups_open(codes: np.ndarray, n_groups: int, start: np.ndarray, end: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Per grid date, a groups x dates matrix of the spells open in each group (running sums of
    +1 at the first grid date on or after a spell's start and -1 at the first on or after its end)."""
    first = np.searchsorted(grid, start, side="left")
    last = np.where(np.isnat(end), len(grid), np.searchsorted(grid, np.maximum(start, end), side="left"))
    change = np.zeros((n_groups, len(grid) + 1), dtype=np.int32)
    np.add.at(change, (codes, first), 1)
    np.add.at(change, (codes, last), -1)
    return np.cumsum(change[:, :-1], axis=1)


def valid_until(expires: np.ndarray, changed: np.ndarray, is_ws: np.ndarray) -> np.ndarray:
    """The date a certification stops being valid (certified or provisional): its expiry, or its
    withdrawal or suspension when earlier (the status rule of queries/cert_status_macro.sql)."""
    # a spell that stops before it starts is never open (see `spells_open`)
    return np.where(is_ws & ~np.isnat(changed), np.minimum(changed, expires), expires)


def statuses_on(on: np.datetime64, *, issued: np.ndarray, expires: np.ndarray, changed: np.ndarray,
                status: np.ndarray, is_ws: np.ndarray, is_provisional: np.ndarray) -> np.ndarray:
    """Status on a date, vectorised (None while not yet issued)."""
    return np.select(
        [issued > on, is_ws & (changed <= on), expires <= on, is_provisional],
        [None, status, "expired", "provisional"],
        default="certified",
    )


def status_on(certs: pd.DataFrame, on: pd.Timestamp) -> pd.Series:
    """Certification status on a date of a pandas frame (dates parsed or not)."""
    return pd.Series(statuses_on(
        np.datetime64(on.date(), "D"), issued=_days(pd.to_datetime(certs["issued_on"])),
        expires=_days(pd.to_datetime(certs["expires_on"])), changed=_days(pd.to_datetime(certs["status_changed_on"])),
        status=certs["status"].to_numpy(dtype=object),
        is_ws=certs["status"].isin(["withdrawn", "suspended"]).to_numpy(),
        is_provisional=(certs["certification_type"] == "provisional").to_numpy(),
    ), index=certs.index)


# ---------------------------------------------------------------- the computations, pandas and polars


def _dashboard_figures(grid: np.ndarray, *, joined: np.ndarray, left: np.ndarray, issued: np.ndarray,
                       expires: np.ndarray, changed: np.ndarray, is_ws: np.ndarray, standard: np.ndarray,
                       country_codes: np.ndarray, n_countries: int, is_external: np.ndarray,
                       facility_codes: np.ndarray, n_facilities: int, facility_workers: np.ndarray,
                       firm_start: np.ndarray, firm_end: np.ndarray, firm_country_codes: np.ndarray,
                       firm_country_start: np.ndarray, firm_country_end: np.ndarray, n_firm_countries: int,
                       auditor_firsts: np.ndarray, other_firsts: np.ndarray, meetings: dict[str, np.ndarray],
                       ) -> dict[str, np.ndarray]:
    """Every tile's figure on every grid date, from plain arrays (shared by pandas and polars:
    the arithmetic is numpy either way; what differs is how the arrays are read and prepared)."""
    until = valid_until(expires, changed, is_ws)
    ps, coc = standard == "PS", standard == "CoC"
    ps_valid = spells_open(issued[ps], until[ps], grid)
    ps_external = spells_open(issued[ps & is_external], until[ps & is_external], grid)
    ps_open = groups_open(facility_codes[ps], n_facilities, issued[ps], until[ps], grid) > 0
    return {
        "members": spells_open(joined, left, grid),
        "ps_issued": count_on_or_before(issued[ps], grid),
        "coc_issued": count_on_or_before(issued[coc], grid),
        "ps_valid": ps_valid,
        "coc_valid": spells_open(issued[coc], until[coc], grid),
        "countries_valid": (groups_open(country_codes, n_countries, issued, until, grid) > 0).sum(axis=0),
        "ps_external_share": np.where(ps_valid > 0, 100 * ps_external / np.maximum(ps_valid, 1), np.nan),
        "ps_workers": facility_workers @ ps_open,
        "auditing_firms": spells_open(firm_start, firm_end, grid),
        "auditor_countries": (groups_open(firm_country_codes, n_firm_countries, firm_country_start,
                                          firm_country_end, grid) > 0).sum(axis=0),
        "auditors_trained": count_on_or_before(auditor_firsts, grid),
        "members_stakeholders_trained": count_on_or_before(other_firsts, grid),
        **{f"{body}_meetings": count_on_or_before(held, grid) for body, held in meetings.items()},
    }


MEETING_BODIES = ("ipaf", "board", "standards_committee")


def pandas_dashboard_tiles(f: dict[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    grid = tile_dates(as_of)
    reg, firms, firsts = f["register"], f["firms"], f["training_firsts"]
    country_codes, _ = pd.factorize(reg["country"])
    facility_codes, facility_ids = pd.factorize(reg["facility_id"])
    workers = reg.drop_duplicates("facility_id").set_index("facility_id")["workers"].reindex(facility_ids)
    exploded = firms[["accredited_on", "accreditation_ended_on", "countries"]].explode("countries").dropna(
        subset=["countries"])
    firm_country_codes, firm_countries = pd.factorize(exploded["countries"])
    held = f["meetings"]
    figures = _dashboard_figures(
        grid, joined=_days(f["members"]["joined_on"]), left=_days(f["members"]["left_on"]),
        issued=_days(reg["issued_on"]), expires=_days(reg["expires_on"]), changed=_days(reg["status_changed_on"]),
        is_ws=reg["is_withdrawn_or_suspended"].to_numpy(), standard=reg["standard"].to_numpy(dtype=object),
        country_codes=country_codes, n_countries=int(country_codes.max()) + 1 if len(reg) else 0,
        is_external=(reg["external_certifications"].str.len() > 0).to_numpy(),
        facility_codes=facility_codes, n_facilities=len(facility_ids),
        facility_workers=workers.fillna(0).to_numpy(dtype=np.int64),
        firm_start=_days(firms["accredited_on"]), firm_end=_days(firms["accreditation_ended_on"]),
        firm_country_codes=firm_country_codes, firm_country_start=_days(exploded["accredited_on"]),
        firm_country_end=_days(exploded["accreditation_ended_on"]), n_firm_countries=len(firm_countries),
        auditor_firsts=_days(firsts.loc[firsts["audience_group"] == "auditors", "completed_on"]),
        other_firsts=_days(firsts.loc[firsts["audience_group"] != "auditors", "completed_on"]),
        meetings={body: _days(held.loc[held["body"] == body, "held_on"]) for body in MEETING_BODIES},
    )
    return pd.DataFrame(figures, index=pd.DatetimeIndex(grid, name="on_date"))


def polars_dashboard_tiles(f: dict[str, pl.DataFrame], as_of: date) -> pl.DataFrame:
    grid = tile_dates(as_of)
    reg, firms, firsts, held = f["register"], f["firms"], f["training_firsts"], f["meetings"]
    reg = reg.with_columns(country_code=pl.col("country").rank("dense").cast(pl.Int64) - 1,
                           facility_code=pl.col("facility_id").rank("dense").cast(pl.Int64) - 1)
    workers = (reg.group_by("facility_code").agg(pl.col("workers").first().fill_null(0)).sort("facility_code"))
    exploded = (firms.select("accredited_on", "accreditation_ended_on", "countries").explode("countries")
                .drop_nulls("countries").with_columns(code=pl.col("countries").rank("dense").cast(pl.Int64) - 1))
    figures = _dashboard_figures(
        grid, joined=_days(f["members"]["joined_on"]), left=_days(f["members"]["left_on"]),
        issued=_days(reg["issued_on"]), expires=_days(reg["expires_on"]), changed=_days(reg["status_changed_on"]),
        is_ws=reg["is_withdrawn_or_suspended"].to_numpy(), standard=reg["standard"].to_numpy(),
        country_codes=reg["country_code"].to_numpy(), n_countries=int(reg["country_code"].max() or 0) + 1,
        is_external=(reg["external_certifications"].list.len() > 0).to_numpy(),
        facility_codes=reg["facility_code"].to_numpy(), n_facilities=workers.height,
        facility_workers=workers["workers"].to_numpy(),
        firm_start=_days(firms["accredited_on"]), firm_end=_days(firms["accreditation_ended_on"]),
        firm_country_codes=exploded["code"].to_numpy(), firm_country_start=_days(exploded["accredited_on"]),
        firm_country_end=_days(exploded["accreditation_ended_on"]),
        n_firm_countries=int(exploded["code"].max() or 0) + 1 if exploded.height else 0,
        auditor_firsts=_days(firsts.filter(pl.col("audience_group") == "auditors")["completed_on"]),
        other_firsts=_days(firsts.filter(pl.col("audience_group") != "auditors")["completed_on"]),
        meetings={body: _days(held.filter(pl.col("body") == body)["held_on"]) for body in MEETING_BODIES},
    )
    return pl.DataFrame({"on_date": grid, **figures})


REGISTER_COLUMNS = [
    "certification_id", "facility_id", "facility_name", "member_id", "member_name", "membership_class", "country",
    "country_name", "region", "latitude", "longitude", "activities", "standard", "standard_version",
    "certification_type", "status", "issued_on", "expires_on", "status_changed_on", "scope", "auditing_firm_id",
    "auditing_firm_name", "external_certifications",
]
REGISTER_ROWS = 500  # what the certification map shows (pages/map.py REGISTER_ROW_LIMIT)
STATUS_LABELS = {"certified": "Certified", "provisional": "Provisional", "suspended": "Suspended",
                 "withdrawn": "Withdrawn", "expired": "Expired"}


def _register_statuses(reg: Any, on: np.datetime64) -> np.ndarray:
    return statuses_on(on, issued=_days(reg["issued_on"]), expires=_days(reg["expires_on"]),
                       changed=_days(reg["status_changed_on"]),
                       status=np.asarray(reg["status"].to_numpy(), dtype=object),
                       is_ws=np.asarray(reg["is_withdrawn_or_suspended"].to_numpy(), dtype=bool),
                       is_provisional=np.asarray((reg["certification_type"] == "provisional").to_numpy(), dtype=bool))


def pandas_register_page(f: dict[str, pd.DataFrame], as_of: date) -> tuple[pd.DataFrame, int, int]:
    """What the map's register shows: its first rows (ids blanked for the public, status on the
    date in words), the number of certifications and of countries, from the register joined and
    sorted once at load."""
    reg, on = f["register"], np.datetime64(as_of, "D")
    shown = reg[reg["issued_on"] <= pd.Timestamp(as_of)]
    head = shown.head(REGISTER_ROWS).copy()
    status = _register_statuses(head, on)
    head["status"] = status
    head["status_changed_on"] = head["status_changed_on"].where(head["is_withdrawn_or_suspended"]
                                                                & (head["status_changed_on"] <= pd.Timestamp(as_of)))
    head["status_label"] = head["status"].map(STATUS_LABELS)
    head["facility_id"] = head["member_id"] = None
    return head[[*REGISTER_COLUMNS, "status_label"]], len(shown), shown["country"].nunique()


def polars_register_page(f: dict[str, pl.DataFrame], as_of: date) -> tuple[pl.DataFrame, int, int]:
    reg = f["register"]
    counts = reg.lazy().filter(pl.col("issued_on") <= as_of).select(
        pl.len().alias("rows"), pl.col("country").n_unique().alias("countries")).collect()
    status = (
        pl.when(pl.col("issued_on") > as_of).then(None)
        .when(pl.col("is_withdrawn_or_suspended") & (pl.col("status_changed_on") <= as_of)).then(pl.col("status"))
        .when(pl.col("expires_on") <= as_of).then(pl.lit("expired"))
        .when(pl.col("certification_type") == "provisional").then(pl.lit("provisional"))
        .otherwise(pl.lit("certified"))
    )
    head = (
        reg.lazy().filter(pl.col("issued_on") <= as_of).head(REGISTER_ROWS)
        .with_columns(status=status,
                      status_changed_on=pl.when(pl.col("is_withdrawn_or_suspended")
                                                & (pl.col("status_changed_on") <= as_of))
                      .then(pl.col("status_changed_on")))
        .with_columns(status_label=pl.col("status").replace_strict(STATUS_LABELS, default=None),
                      facility_id=pl.lit(None, pl.String), member_id=pl.lit(None, pl.String))
        .select(*REGISTER_COLUMNS, "status_label")
        .collect()
    )
    return head, int(counts["rows"][0]), int(counts["countries"][0])


def certificate_months(as_of: date) -> np.ndarray:
    return np.array(month_ends(date(2018, 1, 1), as_of), dtype="datetime64[D]")


def pandas_certificates_over_time(f: dict[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    grid, reg = certificate_months(as_of), f["register"]
    until = valid_until(_days(reg["expires_on"]), _days(reg["status_changed_on"]),
                        reg["is_withdrawn_or_suspended"].to_numpy())
    issued, standard = _days(reg["issued_on"]), reg["standard"].to_numpy(dtype=object)
    parts = [pd.DataFrame({"month_on": grid.astype("datetime64[ns]"), "group_value": name,
                           "certificates_issued": count_on_or_before(issued[standard == name], grid),
                           "certificates_valid": spells_open(issued[standard == name], until[standard == name], grid)})
             for name in ("CoC", "PS")]
    frame = pd.concat(parts, ignore_index=True)
    # a group's series starts at its first certificate
    frame = frame[frame["certificates_issued"] > 0]
    return frame.sort_values(["month_on", "group_value"], ignore_index=True)


def polars_certificates_over_time(f: dict[str, pl.DataFrame], as_of: date) -> pl.DataFrame:
    grid, reg = certificate_months(as_of), f["register"]
    parts = []
    for name, group in reg.partition_by("standard", as_dict=True).items():
        issued = _days(group["issued_on"])
        until = valid_until(_days(group["expires_on"]), _days(group["status_changed_on"]),
                            group["is_withdrawn_or_suspended"].to_numpy())
        parts.append(pl.DataFrame({"month_on": grid, "group_value": name[0],
                                   "certificates_issued": count_on_or_before(issued, grid),
                                   "certificates_valid": spells_open(issued, until, grid)}))
    return pl.concat(parts).filter(pl.col("certificates_issued") > 0).sort("month_on", "group_value")


_RANK = {"certified": 0, "provisional": 1, "suspended": 2, "withdrawn": 3, "expired": 4}
MAX_POINTS = 3000  # markers the map draws before it groups facilities into grid cells
CELL_SIZES = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 45.0, 90.0, 180.0, 360.0)


def pandas_points_and_countries(f: dict[str, pd.DataFrame], as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The map's markers (one per facility, or grid cells beyond MAX_POINTS facilities) and
    its country aggregates, from the register joined once at load."""
    reg = f["register"]
    reg = reg[reg["issued_on"] <= pd.Timestamp(as_of)]
    status = _register_statuses(reg, np.datetime64(as_of, "D"))
    reg = reg.assign(status=status, rank=pd.Series(status, index=reg.index).map(_RANK))
    by_facility = reg.groupby("facility_id", sort=False).agg(
        rank=("rank", "min"), n_standards=("standard", "nunique"), standard=("standard", "first"),
        facility_name=("facility_name", "first"), country=("country", "first"),
        latitude=("latitude", "first"), longitude=("longitude", "first"))
    by_facility["status"] = by_facility["rank"].map({v: k for k, v in _RANK.items()})
    by_facility["standard_key"] = by_facility["standard"].where(by_facility["n_standards"] == 1, "both")
    points = (by_facility.dropna(subset=["latitude", "longitude"]).reset_index()
              .sort_values(["country", "facility_name", "facility_id"], ignore_index=True))
    if len(points) > MAX_POINTS:
        for cell_deg in CELL_SIZES:
            lat_bin = (points["latitude"] // cell_deg).astype("int64")
            lon_bin = (points["longitude"] // cell_deg).astype("int64")
            if len(np.unique(lat_bin.to_numpy() * 100_000 + lon_bin.to_numpy())) <= MAX_POINTS:
                break
        points = _pandas_cells(points.assign(lat_bin=lat_bin, lon_bin=lon_bin), cell_deg)
    is_valid = reg["status"].isin(["certified", "provisional"])
    valid = reg[is_valid]
    countries = reg.groupby("country").agg(country_name=("country_name", "first"), region=("region", "first"),
                                           certifications_shown=("certification_id", "size"))
    countries["certified_facilities"] = valid.groupby("country")["facility_id"].nunique()
    countries["ps_certificates"] = valid[valid["standard"] == "PS"].groupby("country").size()
    countries["coc_certificates"] = valid[valid["standard"] == "CoC"].groupby("country").size()
    centroids = by_facility.groupby("country")[["latitude", "longitude"]].mean()
    countries = countries.fillna({"certified_facilities": 0, "ps_certificates": 0, "coc_certificates": 0})
    countries = countries.join(centroids).reset_index()
    countries = countries.sort_values(["certified_facilities", "country"], ascending=[False, True], ignore_index=True)
    return points, countries


def _pandas_cells(binned: pd.DataFrame, cell_deg: float) -> pd.DataFrame:
    """Facilities grouped into cells: mean position, count, most frequent status (ties: the
    better one) and standard key (ties: alphabetical)."""
    keys = ["lat_bin", "lon_bin"]
    cells = binned.groupby(keys).agg(latitude=("latitude", "mean"), longitude=("longitude", "mean"),
                                     n_facilities=("facility_id", "size"))
    status = (binned.groupby([*keys, "rank"]).size().rename("n").reset_index()
              .sort_values([*keys, "n", "rank"], ascending=[True, True, False, True])
              .drop_duplicates(keys).set_index(keys)["rank"].map({v: k for k, v in _RANK.items()}))
    standard = (binned.groupby([*keys, "standard_key"]).size().rename("n").reset_index()
                .sort_values([*keys, "n", "standard_key"], ascending=[True, True, False, True])
                .drop_duplicates(keys).set_index(keys)["standard_key"])
    return cells.assign(status=status, standard_key=standard, is_cell=True, cell_deg=cell_deg).reset_index()


def polars_points_and_countries(f: dict[str, pl.DataFrame], as_of: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    status = (
        pl.when(pl.col("is_withdrawn_or_suspended") & (pl.col("status_changed_on") <= as_of)).then(pl.col("status"))
        .when(pl.col("expires_on") <= as_of).then(pl.lit("expired"))
        .when(pl.col("certification_type") == "provisional").then(pl.lit("provisional"))
        .otherwise(pl.lit("certified"))
    )
    reg = (f["register"].lazy().filter(pl.col("issued_on") <= as_of)
           .with_columns(status=status).with_columns(rank=pl.col("status").replace_strict(_RANK)).collect())
    by_facility = reg.group_by("facility_id").agg(
        pl.col("rank").min(), pl.col("standard").n_unique().alias("n_standards"), pl.col("standard").first(),
        pl.col("facility_name", "country", "latitude", "longitude").first(),
    ).with_columns(
        status=pl.col("rank").replace_strict({v: k for k, v in _RANK.items()}),
        standard_key=pl.when(pl.col("n_standards") == 1).then(pl.col("standard")).otherwise(pl.lit("both")),
    )
    points = (by_facility.drop_nulls(["latitude", "longitude"]).sort("country", "facility_name", "facility_id"))
    if points.height > MAX_POINTS:
        for cell_deg in CELL_SIZES:
            # Python's float floor division (1.0 // 0.1 == 9.0), as the map's SQL and pandas use it
            binned = points.with_columns(
                lat_bin=pl.Series(np.floor_divide(points["latitude"].to_numpy(), cell_deg).astype(np.int64)),
                lon_bin=pl.Series(np.floor_divide(points["longitude"].to_numpy(), cell_deg).astype(np.int64)))
            if binned.select(pl.struct("lat_bin", "lon_bin").n_unique()).item() <= MAX_POINTS:
                break
        keys = ["lat_bin", "lon_bin"]
        dominant_status = (binned.group_by(*keys, "rank").len().sort([*keys, "len", "rank"],
                                                                     descending=[False, False, True, False])
                           .group_by(keys, maintain_order=True).first()
                           .select(*keys, status=pl.col("rank").replace_strict({v: k for k, v in _RANK.items()})))
        dominant_standard = (binned.group_by(*keys, "standard_key").len()
                             .sort([*keys, "len", "standard_key"], descending=[False, False, True, False])
                             .group_by(keys, maintain_order=True).first().select(*keys, "standard_key"))
        points = (binned.group_by(keys).agg(pl.col("latitude").mean(), pl.col("longitude").mean(),
                                            pl.len().alias("n_facilities"))
                  .join(dominant_status, on=keys).join(dominant_standard, on=keys)
                  .with_columns(is_cell=pl.lit(True), cell_deg=pl.lit(cell_deg)))
    is_valid = pl.col("status").is_in(["certified", "provisional"])
    countries = (
        reg.group_by("country").agg(
            pl.col("country_name").first(), pl.col("region").first(),
            pl.len().alias("certifications_shown"),
            pl.col("facility_id").filter(is_valid).n_unique().alias("certified_facilities"),
            (is_valid & (pl.col("standard") == "PS")).sum().alias("ps_certificates"),
            (is_valid & (pl.col("standard") == "CoC")).sum().alias("coc_certificates"))
        .join(by_facility.group_by("country").agg(pl.col("latitude").mean(), pl.col("longitude").mean()),
              on="country", how="left")
        .sort(["certified_facilities", "country"], descending=[True, False])
    )
    return points, countries


def pandas_coc_stage_flows(f: dict[str, pd.DataFrame], year: int) -> pd.DataFrame:
    """Stage and material totals of a year with the primary suppression rules (minimum
    reporters, dominance). The query layer does more: Sankey links, and complementary
    suppression judged by linear programming over everything published."""
    lines = f["coc"]
    lines = lines[lines["reporting_year"] == year]
    flows = lines.groupby(["stage", "material"], as_index=False)[["input_t", "output_t", "carried_forward_t"]].sum()
    active = lines[(lines["input_t"] + lines["output_t"]) > 0]
    reporters = active.groupby("stage")["member_id"].nunique().rename("reporters")
    by_company = active.groupby(["stage", "member_id"])["output_t"].sum()
    top_share = (by_company.groupby("stage").max() / by_company.groupby("stage").sum()).rename("top_share")
    flows = flows.merge(reporters, on="stage", how="left").merge(top_share, on="stage", how="left")
    hidden = (flows["reporters"].fillna(0) < MIN_REPORTERS) | (flows["top_share"] > MAX_DOMINANCE)
    flows.loc[hidden, ["input_t", "output_t", "carried_forward_t"]] = np.nan
    flows["note"] = np.where(hidden, f"suppressed (fewer than {MIN_REPORTERS} reporters)", None)
    return flows


def polars_coc_stage_flows(f: dict[str, pl.DataFrame], year: int) -> pl.DataFrame:
    lines = f["coc"].filter(pl.col("reporting_year") == year)
    active = lines.filter((pl.col("input_t") + pl.col("output_t")) > 0)
    by_company = active.group_by("stage", "member_id").agg(pl.col("output_t").sum())
    stages = by_company.group_by("stage").agg(pl.len().alias("reporters"),
                                              (pl.col("output_t").max() / pl.col("output_t").sum()).alias("top_share"))
    hidden = (pl.col("reporters").fill_null(0) < MIN_REPORTERS) | (pl.col("top_share") > MAX_DOMINANCE)
    volumes = ["input_t", "output_t", "carried_forward_t"]
    return (
        lines.group_by("stage", "material").agg(pl.col(volumes).sum())
        .join(stages, on="stage", how="left")
        .with_columns(*(pl.when(hidden).then(None).otherwise(pl.col(c)).alias(c) for c in volumes),
                      note=pl.when(hidden).then(pl.lit(f"suppressed (fewer than {MIN_REPORTERS} reporters)")))
        .sort("stage", "material")
    )


MAINTAIN_TOLERANCE = 0.05


def _track(status: Any) -> tuple[np.ndarray, np.ndarray]:
    """Expected value on the latest period (straight line from baseline to target, clamped) and
    the on-track status of each indicator of a pandas or polars frame, vectorised (the rule of
    asi_me/queries/toc.py `track_status`)."""
    latest, latest_on = np.asarray(status["latest_value"].to_numpy(), float), _days(status["latest_period_on"])
    direction = np.asarray(status["direction"].to_numpy(), dtype=object)
    baseline, baseline_on = np.asarray(status["baseline_value"].to_numpy(), float), _days(status["baseline_on"])
    target, target_on = np.asarray(status["target_value"].to_numpy(), float), _days(status["target_on"])
    has_line = ~np.isnan(baseline) & ~np.isnat(baseline_on) & ~np.isnat(target_on) & (target_on > baseline_on)
    span = np.where(has_line, (target_on - baseline_on).astype("float64"), 1.0)
    progress = np.clip((latest_on - baseline_on).astype("float64") / span, 0.0, 1.0)
    expected = np.where(has_line, baseline + progress * (target - baseline), target)
    with np.errstate(invalid="ignore"):
        status = np.select(
            [np.isnan(latest) | np.isnat(latest_on), np.isnan(target),
             direction == "maintain", direction == "decrease"],
            [np.array("no_data"), np.array("no_target"),
             np.where(np.abs(latest - target) <= MAINTAIN_TOLERANCE * np.abs(target), "on_track", "off_track"),
             np.where(latest <= expected, "on_track", "off_track")],
            default=np.where(latest >= expected, "on_track", "off_track"),
        )
    return expected, status


def pandas_indicator_series_and_status(f: dict[str, pd.DataFrame], code: str, as_of: date
                                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One indicator's headline series and every indicator's latest value and on-track status,
    from the headline rows read once (sorted by indicator and period at load)."""
    obs, on = f["observations"], pd.Timestamp(as_of)
    known = obs[obs["period_on"] <= on]
    series = known[known["indicator_code"] == code]
    latest = known.drop_duplicates("indicator_code", keep="last")[["indicator_code", "period_on", "value"]]
    status = f["indicators"].merge(latest.rename(columns={"period_on": "latest_period_on", "value": "latest_value"}),
                                   on="indicator_code", how="left")
    expected, track = _track(status)
    return series, status.assign(expected_value=expected, track_status=track)


def polars_indicator_series_and_status(f: dict[str, pl.DataFrame], code: str, as_of: date
                                       ) -> tuple[pl.DataFrame, pl.DataFrame]:
    known = f["observations"].lazy().filter(pl.col("period_on") <= as_of)
    series = known.filter(pl.col("indicator_code") == code).collect()
    latest = (known.group_by("indicator_code").agg(pl.col("period_on").last().alias("latest_period_on"),
                                                   pl.col("value").last().alias("latest_value")).collect())
    status = f["indicators"].join(latest, on="indicator_code", how="left")
    expected, track = _track(status)
    return series, status.with_columns(expected_value=pl.Series(expected), track_status=pl.Series(track))


# ---------------------------------------------------------------- the agreement checks


def _tile_figures(frame: pd.DataFrame | pl.DataFrame) -> pd.DataFrame:
    if isinstance(frame, pl.DataFrame):
        frame = frame.to_pandas().set_index("on_date")
    return frame.set_axis(pd.DatetimeIndex(frame.index).normalize())


def agree_dashboard_tiles(query: Any, other: Any, args: dict[str, Any]) -> list[str]:
    """Every tile but the workers tile (the query layer publishes it through the disclosure
    policy; the competitors add up raw workforces): value, month and year ago, second figure."""
    from asi_me.queries.outcomes import TILES, _shift_months

    figures, as_of = _tile_figures(other), query.as_of
    when = {"value": as_of, "value_month_ago": _shift_months(as_of, 1), "value_year_ago": _shift_months(as_of, 12)}
    problems = []
    for spec in TILES:
        if spec.code == "ps_workers":
            continue
        tile = query.tile(spec.code)
        pairs = [(attribute, spec.column, on) for attribute, on in when.items()]
        if spec.secondary_column:
            pairs.append(("secondary_value", spec.secondary_column, as_of))
        for attribute, column, on in pairs:
            ours, theirs = getattr(tile, attribute), figures.loc[pd.Timestamp(on), column]
            if on < spec.since and ours is None:
                continue
            if not _same(ours, None if pd.isna(theirs) else round(float(theirs), 1)):
                problems.append(f"{spec.code} {attribute}: query {ours}, other {theirs}")
    return problems


def _same(a: Any, b: Any, tolerance: float = 0.051) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), abs_tol=tolerance)


def _frame(value: Any) -> pd.DataFrame:
    return value.to_pandas() if isinstance(value, pl.DataFrame) else value


def agree_register(query: Any, other: Any, args: dict[str, Any]) -> list[str]:
    head, total, countries = other
    head = _frame(head)
    problems = [] if (query.total, query.countries) == (total, countries) else [
        f"rows and countries: query {query.total}, {query.countries}; other {total}, {countries}"]
    problems += [f"the first {REGISTER_ROWS} rows differ in {column}"
                 for column in ("certification_id", "status", "status_label")
                 if query.rows[column].fillna("").tolist() != head[column].fillna("").tolist()]
    if pd.to_datetime(query.rows["status_changed_on"]).tolist() != pd.to_datetime(head["status_changed_on"]).tolist():
        problems.append(f"the first {REGISTER_ROWS} rows differ in status_changed_on")
    return problems


def agree_certificates_over_time(query: Any, other: Any, args: dict[str, Any]) -> list[str]:
    theirs = _frame(other).assign(month_on=lambda d: pd.to_datetime(d["month_on"]))
    keys, values = ["month_on", "group_value"], ["certificates_issued", "certificates_valid"]
    both = query[[*keys, *values]].merge(theirs[[*keys, *values]], on=keys, how="outer", suffixes=("_q", "_o"))
    problems = [f"{len(query)} rows from the query layer, {len(theirs)} from the other"] if len(query) != len(
        theirs) else []
    for value in values:
        differ = both[both[f"{value}_q"].astype("Float64") != both[f"{value}_o"].astype("Float64")]
        if len(differ):
            row = differ.iloc[0]
            problems.append(f"{value} differs in {len(differ)} rows, e.g. {row['month_on']:%Y-%m-%d} "
                            f"{row['group_value']}: {row[f'{value}_q']} against {row[f'{value}_o']}")
    return problems


def agree_points_and_countries(query: Any, other: Any, args: dict[str, Any]) -> list[str]:
    (q_points, q_countries), (o_points, o_countries) = query, (_frame(other[0]), _frame(other[1]))
    problems = []
    counts = ["country", "certified_facilities", "ps_certificates", "coc_certificates", "certifications_shown"]
    ours = q_countries[counts].astype({c: "int64" for c in counts[1:]}).reset_index(drop=True)
    theirs = o_countries[counts].astype({c: "int64" for c in counts[1:]}).reset_index(drop=True)
    if not ours.equals(theirs):
        problems.append("country aggregates differ")
    centroid = q_countries[["country", "latitude", "longitude"]].merge(
        o_countries[["country", "latitude", "longitude"]], on="country", suffixes=("_q", "_o"))
    if not np.allclose(centroid[["latitude_q", "longitude_q"]].to_numpy(float),
                       centroid[["latitude_o", "longitude_o"]].to_numpy(float), equal_nan=True):
        problems.append("country centroids differ")
    if len(q_points) != len(o_points) or int(q_points["n_facilities"].sum()) != int(
            o_points["n_facilities"].sum() if "n_facilities" in o_points else len(o_points)):
        problems.append(f"markers: query {len(q_points)}, other {len(o_points)}")
        return problems
    def markers(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
        return sorted(zip(frame["latitude"].round(6), frame["longitude"].round(6), frame["status"],
                          frame["standard_key"], strict=True))
    if markers(q_points) != markers(o_points):
        problems.append("marker positions, statuses or standards differ")
    return problems


def agree_coc_stage_flows(query: Any, other: Any, args: dict[str, Any]) -> list[str]:
    """The competitors compute less (stage totals and primary suppression, no Sankey links and
    no complementary suppression): only the year and that some stage is published are compared."""
    theirs = _frame(other)
    problems = [] if len(theirs) else ["the other side published no stage"]
    if len(query) and set(query["reporting_year"]) != {args["coc_year"]}:
        problems.append("the query layer answered another year")
    return problems


def agree_indicator_series_and_status(query: Any, other: Any, args: dict[str, Any]) -> list[str]:
    from asi_me.publish.indicators import sensitivity
    from asi_me.queries.register_indicators import is_register_indicator

    (q_series, q_status), (o_series, o_status) = query, (_frame(other[0]), _frame(other[1]))
    problems = []
    if [(pd.Timestamp(p), v) for p, v in zip(q_series["period_on"], q_series["value"], strict=True)] != [
            (pd.Timestamp(p), v) for p, v in zip(o_series["period_on"], o_series["value"], strict=True)]:
        problems.append(f"the series of {args['indicator_code']} differs")
    # the query layer answers register indicators from the dashboard's figures and company
    # magnitudes through the disclosure gate; the rest come straight from the observations
    plain = q_status[[not is_register_indicator(c) and sensitivity(c, u) == "programme"
                      for c, u in zip(q_status["indicator_code"], q_status["unit"], strict=True)]]
    both = plain[["indicator_code", "latest_value", "track_status"]].merge(
        o_status[["indicator_code", "latest_value", "track_status"]], on="indicator_code", suffixes=("_q", "_o"))
    if len(both) != len(plain):
        problems.append("indicators missing from the other side")
    wrong = both[~np.isclose(both["latest_value_q"].astype(float), both["latest_value_o"].astype(float),
                             equal_nan=True) | (both["track_status_q"] != both["track_status_o"])]
    if len(wrong):
        problems.append(f"latest value or status differs for {', '.join(wrong['indicator_code'][:5])}")
    return problems


# ---------------------------------------------------------------- the computations


@dataclass(frozen=True)
class Computation:
    name: str
    frames: tuple[str, ...]
    query: Callable[[Store, dict[str, Any]], Any]
    pandas: Callable[[dict[str, pd.DataFrame], dict[str, Any]], Any]
    polars: Callable[[dict[str, pl.DataFrame], dict[str, Any]], Any]
    agree: Callable[[Any, Any, dict[str, Any]], list[str]]


def _outcomes() -> Any:
    from asi_me.queries import outcomes

    return outcomes


def _certifications() -> Any:
    from asi_me.queries import certifications

    return certifications


def _coc() -> Any:
    from asi_me.queries import coc

    return coc


def _toc() -> Any:
    from asi_me.queries import toc

    return toc


COMPUTATIONS: list[Computation] = [
    Computation(
        "dashboard tiles", ("register", "members", "firms", "training_firsts", "meetings"),
        lambda s, a: _outcomes().dashboard_tiles(s, PUBLIC, Filters()),
        lambda f, a: pandas_dashboard_tiles(f, a["as_of"]),
        lambda f, a: polars_dashboard_tiles(f, a["as_of"]),
        agree_dashboard_tiles,
    ),
    Computation(
        "certificate register as of a date", ("register",),
        # what the map's register shows: the first rows, the count and the countries
        lambda s, a: _certifications().certification_register_page(s, PUBLIC, Filters(as_of=a["register_on"]),
                                                                    limit=REGISTER_ROWS),
        lambda f, a: pandas_register_page(f, a["register_on"]),
        lambda f, a: polars_register_page(f, a["register_on"]),
        agree_register,
    ),
    Computation(
        "certificates over time by standard", ("register",),
        lambda s, a: _outcomes().certificates_over_time(s, PUBLIC, Filters(), by="standard"),
        lambda f, a: pandas_certificates_over_time(f, a["as_of"]),
        lambda f, a: polars_certificates_over_time(f, a["as_of"]),
        agree_certificates_over_time,
    ),
    Computation(
        "facility points + country aggregates", ("register",),
        lambda s, a: (_certifications().facility_points(s, PUBLIC, Filters()),
                      _certifications().country_aggregates(s, PUBLIC, Filters())),
        lambda f, a: pandas_points_and_countries(f, a["as_of"]),
        lambda f, a: polars_points_and_countries(f, a["as_of"]),
        agree_points_and_countries,
    ),
    Computation(
        "CoC stage flows for a year", ("coc",),
        lambda s, a: _coc().coc_stage_flows(s, PUBLIC, a["coc_year"], Filters()),
        lambda f, a: pandas_coc_stage_flows(f, a["coc_year"]),
        lambda f, a: polars_coc_stage_flows(f, a["coc_year"]),
        agree_coc_stage_flows,
    ),
    Computation(
        "indicator series + status", ("observations", "indicators"),
        lambda s, a: (_toc().indicator_series(s, PUBLIC, a["indicator_code"], "total", Filters()),
                      _toc().indicator_status(s, PUBLIC, Filters())),
        lambda f, a: pandas_indicator_series_and_status(f, a["indicator_code"], a["as_of"]),
        lambda f, a: polars_indicator_series_and_status(f, a["indicator_code"], a["as_of"]),
        agree_indicator_series_and_status,
    ),
]
LOADERS: dict[str, Callable[[Path, tuple[str, ...]], dict[str, Any]]] = {"pandas": load_pandas,
                                                                         "polars": load_polars}


def arguments(store: Store) -> dict[str, Any]:
    """The as-of date, a register date a year earlier, the latest CoC year and the first indicator."""
    as_of = store.as_of(None)
    years = store.query("select max(reporting_year) as y from coc_reports")["y"]
    code = store.query("select min(indicator_code) as c from indicators")["c"]
    return {
        "as_of": as_of,
        "register_on": date(as_of.year - 1, 12, 31),
        "coc_year": int(years.iloc[0]) if len(years) and not pd.isna(years.iloc[0]) else as_of.year - 1,
        "indicator_code": str(code.iloc[0]) if len(code) and code.iloc[0] is not None else "OP-01",
    }


def all_frames() -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for c in COMPUTATIONS for name in c.frames))


def answer(computation: Computation, side: str, store: Store | None, frames: dict[str, Any] | None,
           args: dict[str, Any]) -> Any:
    if side == "query":
        return computation.query(store, args)  # type: ignore[arg-type]
    return getattr(computation, side)(frames, args)


# ---------------------------------------------------------------- memory, in a fresh process per side


def measure_memory(folder: Path, names: list[str], side: str) -> dict[str, Any]:
    """Held and peak RSS of one side answering `names` (twice each) in this fresh process.

    Held: RSS after the answers (a garbage collection first, the side's Store or frames still
    open, as a server keeps them) minus RSS before loading anything. Peak: the high-water mark
    above the RSS before. The first answer of the query layer here is truly cold."""
    computations = [c for c in COMPUTATIONS if c.name in names]
    probe = Store(folder)
    args = arguments(probe)
    probe.close()
    del probe
    gc.collect()
    has_reset = reset_peak_rss()
    before = rss_mb()
    t0 = time.perf_counter()
    store = Store(folder) if side == "query" else None
    frames = None if side == "query" else LOADERS[side](folder, tuple(dict.fromkeys(
        n for c in computations for n in c.frames)))
    load_s = time.perf_counter() - t0
    first_s = []
    for computation in computations:
        t0 = time.perf_counter()
        answer(computation, side, store, frames, args)
        first_s.append(time.perf_counter() - t0)
        answer(computation, side, store, frames, args)
    gc.collect()
    held, peak = rss_mb() - before, peak_rss_mb() - before
    return {"held_mb": round(held, 1), "peak_mb": round(peak, 1), "rss_before_mb": round(before, 1),
            "open_or_load_s": round(load_s, 3), "cold_first_s": round(sum(first_s), 3), "peak_is_reset": has_reset}


def _child_memory(folder: Path, names: list[str], side: str, timeout_s: float) -> dict[str, Any]:
    command = [sys.executable, __file__, "--folder", str(folder), "--side", side,
               *[a for name in names for a in ("--memory", name)]]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False,
                              cwd=REPO_ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout_s:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the run


def run(folder: Path, reps: int, memory: bool) -> dict[str, Any]:
    """Every computation on every side: agreement, median time, and (with `memory`) held memory."""
    store = Store(folder)
    args = arguments(store)
    loaded: dict[str, dict[str, Any]] = {}
    load_ms: dict[str, float] = {}
    for side, loader in LOADERS.items():
        t0 = time.perf_counter()
        loaded[side] = loader(folder, all_frames())
        load_ms[side] = round(1000 * (time.perf_counter() - t0), 1)
    results = []
    for computation in COMPUTATIONS:
        entry: dict[str, Any] = {"computation": computation.name}
        try:
            answers = {}
            for side in SIDES:
                # warm: the Store is opened once per process and the frames loaded once, like the app's caches
                frames = loaded.get(side)
                answer(computation, side, store, frames, args)
                entry[side], answers[side] = time_call(
                    lambda c=computation, s=side, fr=frames: answer(c, s, store, fr, args), reps)
            entry["agreement"] = {side: computation.agree(answers["query"], answers[side], args)
                                  for side in ("pandas", "polars")}
            entry["is_same_answer"] = not any(entry["agreement"].values())
            fastest = min(entry["pandas"]["median_ms"], entry["polars"]["median_ms"])
            entry["time_ratio"] = round(fastest / max(entry["query"]["median_ms"], 0.01), 2)
        except Exception as exc:  # report and go on: one missing query module must not stop the rest
            entry["error"] = f"{type(exc).__name__}: {exc}"
            results.append(entry)
            continue
        results.append(entry)
    store.close()
    del loaded
    gc.collect()
    if memory:
        timeout = 600.0
        for entry in results:
            if "error" in entry:
                continue
            entry["memory"] = {side: _child_memory(folder, [entry["computation"]], side, timeout) for side in SIDES}
            held = {side: m.get("held_mb") for side, m in entry["memory"].items()}
            if all(v is not None for v in held.values()):
                entry["memory_ratio"] = round(max(held["query"], 0.1) / max(min(held["pandas"], held["polars"]),
                                                                            0.1), 3)
    whole = {side: _child_memory(folder, [c.name for c in COMPUTATIONS], side, 1800.0) for side in SIDES} if (
        memory) else {}
    return {"arguments": {k: str(v) for k, v in args.items()}, "load_ms": load_ms, "computations": results,
            "all_computations_memory": whole,
            "versions": {"pandas": pd.__version__, "polars": pl.__version__}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="data folder (its CURRENT snapshot is measured)")
    parser.add_argument("--folder", type=Path, help="snapshot folder (instead of --data-dir)")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--memory", action="append", help="internal: measure the memory of these computations")
    parser.add_argument("--side", choices=SIDES)
    args = parser.parse_args()
    folder = args.folder or current_folder(args.data_dir)
    if args.memory:
        print(json.dumps(measure_memory(folder, args.memory, args.side)))
        return 0
    result = run(folder, args.reps, memory=not args.no_memory)
    if args.json:
        write_json(args.json, result)
    else:
        print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
