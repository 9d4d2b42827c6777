"""What binds a plan and what each binding limit is worth, in the workbook's own units.

After the MIP, the structural decisions (binaries: sites' cooling, hosts, members, links)
are fixed at the plan's values while the large counts (GPUs, transformer units) stay
continuous, and the LP is re-solved with HiGHS. Its row duals are the marginal value of
each limit: the change of the discounted total cost per unit of the limit. Counts are
left continuous on purpose: fixing them would freeze every supply limit and report zero.

Rows are mapped back to Pyomo constraints through ``CompiledModel.rows``; the compiler may
scale or negate a row, so the factor between the compiled row and the Pyomo constraint is
measured from one coefficient of each row (``_row_scale``) instead of being assumed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from models.registry import FAMILIES, PRICED, Family, variables_where
from models.sets import MUSD, ModelData, build_model_data
from planner.solving.compiled import CompiledModel, copy_lp, without_implied_rows
from planner.solving.pipeline import PlanResult
from planner.solving.sparse import Compressed

COLUMNS = [
    "family",
    "instance",
    "limit_cell",
    "limit_value",
    "used",
    "slack",
    "shadow_price",
    "unit",
    "reading",
    "impact_usd",
]
# Families priced, and the variables the pricing LP treats apart: ``models.registry``.
PRICED_FAMILIES = tuple(f.name for f in PRICED)
COUNT_VARS = variables_where("priced_continuous")
IMPLIED_BOUNDS = variables_where("implied_bound")
DUAL_TOL = 1e-9  # MUSD per unit: below this a dual is zero
SLACK_TOL = 1e-6  # relative: a limit within this of its use binds
MIN_PRICING_S = 0.1  # the pricing LP is not started with less time than this left


@dataclass
class PricedRow:
    """One Pyomo constraint as the pricing LP sees it."""

    family: str
    index: tuple[Any, ...]
    dual: float  # HiGHS row dual: d(objective, MUSD) / d(compiled rhs)
    slack_c: float  # distance of the compiled row from its bound (compiled units)
    scale: float  # compiled row = scale x Pyomo row (sign included)


def binding_constraints(
    result: PlanResult, *, include_slack: bool = False, deadline: float | None = None
) -> pd.DataFrame:
    """Binding limits of a solved plan, priced in workbook units and ranked by impact.

    ``result`` must come from ``planner.api.solve(..., keep_model=True)`` with a plan.
    ``include_slack`` also lists the limits that do not bind (zero shadow price). The
    pricing LP stops at ``deadline`` (``time.perf_counter()``), raising RuntimeError.
    """
    m, cm, values = result.model, result.compiled, result.result.values
    if m is None or cm is None or values is None:
        raise ValueError("binding_constraints needs a plan solved with keep_model=True")
    priced = price_rows(m, cm, values, deadline=deadline)
    d = build_model_data(result.data)
    rows = [_describe(d, m, p) for p in priced]
    out = [r for r in rows if r is not None]
    if not include_slack:
        out = [r for r in out if r["binding"]]
    df = pd.DataFrame(out, columns=[*COLUMNS, "binding"])
    df = df.sort_values(
        ["impact_usd", "family", "instance"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    return df[COLUMNS] if not include_slack else df


def explained(
    result: PlanResult,
    *,
    top: int = 3,
    warn: Callable[[str], Any] = print,
    deadline: float | None = None,
) -> PlanResult:
    """``result`` with its ``Constraints`` sheet and the top ``top`` binding limits (run
    targets last) in ``plan.summary["top_constraints"]``; unchanged, with a warning, when
    the pricing LP fails or ``deadline`` (``time.perf_counter()``) comes first: that must
    never lose the plan, nor break the time limit."""
    if result.plan is None:
        return result
    if deadline is not None and time.perf_counter() > deadline - MIN_PRICING_S:
        warn("warning: binding constraints not computed: the time limit is spent")
        return result
    try:
        table = binding_constraints(result, deadline=deadline)
    except RuntimeError as exc:
        warn(f"warning: binding constraints not computed: {exc}")
        return result
    summary = {**result.plan.summary, "top_constraints": top_readings(table, top)}
    return dataclasses.replace(
        result,
        plan=dataclasses.replace(result.plan, summary=summary),
        extra_sheets={**result.extra_sheets, "Constraints": table},
    )


def top_readings(df: pd.DataFrame, top: int = 3) -> list[str]:
    """Readings of the most valuable binding limits; run targets only to fill up."""
    priced = df[df.shadow_price.abs() > 0]
    limits = priced[priced.family != "run_flop"]
    runs = priced[priced.family == "run_flop"]
    chosen = pd.concat([limits, runs]).head(top)
    return [f"{r.limit_cell}: {r.reading}" for r in chosen.itertuples()]


# ---- the pricing LP ---------------------------------------------------------------------
def pricing_lp(cm: CompiledModel, values: np.ndarray) -> Any:
    """A continuous copy of the LP with the plan's structural integers fixed."""
    count = np.array([v.parent_component().name in COUNT_VARS for v in cm.columns], dtype=bool)
    fixed = cm.integer & ~count
    lp = copy_lp(cm.lp, np.zeros(len(cm.columns), dtype=bool))
    lower = np.array(cm.lp.col_lower_, dtype=float)
    upper = np.array(cm.lp.col_upper_, dtype=float)
    # Upper bounds that merely repeat a limit row (max_mw, max_it_mw, what a site can
    # hold) would take the row's dual when both bind: drop them so the row carries it.
    implied = np.array(
        [v.parent_component().name in IMPLIED_BOUNDS for v in cm.columns], dtype=bool
    )
    upper[implied & ~fixed] = highspy.kHighsInf
    lower[fixed] = upper[fixed] = np.round(values[fixed])
    lp.col_lower_, lp.col_upper_ = lower, upper
    return without_implied_rows(lp, cm)


