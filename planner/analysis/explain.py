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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from models.network import GBPS_PER_TBPS
from models.sets import FLOP_UNIT, MUSD, gpu_resource
from planner.inputs.data import PlanningData
from planner.solving.compiled import CompiledModel, copy_lp
from planner.solving.pipeline import PlanResult

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
FAMILIES = (
    "run_flop",
    "compute_cowos_supply",
    "compute_hbm_supply",
    "compute_gpu_supply",
    "transformer_supply",
    "transformer_capacity",
    "site_max_it",
    "power_max_mw",
    "network_link_bandwidth",
)
# Integer variables left continuous in the pricing LP (their domains are counts).
COUNT_VARS = ("gpus_bought", "gpus_single", "gpus_multi", "transformer_add")
# Variables whose upper bounds are implied by limit rows (see ``pricing_lp``).
IMPLIED_BOUNDS = ("power_add_mw", "it_capacity_add", "it_load_mw", "gpus_bought", "transformer_add")
DUAL_TOL = 1e-9  # MUSD per unit: below this a dual is zero
SLACK_TOL = 1e-6  # relative: a limit within this of its use binds


@dataclass
class PricedRow:
    """One Pyomo constraint as the pricing LP sees it."""

    family: str
    index: tuple[Any, ...]
    dual: float  # HiGHS row dual: d(objective, MUSD) / d(compiled rhs)
    slack_c: float  # distance of the compiled row from its bound (compiled units)
    scale: float  # compiled row = scale x Pyomo row (sign included)


