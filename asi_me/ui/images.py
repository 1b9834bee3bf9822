"""Charts to take away: PNG and SVG files of a chart with its title, source, data version and
citation drawn into the image, so a picture pasted into a report still says where it is from.

Altair charts are rendered by vl-convert (no browser); plotly charts by kaleido through the
machine's Chromium (see asi_me/ui/board_pack.py), PNG only where there is none.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import Literal

import altair as alt
import pandas as pd
import plotly.graph_objects as go
import vl_convert

from asi_me.ui.country_outlines import country_outlines

ImageFormat = Literal["png", "svg"]
CITATION = "Aluminium Stewardship Initiative, ASI M&E Explorer"
SCALE = 2  # pixels per CSS pixel of a PNG (print resolution)


def credit_lines(source: str, version: str) -> list[str]:
    """The lines drawn under a chart's title: source, data version, citation."""
    return [f"Source: {source.rstrip('.')}.", f"Data: {version}.", f"Cite as: {CITATION}."]


def file_stem(title: str) -> str:
    """A file name for a chart: "asi-members-by-membership-class"."""
    return "asi-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "chart")


def altair_image(chart: alt.TopLevelMixin, *, title: str, source: str, version: str, fmt: ImageFormat) -> bytes:
    """The chart with its title and credits, as PNG or SVG bytes."""
    titled = chart.properties(title=alt.TitleParams(
        text=title, subtitle=credit_lines(source, version), anchor="start", fontSize=15, subtitleFontSize=11,
        subtitleColor="#3d4752", offset=10))
    spec = titled.to_dict()
    if fmt == "svg":
        return vl_convert.vegalite_to_svg(spec).encode("utf-8")
    return vl_convert.vegalite_to_png(spec, scale=SCALE)


def country_choropleth(countries: pd.DataFrame, *, width: int = 900, height: int = 430) -> alt.Chart:
    """The certification map as a picture: countries shaded by certified facilities, from the
    bundled Natural Earth outlines (pydeck draws in the browser only, so images use this)."""
    counts = dict(zip(countries["country"], countries["certified_facilities"], strict=True))
    features = [o.feature(country=o.country, name=o.name, facilities=int(counts.get(o.country, 0) or 0))
                for o in country_outlines()]
    return alt.Chart(alt.Data(values=features)).mark_geoshape(stroke="#ffffff", strokeWidth=0.4).encode(
        color=alt.Color("properties.facilities:Q", title="Certified facilities",
                        scale=alt.Scale(scheme="blues", domainMin=0)),
        tooltip=[alt.Tooltip("properties.name:N", title="Country"),
                 alt.Tooltip("properties.facilities:Q", title="Certified facilities")],
    ).project("equalEarth").properties(width=width, height=height)


def plotly_image(figure: go.Figure, *, title: str, source: str, version: str, fmt: ImageFormat) -> bytes:
    """The figure with its title and credits, as PNG or SVG bytes (kaleido and Chromium).

    Raises RuntimeError when no Chromium can be found, with what to install."""
    from asi_me.ui.board_pack import _PLOTLY_JS, _browser  # noqa: PLC0415 - one place finds the browser

    browser = _browser()
    if browser is None:
        raise RuntimeError("Images of this chart need Chromium on the server (apt-get install chromium).")
    import kaleido  # noqa: PLC0415

    os.environ.setdefault("BROWSER_PATH", browser)
    titled = go.Figure(figure)
    credits = "<br>".join(credit_lines(source, version))
    titled.update_layout(
        title={"text": f"<b>{title}</b><br><span style='font-size:11px;color:#3d4752'>{credits}</span>",
               "x": 0.01, "xanchor": "left"},
        margin={"t": 110},
    )
    width = int(titled.layout.width or 1100)
    height = int((titled.layout.height or 520) + 80)

    async def render() -> bytes:
        generator = kaleido.PageGenerator(plotly=str(_PLOTLY_JS), mathjax=False)
        async with kaleido.Kaleido(page_generator=generator, n=1) as k:
            return await k.calc_fig(titled, opts={"format": fmt, "width": width, "height": height,
                                                  "scale": SCALE if fmt == "png" else 1})

    return asyncio.run(render())
