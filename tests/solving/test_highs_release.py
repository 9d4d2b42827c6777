"""A finished HiGHS solve is freed with its last reference (``planner.solving.highs``):
not left to the cyclic collector, which runs rarely once a large Pyomo model is loaded."""

from __future__ import annotations

import gc
import weakref

import highspy
import numpy as np

from planner.solving.compiled import CompiledModel
from planner.solving.highs import new_highs, run_highs
from planner.solving.status import STATUS_OPTIMAL


def _knapsack() -> CompiledModel:
    """max 3 a + 2 b (min -3 a - 2 b), a + b <= 1.5, a, b integer in [0, 1]: a = 1."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 2, 1
    lp.col_cost_ = np.array([-3.0, -2.0])
    lp.col_lower_, lp.col_upper_ = np.zeros(2), np.ones(2)
    lp.row_lower_, lp.row_upper_ = np.array([-highspy.kHighsInf]), np.array([1.5])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array([0, 1, 2])
    lp.a_matrix_.index_ = np.array([0, 0])
    lp.a_matrix_.value_ = np.array([1.0, 1.0])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * 2
    return CompiledModel(lp=lp, columns=[], rows=[], offset=0.0, integer=np.ones(2, dtype=bool))


def test_a_finished_solve_is_freed_without_the_cyclic_collector() -> None:
    cm = _knapsack()
    h = new_highs(1)
    h.passModel(cm.lp)
    gc.disable()
    try:
        res = run_highs(h, cm, time_limit_s=10.0)
        freed = weakref.ref(h)
        del h
        assert freed() is None  # its callbacks no longer hold it in a cycle
    finally:
        gc.enable()
    assert res.status == STATUS_OPTIMAL
    assert res.objective == -3.0
