"""CoC material flow (screen 3): stage summary, Sankey links, year over year, mass balance.

Every volume a public or member viewer gets has passed `asi_me.publish.policy` for the whole
view at once: the stage nodes (input and output), the links between stages, the
attrition links ("left the CoC chain"), the final-products sink, % of global, the
% of source output and year-over-year changes are one system of additive relations,
so no hidden figure can be recomputed from the visible ones.

The public and members can filter CoC figures by one region or one membership class
at a time, or not at all (`public_filters`); other filters are ignored and the query
functions say so (`coc_filters_not_applied`, `FILTER_NOTE`). The world view, every
region's view and every class's view of a year are protected together, once, so no
cell hidden in one of them can be recomputed from the cells visible in all of them,
and no difference of two nested views (the world minus a region) gives a cell that
fails the policy. The secretariat sees every value under any filter, flagged with
what the public would see.

Filters that apply (for the secretariat; see above for everyone else): facility
country and region, and the member's class. Activity,
standard, version and status filters are ignored here: a report line already names
its stage, and cutting the chain by a facility's certified activities would draw a
partial flow that matches no published figure. The reporting year is chosen
explicitly, so the period filter is ignored too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from asi_me.data.store import Store
from asi_me.data.vocab import (
    COC_INPUT_SOURCE,
    COC_STAGE_OUTPUT,
    COC_YIELD_FACTOR,
    CocMaterial,
    CocStage,
    Role,
    label,
    stage_label,
)
from asi_me.filters import Filters, Viewer
from asi_me.publish import prepared
from asi_me.publish.coc_system import coc_year_system
from asi_me.publish.counts import mask_jointly
from asi_me.publish.policy import (
    Cell,
    DisclosurePolicy,
    Protection,
    Relation,
    mark,
    mask_counts,
    policy_applies,
    protect_cells,
)
from asi_me.publish.protection import NO_REPORTS, protect_system

# Sankey nodes that are not stages.
LEFT_CHAIN = "left_chain"
FINAL_PRODUCTS = "final_products"
ORIGIN_PREFIX = "origin_"
NODE_LABELS: dict[str, str] = {
    LEFT_CHAIN: "Left the CoC chain",
    FINAL_PRODUCTS: "Final products",
    f"{ORIGIN_PREFIX}{CocStage.BAUXITE_MINING}": "Bauxite mined",
    f"{ORIGIN_PREFIX}{CocStage.RECYCLING}": "Scrap collected",
}

STAGES: tuple[CocStage, ...] = tuple(CocStage)
# The (stage, material) input lines that each stage's output feeds.
DOWNSTREAM: dict[CocStage, list[tuple[CocStage, CocMaterial]]] = {
    stage: [pair for pair, source in COC_INPUT_SOURCE.items() if source == stage] for stage in STAGES
}

_LINE_COLUMNS = [
    "reporting_year", "stage", "material", "facility_id", "facility_name", "member_id", "member_name",
    "membership_class", "country", "region", "input_t", "output_t", "carried_forward_t", "submitted_on", "due_on",
]


def node_label(node: str) -> str:
    return NODE_LABELS.get(node) or stage_label(node)


def check_year(year: Any) -> int:
    """A reporting year as an int, or a ValueError saying what a year looks like."""
    is_number = isinstance(year, int | float) and not isinstance(year, bool)
    if not (is_number or isinstance(year, str)) or (isinstance(year, float) and not year.is_integer()):
        raise ValueError(f"Reporting year {year!r} is not a year; give a whole number such as 2020.")
    text = str(int(year)) if isinstance(year, int | float) else year.strip()
    if not text.isdigit() or not 1900 <= int(text) <= 2200:
        shown = year if len(str(year)) <= 40 else f"{str(year)[:40]}..."
        raise ValueError(f"Reporting year {shown!r} is not a year; give a whole number such as 2020.")
    return int(text)


def _policy(policy: DisclosurePolicy | None) -> DisclosurePolicy:
    return policy or DisclosurePolicy.from_settings()


def _filter_params(filters: Filters | None) -> dict[str, Any]:
    params = (filters or Filters()).sql_params()
    return {k: params[k] for k in ("countries", "regions", "membership_classes")}


def coc_lines(
    store: Store, years: list[int], filters: Filters | None = None, member_id: str | None = None
) -> pd.DataFrame:
    """Report lines of `years` (filtered), optionally only one member's. Not for display as is."""
    params = {"years": years, "member_id": member_id, **_filter_params(filters)}
    return store.run_via_arrow("coc_lines", params)


# --- the view model of one year -----------------------------------------------------------


def _in(stage: CocStage) -> tuple[str, str]:
    return ("in", stage.value)


def _out(stage: CocStage) -> tuple[str, str]:
    return ("out", stage.value)


