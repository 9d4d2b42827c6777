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

Each term belongs to one workbook cell (``ElasticTerm.cell``: a Supply capacity, a
site's ``max_it_mw``, a source's ``lead_years``, a run's ``flop``...), and every cell gets a
binary ``elastic_moved[c]`` with ``slack_t <= room_t * elastic_moved[c]`` for its terms,
``room_t`` being how far the loosened inputs let the term go. Fixing ``elastic_moved[c]``
at 0 keeps the cell's limit strict; the diagnosis counts the moved cells with them.

The default objective (``elastic_objective``) is the *relative move*: slack divided by
the size of its limit, so a 10 % move of a big limit weighs like a 10 % move of a small
one; an early build weighs its amount times the years it comes early; a run's shortfall
weighs 100 per 100 % of its target. The original objective stays, scaled down to break
ties only. ``count_penalty`` is the other objective: how many cells move.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from models.registry import EARLY_BUILDS, FAMILIES, Family
from models.sets import HOURS_PER_YEAR, ModelData, build_model_data
from planner.inputs.data import PlanningData
from planner.inputs.schema import CO2_RESOURCE, gpu_use

COST_TIE_BREAK = 1e-6  # weight of the (scaled) plan cost next to the penalties
RUN_WEIGHT = 100.0  # a run's shortfall of 100 % weighs like 100 limits moved by 100 %

# A workbook cell a term moves: (sheet, row key, column), e.g. ("Supply", ("2026",
# "gpu:G1"), "capacity"); the row key as ``SheetSpec.key_of`` gives it.
Cell = tuple[str, tuple[str, ...], str]


@dataclass
class ElasticTerm:
    """One penalised relaxation: a slack (or an early build) and what it moves."""

    family: str  # constraint family, "run_flop", or an ``EARLY_BUILDS`` family
    index: tuple[Any, ...]  # the constraint's (or the early variable's) index
    var: Any  # Pyomo VarData: the slack, or the early build itself
    scale: float  # model units that count as "100 %" of the limit
    limit: float  # the original limit in model units (0 for lead terms)
    weight: float = 1.0
    cell: Cell = ("", (), "")
    room: float = 0.0  # the most the term may take (model units); 0: it cannot move


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
    loose: ModelData | None = None,
) -> list[ElasticTerm]:
    """Restore ``d``'s limits on ``m`` (built from ``loosen(d.inputs)``, whose model data
    ``loose`` is, rebuilt when not given) with penalised slacks, one ``elastic_moved``
    binary per cell, and replace the objective by the relative move plus a cost tie-break:

        minimise  sum_t weight_t * slack_t / scale_t  +  1e-6 * cost / cost_scale

    Families not relaxed stay strict (their cells' ``elastic_moved`` fixed at zero).
    Returns the terms; they are also kept as ``m.elastic_terms``.
    """
    loose = loose if loose is not None else build_model_data(loosen(d.inputs))
    terms = _elastic_rows(m, d, loose, run_weights or {})
    terms.extend(_early_builds(m, d))
    penalty = sum(t.weight / t.scale * t.var for t in terms if not t.var.fixed)
    m.elastic_penalty = pyo.Expression(expr=penalty)
    m.total_cost.deactivate()
    m.elastic_tie_break = pyo.Expression(
        expr=COST_TIE_BREAK / _cost_scale(d.inputs) * m.total_cost.expr
    )
    m.elastic_objective = pyo.Objective(
        expr=m.elastic_penalty + m.elastic_tie_break, sense=pyo.minimize
    )
    m.elastic_terms = terms
    _add_moved(m, terms)
    strict = {"limit": not relax_limits, "lead": not relax_leads, "target": not relax_runs}
    for t in terms:
        if strict[_kind(t)]:
            moved(m, t.cell).fix(0)
    return terms


def _kind(t: ElasticTerm) -> str:
    if t.family in EARLY_BUILDS:
        return "lead"
    return "target" if FAMILIES[t.family].relax == "target" else "limit"


def _add_moved(m: pyo.ConcreteModel, terms: list[ElasticTerm]) -> None:
    """``elastic_moved[k]`` in {0, 1} per cell (``m.elastic_cells[k]``) and, for each
    term t of that cell,

        elastic_moved_rows[t]:  var_t  <=  room_t * elastic_moved[k]

    (a term with no room is fixed at zero instead)."""
    m.elastic_cells = list(dict.fromkeys(t.cell for t in terms))
    m.elastic_cell_at = {c: k for k, c in enumerate(m.elastic_cells)}
    m.ELASTIC_CELL = pyo.RangeSet(0, len(m.elastic_cells) - 1) if terms else pyo.Set()
    m.elastic_moved = pyo.Var(m.ELASTIC_CELL, within=pyo.Binary)
    for t in terms:
        if t.room <= 0:
            t.var.fix(0)
    movable = [i for i, t in enumerate(terms) if t.room > 0]
    m.ELASTIC_MOVABLE = pyo.Set(initialize=movable, ordered=True)
    m.elastic_moved_rows = pyo.Constraint(
        m.ELASTIC_MOVABLE,
        rule=lambda _m, i: terms[i].var <= terms[i].room * moved(m, terms[i].cell),
    )


