"""The disclosure-control policy of the ASI Antitrust Compliance Policy, in one place.

Every aggregate a public or member viewer sees passes through here inside the query
layer: a cell is published only if at least `min_reporters` member companies with
non-zero volume contribute to it and no single company holds more than
`max_dominance` of it. Complementary suppression then hides further cells until no
hidden cell can be recomputed from visible cells of the same view through the
view's additive relations (a total and its parts); several views can be protected as
one system (e.g. the world and every region), tied by relations across views and by
latent cells that are never shown. The secretariat sees every value
with a `would_be_suppressed` flag; `for_publication=True` forces the public policy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from asi_me.filters import Viewer
from asi_me.settings import Settings

# The note of a latent cell while protecting; latent cells are dropped from the result.
LATENT_NOTE = "latent"

SUPPRESSION_COLUMNS = ("is_suppressed", "suppression_note", "would_be_suppressed", "publication_note")


@dataclass(frozen=True)
class DisclosurePolicy:
    """Thresholds for publishing an aggregate cell."""

    min_reporters: int = 5
    max_dominance: float = 0.25
    p_percent: float = 10.0
    protection_level: float = 0.15

    def __post_init__(self) -> None:
        if self.min_reporters < 1:
            raise ValueError(f"min_reporters={self.min_reporters} must be at least 1.")
        if not 0 < self.max_dominance <= 1:
            raise ValueError(f"max_dominance={self.max_dominance} must be in (0, 1].")
        if not 0 <= self.p_percent < 100:
            raise ValueError(f"p_percent={self.p_percent} must be at least 0 and below 100.")
        if not 0 <= self.protection_level < 1:
            raise ValueError(f"protection_level={self.protection_level} must be at least 0 and below 1.")

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> DisclosurePolicy:
        """The policy configured by ASI_MIN_REPORTERS, ASI_MAX_DOMINANCE, ASI_P_PERCENT and
        ASI_PROTECTION_LEVEL."""
        settings = settings or Settings.from_env()
        return cls(settings.min_reporters, settings.max_dominance, settings.p_percent, settings.protection_level)

    @property
    def note_few_reporters(self) -> str:
        return f"suppressed (fewer than {self.min_reporters} reporters)"

    @property
    def note_dominance(self) -> str:
        return f"suppressed (one reporter above {self.max_dominance * 100:g}% share)"

    @property
    def note_p_percent(self) -> str:
        return f"suppressed (the largest reporter could be estimated within {self.p_percent:g}%)"

    @property
    def note_complementary(self) -> str:
        return "suppressed (to protect another suppressed cell)"

    def reporters_label(self, reporters: int) -> str:
        """How a public screen shows a count of reporters: exact from the minimum up."""
        return f"fewer than {self.min_reporters}" if 0 < reporters < self.min_reporters else str(reporters)

    def primary_note(self, volumes: Mapping[str, float]) -> str | None:
        """Why a cell with these per-company volumes may not be published, or None if it may.

        Zero-volume companies do not count as reporters. A cell nobody reported into
        is a true zero and is published.
        """
        positive = sorted((float(v) for v in volumes.values() if v and v > 0), reverse=True)
        if not positive:
            return None
        second = positive[1] if len(positive) > 1 else 0.0
        return self.primary_note_of(len(positive), positive[0], sum(positive), second)

    def primary_note_of(self, reporters: int, largest: float, total: float, second: float | None = None) -> str | None:
        """`primary_note` from a cell's summary: the number of companies with a positive
        volume, the largest such volume, their sum and (for the p% rule) the second
        largest, for callers that aggregate many cells at once.

        The p% rule: the second-largest company, subtracting its own volume from the
        total, learns the largest within what the others hold; that must exceed p% of the
        largest. Without `second` the rule is judged with the second largest as large as
        the dominance rule allows (the largest itself), which is the strictest reading.
        """
        if reporters == 0:
            return None
        if reporters < self.min_reporters:
            return self.note_few_reporters
        # A small tolerance so that exactly max_dominance (e.g. 4 equal companies at 25%) passes.
        if largest / total > self.max_dominance + 1e-12:
            return self.note_dominance
        if self.p_percent > 0:
            runner_up = largest if second is None else second
            if total - largest - runner_up < self.p_percent / 100 * largest - 1e-9:
                return self.note_p_percent
        return None


def policy_applies(viewer: Viewer, for_publication: bool = False) -> bool:
    """Whether values must be hidden for this viewer: everyone but the secretariat's own analysis."""
    return for_publication or not viewer.sees_everything