def _link(stage: CocStage, material: CocMaterial) -> tuple[str, str, str]:
    return ("link", stage.value, material.value)


def _attr(stage: CocStage) -> tuple[str, str]:
    return ("attr", stage.value)


def _final(stage: CocStage) -> tuple[str, str]:
    return ("final", stage.value)


@dataclass
class CocYearView:
    """All figures the CoC screen can show for one year and filter set, with their protection."""

    year: int
    lines: pd.DataFrame
    cells: dict[Hashable, Cell] = field(default_factory=dict)
    protection: Protection = field(default_factory=Protection)
    reporters: dict[CocStage, int] = field(default_factory=dict)
    entities: dict[CocStage, int] = field(default_factory=dict)
    count_notes: dict[CocStage, str | None] = field(default_factory=dict)

    def value(self, key: Hashable) -> float:
        return self.cells[key].value

    def note(self, key: Hashable) -> str | None:
        return self.protection.note(key)

    def first_note(self, *keys: Hashable) -> str | None:
        return next((n for n in (self.note(k) for k in keys) if n), None)


# Views are pure functions of (snapshot content, year, filters, policy); snapshot ids
# are content hashes, so a small memo lets the summary, flows, year-over-year and
# mass-balance functions of one screen share one computation.
_VIEW_CACHE: OrderedDict[tuple[str, int, Filters, DisclosurePolicy], CocYearView] = OrderedDict()
_VIEW_CACHE_SIZE = 64
_VIEW_CACHE_LOCK = threading.Lock()
_JOINT_CACHE: OrderedDict[tuple[str, int, DisclosurePolicy], _Hierarchy] = OrderedDict()
_JOINT_CACHE_SIZE = 16

FILTER_NOTE = (
    "CoC figures for the public can be filtered by one region or one membership class at a time "
    "(ASI Antitrust Compliance Policy); country filters do not apply."
)
_FILTER_NAMES = {"countries": "country", "regions": "region", "membership_classes": "class"}


def _place_filters(filters: Filters | None) -> Filters:
    """Only the filters CoC figures use (place and class), so equal views share a cache entry."""
    f = filters or Filters()
    return Filters(regions=f.regions, countries=f.countries, membership_classes=f.membership_classes)


def partition_view(filters: Filters | None) -> tuple[str, str] | None:
    """The view of the public hierarchy a filter set selects: ("world", ""), ("region", r)
    or ("class", c); None when it is not one of them (a country list, two regions, ...)."""
    f = filters or Filters()
    if f.countries:
        return None
    if not f.regions and not f.membership_classes:
        return ("world", "")
    if len(f.regions) == 1 and not f.membership_classes:
        return ("region", f.regions[0])
    if len(f.membership_classes) == 1 and not f.regions:
        return ("class", f.membership_classes[0])
    return None


def public_filters(filters: Filters | None) -> tuple[Filters, list[str]]:
    """The filters CoC figures for the public and members use, and the URL names of those ignored.

    At most one partition filter applies: one region or one membership class. Country
    lists, several regions or classes, and a region with a class would each give views
    whose differences with the allowed ones isolate single companies.
    """
    f = _place_filters(filters)
    if partition_view(f) is not None:
        return f, []
    ignored = ["countries"] if f.countries else []
    regions, classes = f.regions, f.membership_classes
    if len(regions) > 1 or (regions and classes):
        ignored.append("regions")
        regions = ()
    if len(classes) > 1 or (f.regions and classes):
        ignored.append("membership_classes")
        classes = ()
    return Filters(regions=regions, membership_classes=classes), [_FILTER_NAMES[n] for n in ignored]


def coc_filters_not_applied(viewer: Viewer, filters: Filters | None, *, for_publication: bool = False) -> list[str]:
    """URL names of the active filters the CoC figures for this viewer ignore (empty for the secretariat)."""
    if not policy_applies(viewer, for_publication):
        return []
    return public_filters(filters)[1]


def coc_filter_note(viewer: Viewer, filters: Filters | None, *, for_publication: bool = False) -> str | None:
    """The sentence a screen shows when some filters do not apply to this viewer's CoC figures."""
    return FILTER_NOTE if coc_filters_not_applied(viewer, filters, for_publication=for_publication) else None


def _served_filters(viewer: Viewer, filters: Filters | None, for_publication: bool) -> Filters:
    """The filters a query function applies for this viewer."""
    if policy_applies(viewer, for_publication):
        return public_filters(filters)[0]
    return _place_filters(filters)


