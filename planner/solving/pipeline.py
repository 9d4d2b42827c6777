"""Build, hand off, solve, extract and check: one flow, whose status is decided once.

``solve`` is the core of every plan: ``planner.api.plan`` adds the explanation or the
diagnosis on top, studies and the analyses call it for their own variants (locks,
scenarios). Nothing downstream rewrites the status decided here (``decide_status``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from models.build import LARGE_COUNTS, build_model
from models.neighbourhood import site_columns
from models.sets import ModelData, build_model_data
from planner.inputs.data import PlanningData
from planner.results.check import Violation, check_plan
from planner.results.tables import Plan, cost_split
from planner.solving.compiled import CompiledModel, compile_model, load_values
from planner.solving.extract import extract_plan
from planner.solving.status import (
    STATUS_ERROR,
    STATUS_INFEASIBLE,
    STATUS_NO_PLAN,
    STATUS_OPTIMAL,
    Progress,
    SolveResult,
)
from planner.solving.strategy import solve_compiled

# What follows the solve is Python over the same rows and columns as the build, so it is
# budgeted in build times (300 sites, 1.3-1.6 s to build and hand over: extract 0.4-1.0
# s, check 0.1, binding limits 1.2-1.6 s, export 0.3 s). That much of the wall-clock
# limit is kept for it, plus the solve's own stop (a cancel is seen within 0.25 s).
AFTER_SOLVE_PER_BUILD = 0.8  # extract, check and export
EXPLAIN_PER_BUILD = 0.9  # the binding limits (pricing LP), skipped when out of time
AFTER_SOLVE_S = 0.5


def after_solve_s(timings: dict[str, float], *, explain: bool = True) -> float:
    """Seconds kept for the work after the solve, from the build's own timings."""
    built = timings.get("build_s", 0.0) + timings.get("handoff_s", 0.0)
    per_build = AFTER_SOLVE_PER_BUILD + (EXPLAIN_PER_BUILD if explain else 0.0)
    return per_build * built + AFTER_SOLVE_S


def export_s(timings: dict[str, float]) -> float:
    """Seconds kept for writing the plan workbook, the last part of ``after_solve_s``
    (300 sites: 0.3 s after a 1.3 s build)."""
    built = timings.get("build_s", 0.0) + timings.get("handoff_s", 0.0)
    return 0.5 * built + 0.1


