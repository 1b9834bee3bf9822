"""Indicator series as a viewer may have them: company magnitudes come from protected cells.

Most M&E indicators are programme figures or counts of public records (members, meetings,
certificates, trainings) and are published as stored. Five are company magnitudes: the
workforce of PS-certified facilities (ST-02), ASI Aluminium converted into products
(MT-11), the share of global production under CoC (ST-07), and the smelter GHG intensity
and share below the threshold (MT-01, MT-02). For everyone but the secretariat their
stored observations are never served: each value is recomputed from the same protected
cells the dashboard, the CoC screen and the map show, so a figure hidden on a screen is
hidden in every series, file and route, and only the disaggregations those cells cover
are published (ST-02 by region, ST-07 by stage, MT-01/MT-02 by region).
An indicator in a unit of tonnes or emissions that is not declared here is withheld
from them altogether (fail closed).
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from asi_me.data.store import Store
from asi_me.data.vocab import CocStage
from asi_me.filters import Filters, Viewer
from asi_me.publish.policy import DisclosurePolicy
from asi_me.queries import certifications, coc, outcomes

# The company-magnitude indicators and where their protected values come from.
COMPANY_MAGNITUDE: dict[str, str] = {
    "ST-02": "workers",
    "MT-11": "coc_conversion",
    "ST-07": "coc_share",
    "MT-01": "emissions_median",
    "MT-02": "emissions_share",
}
# Units that are always a company magnitude when an indicator is not declared above.
MAGNITUDE_UNITS = frozenset({"t", "t CO2e", "t CO2e/t Al", "workers"})
# ST-07's stage disaggregation is keyed by the activity code of each stage.
STAGE_ACTIVITY: dict[str, str] = {
    CocStage.BAUXITE_MINING.value: "bauxite_mining",
    CocStage.ALUMINA_REFINING.value: "alumina_refining",
    CocStage.PRIMARY_PRODUCTION.value: "primary_production",
    CocStage.SEMI_FABRICATION.value: "semi_fabrication",
    CocStage.MATERIAL_CONVERSION.value: "material_conversion",
    CocStage.RECYCLING.value: "remelting_refining",
}
_COPY_SUFFIX = re.compile(r"-x\d+$")  # copies in the scaled benchmark data (asi_me.demo.scale)
PUBLIC = Viewer.public()
OBSERVATION_COLUMNS = ["indicator_code", "period_on", "dimension", "dimension_value", "value", "status",
                       "suppression_note"]


def base_code(code: str) -> str:
    return _COPY_SUFFIX.sub("", code)


def sensitivity(code: str, unit: str | None) -> str:
    """"company_magnitude" (protected), "withheld" (a magnitude nobody declared) or "programme"."""
    if base_code(code) in COMPANY_MAGNITUDE:
        return "company_magnitude"
    if unit in MAGNITUDE_UNITS:
        return "withheld"
    return "programme"


def coc_indicator_figures(store: Store, viewer: Viewer, policy: DisclosurePolicy | None = None) -> pd.DataFrame:
    """Per CoC reporting year and stage: the world's output as the viewer sees it on the CoC
    screen (NaN where hidden) and IAI's global total; MT-11 and ST-07 are made of these."""
    rows = []
    for year in coc.coc_years(store):
        summary = coc.coc_stage_summary(store, viewer, year, Filters(), policy=policy)
        rows += [{"reporting_year": year, "stage": row.stage, "output_t": row.output_t,
                  "global_t": row.global_t, "suppression_note": row.suppression_note}
                 for row in summary.itertuples(index=False)]
    frame = pd.DataFrame(rows, columns=["reporting_year", "stage", "output_t", "global_t", "suppression_note"])
    frame["indicator_code"] = np.where(frame["stage"] == CocStage.MATERIAL_CONVERSION.value, "MT-11", "ST-07")
    return frame


def _month_end(on: date) -> date:
    return (pd.Timestamp(on) + pd.offsets.MonthEnd(0)).date()


