"""Hand a Pyomo model to HiGHS in one call and solve it under a wall-clock promise.

Pyomo's ``LinearStandardFormCompiler`` turns the model into a sparse matrix that
``highspy.passModel`` takes directly (no LP file). HiGHS runs in its own thread; this
thread watches the clock, reports progress, and cancels the solve at the time limit.
If HiGHS does not stop soon after (its sub-MIP heuristics were seen to overrun), the
best plan found so far, captured by the improving-solution callback, is returned.
"""

from __future__ import annotations

import atexit
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from models.neighbourhood import SiteColumns
from planner.standard_form import standard_form

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
GRACE_S = 2.0  # how long HiGHS may take to honour a cancel before we stop waiting
MIN_PHASE_S = 0.5  # a solve phase is not started with less time than this left
# The site-restricted search pays only when the LP leaves most candidate sites unused;
# otherwise it is nearly the full MIP, solved twice.
MAX_USED_SHARE = 0.5
INF = highspy.kHighsInf


@dataclass
class Progress:
    elapsed: float
    best: float | None
    bound: float | None
    gap: float | None


@dataclass
class CompiledModel:
    """The model as HiGHS sees it, with the maps back to Pyomo."""

    lp: Any
    columns: list[Any]
    rows: list[tuple[Any, int]]
    offset: float
    integer: np.ndarray
    build_s: float = 0.0

    @property
    def size(self) -> dict[str, int]:
        return {
            "rows": int(self.lp.num_row_),
            "columns": int(self.lp.num_col_),
            "nonzeros": int(len(self.lp.a_matrix_.value_)),
            "integer_columns": int(self.integer.sum()),
        }

    def coefficient_range(self) -> tuple[float, float]:
        vals = np.abs(np.asarray(self.lp.a_matrix_.value_))
        vals = vals[vals > 0]
        return (float(vals.min()), float(vals.max())) if len(vals) else (0.0, 0.0)


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

    @property
    def has_plan(self) -> bool:
        return self.values is not None and self.status in (STATUS_OPTIMAL, STATUS_TIME_LIMIT)

    @property
    def words(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)


def compile_model(m: pyo.ConcreteModel) -> CompiledModel:
    """Pyomo model -> ``highspy.HighsLp`` (CSC matrix, bounds, integrality)."""
    t0 = time.perf_counter()
    with PauseGC():  # see models.build.build_model: collections only cost time here
        sf = standard_form(m)
    a = sf.A
    n_col, n_row = a.shape[1], a.shape[0]
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.col_cost_ = sf.c
    lower = np.empty(n_col)
    upper = np.empty(n_col)
    integer = np.zeros(n_col, dtype=bool)
    for j, v in enumerate(sf.columns):
        lb, ub = v.bounds
        lower[j] = -INF if lb is None else lb
        upper[j] = INF if ub is None else ub
        integer[j] = v.is_integer() or v.is_binary()
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    kinds = np.array([k for _, k in sf.rows], dtype=int)
    lp.row_lower_ = np.where(kinds <= 0, sf.rhs, -INF) if n_row else np.zeros(0)
    lp.row_upper_ = np.where(kinds >= 0, sf.rhs, INF) if n_row else np.zeros(0)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
        for i in integer
    ]
    return CompiledModel(lp=lp, columns=sf.columns, rows=sf.rows, offset=sf.offset,
                         integer=integer, build_s=time.perf_counter() - t0)


def new_highs(threads: int | None = None, log_file: str | None = None) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(log_file))
    if log_file:
        h.setOptionValue("log_file", log_file)
        h.setOptionValue("log_to_console", False)
    if threads:
        h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    return h


