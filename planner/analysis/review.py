"""The review loop: lock decisions marked in an exported plan, re-optimize, and diff plans.

A reviewer adds a ``lock`` column to a plan's sheets and marks rows (``x``, ``yes``,
``1``, ``TRUE``...). Locked rows become fixed decisions:

* Sites: the site is built in ``built_year`` (not before) with ``cooling_id``, with at
  least the IT capacity the plan had online that year (SiteYears),
* GPUs: ``purchased`` GPUs of ``gpu_id`` at ``site_id`` in ``year``,
* Fiber: the link is built in ``built_year``,
* Power: ``mw_added`` MW of ``source_id`` at ``site_id`` in ``year``,
* Transformers: ``units_added`` units in ``year``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from models.locks import Locks, fix_locks
from planner.inputs.data import PlanningData
from planner.results.tables import Plan
from planner.solving.pipeline import PlanResult, solve
from planner.solving.status import STATUS_OPTIMAL

TRUTHY = {"1", "x", "y", "yes", "true", "lock", "locked", "✓", "1.0"}
LOCK_COLUMN = "lock"


def is_locked(value: Any) -> bool:
    if value is None or (isinstance(value, float) and value != value):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return str(value).strip().lower() in TRUTHY


def _records(df: pd.DataFrame) -> list[Any]:
    """Rows as attribute records (typed ``Any``: plan sheets may be hand-edited)."""
    return list(df.itertuples())


def _locked(df: pd.DataFrame) -> pd.DataFrame:
    col = next((c for c in df.columns if str(c).strip().lower() == LOCK_COLUMN), None)
    if col is None:
        return df.iloc[0:0]
    return df[df[col].map(is_locked)]


def locks_from_plan(plan: Plan) -> Locks:
    """The decisions marked in the ``lock`` column of a plan's sheets."""
    locks = Locks()
    site_years = plan.tables.get("SiteYears", pd.DataFrame())
    for r in _records(_locked(plan["Sites"])):
        if r.built_year is None or pd.isna(r.built_year):
            continue
        y = int(r.built_year)
        cap = None
        if len(site_years):
            sy = site_years[(site_years.site_id == r.site_id) & (site_years.year == y)]
            if len(sy) and not pd.isna(sy.iloc[0].it_capacity_mw):
                cap = float(sy.iloc[0].it_capacity_mw)
        cooling = None if r.cooling_id is None or pd.isna(r.cooling_id) else str(r.cooling_id)
        locks.sites.append((str(r.site_id), y, cooling, cap))
    for r in _records(_locked(plan["GPUs"])):
        locks.gpus.append((str(r.site_id), str(r.gpu_id), int(r.year), int(r.purchased)))
    for r in _records(_locked(plan["Fiber"])):
        locks.fiber.append((str(r.link_id), int(r.built_year)))
    for r in _records(_locked(plan["Power"])):
        locks.power.append((str(r.site_id), str(r.source_id), int(r.year), float(r.mw_added)))
    for r in _records(_locked(plan["Transformers"])):
        locks.transformers.append(
            (str(r.site_id), str(r.transformer_id), int(r.year), int(r.units_added))
        )
    return locks


def read_locks(path: Path | str) -> Locks:
    from planner.results.export import read_plan

    return locks_from_plan(read_plan(path))


def solve_locked(
    data: PlanningData,
    locks: Locks,
    *,
    mip_gap: float | None = None,
    time_limit_s: float | None = None,
    threads: int | None = None,
    keep_model: bool = False,
    spent_s: float = 0.0,
) -> PlanResult:
    """Solve with the locked decisions fixed (``models.locks.fix_locks``)."""
    return solve(
        data,
        mip_gap=mip_gap,
        time_limit_s=time_limit_s,
        threads=threads,
        keep_model=keep_model,
        spent_s=spent_s,
        prepare=lambda m: fix_locks(m, locks),
        infeasible_message="infeasible with the locked decisions: no plan keeps every lock",
    )


@dataclass
class LockReport:
    locked: PlanResult
    free: PlanResult
    locks: Locks
    lines: list[str] = field(default_factory=list)

    @property
    def lock_cost_usd(self) -> float | None:
        return _lock_cost(self.locked, self.free)


def review_locks(
    data: PlanningData, locks: Locks, *, spent_s: float = 0.0, **solve_kw: Any
) -> LockReport:
    """Re-optimize with the locks, and compare with the free optimum. The two solves
    share one wall-clock limit, less ``spent_s`` seconds already spent: the locked plan
    (the one exported) gets half of what is left, the free optimum the rest."""

    limit = solve_kw.get("time_limit_s") or data.settings.time_limit_s
    t0 = time.perf_counter()
    locked = solve_locked(data, locks, spent_s=spent_s + (limit - spent_s) / 2, **solve_kw)
    spent_s += time.perf_counter() - t0
    free = solve(data, spent_s=spent_s, **{k: v for k, v in solve_kw.items() if k != "keep_model"})
    if locked.plan is not None:
        free_usd = free.result.objective * 1e6 if free.result.objective is not None else None
        summary = {
            **locked.plan.summary,
            "lock_cost_usd": _lock_cost(locked, free),
            "lock_cost_proven": locked.status == STATUS_OPTIMAL and free.status == STATUS_OPTIMAL,
            "free_objective_usd": free_usd,
        }
        locked = dataclasses.replace(locked, plan=dataclasses.replace(locked.plan, summary=summary))
    report = LockReport(locked, free, locks)
    report.lines.append(
        f"{len(locks)} locked decision(s): {len(locks.sites)} site(s), "
        f"{len(locks.gpus)} GPU purchase(s), {len(locks.fiber)} link(s), "
        f"{len(locks.power)} power build(s), "
        f"{len(locks.transformers)} transformer build(s)"
    )
    report.lines.append(lock_cost_words(locked, free))
    return report


