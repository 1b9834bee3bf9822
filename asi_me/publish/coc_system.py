"""The CoC material-flow figures of one reporting year as one system of atoms.

Atoms are the reported tonnes of one (region, membership class) block: each stage's
output and each stage-to-stage link (a stage's input of one material). Every figure a
non-secretariat viewer can get for the year is a linear function of them, in every view
a public URL accepts (the world, one region, one membership class): a stage's input and
output, each link, what left the chain (output minus what downstream stages took, which
can be negative), final products. Shares of IAI's public totals, shares of a source's
output and year-over-year changes are published only where the figures they are made of
are, so they add no equation. The sensitive unions are every block, and every difference
of two nested views, that fails the policy by itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from asi_me.data.vocab import COC_INPUT_SOURCE, CocStage
from asi_me.publish.policy import DisclosurePolicy
from asi_me.publish.protection import Figure, FigureSystem, Sensitive

STAGES: tuple[CocStage, ...] = tuple(CocStage)
LINKS: tuple[tuple[CocStage, CocStage | None, str], ...] = tuple(
    (stage, source, material.value) for (stage, material), source in COC_INPUT_SOURCE.items()
)
WORLD: tuple[str, str] = ("world", "")
UNKNOWN = "?"

View = tuple[str, str]
Block = tuple[str, str]


def in_view(view: View, block: Block) -> bool:
    kind, value = view
    return kind == "world" or (kind == "region" and block[0] == value) or (kind == "class" and block[1] == value)


def cell_keys() -> list[tuple[str, ...]]:
    """The figures of one view, in display order: stage inputs and outputs, links, then
    what leaves each stage (attrition, or final products for the last stage)."""
    keys: list[tuple[str, ...]] = []
    for stage in STAGES:
        keys += [("in", stage.value), ("out", stage.value)]
    keys += [("link", stage.value, material) for stage, _, material in LINKS]
    for stage in STAGES:
        keys.append(("attr", stage.value) if downstream(stage) else ("final", stage.value))
    return keys


def downstream(stage: CocStage) -> list[tuple[str, str]]:
    return [(s.value, m) for s, source, m in LINKS if source == stage]


@dataclass
class _Volumes:
    """Per block and atom key: each company's tonnes (input for links, output for outputs),
    and per block and stage each company's input plus output (who reports the stage)."""

    atom: dict[tuple[Block, tuple[str, ...]], dict[str, float]]
    stage_in: dict[tuple[Block, str], dict[str, float]]
    stage_out: dict[tuple[Block, str], dict[str, float]]


