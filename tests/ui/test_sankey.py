"""The CoC Sankey, its table and its text summary, on tiny flow frames."""

from __future__ import annotations

import math

import pandas as pd

from asi_me.ui.sankey import (
    build_sankey,
    build_share_of_global,
    build_year_comparison,
    compare_stage_outputs,
    format_tonnes,
    sankey_summary,
    sankey_table,
    stage_summary_table,
)

NOTE = "suppressed (fewer than 5 reporters)"


def flows() -> pd.DataFrame:
    """Bauxite 100 t mined; 60 t to refining, 40 t left; refining's 30 t to smelting suppressed."""
    rows = [
        ("origin_bauxite_mining", "bauxite_mining", 100.0, None, False, None, False),
        ("bauxite_mining", "alumina_refining", 60.0, 0.6, False, None, False),
        ("bauxite_mining", "left_chain", 40.0, 0.4, False, None, False),
        ("alumina_refining", "primary_production", math.nan, math.nan, True, NOTE, True),
        ("alumina_refining", "left_chain", 12.0, math.nan, False, None, True),
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "source",
            "target",
            "value_t",
            "share_of_source",
            "is_suppressed",
            "suppression_note",
            "is_share_suppressed",
        ],
    )


def test_drawn_link_values_are_the_published_tonnes() -> None:
    fig = build_sankey(flows(), unit="t")
    link = fig.data[0].link
    assert sorted(link.value) == [12.0, 40.0, 60.0, 100.0]
    labels = fig.data[0].node.label
    drawn = sorted((labels[s], labels[t]) for s, t in zip(link.source, link.target, strict=True))
    assert ("Alumina refining", "Primary production / casthouse") not in drawn


def test_suppressed_link_is_never_drawn_as_zero_and_is_named_under_the_chart() -> None:
    fig = build_sankey(flows(), unit="t")
    assert 0 not in list(fig.data[0].link.value)
    notes = " ".join(a.text for a in fig.layout.annotations)
    assert "Alumina refining → Primary production / casthouse: " + NOTE in notes
    hover = " ".join(fig.data[0].node.customdata)
    assert NOTE in hover


def test_percent_mode_draws_shares_and_drops_withheld_shares() -> None:
    fig = build_sankey(flows(), unit="%")
    # origin 100 %, 60 % and 40 % of bauxite mining; refining's share to left_chain is withheld
    assert sorted(fig.data[0].link.value) == [40.0, 60.0, 100.0]
    assert "share suppressed" in " ".join(a.text for a in fig.layout.annotations)


def test_summary_names_suppressed_links_and_never_says_zero() -> None:
    text = sankey_summary(flows(), year=2020, min_reporters=5)
    assert "to Primary production / casthouse: " + NOTE in text
    assert "to Alumina refining: 60 t (60% of its output)" in text
    assert " 0 t" not in text


def test_table_marks_suppressed_cells_in_text_and_csv() -> None:
    table = sankey_table(flows(), unit="t", min_reporters=5)
    row = table.loc[(table["From"] == "Alumina refining") & (table["To"] == "Primary production / casthouse")]
    assert row["Tonnes"].iloc[0] == NOTE
    assert row["Share of source output (%)"].iloc[0] == NOTE
    assert table.loc[table["To"] == "Alumina refining", "Tonnes"].iloc[0] == "60"
    csv = table.to_csv(index=False)
    assert NOTE in csv
    assert ",0," not in csv


def test_empty_year_has_an_empty_figure_and_a_sentence() -> None:
    empty = flows().head(0)
    assert len(build_sankey(empty).data[0].link.value or []) == 0
    assert sankey_summary(empty, year=2017) == "No ASI CoC material flows are published for 2017."


def test_year_comparison_shows_change_only_where_both_years_are_published() -> None:
    now = pd.DataFrame(
        {
            "stage": ["bauxite_mining", "alumina_refining"],
            "output_t": [120.0, math.nan],
            "is_suppressed": [False, True],
            "suppression_note": [None, NOTE],
        }
    )
    before = pd.DataFrame(
        {
            "stage": ["bauxite_mining", "alumina_refining"],
            "output_t": [100.0, 50.0],
            "is_suppressed": [False, False],
            "suppression_note": [None, None],
        }
    )
    out = compare_stage_outputs(now, before).set_index("stage")
    assert out.loc["bauxite_mining", "change_t"] == 20
    assert out.loc["bauxite_mining", "change_pct"] == 20
    assert pd.isna(out.loc["alumina_refining", "change_t"])
    assert out.loc["alumina_refining", "suppression_note"] == NOTE
    fig = build_year_comparison(out.reset_index(), year=2021, previous_year=2020)
    assert any("▲ +20.0%" in str(y) for y in fig.data[0].y)
    assert any(NOTE in str(y) for y in fig.data[0].y)


def test_stage_table_writes_notes_for_stage_and_attrition_separately() -> None:
    summary = pd.DataFrame(
        {
            "stage": ["bauxite_mining", "material_conversion"],
            "reporters_label": ["6", "fewer than 5"],
            "input_t": [100.0, math.nan],
            "output_t": [90.0, math.nan],
            "global_t": [1000.0, 2000.0],
            "share_of_global": [0.09, math.nan],
            "attrition_t": [math.nan, math.nan],
            "attrition_pct": [math.nan, math.nan],
            "is_suppressed": [False, True],
            "suppression_note": [None, NOTE],
            "attrition_is_suppressed": [True, False],
            "attrition_suppression_note": ["suppressed (to protect another suppressed cell)", None],
        }
    )
    table = stage_summary_table(summary).set_index("Stage")
    assert table.loc["Bauxite mining", "Output (t)"] == "90"
    assert table.loc["Bauxite mining", "ASI share of world (%)"] == "9.0"  # percentages: one decimal everywhere
    assert table.loc["Bauxite mining", "Left the CoC chain (t)"] == "suppressed (to protect another suppressed cell)"
    assert table.loc["Material conversion / manufacturing", "Output (t)"] == NOTE
    assert table.loc["Material conversion / manufacturing", "World production (t, IAI)"] == "2,000"
    fig = build_share_of_global(summary)
    assert [v for v in fig.data[0].x if v is not None] == [9.0]
    assert any(NOTE in label for label in fig.data[0].y)


def test_tonnes_read_as_people_say_them() -> None:
    assert format_tonnes(103_200_000) == "103.2 Mt"
    assert format_tonnes(27_000) == "27.0 kt"
    assert format_tonnes(850) == "850 t"


def test_a_published_zero_is_written_not_drawn() -> None:
    frame = flows()
    frame.loc[2, "value_t"] = 0.0
    frame.loc[2, "share_of_source"] = 0.0
    fig = build_sankey(frame, unit="t")
    assert 0 not in list(fig.data[0].link.value)
    assert "to Left the CoC chain: 0 t" in sankey_summary(frame, year=2020)
    assert sankey_table(frame).loc[2, "Tonnes"] == "0"