def _lock_cost(locked: PlanResult, free: PlanResult) -> float | None:
    a, b = locked.result.objective, free.result.objective
    return None if a is None or b is None else (a - b) * 1e6


def _lock_cost_range(locked: PlanResult, free: PlanResult) -> tuple[float, float] | None:
    """What the locks cost at least and at most, in USD, from each solve's plan and bound:
    the locked optimum lies in [locked bound, locked plan], the free one in [free bound,
    free plan], so their difference lies in [locked bound - free plan, locked plan - free
    bound]. None without both plans and both bounds."""
    a, b = locked.result, free.result
    if None in (a.objective, a.bound, b.objective, b.bound):
        return None
    low = max(0.0, (float(a.bound) - float(b.objective)) * 1e6)  # type: ignore[arg-type]
    high = (float(a.objective) - float(b.bound)) * 1e6  # type: ignore[arg-type]
    return low, max(low, high)


def lock_cost_words(locked: PlanResult, free: PlanResult) -> str:
    """The locks' cost in words; unless both solves proved optimal, as a difference of
    plans with the range their bounds prove."""
    from planner.analysis.explain import money

    cost = _lock_cost(locked, free)
    if cost is None:
        return f"locked plan: {locked.result.words}; free plan: {free.result.words}"
    proven = locked.status == STATUS_OPTIMAL and free.status == STATUS_OPTIMAL
    free_words = "free optimum" if proven else "free plan"
    free_usd = money(free.result.objective * 1e6)  # type: ignore[operator]
    line = f"the locks cost {money(cost)} (discounted) over the {free_words} of {free_usd}"
    span = _lock_cost_range(locked, free)
    if not proven:
        line += f" (locked plan: {locked.result.words}; free plan: {free.result.words}"
        line += ", so this is a difference of plans, not of optima"
        if span is not None:
            line += f"; the locks cost between {money(span[0])} and {money(span[1])}"
        line += ")"
    return line


# ---- diff -------------------------------------------------------------------------------
DIFF_COLUMNS = ["area", "item", "a", "b", "change"]


def diff(plan_a: Plan, plan_b: Plan, tol: float = 1e-6) -> pd.DataFrame:
    """What changed from plan A to plan B: sites, links, GPUs, MW, cost by category."""
    rows: list[tuple[str, str, Any, Any, Any]] = []

    def site_map(p: Plan) -> dict[str, tuple[Any, Any, float]]:
        out = {}
        for r in _records(p["Sites"]):
            if r.built_year is not None and not pd.isna(r.built_year):
                out[str(r.site_id)] = (
                    int(r.built_year),
                    r.cooling_id,
                    float(r.it_capacity_mw or 0.0),
                )
        return out

    sa, sb = site_map(plan_a), site_map(plan_b)
    for s in sorted(set(sa) | set(sb)):
        sa_s, sb_s = sa.get(s), sb.get(s)
        if sa_s is None or sb_s is None:
            rows.append(
                (
                    "site",
                    s,
                    _site_words(sa_s),
                    _site_words(sb_s),
                    "added" if sa_s is None else "dropped",
                )
            )
        elif sa_s[:2] != sb_s[:2] or abs(sa_s[2] - sb_s[2]) > tol * max(1.0, sa_s[2]):
            rows.append(
                ("site", s, _site_words(sa_s), _site_words(sb_s), round(sb_s[2] - sa_s[2], 6))
            )

    def link_map(p: Plan) -> dict[str, int]:
        return {str(r.link_id): int(r.built_year) for r in _records(p["Fiber"])}

    la, lb = link_map(plan_a), link_map(plan_b)
    for lk in sorted(set(la) | set(lb)):
        if la.get(lk) != lb.get(lk):
            change = "added" if lk not in la else "dropped" if lk not in lb else "moved"
            rows.append(("link", lk, la.get(lk), lb.get(lk), change))

    for area, sheet, keys, value in (
        ("GPUs", "GPUs", ["gpu_id", "year"], "purchased"),
        ("MW", "Power", ["source_id", "year"], "mw_added"),
        ("cost", "Costs", ["category"], "nominal_usd"),
    ):
        ga = _sum_by(plan_a[sheet], keys, value)
        gb = _sum_by(plan_b[sheet], keys, value)
        for k in sorted(set(ga) | set(gb)):
            a, b = ga.get(k, 0.0), gb.get(k, 0.0)
            if abs(a - b) > tol * max(1.0, abs(a), abs(b)):
                rows.append((area, " ".join(map(str, k)), a, b, b - a))
    ta = plan_a.summary.get("objective_usd")
    tb = plan_b.summary.get("objective_usd")
    if ta is not None and tb is not None and abs(float(ta) - float(tb)) > tol * abs(float(ta)):
        rows.append(
            ("cost", "objective_usd (discounted)", float(ta), float(tb), float(tb) - float(ta))
        )
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def _site_words(x: tuple[Any, Any, float] | None) -> str | None:
    return None if x is None else f"built {x[0]}, {x[1]}, {x[2]:,.1f} MW"


def _sum_by(df: pd.DataFrame, keys: list[str], value: str) -> dict[tuple[Any, ...], float]:
    if df is None or not len(df):
        return {}
    clean = df.dropna(subset=keys)
    out: dict[tuple[Any, ...], float] = {}
    for k, v in clean.groupby(keys)[value].sum().items():
        key = k if isinstance(k, tuple) else (k,)
        out[tuple(int(x) if isinstance(x, float) and x.is_integer() else x for x in key)] = float(v)
    return out
