"""Why did a tile move: the change breakdown adds up to the tile's change, and the records
behind each bar are exactly the ones counted, within the viewer's rights."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import pytest
from conftest import certification, facility, make_store, member

from asi_me.data.snapshot import current_id
from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.queries import changes, outcomes
from asi_me.settings import REPO_ROOT

PUBLIC = Viewer.public()
SECRETARIAT = Viewer.secretariat()
FIGURES = list(changes.FIGURE_LABELS)
# Month ends and mid-month days across the demo history, paired in both near and far windows.
DAYS = [date(2017, 12, 31), date(2019, 6, 15), date(2020, 12, 31), date(2021, 7, 1), date(2022, 3, 31),
        date(2022, 12, 31), date(2023, 11, 20), date(2024, 12, 31), date(2025, 8, 31), date(2026, 10, 31)]
PAIRS = list(itertools.combinations(DAYS, 2))
FILTER_SETS = [
    Filters(),
    Filters(regions=("Europe",)),
    Filters(activities=("casthouse",)),
    Filters(versions=("PS-2017", "CoC-2017")),
    Filters(membership_classes=("production_transformation",)),
    Filters(statuses=("expired",)),
    Filters(statuses=("certified",), countries=("DE", "CN", "AU")),
]


def breakdown(store, viewer, filters, subject, figure, start_on=None, end_on=None, **kwargs):
    return changes.change_breakdown(store, viewer, filters, subject=subject, figure=figure, start_on=start_on,
                                    end_on=end_on, **kwargs)


def records(store, viewer, filters, subject, figure, start_on=None, end_on=None, **kwargs):
    return changes.change_records(store, viewer, filters, subject=subject, figure=figure, start_on=start_on,
                                  end_on=end_on, **kwargs)


@pytest.fixture(scope="module")
def demo() -> Store:
    if current_id(Path(REPO_ROOT / "data")) is None:
        pytest.skip("data/ has no snapshot: run `python -m asi_me demo`.")
    store = Store.open_current(REPO_ROOT / "data")
    yield store
    store.close()


@pytest.mark.parametrize(("subject", "figure"), FIGURES)
def test_entered_minus_left_is_the_tiles_change_for_every_window(demo, subject, figure):
    for start_on, end_on in PAIRS[::2]:
        tile = outcomes.tile_figure_on(demo, subject, figure, None, [start_on, end_on])
        found = breakdown(demo, PUBLIC, None, subject, figure, start_on, end_on)
        assert (found.count_start, found.count_end) == (tile[start_on], tile[end_on])
        assert found.entered - found.left == tile[end_on] - tile[start_on], (start_on, end_on)
        assert int(found.reasons["change"].sum()) == found.change


@pytest.mark.parametrize("filters", FILTER_SETS, ids=lambda f: ",".join(f.active) or "none")
def test_breakdown_adds_up_under_every_filter(demo, filters):
    for (subject, figure), (start_on, end_on) in itertools.product(FIGURES, PAIRS[::6]):
        tile = outcomes.tile_figure_on(demo, subject, figure, filters, [start_on, end_on])
        found = breakdown(demo, PUBLIC, filters, subject, figure, start_on, end_on)
        assert found.entered - found.left == tile[end_on] - tile[start_on], (subject, figure, start_on, end_on)


def test_breakdown_matches_the_dashboard_tiles_on_both_dates(demo):
    start_on, end_on = date(2021, 12, 31), date(2022, 12, 31)
    before = outcomes.dashboard_tiles(demo, PUBLIC, Filters(as_of=start_on))
    after = outcomes.dashboard_tiles(demo, PUBLIC, Filters(as_of=end_on))
    for code in ("ps_certificates", "coc_certificates", "members"):
        found = breakdown(demo, PUBLIC, None, code, "value", start_on, end_on)
        assert found.count_start == before.tile(code).value
        assert found.count_end == after.tile(code).value
        assert found.entered - found.left == after.tile(code).value - before.tile(code).value
    valid = breakdown(demo, PUBLIC, None, "ps_certificates", "secondary", start_on, end_on)
    assert (valid.count_start, valid.count_end) == (before.tile("ps_certificates").secondary_value,
                                                    after.tile("ps_certificates").secondary_value)


@pytest.mark.parametrize(("subject", "by"), [("ps_certificates", "country"), ("coc_certificates", "activity"),
                                             ("members", "membership_class"), ("ps_certificates", "region")])
def test_each_groups_change_is_the_tiles_change_filtered_to_that_group(demo, subject, by):
    start_on, end_on = date(2021, 12, 31), date(2024, 12, 31)
    figure = "value" if subject == "members" else "secondary"
    found = breakdown(demo, PUBLIC, None, subject, figure, start_on, end_on, by=by)
    assert found.groups is not None and not found.groups.empty
    per_group = found.groups.groupby("group_value")["change"].sum()
    field = {"country": "countries", "activity": "activities", "membership_class": "membership_classes",
             "region": "regions"}[by]
    for value, change in per_group.head(6).items():
        tile = outcomes.tile_figure_on(demo, subject, figure, Filters(**{field: (value,)}), [start_on, end_on])
        assert change == tile[end_on] - tile[start_on], value
    if by != "activity":
        assert per_group.sum() == found.change


def test_each_bars_records_are_exactly_the_ones_counted(demo):
    start_on, end_on = date(2022, 6, 30), date(2024, 6, 30)
    for subject, figure in FIGURES:
        found = breakdown(demo, PUBLIC, None, subject, figure, start_on, end_on, by="country")
        everything = records(demo, SECRETARIAT, None, subject, figure, start_on, end_on)
        key = "member_id" if subject == "members" else "certification_id"
        assert everything[key].is_unique
        assert len(everything) == found.entered + found.left
        for bar in found.reasons.itertuples():
            rows = records(demo, SECRETARIAT, None, subject, figure, start_on, end_on,
                                          reason=bar.reason)
            assert len(rows) == bar.records and set(rows["reason"]) == {bar.reason}
        for bar in found.groups.head(8).itertuples():
            rows = records(demo, SECRETARIAT, None, subject, figure, start_on, end_on,
                                          reason=bar.reason, by="country", group_value=bar.group_value)
            assert len(rows) == bar.records
            assert set(rows["country"]) == {bar.group_value}


def test_reasons_say_what_happened_in_the_window(demo):
    start_on, end_on = date(2022, 12, 31), date(2025, 12, 31)
    rows = records(demo, SECRETARIAT, None, "ps_certificates", "secondary", start_on, end_on)
    issued = rows["issued_on"].dt.date
    by_reason = {reason: rows[rows["reason"] == reason] for reason in rows["reason"].unique()}
    assert {"new_certification", "recertification", "expired"} <= set(by_reason)
    for reason in ("new_certification", "recertification", "full_after_provisional"):
        part = rows["reason"] == reason
        assert ((issued[part] > start_on) & (issued[part] <= end_on)).all()
    assert by_reason["new_certification"]["previous_certification_id"].isna().all()
    assert by_reason["recertification"]["previous_certification_id"].notna().all()
    expired = by_reason["expired"]["expires_on"].dt.date
    assert ((expired > start_on) & (expired <= end_on)).all()
    for reason in ("withdrawn", "suspended"):
        if reason in by_reason:
            changed = by_reason[reason]["status_changed_on"].dt.date
            assert ((changed > start_on) & (changed <= end_on)).all()
            assert (by_reason[reason]["status_at_start"].isin(["certified", "provisional"])).all()


def test_a_member_gets_only_its_own_records_and_the_public_none(demo):
    start_on, end_on = date(2019, 12, 31), date(2026, 10, 31)
    everything = records(demo, SECRETARIAT, None, "ps_certificates", "secondary", start_on, end_on)
    owners = everything["member_id"].value_counts()
    assert len(owners) > 2
    for member_id in owners.index[:3]:
        own = records(demo, Viewer.member(member_id), None, "ps_certificates", "secondary",
                                     start_on, end_on)
        assert set(own["member_id"]) == {member_id}
        assert sorted(own["certification_id"]) == sorted(
            everything.loc[everything["member_id"] == member_id, "certification_id"])
    members = records(demo, Viewer.member(owners.index[0]), None, "members", "value",
                                     date(2014, 12, 31), end_on)
    assert set(members["member_id"]) == {owners.index[0]}
    assert records(demo, PUBLIC, None, "ps_certificates", "secondary", start_on, end_on).empty


def test_hand_made_history_gives_each_reason(tmp_path):
    store = make_store(
        tmp_path,
        members=[member("M1", joined_on=date(2016, 1, 1)), member("M2", joined_on=date(2020, 3, 1)),
                 member("M3", joined_on=date(2016, 1, 1), left_on=date(2020, 6, 1))],
        facilities=[facility("F1", "M1"), facility("F2", "M2"), facility("F3", "M1", country="FR"),
                    facility("F4", "M1")],
        certifications=[
            # F1: full PS 2018-2021 expires in the window and is renewed the same day
            certification("P1", "F1", standard="PS", standard_version="PS-2017", issued_on=date(2018, 5, 1),
                          expires_on=date(2021, 5, 1)),
            certification("P2", "F1", standard="PS", standard_version="PS-2017", issued_on=date(2021, 5, 1),
                          expires_on=date(2024, 5, 1)),
            # F2: provisional PS in 2020, then full in the window
            certification("P3", "F2", standard="PS", standard_version="PS-2017", certification_type="provisional",
                          issued_on=date(2020, 4, 1), expires_on=date(2021, 4, 1)),
            certification("P4", "F2", standard="PS", standard_version="PS-2017", issued_on=date(2021, 4, 1),
                          expires_on=date(2024, 4, 1)),
            # F3: first PS in the window; F4: withdrawn in the window
            certification("P5", "F3", standard="PS", standard_version="PS-2017", issued_on=date(2021, 2, 1),
                          expires_on=date(2024, 2, 1)),
            certification("P6", "F4", standard="PS", standard_version="PS-2017", issued_on=date(2019, 2, 1),
                          expires_on=date(2022, 2, 1), status="withdrawn", status_changed_on=date(2020, 9, 1)),
        ],
    )
    start_on, end_on = date(2020, 1, 31), date(2021, 6, 30)
    valid = breakdown(store, PUBLIC, None, "ps_certificates", "secondary", start_on, end_on)
    # valid on 31 Jan 2020: P1, P6; on 30 Jun 2021: P2, P4, P5 (P3 was issued and expired in between)
    assert (valid.count_start, valid.count_end) == (2, 3)
    assert dict(zip(valid.reasons["reason"], valid.reasons["change"], strict=True)) == {
        "new_certification": 1, "recertification": 1, "full_after_provisional": 1, "expired": -1, "withdrawn": -1}
    issued = breakdown(store, PUBLIC, None, "ps_certificates", "value", start_on, end_on)
    assert (issued.count_start, issued.count_end, issued.left) == (2, 6, 0)
    assert dict(zip(issued.reasons["reason"], issued.reasons["records"], strict=True)) == {
        "new_certification": 2, "recertification": 1, "full_after_provisional": 1}
    people = breakdown(store, PUBLIC, None, "members", "value", start_on, end_on)
    assert (people.count_start, people.count_end) == (2, 2)
    assert list(people.reasons["reason"]) == ["joined", "left"]
    mine = records(store, Viewer.member("M2"), None, "ps_certificates", "value", start_on, end_on)
    assert sorted(mine["certification_id"]) == ["P3", "P4"]
    steps = valid.waterfall()
    assert steps["bar_to"].iloc[-2] == valid.count_end  # the last reason lands on the end count


def test_bad_windows_and_groupings_are_refused(demo):
    with pytest.raises(ValueError, match="must be before"):
        breakdown(demo, PUBLIC, None, "members", "value", date(2022, 1, 1), date(2021, 1, 1))
    with pytest.raises(ValueError, match="Cannot break Members down by 'activity'"):
        breakdown(demo, PUBLIC, None, "members", "value", by="activity")
    with pytest.raises(ValueError, match="no 'secondary' figure"):
        breakdown(demo, PUBLIC, None, "members", "secondary")


def test_nothing_changed_gives_an_empty_breakdown(demo):
    on = date(2026, 10, 31)
    found = breakdown(demo, PUBLIC, Filters(countries=("AQ",)), "ps_certificates", "value",
                                     date(2025, 12, 31), on, by="country")
    assert (found.count_start, found.count_end, found.entered, found.left) == (0, 0, 0, 0)
    assert found.reasons.empty and found.groups is not None and found.groups.empty