def solve_lp(
    lp: Any, time_limit_s: float | None = None
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Objective (without offset), column values, row values, row duals."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(time_limit_s, 0.01))
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"pricing LP not optimal: {h.modelStatusToString(h.getModelStatus())}")
    sol = h.getSolution()
    return (
        float(h.getInfo().objective_function_value),
        np.array(sol.col_value),
        np.array(sol.row_value),
        np.array(sol.row_dual),
    )


def price_rows(
    m: pyo.ConcreteModel,
    cm: CompiledModel,
    values: np.ndarray,
    families: tuple[str, ...] = PRICED_FAMILIES,
    deadline: float | None = None,
) -> list[PricedRow]:
    """Duals and slacks of the rows of the chosen constraint families."""
    lp = pricing_lp(cm, values)
    _, _, act, duals = solve_lp(lp, None if deadline is None else deadline - time.perf_counter())
    csr = _csr(cm)
    col_of = cm.column_at
    lower, upper = np.array(cm.lp.row_lower_), np.array(cm.lp.row_upper_)
    out = []
    for i, (con, kind) in enumerate(cm.rows):
        fam = con.parent_component().name
        if fam not in families:
            continue
        scale = _row_scale(con, csr, i, cm, col_of)
        if kind > 0:
            slack = upper[i] - act[i]
        elif kind < 0:
            slack = act[i] - lower[i]
        else:
            slack = 0.0
        idx = con.index()
        out.append(
            PricedRow(
                fam,
                idx if isinstance(idx, tuple) else (idx,),
                float(duals[i]),
                float(max(slack, 0.0)),
                scale,
            )
        )
    return out


def _csr(cm: CompiledModel) -> Compressed:
    """The compiled matrix by rows."""
    a = cm.lp.a_matrix_
    shape = (int(cm.lp.num_row_), int(cm.lp.num_col_))
    by_column = Compressed(
        np.asarray(a.start_), np.asarray(a.index_), np.asarray(a.value_), shape, True
    )
    return by_column.transposed_compression()


def _row_scale(
    con: Any, csr: Compressed, i: int, cm: CompiledModel, col_of: dict[int, int]
) -> float:
    """Compiled row i = scale x (Pyomo body): compare one coefficient of the two."""
    start, end = csr.indptr[i], csr.indptr[i + 1]
    if start == end:
        return 1.0
    repn = generate_standard_repn(con.body, compute_values=True)
    coef = {id(v): c for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True)}
    for k in range(start, end):
        j = int(csr.indices[k])
        c = coef.get(id(cm.columns[j]))
        if c:
            return float(csr.data[k]) / float(c)
    return 1.0


