"""The twelve published tiles as the dashboard and the board deck draw them (one builder, so the
deck's figures are the dashboard's)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from asi_me.queries.outcomes import DashboardTiles
from asi_me.queries.outcomes import Tile as Figure
from asi_me.ui.charts import version_markers
from asi_me.ui.widgets import Tile

# The standard whose version changes a tile's trend marks; the other tiles mark both standards'.
TILE_STANDARD: dict[str, str] = {
    "ps_certificates": "PS",
    "ps_external_share": "PS",
    "ps_workers": "PS",
    "coc_certificates": "CoC",
}


def _count(value: float, label: str) -> str:
    """A count with its words, singular for one: "111 countries they operate in", "1 country they operate in"."""
    return f"{value:,.0f} " + (label.replace("countries", "country", 1) if value == 1 else label)


def version_marks(figure: Figure, breaks: pd.DataFrame | None = None) -> tuple[tuple[date, str], ...]:
    """(date, sentence) of each standard-version change within a tile's trend: the changes of
    its standard (TILE_STANDARD; both standards for the others), within the standard and version
    filters when `breaks` (outcomes.version_breaks) is given, as the growth charts mark them."""
    if len(figure.series) < 2:
        return ()
    standard = TILE_STANDARD.get(figure.code)
    if breaks is not None:
        marks: pd.DataFrame | list[str] | None = breaks.loc[breaks["standard"] == standard] if standard else breaks
    else:
        marks = [standard] if standard else None
    shown = version_markers(figure.series[0].on_date, figure.series[-1].on_date, marks)
    return tuple((on.date(), str(detail)) for on, detail in zip(shown["on"], shown["detail"], strict=True))


def outcome_tiles(board: DashboardTiles, breaks: pd.DataFrame | None = None) -> tuple[Tile, ...]:
    """One Tile per published figure, with its changes, trend (marking standard-version changes,
    see `version_marks`), definition and note."""
    return tuple(
        Tile(
            title=t.label,
            value=t.value,
            unit=t.unit,
            change_month=t.change_month,
            change_year=t.change_year,
            trend=tuple(p.value for p in t.series),
            trend_on=tuple(p.on_date for p in t.series),
            version_marks=version_marks(t, breaks),
            help=f"{t.definition} Source: {t.source}.",
            note=(t.suppression_note if t.is_suppressed and t.suppression_note
                  else _count(t.secondary_value, t.secondary_label) if t.secondary_value is not None
                  and t.secondary_label else f"since {t.since.year}"),
            percent=t.unit == "%",
        )
        for t in board.tiles
    )
