"""Pure builders for the CoC material flow: the plotly Sankey, its table and its text summary.

Input is the flow frame `asi_me.queries.coc.coc_stage_flows` returns after the disclosure
policy: one row per link with source, target, value_t, share_of_source (0..1),
is_suppressed / suppression_note and is_share_suppressed. A
suppressed link is never drawn (a width would disclose or misstate it) and never
written as 0: the figure notes it under the chart and in the hover text of the
nodes it touches, the table writes the note in the value column, and the text
summary says it in words.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
import plotly.graph_objects as go

from asi_me.data.vocab import STAGE_LABELS, CocStage, label
from asi_me.ui.palette import BLUE, CATEGORY_COLORS, GREY, PERCENT_FORMAT

Unit = Literal["t", "%"]

LEFT_CHAIN = "left_chain"
FINAL_PRODUCTS = "final_products"
ORIGIN_BAUXITE = f"origin_{CocStage.BAUXITE_MINING.value}"
ORIGIN_SCRAP = f"origin_{CocStage.RECYCLING.value}"

# Node order left to right: the value chain, with recycling feeding in and the sinks last.
NODE_ORDER: tuple[str, ...] = (
    ORIGIN_BAUXITE,
    ORIGIN_SCRAP,
    CocStage.BAUXITE_MINING,
    CocStage.RECYCLING,
    CocStage.ALUMINA_REFINING,
    CocStage.PRIMARY_PRODUCTION,
    CocStage.SEMI_FABRICATION,
    CocStage.MATERIAL_CONVERSION,
    FINAL_PRODUCTS,
    LEFT_CHAIN,
)
NODE_LABELS: dict[str, str] = {
    ORIGIN_BAUXITE: "Bauxite mined",
    ORIGIN_SCRAP: "Scrap collected",
    **{str(stage): name for stage, name in STAGE_LABELS.items()},  # the stages' names everywhere
    FINAL_PRODUCTS: "Final products",
    LEFT_CHAIN: "Left the CoC chain",
}
NODE_COLOURS: dict[str, str] = {
    ORIGIN_BAUXITE: "#7a4a6a",
    ORIGIN_SCRAP: "#4f6b1b",
    **CATEGORY_COLORS["stage"],  # the stages' colours everywhere in the app
    FINAL_PRODUCTS: "#444444",
    LEFT_CHAIN: GREY,
}


# Node positions (0..1, y from the top), so the chain always reads left to right in order
# and the two sinks sit apart on the right: attrition above, final products below.
NODE_XY: dict[str, tuple[float, float]] = {
    ORIGIN_BAUXITE: (0.001, 0.4),
    ORIGIN_SCRAP: (0.001, 0.97),
    CocStage.BAUXITE_MINING: (0.16, 0.4),
    CocStage.RECYCLING: (0.33, 0.97),
    CocStage.ALUMINA_REFINING: (0.33, 0.55),
    CocStage.PRIMARY_PRODUCTION: (0.5, 0.6),
    CocStage.SEMI_FABRICATION: (0.66, 0.75),
    CocStage.MATERIAL_CONVERSION: (0.76, 0.85),
    LEFT_CHAIN: (0.999, 0.2),
    FINAL_PRODUCTS: (0.999, 0.9),
}


def node_label(key: object) -> str:
    return NODE_LABELS.get(str(key), label(key))


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def format_tonnes(value: float) -> str:
    """Tonnes in words people read on slides: 103.2 Mt, 27.0 kt, 850 t."""
    v = float(value)
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.1f} Mt"
    if abs(v) >= 1e3:
        return f"{v / 1e3:,.1f} kt"
    return f"{v:,.0f} t"


def _suppression_note(row: pd.Series, min_reporters: int | None) -> str:
    note = row.get("suppression_note")
    if isinstance(note, str) and note:
        return note
    return f"suppressed (fewer than {min_reporters} reporters)" if min_reporters else "suppressed"


def with_shares(flows: pd.DataFrame) -> pd.DataFrame:
    """Add share_pct (0..100) from the query layer's share_of_source (0..1).

    A link from an origin ("Bauxite mined", "Scrap collected") is all of what entered
    the chain there, so its share is 100. A share the policy withheld stays empty and
    is_share_suppressed says so.
    """
    out = flows.copy()
    share = out["share_of_source"].astype("Float64") * 100 if "share_of_source" in out else pd.NA
    is_origin = out["source"].astype(str).str.startswith("origin_")
    out["share_pct"] = pd.array(share, dtype="Float64")
    out.loc[is_origin & out["value_t"].notna(), "share_pct"] = 100.0
    if "is_share_suppressed" not in out:
        out["is_share_suppressed"] = out["is_suppressed"]
    out["is_share_suppressed"] = out["is_share_suppressed"].fillna(False).astype(bool) & ~is_origin
    return out


def _hidden_mask(data: pd.DataFrame, unit: Unit) -> pd.Series:
    """Links not drawn in this unit: suppressed values (and, in %, suppressed shares)."""
    mask = data["is_suppressed"].fillna(False).astype(bool) | data["value_t"].isna()
    if unit == "%":
        mask = mask | data["is_share_suppressed"].fillna(False).astype(bool) | data["share_pct"].isna()
    return mask


def _order_key(node: str) -> int:
    return NODE_ORDER.index(node) if node in NODE_ORDER else len(NODE_ORDER)


def _note(row: pd.Series, min_reporters: int | None, *, share: bool = False) -> str:
    """The marking of a withheld value, from the policy's note when it gave one."""
    if share and not bool(row.get("is_suppressed", False)):
        note = row.get("share_suppression_note")
        if isinstance(note, str) and note:
            return note
        return "share suppressed (it would reveal a suppressed stage total)"
    return _suppression_note(row, min_reporters)


