"""Python API for notebooks and the CLI: load, solve, get DataFrames, export.

    >>> from planner import api
    >>> data = api.load("inputs/reference.xlsx")
    >>> result = api.solve(data)
    >>> result.plan["GPUs"].head()
    >>> api.export(result, "outputs/reference-plan.xlsx")
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from models.build import LARGE_COUNTS, build_model
from models.neighbourhood import site_columns
from models.sets import ModelData, build_model_data
from planner.check import Violation, check_plan
from planner.data import PlanningData
from planner.plan import Plan, cost_split, extract_plan
from planner.solve import (
    STATUS_ERROR,
    STATUS_INFEASIBLE,
    STATUS_OPTIMAL,
    CompiledModel,
    Progress,
    SolveResult,
    compile_model,
    load_values,
    solve_compiled,
)
from planner.validate import load_workbook


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


def load(path: Path | str) -> PlanningData:
    """Read and validate a workbook (raises ``InputError`` listing every problem)."""
    return load_workbook(path)


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
) -> PlanResult:
    """Build, solve and check; the plan is attached when one was found.

    ``prepare`` may change the built model before it is handed to HiGHS (e.g.
    ``models.locks.fix_locks`` for reviewed decisions); ``compiler`` hands it to HiGHS
    (``planner.reuse.ReusingCompiler`` reuses matrices across study scenarios)."""
    st = data.settings
    gap = st.mip_gap if mip_gap is None else mip_gap
    limit = st.time_limit_s if time_limit_s is None else time_limit_s
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    md = build_model_data(data)
    m = build_model(md)
    timings["build_s"] = time.perf_counter() - t0
    if m.unreachable_runs:
        names = ", ".join(m.unreachable_runs)
        res = SolveResult(STATUS_INFEASIBLE, message=f"infeasible: no GPU can be bought, "
                          f"allowed and hosted by the ready year of run(s) {names}")
        return PlanResult(data, res, timings=timings, model=m if keep_model else None)
    if prepare is not None:
        prepare(m)
    t1 = time.perf_counter()
    cm = compiler(m)
    timings["handoff_s"] = time.perf_counter() - t1
    # The time limit is the user's wall-clock budget: building the model spends part of it.
    left = max(limit - (time.perf_counter() - t0), 0.01)
    res = solve_compiled(cm, mip_gap=gap, time_limit_s=left, threads=threads,
                         on_progress=on_progress, counts=count_columns(cm),
                         limit_label_s=limit, sites=site_columns(cm.columns, md))
    timings["solve_s"] = res.seconds
    out = PlanResult(data, res, timings=timings, model_size=cm.size,
                     coefficient_range=cm.coefficient_range(),
                     model=m if keep_model else None, compiled=cm if keep_model else None)
    if res.has_plan and res.values is not None:
        finish_plan(out, m, md, cm, res)
    return out


def count_columns(cm: CompiledModel) -> np.ndarray:
    """Mask of the integer columns with huge domains (see ``models.LARGE_COUNTS``)."""
    return np.array([v.parent_component().name in LARGE_COUNTS for v in cm.columns],
                    dtype=bool)


def finish_plan(out: PlanResult, m: pyo.ConcreteModel, md: ModelData, cm: CompiledModel,
                res: SolveResult) -> None:
    """Load the solution, extract the tables, and check them independently."""
    assert res.values is not None
    t = time.perf_counter()
    load_values(m, cm, res.values)
    plan = extract_plan(m, md)
    plan.summary = summary_facts(out.data, res, plan)
    out.timings["extract_s"] = time.perf_counter() - t
    t = time.perf_counter()
    out.violations = check_plan(out.data, plan)
    out.timings["check_s"] = time.perf_counter() - t
    out.plan = plan
    if out.violations and res.status == STATUS_OPTIMAL:
        # A plan that fails the independent check is never called optimal.
        res.status = STATUS_ERROR
        res.message = (f"the solver's plan fails the independent check "
                       f"({len(out.violations)} violation(s)); numerical trouble")


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
        "peak_facility_mw": float(
            plan["SiteYears"].groupby("year").facility_mw.sum().max()
        ) if len(plan["SiteYears"]) else 0.0,
    }


def export(result: PlanResult, out: Path | str, *, inputs: Path | None = None) -> Path:
    """Write the plan workbook atomically; returns where it went."""
    from planner.export import write_plan

    return write_plan(result, Path(out), inputs=inputs)
