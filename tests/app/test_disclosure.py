"""The public never receives a value the antitrust policy withholds, on screen or in a download."""

from __future__ import annotations

import io
import zipfile

import pandas as pd

from asi_me.data.contract import TABLES
from asi_me.filters import Filters, Viewer
from asi_me.queries import outcomes
from tests.app.conftest import assert_clean

MARK = "suppressed ("
NC_COLUMNS = ["nonconformances", "followed_up", "closed_at_next_audit"]


def _country_with_suppression(store) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    from asi_me.queries.certifications import certification_register

    register = certification_register(store, Viewer.secretariat())
    for country in register["country"].value_counts().index:
        public = outcomes.nc_closure_by_principle(store, Viewer.public(), Filters(countries=(country,)))
        hidden = public["is_suppressed"].astype(bool)
        if 0 < hidden.sum() < len(public):
            full = outcomes.nc_closure_by_principle(store, Viewer.secretariat(), Filters(countries=(country,)))
            return country, public, full
    raise AssertionError("the demo data has no country with some suppressed NC principles")


def test_public_nc_closure_marks_withheld_cells_on_screen_and_in_the_csv(open_app, demo_dir, demo_store, downloads):
    country, public, full = _country_with_suppression(demo_store)
    at = open_app(demo_dir, params={"country": country})
    assert_clean(at)
    shown = next(f.value for f in at.dataframe if "Principle name" in f.value.columns)
    hidden = public.loc[public["is_suppressed"].astype(bool), "principle_label"].tolist()
    notes = dict(zip(public["principle_label"], public["suppression_note"], strict=True))
    for principle in hidden:
        row = shown[shown["Principle name"] == principle].iloc[0]
        assert row["Nonconformances"] == notes[principle]
        assert row["Share closed"] == notes[principle]
        assert notes[principle].startswith(MARK)
    csv = next(d["data"] for d in downloads if d["file_name"] == "nc-closure-by-principle.csv").decode("utf-8-sig")
    table = pd.read_csv(io.StringIO(csv), dtype=str)
    for principle in hidden:
        row = table[table["Principle name"] == principle].iloc[0]
        assert row["Nonconformances"] == notes[principle]  # never 0, never blank
        secret = full.loc[full["principle_label"] == principle, NC_COLUMNS].iloc[0]
        assert all(str(int(v)) not in set(row.drop("Principle name").astype(str)) for v in secret if v > 0)
    assert "withheld under the ASI antitrust policy" in " ".join(c.value for c in at.caption)


def test_secretariat_sees_the_values_the_public_does_not(open_app, demo_dir, demo_store):
    country, public, full = _country_with_suppression(demo_store)
    at = open_app(demo_dir, role="secretariat", params={"country": country})
    shown = next(f.value for f in at.dataframe if "Principle name" in f.value.columns)
    assert MARK not in shown.to_csv()
    principle = public.loc[public["is_suppressed"].astype(bool), "principle_label"].iloc[0]
    expected = full.loc[full["principle_label"] == principle, "nonconformances"].iloc[0]
    assert float(shown.loc[shown["Principle name"] == principle, "Nonconformances"].iloc[0]) == expected


def test_public_downloads_hold_only_public_tables_and_aggregates(open_app, demo_dir, downloads):
    at = open_app(demo_dir, page="pages/data.py")
    assert_clean(at)
    private = {name for name, spec in TABLES.items() if not spec.is_public}
    options = set(at.selectbox(key="dl_table").options)
    assert not any(spec.title in options for name, spec in TABLES.items() if name in private)
    archive = zipfile.ZipFile(io.BytesIO(next(d["data"] for d in downloads if d["file_name"] == "asi-me-data.zip")))
    names = {n.removesuffix(".csv") for n in archive.namelist()}
    assert "README.md" in archive.namelist()
    assert not names & private
    assert {"indicators", "evidence"} <= names
