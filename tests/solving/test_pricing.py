"""The LP relaxation priced site by site (``planner.solving.pricing``): by hand on four
sites, and against the whole LP on generated portfolios (plain and contested); the
alternatives to the LP's sites (``PhasedSolve.alternative_sites``), by hand."""

from __future__ import annotations

from pathlib import Path

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from models.build import build_model
from models.neighbourhood import SiteColumns, site_columns
from models.sets import build_model_data
from planner import api
from planner.inputs.contested import write_contested
from planner.inputs.synth import SynthSpec, write_synth
from planner.solving import pricing, strategy
from planner.solving.compiled import CompiledModel, compile_model, copy_lp
from planner.solving.pipeline import count_columns
from planner.solving.status import (
    STATUS_INFEASIBLE,
    STATUS_OPTIMAL,
    STATUS_TIME_LIMIT,
    SolveResult,
)
from planner.solving.strategy import PhasedSolve

INF = highspy.kHighsInf
COST = [1.0, 2.0, 3.0, 5.0]  # per MW built at sites A, B, C, D
SIZE = [1.0, 3.0, 4.0, 0.5]  # C is the largest, then B, A, D


def _four_sites() -> tuple[CompiledModel, SiteColumns]:
    """Site s builds b_s <= 6 MW at COST[s] and uses x_s <= b_s (a private row); the
    run needs x_A + x_B + x_C + x_D >= 10 (the coupling row). Columns b_A, x_A, b_B, ..."""
    return _sites(COST, [6.0] * 4, SIZE, 10.0)


def _sites(
    cost: list[float], upper: list[float], size: list[float], target: float
) -> tuple[CompiledModel, SiteColumns]:
    """Site s builds b_s <= upper[s] MW at cost[s] and uses x_s <= b_s; the run needs
    the x_s to sum to at least ``target``. Columns b_0, x_0, b_1, x_1, ..."""
    n = len(cost)
    a = np.zeros((n + 1, 2 * n))
    for s in range(n):
        a[s, 2 * s], a[s, 2 * s + 1] = -1.0, 1.0  # x_s - b_s <= 0
        a[n, 2 * s + 1] = 1.0
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 2 * n, n + 1
    lp.col_cost_ = np.array([c for each in cost for c in (each, 0.0)])
    lp.col_lower_ = np.zeros(2 * n)
    lp.col_upper_ = np.array([b for cap in upper for b in (cap, INF)])
    lp.row_lower_ = np.array([-INF] * n + [target])
    lp.row_upper_ = np.array([0.0] * n + [INF])
    m = sp.csc_matrix(a)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = m.indptr, m.indices, m.data
    integer = np.zeros(2 * n, dtype=bool)
    cm = CompiledModel(lp=lp, columns=[], rows=[], offset=0.0, integer=integer)
    sites = SiteColumns(
        entry_column=np.arange(2 * n),
        entry_site=np.repeat(np.arange(n), 2),
        n_sites=n,
        link=np.zeros(2 * n, dtype=bool),
        decision_year=np.zeros(2 * n, dtype=int),
        target_year=np.zeros(0, dtype=int),
        size=np.array(size),
    )
    return cm, sites


def test_blocks_are_the_sites_and_the_target_couples_them() -> None:
    cm, sites = _four_sites()
    blocks = pricing.site_blocks(cm.lp, sites)
    assert list(blocks.column_block) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert list(blocks.row_block) == [0, 1, 2, 3, -1]
    assert not blocks.anchored.any()


def _priced_from_c(
    monkeypatch: pytest.MonkeyPatch, stopped: int = 0
) -> tuple[pricing.Priced | None, list[SolveResult]]:
    """The four sites' LP priced from C alone (the largest), and every solve's result;
    solve number ``stopped`` (from 1) is stopped at once, without a plan."""
    monkeypatch.setattr(pricing, "FIRST_SITES", 1)
    monkeypatch.setattr(pricing, "FIRST_SHARE", 0.0)
    cm, sites = _four_sites()
    solver = PhasedSolve(cm, 1e-4, 30.0, 1, None, None)
    seen: list[SolveResult] = []

    def solve(lp: object) -> SolveResult:
        stop = len(seen) + 1 == stopped
        seen.append(SolveResult(STATUS_TIME_LIMIT) if stop else solver.highs(lp))
        return seen[-1]

    return pricing.priced_relaxation(solve, cm.lp, sites), seen


