"""Secondary suppression judged by what an attacker can prove (τ-ARGUS's model).

A `FigureSystem` holds every figure of a family of company magnitudes that a
non-secretariat viewer can obtain (every view, every filter a public URL accepts), each
as a linear function of atoms, with the figures that fail the policy by themselves
(primary suppression) and the unions of atoms that must stay protected although no view
shows them (e.g. the world minus one region). `protect_system` hides further figures
until, for the public and for every member (who also knows its own rows), the interval
that linear programming can prove for each hidden non-zero figure and each sensitive
union reaches the protection level on both sides. Hiding a figure removes an equality,
so intervals only widen: a figure that passed stays passed, and one pass over the
targets, re-checking only what failed, is enough.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from asi_me.publish.lp import InfeasibleKnowledge, Interval, IntervalSolver, Vector

NO_REPORTS = "no reports"


@dataclass(frozen=True)
class Figure:
    """One published figure: its atoms, value and primary note (None when it passes).

    `reported` figures hold reported volumes; derived ones (a residual such as attrition)
    are hidden first when a complement is needed, since hiding them withholds nothing a
    company reported. `no_reports` marks a figure nobody reported into: a known zero that
    is published as "no reports" and never hidden.
    """

    key: Hashable
    vector: Vector
    value: float
    primary: str | None = None
    reported: bool = True
    no_reports: bool = False
    weight: float = 1.0


@dataclass(frozen=True)
class Sensitive:
    """A union of atoms no view shows but that fails the policy by itself (the world minus
    one region, say): it must not become provable either."""

    key: Hashable
    vector: Vector
    value: float
    note: str


@dataclass
class FigureSystem:
    """The atoms of one independent family of figures and everything published over them."""

    atoms: list[Hashable]
    values: np.ndarray
    lower: np.ndarray
    figures: dict[Hashable, Figure] = field(default_factory=dict)
    sensitive: list[Sensitive] = field(default_factory=list)
    linked: list[list[Hashable]] = field(default_factory=list)
    dependents: dict[Hashable, list[Hashable]] = field(default_factory=dict)
    own: dict[str, np.ndarray] = field(default_factory=dict)
    index: dict[Hashable, int] = field(default_factory=dict)
    # `own` as one members x atoms matrix (rows in `own`'s order), when the builder has it:
    # stacking thousands of member vectors per system is most of the workers' protection time.
    own_matrix: np.ndarray | None = None

    def atom(self, key: Hashable, value: float = 0.0, lower: float = 0.0) -> int:
        """The index of atom `key`, added (with its true value and lower bound) if new."""
        if key not in self.index:
            self.index[key] = len(self.atoms)
            self.atoms.append(key)
            self.values = np.append(self.values, value)
            self.lower = np.append(self.lower, lower)
        return self.index[key]

    @classmethod
    def empty(cls) -> FigureSystem:
        return cls([], np.zeros(0), np.zeros(0))

    def value_of(self, vector: Vector) -> float:
        return float(sum(self.values[a] * c for a, c in vector.items()))


@dataclass(frozen=True)
class Finding:
    """A hidden figure (or sensitive union) an attacker can pin down too closely."""

    key: Hashable
    value: float
    interval: Interval
    attacker: str


def close_hidden(system: FigureSystem, notes: dict[Hashable, str | None]) -> None:
    """Hide every figure linked to a hidden one, and the dependents of a hidden figure."""
    changed = True
    while changed:
        changed = False
        for group in system.linked:
            first = next((notes[k] for k in group if notes.get(k)), None)
            if first is None:
                continue
            for k in group:
                if notes.get(k) is None and not system.figures[k].no_reports:
                    notes[k] = first
                    changed = True
        for leader, followers in system.dependents.items():
            if notes.get(leader):
                for k in followers:
                    if k in notes and notes[k] is None and not system.figures[k].no_reports:
                        notes[k] = notes[leader]
                        changed = True


def _solver(system: FigureSystem, notes: Mapping[Hashable, str | None]) -> IntervalSolver:
    keys = [k for k in system.figures if notes.get(k) is None]
    solver = IntervalSolver(len(system.atoms), [(system.figures[k].vector, system.figures[k].value,
                                                  system.figures[k].value) for k in keys], system.lower)
    solver.row_keys = keys  # type: ignore[attr-defined]
    return solver


def _targets(system: FigureSystem) -> list[tuple[Hashable, Vector, float]]:
    """What must stay unprovable: every figure that fails the policy by itself, and every
    sensitive union. A figure hidden only to protect another is not confidential itself."""
    sensitive = [(k, f.vector, f.value) for k, f in system.figures.items() if f.primary and abs(f.value) > 1e-9]
    return [*sensitive, *((s.key, s.vector, s.value) for s in system.sensitive if abs(s.value) > 1e-9)]


def _complement(system: FigureSystem, notes: Mapping[Hashable, str | None], vector: Vector) -> Hashable | None:
    """The visible figure to hide next to protect a figure over `vector`.

    Figures that share an atom with it come first, the cheapest to withhold: the smallest
    by value times the figure's weight (a headline figure weighs more than a breakdown),
    a derived figure at half the cost of a reported one. With none left, the cheapest
    visible figure sharing an atom with any hidden figure or sensitive union (the figure
    is pinned through a chain), then any.
    """
    order = {k: i for i, k in enumerate(system.figures)}

    def best(atoms: set[int]) -> Hashable | None:
        found = [
            (abs(f.value) * f.weight * (1.0 if f.reported else 0.5), order[k], k)
            for k, f in system.figures.items()
            if notes.get(k) is None and not f.no_reports and atoms.intersection(f.vector)
        ]
        return min(found)[2] if found else None

    choice = best(set(vector))
    if choice is None:
        hidden_atoms = {a for k, f in system.figures.items() if notes.get(k) for a in f.vector}
        hidden_atoms |= {a for s in system.sensitive for a in s.vector}
        choice = best(hidden_atoms) or best(set(range(len(system.atoms))))
    return choice


def _cheapest(system: FigureSystem, notes: Mapping[Hashable, str | None], keys: Iterable[Hashable]) -> Hashable | None:
    """Of the published figures whose equations pin the interval (non-zero duals), the
    cheapest to withhold: value times weight, a derived figure at half the cost."""
    order = {k: i for i, k in enumerate(system.figures)}
    found = [
        (abs(f.value) * f.weight * (1.0 if f.reported else 0.5), order[k], k)
        for k in keys
        if notes.get(k) is None and not (f := system.figures[k]).no_reports
    ]
    return min(found)[2] if found else None


def _attackers(system: FigureSystem) -> list[tuple[str, np.ndarray]]:
    members = [(f"member {m}", np.maximum(system.lower, own)) for m, own in system.own.items()]
    return [("public", system.lower), *members]


def _rest(vector: Vector, value: float, interval: Interval, lower: np.ndarray, name: str) -> tuple[float, Interval]:
    """What the attacker does not already know: a member's own share is taken off both the
    figure and its interval, so the protection level applies to the other companies' part."""
    if name == "public":
        return value, interval
    known = float(sum(max(lower[a], 0.0) * c for a, c in vector.items()))
    return value - known, Interval(interval.low - known, interval.high - known)


