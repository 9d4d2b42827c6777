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

import factory as f
import highspy
import numpy as np
import pytest

from models.neighbourhood import SiteColumns
from planner.solving.compiled import CompiledModel
from planner.solving.status import STATUS_OPTIMAL, SolveResult
from planner.solving.strategy import PhasedSolve

INF = highspy.kHighsInf


def _model() -> CompiledModel:
    """Columns x1, x2 (counts), z, w (binaries); rows capacity, FLOP, x1 floor."""
    return f.dense_model(
        [1.0, 1.4, 0.0, 0.0],
        [100.0, 100.0, 1.0, 1.0],
        [
            ([1.0, 1.5, -10.0, 0.0], -INF, 0.0),
            ([1.0, 2.0, 0.0, 0.5], 12.5, INF),
            ([1.0, 0.0, 0.0, -4.0], 0.0, INF),
        ],
    )


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
    # The small search and the search among the plan's GPU types (nothing fits: x1 is
    # held at the plan's 0, and x1 >= 4); the plan re-solved with room for rounding up,
    # x1 held at 0 too (no plan); then every count.
    assert len(solves) == 4


def test_rounding_moves_gpus_beyond_the_small_radius_among_the_plans_types() -> None:
    """w = 0 and the plan x1 = 8.6, x2 = 0.9: within 3 GPUs of it x2 <= 4, but in 10 kW
    the run's 12.5 FLOP need x2 >= 5 (x1 = 10 - 1.5 x2 brings 10 + 0.5 x2). Among any
    counts of the two types: x2 = 6, x1 = 1 (13 FLOP in 10 kW), 9.4; x2 = 5 leaves x1 <=
    2 (12 FLOP)."""
    solver, solves = _rounded([8.6, 0.9, 1.0, 0.0])
    assert solver.best.objective == pytest.approx(9.4, abs=1e-6)
    assert solver.best.values is not None
    assert list(np.round(solver.best.values[:2])) == [1.0, 6.0]
    assert len(solves) == 2  # the small search (nothing), then among the plan's types


def _transformer_model() -> CompiledModel:
    """Columns x, y (counts at sites 1, 2), z1, z2 (the run's host: its own choices),
    t (site 1's transformers, 10 kW each, at 3 apiece).

        min x + 0.5 y + 3 t   s.t.   1.05 x - 10 t <= 0,   x - 100 z1 <= 0,
                                     y - 100 z2 <= 0,      x + y >= 9.5

    The relaxed plan hosts the run at site 1: x = 9.5 in one transformer's 10 kW (9.975
    kW). Ten whole GPUs take 10.5 kW: with t fixed at 1 nothing fits. With only the
    host fixed (z1 = 1, z2 = 0), t = 2 and x = 10 cost 16; were the host free too, site 2
    would take the run at 5 (the run choices must stay the relaxed plan's)."""
    return f.dense_model(
        [1.0, 0.5, 0.0, 0.0, 3.0],
        [100.0, 100.0, 1.0, 1.0, 5.0],
        [
            ([1.05, 0.0, 0.0, 0.0, -10.0], -INF, 0.0),
            ([1.0, 0.0, -100.0, 0.0, 0.0], -INF, 0.0),
            ([0.0, 1.0, 0.0, -100.0, 0.0], -INF, 0.0),
            ([1.0, 1.0, 0.0, 0.0, 0.0], 9.5, INF),
        ],
    )


def _run_choices() -> SiteColumns:
    """Only the decision years matter here: z1 and z2 are the run's (ready in year 1)."""
    return f.run_choices(np.array([0, 0, 1, 1, 0]), n_sites=2)


@pytest.mark.parametrize("tagged", [True, False])
def test_rounding_buys_another_transformer_when_the_fixed_build_cannot_hold_whole_gpus(
    tagged: bool,
) -> None:
    solver = PhasedSolve(_transformer_model(), 1e-4, 30.0, 1, None, None)
    counts = np.array([True, True, False, False, False])
    solver.others = solver.cm.integer & ~counts
    solver.sites = _run_choices() if tagged else None
    solver.round_counts(np.array([9.5, 0.0, 1.0, 0.0, 1.0]), counts, "round:relaxed")
    if not tagged:  # without the runs' columns known, only the fixed rounding: no plan
        assert not solver.best.has_plan
        return
    assert solver.best.objective == pytest.approx(16.0, abs=1e-6)
    assert solver.best.values is not None
    assert list(np.round(solver.best.values)) == [10.0, 0.0, 1.0, 0.0, 2.0]
    assert solver.found_by == "round:relaxed:runs"


def test_with_no_plan_the_full_mip_starts_from_the_relaxed_plan_rounded_by_its_runs() -> None:
    """No plan yet and the relaxed plan of the test above: before the full MIP, it is
    rounded with the host fixed (16); the full MIP, started from that plan, finds the
    optimum with the run at site 2 (y = 10: 5)."""
    solver = PhasedSolve(_transformer_model(), 1e-4, 30.0, 1, None, None)
    counts = np.array([True, True, False, False, False])
    solver.others = solver.cm.integer & ~counts
    solver.sites = _run_choices()
    solver.unrounded = np.array([9.5, 0.0, 1.0, 0.0, 1.0])
    kept: list[tuple[str, float | None]] = []
    keep = solver.keep

    def recorded(res: SolveResult, phase: str) -> None:
        kept.append((phase, res.objective))
        keep(res, phase)

    solver.keep = recorded  # type: ignore[method-assign]
    res = solver.full_mip(counts)
    assert kept[0] == ("round:last:runs", pytest.approx(16.0, abs=1e-6))
    assert res.status == STATUS_OPTIMAL
    assert res.objective == pytest.approx(5.0, abs=1e-6)