def binding_constraints(result: PlanResult, *, include_slack: bool = False) -> pd.DataFrame:
    """Binding limits of a solved plan, priced in workbook units and ranked by impact.

    ``result`` must come from ``planner.api.solve(..., keep_model=True)`` with a plan.
    ``include_slack`` also lists the limits that do not bind (zero shadow price).
    """
    m, cm, values = result.model, result.compiled, result.result.values
    if m is None or cm is None or values is None:
        raise ValueError("binding_constraints needs a plan solved with keep_model=True")
    priced = price_rows(m, cm, values)
    rows = [_describe(result.data, m, p) for p in priced]
    out = [r for r in rows if r is not None]
    if not include_slack:
        out = [r for r in out if r["binding"]]
    df = pd.DataFrame(out, columns=[*COLUMNS, "binding"])
    df = df.sort_values(
        ["impact_usd", "family", "instance"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    return df[COLUMNS] if not include_slack else df


def explained(
    result: PlanResult, *, top: int = 3, warn: Callable[[str], Any] = print
) -> PlanResult:
    """``result`` with its ``Constraints`` sheet and the top ``top`` binding limits (run
    targets last) in ``plan.summary["top_constraints"]``; unchanged, with a warning, when
    the pricing LP fails (that must never lose the plan)."""
    if result.plan is None:
        return result
    try:
        table = binding_constraints(result)
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
    return lp


def solve_lp(lp: Any) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Objective (without offset), column values, row values, row duals."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
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
    families: tuple[str, ...] = FAMILIES,
) -> list[PricedRow]:
    """Duals and slacks of the rows of the chosen constraint families."""
    lp = pricing_lp(cm, values)
    _, _, act, duals = solve_lp(lp)
    csr = _csr(cm)
    col_of = {id(v): j for j, v in enumerate(cm.columns)}
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


def _csr(cm: CompiledModel) -> Any:
    import scipy.sparse as sp

    a = sp.csc_matrix(
        (
            np.asarray(cm.lp.a_matrix_.value_),
            np.asarray(cm.lp.a_matrix_.index_),
            np.asarray(cm.lp.a_matrix_.start_),
        ),
        shape=(int(cm.lp.num_row_), int(cm.lp.num_col_)),
    )
    return a.tocsr()


def _row_scale(con: Any, csr: Any, i: int, cm: CompiledModel, col_of: dict[int, int]) -> float:
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
def _describe(data: PlanningData, m: pyo.ConcreteModel, p: PricedRow) -> dict[str, Any] | None:
    """Limit, use, slack, price and reading of one row in workbook units."""
    cells = data.cells
    fam, idx = p.family, p.index
    pf = data.settings.power_factor
    display = 1.0  # workbook display units per price unit (FLOP per 1e24 FLOP)
    upper = True  # the limit is an upper bound (False: a target to reach)
    if fam == "run_flop":
        (r,) = idx
        run = next(x for x in data.runs if x.run_id == r)
        f, limit, unit = 1.0, run.flop, "USD per 1e24 FLOP"
        display, upper = FLOP_UNIT, False
        cell = cells.cell("Runs", (r,), "flop")
        instance = r
        what = f"one more 1e24 FLOP for run {r} (ready {run.ready_year})"
    elif fam in (
        "compute_cowos_supply",
        "compute_hbm_supply",
        "compute_gpu_supply",
        "transformer_supply",
    ):
        if fam == "compute_gpu_supply":
            g, y = idx
            res, noun, unit = gpu_resource(g), f"{g} GPU", "USD per GPU"
        else:
            (y,) = idx
            res, noun, unit = {
                "compute_cowos_supply": ("cowos_wafers", "CoWoS wafer", "USD per wafer"),
                "compute_hbm_supply": ("hbm_stacks", "HBM stack", "USD per HBM stack"),
                "transformer_supply": (
                    "transformer_units",
                    "transformer unit",
                    "USD per transformer unit",
                ),
            }[fam]
        f = 1e-3 if fam == "compute_hbm_supply" else 1.0
        limit = next(s.capacity for s in data.supply if s.year == y and s.resource == res)
        cell = cells.cell("Supply", (str(y), res), "capacity")
        instance = f"{res} {y}"
        what = f"one more {noun} in {y}"
    elif fam == "transformer_capacity":
        s, y = idx
        f, unit = pf, "USD per MVA"
        limit = m.transformer_mva.value((s, y))
        cell = cells.cell("Sites", (s,), "existing_transformer_mva")
        instance = f"{s} {y}"
        what = f"one more MVA of transformer capacity at {s} in {y}"
    elif fam == "site_max_it":
        (s,) = idx
        f, unit = 1.0, "USD per MW"
        limit = next(x.max_it_mw for x in data.sites if x.site_id == s)
        cell = cells.cell("Sites", (s,), "max_it_mw")
        instance = s
        what = f"one more MW of IT capacity (max_it_mw) at {s}"
    elif fam == "power_max_mw":
        s, src = idx
        f, unit = 1.0, "USD per MW"
        limit = next(x.max_mw for x in data.site_power if x.site_id == s and x.source_id == src)
        cell = cells.cell("SitePower", (s, src), "max_mw")
        instance = f"{s} {src}"
        what = f"one more MW of {src} at {s} (max_mw)"
    elif fam == "network_link_bandwidth":
        lk, dr, y = idx
        built = sum(
            pyo.value(m.link_built[lk, b])
            for b in range(data.settings.start_year, y + 1)
            if (lk, b) in m.link_built
        )
        if round(built) < 1:
            return None  # a link not built: its bandwidth is not a limit of this plan
        link = next(x for x in data.fiber_links if x.link_id == lk)
        a, b = (link.site_a, link.site_b) if dr == "ab" else (link.site_b, link.site_a)
        f, unit, limit = 1.0 / GBPS_PER_TBPS, "USD per Gbps", link.bandwidth_gbps
        cell = cells.cell("FiberLinks", (lk,), "bandwidth_gbps")
        instance = f"{lk} {a}->{b} {y}"
        what = f"one more Gbps on link {lk} ({a}->{b}) for {y}'s runs"
    else:
        return None
    per_unit = p.scale * f  # d(compiled rhs) / d(price unit), sign included
    price = p.dual * per_unit * MUSD
    if abs(price) < DUAL_TOL * MUSD:
        price = 0.0
    slack = p.slack_c / abs(per_unit) * display if per_unit else 0.0
    limit = float(limit)
    used = limit - slack if upper else limit + slack
    # Binding: priced, or exactly at a limit that is actually used (a zero limit with
    # nothing used and no price is noise, e.g. transformers at a site with no grid power).
    at_limit = slack <= SLACK_TOL * max(abs(limit), 1.0)
    binding = price != 0.0 or (at_limit and abs(used) > SLACK_TOL * max(abs(limit), 1.0))
    impact = abs(price) * abs(limit) / display
    return {
        "family": fam,
        "instance": instance,
        "limit_cell": cell,
        "limit_value": limit,
        "used": used,
        "slack": slack,
        "shadow_price": price,
        "unit": unit,
        "reading": _reading(what, price, upper),
        "impact_usd": impact,
        "binding": binding,
    }


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