def coc_year_view(
    store: Store, year: int, filters: Filters | None = None, policy: DisclosurePolicy | None = None
) -> CocYearView:
    """Every cell of one year's CoC view with the disclosure policy run over it.

    The world, each single region and each single class come from one protection of
    all of them together (see `_Hierarchy`); any other filter set (secretariat analysis
    only) is protected on its own and against the rest of the world. The result is
    shared between callers: treat it as read-only.
    """
    policy = _policy(policy)
    filters = _place_filters(filters)
    key = (store.snapshot_id, year, filters, policy)
    with _VIEW_CACHE_LOCK:
        if key in _VIEW_CACHE:
            _VIEW_CACHE.move_to_end(key)
            return _VIEW_CACHE[key]
    part = partition_view(filters)
    if part is None:
        view = _build_year_view(store, year, filters, policy)
    else:
        view = _hierarchy(store, year, policy).view(part, policy)
    with _VIEW_CACHE_LOCK:
        _VIEW_CACHE[key] = view
        while len(_VIEW_CACHE) > _VIEW_CACHE_SIZE:
            _VIEW_CACHE.popitem(last=False)
    return view


@dataclass
class _ViewSystem:
    """The cells of one view and the additive relations, links and notes among them."""

    lines: pd.DataFrame
    volumes: _CompanyVolumes
    cells: dict[Hashable, Cell] = field(default_factory=dict)
    forced: dict[Hashable, str] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    linked: list[list[Hashable]] = field(default_factory=list)
    dependents: dict[Hashable, list[Hashable]] = field(default_factory=dict)


def _stage_note(policy: DisclosurePolicy, inputs: dict[str, float], outputs: dict[str, float]) -> str | None:
    """A stage is published when its reporters (input or output) are enough and no
    company dominates either its input or its output."""
    return (
        policy.primary_note({m: inputs.get(m, 0.0) + outputs.get(m, 0.0) for m in {*inputs, *outputs}})
        or policy.primary_note(inputs)
        or policy.primary_note(outputs)
    )


def _view_system(lines: pd.DataFrame, policy: DisclosurePolicy) -> _ViewSystem:
    volumes = _CompanyVolumes.of(lines)
    system = _ViewSystem(lines, volumes)
    cells, forced = system.cells, system.forced
    for stage in STAGES:
        inputs, outputs = volumes.stage_in[stage.value], volumes.stage_out[stage.value]
        cells[_in(stage)] = Cell(float(sum(inputs.values())))
        cells[_out(stage)] = Cell(float(sum(outputs.values())))
        note = _stage_note(policy, inputs, outputs)
        if note:
            forced[_in(stage)] = note
    for (stage, material) in COC_INPUT_SOURCE:
        link = dict(volumes.link_in[(stage.value, material.value)])
        cells[_link(stage, material)] = Cell(float(sum(link.values())), link)
    for stage in STAGES:
        inputs = [_link(s, m) for (s, m) in COC_INPUT_SOURCE if s == stage]
        system.relations.append(Relation(_in(stage), tuple(inputs)))
        downstream = [_link(s, m) for (s, m) in DOWNSTREAM[stage]]
        if downstream:
            taken = sum(cells[k].value for k in downstream)
            cells[_attr(stage)] = Cell(cells[_out(stage)].value - taken)
            system.relations.append(Relation(_out(stage), (*downstream, _attr(stage))))
            tail = _attr(stage)
        else:
            cells[_final(stage)] = Cell(cells[_out(stage)].value)
            system.relations.append(Relation(_out(stage), (_final(stage),)))
            tail = _final(stage)
        # A stage's input and output are shown and hidden together, and what leaves it
        # (attrition or final products) is hidden with it: a stage's attrition shown
        # beside a hidden stage would read as a figure of that stage.
        system.linked.append([_in(stage), _out(stage)])
        system.dependents[_out(stage)] = [tail]
    return system


def _year_view(year: int, system: _ViewSystem, protection: Protection, policy: DisclosurePolicy) -> CocYearView:
    view = CocYearView(year, system.lines, system.cells, protection)
    for stage in STAGES:
        view.reporters[stage] = len(system.volumes.active_members[stage.value])
        view.entities[stage] = len(system.volumes.active_facilities[stage.value])
    view.count_notes = mask_counts(view.reporters, policy, total_shown=True)
    return view


def _with_volume(lines: pd.DataFrame) -> pd.DataFrame:
    return lines.assign(volume_t=lines["input_t"] + lines["output_t"])


def _build_year_view(store: Store, year: int, filters: Filters | None, policy: DisclosurePolicy) -> CocYearView:
    """A view for any filter set, protected on its own and against the rest of the world
    (the secretariat's analysis of filters the public cannot use)."""
    system = _view_system(_with_volume(coc_lines(store, [year], filters)), policy)
    if filters is not None and (filters.countries or filters.regions or filters.membership_classes):
        system.forced.update(_protect_the_rest(store, year, system.volumes, policy, system.forced))
    protection = protect_cells(
        system.cells,
        system.relations,
        policy,
        linked=system.linked,
        forced=system.forced,
        dependents=system.dependents,
    )
    return _year_view(year, system, protection, policy)


