"""The elastic model's LP relaxation with the cells' moved binaries bounded per solve: one
compiled matrix, many small LPs (``Search.screen``'s single cells, the kinds of limit
that must move in ``count_bound``)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo

from models.elastic import Cell, moved, use_objective
from planner.solving.compiled import CompiledModel, compile_model, copy_lp
from planner.solving.highs import new_highs

OPTIMAL = highspy.HighsModelStatus.kOptimal
INFEASIBLE = highspy.HighsModelStatus.kInfeasible


@dataclass
class MovesLP:
    cm: CompiledModel
    column: dict[Cell, int]  # each cell's moved binary (cells without one left out)

    @classmethod
    def of(cls, m: pyo.ConcreteModel, objective: Any = None) -> MovesLP:
        """Every moved binary of ``m`` unfixed (the searches fix them again), compiled
        once; ``objective`` made the model's objective first when given."""
        cells = list(m.elastic_cell_at)
        for c in cells:
            moved(m, c).unfix()
        if objective is not None:
            use_objective(m, objective)
        cm = compile_model(m)
        at = cm.column_at
        return cls(cm, {c: at[id(moved(m, c))] for c in cells if id(moved(m, c)) in at})

    def solve(
        self,
        free: Iterable[Cell],
        forced: Iterable[Cell] = (),
        *,
        deadline: float,
        threads: int | None = None,
    ) -> tuple[Any, float]:
        """The LP with the moved binaries of ``free`` in [0, 1], of ``forced`` at 1 and of
        every other cell at 0: (HiGHS model status, objective with the offset)."""
        lp = copy_lp(self.cm.lp, np.zeros_like(self.cm.integer))
        lower, upper = np.array(lp.col_lower_), np.array(lp.col_upper_)
        lower[list(self.column.values())] = upper[list(self.column.values())] = 0.0
        upper[self._columns(free)] = 1.0
        ones = self._columns(forced)
        lower[ones] = upper[ones] = 1.0
        lp.col_lower_, lp.col_upper_ = lower, upper
        h = new_highs(threads)
        h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.1))
        h.passModel(lp)
        h.run()
        objective = float(h.getInfo().objective_function_value) + self.cm.offset
        return h.getModelStatus(), objective

    def _columns(self, cells: Iterable[Cell]) -> list[int]:
        return [self.column[c] for c in cells if c in self.column]