@dataclass
class PlanResult:
    """Everything a solve produced: status, plan tables, the independent check."""

    data: PlanningData
    result: SolveResult
    plan: Plan | None = None
    violations: list[Violation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    model_size: dict[str, int] = field(default_factory=dict)
    coefficient_range: tuple[float, float] = (0.0, 0.0)
    model: pyo.ConcreteModel | None = None
    compiled: CompiledModel | None = None
    # Sheets added by explanations: Constraints (binding limits), Diagnosis (infeasible).
    extra_sheets: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def ok(self) -> bool:
        return self.plan is not None and not self.violations


def solve(
    data: PlanningData,
    *,
    mip_gap: float | None = None,
    time_limit_s: float | None = None,
    threads: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    keep_model: bool = False,
    prepare: Callable[[pyo.ConcreteModel], None] | None = None,
    compiler: Callable[[pyo.ConcreteModel], CompiledModel] = compile_model,
    infeasible_message: str | None = None,
    model_data: ModelData | None = None,
    spent_s: float = 0.0,
) -> PlanResult:
    """Build, solve and check; the plan is attached when one was found.

    ``prepare`` may change the built model before it is handed to HiGHS (e.g.
    ``models.locks.fix_locks`` for reviewed decisions); ``compiler`` hands it to HiGHS
    (``planner.solving.reuse.ReusingCompiler`` reuses matrices across study scenarios);
    ``infeasible_message`` says why in the caller's terms when no plan exists;
    ``model_data`` is built from ``data`` unless given (``models.frontier`` gives one
    with a run's ceiling). ``spent_s``: seconds of the wall-clock limit already spent
    before this call (the CLI's start-up and reading); the rest is shared by the build,
    the solve and what follows it (``after_solve_s``)."""
    st = data.settings
    gap = st.mip_gap if mip_gap is None else mip_gap
    limit = st.time_limit_s if time_limit_s is None else time_limit_s
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    deadline = t0 + limit - spent_s
    try:
        md, m, cm = build_and_hand_over(data, prepare, compiler, timings, deadline, model_data)
    except OutOfTime:
        res = SolveResult(STATUS_NO_PLAN, seconds=time.perf_counter() - t0)
        res.message = f"no plan found within {limit:g} s"
        return PlanResult(data, res, timings=timings)
    if cm is None:
        return unreachable(data, m, timings, infeasible_message, keep_model)
    # The time limit is the user's wall-clock budget: what came before, the build and what
    # follows the solve spend part of it. While there is no plan, the solve may also use
    # the time kept for the binding limits (which need a plan).
    keep, must = after_solve_s(timings), after_solve_s(timings, explain=False)
    left = max(deadline - time.perf_counter() - keep, 0.01)
    res = solve_compiled(
        cm,
        mip_gap=gap,
        time_limit_s=left,
        threads=threads,
        on_progress=on_progress,
        counts=count_columns(cm),
        limit_label_s=limit,
        sites=site_columns(cm.columns, md, cm.rows),
        extension_s=keep - must,
    )
    timings["solve_s"] = res.seconds
    plan: Plan | None = None
    violations: list[Violation] = []
    if res.has_plan and res.values is not None:
        plan, violations = extract_and_check(data, m, md, cm, res.values, timings)
    res = decide_status(res, violations, infeasible_message)
    if plan is not None:
        plan.summary = summary_facts(data, res, plan) | plan.summary
    return PlanResult(
        data,
        res,
        plan,
        violations,
        timings,
        model_size=cm.size,
        coefficient_range=cm.coefficient_range(),
        model=m if keep_model else None,
        compiled=cm if keep_model else None,
    )


class OutOfTime(Exception):
    """The wall-clock limit passed before the solve could start."""


def build_and_hand_over(
    data: PlanningData,
    prepare: Callable[[pyo.ConcreteModel], None] | None,
    compiler: Callable[[pyo.ConcreteModel], CompiledModel],
    timings: dict[str, float],
    deadline: float,
    model_data: ModelData | None = None,
) -> tuple[ModelData, pyo.ConcreteModel, CompiledModel | None]:
    """The model and its compiled form (None when a run is unreachable: no solve is
    needed), the clock checked between the steps of the build: past ``deadline``
    (``time.perf_counter()``) it raises ``OutOfTime`` instead of building on."""

    def on_time() -> None:
        if time.perf_counter() > deadline:
            raise OutOfTime

    t0 = time.perf_counter()
    md = build_model_data(data) if model_data is None else model_data
    on_time()
    m = build_model(md, step=on_time)
    timings["build_s"] = time.perf_counter() - t0
    if m.unreachable_runs:
        return md, m, None
    if prepare is not None:
        prepare(m)
    on_time()
    t1 = time.perf_counter()
    cm = compiler(m)
    timings["handoff_s"] = time.perf_counter() - t1
    on_time()
    return md, m, cm


def unreachable(
    data: PlanningData,
    m: pyo.ConcreteModel,
    timings: dict[str, float],
    infeasible_message: str | None,
    keep_model: bool,
) -> PlanResult:
    """Infeasible without a solve: a run no GPU can serve by its ready year."""
    names = ", ".join(m.unreachable_runs)
    res = SolveResult(
        STATUS_INFEASIBLE,
        message=f"infeasible: no GPU can be bought, "
        f"allowed and hosted by the ready year of run(s) {names}",
    )
    return PlanResult(
        data,
        decide_status(res, [], infeasible_message),
        timings=timings,
        model=m if keep_model else None,
    )


def count_columns(cm: CompiledModel) -> np.ndarray:
    """Mask of the integer columns with huge domains (see ``models.LARGE_COUNTS``)."""
    return np.array([v.parent_component().name in LARGE_COUNTS for v in cm.columns], dtype=bool)


def extract_and_check(
    data: PlanningData,
    m: pyo.ConcreteModel,
    md: ModelData,
    cm: CompiledModel,
    x: np.ndarray,
    timings: dict[str, float],
) -> tuple[Plan, list[Violation]]:
    """Load the solution, extract the tables, and check them independently."""
    t = time.perf_counter()
    load_values(m, cm, x)
    plan = extract_plan(m, md)
    timings["extract_s"] = time.perf_counter() - t
    t = time.perf_counter()
    violations = check_plan(data, plan)
    timings["check_s"] = time.perf_counter() - t
    return plan, violations


def decide_status(
    res: SolveResult, violations: list[Violation], infeasible_message: str | None = None
) -> SolveResult:
    """The one place a plan's status is decided: a plan that fails the independent check
    is never called optimal."""
    if violations and res.status == STATUS_OPTIMAL:
        return dataclasses.replace(
            res,
            status=STATUS_ERROR,
            message=f"the solver's plan fails the independent check "
            f"({len(violations)} violation(s)); numerical trouble",
        )
    if res.status == STATUS_INFEASIBLE and infeasible_message:
        return dataclasses.replace(res, message=infeasible_message)
    return res


def summary_facts(data: PlanningData, res: SolveResult, plan: Plan) -> dict[str, Any]:
    split = cost_split(plan["Costs"])
    gpus = plan["GPUs"]
    return {
        "status": res.status,
        "status_words": res.words,
        "message": res.message,
        "objective_usd": (res.objective or 0.0) * 1e6 if res.objective is not None else None,
        "bound_usd": res.bound * 1e6 if res.bound is not None else None,
        "mip_gap": res.gap,
        "solve_seconds": res.seconds,
        **split,
        "total_gpus_purchased": int(gpus.purchased.sum()) if len(gpus) else 0,
        "peak_facility_mw": float(plan["SiteYears"].groupby("year").facility_mw.sum().max())
        if len(plan["SiteYears"])
        else 0.0,
    }