def _hierarchy(store: Store, year: int, policy: DisclosurePolicy) -> _Hierarchy:
    key = (store.snapshot_id, year, policy)
    with _VIEW_CACHE_LOCK:
        if key in _JOINT_CACHE:
            _JOINT_CACHE.move_to_end(key)
            return _JOINT_CACHE[key]
    joint = _Hierarchy.build(_with_volume(coc_lines(store, [year], None)), year, policy, store=store)
    with _VIEW_CACHE_LOCK:
        _JOINT_CACHE[key] = joint
        while len(_JOINT_CACHE) > _JOINT_CACHE_SIZE:
            _JOINT_CACHE.popitem(last=False)
    return joint


# Unknowns of the joint system per (region, class) block: each stage's output and each link.
_BLOCK_KEYS: tuple[Hashable, ...] = (*(_out(s) for s in STAGES), *(_link(s, m) for (s, m) in COC_INPUT_SOURCE))


@dataclass
class _Hierarchy:
    """One year's protection of the world view, every region's view and every membership
    class's view together, so that no cell hidden in one of them can be recomputed from
    the cells visible in all of them.

    The system's cells are every view's cells, keyed (view, cell). Besides each view's
    own relations it holds, per stage output and per link, world = sum of regions and
    world = sum of classes. Where one view nests in another for a figure (the world and
    a region; a class all of whose lines of that figure lie in one region), the
    difference is a latent cell: if it fails the policy by itself it must not become
    derivable, so the world minus Europe never gives away the rest of the world's one
    bauxite miner.
    """

    year: int
    systems: dict[tuple[str, str], _ViewSystem]
    notes: dict[Hashable, str | None]
    count_notes: dict[tuple[tuple[str, str], CocStage], str | None] = field(default_factory=dict)

    @classmethod
    def build(cls, lines: pd.DataFrame, year: int, policy: DisclosurePolicy, store: Store | None = None) -> _Hierarchy:
        """The year's views and their joint protection; with `store`, the protection (notes
        and count notes) is kept on disk per snapshot, year and policy (asi_me.publish.prepared)."""
        views: dict[tuple[str, str], pd.DataFrame] = {("world", ""): lines}
        for region in sorted(lines["region"].dropna().unique()):
            views[("region", str(region))] = lines[lines["region"] == region]
        for member_class in sorted(lines["membership_class"].dropna().unique()):
            views[("class", str(member_class))] = lines[lines["membership_class"] == member_class]
        systems = {v: _view_system(frame, policy) for v, frame in views.items()}
        if store is None:
            return cls._protected(lines, year, policy, views, systems)

        def protect() -> dict[str, list[list[Any]]]:
            built = cls._protected(lines, year, policy, views, systems)
            return {"notes": [[_encode_key(k), n] for k, n in built.notes.items()],
                    "count_notes": [[_encode_key(k), n] for k, n in built.count_notes.items()]}

        body = prepared.document(store, "coc-protection", [year, policy], protect)
        return cls(year, systems, {_decode_key(k): n for k, n in body["notes"]},
                   {_decode_key(k): n for k, n in body["count_notes"]})

    @classmethod
    def _protected(cls, lines: pd.DataFrame, year: int, policy: DisclosurePolicy,
                   views: dict[tuple[str, str], pd.DataFrame],
                   systems: dict[tuple[str, str], _ViewSystem]) -> _Hierarchy:
        # The protection itself: every view's figures over the year's (region, class)
        # atoms, judged by what the public and each member can prove (asi_me.publish).
        joint = coc_year_system(lines, policy, list(views))
        notes = protect_system(joint, policy.protection_level, policy.note_complementary)
        hierarchy = cls(year, systems, {k: (None if n == NO_REPORTS else n) for k, n in notes.items()})
        # Reporter and entity counts: masked per view, then across views until no masked
        # count can be recovered from the others (world = sum of classes, of regions).
        per_view = {v: _year_view(year, system, Protection(), policy) for v, system in systems.items()}
        for stage in STAGES:
            joint_notes = mask_jointly(
                {v: view.reporters[stage] for v, view in per_view.items()},
                {v: view.entities[stage] for v, view in per_view.items()},
                {v: view.count_notes[stage] for v, view in per_view.items()},
                policy.min_reporters, policy.note_complementary,
            )
            for v, note in joint_notes.items():
                hierarchy.count_notes[(v, stage)] = note
        return hierarchy

    def view(self, part: tuple[str, str], policy: DisclosurePolicy) -> CocYearView:
        """The view of the world, one region or one class, with its share of the joint protection."""
        system = self.systems.get(part)
        if system is None:
            # Nobody in this region or class reported: every figure is a true zero.
            empty = self.systems[("world", "")].lines.iloc[0:0]
            system = _view_system(empty, policy)
            return _year_view(self.year, system, Protection(dict.fromkeys(system.cells)), policy)
        notes = {k: self.notes.get((part, k)) for k in system.cells}
        view = _year_view(self.year, system, Protection(notes), policy)
        for stage in STAGES:
            if (part, stage) in self.count_notes:
                view.count_notes[stage] = self.count_notes[(part, stage)]
        return view


