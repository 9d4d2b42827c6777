"""Rounding a relaxed plan's GPU counts (``PhasedSolve.round_counts``), on a matrix
worked out by hand.

Two GPU types at one site whose decision z is fixed at 1: type 1 brings 1 FLOP for 1 kW
and costs 1, type 2 brings 2 FLOP for 1.5 kW and costs 1.4. The site has 10 kW and the
run needs 12.5 FLOP:

    min x1 + 1.4 x2   s.t.   x1 + 1.5 x2 - 10 z <= 0,   x1 + 2 x2 + 0.5 w >= 12.5,
                             x1 - 4 w >= 0   (w: a switch for the second case, fixed)

With w = 0, take the relaxed plan x1 = 0.4, x2 = 6.2 (12.8 FLOP in 9.7 kW); rounded
up, 1 + 10.5 kW do not fit. The integer optimum is x1 = 1, x2 = 6 (1 + 12 FLOP, 1 + 9
kW): 9.4. It lies within 3 GPUs of the relaxed plan, so the small search finds it.
"""

from __future__ import annotations

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from planner.solving.compiled import CompiledModel
from planner.solving.strategy import PhasedSolve

INF = highspy.kHighsInf


def _model() -> CompiledModel:
    """Columns x1, x2 (counts), z, w (binaries); rows capacity, FLOP, x1 floor."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 4, 3
    lp.col_cost_ = np.array([1.0, 1.4, 0.0, 0.0])
    lp.col_lower_ = np.zeros(4)
    lp.col_upper_ = np.array([100.0, 100.0, 1.0, 1.0])
    lp.row_lower_ = np.array([-INF, 12.5, 0.0])
    lp.row_upper_ = np.array([0.0, INF, INF])
    a = sp.csc_matrix([[1.0, 1.5, -10.0, 0.0], [1.0, 2.0, 0.0, 0.5], [1.0, 0.0, 0.0, -4.0]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * 4
    return CompiledModel(lp=lp, columns=[], rows=[], offset=0.0, integer=np.ones(4, dtype=bool))


COUNTS = np.array([True, True, False, False])


def _rounded(x: list[float]) -> tuple[PhasedSolve, list[float]]:
    solver = PhasedSolve(_model(), 1e-4, 30.0, 1, None, None)
    solver.others = solver.cm.integer & ~COUNTS
    solves: list[float] = []  # seconds of each HiGHS solve
    highs = solver.highs

    def timed(*args: object, **kwargs: object) -> object:
        res = highs(*args, **kwargs)  # type: ignore[arg-type]
        solves.append(res.seconds)
        return res

    solver.highs = timed  # type: ignore[method-assign]
    solver.round_counts(np.array(x), COUNTS, "round:relaxed")
    return solver, solves


def test_rounding_moves_a_gpu_between_types_when_rounding_up_does_not_fit() -> None:
    solver, solves = _rounded([0.4, 6.2, 1.0, 0.0])
    assert solver.best.objective == pytest.approx(9.4, abs=1e-6)
    assert solver.best.values is not None
    assert list(np.round(solver.best.values[:2])) == [1.0, 6.0]
    assert solver.found_by == "round:relaxed"
    assert len(solves) == 1  # the small search found it


def test_rounding_falls_back_to_every_count_when_none_near_fits() -> None:
    """w = 1 and the plan x1 = 0, x2 = 6.25: the small search keeps x1 at 0 (a type the
    plan does not use), but x1 >= 4, and the run needs 12 FLOP.
    Within 10 kW, x2 <= 4; x2 = 4 leaves x1 <= 4 (12 FLOP), x2 = 3 leaves x1 <= 5 (11):
    the only plan is x1 = x2 = 4, costing 4 + 5.6 = 9.6, found by the whole rounding."""
    solver, solves = _rounded([0.0, 6.25, 1.0, 1.0])
    assert solver.best.objective == pytest.approx(9.6, abs=1e-6)
    assert solver.best.values is not None
    assert list(np.round(solver.best.values[:2])) == [4.0, 4.0]
    assert len(solves) == 2  # the small search (nothing fits), then every count
