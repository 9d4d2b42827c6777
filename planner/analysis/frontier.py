"""The frontier of one run: how big it can be, what each size costs, from which year.

Three answers about run r, every other run still met:

* the **maximum** F*: the most FLOP r can get by its ready year, its own target no
  floor, within a budget when given (the model: ``models.frontier``). What binds it is
  read from the maximum's own duals, at the plan's structural decisions: the FLOP one
  more unit of each limit would add (``limits_at_maximum``);
* the **curve**: least-cost plans for targets log-spaced from r's target (or F*/100
  when the target is out of reach) up to F*, each with the limit that binds it (the
  most valuable priced row of its explanation, ``planner.analysis.explain``). The
  last point re-solves F* as a normal plan, so the maximum passes the independent check
  (``planner.results.check``) like any plan;
* the **earliest** ready year in the horizon at which r's target is feasible, and the
  diagnosis of the year before (``planner.analysis.diagnose``).

"Every other run still met" is first tried without r at all: when those runs alone have
no plan, or cost more than the budget, there is no frontier (status ``infeasible``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.frontier import add_frontier, frontier_inputs, frontier_model_data
from models.linear import coefficients
from models.registry import FAMILIES
from models.sets import FLOP_UNIT, MUSD, ModelData
from planner.analysis.diagnose import diagnose
from planner.analysis.explain import PRICED_FAMILIES, explained, price_rows
from planner.inputs.data import PlanningData
from planner.inputs.problems import InputError, Problem
from planner.results.tables import Plan, cost_split
from planner.solving.compiled import copy_lp, without_implied_rows
from planner.solving.pipeline import PlanResult, solve
from planner.solving.status import STATUS_INFEASIBLE, STATUS_NO_PLAN

Echo = Callable[[str], Any]
OK, INFEASIBLE, NO_PLAN, UNVERIFIED = "ok", "infeasible", "no_plan", "unverified"
DEFAULT_POINTS = 8
CURVE_START_SHARE = 0.01  # the curve's first point when the target is out of reach
BUDGET_BINDS = 1e-3  # relative: a plan this close to the budget spends all of it
BUDGET = "frontier_budget"
GAIN_TOL = 1e-6  # relative to F*: a limit adding less FLOP in all does not bind
RUN_COUNTS = ("gpus_single", "gpus_multi")  # GPUs serving runs (models/runs.py)
POINT_COLUMNS = [
    "point",
    "flop",
    "cost_usd",
    "cost_delta_usd",
    "added_cost_usd",
    "usd_per_1e24_flop",
    "binding_limit",
    "binding_cell",
    "shadow_price",
    "unit",
    "run_gpus",
    "sites",
    "status",
    "note",
]
LIMIT_COLUMNS = ["family", "instance", "limit_cell", "limit_value", "flop_per_unit", "unit"]
LIMIT_COLUMNS += ["reading", "flop_impact"]


@dataclass(frozen=True)
class Solver:
    """Settings every solve of a frontier shares (None: the workbook's)."""

    mip_gap: float | None = None
    time_limit_s: float | None = None
    threads: int | None = None

    def solve(self, data: PlanningData, **kw: Any) -> PlanResult:
        return solve(
            data,
            mip_gap=self.mip_gap,
            time_limit_s=self.time_limit_s,
            threads=self.threads,
            **kw,
        )


@dataclass
class Point:
    """One least-cost plan on the curve."""

    flop: float
    status: str
    cost_usd: float | None = None
    binding: str = ""
    cell: str = ""
    shadow_price: float | None = None
    unit: str = ""
    gpus: str = ""
    sites: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.cost_usd is not None


@dataclass
class Maximum:
    """The most FLOP the run can get: F*, the solve's status and gap, the plan's
    discounted cost, and what binds it."""

    flop: float
    status: str
    gap: float | None = None
    cost_usd: float | None = None
    budget_binds: bool = False
    limits: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LIMIT_COLUMNS))
    message: str = ""


@dataclass
class Earliest:
    """The earliest ready year at which the run's target is feasible (None: none in
    the horizon), the years tried, and the diagnosis of the year before."""

    year: int | None
    tried: pd.DataFrame
    before: str = ""


