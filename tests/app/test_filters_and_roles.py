"""The filter bar, the URL, roles and presentation mode, seen through the app."""

from __future__ import annotations

from datetime import date

from asi_me.filters import Filters, Viewer
from asi_me.queries import outcomes
from tests.app.conftest import assert_clean, screen_text, tile_values


def _url(at, key: str) -> list[str]:
    value = at.query_params.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def _members(at) -> str:
    return tile_values(at)["Members"]


def test_changing_a_filter_changes_the_figures(open_app, demo_dir, demo_store):
    at = open_app(demo_dir)
    everyone = _members(at)
    at.multiselect(key="flt_class").set_value(["civil_society"]).run()
    assert_clean(at)
    expected = outcomes.dashboard_tiles(demo_store, Viewer.public(), Filters(membership_classes=("civil_society",)))
    assert _members(at) == f"{expected.tile('members').value:,.0f}"
    assert _members(at) != everyone
    assert _url(at, "class") == ["civil_society"]
    assert "Class: Civil Society" in screen_text(at)


def test_a_link_reopens_the_same_view(open_app, demo_dir, demo_store):
    params = {"as_of": "2021-02-28", "region": "Europe", "class": ["production_transformation", "civil_society"]}
    at = open_app(demo_dir, params=params)
    assert_clean(at)
    assert at.date_input(key="flt_as_of").value == date(2021, 2, 28)
    assert at.multiselect(key="flt_region").value == ["Europe"]
    assert at.multiselect(key="flt_class").value == ["production_transformation", "civil_society"]
    filters = Filters(as_of=date(2021, 2, 28), regions=("Europe",),
                      membership_classes=("production_transformation", "civil_society"))
    expected = outcomes.dashboard_tiles(demo_store, Viewer.public(), filters)
    assert _members(at) == f"{expected.tile('members').value:,.0f}"
    assert _url(at, "as_of") == ["2021-02-28"]
    assert _url(at, "class") == ["production_transformation", "civil_society"]
    text = screen_text(at)
    assert "figures counted on <b>28 February 2021</b>" in text
    assert "Region: Europe" in text


def test_filters_persist_across_pages(open_app, demo_dir):
    at = open_app(demo_dir, params={"region": "Asia"})
    at.switch_page("pages/data.py").run()
    assert_clean(at)
    assert at.multiselect(key="flt_region").value == ["Asia"]
    at.switch_page("pages/evaluations.py").run()
    assert at.multiselect(key="flt_region").value == ["Asia"]
    assert _url(at, "region") == ["Asia"]


