"""The certification map in Streamlit's AppTest: every role, demo and empty data, the month
slider from the URL, the points sent to the browser and the detail panel."""

from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
import pytest

from asi_me.filters import Filters, Viewer
from asi_me.queries.certifications import facilities_without_coordinates, facility_points, growth_replay

PAGE = "pages/map.py"
ROLES = ("public", "member", "secretariat")


def assert_clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def deck_layers(at) -> dict[str, list]:
    decks = at.get("deck_gl_json_chart")
    assert len(decks) == 1
    spec = json.loads(decks[0].proto.json)
    return {layer["id"]: layer.get("data", []) for layer in spec["layers"]}


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("dataset", ["demo", "empty"])
def test_every_role_opens_the_map_without_error(open_app, demo_dir, empty_dir, demo_member, role, dataset) -> None:
    data_dir = demo_dir if dataset == "demo" else empty_dir
    at = open_app(data_dir, page=PAGE, role=role, member=demo_member if role == "member" else None)
    assert_clean(at)
    if dataset == "empty":
        assert "no certifications in the loaded data" in " ".join(i.value for i in at.info)
        assert not at.get("deck_gl_json_chart")


def test_browser_gets_exactly_the_located_points_and_the_unplaced_count(open_app, demo_dir, demo_store) -> None:
    at = open_app(demo_dir, page=PAGE)
    assert_clean(at)
    expected = facility_points(demo_store, Viewer.public(), Filters())
    layers = deck_layers(at)
    assert len(layers["facilities"]) == len(expected)
    assert {row["certification_ids"] for row in layers["facilities"]} == set(expected["certification_ids"])
    # internal ids stay on the server: the layer carries no id columns at all
    assert not {"facility_id", "member_id"} & {key for row in layers["facilities"] for key in row}
    unplaced = facilities_without_coordinates(demo_store, Viewer.public(), Filters())
    assert metric(at, "Certified facilities without coordinates") == f"{unplaced.count:,}"
    assert "countries" in layers  # the country aggregate layer is on by default


def test_month_in_the_url_replays_the_map_to_that_month(open_app, demo_dir, demo_store) -> None:
    at = open_app(demo_dir, page=PAGE, params={"month": "2021-02"})
    assert_clean(at)
    assert at.select_slider(key="map_month").value == date(2021, 2, 28)
    growth = growth_replay(demo_store, Viewer.public(), Filters())
    row = growth.loc[growth["month_on"].astype(str).str.startswith("2021-02")].iloc[0]
    assert metric(at, "Facilities with a valid certification") == f"{int(row['certified_facilities']):,}"
    then = facility_points(demo_store, Viewer.public(), Filters(as_of=date(2021, 2, 28)))
    assert len(deck_layers(at)["facilities"]) == len(then)
    now = facility_points(demo_store, Viewer.public(), Filters())
    assert len(then) < len(now)


def test_a_certificate_in_the_url_opens_its_detail_with_audit_history(open_app, demo_dir, demo_store) -> None:
    from asi_me.queries.certifications import certification_register

    register = certification_register(demo_store, Viewer.public())
    cert = register.iloc[0]
    at = open_app(demo_dir, page=PAGE, params={"cert": str(cert["certification_id"])})
    assert_clean(at)
    text = " ".join(m.value for m in at.markdown)
    assert f"**Certificate** {cert['certification_id']}" in text
    assert "**Audit history**" in text
    assert "**Scope**" in text
    assert "**Auditing firm**" in text


def test_emissions_layer_is_aggregated_for_the_public(open_app, demo_dir) -> None:
    at = open_app(demo_dir, page=PAGE)
    at.toggle(key="map_emissions").set_value(True).run()
    assert_clean(at)
    assert "emissions" not in deck_layers(at)  # no per-smelter points for the public
    assert any("Median t CO2e/t Al" in t.value.columns for t in at.dataframe)
    assert "Per-smelter figures are not published" in " ".join(c.value for c in at.caption)


def test_secretariat_sees_smelters_against_the_threshold_on_the_map(open_app, demo_dir) -> None:
    at = open_app(demo_dir, page=PAGE, role="secretariat")
    at.toggle(key="map_emissions").set_value(True).run()
    assert_clean(at)
    smelters = deck_layers(at)["emissions"]
    assert smelters
    assert all(("over 8" in row["text"]) == (float(row["text"].split(" ")[0]) > 8) for row in smelters)


