"""Every screen of the frame's owner renders for every role, on the demo and on an empty snapshot."""

from __future__ import annotations

import pytest

from tests.app.conftest import OWN_PAGES, ROLES, assert_clean, screen_text, tile_values, tiles

TITLES = {
    "pages/outcomes.py": "Outcomes dashboard",
    "pages/evaluations.py": "Evaluations & Stories of Change",
    "pages/data.py": "Data",
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", OWN_PAGES)
def test_page_renders_for_role_on_demo_data(open_app, demo_dir, demo_member, page, role):
    at = open_app(demo_dir, page=page, role=role, member=demo_member if role == "member" else None)
    assert_clean(at)
    assert at.title[0].value == TITLES[page]
    assert at.radio(key="asi_role").value == role
    text = screen_text(at)
    assert "Data as of" in text
    if role != "public":
        assert f"You are viewing as **{role.capitalize()}" in text


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", OWN_PAGES)
def test_page_explains_an_empty_snapshot(open_app, empty_dir, page, role):
    at = open_app(empty_dir, page=page, role=role, member="M0001" if role == "member" else None)
    assert_clean(at)
    assert at.title[0].value == TITLES[page]
    assert "No data loaded yet" in screen_text(at)
    messages = " ".join(i.value for i in at.info)
    expected = {
        "pages/outcomes.py": "This data snapshot holds no records yet",
        "pages/evaluations.py": "No evaluations or Stories of Change have been recorded",
        "pages/data.py": "This data snapshot holds no rows yet",
    }[page]
    assert expected in messages


def test_outcome_tiles_show_the_published_figures(open_app, demo_dir, demo_store):
    from asi_me.filters import Filters, Viewer
    from asi_me.queries import outcomes

    at = open_app(demo_dir)
    assert_clean(at)
    board = outcomes.dashboard_tiles(demo_store, Viewer.public(), Filters())
    shown = tiles(at)
    assert len(shown) == 12
    members = board.tile("members")
    assert shown["Members"]["value"] == f"{members.value:,.0f}"
    assert members.change_month > 0 and members.change_year > 0  # the demo's membership grows
    assert shown["Members"]["delta"] == f"↑ +{members.change_month:,.0f}"
    assert shown["Members"]["note"].startswith(f"▲ +{members.change_year:,.0f} vs a year earlier · ")
    share = board.tile("ps_external_share")
    assert shown[share.label]["value"] == f"{share.value:.1f}%"


def test_a_withheld_tile_says_why_instead_of_showing_a_number(open_app, demo_dir, demo_store):
    """Oceania's certified workforce is fewer than 5 companies': the public tile is withheld,
    with the reason on it; a country filter never narrows it to one country's companies."""
    from asi_me.filters import Filters, Viewer
    from asi_me.queries import outcomes

    by_country = outcomes.dashboard_tiles(demo_store, Viewer.public(), Filters(countries=("AR",))).tile("ps_workers")
    world = outcomes.dashboard_tiles(demo_store, Viewer.public()).tile("ps_workers")
    assert by_country.value == world.value and "country filter(s) do not apply" in by_country.definition
    board = outcomes.dashboard_tiles(demo_store, Viewer.public(), Filters(regions=("Oceania",)))
    workers = board.tile("ps_workers")
    assert workers.is_suppressed
    at = open_app(demo_dir, params={"region": "Oceania"})
    assert_clean(at)
    shown = tiles(at)[workers.label]
    assert shown["value"] == "—"
    assert workers.suppression_note in shown["note"]


def test_a_broken_section_shows_a_sentence_not_a_traceback(open_app, demo_dir, monkeypatch):
    from asi_me.queries import outcomes

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(outcomes, "nc_closure_by_principle", broken)
    at = open_app(demo_dir)
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors == [
        "Sorry, non-conformance closure could not be shown because of an internal error. It has been logged "
        "for the data team; try other filters or reload the page."
    ]
    assert "boom" not in screen_text(at)
    assert len(tiles(at)) == 12  # the rest of the screen is still there


def test_a_new_current_snapshot_is_served_at_the_next_click(open_app, tmp_path):
    from datetime import date

    import pyarrow as pa

    from asi_me.data.snapshot import write_snapshot

    write_snapshot(tmp_path, {}, note="demo: empty")
    at = open_app(tmp_path)
    assert "This data snapshot holds no records yet" in " ".join(i.value for i in at.info)
    one_member = pa.table({
        "member_id": ["M1"], "name": ["Demo Metals"], "membership_class": ["civil_society"], "country": ["DE"],
        "joined_on": [date(2016, 3, 1)], "left_on": [None],
    })
    write_snapshot(tmp_path, {"members": one_member}, note="demo: one member")
    at.run()
    assert_clean(at)
    assert "This data snapshot holds no records yet" not in " ".join(i.value for i in at.info)
    assert tile_values(at)["Members"] == "1"


def test_browser_tab_icon_is_a_local_image_so_it_loads_offline(open_app, demo_dir, monkeypatch):
    # A ":material/...:" page icon is fetched from fonts.gstatic.com and fails offline; the icon
    # travels inside the page instead, as a data URL of the bundled 64x64 PNG.
    import base64
    import io

    import streamlit
    from PIL import Image

    seen: list[object] = []
    real = streamlit.set_page_config

    def spy(*args, **kwargs):
        seen.append(kwargs.get("page_icon"))
        return real(*args, **kwargs)

    monkeypatch.setattr(streamlit, "set_page_config", spy)
    assert_clean(open_app(demo_dir))
    assert seen
    icon = str(seen[-1])
    prefix = "data:image/png;base64,"
    assert icon.startswith(prefix)
    with Image.open(io.BytesIO(base64.b64decode(icon.removeprefix(prefix)))) as image:
        assert (image.format, image.size) == ("PNG", (64, 64))