def moved(m: pyo.ConcreteModel, cell: Cell) -> Any:
    """The ``elastic_moved`` binary of a cell."""
    return m.elastic_moved[m.elastic_cell_at[cell]]


def count_penalty(m: pyo.ConcreteModel, terms: list[ElasticTerm]) -> Any:
    """How many cells move, run targets last, smaller moves breaking ties:

        sum_{c limit} z_c  +  W * sum_{c target} z_c  +  1/(4 n) * sum_t var_t / room_t

    with z the cells' ``elastic_moved``, W = 1 + (number of limit cells), so lowering one target
    weighs more than moving every limit, and n terms, so the tie-break (each term at most
    1, relative to its room, not to its limit: a 230-fold rise of a cap of 100 is no
    worse than a 2-fold one of a cap of 1e6) never outweighs one cell."""
    kinds = {t.cell: _kind(t) for t in terms}
    n_limits = sum(1 for k in kinds.values() if k != "target")
    movable = [t for t in terms if t.room > 0 and not t.var.fixed]
    count = sum((1.0 + n_limits if k == "target" else 1.0) * moved(m, c) for c, k in kinds.items())
    ties = sum(t.var / t.room for t in movable) / (4.0 * max(len(movable), 1))
    return count + ties


def use_objective(m: pyo.ConcreteModel, expr: Any) -> None:
    """Make ``expr`` (minimised) the model's only active objective."""
    for obj in m.component_objects(pyo.Objective):
        obj.deactivate()
    if hasattr(m, "elastic_chosen_objective"):
        m.del_component(m.elastic_chosen_objective)
    m.elastic_chosen_objective = pyo.Objective(expr=expr, sense=pyo.minimize)


def cells_of(terms: list[ElasticTerm]) -> dict[Cell, list[ElasticTerm]]:
    """Terms grouped by the cell they move, in first-seen order."""
    out: dict[Cell, list[ElasticTerm]] = defaultdict(list)
    for t in terms:
        out[t.cell].append(t)
    return dict(out)


def _elastic_rows(
    m: pyo.ConcreteModel, d: ModelData, loose: ModelData, run_weights: dict[str, float]
) -> list[ElasticTerm]:
    """Every row of a relaxable family (``models.registry``: relax ``limit`` or
    ``target``) replaced by the same row with a slack against ``d``'s limit. A limit's
    room is the loosened limit's margin over it (the loosened model never needs more);
    a target's room is the whole target."""
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
        assert fam.limit is not None
        target = fam.relax == "target"
        weight = run_weights.get(key[0], RUN_WEIGHT) if target else 1.0
        room = lim if target else max(0.0, fam.model_rhs(loose, key) - lim)
        cell = (fam.limit.sheet, fam.limit.row(key), fam.limit.column)
        terms.append(ElasticTerm(fam.name, key, m.elastic_slack[i], scale, lim, weight, cell, room))

    def row_rule(_m: Any, i: int) -> Any:
        fam, con, _, lim, _ = specs[i]
        if fam.relax == "target":
            return con.body + m.elastic_slack[i] >= lim
        return con.body - m.elastic_slack[i] <= lim

    m.elastic_rows = pyo.Constraint(m.ELASTIC_ROW, rule=row_rule)
    return terms


def _early_builds(m: pyo.ConcreteModel, d: ModelData) -> list[ElasticTerm]:
    """Builds the original inputs forbid as too early (``models.registry.EARLY_BUILDS``),
    each a term whose variable is the build itself, weighted by the years it comes early
    (a lead time cut by one year weighs less than one cut by three)."""
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
                room = float(v.ub) if v.ub is not None else 1e9
                cell = (e.sheet, (str(ident),), e.column)
                years = float(min(first, d.inputs.settings.end_year + 1) - year)
                early.append(ElasticTerm(e.family, key, v, scale, 0.0, years, cell, room))
    return early


def _cost_scale(data: PlanningData) -> float:
    """A rough size of a plan's cost (MUSD), so the tie-break stays below the penalties."""
    capex = max((g.capex_usd for g in data.gpus), default=1.0)
    flops = min((g.bf16_tflops for g in data.gpus), default=1.0) * 1e12
    n = sum(r.flop / max(flops * r.mfu * r.duration_days * 86400.0, 1.0) for r in data.runs)
    return max(1.0, n * capex / 1e6)
