"""The certification map for "why did it move?": the register under the filter bar's period,
a selected row's detail beside the register, and the records behind a country's figures."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from asi_me.filters import Filters, Viewer
from asi_me.queries.certifications import certification_register, country_aggregates, country_records

PAGE = "pages/map.py"
PERIOD = {"from": "2022-01-01", "to": "2022-12-31", "standard": "PS"}


def assert_clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def register_table(at) -> pd.DataFrame:
    (table,) = [d.value for d in at.dataframe if d.key == "map_register"]
    return table


def flat(at) -> list[tuple[object, tuple[object, ...]]]:
    """Every element of the main area in the order a reader meets it (columns left to right),
    each with the blocks it sits in, outermost first."""
    out: list[tuple[object, tuple[object, ...]]] = []

    def walk(node, blocks: tuple[object, ...]) -> None:
        for child in getattr(node, "children", {}).values():
            if getattr(child, "children", None):
                walk(child, (*blocks, child))
            else:
                out.append((child, blocks))

    walk(at.main, ())
    return out


def detail_after_register(at, certification_id: str) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """Check that the detail of `certification_id` is the next thing after the register table;
    return the blocks holding the table and the detail's first line."""
    elements = flat(at)
    where = next(i for i, (e, _) in enumerate(elements) if getattr(e, "key", None) == "map_register")
    heading, first_line = elements[where + 1], elements[where + 2]
    assert str(heading[0].value).startswith("## ")  # the detail's heading comes next, nothing in between
    assert str(first_line[0].value).startswith(f"**Certificate** {certification_id} ")
    return elements[where][1], first_line[1]


def test_the_period_filters_the_register_and_its_counts_agree_with_the_rows(open_app, demo_dir, demo_store):
    at = open_app(demo_dir, page=PAGE, env={"ASI_MAP_REGISTER_ROWS": "100000"}, params=PERIOD)
    assert_clean(at)
    month = at.select_slider(key="map_month").value
    filters = Filters.from_query_params(PERIOD).replace(as_of=month)
    register = certification_register(demo_store, Viewer.public(), filters)
    unrestricted = certification_register(demo_store, Viewer.public(), Filters(standards=("PS",), as_of=month))
    assert 0 < len(register) < len(unrestricted)
    table = register_table(at)
    assert metric(at, "Certifications in the register") == f"{len(table):,}" == f"{len(register):,}"
    assert metric(at, "Countries in the register") == f"{register['country'].nunique():,}"
    assert sorted(table["Certificate"]) == sorted(register["certification_id"])
    assert pd.to_datetime(table["Issued"]).dt.year.eq(2022).all()
    caption = " ".join(c.value for c in at.caption)
    assert "the register lists the certifications issued from 2022-01-01 to 2022-12-31" in caption
    assert "“Why did it move?”" in caption


def test_without_a_period_the_register_says_nothing_of_one(open_app, demo_dir):
    at = open_app(demo_dir, page=PAGE)
    assert_clean(at)
    assert not any("Period set in the filters" in c.value for c in at.caption)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_selected_row_opens_its_detail_right_after_the_register(open_app, demo_dir, monkeypatch, phone):
    import asi_me.ui.context as context

    monkeypatch.setattr(context, "is_phone", lambda: phone)
    at = open_app(demo_dir, page=PAGE, role="secretariat", env={"ASI_MAP_REGISTER_ROWS": "50"})
    assert_clean(at)
    picked = str(register_table(at)["Certificate"].iloc[3])
    assert not any(m.value.startswith("**Certificate** ") for m in at.markdown)
    at.session_state["map_register"] = {"selection": {"rows": [3], "columns": [], "cells": []}}
    at.run()
    assert_clean(at)
    table_blocks, detail_blocks = detail_after_register(at, picked)
    assert at.query_params["cert"] == picked
    # beside the table on a wide screen (two columns of one row), under it on a phone
    columns_of = [b for b in table_blocks if getattr(b, "type", None) == "column"]
    assert bool(columns_of) is not phone
    if not phone:
        assert columns_of[-1] not in detail_blocks  # its own column
        assert table_blocks[table_blocks.index(columns_of[-1]) - 1] in detail_blocks  # the same row
    # the link survives a reload: the detail opens beside the register again
    again = open_app(demo_dir, page=PAGE, role="secretariat", params={"cert": picked})
    assert_clean(again)
    detail_after_register(again, picked)