def _encode_key(key: Any) -> Any:
    """A protection key as JSON: tuples as lists, a stage as {"stage": value}."""
    if isinstance(key, tuple):
        return [_encode_key(k) for k in key]
    if isinstance(key, CocStage):
        return {"stage": key.value}
    return key


def _decode_key(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_decode_key(v) for v in value)
    if isinstance(value, dict):
        return CocStage(value["stage"])
    return value


def _in_view(view: tuple[str, str], block: tuple[str, str]) -> bool:
    kind, value = view
    return kind == "world" or (kind == "region" and block[0] == value) or (kind == "class" and block[1] == value)


def _block_figure(volumes: _CompanyVolumes, key: Hashable) -> bool:
    """Whether a block has lines with volume for a block key (a stage's output or a link)."""
    if key[0] == "out":
        inputs, outputs = volumes.stage_in[key[1]], volumes.stage_out[key[1]]
        return any(inputs.get(m, 0.0) + outputs.get(m, 0.0) > 0 for m in {*inputs, *outputs})
    return any(v > 0 for v in volumes.link_in[(key[1], key[2])].values())


def _rest_note(parts: list[_CompanyVolumes], key: Hashable, policy: DisclosurePolicy) -> str | None:
    """Whether the union of some blocks fails the policy for a block key."""
    merged: dict[str, dict[str, float]] = {"in": defaultdict(float), "out": defaultdict(float)}
    for volumes in parts:
        if key[0] == "out":
            for m, v in volumes.stage_in[key[1]].items():
                merged["in"][m] += v
            for m, v in volumes.stage_out[key[1]].items():
                merged["out"][m] += v
        else:
            for m, v in volumes.link_in[(key[1], key[2])].items():
                merged["in"][m] += v
    if key[0] == "out":
        return _stage_note(policy, dict(merged["in"]), dict(merged["out"]))
    return policy.primary_note(dict(merged["in"]))


@dataclass
class _CompanyVolumes:
    """Per stage and per (stage, material): each company's input and output tonnes,
    and the companies and facilities with non-zero volume, from one pass over the lines."""

    stage_in: dict[str, dict[str, float]]
    stage_out: dict[str, dict[str, float]]
    link_in: dict[tuple[str, str], dict[str, float]]
    active_members: dict[str, set[str]]
    active_facilities: dict[str, set[str]]

    @classmethod
    def of(cls, lines: pd.DataFrame) -> _CompanyVolumes:
        out = cls(
            defaultdict(lambda: defaultdict(float)),
            defaultdict(lambda: defaultdict(float)),
            defaultdict(lambda: defaultdict(float)),
            defaultdict(set),
            defaultdict(set),
        )
        columns = ("stage", "material", "member_id", "facility_id", "input_t", "output_t")
        for stage_code, material_code, member_id, facility_id, input_t, output_t in zip(
            *(lines[c].tolist() for c in columns), strict=True
        ):
            out.stage_in[stage_code][member_id] += input_t
            out.stage_out[stage_code][member_id] += output_t
            out.link_in[(stage_code, material_code)][member_id] += input_t
            if input_t + output_t > 0:
                out.active_members[stage_code].add(member_id)
                out.active_facilities[stage_code].add(facility_id)
        return out


def _minus(whole: dict[str, float], part: dict[str, float]) -> dict[str, float]:
    # Rounding residue of a subtraction is not a reporter.
    return {m: v - part.get(m, 0.0) for m, v in whole.items() if v - part.get(m, 0.0) > 1e-6}


