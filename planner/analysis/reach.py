"""The diagnosis' reach, on its own: per run, the FLOP it can get by its ready year with
every limit strict (only the runs' FLOP may fall short), for callers that change the
elastic model first (``planner risk`` fixes the decisions a plan already committed).

    min sum_r w_r * short_r / F_r   s.t. every limit of the workbook, FLOP_r + short_r >= F_r
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from models.build import build_model
from models.elastic import add_elastic, loosen
from models.sets import FLOP_UNIT, ModelData, build_model_data
from planner.inputs.data import PlanningData
from planner.solving.compiled import compile_model, load_values
from planner.solving.pipeline import count_columns
from planner.solving.strategy import solve_compiled


@dataclass
class Reach:
    """The FLOP each run can get by its ready year with every limit strict."""

    solved: bool  # False: no answer in time (every run then counts 0)
    flop: dict[str, float]  # FLOP per run
    unreachable: list[str]  # runs no GPU can serve at all


def reachable(
    data: PlanningData,
    *,
    time_limit_s: float,
    mip_gap: float = 1e-4,
    prepare: Callable[[pyo.ConcreteModel], object] | None = None,
    d: ModelData | None = None,
) -> Reach:
    """The reach solve; ``prepare`` may change the elastic model before it is solved."""
    d = d or build_model_data(data)
    m = build_model(build_model_data(loosen(data)))
    terms = add_elastic(m, d, relax_limits=False, relax_leads=False, relax_runs=True)
    if prepare is not None:
        prepare(m)
    ok = _solve(m, time_limit_s, mip_gap)
    delivered: dict[str, float] = {}
    for t in terms:
        if t.family == "run_flop":
            short = _value(t.var) if ok else t.limit
            delivered[t.index[0]] = max(0.0, t.limit - short) * FLOP_UNIT
    unreachable = list(m.unreachable_runs)
    for r in unreachable:
        delivered[r] = 0.0
    return Reach(ok, delivered, unreachable)


def _solve(m: pyo.ConcreteModel, time_limit_s: float, mip_gap: float) -> bool:
    cm = compile_model(m)
    res = solve_compiled(
        cm, mip_gap=mip_gap, time_limit_s=max(time_limit_s, 1.0), counts=count_columns(cm)
    )
    if not res.has_plan or res.values is None:
        return False
    load_values(m, cm, res.values)
    return True


def _value(v: Any) -> float:
    x = pyo.value(v, exception=False)
    return 0.0 if x is None else float(x)
