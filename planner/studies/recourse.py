"""The worker side of a risk run: one sample's inputs and a commitment in, a small
JSON-able outcome out.

``recourse_task`` fixes the committed decisions (``models.commitment``), re-solves the rest
of the plan (the recourse), and checks it twice: the plan against its inputs
(``planner.results.check``, inside ``solve``) and the plan's early years against the
commitment, from its own tables. When no plan meets every run, the diagnosis' reach solve
(every limit strict, nothing added to the committed years, and what was ordered then
delivered at most in full: a shortfall of a committed year may leave an order short)
gives the FLOP each run can have by its ready year. Like ``solve_task`` it never raises
and does not depend on where it runs.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from models.commitment import DECISIONS, Commitment, fix_commitment
from models.sets import DEFAULT_COOLING
from planner.analysis.reach import reachable
from planner.inputs.data import PlanningData
from planner.results.tables import Plan
from planner.solving.pipeline import PlanResult, solve
from planner.solving.status import STATUS_INFEASIBLE
from planner.studies.worker import Result, crashed

MET_TOL = 1e-6  # a run meets its target when it gets (1 - MET_TOL) of it
KEEP_TOL = 1e-5  # relative tolerance when a plan's tables are held against a commitment
REACH_LIMIT_S = 120.0


# ---------------------------------------------------------------- commitments from plans


def commitment_from_plan(plan: Plan, year: int) -> Commitment:
    """The plan's decisions of the years before ``year``, read from its tables (a solved
    plan's or an exported, possibly hand-edited one's)."""
    values: dict[str, dict[tuple[Any, ...], float]] = {name: {} for name in DECISIONS}
    for name, key, value in _decisions(plan):
        if key[-1] < year and abs(value) > 0:
            values[name][key] = values[name].get(key, 0.0) + value
    return Commitment(year, {k: v for k, v in values.items() if v})


def _decisions(plan: Plan) -> Iterator[tuple[str, tuple[Any, ...], float]]:
    """Every build and purchase of a plan, as (variable, index, value in model units)."""
    for r in _rows(plan["GPUs"], "year"):
        yield "gpus_bought", (str(r.site_id), str(r.gpu_id), int(r.year)), _num(r.purchased)
    for r in _rows(plan["Power"], "year"):
        yield "power_add_mw", (str(r.site_id), str(r.source_id), int(r.year)), _num(r.mw_added)
    for r in _rows(plan["Transformers"], "year"):
        key = (str(r.site_id), str(r.transformer_id), int(r.year))
        yield "transformer_add", key, _num(r.units_added)
    for r in _rows(plan["Fiber"], "built_year"):
        yield "link_built", (str(r.link_id), int(r.built_year)), 1.0
    sites = plan["Sites"]
    cooling = {
        str(r.site_id): str(r.cooling_id)
        for r in sites.itertuples()
        if isinstance(r.cooling_id, str) and r.cooling_id
    }
    for r in _rows(plan.tables.get("SiteYears", pd.DataFrame()), "year"):
        c = cooling.get(str(r.site_id), DEFAULT_COOLING)
        yield "it_capacity_add", (str(r.site_id), c, int(r.year)), _num(r.it_added_mw)


def _rows(df: pd.DataFrame, year_column: str) -> list[Any]:
    if df is None or not len(df) or year_column not in df.columns:
        return []
    return list(df[df[year_column].notna()].itertuples())


def _num(value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0.0
    return x if math.isfinite(x) else 0.0


def commitment_breaks(plan: Plan, c: Commitment, cancelled: set[tuple[str, str]]) -> list[str]:
    """Where the plan's years before the commit year differ from the commitment (read
    from the plan's tables, not the model); ``cancelled`` decisions are not expected."""
    mine = commitment_from_plan(plan, c.year).values
    out = []
    for name in DECISIONS:
        want = {
            k: v for k, v in c.values.get(name, {}).items() if (name, str(list(k))) not in cancelled
        }
        got = mine.get(name, {})
        for key in sorted(set(want) | set(got), key=str):
            a, b = want.get(key, 0.0), got.get(key, 0.0)
            if abs(a - b) > KEEP_TOL * max(1.0, abs(a)):
                out.append(f"{name} {list(key)}: committed {a:g}, plan has {b:g}")
    return out


# ---------------------------------------------------------------- the task


