"""The committed demo snapshot, read through the outcomes and certification queries, gives
the figures ASI has published (shared/reference/asi_published_figures.csv)."""

from __future__ import annotations

from datetime import date

import pytest

from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.queries import certifications, outcomes
from asi_me.settings import REPO_ROOT

PUBLIC = Viewer.public()


@pytest.fixture(scope="module")
def demo() -> Store:
    store = Store.open_current(REPO_ROOT / "data")
    yield store
    store.close()


@pytest.mark.parametrize(
    ("on", "members"),
    [(date(2015, 6, 30), 13), (date(2017, 12, 31), 56), (date(2020, 3, 31), 118), (date(2021, 11, 30), 200)],
)
def test_members_match_published_counts(demo, on, members):
    assert outcomes.dashboard_tiles(demo, PUBLIC, Filters(as_of=on)).tile("members").value == members


@pytest.mark.parametrize(("on", "ps", "coc"), [(date(2020, 12, 31), 74, 31), (date(2022, 12, 31), 165, 67)])
def test_certificates_issued_match_published_counts(demo, on, ps, coc):
    tiles = outcomes.dashboard_tiles(demo, PUBLIC, Filters(as_of=on))
    assert (tiles.tile("ps_certificates").value, tiles.tile("coc_certificates").value) == (ps, coc)
    # the register as of that date lists exactly the issued certificates
    register = certifications.certification_register(demo, PUBLIC, Filters(as_of=on))
    assert register["standard"].value_counts().to_dict() == {"PS": ps, "CoC": coc}


def test_certified_countries_in_february_2021(demo):
    on = Filters(as_of=date(2021, 2, 28))
    assert outcomes.dashboard_tiles(demo, PUBLIC, on).tile("certified_countries").value == 34
    by_country = certifications.country_aggregates(demo, PUBLIC, on)
    assert (by_country["certified_facilities"] > 0).sum() == 34


def test_series_end_where_the_tile_is(demo):
    tiles = outcomes.dashboard_tiles(demo, PUBLIC, Filters(as_of=date(2020, 12, 31)))
    for tile in tiles.tiles:
        if tile.series:
            assert tile.series[-1].on_date == date(2020, 12, 31)
            assert tile.series[-1].value == pytest.approx(tile.value)


def test_tiles_agree_with_the_monthly_insight_indicators(demo):
    """The demo's M&E Insights (OP-01 ...) and the dashboard tiles count the same things."""
    tiles = outcomes.dashboard_tiles(demo, PUBLIC)
    insights = outcomes.me_insights(demo, PUBLIC).set_index("indicator_code")["value"]
    pairs = {"members": "OP-01", "ps_certificates": "OP-02", "coc_certificates": "OP-03",
             "certified_countries": "OP-04", "auditing_firms": "OP-05", "auditors_trained": "OP-07",
             "members_stakeholders_trained": "OP-08", "ps_workers": "ST-02"}
    assert {code: tiles.tile(code).value for code in pairs} == {code: insights[op] for code, op in pairs.items()}


@pytest.mark.parametrize("on", [date(2019, 6, 30), date(2021, 2, 28), date(2023, 8, 31), date(2025, 12, 31)])
def test_tile_running_totals_agree_with_the_register_on_that_date(demo, on):
    """The tiles count with running totals; the register evaluates each certification's
    status on the date directly. Both must agree on the demo's real history."""
    tiles = outcomes.dashboard_tiles(demo, PUBLIC, Filters(as_of=on))
    register = certifications.certification_register(demo, PUBLIC, Filters(as_of=on))
    valid = register[register["status"].isin(["certified", "provisional"])]
    assert tiles.tile("ps_certificates").secondary_value == (valid["standard"] == "PS").sum()
    assert tiles.tile("coc_certificates").secondary_value == (valid["standard"] == "CoC").sum()
    assert tiles.tile("certified_countries").value == valid["country"].nunique()
    ps = valid[valid["standard"] == "PS"]
    leveraging = ps["external_certifications"].map(len).gt(0).mean() * 100
    assert tiles.tile("ps_external_share").value == pytest.approx(leveraging, abs=0.05)
