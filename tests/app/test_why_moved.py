"""The dashboard's "Why did it move?" breakdown in a real Streamlit run: it adds up to the
tile's change, each bar's click-through lists exactly the records it counts, and a member
only ever sees its own company's records."""

from __future__ import annotations

import re
from datetime import date

from streamlit.testing.v1 import AppTest

from tests.app.conftest import assert_clean, screen_text, tiles

START, END = date(2021, 12, 31), date(2022, 12, 31)  # "why did PS certificates jump in 2022?"
BAR = re.compile(r"^(?:(?P<group>.+): )?(?P<reason>[^:]+) \((?P<records>[\d,]+)\)$")


def _number(text: str) -> int:
    return int(re.sub(r"[^\d-]", "", text))


def _valid(tile: dict[str, str]) -> int:
    """The tile's second figure: "... · 92 currently valid"."""
    found = re.search(r"([\d,]+) currently valid", tile["note"])
    assert found, tile
    return _number(found.group(1))


def _tile(at: AppTest, title: str) -> dict[str, str]:
    return tiles(at)[title]


def _breakdown(at: AppTest, *, start: date | None = START, figure: str | None = None, by: str | None = None,
               subject: str | None = None) -> AppTest:
    at.session_state["why"] = True  # the user opens the section: it is built only while open
    at.run()
    if subject:
        at.selectbox(key="why_subject").set_value(subject).run()
    if figure:
        at.segmented_control(key="why_figure").set_value(figure).run()
    if start:
        at.date_input(key="why_from").set_value(start).run()
    if by:
        at.selectbox(key="why_by").set_value(by).run()
    assert_clean(at)
    return at


def _steps(at: AppTest) -> list[tuple[str, str, int]]:
    """The waterfall's table: (step, kind, change) from the first date's count to the second's."""
    table = next(t.value for t in at.dataframe if list(t.value.columns[:3]) == ["Step", "Kind", "Change"])
    return [(str(s), str(k).lower(), int(c)) for s, k, c in table[["Step", "Kind", "Change"]].itertuples(index=False)]


def _records(at: AppTest) -> object:
    return next(t.value for t in at.dataframe if "Reason" in t.value.columns)


def test_ps_breakdown_adds_up_exactly_to_the_tiles_change(open_app, demo_dir):
    before = _tile(open_app(demo_dir, params={"as_of": START.isoformat()}), "PS certificates")
    at = open_app(demo_dir, params={"as_of": END.isoformat()})
    after = _tile(at, "PS certificates")
    for figure, figure_of in (("value", lambda t: _number(t["value"])), ("secondary", _valid)):
        steps = _steps(_breakdown(at, figure=figure))
        assert steps[0][1] == "start" and steps[-1][1] == "end"
        assert steps[0][2] == figure_of(before), figure
        assert steps[-1][2] == figure_of(after), figure
        moves = [change for _, kind, change in steps if kind in ("entered", "left")]
        assert moves, figure  # 2022 saw certificates issued
        assert sum(moves) == figure_of(after) - figure_of(before), figure
        assert all(c > 0 for _, k, c in steps if k == "entered") and all(c < 0 for _, k, c in steps if k == "left")
    summary = next(m.value for m in at.markdown if "entered and" in m.value)
    assert f"{figure_of(before):,} on 31 December 2021" in summary
    assert f"{figure_of(after):,} on 31 December 2022" in summary


def test_each_bars_click_through_lists_exactly_the_records_it_counts(open_app, demo_dir):
    at = _breakdown(open_app(demo_dir, role="secretariat", params={"as_of": END.isoformat()}),
                    figure="secondary", by="country")
    steps = {step: change for step, kind, change in _steps(at) if kind in ("entered", "left")}
    options = at.selectbox(key="why_bar").options
    reason_bars = [BAR.match(o) for o in options if BAR.match(o) and not BAR.match(o)["group"]]
    assert {m["reason"]: _number(m["records"]) for m in reason_bars} == {k: abs(v) for k, v in steps.items()}
    group_bars = [BAR.match(o) for o in options if BAR.match(o) and BAR.match(o)["group"]]
    for bar in [*reason_bars, *group_bars[:4]]:
        at.selectbox(key="why_bar").set_value(bar.group(0)).run()
        assert_clean(at)
        rows = _records(at)
        assert len(rows) == _number(bar["records"]), bar.group(0)
        assert rows["Certificate"].is_unique
        assert set(rows["Reason"]) == {bar["reason"]}
        if bar["group"]:
            assert set(rows["Country name"]) == {bar["group"]}