def _link_name(row: pd.Series) -> str:
    return f"{node_label(row['source'])} → {node_label(row['target'])}"


def build_sankey(
    flows: pd.DataFrame,
    *,
    unit: Unit = "t",
    title: str | None = None,
    min_reporters: int | None = None,
    height: int = 520,
) -> go.Figure:
    """The CoC Sankey for one year.

    Drawn links are the published rows: widths in tonnes, or in % of the source stage's
    output when unit is "%". Withheld rows are not drawn; they are listed under the chart
    and in the hover text of the nodes they touch, each with its suppression note.
    """
    data = with_shares(flows) if not flows.empty else flows.assign(share_pct=pd.Series(dtype="Float64"))
    hidden_mask = _hidden_mask(data, unit) if not data.empty else pd.Series(dtype=bool)
    # A published zero has no width to draw; it stays in the table and the summary as 0 t.
    visible = data.loc[~hidden_mask & (data["value_t"].fillna(0) > 0)] if not data.empty else data
    hidden = data.loc[hidden_mask] if not data.empty else data
    nodes = sorted({*map(str, data.get("source", [])), *map(str, data.get("target", []))}, key=_order_key)
    index = {n: i for i, n in enumerate(nodes)}
    notes: dict[str, list[str]] = {n: [] for n in nodes}
    hidden_lines = []
    for _, row in hidden.iterrows():
        text = f"{_link_name(row)}: {_note(row, min_reporters, share=unit == '%')}"
        hidden_lines.append(text)
        notes[str(row["source"])].append(text)
        notes[str(row["target"])].append(text)
    values = visible["share_pct"].astype(float) if unit == "%" else visible["value_t"].astype(float)
    link_text = []
    for _, row in visible.iterrows():
        tonnes = format_tonnes(row["value_t"])
        share = row["share_pct"]
        is_origin = str(row["source"]).startswith("origin_")
        if is_origin:
            share_text = f"entered the CoC chain at {node_label(row['target'])}"
        elif pd.isna(share) or bool(row["is_share_suppressed"]):
            share_text = "share of source output: " + _note(row, min_reporters, share=True)
        else:
            share_text = f"{float(share):.1f}% of {node_label(row['source'])} output"
        material = row.get("material_label")
        material_text = f"{material}: " if isinstance(material, str) and material else ""
        link_text.append(f"{material_text}{tonnes}<br>{share_text}")
    node_hover = []
    for n in nodes:
        inflow = visible.loc[visible["target"] == n, "value_t"].sum()
        outflow = visible.loc[visible["source"] == n, "value_t"].sum()
        parts = [f"<b>{node_label(n)}</b>"]
        if inflow:
            parts.append(f"Input drawn: {format_tonnes(inflow)}")
        if outflow:
            parts.append(f"Output drawn: {format_tonnes(outflow)}")
        parts += notes[n]
        node_hover.append("<br>".join(parts))
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            valueformat=".1f" if unit == "%" else ",.0f",
            valuesuffix="%" if unit == "%" else " t",
            node={
                "label": [node_label(n) for n in nodes],
                "x": [NODE_XY.get(n, (0.5, 0.5))[0] for n in nodes],
                "y": [NODE_XY.get(n, (0.5, 0.5))[1] for n in nodes],
                "color": [NODE_COLOURS.get(n, GREY) for n in nodes],
                "customdata": node_hover,
                "hovertemplate": "%{customdata}<extra></extra>",
                "pad": 22,
                "thickness": 16,
                "line": {"color": "white", "width": 1},
            },
            link={
                "source": [index[str(s)] for s in visible["source"]],
                "target": [index[str(t)] for t in visible["target"]],
                "value": list(values),
                "color": [
                    _rgba(NODE_COLOURS.get(str(s), GREY), 0.16 if str(t) == LEFT_CHAIN else 0.42)
                    for s, t in zip(visible["source"], visible["target"], strict=True)
                ],
                "customdata": link_text,
                "hovertemplate": "%{source.label} → %{target.label}<br>%{customdata}<extra></extra>",
            },
        )
    )
    annotations = []
    if hidden_lines:
        annotations.append(
            {
                "text": "Not drawn (ASI antitrust policy):<br>" + "<br>".join(hidden_lines),
                "x": 0,
                "y": 0,
                "xref": "paper",
                "yref": "paper",
                "yshift": -12,
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "align": "left",
                "font": {"size": 12, "color": "#333333"},
            }
        )
    fig.update_layout(
        title={"text": title} if title else None,
        height=height + 18 * len(hidden_lines),
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 30 + 18 * len(hidden_lines) if hidden_lines else 10},
        annotations=annotations,
        font={"size": 13},
    )
    return fig


