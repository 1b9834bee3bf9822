"""Published datasets, declared once: every figure that leaves the secretariat's view.

Each dataset names its title, description, unit, source, dimensions and measures, and for
each measure its sensitivity (see `Sensitivity`). A company-magnitude measure names the
column that says which member company contributes each row of the data it is made of,
and its figures are always built through the disclosure gate (asi_me.publish.gate and the
protected query functions); programme figures identify no company and are published as
they are. The Data screen's downloads, the zip, the workbook and the data API
(asi_me.publish.api) all serve these declarations and nothing else to a viewer other than
the secretariat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.publish.numbers import round_frame
from asi_me.queries import certifications, coc, outcomes, toc

Sensitivity = Literal["company_magnitude", "company_count", "programme"]
PUBLIC = Viewer.public()


@dataclass(frozen=True)
class Measure:
    """One published value column and how sensitive it is."""

    column: str
    unit: str
    sensitivity: Sensitivity
    contributor: str | None = None  # for a company magnitude: the column naming each row's company

    def __post_init__(self) -> None:
        if self.sensitivity == "company_magnitude" and not self.contributor:
            raise ValueError(f"Measure {self.column!r} is a company magnitude and must name its contributor column.")


@dataclass(frozen=True)
class PublishedDataset:
    """A figure set ASI publishes: its metadata and how a viewer's rows are built."""

    name: str
    title: str
    description: str
    source: str
    dimensions: tuple[str, ...]
    measures: tuple[Measure, ...]
    build: Callable[[Store, Filters | None], pd.DataFrame]
    suppression_note: str = (
        "Figures that would reveal one company's data are suppressed under the ASI Antitrust Compliance Policy: "
        "a cell is published only where at least 5 member companies report it and none dominates it, and no hidden "
        "cell can be worked out from the published ones (see docs/disclosure.md)."
    )
    extra: dict[str, str] = field(default_factory=dict)
    # units of published value columns that are not measures (shares, totals, coordinates)
    column_units: dict[str, str] = field(default_factory=dict)

    @property
    def units(self) -> dict[str, str]:
        """The declared unit of every value column: measures first, then other columns."""
        return {**self.column_units, **{m.column: m.unit for m in self.measures}}

    def published(self, store: Store, filters: Filters | None) -> pd.DataFrame:
        """The rows as every download serves them: each figure rounded to its unit's precision
        (asi_me.publish.numbers); hidden figures stay empty."""
        return round_frame(self.build(store, filters), self.units)

    @property
    def sensitivities(self) -> set[str]:
        return {m.sensitivity for m in self.measures}

    def metadata(self) -> dict[str, object]:
        return {
            "name": self.name, "title": self.title, "description": self.description, "source": self.source,
            "dimensions": list(self.dimensions),
            "measures": [{"column": m.column, "unit": m.unit, "sensitivity": m.sensitivity} for m in self.measures],
            "units": self.units,
            "suppression_note": self.suppression_note,
        }


def _coc_year(store: Store, filters: Filters | None) -> int | None:
    as_of = (filters or Filters()).as_of
    return coc.coc_default_year(store, as_of)


def _coc_summary(store: Store, filters: Filters | None) -> pd.DataFrame:
    year = _coc_year(store, filters)
    if year is None:
        return pd.DataFrame()
    return coc.coc_stage_summary(store, PUBLIC, year, filters)


def _coc_flows(store: Store, filters: Filters | None) -> pd.DataFrame:
    year = _coc_year(store, filters)
    if year is None:
        return pd.DataFrame()
    return coc.coc_stage_flows(store, PUBLIC, year, filters)


def _workers(store: Store, filters: Filters | None) -> pd.DataFrame:
    dates = outcomes.worker_dates(store)
    key, ignored, frame = outcomes.protected_workers(store, filters, dates)
    out = frame.reset_index()
    out.insert(1, "place", key[1])
    out["filters_not_applied"] = ", ".join(ignored) or None
    return out


def _smelters_by_region(store: Store, filters: Filters | None) -> pd.DataFrame:
    return certifications.smelter_emissions(store, PUBLIC, filters).by_region


