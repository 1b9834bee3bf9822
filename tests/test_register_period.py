"""The register under the filter bar's period, and the records behind a country on the map.

The period keeps the certifications issued within it (both ends included): the very
certificates that entered the "issued" count of the dashboard's "Why did it move?"
breakdown over that window. A country's records are exactly what its figures count, and a
member only ever gets its own.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from asi_me.data.snapshot import current_id
from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.queries import certifications, changes
from asi_me.settings import REPO_ROOT

YEAR_2022 = Filters(period_from=date(2022, 1, 1), period_to=date(2022, 12, 31))


@pytest.fixture(scope="module")
def demo() -> Store:
    if current_id(Path(REPO_ROOT / "data")) is None:
        pytest.skip("data/ has no snapshot: run `python -m asi_me demo`.")
    store = Store.open_current(REPO_ROOT / "data")
    yield store
    store.close()


@pytest.mark.parametrize("standard", ["PS", "CoC"])
def test_the_register_of_a_period_holds_what_entered_the_issued_count_in_the_change_breakdown(demo, standard):
    period = YEAR_2022.replace(standards=(standard,))
    register = certifications.certification_register(demo, Viewer.secretariat(), period)
    subject = "ps_certificates" if standard == "PS" else "coc_certificates"
    # the breakdown's window (start, end] counts what was issued from the day after start
    entered = changes.change_records(
        demo, Viewer.secretariat(), Filters(standards=(standard,)), subject=subject, figure="value",
        start_on=period.period_from - timedelta(days=1), end_on=period.period_to)
    assert set(entered["direction"]) == {"entered"}
    assert len(register) > 10
    assert sorted(register["certification_id"]) == sorted(entered["certification_id"])
    everything = certifications.certification_register(demo, Viewer.secretariat(), Filters(standards=(standard,)))
    assert len(everything) > len(register)


def test_both_ends_of_the_period_are_included_and_an_open_end_does_not_restrict(demo):
    register = certifications.certification_register(demo, Viewer.secretariat())
    issued = pd.to_datetime(register["issued_on"]).dt.date
    day = issued.iloc[len(issued) // 2]
    on_the_day = certifications.certification_register(
        demo, Viewer.secretariat(), Filters(period_from=day, period_to=day))
    assert sorted(on_the_day["certification_id"]) == sorted(register.loc[issued == day, "certification_id"])
    since = certifications.certification_register(demo, Viewer.secretariat(), Filters(period_from=day))
    assert len(since) == int((issued >= day).sum())
    until = certifications.certification_register(demo, Viewer.secretariat(), Filters(period_to=day))
    assert len(until) == int((issued <= day).sum())


@pytest.mark.parametrize("sort_by", [None, "issued_on", "member_name"])
def test_the_register_counts_agree_with_its_rows_under_a_period(demo, sort_by):
    period = YEAR_2022.replace(regions=("Europe",))
    register = certifications.certification_register(demo, Viewer.public(), period)
    if sort_by is None:
        page = certifications.certification_register_page(demo, Viewer.public(), period, limit=10_000)
    else:
        page = certifications.certification_register_sorted_page(demo, Viewer.public(), period, sort_by=sort_by,
                                                                 page_rows=10_000)
    assert page.total == len(page.rows) == len(register) > 0
    assert page.countries == register["country"].nunique()
    assert sorted(page.rows["certification_id"]) == sorted(register["certification_id"])
    assert pd.to_datetime(page.rows["issued_on"]).dt.year.eq(2022).all()


def test_a_period_after_the_as_of_date_leaves_the_register_empty(demo):
    late = Filters(as_of=date(2020, 12, 31), period_from=date(2021, 1, 1))
    page = certifications.certification_register_sorted_page(demo, Viewer.public(), late, sort_by="issued_on")
    assert page.total == 0 and page.rows.empty


def _countries(demo: Store) -> pd.DataFrame:
    return certifications.country_aggregates(demo, Viewer.public(), YEAR_2022.replace(as_of=date(2024, 6, 30)))


def test_a_countrys_records_are_exactly_what_its_figures_count(demo):
    figures = _countries(demo)
    filters = YEAR_2022.replace(as_of=date(2024, 6, 30))  # the period does not touch the map's figures
    for row in figures.loc[figures["certified_facilities"] > 0].head(8).itertuples():
        records = certifications.country_records(demo, Viewer.secretariat(), row.country, filters)
        assert records["facility_id"].nunique() == row.certified_facilities
        assert (records["standard"] == "PS").sum() == row.ps_certificates
        assert (records["standard"] == "CoC").sum() == row.coc_certificates
        assert set(records["country"]) == {row.country}
        assert set(records["status"]) <= {"certified", "provisional"}


def test_a_member_gets_only_its_own_records_of_a_country_and_the_public_none(demo):
    figures = _countries(demo)
    country = str(figures["country"].iloc[0])
    everything = certifications.country_records(demo, Viewer.secretariat(), country)
    owners = everything["member_id"].value_counts()
    assert len(owners) > 1  # the country holds several members' certifications
    member = str(owners.index[0])
    own = certifications.country_records(demo, Viewer.member(member), country)
    assert len(own) == owners.iloc[0] < len(everything)
    assert set(own["member_id"]) == {member}
    facilities = demo.query("select facility_id from facilities where member_id = $m", {"m": member})
    assert set(own["facility_id"]) <= set(facilities["facility_id"])
    assert certifications.country_records(demo, Viewer.public(), country).empty


def test_an_unknown_country_is_refused_in_words(demo):
    with pytest.raises(ValueError, match="is not a country code"):
        certifications.country_records(demo, Viewer.secretariat(), "ZZ")