def sankey_table(flows: pd.DataFrame, *, unit: Unit = "t", min_reporters: int | None = None) -> pd.DataFrame:
    """The links as people read and download them: values as text, withheld cells marked.

    Columns: From, To, Material, Tonnes, Share of source output (%), Note. A withheld value
    carries its suppression note in place of the number. The column the Sankey is drawn
    in comes first.
    """
    value_cols = ["Tonnes", "Share of source output (%)"]
    if unit == "%":
        value_cols.reverse()
    columns = ["From", "To", "Material", *value_cols, "Note"]
    if flows.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
    data = with_shares(flows)
    data = data.assign(
        _o1=data["source"].map(lambda x: _order_key(str(x))), _o2=data["target"].map(lambda x: _order_key(str(x)))
    ).sort_values(["_o1", "_o2"], kind="stable")
    rows = []
    for _, row in data.iterrows():
        is_hidden = bool(row["is_suppressed"]) or pd.isna(row["value_t"])
        tonnes = _suppression_note(row, min_reporters) if is_hidden else f"{float(row['value_t']):,.0f}"
        if is_hidden:
            share = _suppression_note(row, min_reporters)
        elif bool(row["is_share_suppressed"]) or pd.isna(row["share_pct"]):
            share = _note(row, min_reporters, share=True)
        else:
            share = f"{float(row['share_pct']):.1f}"
        note = ""
        if is_hidden:
            note = "Not published under the ASI antitrust policy"
        elif bool(row.get("would_be_suppressed", False)):
            extra = row.get("publication_note")
            note = "Withheld from the public view" + (f": {extra}" if isinstance(extra, str) and extra else "")
        material = row.get("material_label")
        by_name = {
            "From": node_label(row["source"]),
            "To": node_label(row["target"]),
            "Material": material if isinstance(material, str) else "",
            "Tonnes": tonnes,
            "Share of source output (%)": share,
            "Note": note,
        }
        rows.append([by_name[c] for c in columns])
    return pd.DataFrame(rows, columns=columns).astype("string")


