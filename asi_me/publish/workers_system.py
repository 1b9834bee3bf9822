"""People working in PS-certified facilities on one date as one system of atoms.

Atoms are the workers of one country (every company's certified facilities there). The
figures a viewer can get are the world, each region and each country (the dashboard tile
for each geographic filter, and the ST-02 indicator series by region and country). The
sensitive unions are the complements a subtraction would give: the world minus a region,
a region minus one of its countries, wherever they fail the policy by themselves.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Protocol

import numpy as np

from asi_me.policy import DisclosurePolicy
from asi_me.publish.protection import Figure, FigureSystem, Sensitive

WORLD = "All regions"
_EPOCH = date(1970, 1, 1)


class CompanyWorkers(Protocol):
    """Per covered facility and date: its company, country and region codes and workers."""

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
    """The world, region and country figures of `on` over its country atoms."""
    at = table.days == (on - _EPOCH).days
    companies = table.companies[at].tolist()
    countries = [table.country_names[c] for c in table.countries_at[at].tolist()]
    regions = [table.region_names[r] for r in table.regions_at[at].tolist()]
    workers = table.workers[at].tolist()
    system = FigureSystem.empty()
    by_country: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    region_of: dict[str, str] = {}
    for company, country, region, amount in zip(companies, countries, regions, workers, strict=True):
        by_country[country][company] += float(amount)
        region_of[country] = region
    own: dict[int, dict[int, float]] = defaultdict(dict)
    for country in sorted(by_country):
        index = system.atom(country, float(sum(by_country[country].values())))
        for company, amount in by_country[country].items():
            own[company][index] = amount
    system.own = {str(c): _dense(v, len(system.atoms)) for c, v in own.items()}

    def volumes(of: list[str]) -> dict[int, float]:
        merged: dict[int, float] = defaultdict(float)
        for country in of:
            for company, amount in by_country[country].items():
                merged[company] += amount
        return merged

    def add(key: tuple[str, str], of: list[str], weight: float) -> None:
        vector = {system.index[c]: 1.0 for c in of}
        system.figures[key] = Figure(key, vector, system.value_of(vector), _note(policy, volumes(of)), weight=weight)

    everywhere = sorted(by_country)
    add(("world", WORLD), everywhere, 1000.0)
    for region in sorted(set(region_of.values())):
        inside = [c for c in everywhere if region_of[c] == region]
        add(("region", region), inside, 10.0)
        rest = [c for c in everywhere if region_of[c] != region]
        _sensitive(system, policy, ("rest", "world", region), rest, volumes)
        for country in inside:
            add(("country", country), [country], 1.0)
            _sensitive(system, policy, ("rest", region, country), [c for c in inside if c != country], volumes)
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
