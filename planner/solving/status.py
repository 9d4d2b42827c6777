"""Solve outcomes: status codes, their words, progress reports."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STATUS_OPTIMAL = "optimal"
STATUS_TIME_LIMIT = "time_limit"
STATUS_INFEASIBLE = "infeasible"
STATUS_NO_PLAN = "no_plan"
STATUS_ERROR = "error"

STATUS_WORDS = {
    STATUS_OPTIMAL: "optimal (within the MIP gap)",
    STATUS_TIME_LIMIT: "stopped at the time limit with the best plan found",
    STATUS_INFEASIBLE: "infeasible: no plan meets every run's FLOP within the limits",
    STATUS_NO_PLAN: "no plan found within the time limit",
    STATUS_ERROR: "solver error",
}


@dataclass
class Progress:
    elapsed: float
    best: float | None
    bound: float | None
    gap: float | None


@dataclass
class SolveResult:
    status: str
    objective: float | None = None  # MUSD, discounted
    bound: float | None = None
    gap: float | None = None
    seconds: float = 0.0
    message: str = ""
    values: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    # Which solve phase found the plan and which the bound (``strategy.PhasedSolve``:
    # "lp", "round:first", "round:dive" (the first plan from the dive on the runs'
    # choices), "round:relaxed", "relaxed", "full"; a rounding with only the
    # runs' choices fixed adds ":runs", and "round:last:runs" is the one tried with no
    # plan before the full MIP); "" when none did.
    found_by: str = ""
    bound_by: str = ""
    duals: np.ndarray | None = None  # row duals of an LP solved to optimality

    @property
    def has_plan(self) -> bool:
        return self.values is not None and self.status in (STATUS_OPTIMAL, STATUS_TIME_LIMIT)

    @property
    def words(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)
