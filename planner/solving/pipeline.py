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
    STATUS_OPTIMAL,
    Progress,
    SolveResult,
)
from planner.solving.strategy import solve_compiled


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
) -> PlanResult:
    """Build, solve and check; the plan is attached when one was found.

    ``prepare`` may change the built model before it is handed to HiGHS (e.g.
    ``models.locks.fix_locks`` for reviewed decisions); ``compiler`` hands it to HiGHS
    (``planner.solving.reuse.ReusingCompiler`` reuses matrices across study scenarios);
    ``infeasible_message`` says why in the caller's terms when no plan exists;
    ``model_data`` is built from ``data`` unless given (``models.frontier`` gives one
    with a run's ceiling)."""
    st = data.settings
    gap = st.mip_gap if mip_gap is None else mip_gap
    limit = st.time_limit_s if time_limit_s is None else time_limit_s
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    md = build_model_data(data) if model_data is None else model_data
    m = build_model(md)
    timings["build_s"] = time.perf_counter() - t0
    if m.unreachable_runs:
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
    if prepare is not None:
        prepare(m)
    t1 = time.perf_counter()
    cm = compiler(m)
    timings["handoff_s"] = time.perf_counter() - t1
    # The time limit is the user's wall-clock budget: building the model spends part of it.
    left = max(limit - (time.perf_counter() - t0), 0.01)
    res = solve_compiled(
        cm,
        mip_gap=gap,
        time_limit_s=left,
        threads=threads,
        on_progress=on_progress,
        counts=count_columns(cm),
        limit_label_s=limit,
        sites=site_columns(cm.columns, md, cm.rows),
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
