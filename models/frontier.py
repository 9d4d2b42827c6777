"""The frontier of one run: the most FLOP it can get by its ready year.

The run's own target is no floor: it is set to 1 FLOP in the frontier's inputs
(``frontier_inputs``; 1e-24 in model units, below any solver tolerance) and its
``run_flop`` row is deactivated. Every other run keeps its target. The objective is

    min  -F_r + tau * C,      F_r = run_flop_delivered[r]  (1e24 FLOP),
                              C   = total_cost (discounted, MUSD, carbon included),

with ``tau = TIE_BREAK * max_g f_rg / capex_g`` (1e24 FLOP per MUSD): a dollar is worth
``TIE_BREAK`` of the FLOP the most cost-effective GPU buys with it, so one more GPU
always outweighs its cost and the tie-break only chooses among plans of equal FLOP.
With a budget ``B`` (MUSD) one row is added:

    frontier_budget:  C  <=  B.

Bounds the model derives from a run's target (``run_flop_cap``, the GPU-count bounds,
the peak bandwidth) read the run's ceiling ``U_r`` instead (``ModelData.run_ceiling``):
an upper bound on what the run can ever get, so they never cap the maximum
(``flop_ceiling``). Host pruning reads the 1 FLOP target, so every site may host.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict

import pyomo.environ as pyo

from models.linear import Terms, linear
from models.sets import MUSD, ModelData, build_model_data
from planner.inputs.data import PlanningData
from planner.inputs.schema import gpu_resource

NO_FLOOR_FLOP = 1.0  # the run's target in the frontier's inputs (FLOP): no floor
TIE_BREAK = 1e-4
ALL_GPUS = "gpus"  # the Supply resource that caps purchases of every type together


def frontier_inputs(data: PlanningData, run_id: str, flop: float = NO_FLOOR_FLOP) -> PlanningData:
    """``data`` with run ``run_id``'s target set to ``flop`` (default: no floor)."""
    runs = [r.model_copy(update={"flop": flop}) if r.run_id == run_id else r for r in data.runs]
    return dataclasses.replace(data, runs=runs)


def frontier_model_data(data: PlanningData, run_id: str) -> ModelData:
    """Model data for the run's maximum: ``frontier_inputs`` with the run's ceiling."""
    d = build_model_data(frontier_inputs(data, run_id))
    return dataclasses.replace(d, run_ceiling={run_id: flop_ceiling(d, run_id)})


def flop_ceiling(d: ModelData, r: str) -> float:
    """U_r (1e24 FLOP): at least what run r can ever get; the least of

    power:  the sum of the ``max_sites`` largest  it_s * 1000 * max_g f_rg / it_kw_g
            over the run's sites (it_s = ``usable_it_mw``, MW), since a site's GPUs
            draw at most its usable IT power;
    types:  sum_g f_rg * min(sum_{y in W_g} S[gpu:g, y], sum_s max_at_site(s, g)),
            W_g the purchase years whose GPUs are in service at the ready year (a year
            without a Supply row is unlimited);
    all:    max_g f_rg * sum_{y in W} S[gpus, y] (every year of the window capped).
    """
    pairs = d.run_gpus.get(r, [])
    if not pairs:
        return 0.0
    f = {g: d.flop_per_gpu(r, g) for _, g in pairs}
    per_site: dict[str, float] = defaultdict(float)
    for s, g in pairs:
        per_site[s] = max(per_site[s], d.site_it_mw[s] * 1000.0 * f[g] / d.gpu(g).it_kw)
    largest = sorted(per_site.values(), reverse=True)[: d.run(r).max_sites]
    windows = _purchase_windows(d, r)
    by_type = 0.0
    for g in sorted(f):
        at_sites = sum(d.gpu_max_at_site[(s, h)] for s, h in pairs if h == g)
        by_type += f[g] * min(_capped(d, gpu_resource(g), windows[g]), float(at_sites))
    every = set().union(*windows.values())
    all_types = max(f.values()) * _capped(d, ALL_GPUS, every)
    return min(sum(largest), by_type, all_types)


def _purchase_windows(d: ModelData, r: str) -> dict[str, set[int]]:
    """Per GPU type the run may use, the years whose purchases serve it."""
    types = {g for _, g in d.run_gpus[r]}
    out: dict[str, set[int]] = {g: set() for g in types}
    for _, g, y in d.gpu_buy:
        if g in types and d.run(r).ready_year - d.gpu(g).life_years < y <= d.run(r).ready_year:
            out[g].add(y)
    return out


def _capped(d: ModelData, resource: str, years: set[int]) -> float:
    """The Supply of ``resource`` (every site) over ``years``; inf if a year has no row."""
    caps = [d.supply.get((resource, y)) for y in years]
    return math.inf if any(c is None for c in caps) else float(sum(c or 0.0 for c in caps))


def tie_break(d: ModelData, r: str) -> float:
    """tau (1e24 FLOP per MUSD): ``TIE_BREAK`` x the most FLOP a MUSD of GPU capex buys
    for run r (0 when no GPU it may use has a price)."""
    per_musd = [
        d.flop_per_gpu(r, g) / (d.gpu(g).capex_usd / MUSD)
        for g in {g for _, g in d.run_gpus.get(r, [])}
        if d.gpu(g).capex_usd > 0
    ]
    return TIE_BREAK * max(per_musd, default=0.0)


def add_frontier(
    m: pyo.ConcreteModel, d: ModelData, r: str, budget_musd: float | None = None
) -> None:
    """Replace the least-cost objective by the run's maximum (module docstring):
    ``frontier_objective`` = -F_r + tau * C, and ``frontier_budget`` C <= B when given."""
    if r in m.run_flop:
        m.run_flop[r].deactivate()
    cost = m.total_cost.expr
    m.total_cost.deactivate()
    delivered = m.run_flop_delivered[r] if r in m.run_flop_delivered else Terms()
    m.frontier_objective = pyo.Objective(
        expr=linear([(-1.0, delivered), (tie_break(d, r), cost)]),
        sense=pyo.minimize,
        doc="The run's FLOP (1e24, maximised), with a cost tie-break",
    )
    if budget_musd is not None:
        m.frontier_budget = pyo.Constraint(
            expr=linear([(1.0, cost)]) <= budget_musd,
            doc="The plan's discounted cost within the budget (MUSD)",
        )