def solve_compiled(
    cm: CompiledModel,
    *,
    mip_gap: float,
    time_limit_s: float,
    threads: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    log_file: str | None = None,
    counts: np.ndarray | None = None,
    limit_label_s: float | None = None,
    sites: SiteColumns | None = None,
) -> SolveResult:
    """Solve with HiGHS; never reports a plan as optimal unless a bound proves it.

    ``counts`` marks integer columns with huge domains (GPU counts), on which HiGHS
    spends most of its time. Plans are found with them continuous, then rounded by a
    solve with every other integer fixed and the counts integer; bounds come from the
    LP relaxation and from the MIP with counts continuous (both relax the real
    problem, so their infeasibility proves it infeasible too). A plan is optimal once
    within ``mip_gap`` of the best bound; otherwise the full MIP runs in the time left,
    started from the best plan. All phases share one
    wall-clock deadline; ``limit_label_s`` is the limit named in messages (the user's
    whole time limit, of which model building may have used a part). ``sites`` tags
    columns with their sites, so that the first plan is searched among the sites the LP
    relaxation uses.
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    label = time_limit_s if limit_label_s is None else limit_label_s

    def left() -> float:
        return deadline - time.perf_counter()

    def run(lp: Any, start: np.ndarray | None = None, share: float = 1.0,
            target: float | None = None) -> SolveResult:
        limit = max(left() * share, 0.01)
        h = new_highs(threads, log_file)
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        h.setOptionValue("time_limit", limit)
        if target is not None:  # stop at the first plan at least this good (total cost)
            h.setOptionValue("objective_target", float(target - cm.offset))
        h.passModel(lp)
        if start is not None:
            _set_start(h, start)
        return run_highs(h, cm, time_limit_s=limit, on_progress=on_progress)

    if counts is None or not counts.any() or not cm.integer.any():
        return _final(run(cm.lp), t0, label)
    others = cm.integer & ~counts
    best = SolveResult(STATUS_NO_PLAN)
    bound: float | None = None

    def better(res: SolveResult) -> None:
        nonlocal best
        if res.has_plan and res.objective is not None and (
                best.objective is None or res.objective < best.objective - 1e-9):
            best = res

    def proven() -> bool:
        return _gap_of(best, bound) <= mip_gap + 1e-12

    rounded: list[np.ndarray] = []

    def round_counts(x: np.ndarray) -> None:
        """Every other integer fixed at ``x``; GPU counts integer (once per decision set)."""
        decisions = np.round(x[others])
        if left() > MIN_PHASE_S and not any(np.array_equal(decisions, r) for r in rounded):
            rounded.append(decisions)
            # Counts rounded up usually fit (HiGHS completes the continuous part of a
            # start): an incumbent at once, so the search only has to prove it.
            up = np.where(counts, np.ceil(x - 1e-6), x)
            # Any rounding within the gap of the best bound proves the plan optimal:
            # the search stops there instead of proving the rounding itself.
            target = bound / (1.0 + 1e-9) / (1.0 - mip_gap) \
                if bound is not None and bound > 0 and mip_gap < 1 else None
            better(run(_fixed(cm, cm.integer, others, x), start=up, target=target))

    # 1. LP relaxation: a valid bound, and proof of infeasibility when it has none.
    lp = run(copy_lp(cm.lp, np.zeros_like(cm.integer)))
    if lp.status == STATUS_INFEASIBLE:
        return _final(lp, t0, label)
    first: SolveResult | None = None
    if lp.values is not None:
        bound = lp.objective
        # 2. A first plan from a small MIP near the LP (counts continuous): among the
        #    sites the LP uses, else keeping the decisions it already takes whole.
        for near in _neighbourhoods(cm, others, lp.values, sites):
            if left() <= MIN_PHASE_S:
                break
            res = run(near, share=0.5)
            if res.has_plan:
                first = res
                break
    # A first plan already within the gap of the LP bound is rounded at once: that may
    # prove it optimal without the MIP over every decision.
    if first is not None and first.values is not None and _gap_of(first, bound) <= mip_gap:
        round_counts(first.values)
        if proven():
            return _final(_optimal(best, bound), t0, label)
    # 3. The decisions as a MIP with counts continuous, from the best plan: a bound for
    #    the real problem (it relaxes it) and a plan to round. Part of the time left is
    #    kept for rounding and the full MIP.
    relaxed: SolveResult | None = None
    if left() > MIN_PHASE_S:
        relaxed = run(copy_lp(cm.lp, others),
                      best.values if best.has_plan else first.values if first else None,
                      share=0.6)
        if relaxed.status == STATUS_INFEASIBLE:
            return _final(relaxed, t0, label)
        if relaxed.bound is not None:  # its dual bound holds even when stopped early
            bound = max(bound or -math.inf, relaxed.bound)
    plans = [p for p in (relaxed, first) if p is not None and p.has_plan
             and p.values is not None and p.objective is not None]
    if plans:
        cheapest = min(plans, key=lambda p: p.objective or math.inf)
        if cheapest.values is not None and (
                best.objective is None or (cheapest.objective or math.inf) < best.objective - 1e-9):
            round_counts(cheapest.values)
        if proven():
            return _final(_optimal(best, bound), t0, label)
    # 4. The full MIP in the time left, started from the best plan so far.
    if left() > MIN_PHASE_S:
        full = run(cm.lp, best.values if best.has_plan else None)
        if full.status in (STATUS_OPTIMAL, STATUS_INFEASIBLE):
            return _final(full, t0, label)
        if full.bound is not None:
            bound = max(bound or -math.inf, full.bound)
        better(full)
    if not best.has_plan:
        return _final(SolveResult(STATUS_NO_PLAN), t0, label)
    if proven():
        return _final(_optimal(best, bound), t0, label)
    best.status = STATUS_TIME_LIMIT
    best.bound = bound
    best.gap = _gap_of(best, bound)
    return _final(best, t0, label)


def _neighbourhoods(cm: CompiledModel, integer: np.ndarray, x: np.ndarray,
                    sites: SiteColumns | None) -> Iterator[Any]:
    """Restrictions of the model near the LP solution ``x``, smallest search first, with
    ``integer`` columns integer: every site the LP leaves unused switched off, then
    (RENS) every integer the LP takes whole fixed there."""
    if sites is not None:
        used = sites.used_sites(x)
        if used.sum() <= MAX_USED_SHARE * len(used):
            yield _fixed(cm, integer, sites.outside(used), np.zeros_like(x))
    yield _fixed(cm, integer, integer & (np.abs(x - np.round(x)) < 1e-6), x)


def _fixed(cm: CompiledModel, integer: np.ndarray, fix: np.ndarray, x: np.ndarray) -> Any:
    """The model with ``integer`` columns integer and ``fix`` columns fixed at ``x``."""
    lp = copy_lp(cm.lp, integer)
    lower = np.array(cm.lp.col_lower_, dtype=float)
    upper = np.array(cm.lp.col_upper_, dtype=float)
    lower[fix] = upper[fix] = np.clip(np.round(x[fix]), lower[fix], upper[fix])
    lp.col_lower_, lp.col_upper_ = lower, upper
    return lp


def _gap_of(res: SolveResult, bound: float | None) -> float:
    if res.objective is None or bound is None:
        return math.inf
    return max(0.0, res.objective - bound) / max(abs(res.objective), 1e-9)


def _optimal(res: SolveResult, bound: float | None) -> SolveResult:
    return SolveResult(STATUS_OPTIMAL, res.objective, bound, _gap_of(res, bound), 0.0,
                       "optimal", res.values)


def _final(res: SolveResult, t0: float, label: float) -> SolveResult:
    """Total seconds, and messages that name the user's time limit."""
    res.seconds = time.perf_counter() - t0
    if res.status == STATUS_NO_PLAN:
        res.message = f"no plan found within {label:g} s"
    elif res.status == STATUS_TIME_LIMIT:
        gap = f"; gap {res.gap * 100:.2f} %" if res.gap is not None else ""
        res.message = f"stopped at the {label:g} s time limit with the best plan found{gap}"
    return res


