"""Reporter and entity counts of a stage across views: which masked ones can be recovered.

A count below the minimum is shown as "fewer than N" (so it lies in 1..N-1); a count
masked to protect another is at least N for reporters (it passed the minimum) and at
least 1 for entities. The exact relations between views: the world's companies are the
sum of the classes' (a company has one class), and the world's entities are the sum of
the regions' and of the classes' (an entity has one place and one company). A masked
count is recovered when linear programming pins it to a single whole number.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping

import numpy as np

from asi_me.publish.lp import IntervalSolver

WORLD_VIEW: tuple[str, str] = ("world", "")
# Which families of views add up to the world, per measure.
FAMILIES: dict[str, tuple[str, ...]] = {"reporters": ("class",), "entities": ("region", "class")}


def recoverable(
    counts: Mapping[Hashable, int], masked: Mapping[Hashable, str | None], measure: str, min_reporters: int,
) -> list[tuple[Hashable, float, float]]:
    """Masked views whose count one whole number satisfies: (view, low, high)."""
    views = list(counts)
    if WORLD_VIEW not in counts or not any(masked.get(v) for v in views):
        return []
    index = {v: i for i, v in enumerate(views)}
    lower, upper = [], []
    for view in views:
        note = masked.get(view)
        if note is None:
            lower.append(float(counts[view]))
            upper.append(float(counts[view]))
        elif note.startswith("suppressed (fewer than"):
            lower.append(1.0)
            upper.append(float(min_reporters - 1) if measure == "reporters" else math.inf)
        else:
            lower.append(float(min_reporters) if measure == "reporters" else 1.0)
            upper.append(math.inf)
    rows = []
    for family in FAMILIES[measure]:
        parts = [v for v in views if isinstance(v, tuple) and v[0] == family]
        if parts:
            rows.append(({index[WORLD_VIEW]: 1.0, **{index[v]: -1.0 for v in parts}}, 0.0, 0.0))
    if not rows:
        return []
    solver = IntervalSolver(len(views), rows, np.array(lower), np.array(upper), scale=1.0)
    found = []
    for view in views:
        if masked.get(view):
            interval = solver.interval({index[view]: 1.0})
            if interval.high - interval.low < 1 - 1e-6:
                found.append((view, interval.low, interval.high))
    return found


def mask_jointly(
    reporters: Mapping[Hashable, int], entities: Mapping[Hashable, int], notes: dict[Hashable, str | None],
    min_reporters: int, complementary_note: str,
) -> dict[Hashable, str | None]:
    """Mask further views' counts (reporters and entities together) of one stage until no
    masked count can be recovered. `notes` holds each view's count note; a view with no
    reporters is a known zero and never masked."""
    notes = dict(notes)
    for _ in range(4 * len(notes) + 4):
        found = recoverable(reporters, notes, "reporters", min_reporters)
        found += recoverable(entities, notes, "entities", min_reporters)
        if not found:
            return notes
        view = found[0][0]
        families = ("class", "region") if view == WORLD_VIEW else (view[0],)  # type: ignore[index]
        candidates = [
            (reporters[v], str(v)) for v in reporters
            if notes.get(v) is None and reporters[v] > 0 and isinstance(v, tuple)
            and (v[0] in families or v == WORLD_VIEW)
        ]
        if not candidates:
            candidates = [(reporters[v], str(v)) for v in reporters if notes.get(v) is None and reporters[v] > 0]
        if not candidates:
            return notes
        chosen = min(candidates)[1]
        target = next(v for v in reporters if str(v) == chosen)
        notes[target] = complementary_note
    return notes