def sankey_summary(flows: pd.DataFrame, *, year: int, min_reporters: int | None = None) -> str:
    """A plain-language description of the Sankey for screen readers (and anyone).

    One sentence per source, in value-chain order: where its material went, in tonnes
    and shares. Withheld links are named with their suppression note, never as 0.
    """
    if flows.empty:
        return f"No ASI CoC material flows are published for {year}."
    data = with_shares(flows)
    sentences = [f"ASI Chain of Custody material flows in {year}, upstream first."]
    for source in sorted(data["source"].astype(str).unique(), key=_order_key):
        part = data.loc[data["source"].astype(str) == source]
        part = part.assign(_o=part["target"].map(lambda t: _order_key(str(t)))).sort_values("_o", kind="stable")
        clauses = []
        for _, row in part.iterrows():
            target = node_label(row["target"])
            if bool(row["is_suppressed"]) or pd.isna(row["value_t"]):
                clauses.append(f"to {target}: {_suppression_note(row, min_reporters)}")
                continue
            share = row["share_pct"]
            if source.startswith("origin_"):
                share_text = ""
            elif bool(row["is_share_suppressed"]) or pd.isna(share):
                share_text = " (share suppressed)"
            else:
                share_text = f" ({float(share):.0f}% of its output)"
            clauses.append(f"to {target}: {format_tonnes(row['value_t'])}{share_text}")
        if clauses:
            sentences.append(f"From {node_label(source)}, " + "; ".join(clauses) + ".")
    return " ".join(sentences)


