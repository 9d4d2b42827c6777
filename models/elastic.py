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

from models.registry import EARLY_BUILDS, FAMILIES, Family
from models.sets import HOURS_PER_YEAR, ModelData
from planner.inputs.data import PlanningData
from planner.inputs.schema import CO2_RESOURCE, gpu_use

COST_TIE_BREAK = 1e-6  # weight of the (scaled) plan cost next to the penalties


@dataclass
class ElasticTerm:
    """One penalised relaxation: a slack (or an early build) and what it moves."""

    family: str  # constraint family, "run_flop", or an ``EARLY_BUILDS`` family
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
    materials = data.materials
    co2 = max((p.co2_t_per_mwh for p in data.power_sources), default=0.0)

    def supply_need(resource: str) -> float:
        if resource == "transformer_units":
            return float(math.ceil(factor * mw / max(st.power_factor * min_mva, 1e-9)) + 1)
        if resource == CO2_RESOURCE:  # every MW at the dirtiest source all year
            return factor * mw * HOURS_PER_YEAR * co2 + 1.0
        most = max((gpu_use(g, resource, materials) for g in gpus), default=0.0)
        return factor * n_gpus * most + 1.0

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
    terms = _elastic_rows(m, d, relax_limits, relax_runs, run_weights or {})
    early = _early_builds(m, d)
    for term in early:
        if not relax_leads:
            term.var.fix(0)
    terms.extend(early)
    penalty = sum(t.weight / t.scale * t.var for t in terms if not t.var.fixed)
    m.elastic_penalty = pyo.Expression(expr=penalty)
    m.total_cost.deactivate()
    m.elastic_objective = pyo.Objective(
        expr=m.elastic_penalty + COST_TIE_BREAK / _cost_scale(d.inputs) * m.total_cost.expr,
        sense=pyo.minimize,
    )
    m.elastic_terms = terms
    return terms


def _elastic_rows(
    m: pyo.ConcreteModel,
    d: ModelData,
    relax_limits: bool,
    relax_runs: bool,
    run_weights: dict[str, float],
) -> list[ElasticTerm]:
    """Every row of a relaxable family (``models.registry``: relax ``limit`` or
    ``target``) replaced by the same row with a slack against ``d``'s limit."""
    specs: list[tuple[Family, Any, tuple[Any, ...], float, float]] = []
    relaxable = [f for f in FAMILIES.values() if f.relax == "limit"]
    for fam in relaxable + [f for f in FAMILIES.values() if f.relax == "target"]:
        comp = getattr(m, fam.name, None)
        for idx, con in comp.items() if comp is not None else ():
            key = idx if isinstance(idx, tuple) else (idx,)
            lim = fam.model_rhs(d, key)
            # 100 % of a limit: the cell's own size (max_mw, not the room left under it).
            size = fam.limit_value(d, key) * fam.per_price(d) / fam.workbook_per_price
            scale = max(size, 1e-9) if fam.relax == "target" else max(size, 1.0)
            specs.append((fam, con, key, lim, scale))
    m.ELASTIC_ROW = pyo.RangeSet(0, len(specs) - 1) if specs else pyo.Set(initialize=[])
    m.elastic_slack = pyo.Var(m.ELASTIC_ROW, within=pyo.NonNegativeReals)
    terms: list[ElasticTerm] = []
    for i, (fam, con, key, lim, scale) in enumerate(specs):
        con.deactivate()
        target = fam.relax == "target"
        weight = run_weights.get(key[0], 100.0) if target else 1.0
        terms.append(ElasticTerm(fam.name, key, m.elastic_slack[i], scale, lim, weight))
        if not (relax_runs if target else relax_limits):
            m.elastic_slack[i].fix(0.0)

    def row_rule(_m: Any, i: int) -> Any:
        fam, con, _, lim, _ = specs[i]
        if fam.relax == "target":
            return con.body + m.elastic_slack[i] >= lim
        return con.body - m.elastic_slack[i] <= lim

    m.elastic_rows = pyo.Constraint(m.ELASTIC_ROW, rule=row_rule)
    return terms


def _early_builds(m: pyo.ConcreteModel, d: ModelData) -> list[ElasticTerm]:
    """Builds the original inputs forbid as too early (``models.registry.EARLY_BUILDS``),
    each a term whose variable is the build itself."""
    s0 = d.inputs.settings.start_year
    leads = {
        "PowerSources": {p.source_id: p.lead_years for p in d.inputs.power_sources},
        "Transformers": {t.transformer_id: t.lead_years for t in d.inputs.transformers},
        "FiberLinks": {lk.link_id: lk.lead_years for lk in d.inputs.fiber_links},
    }
    early: list[ElasticTerm] = []
    for e in EARLY_BUILDS.values():
        var = getattr(m, e.variable, None)
        for key, v in var.items() if var is not None else ():
            ident, year = key[e.id_at], key[e.year_at]
            if e.sheet == "Sites":
                first, scale = d.site(ident).earliest_year, max(d.site(ident).max_it_mw, 1.0)
            else:
                first, scale = s0 + leads[e.sheet][ident], 1.0
                if e.sheet == "PowerSources":
                    scale = max(d.site_power_row(key[0], ident).max_mw, 1.0)
            if year < first:
                early.append(ElasticTerm(e.family, key, v, scale, 0.0))
    return early


def _cost_scale(data: PlanningData) -> float:
    """A rough size of a plan's cost (MUSD), so the tie-break stays below the penalties."""
    capex = max((g.capex_usd for g in data.gpus), default=1.0)
    flops = min((g.bf16_tflops for g in data.gpus), default=1.0) * 1e12
    n = sum(r.flop / max(flops * r.mfu * r.duration_days * 86400.0, 1.0) for r in data.runs)
    return max(1.0, n * capex / 1e6)