@dataclass
class FrontierResult:
    data: PlanningData
    run_id: str
    status: str
    message: str = ""
    budget_usd: float | None = None
    others_cost_usd: float | None = None
    maximum: Maximum | None = None
    points: list[Point] = field(default_factory=list)
    earliest: Earliest | None = None
    lines: list[str] = field(default_factory=list)
    question: dict[str, Any] = field(default_factory=dict)  # how it was asked (About)

    def table(self) -> pd.DataFrame:
        """The ``Frontier`` sheet: one row per point of the curve."""
        return frontier_table(self.points, self.others_cost_usd)


# ---- checks of the question -------------------------------------------------------------
def check_question(data: PlanningData, run_id: str, budget_usd: float | None, points: int) -> None:
    """``InputError`` (exit 1) for a run the workbook lacks, a budget that is not a
    positive finite number of USD, or fewer than one point."""
    problems = []
    runs = [r.run_id for r in data.runs]
    if run_id not in runs:
        problems.append(
            Problem("Runs", f"--run {run_id!r} names no run; the runs are {', '.join(runs)}")
        )
    if budget_usd is not None and not (math.isfinite(budget_usd) and budget_usd > 0):
        problems.append(
            Problem("--budget", f"{budget_usd!r} is not a budget: give a positive amount of USD")
        )
    if points < 1:
        problems.append(Problem("--points", f"{points} points: give at least 1"))
    if problems:
        raise InputError(problems)


# ---- the whole question -----------------------------------------------------------------
def frontier(
    data: PlanningData,
    run_id: str,
    *,
    budget_usd: float | None = None,
    points: int = DEFAULT_POINTS,
    earliest: bool = False,
    solver: Solver | None = None,
    echo: Echo = print,
) -> FrontierResult:
    """The maximum, the curve and (``earliest``) the earliest year of run ``run_id``."""
    check_question(data, run_id, budget_usd, points)
    solver = solver or Solver()
    out = FrontierResult(data, run_id, OK, budget_usd=budget_usd)
    if not _others_met(out, solver, echo):
        return out
    out.maximum = mx = maximum(data, run_id, budget_usd, solver)
    _say(out, echo, _maximum_line(out, mx))
    if mx.status == STATUS_NO_PLAN or mx.flop <= 0:
        out.status = NO_PLAN if mx.status == STATUS_NO_PLAN else INFEASIBLE
        out.message = mx.message
    else:
        _curve_to(out, mx, points, solver, echo)
    if earliest:
        out.earliest = earliest_year(data, run_id, solver, echo)
    return out


def _curve_to(out: FrontierResult, mx: Maximum, n: int, solver: Solver, echo: Echo) -> None:
    """The curve from the run's target (or a small run) up to F*; its last point, a
    normal plan at F*, is the maximum's independent check."""
    target = next(r.flop for r in out.data.runs if r.run_id == out.run_id)
    start = target if target < mx.flop else mx.flop * CURVE_START_SHARE
    out.points = curve(out.data, out.run_id, curve_targets(start, mx.flop, n), solver, echo)
    out.points[0].note = "target" if start == target else "small run"
    last = out.points[-1]
    last.note = "maximum" + (", budget binds" if mx.budget_binds else "")
    if not last.ok:
        out.status = UNVERIFIED
        out.message = f"the maximum {mx.flop:.4g} FLOP did not re-solve as a plan: {last.status}"
        out.lines.append(out.message)


def _say(out: FrontierResult, echo: Echo, line: str) -> None:
    out.lines.append(line)
    echo(line)