_COUNT = "count"
_PLACES = {"latitude": "degrees", "longitude": "degrees"}
DATASETS: dict[str, PublishedDataset] = {
    d.name: d
    for d in (
        PublishedDataset(
            "outcomes_dashboard", "Outcomes dashboard tiles",
            "Each published tile at the as-of date, a month and a year earlier, with its definition and source.",
            "ASI CRM, elementAl, educationAl and governance records", ("tile",),
            (Measure("value", "as stated per tile", "programme"),),
            lambda s, f: outcomes.dashboard_tiles(s, PUBLIC, f).to_frame(),
            column_units={"secondary_value": _COUNT},  # valid certificates; countries of auditing firms
        ),
        PublishedDataset(
            "members_by_class", "Members by membership class", "Members per membership class at each month end.",
            "ASI CRM membership records", ("on_date", "membership_class"), (Measure("members", _COUNT, "programme"),),
            lambda s, f: outcomes.members_by_class(s, PUBLIC, f),
        ),
        PublishedDataset(
            "certificates_by_standard", "Certificates by standard over time",
            "Certificates issued (cumulative) and valid at each month end, per standard, with version breaks.",
            "elementAl certifications", ("on_date", "standard"), (Measure("certificates", _COUNT, "programme"),),
            lambda s, f: outcomes.certificates_over_time(s, PUBLIC, f, by="standard"),
        ),
        PublishedDataset(
            "certification_register", "Register of certifications",
            "The public register: one row per certification issued by the as-of date (and within the period, "
            "when one is set), with its status then.",
            "elementAl certifications (ASI's public register)", ("certification",), (),
            lambda s, f: certifications.certification_register(s, PUBLIC, f), column_units=_PLACES,
        ),
        PublishedDataset(
            "certified_countries", "Certifications by country",
            "Per country: facilities with a valid certification and valid certificates by standard.",
            "elementAl certifications", ("country",), (Measure("facilities", _COUNT, "programme"),),
            lambda s, f: certifications.country_aggregates(s, PUBLIC, f), column_units=_PLACES,
        ),
        PublishedDataset(
            "nc_closure_by_principle", "Non-conformance closure by PS principle",
            "Share of non-conformances closed at the next audit, per Performance Standard principle.",
            "elementAl audit findings", ("principle",), (Measure("closed_share", "share", "company_count", None),),
            lambda s, f: outcomes.nc_closure_by_principle(s, PUBLIC, f),
        ),
        PublishedDataset(
            "smelter_emissions_by_region", "Smelter GHG intensity by region",
            "Smelters above and at or below 8 t CO2e/t Al (scope 1+2) and the median, per region.",
            "CRU Emissions Analysis Tool; member data", ("region",),
            (Measure("smelters", _COUNT, "company_count"),
             Measure("median_t_per_t", "t CO2e/t Al", "company_magnitude", "member_id")),
            _smelters_by_region,
        ),
        PublishedDataset(
            "indicator_status", "Indicator status",
            "Each M&E indicator with baseline, target, latest value and on-track status.",
            "ASI M&E indicators", ("indicator_code",),
            (Measure("latest_value", "as stated per indicator", "company_magnitude", "member_id"),),
            lambda s, f: toc.indicator_status(s, PUBLIC, f),
        ),
        PublishedDataset(
            "coc_stage_summary", "CoC material by stage",
            "Per value-chain stage for the reporting year (the latest due by the as-of date): reporters, input, "
            "output, share of IAI's global total and what left the CoC chain.",
            "CoC annual material reports; IAI global totals", ("reporting_year", "stage"),
            (Measure("input_t", "t", "company_magnitude", "member_id"),
             Measure("output_t", "t", "company_magnitude", "member_id"),
             Measure("reporters", _COUNT, "company_count")),
            _coc_summary,
            column_units={"global_t": "t", "share_of_global": "share", "attrition_t": "t", "attrition_pct": "share"},
        ),
        PublishedDataset(
            "coc_flows", "CoC material flows",
            "The Sankey's links for the reporting year: stage to stage, what left the chain and final products.",
            "CoC annual material reports", ("reporting_year", "source", "target", "material"),
            (Measure("value_t", "t", "company_magnitude", "member_id"),),
            _coc_flows, column_units={"share_of_source": "share"},
        ),
        PublishedDataset(
            "workers_in_ps_certified_facilities", "People working in PS-certified facilities",
            "Workers at facilities holding a valid PS certification, for the world or one region, at each month end.",
            "elementAl certifications", ("on_date", "place"),
            (Measure("ps_workers", "people", "company_magnitude", "member_id"),),
            _workers,
        ),
    )
}
