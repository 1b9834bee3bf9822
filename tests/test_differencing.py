"""Differencing attacks on the demo data, as an auditor of the antitrust policy would run them.

A public visitor can request any combination of filters through the URL. For each
published figure that adds up company data (smelter counts by emission threshold, people
working in PS-certified facilities) these tests request every single region, every single
country and every "all countries of a region but one" list, collect what is shown, and
check that subtracting any two shown figures never isolates fewer than the minimum
number of companies (the reviewer's attack: "All regions" minus "all countries except BH"
gave one smelter, one above the threshold).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date

import pandas as pd
import pytest

from asi_me.data.store import Store
from asi_me.data.vocab import Region, countries
from asi_me.filters import Filters, Viewer
from asi_me.publish.policy import DisclosurePolicy
from asi_me.queries import certifications, outcomes
from asi_me.queries.certifications import run_query
from asi_me.settings import REPO_ROOT

PUBLIC = Viewer.public()
POLICY = DisclosurePolicy()  # the published defaults: 5 companies, 25% dominance


@pytest.fixture(scope="module")
def demo() -> Store:
    store = Store.open_current(REPO_ROOT / "data")
    yield store
    store.close()


def _requests(codes: list[str]) -> list[Filters]:
    """What a visitor can ask for: nothing, each region, each country, and Europe's
    countries (as a list) but one: the region with the most countries to leave out."""
    out = [Filters()]
    out += [Filters(regions=(r.value,)) for r in Region]
    out += [Filters(countries=(c,)) for c in codes]
    europe = sorted(c for c in codes if countries()[c][1] == Region.EUROPE.value)
    out += [Filters(countries=tuple(x for x in europe if x != left_out)) for left_out in europe]
    return out


# ------------------------------------------------------------------ smelter emissions


def test_smelter_emission_aggregates_never_isolate_fewer_than_five_companies(demo):
    smelters = certifications.smelter_emissions(demo, Viewer.secretariat()).smelters
    assert len(smelters) > 50  # the demo has enough smelters for the attack to mean something
    smelters = smelters.assign(region=smelters["region"].fillna("Unknown region"))
    companies = {certifications.WORLD: set(smelters["member_id"])}
    companies.update({r: set(part["member_id"]) for r, part in smelters.groupby("region")})
    truth = {certifications.WORLD: smelters}
    truth.update(dict(iter(smelters.groupby("region"))))

    seen: dict[str, tuple[int, int]] = {}
    for request in _requests(sorted(smelters["country"].unique())):
        shown = certifications.smelter_emissions(demo, PUBLIC, request).by_region
        for row in shown[~shown["is_suppressed"]].itertuples(index=False):
            # the row is exactly the world or region aggregate it is labelled with,
            # whatever country list was asked for
            part = truth[row.region]
            figures = (int(row.smelters), int(row.above_threshold))
            assert figures == (len(part), int(part["is_above_threshold"].sum())), (request, row.region)
            assert int(row.at_or_below_threshold) == len(part) - int(part["is_above_threshold"].sum())
            seen[row.region] = figures
        if request.countries:
            assert "country" in set(shown["filters_not_applied"])
    assert certifications.WORLD in seen and len(seen) >= 3

    for region in seen:
        assert len(companies[region]) >= POLICY.min_reporters, region
    # every difference of two visible nested cells (the world and a region) covers at least 5 companies
    for region in seen.keys() - {certifications.WORLD}:
        outside = set(smelters.loc[smelters["region"] != region, "member_id"])
        assert len(outside) >= POLICY.min_reporters, f"All regions minus {region} covers {len(outside)} companies"


def test_the_reviewers_smelter_attack_gives_nothing(demo):
    # "All regions" minus "all countries except one": the country list does not apply, so the
    # difference is 0 for every country with smelters.
    smelters = certifications.smelter_emissions(demo, Viewer.secretariat()).smelters
    everyone = certifications.smelter_emissions(demo, PUBLIC).by_region.set_index("region")
    for country in sorted(smelters["country"].unique()):
        others = tuple(sorted(set(smelters["country"]) - {country}))
        shown = certifications.smelter_emissions(demo, PUBLIC, Filters(countries=others)).by_region.set_index("region")
        pd.testing.assert_frame_equal(shown.drop(columns="filters_not_applied"),
                                      everyone.drop(columns="filters_not_applied"))


# ------------------------------------------------------------------ workers tile


def _company_workers(demo: Store, on: date) -> pd.DataFrame:
    rows = run_query(demo, "outcomes_ps_workers_by_company", {"dates": [on]})
    return rows[rows["workers"] > 0]


def _cell_rows(rows: pd.DataFrame, key: tuple[str, str]) -> pd.DataFrame:
    kind, name = key
    return rows if kind == "world" else rows[rows[kind] == name]


def test_workers_tile_never_isolates_one_company(demo):
    on = demo.data_as_of
    rows = _company_workers(demo, on)
    assert rows["member_id"].nunique() > 50
    # every single company's workforce in any country, region or the world: what an attacker would look for
    single: set[float] = set()
    for column in ("country", "region"):
        single |= {float(v) for v in rows.groupby([column, "member_id"])["workers"].sum()}
    single |= {float(v) for v in rows.groupby("member_id")["workers"].sum()}

    visible: dict[tuple[str, str], float] = {}
    codes = sorted(set(rows["country"]) | {"IS", "NZ"})
    for request in _requests(codes):
        key, _, frame = outcomes.protected_workers(demo, request, [on], POLICY)
        value, note = frame.loc[on, "ps_workers"], frame.loc[on, "suppression_note"]
        if note is not None:
            assert pd.isna(value)
            continue
        part = _cell_rows(rows, key)
        assert value == part["workers"].sum(), request
        if part.empty:
            continue  # a true zero: nobody reported
        volumes = part.groupby("member_id")["workers"].sum()
        assert len(volumes) >= POLICY.min_reporters, (request, key)
        assert volumes.max() / volumes.sum() <= POLICY.max_dominance + 1e-12, (request, key)
        visible[key] = float(value)
    assert ("world", certifications.WORLD) in visible and any(k[0] == "region" for k in visible)
    # workforce is never published by country: Argentina's one company (the reviewer's 1659) included
    assert not any(k[0] == "country" for k in visible)

    by_company: dict[tuple[str, str], pd.Series] = defaultdict(lambda: pd.Series(dtype="float64"))
    for key in visible:
        by_company[key] = _cell_rows(rows, key).groupby("member_id")["workers"].sum()
    for (a, va), (b, vb) in itertools.combinations(visible.items(), 2):
        assert abs(va - vb) not in single or va == vb, f"{a} and {b} differ by one company's workers"
        # nested cells: the difference covers at least 5 companies
        if a[0] == "world" or (a[0] == "region" and b[0] == "country" and countries()[b[1]][1] == a[1]):
            rest = by_company[a].sub(by_company[b], fill_value=0)
            assert (rest > 0).sum() >= POLICY.min_reporters or rest.abs().sum() == 0, (a, b)


def test_the_public_tile_is_what_the_attack_enumerated(demo):
    on = demo.data_as_of
    for request in (Filters(regions=("Europe",)), Filters(countries=("DE", "FR"))):
        tile = outcomes.dashboard_tiles(demo, PUBLIC, request).tile("ps_workers")
        _, _, frame = outcomes.protected_workers(demo, request, [on], POLICY)
        expected = frame.loc[on, "ps_workers"]
        assert (pd.isna(tile.value) and pd.isna(expected)) or tile.value == expected
    argentina = outcomes.dashboard_tiles(demo, Viewer.member("M0001"), Filters(countries=("AR",))).tile("ps_workers")
    world = outcomes.dashboard_tiles(demo, Viewer.member("M0001")).tile("ps_workers")
    assert argentina.value == world.value  # the country filter does not narrow it
    assert "The country filter(s) do not apply to this figure." in argentina.definition
