"""The twelve published tiles as the dashboard and the board deck draw them (one builder, so the
deck's figures are the dashboard's)."""

from __future__ import annotations

from asi_me.queries.outcomes import DashboardTiles
from asi_me.ui.widgets import Tile


def _count(value: float, label: str) -> str:
    """A count with its words, singular for one: "111 countries they operate in", "1 country they operate in"."""
    return f"{value:,.0f} " + (label.replace("countries", "country", 1) if value == 1 else label)


def outcome_tiles(board: DashboardTiles) -> tuple[Tile, ...]:
    """One Tile per published figure, with its changes, trend, definition and note."""
    return tuple(
        Tile(
            title=t.label,
            value=t.value,
            unit=t.unit,
            change_month=t.change_month,
            change_year=t.change_year,
            trend=tuple(p.value for p in t.series),
            help=f"{t.definition} Source: {t.source}.",
            note=(t.suppression_note if t.is_suppressed and t.suppression_note
                  else _count(t.secondary_value, t.secondary_label) if t.secondary_value is not None
                  and t.secondary_label else f"since {t.since.year}"),
            percent=t.unit == "%",
        )
        for t in board.tiles
    )