def protect_system(
    system: FigureSystem, level: float, complementary_note: str, *, max_rounds: int = 10_000
) -> dict[Hashable, str | None]:
    """The note of every figure after primary and secondary suppression (None: published).

    Primary notes come from the figures; `complementary_note` marks the figures hidden to
    protect others. Every attacker (the public, then each member with its own rows) is
    checked in turn; a member's check only reruns a programme where the public's extreme
    points fall below what the member knows.
    """
    notes: dict[Hashable, str | None] = {
        k: (NO_REPORTS if f.no_reports else f.primary) for k, f in system.figures.items()
    }
    hidden_notes = {k: n for k, n in notes.items() if n != NO_REPORTS}
    close_hidden(system, hidden_notes)
    notes.update(hidden_notes)
    if not system.atoms:
        return notes

    def hidden_view() -> dict[Hashable, str | None]:
        return {k: (None if n == NO_REPORTS else n) for k, n in notes.items()}

    members = list(system.own)
    if system.own_matrix is not None:
        own = np.maximum(system.lower, system.own_matrix)
    else:
        own = np.array([np.maximum(system.lower, system.own[m]) for m in members]) if members else np.zeros((0, 0))
    state = {"solver": _solver(system, hidden_view()), "rounds": 0}

    def hide_more(vector: Vector) -> bool:
        """Hide the next complement for a figure over `vector`; False when none is left."""
        state["rounds"] += 1
        if state["rounds"] > max_rounds:
            raise RuntimeError("Secondary suppression did not converge; report this data set to the developers.")
        solver: IntervalSolver = state["solver"]  # type: ignore[assignment]
        binding = [solver.row_keys[r] for r in solver.binding]  # type: ignore[attr-defined]
        choice = _cheapest(system, hidden_view(), binding) or _complement(system, hidden_view(), vector)
        if choice is None:
            return False
        view = hidden_view()
        view[choice] = complementary_note
        close_hidden(system, view)
        for k, n in view.items():
            if n and notes.get(k) is None:
                notes[k] = n
        state["solver"] = _solver(system, hidden_view())
        return True

    for _key, vector, value in _targets(system):
        # The public first: hide more until its interval reaches the level.
        while True:
            solver: IntervalSolver = state["solver"]  # type: ignore[assignment]
            solver.set_lower(system.lower)
            interval, at_low, at_high = solver.interval_with_points(vector)
            if interval.protects(value, level) or not hide_more(vector):
                break
        if not members:
            continue
        # Then each member, with what it knows of its own rows. Hiding a figure only widens
        # what is feasible, so points found earlier stay valid witnesses.
        pending = _unscreened(vector, value, level, system, own, (at_low, at_high), interval)
        pending = _failing_members(state["solver"], vector, value, level, own, pending)  # type: ignore[arg-type]
        for i in pending:
            while True:
                solver = state["solver"]  # type: ignore[assignment]
                solver.set_lower(own[i])
                interval = solver.interval(vector)
                rest_value, rest_interval = _rest(vector, value, interval, own[i], "member")
                if rest_interval.protects(rest_value, level) or not hide_more(vector):
                    break
    _publish_what_is_known(system, notes, complementary_note)
    return notes