def test_member_sees_its_own_certifications_and_nobody_elses(open_app, demo_dir, demo_store, demo_member) -> None:
    from asi_me.queries.certifications import certification_register

    register = certification_register(demo_store, Viewer.member(demo_member))
    own = register.loc[register["member_id"] == demo_member]
    at = open_app(demo_dir, page=PAGE, role="member", member=demo_member)
    assert_clean(at)
    assert f"Your certifications ({len(own)})" in [h.value for h in at.header]
    assert set(register["member_id"].dropna()) == {demo_member}  # other members' ids never reach the page
    public = open_app(demo_dir, page=PAGE)
    assert not any(h.value.startswith("Your certifications") for h in public.header)


def test_register_sends_only_the_first_rows_and_the_csv_holds_the_whole_filtered_register(
    open_app, demo_dir, demo_store, downloads
) -> None:
    from asi_me.queries.certifications import certification_register

    params = {"region": "Europe"}
    at = open_app(demo_dir, page=PAGE, params=params, env={"ASI_MAP_REGISTER_ROWS": "7"})
    assert_clean(at)
    month = at.select_slider(key="map_month").value
    filters = Filters.from_query_params(params).replace(as_of=month)
    register = certification_register(demo_store, Viewer.public(), filters)
    total = len(register)
    assert total > 7  # the demo holds more European certifications than the forced limit
    assert metric(at, "Certifications in the register") == f"{total:,}"
    captions = [c.value for c in at.caption]
    assert (
        f"Showing 1–7 of {total:,} certifications (page 1 of {-(-total // 7)}); change the page, narrow the "
        "filters or download the full register (CSV)." in captions
    )
    (table,) = [t.value for t in at.dataframe if "Auditing firm" in t.value.columns]
    assert len(table) == 7
    assert table["Certificate"].tolist() == register["certification_id"].head(7).tolist()
    (download,) = [d for d in downloads if d["file_name"] == "certification_register.csv"]
    assert download["label"] == "Download the full register (CSV)"
    csv = pd.read_csv(io.BytesIO(download["data"]), encoding="utf-8-sig", dtype=str)
    assert len(csv) == total
    assert csv["Certificate"].tolist() == register["certification_id"].tolist()
    assert set(csv["Country"]) <= set(register["country_name"])
    assert csv.columns[0] == "Certificate" and "Auditing firm" in csv.columns


def test_register_sorts_and_pages_over_every_row_on_the_server(open_app, demo_dir, demo_store) -> None:
    from asi_me.queries.certifications import certification_register

    at = open_app(demo_dir, page=PAGE, env={"ASI_MAP_REGISTER_ROWS": "50"})
    month = at.select_slider(key="map_month").value
    register = certification_register(demo_store, Viewer.public(), Filters(as_of=month))
    at.selectbox(key="map_sort").set_value("expires_on").run()
    at.toggle(key="map_sort_desc").set_value(True).run()
    at.number_input(key="map_page").set_value(3).run()
    assert_clean(at)
    # what sorting the whole register gives: latest expiry first, ties in register order
    expected = register.sort_values("expires_on", ascending=False, kind="stable", na_position="last")
    (table,) = [t.value for t in at.dataframe if "Auditing firm" in t.value.columns]
    assert table["Certificate"].tolist() == expected["certification_id"].iloc[100:150].tolist()
    assert f"Showing 101–150 of {len(register):,} certifications (page 3 of {-(-len(register) // 50)})" in " ".join(
        c.value for c in at.caption)


def test_register_under_the_limit_shows_every_row_without_the_limit_caption(open_app, demo_dir, demo_store) -> None:
    from asi_me.queries.certifications import certification_register

    at = open_app(demo_dir, page=PAGE, env={"ASI_MAP_REGISTER_ROWS": "100000"})
    assert_clean(at)
    month = at.select_slider(key="map_month").value
    total = len(certification_register(demo_store, Viewer.public(), Filters(as_of=month)))
    assert any(len(t.value) == total and "Auditing firm" in t.value.columns for t in at.dataframe)
    assert not any(c.value.startswith("Showing ") for c in at.caption)


def test_the_map_is_built_once_per_view_and_a_new_filter_draws_its_own(open_app, demo_dir, monkeypatch) -> None:
    import asi_me.ui.map_charts as map_charts

    built: list[int] = []
    real = map_charts.build_certification_deck

    def counting(points, *args, **kwargs):
        built.append(len(points))
        return real(points, *args, **kwargs)

    monkeypatch.setattr(map_charts, "build_certification_deck", counting)
    at = open_app(demo_dir, page=PAGE)
    assert_clean(at)
    first = deck_layers(at)["facilities"]
    at.run()  # another run of the same view (what every other visitor's session does)
    assert_clean(at)
    assert built == [len(first)]
    assert deck_layers(at)["facilities"] == first
    at.multiselect(key="flt_country").set_value(["DE"]).run()
    assert_clean(at)
    german = deck_layers(at)["facilities"]
    assert len(built) == 2
    assert 0 < len(german) < len(first)