def _others_met(out: FrontierResult, solver: Solver, echo: Echo) -> bool:
    """Solve the other runs alone (no run ``out.run_id``): their cost, or why the
    frontier has no answer (``out.status`` infeasible or no_plan)."""
    data, r = out.data, out.run_id
    others = dataclasses.replace(data, runs=[x for x in data.runs if x.run_id != r])
    if not others.runs:
        out.others_cost_usd = 0.0
        return True
    res = solver.solve(others)
    if res.plan is None:
        out.status = INFEASIBLE if res.status == STATUS_INFEASIBLE else NO_PLAN
        why = "no plan meets their FLOP within the limits"
        if res.status != STATUS_INFEASIBLE:
            why = res.result.message or res.result.words
        out.message = f"the other runs cannot be met even with run {r} at zero ({why})"
        out.lines.append(out.message)
        if res.status == STATUS_INFEASIBLE:
            for line in diagnose(others, time_limit_s=solver.time_limit_s).lines[:3]:
                _say(out, echo, f"why: {line}")
        return False
    out.others_cost_usd = cost = cost_split(res.plan["Costs"])["discounted_total_usd"]
    _say(out, echo, f"the other runs alone cost {_busd(cost)} (discounted), run {r} left out")
    # Below the solve's proven bound, no plan of the other runs fits the budget.
    least = min(cost, res.result.bound * MUSD) if res.result.bound is not None else cost
    if out.budget_usd is not None and least > out.budget_usd:
        out.status = INFEASIBLE
        out.message = (
            f"the budget of {_busd(out.budget_usd)} is below the {_busd(cost)} the other "
            f"runs cost alone: nothing is left for run {r}"
        )
        out.lines.append(out.message)
        return False
    return True


def _maximum_line(out: FrontierResult, mx: Maximum) -> str:
    if mx.status == STATUS_NO_PLAN or mx.flop <= 0:
        return f"run {out.run_id}: no maximum ({mx.message})"
    gap = f", gap {mx.gap * 100:.2g} %" if mx.gap is not None else ""
    spend = f"; the plan costs {_busd(mx.cost_usd)}" if mx.cost_usd is not None else ""
    budget = f" (the budget of {_busd(out.budget_usd)} binds)" if mx.budget_binds else ""
    return f"run {out.run_id}: at most {mx.flop:.4g} FLOP ({mx.status}{gap}){spend}{budget}"


def _busd(usd: float | None) -> str:
    return "-" if usd is None else f"{usd / 1e9:,.3f} B USD"


# ---- the maximum ------------------------------------------------------------------------
def maximum(data: PlanningData, run_id: str, budget_usd: float | None, solver: Solver) -> Maximum:
    """F*: the model of ``models.frontier`` solved by the phased solve."""
    md = frontier_model_data(data, run_id)
    budget = None if budget_usd is None else budget_usd / MUSD
    res = solver.solve(
        md.inputs,
        model_data=md,
        prepare=lambda m: add_frontier(m, md, run_id, budget),
        keep_model=True,
    )
    if res.plan is None:
        words = res.result.message or res.result.words
        unreachable = res.model is not None and res.model.unreachable_runs
        if res.status == STATUS_INFEASIBLE and budget_usd is not None and not unreachable:
            words = f"no plan that meets the other runs fits the budget of {_busd(budget_usd)}"
        return Maximum(0.0, res.status, message=words)
    flop = delivered(res.plan, run_id)
    if flop <= 0:
        why = "the budget leaves nothing for it" if budget_usd is not None else "it gets no GPU"
        return Maximum(0.0, STATUS_INFEASIBLE, message=f"run {run_id} can get no FLOP: {why}")
    cost = cost_split(res.plan["Costs"])["discounted_total_usd"]
    binds = budget_usd is not None and cost >= budget_usd * (1 - BUDGET_BINDS)
    limits = limits_at_maximum(res, md, run_id, budget_usd, flop)
    return Maximum(flop, res.status, res.result.gap, cost, binds, limits, res.result.message)


def delivered(plan: Plan, run_id: str) -> float:
    """FLOP the plan delivers to a run (its ``Runs`` row)."""
    runs = plan["Runs"]
    hit = runs[runs.run_id == run_id]
    return float(hit.flop_delivered.iloc[0]) if len(hit) else 0.0