def _volumes(lines: pd.DataFrame) -> _Volumes:
    atom: dict[tuple[Block, tuple[str, ...]], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    stage_in: dict[tuple[Block, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    stage_out: dict[tuple[Block, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    regions = lines["region"].fillna(UNKNOWN).astype(str).tolist()
    classes = lines["membership_class"].fillna(UNKNOWN).astype(str).tolist()
    columns = ("stage", "material", "member_id", "input_t", "output_t")
    for region, member_class, (stage, material, member, input_t, output_t) in zip(
        regions, classes, zip(*(lines[c].tolist() for c in columns), strict=True), strict=True
    ):
        block = (region, member_class)
        atom[(block, ("link", stage, material))][member] += float(input_t)
        atom[(block, ("out", stage))][member] += float(output_t)
        stage_in[(block, stage)][member] += float(input_t)
        stage_out[(block, stage)][member] += float(output_t)
    return _Volumes(atom, stage_in, stage_out)


def _merge(parts: list[dict[str, float]]) -> dict[str, float]:
    merged: dict[str, float] = defaultdict(float)
    for part in parts:
        for member, value in part.items():
            merged[member] += value
    return dict(merged)


def stage_note(policy: DisclosurePolicy, inputs: dict[str, float], outputs: dict[str, float]) -> str | None:
    """A stage is published when enough companies report it (input or output) and none
    dominates its input or its output."""
    both = {m: inputs.get(m, 0.0) + outputs.get(m, 0.0) for m in {*inputs, *outputs}}
    return policy.primary_note(both) or policy.primary_note(inputs) or policy.primary_note(outputs)


def _active(volumes: dict[str, float]) -> bool:
    return any(v > 0 for v in volumes.values())


def coc_year_system(lines: pd.DataFrame, policy: DisclosurePolicy, views: list[View] | None = None) -> FigureSystem:
    """Every CoC figure of one year that a public or member viewer can get, over the
    year's block atoms, with primary notes, links, sensitive unions and each company's
    own atoms. `views` defaults to the world, every region and every class with lines."""
    volumes = _volumes(lines)
    blocks = sorted({b for b, _ in volumes.atom})
    if views is None:
        views = [WORLD]
        views += [("region", r) for r in sorted({b[0] for b in blocks if b[0] != UNKNOWN})]
        views += [("class", c) for c in sorted({b[1] for b in blocks if b[1] != UNKNOWN})]
    system = FigureSystem.empty()
    own: dict[str, dict[int, float]] = defaultdict(dict)
    atom_keys = [("out", s.value) for s in STAGES] + [("link", s.value, m) for s, _, m in LINKS]
    for block in blocks:
        for key in atom_keys:
            contributions = volumes.atom.get((block, key), {})
            index = system.atom((block, key), float(sum(contributions.values())))
            for member, value in contributions.items():
                if value:
                    own[member][index] = value
    system.own = {m: _dense(v, len(system.atoms)) for m, v in own.items()}

    def vector(view: View, key: tuple[str, ...]) -> dict[int, float]:
        return {system.index[(b, key)]: 1.0 for b in blocks if in_view(view, b)}

    for view in views:
        inside = [b for b in blocks if in_view(view, b)]
        for stage in STAGES:
            s = stage.value
            inputs = _merge([volumes.stage_in.get((b, s), {}) for b in inside])
            outputs = _merge([volumes.stage_out.get((b, s), {}) for b in inside])
            note = stage_note(policy, inputs, outputs)
            reported = _active(inputs) or _active(outputs)
            in_vec: dict[int, float] = defaultdict(float)
            for st, _, m in LINKS:
                if st.value == s:
                    for a, c in vector(view, ("link", s, m)).items():
                        in_vec[a] += c
            _add(system, (view, ("in", s)), dict(in_vec), note, no_reports=not reported)
            _add(system, (view, ("out", s)), vector(view, ("out", s)), note, no_reports=not reported)
            system.linked.append([(view, ("in", s)), (view, ("out", s))])
        link_reported: dict[tuple[str, str], bool] = {}
        for stage, _, material in LINKS:
            key = ("link", stage.value, material)
            contributions = _merge([volumes.atom.get((b, key), {}) for b in inside])
            link_reported[(stage.value, material)] = _active(contributions)
            _add(system, (view, key), vector(view, key), policy.primary_note(contributions),
                 no_reports=not _active(contributions))
        for stage in STAGES:
            s = stage.value
            out_figure = system.figures[(view, ("out", s))]
            below = downstream(stage)
            if below:
                tail: tuple[str, ...] = ("attr", s)
                vec: dict[int, float] = defaultdict(float, out_figure.vector)
                for ds, m in below:
                    for a, c in vector(view, ("link", ds, m)).items():
                        vec[a] -= c
                quiet = out_figure.no_reports and not any(link_reported[p] for p in below)
            else:
                tail = ("final", s)
                vec = defaultdict(float, out_figure.vector)
                quiet = out_figure.no_reports
            _add(system, (view, tail), {a: c for a, c in vec.items() if c}, None, reported=False, no_reports=quiet)
            # What leaves a stage reads as a figure of that stage: hidden with it.
            system.dependents[(view, ("out", s))] = [(view, tail)]
    _add_sensitive(system, volumes, blocks, views, policy)
    return system


def _add(
    system: FigureSystem, key: Hashable, vector: dict[int, float], note: str | None, *,
    reported: bool = True, no_reports: bool = False,
) -> None:
    value = system.value_of(vector)
    # The world's figures are the headline: withhold a region's or a class's first.
    weight = 1000.0 if key[0] == WORLD else 1.0
    system.figures[key] = Figure(key, vector, value, None if no_reports else note, reported, no_reports, weight)


def _dense(values: dict[int, float], n: int) -> np.ndarray:
    out = np.zeros(n)
    for index, value in values.items():
        out[index] = value
    return out


def _add_sensitive(
    system: FigureSystem, volumes: _Volumes, blocks: list[Block], views: list[View], policy: DisclosurePolicy
) -> None:
    """Blocks, and differences of nested views, that fail the policy by themselves."""
    seen: set[tuple[tuple[str, ...], frozenset[Block]]] = set()
    for key in [("out", s.value) for s in STAGES] + [("link", s.value, m) for s, _, m in LINKS]:
        present = [b for b in blocks if _active(volumes.atom.get((b, key), {}))
                   or (key[0] == "out" and _active(volumes.stage_in.get((b, key[1]), {})))]
        if not present:
            continue
        sets = {v: frozenset(b for b in present if in_view(v, b)) for v in views}
        unions = [frozenset([b]) for b in present]
        for outer, outer_set in sets.items():
            for inner, inner_set in sets.items():
                if outer != inner and inner_set and inner_set < outer_set:
                    unions.append(outer_set - inner_set)
        for union in unions:
            if (key, union) in seen:
                continue
            seen.add((key, union))
            if key[0] == "out":
                inputs = _merge([volumes.stage_in.get((b, key[1]), {}) for b in union])
                outputs = _merge([volumes.stage_out.get((b, key[1]), {}) for b in union])
                note = stage_note(policy, inputs, outputs)
                vectors = [("out", {system.index[(b, key)]: 1.0 for b in union})]
                in_vec = {system.index[(b, ("link", key[1], m))]: 1.0
                          for b in union for st, _, m in LINKS if st.value == key[1]}
                vectors.append(("in", in_vec))
            else:
                note = policy.primary_note(_merge([volumes.atom.get((b, key), {}) for b in union]))
                vectors = [("link", {system.index[(b, key)]: 1.0 for b in union})]
            if note is None:
                continue
            for kind, vec in vectors:
                label = ("union", kind, key, tuple(sorted(union)))
                system.sensitive.append(Sensitive(label, vec, system.value_of(vec), note))