def test_pricing_brings_in_the_cheap_site_and_proves_the_dear_one_unneeded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Start at C alone (the largest): 6 MW < 10, infeasible, so the start doubles to C
    and B: z = 6 x 2 + 4 x 3 = 24, the target's dual 3 (C's cost). A priced at that dual:
    min b_A - 3 x_A, x_A <= b_A <= 6: -12; D: min 5 b_D - 3 x_D: 0. The bound is
    24 - 12 = 12 and A comes in: z = 6 x 1 + 4 x 2 = 14, the dual 2 (B's), D prices at
    0: the whole LP's optimum 14, with D never in the LP."""
    priced, seen = _priced_from_c(monkeypatch)
    assert priced is not None
    assert [r.status for r in seen] == [STATUS_INFEASIBLE] + [STATUS_OPTIMAL] * 4
    assert [r.objective for r in seen[1::2]] == pytest.approx([24.0, 14.0])
    assert seen[2].values is not None  # the first pricing problem: A's block and D's
    assert priced.result.objective == pytest.approx(14.0)
    assert priced.result.bound == pytest.approx(14.0)
    assert priced.share_in == pytest.approx(0.75)
    assert priced.result.values is not None
    assert priced.result.values[6:] == pytest.approx([0.0, 0.0])


def test_a_round_stopped_without_a_plan_gives_the_last_rounds_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As above, but the second restricted LP (at A, B and C) stops without a plan: the
    result is the first round's plan (C and B, 24, D and A at zero) with the Lagrangian
    bound 12 of that round, not its objective."""
    priced, seen = _priced_from_c(monkeypatch, stopped=4)
    assert priced is not None and len(seen) == 4 and not seen[3].has_plan
    assert priced.result.objective == pytest.approx(24.0)
    assert priced.result.bound == pytest.approx(12.0)
    assert priced.result.values is not None
    assert priced.result.values[[0, 1, 6, 7]] == pytest.approx([0.0, 0.0, 0.0, 0.0])


def test_the_bound_of_an_unfinished_pricing_is_the_lagrangian_one() -> None:
    """At C and B (z = 24, dual 3) A prices at -12 and D at 0: 24 - 12 = 12 <= 14."""
    cm, sites = _four_sites()
    blocks = pricing.site_blocks(cm.lp, sites)
    out = blocks.left_out(np.array([False, True, True, False]))
    assert list(out) == [True, False, False, True]
    duals = np.array([0.0, -2.0, -3.0, 0.0, 3.0])  # HiGHS's signs: c - A'y >= 0 at lower
    sub, cols, cost = pricing.pricing_problem(cm.lp, blocks, out, duals)
    assert list(cols) == [0, 1, 6, 7]
    assert list(cost) == [1.0, -3.0, 5.0, -3.0]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(sub)
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(-12.0)


def _activity(cm: CompiledModel, x: np.ndarray) -> np.ndarray:
    """Each row's value at ``x``."""
    a = sp.csc_matrix(
        (cm.lp.a_matrix_.value_, cm.lp.a_matrix_.index_, cm.lp.a_matrix_.start_),
        shape=(cm.lp.num_row_, cm.lp.num_col_),
    )
    return np.asarray(a @ x)


def _whole_and_priced(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[CompiledModel, float, SolveResult, highspy.HighsLp]:
    md = build_model_data(api.load(path))
    m = build_model(md)  # kept: the columns' names are read from it
    cm = compile_model(m)
    sites = site_columns(cm.columns, md, cm.rows)
    # The phases' model: without the implied rows (``PhasedSolve.lp``).
    whole = PhasedSolve(cm, 1e-4, 60.0, 1, None, None)
    whole_lp = whole.highs(copy_lp(whole.lp, np.zeros_like(cm.integer)))
    assert whole_lp.status == STATUS_OPTIMAL and whole_lp.objective is not None
    monkeypatch.setattr(strategy, "PRICED_MIN_SITES", 1)
    monkeypatch.setattr(pricing, "FIRST_SITES", 2)
    solver = PhasedSolve(cm, 1e-4, 60.0, 1, None, None)
    solver.others = cm.integer & ~count_columns(cm)
    return cm, whole_lp.objective, solver.relaxation(sites), whole.lp


@pytest.mark.parametrize("contested", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_priced_lp_is_the_whole_lp(
    contested: bool, seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started from two sites of 24, pricing ends at the whole LP's optimum, and its plan
    is a plan of the whole LP."""
    spec = SynthSpec(sites=24, years=5, gpus=4, sources=4, links=60, runs=4, seed=seed)
    write = write_contested if contested else write_synth
    cm, whole, priced, lp = _whole_and_priced(write(spec, tmp_path / "s.xlsx"), monkeypatch)
    assert priced.status == STATUS_OPTIMAL
    assert priced.bound == pytest.approx(whole, rel=1e-6)
    assert priced.objective == pytest.approx(whole, rel=1e-6)
    assert priced.values is not None
    activity = _activity(cm, priced.values)
    assert (activity >= np.asarray(lp.row_lower_) - 1e-6).all()
    assert (activity <= np.asarray(lp.row_upper_) + 1e-6).all()


def _mask(n: int, *on: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[list(on)] = True
    return mask


def test_the_alternatives_are_where_the_lp_goes_with_its_sites_closed() -> None:
    """Eight sites at 1..8 per MW, 6 MW each, a run of 5 MW: the LP builds all 5 at A.
    With A closed it builds them at B, the next-cheapest: A and B (2 of 8 sites). With
    A-D closed it goes to E: 5 of 8 sites, more than half, so the LP's own sites stay."""
    cm, sites = _sites([1.0 + k for k in range(8)], [6.0] * 8, [1.0] * 8, 5.0)
    solver = PhasedSolve(cm, 1e-4, 30.0, 1, None, None)
    assert list(solver.alternative_sites(_mask(8, 0), sites)) == list(_mask(8, 0, 1))
    four = _mask(8, 0, 1, 2, 3)
    assert list(solver.alternative_sites(four, sites)) == list(four)


def test_with_no_alternative_the_lps_own_sites_stay() -> None:
    """Only A and B can build (the others up to 0 MW): with both closed the LP has no
    plan, and the search stays among A and B."""
    cm, sites = _sites([1.0 + k for k in range(8)], [6.0] * 2 + [0.0] * 6, [1.0] * 8, 5.0)
    solver = PhasedSolve(cm, 1e-4, 30.0, 1, None, None)
    assert list(solver.alternative_sites(_mask(8, 0), sites)) == list(_mask(8, 0, 1))
    both = _mask(8, 0, 1)
    assert list(solver.alternative_sites(both, sites)) == list(both)


@pytest.mark.parametrize("contested", [False, True])
def test_the_search_among_the_alternatives_keeps_the_plan_or_betters_it(
    contested: bool, tmp_path: Path
) -> None:
    """On generated portfolios: the plan among the LP's sites, searched again among its
    sites and the alternatives, comes back no dearer, and a plan of the whole model
    (GPU counts continuous) within the model's rows and bounds."""
    spec = SynthSpec(sites=24, years=5, gpus=4, sources=4, links=60, runs=4, seed=3)
    write = write_contested if contested else write_synth
    md = build_model_data(api.load(write(spec, tmp_path / "s.xlsx")))
    m = build_model(md)
    cm = compile_model(m)
    sites = site_columns(cm.columns, md, cm.rows)
    solver = PhasedSolve(cm, 1e-4, 60.0, 1, None, None)
    solver.others = cm.integer & ~count_columns(cm)
    lp = solver.relaxation(sites)
    solver.tighten(lp.bound, "lp")
    assert lp.values is not None
    used = sites.used_sites(lp.values)
    plan, near = solver.near_plan(lp.values, sites)
    assert plan is not None and plan.values is not None and plan.objective is not None
    assert near is not None and list(near) == list(used)
    wider = solver.among_alternatives(plan, used, sites)
    assert wider.values is not None and wider.objective is not None
    assert wider.objective <= plan.objective + 1e-6
    x = wider.values
    activity = _activity(cm, x)
    tol = 1e-5 * (1.0 + np.abs(activity))
    assert (activity >= np.asarray(cm.lp.row_lower_) - tol).all()
    assert (activity <= np.asarray(cm.lp.row_upper_) + tol).all()
    assert (x >= np.asarray(cm.lp.col_lower_) - 1e-6).all()
    assert (x <= np.asarray(cm.lp.col_upper_) + 1e-6).all()
    others = solver.others
    assert np.abs(x[others] - np.round(x[others])).max() < 1e-5