def _protected_rows(store: Store, code: str, source: str, observed: pd.DataFrame,  # noqa: PLR0917
                    policy: DisclosurePolicy, shared: dict[str, object]) -> list[dict[str, object]]:
    """The observations of one company-magnitude indicator, recomputed from protected cells
    at the periods and (covered) disaggregations the stored series has."""
    rows: list[dict[str, object]] = []
    # Plain lists: iterating Arrow-backed columns value by value costs ~1 us a value (2.4 s at 100x).
    periods, dimensions, values = (observed[c].tolist() for c in ("period_on", "dimension", "dimension_value"))
    status = dict(zip(zip(periods, dimensions, values, strict=True), observed["status"].tolist(), strict=True))

    def add(period: date, dimension: str, value_name: str, value: float | None, note: str | None) -> None:
        missing = value is None or (isinstance(value, float) and np.isnan(value))
        rows.append({"indicator_code": code, "period_on": period, "dimension": dimension,
                     "dimension_value": value_name, "value": None if missing or note else value,
                     "status": status.get((period, dimension, value_name), "final"),
                     "suppression_note": note if note else ("no reports" if missing else None)})

    if source == "workers":
        wanted = [(p, d, v) for p, d, v in zip(periods, dimensions, values, strict=True) if d in ("total", "region")]
        ends = {p: _month_end(p) for p in {p for p, _, _ in wanted}}
        cells = outcomes.protected_worker_cells(store, policy, sorted(set(ends.values())))
        for period, dimension, value_name in wanted:
            key = ("world", certifications.WORLD) if dimension == "total" else ("region", value_name)
            value, note = cells.get(ends[period], {}).get(key, (None, None))
            add(period, dimension, value_name, value, note)
        return rows
    if source in ("coc_conversion", "coc_share"):
        if "coc" not in shared:
            shared["coc"] = coc_indicator_figures(store, PUBLIC, policy)
        figures: pd.DataFrame = shared["coc"]  # type: ignore[assignment]
        for row in figures.itertuples(index=False):
            period = date(int(row.reporting_year), 1, 1)
            note = row.suppression_note if isinstance(row.suppression_note, str) else None
            if source == "coc_conversion" and row.stage == CocStage.MATERIAL_CONVERSION.value:
                add(period, "total", "all", row.output_t, note)
            if source == "coc_share":
                share = None if pd.isna(row.output_t) or not row.global_t else 100 * row.output_t / row.global_t
                add(period, "activity", STAGE_ACTIVITY[row.stage], share, note)
                if row.stage == CocStage.PRIMARY_PRODUCTION.value:
                    add(period, "total", "all", share, note)
        return rows
    # Smelter emissions: the protected per-region figures of each year on the map.
    years = sorted({p.year for p in periods})
    for year in years:
        if ("emissions", year) not in shared:
            shared[("emissions", year)] = certifications.smelter_emissions(  # type: ignore[index]
                store, PUBLIC, Filters(as_of=date(year, 12, 31))).by_region
        table: pd.DataFrame = shared[("emissions", year)]  # type: ignore[index]
        for row in table.itertuples(index=False):
            total = row.region == certifications.WORLD
            if source == "emissions_median":
                value = row.median_t_per_t
            else:
                value = None if pd.isna(row.smelters) or not row.smelters else (
                    100 * row.at_or_below_threshold / row.smelters)
            note = row.suppression_note if isinstance(row.suppression_note, str) else None
            add(date(year, 1, 1), "total" if total else "region", "all" if total else row.region, value, note)
    return rows


def observations_for(store: Store, viewer: Viewer, observations: pd.DataFrame,
                     units: dict[str, str | None], policy: DisclosurePolicy | None = None) -> pd.DataFrame:
    """`observations` (rows of indicator_observations) as `viewer` may have them."""
    out = observations.copy()
    if viewer.sees_everything:
        out["suppression_note"] = pd.array([None] * len(out), dtype=object)
        return out
    policy = policy or DisclosurePolicy.from_settings()
    kinds = {code: sensitivity(code, units.get(code)) for code in out["indicator_code"].unique()}
    keep = out[out["indicator_code"].map(kinds) == "programme"].copy()
    keep["suppression_note"] = pd.array([None] * len(keep), dtype=object)
    parts = [keep]
    shared: dict[str, object] = {}  # protected figures of one source, shared by its copies
    magnitude = [code for code, kind in kinds.items() if kind == "company_magnitude"]
    # One pass over the rows instead of one comparison of every row per code (500 codes at 100x).
    by_code = dict(tuple(out[out["indicator_code"].isin(magnitude)].groupby("indicator_code", sort=False)))
    for code in magnitude:
        observed = by_code.get(code, out.iloc[0:0])
        rows = _protected_rows(store, code, COMPANY_MAGNITUDE[base_code(code)], observed, policy, shared)
        parts.append(pd.DataFrame(rows, columns=OBSERVATION_COLUMNS))
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else keep
    frame["value"] = frame["value"].astype("float64")
    frame["period_on"] = pd.to_datetime(frame["period_on"]).dt.date if len(frame) else frame["period_on"]
    return frame.sort_values(["indicator_code", "period_on", "dimension", "dimension_value"]).reset_index(drop=True)