def recourse_task(payload: dict[str, Any]) -> Result:
    """Solve one sample's recourse; never raises (an exception becomes ``crashed``)."""
    t0 = time.perf_counter()
    try:
        data: PlanningData = payload["data"]
        commitment: Commitment = payload["commitment"]
        cancelled: list[tuple[str, tuple[Any, ...]]] = []

        def prepare(m: pyo.ConcreteModel) -> None:
            cancelled[:] = fix_commitment(m, commitment)

        result = solve(
            data,
            mip_gap=payload.get("mip_gap"),
            time_limit_s=payload.get("time_limit_s"),
            threads=payload.get("threads", 1),
            prepare=prepare,
            infeasible_message="no plan meets every run with the committed decisions",
        )
        out = outcome(data, result, commitment, cancelled)
        if result.plan is None and result.status == STATUS_INFEASIBLE:

            def orders(m: pyo.ConcreteModel) -> None:  # what was ordered, at most
                cancelled[:] = fix_commitment(m, commitment, at_most=True)

            out.update(_reach(data, orders, payload))
            out["cancelled"] = _cancelled_words(cancelled)
    except Exception as exc:  # a bug or solver failure in one sample, not the run
        out = crashed(f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5))
        out.update({"flop": {}, "met": {}})
    out["wall_seconds"] = time.perf_counter() - t0
    return out


def outcome(
    data: PlanningData,
    result: PlanResult,
    commitment: Commitment,
    cancelled: list[tuple[str, tuple[Any, ...]]],
) -> Result:
    """The facts of one recourse solve a risk report needs."""
    res, plan = result.result, result.plan
    gone = {(name, str(list(key))) for name, key in cancelled}
    out: Result = {
        "status": res.status,
        "message": res.message,
        "objective_usd": None,
        "flop": {},
        "met": {},
        "violations": [str(v) for v in result.violations[:10]],
        "cancelled": _cancelled_words(cancelled),
        "breaks": [],
        "solve_seconds": res.seconds,
        "gpus": {},
        "sites": [],
        "tables": {},
    }
    if plan is None:
        return out
    targets = {r.run_id: r.flop for r in data.runs}
    runs = plan["Runs"]
    flop = {str(r): float(f) for r, f in zip(runs.run_id, runs.flop_delivered, strict=True)}
    gpus = plan["GPUs"]
    sy = plan["SiteYears"]
    out.update(
        {
            "objective_usd": plan.summary.get("objective_usd"),
            "flop": flop,
            "met": {r: flop.get(r, 0.0) >= t * (1 - MET_TOL) for r, t in targets.items()},
            "breaks": commitment_breaks(plan, commitment, gone)[:10],
            "gpus": {str(k): int(v) for k, v in gpus.groupby("gpu_id").purchased.sum().items()}
            if len(gpus)
            else {},
            "sites": sorted({str(s) for s in sy[sy.it_capacity_mw > 1e-6].site_id})
            if len(sy)
            else [],
        }
    )
    return out


def _cancelled_words(cancelled: list[tuple[str, tuple[Any, ...]]]) -> list[str]:
    return sorted({f"{name} {list(key)}" for name, key in cancelled})


def _reach(data: PlanningData, prepare: Any, payload: dict[str, Any]) -> Result:
    """Per run, the FLOP reachable by its ready year with every limit strict."""
    limit = payload.get("time_limit_s") or data.settings.time_limit_s
    reach = reachable(data, time_limit_s=min(float(limit), REACH_LIMIT_S), prepare=prepare)
    if not reach.solved:
        return {
            "flop": {},
            "met": {},
            "reach_solved": False,
            "message": "no plan meets every run with the committed decisions, and the "
            "reach solve found no answer in time (the committed decisions may break "
            "this sample's limits)",
        }
    targets = {r.run_id: (r.flop, r.ready_year) for r in data.runs}
    met = {r: reach.flop.get(r, 0.0) >= f * (1 - MET_TOL) for r, (f, _) in targets.items()}
    short = [
        f"{r}: at most {reach.flop.get(r, 0.0):.3g} of {f:.3g} FLOP by {y}"
        for r, (f, y) in targets.items()
        if not met[r]
    ]
    return {
        "flop": reach.flop,
        "met": met,
        "reach_solved": True,
        "message": "; ".join(short) or "no plan meets every run together",
    }