def test_a_members_click_through_never_shows_another_members_rows(open_app, demo_dir, demo_member):
    params = {"as_of": END.isoformat()}
    secretariat = _breakdown(open_app(demo_dir, role="secretariat", params=params), start=date(2018, 12, 31),
                             figure="secondary")
    member = _breakdown(open_app(demo_dir, role="member", member=demo_member, params=params),
                        start=date(2018, 12, 31), figure="secondary")
    options = member.selectbox(key="why_bar").options
    assert options == secretariat.selectbox(key="why_bar").options  # the counts are the same for everyone
    seen_own = 0
    for option in options:
        member.selectbox(key="why_bar").set_value(option).run()
        secretariat.selectbox(key="why_bar").set_value(option).run()
        assert_clean(member)
        everyone = _records(secretariat)
        expected = sorted(everyone.loc[everyone["Member ID"] == demo_member, "Certificate"])
        if expected:
            own = _records(member)
            assert set(own["Member ID"]) == {demo_member}
            assert sorted(own["Certificate"]) == expected
            seen_own += len(own)
        else:
            assert not any("Reason" in t.value.columns for t in member.dataframe), option
        assert f"Only your company's records are listed: {len(expected):,} of the" in screen_text(member)
    assert seen_own > 0  # the member held certificates that moved


def test_the_public_gets_the_counts_and_no_records(open_app, demo_dir):
    at = _breakdown(open_app(demo_dir, params={"as_of": END.isoformat()}), by="country")
    assert _steps(at)
    assert not [s for s in at.selectbox if s.key == "why_bar"]
    assert "the public sees the counts" in screen_text(at)
    assert not [t for t in at.dataframe if "Certificate" in t.value.columns]


def test_members_and_empty_windows_say_what_they_show(open_app, demo_dir):
    at = _breakdown(open_app(demo_dir, role="secretariat"), subject="members", start=None, by="membership_class")
    steps = _steps(at)
    assert {kind for _, kind, _ in steps} >= {"start", "entered", "end"}
    assert "By membership class" in screen_text(at)
    at.date_input(key="why_from").set_value(date(2015, 1, 1)).run()
    at.date_input(key="why_to").set_value(date(2015, 1, 2)).run()
    at.selectbox(key="why_subject").set_value("ps_certificates").run()
    assert_clean(at)
    assert "did not move" in screen_text(at)
    at.date_input(key="why_from").set_value(date(2016, 1, 1)).run()
    assert "before the “To” date" in screen_text(at)


def test_a_link_reopens_the_same_breakdown(open_app, demo_dir):
    # bound selectboxes keep the words they show in the URL
    params = {"why_subject": "Members", "why_from": "2020-12-31", "why_to": "2021-12-31", "why_by": "Country"}
    at = open_app(demo_dir, params=params)
    assert_clean(at)
    summary = next(m.value for m in at.markdown if "entered and" in m.value)
    assert summary.startswith("**Members: ") and "on 31 December 2020" in summary and "on 31 December 2021" in summary
    assert "By country" in screen_text(at)


def test_the_section_is_built_only_when_opened_and_a_link_reopens_it(open_app, demo_dir):
    at = open_app(demo_dir, params={"as_of": END.isoformat()})
    assert_clean(at)
    # closed: the first screen has its tiles and growth charts but no breakdown to wait for
    assert "Why did it move? What entered and what left between two dates" in [e.label for e in at.expander]
    assert not any(s.key == "why_subject" for s in at.selectbox)
    assert not any("entered and" in m.value for m in at.markdown)
    steps = _steps(_breakdown(at, subject="ps_certificates"))
    assert steps[0][1] == "start"
    # the open section is in the link: reloading it shows the same breakdown
    reopened = open_app(demo_dir, params={"as_of": END.isoformat(), "why": "true"})
    assert_clean(reopened)
    assert _steps(reopened) == _steps(open_app(demo_dir, params={"as_of": END.isoformat(), "why": "true"}))
    assert any(s.key == "why_subject" for s in reopened.selectbox)