def limits_at_maximum(
    res: PlanResult, md: ModelData, run_id: str, budget_usd: float | None, flop: float
) -> pd.DataFrame:
    """What binds F*: the duals of the maximum without its tie-break, at the plan's
    structural decisions (GPU counts continuous: ``explain.pricing_lp``). For a limit
    in price units u, ``flop_per_unit`` = -dual x (row units per u) x 1e24: the FLOP one
    more unit would add to the run (other runs' targets: take away). Ranked by
    ``flop_impact`` = |flop_per_unit| x |limit|."""
    m, cm, values = res.model, res.compiled, res.result.values
    if m is None or cm is None or values is None:
        return pd.DataFrame(columns=LIMIT_COLUMNS)
    pure = without_implied_rows(copy_lp(cm.lp, cm.integer), cm)
    cost = np.zeros(len(cm.columns))
    col_of = cm.column_at
    into: dict[int, list[Any]] = {}
    coefficients([(-1.0, m.run_flop_delivered[run_id])], into)
    for key, (_, coef) in into.items():
        cost[col_of[key]] = coef
    pure.col_cost_ = cost
    # The run's GPU counts are bounded by what a site holds, which repeats the site's
    # limit rows: without the bounds the rows carry the duals (as explain does).
    upper = np.array(pure.col_upper_, dtype=float)
    upper[[v.parent_component().name in RUN_COUNTS for v in cm.columns]] = np.inf
    pure.col_upper_ = upper
    try:
        priced = price_rows(m, dataclasses.replace(cm, lp=pure), values, (*PRICED_FAMILIES, BUDGET))
    except RuntimeError:
        return pd.DataFrame(columns=LIMIT_COLUMNS)
    rows = [_limit_row(md, m, p, run_id, budget_usd) for p in priced]
    df = pd.DataFrame([r for r in rows if r is not None], columns=LIMIT_COLUMNS)
    df = df[df.flop_impact > GAIN_TOL * flop]
    return df.sort_values("flop_impact", ascending=False, kind="stable").reset_index(drop=True)


def _limit_row(
    md: ModelData, m: Any, p: Any, run_id: str, budget_usd: float | None
) -> dict[str, Any] | None:
    """One priced row of the maximum in workbook units (``_describe`` of explain, with
    FLOP for money); the budget is quoted per B USD."""
    if p.family == BUDGET:
        per_unit, limit, cell = p.scale * 1e3, (budget_usd or 0.0), "--budget"
        name, what, unit = "budget", "one more B USD of budget", "FLOP per B USD"
        display = 1e9
    else:
        fam = FAMILIES[p.family]
        if fam.in_plan is not None and not fam.in_plan(m, md, p.index):
            return None
        per_unit = p.scale * fam.per_price(md)
        limit = float(fam.limit_value(md, p.index))
        cell, name = fam.cell(md, p.index), fam.name_of(md, p.index)
        what = fam.what(md, p.index) if fam.what else fam.limits
        unit, display = fam.price_unit.replace("USD", "FLOP"), fam.workbook_per_price
    gain = -p.dual * per_unit * FLOP_UNIT
    if abs(gain) < 1e-12 * FLOP_UNIT:
        return None
    verb = "add" if gain > 0 else "take"
    reading = f"{what} would {verb} {abs(gain):.3g} FLOP {'to' if gain > 0 else 'from'} {run_id}"
    return {
        "family": p.family,
        "instance": name,
        "limit_cell": cell,
        "limit_value": limit,
        "flop_per_unit": gain,
        "unit": unit,
        "reading": reading,
        "flop_impact": abs(gain) * abs(limit) / display,
    }


# ---- the curve --------------------------------------------------------------------------
def curve_targets(start: float, stop: float, n: int) -> list[float]:
    """``n`` targets from ``start`` to ``stop``, log-spaced, inner ones to 3 digits."""
    if n <= 1 or start >= stop * (1 - 1e-9):
        return [stop]
    inner = [float(f"{v:.3g}") for v in np.geomspace(start, stop, n)[1:-1]]
    return [start, *inner, stop]


def curve(
    data: PlanningData, run_id: str, targets: list[float], solver: Solver, echo: Echo
) -> list[Point]:
    """A least-cost plan, and what binds it, at each target."""
    points = []
    for i, flop in enumerate(targets, start=1):
        pt = point(data, run_id, flop, solver)
        cost = f"{_busd(pt.cost_usd)}" if pt.ok else pt.status
        echo(f"point {i}/{len(targets)}: {flop:.3g} FLOP: {cost}; binding {pt.cell or '-'}")
        points.append(pt)
    return points


def point(data: PlanningData, run_id: str, flop: float, solver: Solver) -> Point:
    """The least-cost plan with the run's target set to ``flop``."""
    res = solver.solve(frontier_inputs(data, run_id, flop), keep_model=True)
    if res.plan is None or res.violations:
        return Point(flop, res.status)
    plan = res.plan
    res = explained(res, warn=lambda _line: None)
    pt = Point(flop, res.status, cost_split(plan["Costs"])["discounted_total_usd"])
    _binding(pt, res.extra_sheets.get("Constraints"), run_id)
    _run_use(pt, plan, run_id)
    return pt


