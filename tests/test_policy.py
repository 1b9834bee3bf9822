"""The disclosure policy on its own: thresholds, notes, complementary suppression, roles."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from asi_me.filters import Viewer
from asi_me.publish.policy import (
    Cell,
    DisclosurePolicy,
    Relation,
    aggregate_with_policy,
    determined_cells,
    mask_counts,
    policy_applies,
    protect_cells,
)
from asi_me.settings import Settings

POLICY = DisclosurePolicy()


def test_notes_name_the_configured_thresholds():
    assert POLICY.note_few_reporters == "suppressed (fewer than 5 reporters)"
    assert POLICY.note_dominance == "suppressed (one reporter above 25% share)"
    assert POLICY.note_complementary == "suppressed (to protect another suppressed cell)"
    strict = DisclosurePolicy(min_reporters=7, max_dominance=0.4)
    assert strict.note_few_reporters == "suppressed (fewer than 7 reporters)"
    assert strict.note_dominance == "suppressed (one reporter above 40% share)"


def test_policy_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ASI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ASI_MIN_REPORTERS", "3")
    monkeypatch.setenv("ASI_MAX_DOMINANCE", "0.5")
    assert DisclosurePolicy.from_settings() == DisclosurePolicy(3, 0.5)
    assert DisclosurePolicy.from_settings(Settings(tmp_path)) == DisclosurePolicy(5, 0.25)


def test_bad_thresholds_are_refused():
    with pytest.raises(ValueError, match="min_reporters=0"):
        DisclosurePolicy(min_reporters=0)
    with pytest.raises(ValueError, match=r"max_dominance=1\.5"):
        DisclosurePolicy(max_dominance=1.5)


def test_primary_rule_counts_companies_with_volume_and_checks_the_largest_share():
    four = {"A": 10, "B": 10, "C": 10, "D": 10}
    assert POLICY.primary_note(four) == POLICY.note_few_reporters
    # A fifth company that reported zero does not make the cell publishable.
    assert POLICY.primary_note({**four, "E": 0}) == POLICY.note_few_reporters
    assert POLICY.primary_note({**four, "E": 10}) is None
    # 30 of 100 is above 25 %; exactly 25 % is allowed.
    assert POLICY.primary_note({"A": 30, "B": 20, "C": 20, "D": 15, "E": 15}) == POLICY.note_dominance
    assert POLICY.primary_note({"A": 25, "B": 25, "C": 20, "D": 15, "E": 15}) is None
    # Nobody reported: a true zero, published.
    assert POLICY.primary_note({}) is None
    assert POLICY.primary_note({"A": 0.0}) is None


def test_only_the_secretariat_analysis_escapes_the_policy():
    assert policy_applies(Viewer.public())
    assert policy_applies(Viewer.member("M1"))
    assert not policy_applies(Viewer.secretariat())
    assert policy_applies(Viewer.secretariat(), for_publication=True)


def _five(total: float) -> dict[str, float]:
    return {f"C{i}": total / 5 for i in range(5)}


def test_one_hidden_part_of_a_shown_total_takes_the_smallest_other_part_with_it():
    # total = a + b + c; a has 3 reporters. Hiding a alone would let a = total - b - c.
    cells = {
        "total": Cell(600, _five(600) | {"X": 0}),
        "a": Cell(100, {"A1": 40, "A2": 30, "A3": 30}),
        "b": Cell(200, _five(200)),
        "c": Cell(300, _five(300)),
    }
    notes = protect_cells(cells, [Relation("total", ("a", "b", "c"))], POLICY).notes
    assert notes == {
        "total": None,
        "a": POLICY.note_few_reporters,
        "b": POLICY.note_complementary,
        "c": None,
    }


def test_derived_residuals_are_hidden_before_reported_parts():
    # out = link + residual: the residual (no contributions) goes before the link.
    cells = {"out": Cell(500, _five(500)), "link": Cell(100, _five(100)), "residual": Cell(400)}
    cells_hidden_link = {**cells, "link": Cell(100, {"A": 100})}
    notes = protect_cells(cells_hidden_link, [Relation("out", ("link", "residual"))], POLICY).notes
    assert notes == {"out": None, "link": POLICY.note_few_reporters, "residual": POLICY.note_complementary}


def test_the_total_is_hidden_when_no_part_is_left_to_hide():
    cells = {"total": Cell(10, _five(10)), "only": Cell(10, {"A": 10})}
    notes = protect_cells(cells, [Relation("total", ("only",))], POLICY).notes
    assert notes == {"total": POLICY.note_complementary, "only": POLICY.note_few_reporters}


def test_chained_relations_are_protected_together():
    # in = x + y and out = y + z share y. Hiding x needs y (the smaller part) hidden,
    # and then y is derivable from out unless z goes too.
    cells = {
        "in": Cell(30, _five(30)),
        "x": Cell(20, {"A": 20}),
        "y": Cell(10, _five(10)),
        "out": Cell(60, _five(60)),
        "z": Cell(50, _five(50)),
    }
    relations = [Relation("in", ("x", "y")), Relation("out", ("y", "z"))]
    notes = protect_cells(cells, relations, POLICY).notes
    hidden = {k for k, n in notes.items() if n}
    assert hidden == {"x", "y", "z"}
    assert determined_cells(list(cells), relations, hidden) == []


def test_linked_cells_hide_together():
    cells = {"in": Cell(10), "out": Cell(5)}
    notes = protect_cells(cells, [], POLICY, linked=[["in", "out"]], forced={"in": POLICY.note_dominance}).notes
    assert notes == {"in": POLICY.note_dominance, "out": POLICY.note_dominance}


def test_determined_cells_sees_through_combinations_of_relations():
    # a + b = t1 (t1 visible), b + c = t2 (visible), a + c... c is hidden alone in no
    # relation, but a - c = t1 - t2 does not fix either; add c = d visible and all follow.
    relations = [Relation("t1", ("a", "b")), Relation("t2", ("b", "c"))]
    assert determined_cells(["t1", "t2", "a", "b", "c"], relations, {"a", "b", "c"}) == []
    relations.append(Relation("t3", ("c",)))
    assert determined_cells(["t1", "t2", "t3", "a", "b", "c"], relations, {"a", "b", "c"}) == ["a", "b", "c"]


def test_a_single_masked_count_takes_the_smallest_other_count_with_it():
    notes = mask_counts({"mining": 6, "refining": 4, "smelting": 9, "empty": 0}, POLICY)
    assert notes == {
        "mining": POLICY.note_complementary,
        "refining": POLICY.note_few_reporters,
        "smelting": None,
        "empty": None,
    }
    two = mask_counts({"mining": 6, "refining": 4, "smelting": 3}, POLICY)
    assert two == {"mining": None, "refining": POLICY.note_few_reporters, "smelting": POLICY.note_few_reporters}


def _lines() -> pd.DataFrame:
    rows = [("Europe", f"E{i}", 100.0) for i in range(6)]
    rows += [("Asia", "A1", 50.0), ("Asia", "A2", 30.0), ("Asia", "A2", 30.0)]
    rows += [("Africa", f"F{i}", 10.0) for i in range(5)]
    return pd.DataFrame(rows, columns=["region", "member_id", "workers"])


def test_aggregate_with_policy_for_the_public_hides_small_groups_and_a_partner():
    frame = aggregate_with_policy(_lines(), ["region"], "workers", Viewer.public(), POLICY).set_index("region")
    # Asia: 2 companies (A2's two lines count once) -> hidden; Africa (50) is the
    # smallest other part of the total and is hidden too; Europe and the total stay.
    assert math.isnan(frame.loc["Asia", "workers"])
    assert frame.loc["Asia", "suppression_note"] == POLICY.note_few_reporters
    assert pd.isna(frame.loc["Asia", "reporters"])
    assert math.isnan(frame.loc["Africa", "workers"])
    assert frame.loc["Africa", "suppression_note"] == POLICY.note_complementary
    assert frame.loc["Africa", "reporters"] == 5
    assert frame.loc["Europe", "workers"] == 600
    assert frame.loc["all", "workers"] == 760
    assert not frame.loc["all", "is_suppressed"]


def test_aggregate_with_policy_for_the_secretariat_shows_all_and_flags_what_publication_hides():
    frame = aggregate_with_policy(_lines(), ["region"], "workers", Viewer.secretariat(), POLICY).set_index("region")
    assert frame.loc["Asia", "workers"] == 110
    assert frame.loc["Asia", "reporters"] == 2
    assert not frame["is_suppressed"].any()
    assert frame["would_be_suppressed"].to_dict() == {"Africa": True, "Asia": True, "Europe": False, "all": False}
    assert frame.loc["Asia", "publication_note"] == POLICY.note_few_reporters
    published = aggregate_with_policy(
        _lines(), ["region"], "workers", Viewer.secretariat(), POLICY, for_publication=True
    ).set_index("region")
    assert math.isnan(published.loc["Asia", "workers"])
    assert published.loc["Asia", "is_suppressed"]