def _publish_what_is_known(system: FigureSystem, notes: dict[Hashable, str | None], complementary_note: str) -> None:
    """Publish each hidden figure that the published ones already determine exactly (a
    complement, or a zero such as the input of a stage whose only link has no reports):
    marking it "suppressed" would tell the reader something false, and publishing it adds
    no equation an attacker did not have, so no interval changes. A figure that fails the
    policy and is not zero is never determined: the protection saw to that."""
    del complementary_note
    hidden = [k for k, n in notes.items() if n and n != NO_REPORTS]
    if not hidden:
        return
    solver = _solver(system, {k: (None if n == NO_REPORTS else n) for k, n in notes.items()})
    solver.set_lower(system.lower)
    for key in hidden:
        figure = system.figures[key]
        interval = solver.interval(figure.vector)
        if interval.high - interval.low <= 1e-9 * max(1.0, abs(figure.value)):
            notes[key] = None


def _unscreened(  # noqa: PLR0917 - one private step of the algorithm
    vector: Vector, value: float, level: float, system: FigureSystem, own: np.ndarray,
    points: tuple[np.ndarray, np.ndarray], interval: Interval,
) -> list[int]:
    """Rows of `own` (members' lower bounds) that need a programme of their own.

    The true atoms satisfy every published equation and bound, and so does each extreme
    point of the public's interval; so does any mix of the two. For each member the mix
    that just reaches its protection limit (on the other companies' part of the figure)
    keeps every atom as near its true value as can be, and a true value is at least any
    member's own part of it: a member whose own rows lie under both mixes cannot rule
    either limit out, so the level holds for it. Only the rest need a programme each.
    """
    if own.size == 0:
        return []
    low_point, high_point = points
    if np.isnan(low_point).any() or np.isnan(high_point).any():
        return list(range(len(own)))
    coefficients = np.zeros(own.shape[1])
    for atom, c in vector.items():
        coefficients[atom] += c
    rest = np.abs(value - own @ coefficients)
    truth = system.values
    covered = np.ones(len(own), dtype=bool)
    for point, reached in ((low_point, interval.low), (high_point, interval.high)):
        gap = abs(value - reached)
        share = np.ones(len(own)) if gap < 1e-12 else np.clip(level * rest / gap, 0.0, 1.0)
        mix = truth[None, :] - share[:, None] * (truth - point)[None, :]
        covered &= np.all(own <= mix + 1e-6 * np.maximum(1.0, np.abs(own)), axis=1)
    return np.flatnonzero(~covered).tolist()


