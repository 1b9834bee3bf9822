"""The shared figure card draws Altair, plotly and pydeck figures with the same table and CSV."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest
import streamlit
from streamlit.testing.v1 import AppTest


def _card_app(kind: str) -> None:
    import altair as alt
    import pandas as pd
    import plotly.graph_objects as go
    import pydeck as pdk
    import streamlit as st

    from asi_me.ui import widgets

    frame = pd.DataFrame({
        "region": ["Europe", "Asia"],
        "smelters": [7.0, None],
        "is_suppressed": [False, True],
        "suppression_note": [None, "suppressed (fewer than 5 reporters)"],
        "internal_rank": [1, 2],
    })
    figures = {
        "altair": alt.Chart(frame).mark_bar().encode(x="region", y="smelters"),
        "plotly": go.Figure(go.Bar(x=frame["region"], y=frame["smelters"])),
        "pydeck": pdk.Deck(layers=[pdk.Layer("ScatterplotLayer", data=[{"p": [8.0, 50.0]}], get_position="p")]),
        "drawn": lambda: st.plotly_chart(go.Figure(), key="drawn_by_page"),
    }
    widgets.figure_card(
        "Smelters by region", frame, figures[kind], key="card", source="CRU", min_reporters=5,
        titles={"region": "Region", "smelters": "Smelters"}, columns=["region", "smelters"],
    )


def _downloads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    recorded: list[dict[str, Any]] = []
    real = streamlit.download_button

    def spy(label, data, *args, **kwargs):
        recorded.append({"label": label, "data": data, **kwargs})
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    return recorded


@pytest.mark.parametrize(
    ("kind", "element"),
    [("altair", "vega_lite_chart"), ("plotly", "plotly_chart"), ("pydeck", "deck_gl_json_chart"),
     ("drawn", "plotly_chart")],
)
def test_card_draws_each_figure_type_with_the_table_shown_as_csv(monkeypatch, kind, element) -> None:
    downloads = _downloads(monkeypatch)
    at = AppTest.from_function(_card_app, args=(kind,), default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get(element)) == 1
    shown = at.dataframe[0].value
    # Only the chosen columns, titled; the withheld cell reads its note, never blank or 0.
    assert list(shown.columns) == ["Region", "Smelters"]
    assert shown["Smelters"].tolist() == ["7", "suppressed (fewer than 5 reporters)"]
    assert [c.value for c in at.caption] == [
        "1 value withheld under the ASI antitrust policy: suppressed (fewer than 5 reporters).",
        "Source: CRU",
    ]
    (download,) = downloads
    # The CSV is built when the button is clicked (a callable), the same bytes either way.
    data = download["data"]() if callable(download["data"]) else download["data"]
    csv = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    assert csv.to_dict("list") == {
        "Region": ["Europe", "Asia"],
        "Smelters": ["7", "suppressed (fewer than 5 reporters)"],
    }


def test_card_without_rows_says_why_instead_of_drawing(monkeypatch) -> None:
    def app() -> None:
        import pandas as pd
        import plotly.graph_objects as go

        from asi_me.ui import widgets

        widgets.figure_card("Empty", pd.DataFrame({"region": []}), go.Figure(), key="e", source="CRU",
                            empty_message="No smelter reports in 2017.")

    at = AppTest.from_function(app, default_timeout=30).run()
    assert not at.exception
    assert not at.get("plotly_chart")
    assert [i.value for i in at.info] == ["No smelter reports in 2017."]