def _protect_the_rest(
    store: Store, year: int, shown: _CompanyVolumes, policy: DisclosurePolicy, forced: dict[Hashable, str]
) -> dict[Hashable, str]:
    """Cells of a filtered view to hide because the unfiltered figure minus this one
    (everything outside the filter) would be a cell that fails the policy: otherwise
    two public views subtracted give the hidden rest away."""
    everything = _CompanyVolumes.of(coc_lines(store, [year], None))
    extra: dict[Hashable, str] = {}
    for stage in STAGES:
        rest_in = _minus(everything.stage_in[stage.value], shown.stage_in[stage.value])
        rest_out = _minus(everything.stage_out[stage.value], shown.stage_out[stage.value])
        rest_volume = {m: rest_in.get(m, 0.0) + rest_out.get(m, 0.0) for m in {*rest_in, *rest_out}}
        failing = (
            policy.primary_note(rest_volume) or policy.primary_note(rest_in) or policy.primary_note(rest_out)
        )
        if failing and _in(stage) not in forced:
            extra[_in(stage)] = policy.note_complementary
    for (stage, material) in COC_INPUT_SOURCE:
        pair = (stage.value, material.value)
        if policy.primary_note(_minus(everything.link_in[pair], shown.link_in[pair])):
            extra[_link(stage, material)] = policy.note_complementary
    return extra


# --- query functions ------------------------------------------------------------------------


def coc_years(store: Store) -> list[int]:
    """Reporting years that have CoC report lines, oldest first."""
    return [int(y) for y in store.run("coc_years")["reporting_year"]]


def coc_default_year(store: Store, as_of: date | None = None) -> int | None:
    """The reporting year a screen opens on: the latest one whose reports were due on or
    before `as_of`; a year without recorded due dates qualifies when it is at most
    as_of's year minus one.

    Without `as_of` it is the latest year loaded; None when no year qualifies.
    """
    years = store.run("coc_years")
    if years.empty:
        return None
    if as_of is None:
        return int(years["reporting_year"].iloc[-1])
    qualifying = [
        int(year)
        for year, due in zip(years["reporting_year"], years["due_on"], strict=True)
        if (pd.notna(due) and pd.Timestamp(due).date() <= as_of) or (pd.isna(due) and int(year) <= as_of.year - 1)
    ]
    return max(qualifying) if qualifying else None


def coc_stage_summary(
    store: Store,
    viewer: Viewer,
    year: int,
    filters: Filters | None = None,
    *,
    for_publication: bool = False,
    policy: DisclosurePolicy | None = None,
) -> pd.DataFrame:
    """Per stage: reporters, entities, input, output, % of global (IAI), attrition; policy applied."""
    year = check_year(year)
    policy = _policy(policy)
    filters = _served_filters(viewer, filters, for_publication)
    view = coc_year_view(store, year, filters, policy)
    applies = policy_applies(viewer, for_publication)
    global_t = store.run("coc_global_totals", {"year": year}).set_index("stage")["global_t"]
    rows = []
    for stage in STAGES:
        out = view.value(_out(stage))
        glob = float(global_t[stage.value]) if stage.value in global_t.index else None
        has_attr = _attr(stage) in view.cells
        attr = view.value(_attr(stage)) if has_attr else None
        rows.append(
            {
                "reporting_year": year,
                "stage": stage.value,
                "stage_label": stage_label(stage),
                "reporters": view.reporters[stage],
                "reporters_label": str(view.reporters[stage]) if view.reporters[stage] else NO_REPORTS,
                "entities": view.entities[stage],
                "input_t": view.value(_in(stage)),
                "output_t": out,
                "global_t": glob,
                "share_of_global": out / glob if glob else None,
                "attrition_t": attr,
                "attrition_pct": attr / out if has_attr and out else None,
            }
        )
    frame = pd.DataFrame(rows)
    frame["reporters"] = frame["reporters"].astype("Int64")
    frame["entities"] = frame["entities"].astype("Int64")
    for column in ("global_t", "share_of_global", "attrition_t", "attrition_pct"):
        frame[column] = frame[column].astype("float64")
    node_notes = [view.note(_out(s)) for s in STAGES]
    attr_notes = [view.note(_attr(s)) if _attr(s) in view.cells else None for s in STAGES]
    frame = mark(frame, ["input_t", "output_t", "share_of_global"], node_notes, applies)
    if applies:
        # A stage's input is hidden with its output, except where the published links
        # already give it away (a zero input whose links have no reports): then it shows.
        for i, stage in enumerate(STAGES):
            if node_notes[i] and view.note(_in(stage)) is None:
                frame.loc[i, "input_t"] = view.value(_in(stage))
    frame = mark(frame, ["attrition_t", "attrition_pct"], attr_notes, applies, prefix="attrition_")
    if applies:
        count_notes = [view.count_notes[s] for s in STAGES]
        hidden = pd.Series([n is not None for n in count_notes], index=frame.index)
        frame["reporters"] = frame["reporters"].mask(hidden)
        frame["entities"] = frame["entities"].mask(hidden)
        frame["reporters_label"] = [
            policy.reporters_label(view.reporters[s])
            if n == policy.note_few_reporters
            else (n or (str(view.reporters[s]) if view.reporters[s] else NO_REPORTS))
            for s, n in zip(STAGES, count_notes, strict=True)
        ]
    return frame


