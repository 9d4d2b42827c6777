"""An elastic version of the planning model, to explain infeasible workbooks.

``loosen(data)`` widens every limit the diagnosis may move (supply caps, site
``max_it_mw``, ``SitePower.max_mw``, lead times, site ``earliest_year``) far enough that
the index sets, variable bounds and host pruning derived from the inputs never forbid a
plan by themselves. ``add_elastic(m, d)`` then restores the original limits of ``d`` on a
model built from the loosened inputs, each with a non-negative, penalised slack:

* ``run_flop[r]``: shortfall of a run's FLOP (1e24 FLOP),
* supply (``compute_cowos_supply``, ``compute_hbm_supply``, ``compute_gpu_supply``,
  ``transformer_supply``) and capacity (``site_max_it``, ``power_max_mw``) rows: excess
  over the original limit, in the row's model units,
* lead times: every build the original inputs forbid as too early (power added before
  ``start_year + lead_years``, transformer units and fiber links likewise, IT capacity
  before a site's ``earliest_year``) is allowed at a penalty on its amount.

Penalties are relative (slack divided by the size of its limit) so a 10 % move of a big
limit weighs like a 10 % move of a small one; families not relaxed keep their slack fixed
at zero, i.e. strict. The original objective stays, scaled down to break ties only.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from models.sets import ModelData, gpu_resource
from planner.inputs.data import PlanningData

LIMIT_FAMILIES = (
    "compute_cowos_supply",
    "compute_hbm_supply",
    "compute_gpu_supply",
    "transformer_supply",
    "site_max_it",
    "power_max_mw",
)
LEAD_FAMILIES = ("power_lead", "transformer_lead", "link_lead", "site_earliest")
COST_TIE_BREAK = 1e-6  # weight of the (scaled) plan cost next to the penalties


@dataclass
class ElasticTerm:
    """One penalised relaxation: a slack (or an early build) and what it moves."""

    family: str  # constraint family, "run_flop", or one of LEAD_FAMILIES
    index: tuple[Any, ...]  # the constraint's (or the early variable's) index
    var: Any  # Pyomo VarData: the slack, or the early build itself
    scale: float  # model units that count as "100 %" of the limit
    limit: float  # the original limit in model units (0 for lead terms)
    weight: float = 1.0


def loosen(data: PlanningData, factor: float = 2.0) -> PlanningData:
    """A copy of ``data`` whose limits are wide enough never to decide a plan alone."""
    st = data.settings
    s0 = st.start_year
    gpus = list(data.gpus)
    # GPUs every run would need with its least productive GPU type, at multi-site efficiency.
    n_gpus = 0.0
    for r in data.runs:
        worst = 0.0
        for g in gpus:
            per = g.bf16_tflops * 1e12 * r.mfu * r.duration_days * 86400.0
            if per > 0:
                worst = max(worst, r.flop / (st.multi_site_efficiency * per))
        n_gpus += math.ceil(worst) + 1
    it_kw = max((g.it_kw for g in gpus), default=1.0)
    pues = [s.pue for s in data.sites] + [c.pue for c in data.cooling]
    mw = factor * n_gpus * it_kw / 1000.0 * max(pues, default=1.0) + 1.0
    firm = {p.source_id: p.firm_fraction for p in data.power_sources}
    min_mva = min((t.mva for t in data.transformers), default=1.0)
    per_gpu = {
        "cowos_wafers": max((g.cowos_wafers_per_kgpu / 1000.0 for g in gpus), default=0.0),
        "hbm_stacks": max((g.hbm_stacks for g in gpus), default=0.0),
    }

    def supply_need(resource: str) -> float:
        if resource in per_gpu:
            return factor * n_gpus * per_gpu[resource] + 1.0
        if resource == "transformer_units":
            return float(math.ceil(factor * mw / max(st.power_factor * min_mva, 1e-9)) + 1)
        return factor * n_gpus + 1.0

    return dataclasses.replace(
        data,
        sites=[
            s.model_copy(
                update={
                    "max_it_mw": max(s.max_it_mw, mw),
                    "earliest_year": min(s.earliest_year, s0),
                }
            )
            for s in data.sites
        ],
        site_power=[
            sp.model_copy(
                update={
                    "max_mw": max(
                        sp.max_mw, sp.existing_mw + mw / max(firm.get(sp.source_id, 1.0), 1e-3)
                    )
                }
            )
            for sp in data.site_power
        ],
        supply=[
            row.model_copy(update={"capacity": max(row.capacity, supply_need(row.resource))})
            for row in data.supply
        ],
        power_sources=[p.model_copy(update={"lead_years": 0}) for p in data.power_sources],
        transformers=[t.model_copy(update={"lead_years": 0}) for t in data.transformers],
        fiber_links=[lk.model_copy(update={"lead_years": 0}) for lk in data.fiber_links],
    )


def add_elastic(
    m: pyo.ConcreteModel,
    d: ModelData,
    *,
    relax_limits: bool = True,
    relax_leads: bool = True,
    relax_runs: bool = True,
    run_weights: dict[str, float] | None = None,
) -> list[ElasticTerm]:
    """Restore ``d``'s limits on ``m`` (built from ``loosen(d.inputs)``) with penalised
    slacks, and replace the objective by the penalty plus a cost tie-break.

    Families not relaxed stay strict (their slack is fixed at zero). Returns the terms;
    they are also kept as ``m.elastic_terms``.
    """
    inputs = d.inputs
    s0 = inputs.settings.start_year
    specs: list[tuple[str, Any, float, str, float]] = []  # family, con, limit, sense, scale

    def limit_of(fam: str, idx: tuple[Any, ...]) -> float:
        if fam == "compute_cowos_supply":
            return d.supply[("cowos_wafers", idx[0])]
        if fam == "compute_hbm_supply":
            return d.supply[("hbm_stacks", idx[0])] / 1000.0
        if fam == "compute_gpu_supply":
            return d.supply[(gpu_resource(idx[0]), idx[1])]
        if fam == "transformer_supply":
            return d.supply[("transformer_units", idx[0])]
        if fam == "site_max_it":
            return d.site(idx[0]).max_it_mw
        if fam == "power_max_mw":
            row = d.site_power_row(idx[0], idx[1])
            return max(0.0, row.max_mw - row.existing_mw)
        raise KeyError(fam)

    for fam in LIMIT_FAMILIES:
        comp = getattr(m, fam, None)
        if comp is None:
            continue
        for idx, con in comp.items():
            key = idx if isinstance(idx, tuple) else (idx,)
            lim = limit_of(fam, key)
            scale = max(lim, 1.0)
            if fam == "power_max_mw":
                scale = max(d.site_power_row(key[0], key[1]).max_mw, 1.0)
            specs.append((fam, con, lim, "<=", scale))
    for idx, con in m.run_flop.items():
        key = idx if isinstance(idx, tuple) else (idx,)
        lim = d.run_flop(key[0])
        specs.append(("run_flop", con, lim, ">=", max(lim, 1e-9)))

    m.ELASTIC_ROW = pyo.RangeSet(0, len(specs) - 1) if specs else pyo.Set(initialize=[])
    m.elastic_slack = pyo.Var(m.ELASTIC_ROW, within=pyo.NonNegativeReals)
    terms: list[ElasticTerm] = []
    run_weights = run_weights or {}
    for i, (fam, con, lim, _sense, scale) in enumerate(specs):
        con.deactivate()
        idx = con.index()
        key = idx if isinstance(idx, tuple) else (idx,)
        weight = run_weights.get(key[0], 100.0) if fam == "run_flop" else 1.0
        terms.append(ElasticTerm(fam, key, m.elastic_slack[i], scale, lim, weight))
        relaxed = relax_runs if fam == "run_flop" else relax_limits
        if not relaxed:
            m.elastic_slack[i].fix(0.0)

    def row_rule(_m: Any, i: int) -> Any:
        fam, con, lim, sense, _ = specs[i]
        if sense == "<=":
            return con.body - m.elastic_slack[i] <= lim
        return con.body + m.elastic_slack[i] >= lim

    m.elastic_rows = pyo.Constraint(m.ELASTIC_ROW, rule=row_rule)

    # Builds the original inputs forbid as too early: allowed, at a penalty.
    sources = {p.source_id: p for p in inputs.power_sources}
    units = {t.transformer_id: t for t in inputs.transformers}
    links = {lk.link_id: lk for lk in inputs.fiber_links}
    early: list[ElasticTerm] = []
    if hasattr(m, "power_add_mw"):
        for (s, p, y), v in m.power_add_mw.items():
            if y < s0 + sources[p].lead_years:
                scale = max(d.site_power_row(s, p).max_mw, 1.0)
                early.append(ElasticTerm("power_lead", (s, p, y), v, scale, 0.0))
    if hasattr(m, "transformer_add"):
        for (s, t, y), v in m.transformer_add.items():
            if y < s0 + units[t].lead_years:
                early.append(ElasticTerm("transformer_lead", (s, t, y), v, 1.0, 0.0))
    if hasattr(m, "link_built"):
        for (lk, y), v in m.link_built.items():
            if y < s0 + links[lk].lead_years:
                early.append(ElasticTerm("link_lead", (lk, y), v, 1.0, 0.0))
    for (s, c, y), v in m.it_capacity_add.items():
        if y < d.site(s).earliest_year:
            scale = max(d.site(s).max_it_mw, 1.0)
            early.append(ElasticTerm("site_earliest", (s, c, y), v, scale, 0.0))
    for term in early:
        if not relax_leads:
            term.var.fix(0)
    terms.extend(early)

    penalty = sum(t.weight / t.scale * t.var for t in terms if not t.var.fixed)
    m.elastic_penalty = pyo.Expression(expr=penalty)
    m.total_cost.deactivate()
    m.elastic_objective = pyo.Objective(
        expr=m.elastic_penalty + COST_TIE_BREAK / _cost_scale(inputs) * m.total_cost.expr,
        sense=pyo.minimize,
    )
    m.elastic_terms = terms
    return terms


def _cost_scale(data: PlanningData) -> float:
    """A rough size of a plan's cost (MUSD), so the tie-break stays below the penalties."""
    capex = max((g.capex_usd for g in data.gpus), default=1.0)
    flops = min((g.bf16_tflops for g in data.gpus), default=1.0) * 1e12
    n = sum(r.flop / max(flops * r.mfu * r.duration_days * 86400.0, 1.0) for r in data.runs)
    return max(1.0, n * capex / 1e6)
