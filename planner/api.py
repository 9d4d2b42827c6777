"""Python API for notebooks and the CLI: load, solve, get DataFrames, export.

    >>> from planner import api
    >>> data = api.load("inputs/reference.xlsx")
    >>> result = api.solve(data)
    >>> result.plan["GPUs"].head()
    >>> api.export(result, "outputs/reference-plan.xlsx")

``api.plan`` is the whole flow of ``planner plan``: solve (with a reviewer's locks when
given), then explain the plan's binding limits or diagnose why there is none.
``api.frontier`` answers how big one run can be (``planner frontier``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.locks import LockError
from planner.analysis.diagnose import diagnose
from planner.analysis.explain import explained
from planner.analysis.frontier import DEFAULT_POINTS, FrontierResult, Solver
from planner.analysis.frontier import frontier as _frontier
from planner.analysis.frontier_book import write_frontier
from planner.analysis.keep import parse_keep
from planner.analysis.review import read_locks, review_locks
from planner.inputs.data import PlanningData
from planner.inputs.problems import InputError, Problem
from planner.inputs.validate import load_workbook
from planner.results.export import write_plan
from planner.solving.pipeline import PlanResult, count_columns, export_s, solve
from planner.solving.status import STATUS_INFEASIBLE, Progress
from planner.studies.frontier import question_inputs

__all__ = [
    "FrontierResult",
    "PlanResult",
    "alternatives",
    "count_columns",
    "export",
    "export_frontier",
    "frontier",
    "load",
    "plan",
    "read_plan",
    "risk",
    "solve",
]
if TYPE_CHECKING:
    from planner.results.tables import Plan
    from planner.studies.alternatives import AlternativesResult
    from planner.studies.risk import RiskResult

Echo = Callable[[str], Any]
# The diagnosis of an infeasible workbook: at most this long unless a limit is given,
# and at least this long even when the limit is spent (it explains what is wrong).
DIAGNOSE_DEFAULT_S = 120.0
MIN_DIAGNOSE_S = 0.5


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
    spent_s: float = 0.0,
    keep: Sequence[str] = (),
) -> PlanResult:
    """Solve for ``planner plan``: with the locks of a reviewed plan when ``lock`` is given,
    then the ``Constraints`` sheet (binding limits) for a plan, or the ``Diagnosis``
    sheet (printed too) when the workbook is infeasible. ``keep``: ``SHEET[:ROW_ID]``
    limits the diagnosis must not move (checked first: a bad one is ``InputError``).
    Export with ``export``.

    The wall-clock limit covers all of it and the export after, less ``spent_s`` seconds
    already spent before the call (the CLI's start-up and reading)."""
    keeps = parse_keep(data, keep)
    limit = data.settings.time_limit_s if time_limit_s is None else time_limit_s
    deadline = time.perf_counter() + limit - spent_s
    if lock is not None:
        result = _solve_locked(data, lock, mip_gap, time_limit_s, threads, echo, spent_s)
    else:
        result = solve(
            data,
            mip_gap=mip_gap,
            time_limit_s=time_limit_s,
            threads=threads,
            on_progress=on_progress,
            keep_model=True,
            spent_s=spent_s,
        )
    if result.plan is not None and result.model is not None and result.compiled is not None:
        return explained(result, warn=echo, deadline=deadline - export_s(result.timings))
    if result.status == STATUS_INFEASIBLE and diagnose_infeasible and lock is None:
        left = deadline - time.perf_counter()
        left = left if time_limit_s is not None else min(left, DIAGNOSE_DEFAULT_S)
        dg = diagnose(data, time_limit_s=max(left, MIN_DIAGNOSE_S), keep=keeps, threads=threads)
        for line in dg.lines:
            echo(line)
        return dataclasses.replace(
            result, extra_sheets={**result.extra_sheets, "Diagnosis": dg.table}
        )
    return result


def _solve_locked(
    data: PlanningData,
    lock: Path,
    mip_gap: float | None,
    time_limit_s: float | None,
    threads: int | None,
    echo: Echo,
    spent_s: float,
) -> PlanResult:
    """The plan with a reviewer's locks (``planner plan --lock``); its review printed."""
    try:
        report = review_locks(
            data,
            read_locks(lock),
            mip_gap=mip_gap,
            time_limit_s=time_limit_s,
            threads=threads,
            keep_model=True,
            spent_s=spent_s,
        )
    except LockError as exc:  # a lock the inputs do not allow is bad input (exit 1)
        raise InputError([Problem(lock.name, p) for p in exc.problems]) from None
    for line in report.lines:
        echo(line)
    return report.locked


def export(result: PlanResult, out: Path | str, *, inputs: Path | None = None) -> Path:
    """Write the plan workbook atomically; returns where it went."""
    return write_plan(result, Path(out), inputs=inputs)


def frontier(
    data: PlanningData,
    run_id: str,
    *,
    scenario: str | None = None,
    ready_year: int | None = None,
    alone: bool = False,
    budget_usd: float | None = None,
    points: int = DEFAULT_POINTS,
    earliest: bool = False,
    mip_gap: float | None = None,
    time_limit_s: float | None = None,
    threads: int | None = None,
    echo: Echo = print,
) -> FrontierResult:
    """For ``planner frontier``: the most FLOP run ``run_id`` can get (within
    ``budget_usd``), the least-cost curve up to it and, with ``earliest``, the first
    ready year its target is feasible; after the named ``scenario``, the run moved to
    ``ready_year`` and, if ``alone``, the other runs left out. Export with
    ``export_frontier``."""
    asked = question_inputs(data, run_id, scenario=scenario, ready_year=ready_year, alone=alone)
    solver = Solver(mip_gap=mip_gap, time_limit_s=time_limit_s, threads=threads)
    result = _frontier(
        asked,
        run_id,
        budget_usd=budget_usd,
        points=points,
        earliest=earliest,
        solver=solver,
        echo=echo,
    )
    result.question = {
        "scenario": scenario,
        "ready_year": ready_year,
        "alone": alone,
        "budget_usd": budget_usd,
        "points": points,
        "earliest": earliest,
        "mip_gap": mip_gap,
        "time_limit_s": time_limit_s,
    }
    return result


def export_frontier(result: FrontierResult, out: Path | str, *, inputs: Path | None = None) -> Path:
    """Write the frontier workbook atomically; returns where it went."""
    return write_frontier(result, Path(out), inputs=inputs)


def alternatives(
    data: PlanningData, *, by: str = "site", slack: float = 0.05, count: int = 4, **kw: Any
) -> AlternativesResult:
    """``planner alternatives``: the optimum, up to ``count`` plans within ``slack`` of
    its cost that differ most in ``by`` (site, country, vendor), and the cheapest plan
    without each country and vendor the optimum relies on. ``workers=0`` (the default
    here) solves in this process; ``planner.studies.alternatives.run_alternatives``
    lists the other options. ``alternatives_table(result)`` in
    ``planner.studies.alternatives_report`` is the ``Alternatives`` sheet."""
    from planner.studies.alternatives import run_alternatives

    kw.setdefault("workers", 0)
    return run_alternatives(data, by=by, slack=slack, count=count, **kw)


def read_plan(path: Path | str) -> Plan:
    """An exported (possibly hand-edited) plan workbook's tables."""
    from planner.results.export import read_plan as read

    return read(path)


def risk(data: PlanningData, **options: Any) -> RiskResult:
    """``planner risk``: commit the plan's early decisions, sample the ``Uncertainty``
    sheet and re-plan the rest per sample (``planner.studies.risk.run_risk`` options)."""
    from planner.studies.risk import run_risk

    return run_risk(data, **options)