def company_volumes(frame: pd.DataFrame, value: str, company: str = "member_id") -> dict[str, float]:
    """Volume per company (entities of one company count once) from a frame of lines."""
    if frame.empty:
        return {}
    grouped = frame.groupby(company, sort=True)[value].sum()
    return {str(k): float(v) for k, v in grouped.items()}


@dataclass(frozen=True)
class Cell:
    """One published figure. `contributions` (company -> volume) drive the primary checks;
    a derived cell (e.g. a difference of other cells) has None and is only ever hidden
    to protect others."""

    value: float
    contributions: Mapping[str, float] | None = None


@dataclass(frozen=True)
class Relation:
    """An additive relation the view exposes: total = sum(parts)."""

    total: Hashable
    parts: tuple[Hashable, ...]


@dataclass
class Protection:
    """The outcome of `protect_cells`: the note of every hidden cell (None where published)."""

    notes: dict[Hashable, str | None] = field(default_factory=dict)

    def is_hidden(self, key: Hashable) -> bool:
        return self.notes.get(key) is not None

    def note(self, key: Hashable) -> str | None:
        return self.notes.get(key)


def determined_cells(keys: Sequence[Hashable], relations: Sequence[Relation], hidden: set[Hashable]) -> list[Hashable]:
    """Hidden cells whose value follows from visible cells through the relations.

    With A the relation matrix restricted to hidden columns, a hidden cell is fixed by
    the visible ones exactly when every solution of A_H x = b agrees on it, i.e. when
    its unit vector lies in the row space of A_H. Hidden cells that share no relation
    are independent, so each connected group is solved on its own (same answer, much
    smaller matrices when many views are protected together).
    """
    hidden_keys = [k for k in keys if k in hidden]
    if not hidden_keys or not relations:
        return []
    index = {k: i for i, k in enumerate(hidden_keys)}
    rows: list[dict[int, float]] = []
    for rel in relations:
        row: dict[int, float] = defaultdict(float)
        if rel.total in index:
            row[index[rel.total]] += 1.0
        for part in rel.parts:
            if part in index:
                row[index[part]] -= 1.0
        row = {i: v for i, v in row.items() if v != 0.0}
        if row:
            rows.append(row)
    if not rows:
        return []
    parent = list(range(len(hidden_keys)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for row in rows:
        first, *rest = row
        for other in rest:
            a, b = find(first), find(other)
            if a != b:
                parent[a] = b
    groups: dict[int, list[dict[int, float]]] = defaultdict(list)
    for row in rows:
        groups[find(next(iter(row)))].append(row)
    determined: set[int] = set()
    for group_rows in groups.values():
        columns = sorted({i for row in group_rows for i in row})
        position = {c: j for j, c in enumerate(columns)}
        matrix = np.zeros((len(group_rows), len(columns)))
        for r, row in enumerate(group_rows):
            for i, v in row.items():
                matrix[r, position[i]] = v
        _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
        rank = int((singular > 1e-9).sum())
        # Squared length of each unit vector's projection on the row space: 1 when determined.
        projected = (vt[:rank] ** 2).sum(axis=0)
        determined.update(c for c, w in zip(columns, projected, strict=True) if w > 1 - 1e-9)
    return [k for k in hidden_keys if index[k] in determined]


def protect_cells(
    cells: Mapping[Hashable, Cell],
    relations: Sequence[Relation],
    policy: DisclosurePolicy,
    *,
    linked: Iterable[Iterable[Hashable]] = (),
    forced: Mapping[Hashable, str] | None = None,
    dependents: Mapping[Hashable, Iterable[Hashable]] | None = None,
    latent: Mapping[Hashable, bool] | None = None,
) -> Protection:
    """Primary and complementary suppression of one view (or of several views at once).

    `linked` groups cells that are shown together and hidden together (e.g. a stage's
    input and output); `dependents` are hidden with the cell they depend on, but not
    the other way round. `forced` hides cells for a reason decided elsewhere. While a
    hidden cell can be derived, the smallest visible part of a relation it is in is
    hidden too (the relation's total only when no part is left).

    `latent` cells are never shown: unknowns that tie views together (e.g. the lines of
    one region and one membership class, or what one view holds beyond a view nested
    in it). They stay hidden; one that maps to True is sensitive (it fails the policy
    by itself) and must not be derivable either, one that maps to False may be.
    """
    keys = list(cells)
    latent = dict(latent or {})
    notes: dict[Hashable, str | None] = {}
    for key, cell in cells.items():
        notes[key] = policy.primary_note(cell.contributions) if cell.contributions is not None else None
    for key, note in (forced or {}).items():
        if key in notes and notes[key] is None:
            notes[key] = note
    for key in latent:
        notes[key] = notes.get(key) or LATENT_NOTE
    groups = [list(g) for g in linked]
    relations = [r for r in relations if r.total in cells and all(p in cells for p in r.parts)]

    follow = {k: list(v) for k, v in (dependents or {}).items()}

    def close_groups() -> None:
        for group in groups:
            first = next((notes[k] for k in group if notes.get(k)), None)
            if first is not None:
                for k in group:
                    if notes.get(k) is None:
                        notes[k] = first
        for leader, followers in follow.items():
            if notes.get(leader):
                for k in followers:
                    if k in notes and notes[k] is None:
                        notes[k] = notes[leader]

    while True:
        close_groups()
        hidden = {k for k, n in notes.items() if n}
        derivable = [k for k in determined_cells(keys, relations, hidden) if latent.get(k, True)]
        if not derivable:
            break
        choice = _complement_for(derivable, relations, hidden, cells)
        if choice is None:
            # No relation of a derivable cell has a visible member left, so it is fixed
            # through a chain: hide the smallest visible cell of any relation that holds
            # a hidden cell, which always progresses (at worst until everything is hidden).
            choice = _complement_for(list(hidden), relations, hidden, cells)
        if choice is None:
            break
        notes[choice] = policy.note_complementary
    return Protection({k: n for k, n in notes.items() if k not in latent})


def _complement_for(
    derivable: list[Hashable], relations: Sequence[Relation], hidden: set[Hashable], cells: Mapping[Hashable, Cell]
) -> Hashable | None:
    """The visible cell to hide next for a derivable cell, from the relations it is in.

    Parts go before totals. Among parts, derived residuals (e.g. attrition, which is
    output minus what downstream took) go first because hiding them withholds no
    reported figure and stops the suppression spreading along the chain; then the
    smallest part.
    """
    order = {k: i for i, k in enumerate(cells)}
    targets = set(derivable)
    candidates: list[tuple[int, int, float, int, Hashable]] = []
    for rel in relations:
        if rel.total not in targets and not targets.intersection(rel.parts):
            continue
        for part in rel.parts:
            if part not in hidden:
                reported = int(cells[part].contributions is not None)
                candidates.append((0, reported, abs(cells[part].value), order[part], part))
        if rel.total not in hidden:
            candidates.append((1, 0, abs(cells[rel.total].value), order[rel.total], rel.total))
    return min(candidates, key=lambda c: c[:4])[4] if candidates else None


def mask_counts(
    counts: Mapping[Hashable, int], policy: DisclosurePolicy, total_shown: bool = True
) -> dict[Hashable, str | None]:
    """Hide reporter counts below the minimum; if exactly one is hidden and a total is
    shown, hide the next smallest count too so it cannot be got by subtraction."""
    notes: dict[Hashable, str | None] = {
        k: (policy.note_few_reporters if 0 < n < policy.min_reporters else None) for k, n in counts.items()
    }
    hidden = [k for k, n in notes.items() if n]
    visible = sorted((n, i, k) for i, (k, n) in enumerate(counts.items()) if notes[k] is None and n > 0)
    if total_shown and len(hidden) == 1 and visible:
        notes[visible[0][2]] = policy.note_complementary
    return notes


def mark(
    frame: pd.DataFrame,
    value_columns: Sequence[str],
    notes: Sequence[str | None],
    applies: bool,
    prefix: str = "",
) -> pd.DataFrame:
    """Add suppression columns to `frame` and blank hidden values where the policy applies.

    Columns (with an optional prefix for a second group of values in the same row):
    is_suppressed, suppression_note (what this viewer sees), would_be_suppressed and
    publication_note (what a public viewer sees; the secretariat's publication check).
    """
    out = frame.copy()
    notes = list(notes)
    hidden = np.array([n is not None for n in notes], dtype=bool)
    if applies:
        for column in value_columns:
            if pd.api.types.is_integer_dtype(out[column]):
                out[column] = pd.array(
                    [pd.NA if h else v for v, h in zip(out[column].tolist(), hidden, strict=True)], dtype="Int64"
                )
            else:
                values = out[column].to_numpy(dtype="float64", na_value=np.nan, copy=True)
                values[hidden] = np.nan
                out[column] = values
    out[f"{prefix}is_suppressed"] = hidden if applies else np.zeros(len(notes), dtype=bool)
    out[f"{prefix}suppression_note"] = pd.array(notes if applies else [None] * len(notes), dtype=object)
    out[f"{prefix}would_be_suppressed"] = hidden
    out[f"{prefix}publication_note"] = pd.array(notes, dtype=object)
    return out


def aggregate_with_policy(
    contributions: pd.DataFrame,
    by: Sequence[str],
    value: str,
    viewer: Viewer,
    policy: DisclosurePolicy | None = None,
    *,
    company: str = "member_id",
    with_total: bool = True,
    for_publication: bool = False,
) -> pd.DataFrame:
    """Sum `value` by `by` with primary and complementary suppression, plus a total row.

    `contributions` holds one row per reporting line with a company column; the result
    has one row per group (and a total row whose `by` columns are "all"), the value,
    `reporters` (masked for public as None below the minimum) and suppression columns.
    For use by any module that publishes a volume broken down by a dimension.
    """
    policy = policy or DisclosurePolicy.from_settings()
    by = list(by)
    cells: dict[Hashable, Cell] = {}
    reporters: dict[Hashable, int] = {}
    rows: list[dict[str, object]] = []
    if not contributions.empty:
        for group_key, group in contributions.groupby(by, sort=True, dropna=False):
            key = group_key if isinstance(group_key, tuple) else (group_key,)
            volumes = company_volumes(group, value, company)
            cells[key] = Cell(float(group[value].sum()), volumes)
            reporters[key] = sum(1 for v in volumes.values() if v > 0)
            rows.append({**dict(zip(by, key, strict=True)), value: cells[key].value})
    relations: list[Relation] = []
    if with_total and cells:
        total_key = ("all",) * len(by)
        volumes = company_volumes(contributions, value, company)
        cells[total_key] = Cell(float(contributions[value].sum()), volumes)
        reporters[total_key] = sum(1 for v in volumes.values() if v > 0)
        relations.append(Relation(total_key, tuple(k for k in cells if k != total_key)))
        rows.append({**dict.fromkeys(by, "all"), value: cells[total_key].value})
    protection = protect_cells(cells, relations, policy)
    applies = policy_applies(viewer, for_publication)
    frame = pd.DataFrame(rows, columns=[*by, value])
    frame["reporters"] = pd.array([reporters[k] for k in cells], dtype="Int64")
    notes = [protection.note(k) for k in cells]
    frame = mark(frame, [value], notes, applies)
    if applies:
        frame["reporters"] = frame["reporters"].where(
            [not (0 < reporters[k] < policy.min_reporters) for k in cells], pd.NA
        )
    return frame
