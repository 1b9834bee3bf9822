"""What an attacker can prove about a hidden figure: its interval by linear programming.

Every published figure that is a company magnitude is a linear function of *atoms*, the
finest cells the published views can be cut into (e.g. one year's output of one stage in
one region and one membership class). An attacker who knows every published figure knows
A x = b; atoms that cannot be negative (tonnes, workers) add x >= 0, and a member who
knows its own rows adds x >= its own contribution. The interval of a hidden figure c x is
then [min c x, max c x] over that set: two linear programmes, solved with HiGHS
(highspy), warm-started from one objective to the next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import highspy
import numpy as np

INF = highspy.kHighsInf

# A linear function of atoms: atom index -> coefficient.
Vector = Mapping[int, float]


@dataclass(frozen=True)
class Interval:
    """What can be proven about a figure: low <= value <= high (infinite where unbounded)."""

    low: float
    high: float

    def protects(self, value: float, level: float) -> bool:
        """Whether the interval reaches `level` (a share, e.g. 0.15) of |value| on both sides.

        A figure that is 0 is never at risk from its interval (there is nothing to reveal).
        The tolerance absorbs the solver's rounding (1e-7 of the value).
        """
        size = abs(value)
        if size <= 1e-9:
            return True
        slack = 1e-7 * max(size, 1.0)
        return self.low <= value - level * size + slack and self.high >= value + level * size - slack

    @property
    def width(self) -> float:
        return self.high - self.low


class InfeasibleKnowledge(ValueError):
    """The published figures contradict each other (or the bounds): the data is inconsistent."""


class IntervalSolver:
    """The published equalities over atoms as one HiGHS model, re-solved per objective.

    `rows` are (vector, low, high) constraints; an equality has low == high. Values are
    scaled by `scale` inside the model so that tonnes in the billions and counts both
    solve at HiGHS's default tolerances; intervals are returned unscaled.
    """

    def __init__(
        self,
        n_atoms: int,
        rows: Sequence[tuple[Vector, float, float]],
        lower: np.ndarray,
        upper: np.ndarray | None = None,
        *,
        scale: float | None = None,
    ) -> None:
        self.n = n_atoms
        magnitudes = [abs(v) for _, lo, hi in rows for v in (lo, hi) if np.isfinite(v)]
        magnitudes += [abs(v) for v in lower if np.isfinite(v)]
        self.scale = scale or max([1.0, *magnitudes])
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        lp = highspy.HighsLp()
        lp.num_col_ = n_atoms
        lp.num_row_ = len(rows)
        lp.col_cost_ = np.zeros(n_atoms)
        self._lower = np.where(np.isfinite(lower), lower / self.scale, -INF).astype("float64")
        up = np.full(n_atoms, np.inf) if upper is None else np.asarray(upper, dtype="float64")
        self._upper = np.where(np.isfinite(up), up / self.scale, INF)
        lp.col_lower_ = self._lower
        lp.col_upper_ = self._upper
        lp.row_lower_ = np.array([lo / self.scale if np.isfinite(lo) else -INF for _, lo, _ in rows], dtype="float64")
        lp.row_upper_ = np.array([hi / self.scale if np.isfinite(hi) else INF for _, _, hi in rows], dtype="float64")
        columns: list[list[tuple[int, float]]] = [[] for _ in range(n_atoms)]
        for r, (vector, _, _) in enumerate(rows):
            for atom, coefficient in vector.items():
                if coefficient:
                    columns[atom].append((r, float(coefficient)))
        start = np.zeros(n_atoms + 1, dtype=np.int32)
        start[1:] = np.cumsum([len(c) for c in columns])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = start
        lp.a_matrix_.index_ = np.array([r for c in columns for r, _ in c], dtype=np.int32)
        lp.a_matrix_.value_ = np.array([v for c in columns for _, v in c], dtype="float64")
        self.highs.passModel(lp)
        self._cost_index = np.arange(n_atoms, dtype=np.int32)
        # Rows whose equation limits the last interval (a non-zero dual at either end).
        self.binding: set[int] = set()
        self._last_cost: np.ndarray = np.zeros(n_atoms)

    def set_lower(self, lower: np.ndarray) -> None:
        """Replace the atoms' lower bounds (e.g. a member's own contributions)."""
        self._lower = np.where(np.isfinite(lower), lower / self.scale, -INF).astype("float64")
        self.highs.changeColsBounds(self.n, self._cost_index, self._lower, self._upper)

    def _optimum(self, cost: np.ndarray, sense: highspy.ObjSense) -> tuple[float, np.ndarray]:
        self.highs.changeColsCost(self.n, self._cost_index, cost)
        self.highs.changeObjectiveSense(sense)
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            value = self.highs.getInfo().objective_function_value * self.scale
            solution = self.highs.getSolution()
            duals = np.asarray(solution.row_dual)
            self.binding.update(np.flatnonzero(np.abs(duals) > 1e-9).tolist())
            return value, np.asarray(solution.col_value) * self.scale
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            sign = 1.0 if sense == highspy.ObjSense.kMaximize else -1.0
            return sign * np.inf, np.full(self.n, np.nan)
        if status == highspy.HighsModelStatus.kInfeasible:
            raise InfeasibleKnowledge("The published figures and bounds admit no solution: the data is inconsistent.")
        raise RuntimeError(f"HiGHS stopped with {self.highs.modelStatusToString(status)}.")

    def interval(self, vector: Vector) -> Interval:
        return self.interval_with_points(vector)[0]

    def interval_with_points(self, vector: Vector) -> tuple[Interval, np.ndarray, np.ndarray]:
        """The interval of `vector` and the atom values where its low and high are reached."""
        cost = np.zeros(self.n)
        for atom, coefficient in vector.items():
            cost[atom] += coefficient
        self.binding = set()
        low, at_low = self._optimum(cost, highspy.ObjSense.kMinimize)
        high, at_high = self._optimum(cost, highspy.ObjSense.kMaximize)
        return Interval(low, high), at_low, at_high