def coc_reporting_summary(
    store: Store,
    viewer: Viewer,
    year: int,
    filters: Filters | None = None,
    *,
    for_publication: bool = False,
    policy: DisclosurePolicy | None = None,
) -> pd.DataFrame:
    """One row: reporting entities and companies (non-zero volume) and how many stages are published.

    For the public and members, totals below the minimum number of companies are
    masked like a stage's count ("fewer than 5"): they would give away the count of
    the only stage reported.
    """
    year = check_year(year)
    policy = _policy(policy)
    filters = _served_filters(viewer, filters, for_publication)
    view = coc_year_view(store, year, filters, policy)
    active = view.lines[view.lines["volume_t"] > 0]
    companies = int(active["member_id"].nunique())
    published = sum(1 for s in STAGES if view.reporters[s] > 0 and not view.protection.is_hidden(_out(s)))
    frame = pd.DataFrame(
        [
            {
                "reporting_year": year,
                "reporting_entities": int(active["facility_id"].nunique()),
                "reporting_companies": companies,
                "reporting_companies_label": str(companies),
                "stages_reported": sum(1 for s in STAGES if view.reporters[s] > 0),
                "stages_published": published,
            }
        ]
    ).astype({"reporting_entities": "Int64", "reporting_companies": "Int64"})
    if policy_applies(viewer, for_publication) and 0 < companies < policy.min_reporters:
        frame["reporting_entities"] = pd.array([pd.NA], dtype="Int64")
        frame["reporting_companies"] = pd.array([pd.NA], dtype="Int64")
        frame["reporting_companies_label"] = policy.reporters_label(companies)
    return frame


def coc_stage_flows(
    store: Store,
    viewer: Viewer,
    year: int,
    filters: Filters | None = None,
    *,
    for_publication: bool = False,
    policy: DisclosurePolicy | None = None,
) -> pd.DataFrame:
    """Sankey links: origins, stage to stage, attrition ("left the CoC chain") and final products.

    `share_of_source` is the link as a share of its source stage's output (the % toggle).
    Attrition can be negative where a stage drew on its carried-forward stock.
    """
    year = check_year(year)
    policy = _policy(policy)
    filters = _served_filters(viewer, filters, for_publication)
    view = coc_year_view(store, year, filters, policy)
    applies = policy_applies(viewer, for_publication)
    rows = []
    notes: list[str | None] = []
    share_notes: list[str | None] = []

    def add(
        source: str, target: str, material: str, kind: str, key: Hashable, *, source_stage: CocStage | None = None
    ) -> None:
        value = view.value(key)
        source_out = view.value(_out(source_stage)) if source_stage else None
        rows.append(
            {
                "reporting_year": year,
                "source": source,
                "source_label": node_label(source),
                "target": target,
                "target_label": node_label(target),
                "material": material,
                "material_label": label(material),
                "kind": kind,
                "value_t": value,
                "share_of_source": value / source_out if source_out else None,
            }
        )
        notes.append(view.note(key))
        # The share also reveals the source's output, so it hides with either.
        share_notes.append(view.first_note(key, _out(source_stage)) if source_stage else view.note(key))

    for (stage, material), source in COC_INPUT_SOURCE.items():
        if source is None:
            add(f"{ORIGIN_PREFIX}{stage}", stage.value, material.value, "origin", _link(stage, material))
        else:
            add(source.value, stage.value, material.value, "stage", _link(stage, material), source_stage=source)
    for stage in STAGES:
        material = COC_STAGE_OUTPUT[stage].value
        if _attr(stage) in view.cells:
            add(stage.value, LEFT_CHAIN, material, "attrition", _attr(stage), source_stage=stage)
        else:
            add(stage.value, FINAL_PRODUCTS, material, "final", _final(stage), source_stage=stage)
    frame = pd.DataFrame(rows)
    frame["share_of_source"] = frame["share_of_source"].astype("float64")
    frame = mark(frame, ["value_t"], notes, applies)
    shares = mark(frame[["share_of_source"]], ["share_of_source"], share_notes, applies, prefix="share_")
    frame["share_of_source"] = shares["share_of_source"]
    frame["is_share_suppressed"] = shares["share_is_suppressed"]
    return frame


