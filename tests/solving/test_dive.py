"""The dive on the runs' own choices (``planner.solving.dive``, ``PhasedSolve.dived_plan``),
on matrices worked out by hand.

Two runs A and B of one ready year (separate GPUs), two sites. ``a_s`` / ``b_s`` are the
GPUs of A / B at site s (one FLOP each), ``hA_s`` / ``hB_s`` their hosts. A GPU costs 1
at site 1 and 2 at site 2; each site holds 12 GPUs; each run needs 10 FLOP and may draw
at most 10 from its host:

    min a1 + b1 + 2 (a2 + b2)   s.t.   a_s - 10 hA_s <= 0,   b_s - 10 hB_s <= 0,
        hA1 + hA2 = 1,   hB1 + hB2 = 1,   a1 + a2 >= 10,   b1 + b2 >= 10,
        a1 + b1 <= 12,   a2 + b2 <= 12

The LP fills site 1 with 12 GPUs and puts 8 at site 2: 12 + 16 = 28, with each run
hosted in part at both sites. Whole hosts put one run at each site: 10 + 20 = 30. The
dive fixes the largest fractional host at one, then the other run's host that is left
fractional, and ends there: 30.

With site 1 holding 9 GPUs and only run A (B's columns fixed at zero, its rows
inactive), the LP hosts A at 0.9 there (9 GPUs) and 0.1 at site 2 (1 GPU): 11. Fixing
hA1 at one leaves the LP infeasible (10 FLOP from 9 GPUs): the dive fixes it at zero
instead, and A goes to site 2 whole: 20.
"""

from __future__ import annotations

import time

import factory as f
import highspy
import numpy as np
import pytest

from models.neighbourhood import SiteColumns
from planner.solving.compiled import CompiledModel, copy_lp
from planner.solving.dive import dive
from planner.solving.strategy import PhasedSolve

INF = highspy.kHighsInf
# Columns: a1, a2, b1, b2 (GPU counts), hA1, hA2, hB1, hB2 (hosts: the runs' choices).
COUNTS = np.array([True] * 4 + [False] * 4)
CHOICES = ~COUNTS


def _model(site_1_gpus: float = 12.0, only_a: bool = False) -> CompiledModel:
    upper = [100.0] * 4 + [1.0] * 4
    if only_a:
        for j in (2, 3, 6, 7):
            upper[j] = 0.0
    return f.dense_model(
        [1.0, 2.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0],
        upper,
        [
            ([1, 0, 0, 0, -10, 0, 0, 0], -INF, 0.0),
            ([0, 1, 0, 0, 0, -10, 0, 0], -INF, 0.0),
            ([0, 0, 1, 0, 0, 0, -10, 0], -INF, 0.0),
            ([0, 0, 0, 1, 0, 0, 0, -10], -INF, 0.0),
            ([0, 0, 0, 0, 1, 1, 0, 0], 1.0, 1.0),
            ([0, 0, 0, 0, 0, 0, 1, 1], 0.0 if only_a else 1.0, 1.0),
            ([1, 1, 0, 0, 0, 0, 0, 0], 10.0, INF),
            ([0, 0, 1, 1, 0, 0, 0, 0], 0.0 if only_a else 10.0, INF),
            ([1, 0, 1, 0, 0, 0, 0, 0], -INF, site_1_gpus),
            ([0, 1, 0, 1, 0, 0, 0, 0], -INF, 12.0),
        ],
    )


def _continuous(cm: CompiledModel) -> highspy.HighsLp:
    return copy_lp(cm.lp, np.zeros_like(cm.integer))


def _cost(x: np.ndarray) -> float:
    return float(np.dot([1.0, 2.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0], x))


def test_the_dive_places_each_run_whole_at_the_cost_whole_hosts_need() -> None:
    cm = _model()
    x = dive(cm, _continuous(cm), CHOICES, time.perf_counter() + 10.0, threads=1)
    assert x is not None
    hosts = np.round(x[CHOICES])
    assert np.allclose(x[CHOICES], hosts, atol=1e-6)
    assert hosts[0] + hosts[2] == 1.0  # one run hosted at site 1, the other at site 2
    assert _cost(x) == pytest.approx(30.0, abs=1e-6)


def test_a_fix_that_leaves_the_lp_infeasible_becomes_a_fix_at_zero() -> None:
    cm = _model(site_1_gpus=9.0, only_a=True)
    x = dive(cm, _continuous(cm), CHOICES, time.perf_counter() + 10.0, threads=1)
    assert x is not None
    assert list(np.round(x[4:6])) == [0.0, 1.0]  # A hosted at site 2
    assert _cost(x) == pytest.approx(20.0, abs=1e-6)


def test_the_dive_stops_without_a_plan_when_its_time_is_up() -> None:
    cm = _model()
    assert dive(cm, _continuous(cm), CHOICES, time.perf_counter() - 1.0, threads=1) is None


def _run_choices() -> SiteColumns:
    return f.run_choices(np.where(CHOICES, 2030, 0), n_sites=2)


def test_the_dived_plan_solves_the_rest_with_the_choices_fixed() -> None:
    solver = PhasedSolve(_model(), 1e-4, 30.0, 1, None, None)
    solver.others = solver.cm.integer & ~COUNTS
    res = solver.dived_plan(_run_choices())
    assert res is not None and res.values is not None
    assert res.objective == pytest.approx(30.0, abs=1e-6)
    assert np.allclose(res.values[CHOICES], np.round(res.values[CHOICES]), atol=1e-6)


def test_no_dive_without_the_runs_columns_known() -> None:
    solver = PhasedSolve(_model(), 1e-4, 30.0, 1, None, None)
    solver.others = solver.cm.integer & ~COUNTS
    assert solver.dived_plan(None) is None