def _failing_members(  # noqa: PLR0917 - one private step of the algorithm
    solver: IntervalSolver, vector: Vector, value: float, level: float, own: np.ndarray, rows: list[int]
) -> list[int]:
    """The rows of `own` that may fail, found by checking groups of members at once.

    A group's componentwise largest own rows bound every member's knowledge from above, so
    the interval under them lies inside each member's: if it still reaches the level for
    the member with the most to protect, the whole group passes. Otherwise the group is
    halved, down to single members, whose own interval decides.
    """
    if not rows:
        return []
    coefficients = np.zeros(own.shape[1])
    for atom, c in vector.items():
        coefficients[atom] += c
    failing: list[int] = []
    stack = [np.array(rows)]
    while stack:
        group = stack.pop()
        bound = own[group].max(axis=0)
        rest = float(np.max(np.abs(value - own[group] @ coefficients)))
        try:
            solver.set_lower(bound)
            interval = solver.interval(vector)
            passes = (value - interval.low >= level * rest - 1e-7 * max(1.0, abs(value))
                      and interval.high - value >= level * rest - 1e-7 * max(1.0, abs(value)))
        except InfeasibleKnowledge:
            passes = False
        if passes:
            continue
        if len(group) == 1:
            failing.append(int(group[0]))
        else:
            half = len(group) // 2
            stack += [group[half:], group[:half]]
    return sorted(failing)


def _covered_rows(own: np.ndarray, points: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per row of `own`: whether both points lie at or above it (NaN points cover nothing)."""
    low, high = points
    if own.size == 0:
        return np.zeros(len(own), dtype=bool)
    if np.isnan(low).any() or np.isnan(high).any():
        return np.zeros(len(own), dtype=bool)
    slack = 1e-6 * np.maximum(1.0, np.abs(own))
    return np.all(own <= np.minimum(low, high) + slack, axis=1)


def audit_system(
    system: FigureSystem, published: Mapping[Hashable, bool], level: float, attackers: Iterable[str] | None = None,
    extra_rows: Iterable[tuple[Vector, float, float]] = (),
) -> list[Finding]:
    """Every hidden figure that fails the policy by itself, and every sensitive union, that an
    attacker can pin within `level` (a figure hidden only to protect another is not
    confidential itself). A sensitive figure that is published is the caller's to report.

    `published` says, per figure, whether the viewer can obtain its value; `extra_rows` are
    further (vector, low, high) facts the viewer can derive (a rounded share, a ratio); the
    attackers are the public and every member of `system.own` (or those named).
    """
    findings: list[Finding] = []
    if not system.atoms:
        return findings
    rows = [(f.vector, f.value, f.value) for k, f in system.figures.items() if published.get(k)]
    rows += list(extra_rows)
    solver = IntervalSolver(len(system.atoms), rows, system.lower)
    targets = [t for t in _targets(system) if not published.get(t[0])]
    names = list(system.own)
    wanted = set(attackers) if attackers is not None else {"public", *(f"member {m}" for m in names)}
    chosen = [i for i, m in enumerate(names) if f"member {m}" in wanted]
    own = np.array([np.maximum(system.lower, system.own[names[i]]) for i in chosen]) if chosen else np.zeros((0, 0))
    for key, vector, value in targets:
        solver.set_lower(system.lower)
        interval, at_low, at_high = solver.interval_with_points(vector)
        if "public" in wanted and not interval.protects(value, level):
            findings.append(Finding(key, value, interval, "public"))
        if not chosen:
            continue
        pending = _unscreened(vector, value, level, system, own, (at_low, at_high), interval)
        for row in _failing_members(solver, vector, value, level, own, pending):
            solver.set_lower(own[row])
            member_interval = solver.interval(vector)
            rest_value, rest_interval = _rest(vector, value, member_interval, own[row], "member")
            if not rest_interval.protects(rest_value, level):
                findings.append(Finding(key, rest_value, rest_interval, f"member {names[chosen[row]]}"))
    return findings