# ---- workbook units ---------------------------------------------------------------------
def _describe(d: ModelData, m: pyo.ConcreteModel, p: PricedRow) -> dict[str, Any] | None:
    """Limit, use, slack, price and reading of one row in workbook units (the family's
    cell, units and words come from ``models.registry``)."""
    fam = FAMILIES[p.family]
    idx = p.index
    if fam.in_plan is not None and not fam.in_plan(m, d, idx):
        return None  # e.g. a link not built: its bandwidth is not a limit of this plan
    limit = float(fam.solved_limit(m, idx) if fam.solved_limit else fam.limit_value(d, idx))
    display = fam.workbook_per_price
    upper = fam.relax != "target"  # False: a target to reach, not a cap
    per_unit = p.scale * fam.per_price(d)  # d(compiled rhs) / d(price unit), sign included
    price = p.dual * per_unit * MUSD
    if abs(price) < DUAL_TOL * MUSD:
        price = 0.0
    slack = p.slack_c / abs(per_unit) * display if per_unit else 0.0
    used = limit - slack if upper else limit + slack
    # Binding: priced, or exactly at a limit that is actually used (a zero limit with
    # nothing used and no price is noise, e.g. transformers at a site with no grid power).
    at_limit = slack <= SLACK_TOL * max(abs(limit), 1.0)
    binding = price != 0.0 or (at_limit and abs(used) > SLACK_TOL * max(abs(limit), 1.0))
    # What is reported is the plan's own reading (its whole counts), not the pricing LP's.
    if fam.solved_use is not None:
        used = fam.solved_use(m, d, idx)
        slack = limit - used
    elif (plan_slack := _plan_slack(m, fam, idx, d)) is not None:
        slack = plan_slack
        used = limit - slack if upper else limit + slack
    what = fam.what(d, idx) if fam.what else fam.limits
    return {
        "family": fam.name,
        "instance": fam.name_of(d, idx),
        "limit_cell": fam.cell(d, idx) + (f" + {fam.limit_also}" if fam.limit_also else ""),
        "limit_value": limit,
        "used": used,
        "slack": slack,
        "shadow_price": price,
        "unit": fam.price_unit,
        "reading": _reading(what, price, upper),
        "impact_usd": abs(price) * abs(limit) / display,
        "binding": binding,
    }


def _plan_slack(
    m: pyo.ConcreteModel, fam: Family, idx: tuple[Any, ...], d: ModelData
) -> float | None:
    """The row's slack at the plan's values, in workbook units (None when the row is not
    in the model): upper limit minus body for a cap, body minus lower for a target."""
    comp = getattr(m, fam.name, None)
    key = idx if len(idx) > 1 else idx[0]
    if comp is None or key not in comp:
        return None
    con = comp[key]
    body = pyo.value(con.body, exception=False)
    bound = con.upper if fam.relax != "target" else con.lower
    if body is None or bound is None:
        return None
    gap = pyo.value(bound) - body if fam.relax != "target" else body - pyo.value(bound)
    return float(gap) / fam.per_price(d) * fam.workbook_per_price


def _reading(what: str, price: float, upper: bool) -> str:
    if price == 0.0:
        return f"at its limit, but {what} would change nothing at the margin"
    verb = "save" if price < 0 else "cost"
    return f"{what} would {verb} {money(abs(price))} (discounted)"


def money(usd: float) -> str:
    """1.9 M USD, 12,300 USD, 2.35 B USD."""
    a = abs(usd)
    if a >= 1e9:
        return f"{usd / 1e9:,.3g} B USD"
    if a >= 1e6:
        return f"{usd / 1e6:,.3g} M USD"
    if a >= 1e3:
        return f"{float(f'{usd:.3g}'):,.0f} USD"
    if a >= 1:
        return f"{usd:,.3g} USD"
    return f"{usd:.2g} USD" if a else "0 USD"
