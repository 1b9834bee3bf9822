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


def day_slice(table: CompanyWorkers, on: date) -> slice:
    """The rows of `on` (the table is sorted by day number)."""
    day = (on - _EPOCH).days
    return slice(int(np.searchsorted(table.days, day, "left")), int(np.searchsorted(table.days, day, "right")))


def _notes(policy: DisclosurePolicy, volumes: np.ndarray) -> list[str | None]:
    """The policy's primary note of each row of a unions x companies matrix of volumes.

    Vectorised (one sort per matrix instead of a dict per union): at 100x a date has
    thousands of companies and the workers figures are protected on every month end.
    """
    if volumes.shape[1] == 0:
        return [None] * volumes.shape[0]
    positive = np.where(volumes > 1e-9, volumes, 0.0)
    ordered = -np.sort(-positive, axis=1)
    reporters = (positive > 0).sum(axis=1)
    largest = ordered[:, 0]
    second = ordered[:, 1] if ordered.shape[1] > 1 else np.zeros(len(ordered))
    totals = positive.sum(axis=1)
    return [policy.primary_note_of(int(n), float(top), float(total), float(runner_up))
            for n, top, total, runner_up in zip(reporters.tolist(), largest.tolist(), totals.tolist(),
                                                 second.tolist(), strict=True)]


def workers_date_system(table: CompanyWorkers, on: date, policy: DisclosurePolicy) -> FigureSystem:
    """The world and region figures of `on` over its region atoms."""
    rows = day_slice(table, on)
    companies, company_at = np.unique(table.companies[rows], return_inverse=True)
    region_codes, region_at = np.unique(table.regions_at[rows], return_inverse=True)
    names = [table.region_names[r] for r in region_codes.tolist()]
    order = sorted(range(len(names)), key=names.__getitem__)
    # region x company workers, regions in name order (the atoms' order)
    matrix = np.zeros((len(names), len(companies)))
    np.add.at(matrix, (np.argsort(order)[region_at], company_at), table.workers[rows].astype("float64"))
    everywhere = [names[i] for i in order]
    system = FigureSystem.empty()
    for region, row in zip(everywhere, matrix, strict=True):
        system.atom(region, float(row.sum()))
    system.own_matrix = matrix.T.copy()
    system.own = dict(zip(map(str, companies.tolist()), system.own_matrix, strict=True))
    world = matrix.sum(axis=0)
    # the world, each region, and the world minus each region (what a subtraction gives)
    unions = np.vstack([world[None, :], matrix, world[None, :] - matrix]) if everywhere else world[None, :]
    notes = _notes(policy, unions)
    n = len(everywhere)

    def add(key: tuple[str, str], of: list[str], weight: float, note: str | None) -> None:
        vector = {system.index[r]: 1.0 for r in of}
        system.figures[key] = Figure(key, vector, system.value_of(vector), note, weight=weight)

    add(("world", WORLD), everywhere, 1000.0, notes[0])
    for i, region in enumerate(everywhere):
        add(("region", region), [region], 1.0, notes[1 + i])
        rest = [r for r in everywhere if r != region]
        if rest and notes[1 + n + i] is not None:
            vector = {system.index[r]: 1.0 for r in rest}
            system.sensitive.append(Sensitive(("rest", "world", region), vector, system.value_of(vector),
                                              notes[1 + n + i]))
    return system
