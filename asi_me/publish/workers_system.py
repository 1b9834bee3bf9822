"""People working in PS-certified facilities on one date as one system of atoms.

Atoms are the workers of one region (every company's certified facilities there). The
figures a viewer can get are the world and each region (the dashboard tile for no or one
region filter, and the ST-02 indicator series by region). Workforce is never published by
country: in most countries one or two companies hold every certified facility, so a
country figure would be a company's workforce or would have to be suppressed. The
sensitive unions are the complements a subtraction would give: the world minus a region,
wherever it fails the policy by itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import numpy as np

from asi_me.publish.policy import DisclosurePolicy
from asi_me.publish.protection import Figure, FigureSystem, Sensitive

WORLD = "All regions"
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class CompanyWorkers:
    """Per covered facility and date (sorted by day number): its company, country, region
    (as codes into the name lists) and workers."""

    days: np.ndarray
    companies: np.ndarray
    countries_at: np.ndarray
    country_names: list[str]
    regions_at: np.ndarray
    region_names: list[str]
    workers: np.ndarray


def _note(policy: DisclosurePolicy, volumes: dict[int, float]) -> str | None:
    return policy.primary_note({str(k): v for k, v in volumes.items() if v > 1e-9})


def workers_date_system(table: CompanyWorkers, on: date, policy: DisclosurePolicy) -> FigureSystem:
    """The world and region figures of `on` over its region atoms."""
    at = table.days == (on - _EPOCH).days
    companies = table.companies[at].tolist()
    regions = [table.region_names[r] for r in table.regions_at[at].tolist()]
    workers = table.workers[at].tolist()
    system = FigureSystem.empty()
    by_region: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for company, region, amount in zip(companies, regions, workers, strict=True):
        by_region[region][company] += float(amount)
    own: dict[int, dict[int, float]] = defaultdict(dict)
    for region in sorted(by_region):
        index = system.atom(region, float(sum(by_region[region].values())))
        for company, amount in by_region[region].items():
            own[company][index] = amount
    system.own = {str(c): _dense(v, len(system.atoms)) for c, v in own.items()}

    def volumes(of: list[str]) -> dict[int, float]:
        merged: dict[int, float] = defaultdict(float)
        for region in of:
            for company, amount in by_region[region].items():
                merged[company] += amount
        return merged

    def add(key: tuple[str, str], of: list[str], weight: float) -> None:
        vector = {system.index[r]: 1.0 for r in of}
        system.figures[key] = Figure(key, vector, system.value_of(vector), _note(policy, volumes(of)), weight=weight)

    everywhere = sorted(by_region)
    add(("world", WORLD), everywhere, 1000.0)
    for region in everywhere:
        add(("region", region), [region], 1.0)
        _sensitive(system, policy, ("rest", "world", region), [r for r in everywhere if r != region], volumes)
    return system


def _sensitive(system: FigureSystem, policy: DisclosurePolicy, key: tuple[str, str, str], of: list[str],
               volumes: object) -> None:
    if not of:
        return
    note = _note(policy, volumes(of))  # type: ignore[operator]
    if note is not None:
        vector = {system.index[c]: 1.0 for c in of}
        system.sensitive.append(Sensitive(key, vector, system.value_of(vector), note))


def _dense(values: dict[int, float], n: int) -> np.ndarray:
    out = np.zeros(n)
    for index, value in values.items():
        out[index] = value
    return out
