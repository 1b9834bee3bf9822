"""The register sorted and paged on the server: paging through it by any column gives every
row once, in the order a reader sorting the whole register would get (empty values last,
equal values in register order, in both directions), on any as-of date and at scale."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from asi_me.data.snapshot import current_id
from asi_me.data.store import Store
from asi_me.demo.scale import write_scaled
from asi_me.filters import Filters, Viewer
from asi_me.queries import certifications
from asi_me.queries.certifications import REGISTER_SORT_COLUMNS, certification_register_sorted_page
from asi_me.settings import REPO_ROOT

PAGE_ROWS = 200


@pytest.fixture(scope="module")
def demo() -> Store:
    if current_id(Path(REPO_ROOT / "data")) is None:
        pytest.skip("data/ has no snapshot: run `python -m asi_me demo`.")
    store = Store.open_current(REPO_ROOT / "data")
    yield store
    store.close()


def _all_pages(store: Store, viewer: Viewer, filters: Filters | None, sort_by: str, descending: bool) -> pd.DataFrame:
    first = certification_register_sorted_page(store, viewer, filters, sort_by=sort_by, descending=descending,
                                               page_rows=PAGE_ROWS)
    pages = [first.rows, *(
        certification_register_sorted_page(store, viewer, filters, sort_by=sort_by, descending=descending,
                                           page=page, page_rows=PAGE_ROWS).rows
        for page in range(2, -(-first.total // PAGE_ROWS) + 1)
    )]
    out = pd.concat(pages, ignore_index=True)
    assert len(out) == first.total
    return out


@pytest.fixture(scope="module")
def scaled(tmp_path_factory, demo) -> Store:
    """Three copies of the demo (the 100x benchmark data in small): copies share types, scopes,
    statuses and firms, so most sort keys tie across copies."""
    folder = tmp_path_factory.mktemp("x3")
    write_scaled(3, folder, source_dir=REPO_ROOT / "data")
    store = Store.open_current(folder)
    yield store
    store.close()


def _expected(register: pd.DataFrame, sort_by: str, descending: bool) -> list[str]:
    """What a reader sorting the whole register gets: a stable sort of the register (which is in
    register order), empty values last."""
    ordered = register.sort_values(sort_by, ascending=not descending, kind="stable", na_position="last")
    return ordered["certification_id"].tolist()


def _assert_pages_are_the_sorted_register(store: Store, filters: Filters | None, sort_by: str,
                                          descending: bool) -> None:
    register = certifications.certification_register(store, Viewer.secretariat(), filters)
    paged = _all_pages(store, Viewer.secretariat(), filters, sort_by, descending)
    assert paged["certification_id"].is_unique
    assert len(paged) == len(register) > PAGE_ROWS  # several pages, none capped
    expected = _expected(register, sort_by, descending)
    if register[sort_by].duplicated().any():
        # The comparison decides the order of equal values too: ties in reverse register order
        # (what sorting the reversed register, or sorting descending by reversing, would give)
        # are a different list.
        assert _expected(register.iloc[::-1], sort_by, descending) != expected
    assert paged["certification_id"].tolist() == expected


@pytest.mark.parametrize("sort_by", REGISTER_SORT_COLUMNS)
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_paging_through_the_sorted_register_gives_every_row_once_in_order(demo, sort_by, descending):
    _assert_pages_are_the_sorted_register(demo, None, sort_by, descending)


@pytest.mark.parametrize("sort_by", REGISTER_SORT_COLUMNS)
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_the_order_holds_on_an_earlier_date_when_statuses_were_different(demo, sort_by, descending):
    # status and its date depend on the as-of date (the other keys are ranked once per snapshot)
    _assert_pages_are_the_sorted_register(demo, Filters(as_of=date(2023, 6, 30)), sort_by, descending)


@pytest.mark.parametrize("sort_by", REGISTER_SORT_COLUMNS)
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_the_order_holds_on_scaled_data_where_most_keys_tie(scaled, sort_by, descending):
    _assert_pages_are_the_sorted_register(scaled, None, sort_by, descending)


def test_the_low_cardinality_sorts_are_mostly_ties(demo):
    # so the tests above check the order of equal values, not only of distinct ones
    register = certifications.certification_register(demo, Viewer.secretariat())
    for column in ("standard", "standard_version", "certification_type", "status", "region"):
        assert register[column].nunique() * 10 < len(register), column


def test_filters_apply_and_a_member_gets_ids_only_on_its_own_rows(demo):
    europe = Filters(regions=("Europe",), statuses=("certified",))
    register = certifications.certification_register(demo, Viewer.secretariat(), europe)
    owner = str(register["member_id"].value_counts().index[0])
    paged = _all_pages(demo, Viewer.member(owner), europe, "expires_on", True)
    assert sorted(paged["certification_id"]) == sorted(register["certification_id"])
    assert set(paged["region"]) == {"Europe"} and set(paged["status"]) == {"certified"}
    assert set(paged["member_id"].dropna()) == {owner}
    assert paged["member_id"].notna().sum() == (register["member_id"] == owner).sum()


def test_bad_sorts_and_pages_are_refused(demo):
    with pytest.raises(ValueError, match="Cannot sort the register by 'workers'"):
        certification_register_sorted_page(demo, Viewer.public(), sort_by="workers")
    with pytest.raises(ValueError, match="at least 1"):
        certification_register_sorted_page(demo, Viewer.public(), page=0)
    beyond = certification_register_sorted_page(demo, Viewer.public(), page=999)
    assert beyond.rows.empty and beyond.total > 0