def coc_year_over_year(
    store: Store,
    viewer: Viewer,
    year: int,
    filters: Filters | None = None,
    *,
    for_publication: bool = False,
    policy: DisclosurePolicy | None = None,
) -> pd.DataFrame:
    """Per stage output this year and the year before, change in tonnes and %, each year's policy applied."""
    year = check_year(year)
    policy = _policy(policy)
    filters = _served_filters(viewer, filters, for_publication)
    now = coc_year_view(store, year, filters, policy)
    before = coc_year_view(store, year - 1, filters, policy)
    applies = policy_applies(viewer, for_publication)
    rows = []
    for stage in STAGES:
        current, previous = now.value(_out(stage)), before.value(_out(stage))
        rows.append(
            {
                "reporting_year": year,
                "stage": stage.value,
                "stage_label": stage_label(stage),
                "output_t": current,
                "previous_output_t": previous,
                "change_t": current - previous,
                "change_pct": (current - previous) / previous if previous else None,
            }
        )
    frame = pd.DataFrame(rows)
    frame["change_pct"] = frame["change_pct"].astype("float64")
    now_notes = [now.note(_out(s)) for s in STAGES]
    before_notes = [before.note(_out(s)) for s in STAGES]
    change_notes = [a or b for a, b in zip(now_notes, before_notes, strict=True)]
    frame = mark(frame, ["output_t"], now_notes, applies)
    frame = mark(frame, ["previous_output_t"], before_notes, applies, prefix="previous_")
    return mark(frame, ["change_t", "change_pct"], change_notes, applies, prefix="change_")


def coc_drawable(flows: pd.DataFrame) -> bool:
    """Whether a Sankey of these flows draws anything: a published link with tonnes."""
    return bool(len(flows)) and bool(flows["value_t"].fillna(0.0).abs().gt(0).any())


def yield_factor_params() -> dict[str, Any]:
    pairs = list(COC_YIELD_FACTOR.items())
    return {
        "factor_stages": [s.value for (s, _), _ in pairs],
        "factor_materials": [m.value for (_, m), _ in pairs],
        "factors": [f for _, f in pairs],
    }


def mass_balance_lines(
    store: Store, year: int | None = None, filters: Filters | None = None, member_id: str | None = None
) -> pd.DataFrame:
    """The mass-balance check of every line (all years when `year` is None). Unprotected: callers apply roles."""
    params = {
        "all_years": year is None,
        "years": [year] if year is not None else [],
        "member_id": member_id,
        **_filter_params(filters),
        **yield_factor_params(),
    }
    return store.run("coc_mass_balance", params)


def coc_mass_balance(
    store: Store,
    viewer: Viewer,
    year: int,
    filters: Filters | None = None,
    *,
    for_publication: bool = False,
    policy: DisclosurePolicy | None = None,
) -> pd.DataFrame:
    """Mass-balance checks: every line for the secretariat, own lines for a member, counts per stage for the public.

    The public counts (lines checked, failures) of a stage are hidden wherever the
    stage itself is hidden in the CoC view, with the same note.
    """
    year = check_year(year)
    policy = _policy(policy)
    if viewer.role is Role.SECRETARIAT and not for_publication:
        return mass_balance_lines(store, year, filters)
    if viewer.role is Role.MEMBER and not for_publication:
        return mass_balance_lines(store, year, filters, member_id=viewer.member_id)
    return mass_balance_counts(store, year, _served_filters(viewer, filters, for_publication), policy)


def mass_balance_counts(
    store: Store, year: int, filters: Filters | None = None, policy: DisclosurePolicy | None = None
) -> pd.DataFrame:
    """Lines checked and failures per stage, hidden where the stage is hidden in the public CoC view.

    `filters` are used as given: pass them through `public_filters` for a public view.
    """
    policy = _policy(policy)
    view = coc_year_view(store, year, filters, policy)
    lines = mass_balance_lines(store, year, filters)
    rows = []
    for stage in STAGES:
        at = lines[lines["stage"] == stage.value]
        rows.append(
            {
                "reporting_year": year,
                "stage": stage.value,
                "stage_label": stage_label(stage),
                "lines_checked": len(at),
                "failures": int((~at["is_balanced"].astype(bool)).sum()),
            }
        )
    frame = pd.DataFrame(rows)
    notes = [view.note(_out(s)) for s in STAGES]
    frame = mark(frame, ["lines_checked", "failures"], notes, applies=True)
    return frame.drop(columns=["would_be_suppressed", "publication_note"])


def coc_member_reports(
    store: Store, viewer: Viewer, year: int | None = None, filters: Filters | None = None
) -> pd.DataFrame:
    """Report lines in detail: a member's own, all for the secretariat, none for the public."""
    years = [check_year(year)] if year is not None else coc_years(store)
    if viewer.role is Role.PUBLIC or not years:
        return pd.DataFrame(columns=_LINE_COLUMNS)
    member_id = viewer.member_id if viewer.role is Role.MEMBER else None
    return coc_lines(store, years, filters, member_id=member_id)[_LINE_COLUMNS]


QUERY_FUNCTIONS = [
    coc_years,
    coc_stage_summary,
    coc_reporting_summary,
    coc_stage_flows,
    coc_year_over_year,
    coc_mass_balance,
    coc_member_reports,
]
