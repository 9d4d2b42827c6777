"""Python API for notebooks and the CLI: load, solve, get DataFrames, export.

    >>> from planner import api
    >>> data = api.load("inputs/reference.xlsx")
    >>> result = api.solve(data)
    >>> result.plan["GPUs"].head()
    >>> api.export(result, "outputs/reference-plan.xlsx")

``api.plan`` is the whole flow of ``planner plan``: solve (with a reviewer's locks when
given), then explain the plan's binding limits or diagnose why there is none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.locks import LockError
from planner.analysis.diagnose import diagnose
from planner.analysis.explain import explained
from planner.analysis.review import read_locks, review_locks
from planner.inputs.data import PlanningData
from planner.inputs.problems import InputError, Problem
from planner.inputs.validate import load_workbook
from planner.results.export import write_plan
from planner.solving.pipeline import PlanResult, count_columns, solve
from planner.solving.status import STATUS_INFEASIBLE, Progress

if TYPE_CHECKING:
    from planner.results.tables import Plan
    from planner.studies.risk import RiskResult

__all__ = ["PlanResult", "count_columns", "export", "load", "plan", "read_plan", "risk", "solve"]

Echo = Callable[[str], Any]


def load(path: Path | str) -> PlanningData:
    """Read and validate a workbook (raises ``InputError`` listing every problem)."""
    return load_workbook(path)


def plan(
    data: PlanningData,
    *,
    lock: Path | None = None,
    mip_gap: float | None = None,
    time_limit_s: float | None = None,
    threads: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    echo: Echo = print,
    diagnose_infeasible: bool = True,
) -> PlanResult:
    """Solve for ``planner plan``: with the locks of a reviewed plan when ``lock`` is given,
    then the ``Constraints`` sheet (binding limits) for a plan, or the ``Diagnosis``
    sheet (printed too) when the workbook is infeasible. Export with ``export``."""
    if lock is not None:
        try:
            report = review_locks(
                data,
                read_locks(lock),
                mip_gap=mip_gap,
                time_limit_s=time_limit_s,
                threads=threads,
                keep_model=True,
            )
        except LockError as exc:  # a lock the inputs do not allow is bad input (exit 1)
            raise InputError([Problem(lock.name, p) for p in exc.problems]) from None
        for line in report.lines:
            echo(line)
        result = report.locked
    else:
        result = solve(
            data,
            mip_gap=mip_gap,
            time_limit_s=time_limit_s,
            threads=threads,
            on_progress=on_progress,
            keep_model=True,
        )
    if result.plan is not None and result.model is not None and result.compiled is not None:
        return explained(result, warn=echo)
    if result.status == STATUS_INFEASIBLE and diagnose_infeasible and lock is None:
        dg = diagnose(data, time_limit_s=time_limit_s)
        for line in dg.lines:
            echo(line)
        return dataclasses.replace(
            result, extra_sheets={**result.extra_sheets, "Diagnosis": dg.table}
        )
    return result


def export(result: PlanResult, out: Path | str, *, inputs: Path | None = None) -> Path:
    """Write the plan workbook atomically; returns where it went."""
    return write_plan(result, Path(out), inputs=inputs)


def read_plan(path: Path | str) -> Plan:
    """An exported (possibly hand-edited) plan workbook's tables."""
    from planner.results.export import read_plan as read

    return read(path)


def risk(data: PlanningData, **options: Any) -> RiskResult:
    """``planner risk``: commit the plan's early decisions, sample the ``Uncertainty``
    sheet and re-plan the rest per sample (``planner.studies.risk.run_risk`` options)."""
    from planner.studies.risk import run_risk

    return run_risk(data, **options)