def test_a_bad_link_value_warns_and_falls_back(open_app, demo_dir):
    at = open_app(demo_dir, params={"region": "Atlantis", "as_of": "2021-13-01", "class": "civil_society"})
    assert_clean(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "Ignored URL parameter region='Atlantis'" in warnings
    assert "Ignored URL parameter as_of='2021-13-01'" in warnings
    assert at.multiselect(key="flt_region").value == []
    assert at.date_input(key="flt_as_of").value is None
    assert at.multiselect(key="flt_class").value == ["civil_society"]  # the good value is kept
    assert "region" not in at.query_params


def test_reset_filters_clears_widgets_and_url(open_app, demo_dir):
    at = open_app(demo_dir, params={"region": "Europe", "standard": "PS"})
    at.button(key="flt_reset_page").click().run()
    assert_clean(at)
    assert at.multiselect(key="flt_region").value == []
    assert at.multiselect(key="flt_standard").value == []
    assert "region" not in at.query_params and "standard" not in at.query_params


def test_role_switch_is_refused_on_real_data(open_app, real_dir):
    at = open_app(real_dir, role="secretariat")
    assert_clean(at)
    assert not at.radio  # no role switch offered
    assert any("only possible on the demo dataset" in w.value for w in at.warning)
    assert "role" not in at.query_params
    at.switch_page("pages/data.py").run()
    assert_clean(at)
    assert "Ingest log" not in [s.value for s in at.header]


def test_only_the_secretariat_sees_the_ingest_log_and_flag_detail(open_app, demo_dir, demo_member):
    public = open_app(demo_dir, page="pages/data.py")
    assert "Ingest log" not in [s.value for s in public.header]
    assert not public.main.expander
    secretariat = open_app(demo_dir, page="pages/data.py", role="secretariat")
    assert "Ingest log" in [s.value for s in secretariat.header]
    assert any(e.label.startswith("Facilities without coordinates") for e in secretariat.main.expander)


def test_a_member_sees_only_its_own_flag_detail(open_app, demo_dir, demo_member, demo_store):
    from asi_me.queries.certifications import certification_register

    register = certification_register(demo_store, Viewer.secretariat())
    own_names = set(register.loc[register["member_id"] == demo_member, "member_name"])
    at = open_app(demo_dir, page="pages/data.py", role="member", member=demo_member)
    assert_clean(at)
    detail = [f.value for f in at.dataframe if "Member name" in f.value.columns]
    for frame in detail:
        assert set(frame["Member name"]) <= own_names


def test_presentation_mode_hides_controls_and_shows_a_footer(open_app, demo_dir):
    at = open_app(demo_dir, params={"present": "1", "region": "Europe"})
    assert_clean(at)
    assert at.toggle(key="asi_present").value is True
    html = " ".join(h.value for h in at.get("html"))
    assert '[data-testid="stSidebar"]' in html  # the sidebar is hidden
    assert "Region: Europe" in html and "Viewing as Public" in html and "Figures as of" in html
    assert at.multiselect(key="flt_region").value == ["Europe"]  # filters still from the URL
    at.button(key="asi_leave_present").click().run()
    assert at.toggle(key="asi_present").value is False
    assert "present" not in at.query_params
    assert at.multiselect(key="flt_region").value == ["Europe"]


def test_a_login_maps_to_a_role(open_app, demo_dir):
    from streamlit.testing.v1 import AppTest

    from asi_me.ui import cache
    from tests.app.conftest import APP

    cache.clear()
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["auth"] = {"redirect_uri": "http://localhost/oauth2callback", "cookie_secret": "x"}
    at.secrets["asi_roles"] = {"domains": {"aluminium-stewardship.org": "secretariat"}}
    at.user = {"is_logged_in": True, "email": "ana@aluminium-stewardship.org"}
    at.run()
    assert_clean(at)
    assert "Signed in as **ana@aluminium-stewardship.org** · Secretariat" in screen_text(at)
    assert not at.radio  # a logged-in person does not switch roles


def test_a_member_sees_its_own_certifications_and_no_one_elses(open_app, demo_dir, demo_member, demo_store):
    from asi_me.queries.certifications import certification_register

    register = certification_register(demo_store, Viewer.secretariat())
    own = register[register["member_id"] == demo_member]
    at = open_app(demo_dir, role="member", member=demo_member)
    assert_clean(at)
    table = next(f.value for f in at.dataframe if "Certificate" in f.value.columns)
    assert sorted(table["Certificate"]) == sorted(own["certification_id"])
    public = open_app(demo_dir)
    assert not any("Certificate" in f.value.columns for f in public.dataframe)


def test_the_menu_lists_the_six_screens_and_carries_the_view(open_app, demo_dir):
    at = open_app(demo_dir, role="secretariat", params={"region": "Europe", "present": "1"})
    links = at.sidebar.get("page_link")
    assert [link.proto.label for link in links] == [
        "Outcomes dashboard", "Certification map", "CoC material flow", "Theory of change",
        "Evaluations & Stories of Change", "Data", "Data › Update", "Risk register",
    ]
    from urllib.parse import parse_qs

    from asi_me.data.snapshot import current_id

    # Every link carries the view and its data version.
    wanted = {"region": ["Europe"], "role": ["secretariat"], "present": ["1"], "v": [current_id(demo_dir)]}
    assert all(parse_qs(link.proto.query_string) == wanted for link in links)


def test_a_screen_is_offered_only_to_the_roles_listed_for_it(monkeypatch):
    import importlib.util
    import sys

    from asi_me.data.vocab import Role
    from tests.app.conftest import APP

    spec = importlib.util.spec_from_file_location("asi_app", APP)
    app = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "asi_app", app)  # dataclasses look their module up
    spec.loader.exec_module(app)  # the frame only runs under `streamlit run`
    for role in Role:  # every screen is public today but Data › Update and the Risk register, the Secretariat's
        titles = [s.title for s in app.screens_for(role)]
        assert len(titles) == (8 if role is Role.SECRETARIAT else 6)
        assert ("Data › Update" in titles) is (role is Role.SECRETARIAT)
        assert ("Risk register" in titles) is (role is Role.SECRETARIAT)
    restricted = app.Screen("pages/data.py", "Data", ":material/database:", "data", frozenset({Role.SECRETARIAT}))
    app.SCREENS = (*app.SCREENS[:-3], restricted)
    assert [s.title for s in app.screens_for(Role.PUBLIC)][-1] == "Evaluations & Stories of Change"
    assert [s.title for s in app.screens_for(Role.SECRETARIAT)][-1] == "Data"



def test_an_as_of_outside_the_data_is_capped_with_a_warning(open_app, demo_dir, demo_store):
    # The demo data runs to 31 Oct 2026: a link to 2099 shows 31 Oct 2026 and says so.
    at = open_app(demo_dir, params={"as_of": "2099-01-01"})
    assert_clean(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "as_of=2099-01-01 is after the latest data (31 October 2026); showing 31 October 2026" in warnings
    assert at.date_input(key="flt_as_of").value == demo_store.data_as_of == date(2026, 10, 31)
    assert _url(at, "as_of") == ["2026-10-31"]
    expected = outcomes.dashboard_tiles(demo_store, Viewer.public(), Filters(as_of=date(2026, 10, 31)))
    assert _members(at) == f"{expected.tile('members').value:,.0f}"
    early = open_app(demo_dir, params={"as_of": "2010-06-30"})
    assert "as_of=2010-06-30 is before the earliest data (1 January 2015); showing 1 January 2015" in " ".join(
        w.value for w in early.warning
    )
    assert early.date_input(key="flt_as_of").value == date(2015, 1, 1)