def copy_lp(src: Any, integer: np.ndarray) -> Any:
    """A copy of a ``HighsLp`` with the given integrality (``HighsLp`` has no copy)."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = src.num_col_, src.num_row_
    lp.col_cost_ = np.array(src.col_cost_)
    lp.col_lower_, lp.col_upper_ = np.array(src.col_lower_), np.array(src.col_upper_)
    lp.row_lower_, lp.row_upper_ = np.array(src.row_lower_), np.array(src.row_upper_)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(src.a_matrix_.start_)
    lp.a_matrix_.index_ = np.array(src.a_matrix_.index_)
    lp.a_matrix_.value_ = np.array(src.a_matrix_.value_)
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
        for i in integer
    ]
    return lp


def _set_start(h: highspy.Highs, start: np.ndarray) -> None:
    sol = highspy.HighsSolution()
    sol.col_value = list(map(float, start))
    sol.value_valid = True
    h.setSolution(sol)


def run_highs(
    h: highspy.Highs,
    cm: CompiledModel,
    *,
    time_limit_s: float,
    on_progress: Callable[[Progress], None] | None = None,
) -> SolveResult:
    """Run a prepared ``Highs`` under the wall-clock limit and read its result."""
    best: dict[str, Any] = {"x": None, "obj": None, "bound": None}

    def improving(e: Any) -> None:
        best["x"] = np.array(e.data_out.mip_solution, dtype=float)
        best["obj"] = float(e.data_out.objective_function_value)
        best["bound"] = float(e.data_out.mip_dual_bound)

    def interrupt(e: Any) -> None:
        bound = float(e.data_out.mip_dual_bound)
        if math.isfinite(bound):
            best["bound"] = bound
        if time.perf_counter() > deadline:
            e.interrupt()

    is_mip = bool(cm.integer.any())
    if is_mip:
        h.cbMipImprovingSolution.subscribe(improving)
        h.cbMipInterrupt.subscribe(interrupt)
    h.HandleUserInterrupt = True
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    thread = start_solver_thread(h)
    cancelled = False
    while thread.is_alive():
        thread.join(0.25)
        now = time.perf_counter()
        if on_progress is not None:
            on_progress(Progress(now - t0, _add(best["obj"], cm.offset),
                                 _add(best["bound"], cm.offset), _gap(best["obj"], best["bound"])))
        if now > deadline and not cancelled:
            h.cancelSolve()
            cancelled = True
        if now > deadline + GRACE_S + 0.05 * time_limit_s:
            ABANDONED.append(thread)
            return _abandoned(best, cm, now - t0, time_limit_s)
    seconds = time.perf_counter() - t0
    return _read_result(h, cm, best, seconds, time_limit_s, is_mip)


def start_solver_thread(h: highspy.Highs) -> threading.Thread:
    """Run HiGHS in a daemon thread of our own.

    ``Highs.startSolve`` guards its thread with locks shared by *every* ``Highs`` object,
    so once a solve overran and was abandoned no other solve could start in the process.
    ``cancelSolve`` still works: it is read by the interrupt callbacks that
    ``HandleUserInterrupt`` installs, not by ``startSolve``.
    """
    base_run = highspy.highs._Highs.run
    thread = threading.Thread(target=base_run, args=(h,), daemon=True, name="highs")
    thread.start()
    return thread


def _add(x: float | None, offset: float) -> float | None:
    return None if x is None or not math.isfinite(x) else x + offset


def _gap(obj: float | None, bound: float | None) -> float | None:
    if obj is None or bound is None or not math.isfinite(bound):
        return None
    return abs(obj - bound) / max(abs(obj), 1e-9)


# Solver threads that overran their limit and were left running (see ``run_highs``).
ABANDONED: list[threading.Thread] = []


def abandoned_solves() -> list[threading.Thread]:
    return [t for t in ABANDONED if t.is_alive()]


@atexit.register
def _wait_for_abandoned() -> None:
    """A HiGHS thread still running at interpreter exit aborts the process: give the
    cancelled solves time to stop, then leave without running C++ destructors."""
    for t in abandoned_solves():
        t.join(120.0)
    if abandoned_solves():
        os._exit(70)


def _abandoned(best: dict[str, Any], cm: CompiledModel, seconds: float,
               limit: float) -> SolveResult:
    if best["x"] is None:
        return SolveResult(STATUS_NO_PLAN, seconds=seconds,
                           message=f"no plan found within {limit:g} s")
    return SolveResult(
        STATUS_TIME_LIMIT, objective=best["obj"] + cm.offset,
        bound=_add(best["bound"], cm.offset), gap=_gap(best["obj"], best["bound"]),
        seconds=seconds, values=best["x"],
        message=f"stopped at the {limit:g} s time limit; HiGHS did not stop in time, "
        "so the best plan it had found is returned",
    )


def _read_result(h: highspy.Highs, cm: CompiledModel, best: dict[str, Any], seconds: float,
                 limit: float, is_mip: bool) -> SolveResult:
    ms = h.getModelStatus()
    info = h.getInfo()
    status_enum = highspy.HighsModelStatus
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.array(h.getSolution().col_value, dtype=float) if has_solution else None
    if x is None and best["x"] is not None:
        x = best["x"]
    obj = (float(info.objective_function_value) + cm.offset) if has_solution else (
        best["obj"] + cm.offset if best["obj"] is not None else None)
    bound = float(info.mip_dual_bound) + cm.offset if is_mip and math.isfinite(
        info.mip_dual_bound) else obj
    gap = float(info.mip_gap) if is_mip and math.isfinite(info.mip_gap) else (
        0.0 if obj is not None else None)
    if ms == status_enum.kOptimal:
        return SolveResult(STATUS_OPTIMAL, obj, bound, gap, seconds, "optimal", x)
    if ms in (status_enum.kInfeasible, status_enum.kUnboundedOrInfeasible):
        return SolveResult(STATUS_INFEASIBLE, seconds=seconds, message=STATUS_WORDS[
            STATUS_INFEASIBLE])
    stopped = (status_enum.kTimeLimit, status_enum.kInterrupt, status_enum.kIterationLimit,
               status_enum.kSolutionLimit, status_enum.kObjectiveTarget)
    if ms in stopped:
        if x is None:
            return SolveResult(STATUS_NO_PLAN, seconds=seconds,
                               message=f"no plan found within {limit:g} s")
        return SolveResult(STATUS_TIME_LIMIT, obj, bound, gap, seconds,
                           f"stopped at the {limit:g} s time limit; gap "
                           f"{(gap or 0) * 100:.2f} %", x)
    return SolveResult(STATUS_ERROR, seconds=seconds,
                       message=f"HiGHS ended with status {h.modelStatusToString(ms)}")


def load_values(m: pyo.ConcreteModel, cm: CompiledModel, x: np.ndarray) -> None:
    """Write a solution vector back into the Pyomo variables (integers rounded)."""
    for j, v in enumerate(cm.columns):
        val = float(x[j])
        if cm.integer[j]:
            val = float(round(val))
        v.set_value(val, skip_validation=True)
    for v in m.component_data_objects(pyo.Var, descend_into=True):
        if v.value is None:
            lb = v.lb
            v.set_value(lb if lb is not None and lb > 0 else 0.0, skip_validation=True)
