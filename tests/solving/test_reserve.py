"""Room for rounding up (``planner.solving.reserve``), on matrices worked out by hand."""

from __future__ import annotations

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from planner.solving.compiled import CompiledModel
from planner.solving.reserve import rounding_room
from planner.solving.strategy import PhasedSolve

INF = highspy.kHighsInf


def _lp(a: list[list[float]], lower: list[float], upper: list[float], cols: int) -> object:
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = cols, len(a)
    lp.col_cost_ = np.zeros(cols)
    lp.col_lower_ = np.zeros(cols)
    lp.col_upper_ = np.full(cols, INF)
    lp.row_lower_, lp.row_upper_ = np.array(lower), np.array(upper)
    m = sp.csc_matrix(np.array(a))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = m.indptr, m.indices, m.data
    return lp


def test_a_supply_cap_keeps_one_unit_per_count_that_may_round_up() -> None:
    """x1 + 2 x2 + x3 <= 10 with x1, x2 moving (x3 does not): 10 - 1 - 2 = 7. The FLOP row
    x1 + x2 >= 5 only gains from rounding up: left as it is."""
    lp = _lp([[1, 2, 1], [1, 1, 0]], [-INF, 5.0], [10.0, INF], 3)
    room = rounding_room(lp, np.array([2.5, 1.5, 0.0]), np.array([True, True, False]))
    assert room is not None
    assert list(room.row_upper) == [7.0, INF]
    assert list(room.row_lower) == [-INF, 5.0]


def test_the_room_follows_it_load_to_the_transformers_that_carry_it() -> None:
    """Columns x (GPUs, moving), L (IT load), C (IT capacity), t (transformers, fixed at 1):

        L - 1.5 x = 0,   L - C <= 0,   C - 10 t <= 0

    One more GPU: L and C each rise by 1.5 (they absorb the first two rows), so the
    transformer row keeps 1.5 kW free: C - 10 t <= -1.5, and neither of the first two
    rows is tightened."""
    lp = _lp([[-1.5, 1, 0, 0], [0, 1, -1, 0], [0, 0, 1, -10]], [0, -INF, -INF], [0, 0, 0], 4)
    lp.col_lower_ = np.array([0.0, 0.0, 0.0, 1.0])
    lp.col_upper_ = np.array([INF, INF, INF, 1.0])
    x = np.array([4.0, 6.0, 6.0, 1.0])
    room = rounding_room(lp, x, np.array([True, False, False, False]))
    assert room is not None
    assert list(room.row_upper) == [0.0, 0.0, -1.5]
    assert list(room.row_lower) == [0.0, -INF, -INF]


def test_terms_that_move_together_cancel() -> None:
    """What a member sends, s, equals what its GPUs x need, k = 0.2 each, written as two
    rows: s - 0.2 x >= 0 and s - 0.2 x <= 0. s absorbs the first; in the second its move
    (+0.2) cancels the GPUs' (-0.2), so neither row loses room (interval arithmetic, the
    moves taken apart, would leave the pair no plan)."""
    lp = _lp([[-0.2, 1], [-0.2, 1]], [0.0, -INF], [INF, 0.0], 2)
    room = rounding_room(lp, np.array([3.0, 0.6]), np.array([True, False]))
    assert room is not None
    assert list(room.row_lower) == [0.0, -INF]
    assert list(room.row_upper) == [INF, 0.0]


def _two_sites() -> CompiledModel:
    """Counts x1, x2 (one GPU type at sites A, B); z (site A's build, fixed at 1):

    min x1 + 1.2 x2   s.t.   x1 + x2 <= 10 (supply),   x1 - 6 z <= 0 (A's space),
                             x1 + x2 >= 7.5 (the run's FLOP)
    """
    lp = _lp([[1, 1, 0], [1, 0, -6], [1, 1, 0]], [-INF, -INF, 7.5], [10, 0, INF], 3)
    lp.col_cost_ = np.array([1.0, 1.2, 0.0])
    lp.col_upper_ = np.array([100.0, 100.0, 1.0])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * 3
    return CompiledModel(lp=lp, columns=[], rows=[], offset=0.0, integer=np.ones(3, dtype=bool))


def test_the_roomy_start_fits_where_rounding_the_plan_up_does_not() -> None:
    """The plan x = (5.5, 4.5) fills the supply: rounded up, 6 + 5 > 10. With room for
    both counts (supply <= 8, A's space <= 5), the cheapest is x1 = 5, x2 = 2.5: rounded
    up, (5, 3) fits (8 GPUs, 7.5 FLOP). The rounding from it reaches x1 = 6, x2 = 2
    (6 + 2.4 = 8.4)."""
    solver = PhasedSolve(_two_sites(), 1e-4, 30.0, 1, None, None)
    counts = np.array([True, True, False])
    solver.others = solver.cm.integer & ~counts
    x = np.array([5.5, 4.5, 1.0])
    start = solver.roomy_start(x, counts, share=1.0)
    assert start is not None
    assert list(start) == [5.0, 3.0, 1.0]
    solver.round_counts(x, counts, "round:relaxed")
    assert solver.best.objective == pytest.approx(8.4, abs=1e-6)
