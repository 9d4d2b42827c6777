"""Compute: GPU purchases, the installed fleet, its IT load, and yearly supply limits
(per-model caps, CoWoS wafers, HBM stacks).
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from models.costs import add_cost
from models.linear import Term, linear, quantity
from models.sets import MUSD, ModelData
from planner.inputs.schema import gpu_resource, per_gpu


def add_compute(m: pyo.ConcreteModel, d: ModelData) -> None:
    """GPU fleet variables, IT load balance and supply constraints."""
    m.GPU_BUY = pyo.Set(initialize=d.gpu_buy, dimen=3, ordered=True)
    m.gpus_bought = pyo.Var(
        m.GPU_BUY,
        within=pyo.NonNegativeIntegers,
        bounds=lambda _m, s, g, y: (0, d.gpu_max_at_site[(s, g)]),
    )
    buys: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_year: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for s, g, y in d.gpu_buy:
        buys[(s, g)].append(y)
        by_year[y].append((s, g, y))
    fleet = [(s, g, y) for (s, g) in buys for y in d.years if min(buys[(s, g)]) <= y]
    m.GPU_FLEET = pyo.Set(initialize=fleet, dimen=3, ordered=True)

    bought = dict(m.gpus_bought.items())

    def installed(s: str, g: str, y: int) -> list[Term]:
        life = d.gpu(g).life_years
        return [(1.0, bought[s, g, b]) for b in buys[(s, g)] if y - life < b <= y]

    m.gpus_installed = quantity(fleet, installed)
    fleet_at: dict[tuple[str, int], list[str]] = defaultdict(list)
    for s, g, y in fleet:
        fleet_at[(s, y)].append(g)
    m.compute_it_load = pyo.Constraint(
        m.SITE_YEAR,
        rule=lambda _m, s, y: (
            linear(
                [(1, m.it_load_total_mw[s, y])]
                + [(-d.gpu(g).it_kw / 1000.0, m.gpus_installed[s, g, y]) for g in fleet_at[(s, y)]]
            )
            == 0
        ),
        doc="IT load is the installed GPUs' it_kw (MW)",
    )

    gpu_caps = [
        (g.gpu_id, y)
        for g in d.inputs.gpus
        for y in d.years
        if (gpu_resource(g.gpu_id), y) in d.supply
        and any(k[1] == g.gpu_id for k in by_year.get(y, ()))
    ]
    m.compute_gpu_supply = pyo.Constraint(
        gpu_caps,
        rule=lambda _m, g, y: (
            sum(m.gpus_bought[k] for k in by_year[y] if k[1] == g) <= d.supply[(gpu_resource(g), y)]
        ),
        doc="Purchases of one GPU type per year within Supply gpu:<id> (GPUs)",
    )

    def shared(resource: str, per_gpu: dict[str, float]) -> list[int]:
        return [
            y
            for y in d.years
            if (resource, y) in d.supply and any(per_gpu[k[1]] > 0 for k in by_year.get(y, ()))
        ]

    wafers = {g.gpu_id: per_gpu(g, "cowos_wafers") for g in d.inputs.gpus}
    stacks = {g.gpu_id: per_gpu(g, "hbm_stacks") for g in d.inputs.gpus}
    m.compute_cowos_supply = pyo.Constraint(
        shared("cowos_wafers", wafers),
        rule=lambda _m, y: (
            sum(wafers[k[1]] * m.gpus_bought[k] for k in by_year[y])
            <= d.supply[("cowos_wafers", y)]
        ),
        doc="CoWoS wafers used by the year's purchases within supply (wafers)",
    )
    # HBM stacks are counted in thousands so coefficients stay near 1.
    m.compute_hbm_supply = pyo.Constraint(
        shared("hbm_stacks", stacks),
        rule=lambda _m, y: (
            sum(stacks[k[1]] / 1000.0 * m.gpus_bought[k] for k in by_year[y])
            <= d.supply[("hbm_stacks", y)] / 1000.0
        ),
        doc="HBM stacks used by the year's purchases within supply (thousand stacks)",
    )
    for s, g, y in d.gpu_buy:
        add_cost(m, "gpu_capex", y, d.gpu(g).capex_usd / MUSD, m.gpus_bought[s, g, y])