def compare_stage_outputs(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Stage output of two years side by side from two published stage summaries.

    Expects stage, stage_label, reporting_year, output_t, is_suppressed and suppression_note
    (as coc_stage_summary returns). The change is shown only where both years are published;
    otherwise it carries the note of the withheld year.
    """
    columns = [
        "stage",
        "stage_label",
        "output_t",
        "previous_output_t",
        "change_t",
        "change_pct",
        "is_suppressed",
        "suppression_note",
    ]
    if current.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    prev = previous.set_index("stage") if not previous.empty else pd.DataFrame()
    rows = []
    for _, row in current.iterrows():
        stage = row["stage"]
        now_hidden = bool(row.get("is_suppressed", False)) or pd.isna(row["output_t"])
        before = prev.loc[stage] if stage in prev.index else None
        before_hidden = before is None or bool(before.get("is_suppressed", False)) or pd.isna(before["output_t"])
        now_v = None if now_hidden else float(row["output_t"])
        before_v = None if before_hidden else float(before["output_t"])
        change = now_v - before_v if now_v is not None and before_v is not None else None
        pct = change / before_v * 100 if change is not None and before_v else None
        note = None
        if now_hidden:
            note = row.get("suppression_note") or "suppressed"
        elif before is not None and before_hidden:
            note = before.get("suppression_note") or "suppressed"
        rows.append(
            {
                "stage": stage,
                "stage_label": node_label(stage),
                "output_t": now_v,
                "previous_output_t": before_v,
                "change_t": change,
                "change_pct": pct,
                "is_suppressed": note is not None,
                "suppression_note": note,
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    for column in ("output_t", "previous_output_t", "change_t", "change_pct"):
        out[column] = out[column].astype("Float64")
    return out


def build_year_comparison(comparison: pd.DataFrame, *, year: int, previous_year: int, height: int = 360) -> go.Figure:
    """Output per stage in two years as paired horizontal bars, with the change written out.

    Withheld values get no bar; the stage's row carries its suppression note instead.
    """
    data = comparison.iloc[::-1]
    texts = []
    for _, row in data.iterrows():
        if pd.notna(row["change_pct"]):
            arrow = "▲" if row["change_pct"] > 0 else ("▼" if row["change_pct"] < 0 else "►")
            texts.append(f"{arrow} {float(row['change_pct']):+.1f}%")
        elif bool(row["is_suppressed"]):
            texts.append(str(row["suppression_note"]))
        else:
            texts.append(f"not reported in {previous_year}")
    # The change is part of the row label, so it reads without colour or hovering.
    labels = [f"{name}<br><i>{text}</i>" for name, text in zip(data["stage_label"], texts, strict=True)]
    fig = go.Figure()
    for column, yr, colour in (("previous_output_t", previous_year, GREY), ("output_t", year, BLUE)):
        fig.add_trace(
            go.Bar(
                y=labels,
                x=[None if pd.isna(v) else float(v) for v in data[column]],
                orientation="h",
                name=str(yr),
                marker={"color": colour},
                hovertemplate="%{x:,.0f} t<extra>" + str(yr) + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        plot_bgcolor="white",
        xaxis={
            "title": {"text": "Output, t (log scale)"},
            "type": "log",
            "dtick": 1,
            "exponentformat": "SI",
            "gridcolor": "#eeeeee",
        },
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "traceorder": "reversed"},
    )
    return fig


def _cell(value: object, hidden: bool, note: object, fmt: str) -> str:
    if hidden:
        return str(note) if isinstance(note, str) and note else "suppressed"
    if value is None or pd.isna(value):
        return "not applicable"
    return format(float(value), fmt)


def stage_summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Reporters, input, output, share of global production and attrition per stage, as text.

    Expects coc_stage_summary's columns. Each withheld figure carries its own suppression
    note (stage figures and attrition are protected separately), never 0 or blank.
    """
    columns = [
        "Stage",
        "Reporting companies",
        "Input (t)",
        "Output (t)",
        "World production (t, IAI)",
        "ASI share of world (%)",
        "Left the CoC chain (t)",
        "Left the CoC chain (% of output)",
    ]
    if summary.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
    rows = []
    for _, row in summary.iterrows():
        hidden = bool(row.get("is_suppressed", False))
        note = row.get("suppression_note")
        a_hidden = bool(row.get("attrition_is_suppressed", False))
        a_note = row.get("attrition_suppression_note")
        is_final = str(row["stage"]) == CocStage.MATERIAL_CONVERSION.value
        share = row.get("share_of_global")
        rows.append(
            [
                node_label(row["stage"]),
                str(row.get("reporters_label") or row.get("reporters")),
                _cell(row["input_t"], hidden, note, ",.0f"),
                _cell(row["output_t"], hidden, note, ",.0f"),
                _cell(row.get("global_t"), False, None, ",.0f"),
                _cell(None if share is None or pd.isna(share) else float(share) * 100, hidden, note, PERCENT_FORMAT),
                "goes to final products" if is_final else _cell(row.get("attrition_t"), a_hidden, a_note, ",.0f"),
                "goes to final products"
                if is_final
                else _cell(
                    None if pd.isna(row.get("attrition_pct")) else float(row["attrition_pct"]) * 100,
                    a_hidden,
                    a_note,
                    PERCENT_FORMAT,
                ),
            ]
        )
    return pd.DataFrame(rows, columns=columns).astype("string")


def build_share_of_global(summary: pd.DataFrame, *, height: int = 300) -> go.Figure:
    """ASI CoC output as % of world production (IAI) per stage.

    A withheld stage gets no bar; its row label carries the suppression note instead.
    """
    data = summary.iloc[::-1]
    hidden = data["is_suppressed"].fillna(False).astype(bool) if "is_suppressed" in data else data["stage"].isna()
    notes = data["suppression_note"] if "suppression_note" in data else pd.Series([None] * len(data))
    values = [None if h or pd.isna(v) else float(v) * 100 for v, h in zip(data["share_of_global"], hidden, strict=True)]
    labels = []
    for stage, value, is_hidden, note in zip(data["stage"], values, hidden, notes, strict=True):
        extra = (
            (str(note) if isinstance(note, str) and note else "suppressed")
            if is_hidden
            else ("no world total" if value is None else "")
        )
        labels.append(f"{node_label(stage)}<br><i>{extra}</i>" if extra else node_label(stage))
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=values,
            orientation="h",
            marker={"color": [NODE_COLOURS.get(str(s), GREY) for s in data["stage"]]},
            text=["" if v is None else f"{v:{PERCENT_FORMAT}}%" for v in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{x:{PERCENT_FORMAT}}}% of world production<extra></extra>",
        )
    )
    top = max([v for v in values if v is not None] or [1.0]) * 1.3
    fig.update_layout(
        height=height + 20 * int(hidden.sum()),
        margin={"l": 10, "r": 30, "t": 10, "b": 10},
        plot_bgcolor="white",
        xaxis={"title": {"text": "% of world production (IAI)"}, "range": [0, top], "gridcolor": "#eeeeee"},
        showlegend=False,
    )
    return fig
