"""The risk register screen in AppTest: the Secretariat's only, by menu and by URL; its matrix
counts the latest revisions and its history shows every revision."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from asi_me.data.snapshot import current_folder, read_table
from tests.app.conftest import assert_clean

PAGE = "pages/risks.py"
TITLE = "Risk register"


def _menu(at) -> list[str]:
    return [link.proto.label for link in at.sidebar.get("page_link")]


def _frame(at, *columns: str):
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert found, f"no table with columns {columns}"
    return found[0]


def _stored_risks(data_dir) -> list[dict]:
    return read_table(current_folder(data_dir), "risks").to_pylist()


@pytest.mark.parametrize(("role", "member"), [("public", None), ("member", "M0001")])
def test_the_public_and_a_member_neither_see_nor_can_open_the_risk_register(open_app, demo_dir, role, member):
    at = open_app(demo_dir, role=role, member=member)
    assert_clean(at)
    assert _menu(at), "the menu was not drawn"
    assert TITLE not in _menu(at)
    assert TITLE not in [link.label for link in at.get("page_link")]
    # Its URL is not a page of this role's app: the router never registered it.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    # Nothing of the register reached the screen.
    shown = " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.subheader, *at.header))
    stored = _stored_risks(demo_dir)
    assert not any(r["title"] in shown or r["controls"] in shown for r in stored)


def test_the_secretariat_opens_the_risk_register_from_the_menu(open_app, demo_dir):
    at = open_app(demo_dir, role="secretariat")
    assert TITLE in _menu(at)
    at = open_app(demo_dir, role="secretariat", page=PAGE)
    assert_clean(at)
    assert [t.value for t in at.title] == [TITLE]


def test_the_matrix_counts_the_latest_revision_of_every_risk(open_app, demo_dir):
    stored = _stored_risks(demo_dir)
    latest: dict[str, dict] = {}
    for row in stored:
        if row["risk_id"] not in latest or row["revision"] > latest[row["risk_id"]]["revision"]:
            latest[row["risk_id"]] = row
    expected = Counter((r["likelihood"], r["consequence"]) for r in latest.values())

    at = open_app(demo_dir, role="secretariat", page=PAGE)
    assert_clean(at)
    matrix = _frame(at, "Likelihood", "Consequence", "Risks", "Which risks")
    assert len(matrix) == 25
    shown = {(int(lk), int(cq)): int(n) for lk, cq, n in
             zip(matrix["Likelihood"], matrix["Consequence"], matrix["Risks"], strict=True) if n}
    assert shown == dict(expected)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Risks"] == str(len(latest))
    overdue = sum(r["review_on"] < date.today() for r in latest.values())
    assert metrics["Reviews overdue"] == str(overdue)

    register = _frame(at, "Risk", "Controls", "Owner", "Next review")
    assert sorted(register["Risk"]) == sorted(latest)
    for risk_id, row in latest.items():
        line = register[register["Risk"] == risk_id].iloc[0]
        assert line["Controls"] == row["controls"]
        assert line["Owner"] == row["owner"]
        assert line["Next review"].startswith("Overdue since") is (row["review_on"] < date.today())


def test_the_history_shows_every_revision_of_every_risk(open_app, demo_dir):
    stored = _stored_risks(demo_dir)
    at = open_app(demo_dir, role="secretariat", page=PAGE)
    history = _frame(at, "Risk", "Revision", "Adopted", "Rating")
    assert sorted((k, int(v)) for k, v in zip(history["Risk"], history["Revision"], strict=True)) == sorted(
        (r["risk_id"], r["revision"]) for r in stored
    )
    assert {(r["risk_id"], r["revision"]): r["likelihood"] * r["consequence"] for r in stored} == {
        (k, int(v)): int(rating) for k, v, rating in zip(history["Risk"], history["Revision"], history["Rating"],
                                                           strict=True)
    }


def test_filters_narrow_the_matrix_the_list_and_the_history(open_app, demo_dir):
    stored = _stored_risks(demo_dir)
    latest: dict[str, dict] = {}
    for row in stored:
        if row["risk_id"] not in latest or row["revision"] > latest[row["risk_id"]]["revision"]:
            latest[row["risk_id"]] = row
    wanted = {k for k, r in latest.items() if r["category"] == "finance"}
    assert wanted, "the demo register has no finance risk"

    at = open_app(demo_dir, role="secretariat", page=PAGE)
    at.multiselect(key="risk_category").set_value(["finance"]).run()
    assert_clean(at)
    assert set(_frame(at, "Risk", "Controls")["Risk"]) == wanted
    assert _frame(at, "Likelihood", "Consequence", "Which risks")["Risks"].sum() == len(wanted)
    assert set(_frame(at, "Revision", "Adopted", "Rating")["Risk"]) == wanted
    assert {m.label: m.value for m in at.metric}["Risks"] == str(len(wanted))

    at.multiselect(key="risk_category").set_value([]).run()
    at.multiselect(key="risk_severity").set_value(["extreme"]).run()
    extreme = {k for k, r in latest.items() if r["severity"] == "extreme"}
    assert set(_frame(at, "Risk", "Controls")["Risk"]) == extreme


def test_an_empty_dataset_explains_that_no_risks_are_loaded(open_app, empty_dir):
    at = open_app(empty_dir, role="secretariat", page=PAGE)
    assert_clean(at)
    assert any("No risks are loaded" in i.value for i in at.info)