def _binding(pt: Point, table: pd.DataFrame | None, run_id: str) -> None:
    """The most valuable priced limit other than the runs' targets; else one at its
    limit with no price; else the run's own target (what one more 1e24 FLOP costs)."""
    if table is None:
        pt.binding = "not computed (the pricing LP failed)"
        return
    limits = table[table.family != "run_flop"]
    priced = limits[limits.shadow_price.abs() > 0]
    own = table[(table.family == "run_flop") & (table.instance == run_id)]
    row = priced.iloc[0] if len(priced) else limits.iloc[0] if len(limits) else None
    if row is None and len(own):  # no limit binds: the target's own price
        row = own.iloc[0]
    if row is None:
        pt.binding = "only the runs' targets"
        return
    pt.binding, pt.cell = str(row.reading), str(row.limit_cell)
    pt.shadow_price, pt.unit = float(row.shadow_price), str(row.unit)


def _run_use(pt: Point, plan: Plan, run_id: str) -> None:
    """The run's GPUs by type and its sites in the plan."""
    use = plan["RunGPUs"]
    use = use[(use.run_id == run_id) & (use.gpus > 0)]
    by_type = use.groupby("gpu_id", sort=True).gpus.sum()
    pt.gpus = ", ".join(f"{int(n):,} {g}" for g, n in by_type.items())
    runs = plan["Runs"]
    pt.sites = str(runs[runs.run_id == run_id].sites.iloc[0]) if len(runs) else ""


def frontier_table(points: list[Point], others_usd: float | None) -> pd.DataFrame:
    """One row per point: FLOP, discounted cost, its change from the point before and
    per 1e24 FLOP, the cost above the other runs alone, what binds, the run's GPUs."""
    rows = []
    prev: Point | None = None
    for i, pt in enumerate(points, start=1):
        delta = per = None
        if pt.ok and prev is not None and prev.ok:
            delta = (pt.cost_usd or 0.0) - (prev.cost_usd or 0.0)
            step = (pt.flop - prev.flop) / FLOP_UNIT
            per = delta / step if step > 0 else None
        added = (pt.cost_usd or 0.0) - others_usd if pt.ok and others_usd is not None else None
        rows.append(
            [i, pt.flop, pt.cost_usd, delta, added, per, pt.binding, pt.cell]
            + [pt.shadow_price, pt.unit, pt.gpus, pt.sites, pt.status, pt.note]
        )
        prev = pt
    return pd.DataFrame(rows, columns=POINT_COLUMNS)


# ---- the earliest year ------------------------------------------------------------------
def with_ready_year(data: PlanningData, run_id: str, year: int) -> PlanningData:
    """``data`` with the run ready in ``year``."""
    runs = [
        r.model_copy(update={"ready_year": year}) if r.run_id == run_id else r for r in data.runs
    ]
    return dataclasses.replace(data, runs=runs)


def earliest_year(data: PlanningData, run_id: str, solver: Solver, echo: Echo) -> Earliest:
    """The first year of the horizon whose least-cost plan meets the run's target with
    the run ready then (the other runs unchanged); the diagnosis of the year before (of
    ``end_year`` when no year works)."""
    st = data.settings
    tried: list[list[Any]] = []
    found = None
    for y in range(st.start_year, st.end_year + 1):
        res = solver.solve(with_ready_year(data, run_id, y))
        ok = res.plan is not None and not res.violations
        cost = cost_split(res.plan["Costs"])["discounted_total_usd"] if ok and res.plan else None
        tried.append([y, res.status, cost])
        echo(f"ready {y}: {res.status}" + (f", {_busd(cost)}" if ok else ""))
        if ok:
            found = y
            break
    before = ""
    if found is None or found > st.start_year:
        year = st.end_year if found is None else found - 1
        dg = diagnose(with_ready_year(data, run_id, year), time_limit_s=solver.time_limit_s)
        cell = data.cells.cell("Runs", (run_id,), "flop")
        mine = [line for line in dg.lines if line.startswith(cell)]
        before = (mine or dg.lines or [""])[0]
    table = pd.DataFrame(tried, columns=["ready_year", "status", "cost_usd"])
    return Earliest(found, table, before)