def test_closing_the_detail_keeps_it_closed_while_the_row_stays_selected(open_app, demo_dir):
    at = open_app(demo_dir, page=PAGE, env={"ASI_MAP_REGISTER_ROWS": "50"})
    at.session_state["map_register"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert any(m.value.startswith("**Certificate** ") for m in at.markdown)
    at.button(key="map_detail_close").click().run()
    assert_clean(at)
    assert not any(m.value.startswith("**Certificate** ") for m in at.markdown)
    assert "cert" not in at.query_params


def country_table(at, country_name: str) -> pd.DataFrame | None:
    """The table listed right after the line that names the country's figures (None if none)."""
    elements = [e for e, _ in flat(at)]
    where = next((i for i, e in enumerate(elements)
                  if getattr(e, "type", None) == "markdown" and str(e.value).startswith(f"**{country_name}: ")), None)
    if where is None:
        return None
    return next((e.value for e in elements[where + 1:] if getattr(e, "type", None) == "dataframe"), None)


def _country(demo_store, month: date) -> pd.Series:
    figures = country_aggregates(demo_store, Viewer.public(), Filters(as_of=month))
    return figures.iloc[0]


def test_a_country_chosen_lists_exactly_the_certifications_it_counts(open_app, demo_dir, demo_store):
    at = open_app(demo_dir, page=PAGE, role="secretariat")
    month = at.select_slider(key="map_month").value
    country = _country(demo_store, month)
    at.selectbox(key="map_country_pick").set_value(country["country"]).run()
    assert_clean(at)
    table = country_table(at, country["country_name"])
    assert len(table) == country["ps_certificates"] + country["coc_certificates"]
    expected = country_records(demo_store, Viewer.secretariat(), country["country"], Filters(as_of=month))
    assert expected["facility_id"].nunique() == country["certified_facilities"]
    assert sorted(table["Certificate"]) == sorted(expected["certification_id"])
    assert set(table["Country"]) == {country["country_name"]}
    assert f"These are the {len(table):,} certifications counted." in " ".join(m.value for m in at.markdown)


def test_a_country_clicked_on_the_map_opens_its_records(open_app, demo_dir, demo_store):
    at = open_app(demo_dir, page=PAGE, role="secretariat")
    country = _country(demo_store, at.select_slider(key="map_month").value)
    # what the browser reports for a clicked choropleth feature
    at.session_state["map_deck"] = {"selection": {"indices": {"countries": [0]}, "objects": {
        "countries": [{"type": "Feature", "properties": {"country": country["country"], "title": "x"}}]}}}
    at.run()
    assert_clean(at)
    assert at.selectbox(key="map_country_pick").value == country["country"]
    assert len(country_table(at, country["country_name"])) == country["ps_certificates"] + country["coc_certificates"]


def test_a_member_gets_only_its_own_rows_of_a_country_and_the_public_none(open_app, demo_dir, demo_store, demo_member):
    everything = certification_register(demo_store, Viewer.secretariat())
    mine = everything.loc[everything["member_id"] == demo_member]
    at = open_app(demo_dir, page=PAGE, role="member", member=demo_member)
    month = at.select_slider(key="map_month").value
    figures = country_aggregates(demo_store, Viewer.public(), Filters(as_of=month)).set_index("country")
    own_valid = mine.loc[mine["country"].isin(figures.index)]
    country = str(own_valid["country"].value_counts().index[0])
    at.selectbox(key="map_country_pick").set_value(country).run()
    assert_clean(at)
    table = country_table(at, str(figures.loc[country, "country_name"]))
    expected = country_records(demo_store, Viewer.member(demo_member), country, Filters(as_of=month))
    counted = figures.loc[country, "ps_certificates"] + figures.loc[country, "coc_certificates"]
    assert 0 < len(table) == len(expected) < counted  # its own among the country's, not the others'
    assert set(table["Member"]) == set(mine["member_name"])
    assert set(table["Certificate"]) <= set(mine["certification_id"])
    public = open_app(demo_dir, page=PAGE)
    assert_clean(public)
    assert not [s for s in public.selectbox if s.key == "map_country_pick"]
    assert not any(str(m.value).endswith("certifications counted.") for m in public.markdown)
    assert any("The certifications behind a country are listed for the ASI Secretariat" in c.value
               for c in public.caption)
