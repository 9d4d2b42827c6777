"""Compute: GPU purchases, the installed fleet, its IT load, and yearly supply limits
(per-model caps, CoWoS wafers, HBM stacks).

Notation in the docstrings below: ``L_g`` is GPU type g's life in years, ``kW_g`` its
IT power, ``S[res, y]`` the yearly supply of a resource (Supply sheet).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from models.costs import add_capex
from models.linear import Term, linear, quantity
from models.sets import MUSD, ModelData
from planner.inputs.schema import gpu_resource

GpuBuy = tuple[str, str, int]  # (site, GPU type, year)


@dataclass(frozen=True)
class _FleetIndex:
    """Index data the compute constraint families share, computed once from ``ModelData``."""

    buys: dict[tuple[str, str], list[int]]  # (site, GPU) -> purchase years
    by_year: dict[int, list[GpuBuy]]  # year -> that year's purchases
    fleet: list[GpuBuy]  # (site, GPU, year) from the first purchase year on
    fleet_at: dict[tuple[str, int], list[str]]  # (site, year) -> GPU types in the fleet


def add_compute(m: pyo.ConcreteModel, d: ModelData) -> None:
    """GPU fleet variables, IT load balance and supply constraints."""
    ix = _fleet_index(d)
    _add_compute_fleet(m, d, ix)
    if d.inputs.settings.idle_gpus_draw_power:
        _add_compute_it_load(m, d, ix, m.gpus_installed)
    _add_compute_gpu_supply(m, d, ix)
    _add_compute_shared_supply(m, d, ix)
    _add_compute_costs(m, d)


def _fleet_index(d: ModelData) -> _FleetIndex:
    """Purchases grouped by (site, GPU) and by year, and the fleet they make up."""
    buys: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_year: dict[int, list[GpuBuy]] = defaultdict(list)
    for s, g, y in d.gpu_buy:
        buys[(s, g)].append(y)
        by_year[y].append((s, g, y))
    fleet = [(s, g, y) for (s, g) in buys for y in d.years if min(buys[(s, g)]) <= y]
    fleet_at: dict[tuple[str, int], list[str]] = defaultdict(list)
    for s, g, y in fleet:
        fleet_at[(s, y)].append(g)
    return _FleetIndex(buys=buys, by_year=by_year, fleet=fleet, fleet_at=fleet_at)


def _add_compute_fleet(m: pyo.ConcreteModel, d: ModelData, ix: _FleetIndex) -> None:
    """gpus_bought[s,g,y] in [0, max_at_site(s,g)] (integer) over GPU_BUY; the quantity

    gpus_installed[s,g,y] = sum_{y - L_g < b <= y} gpus_bought[s,g,b]   over GPU_FLEET
    """
    m.GPU_BUY = pyo.Set(initialize=d.gpu_buy, dimen=3, ordered=True)
    m.gpus_bought = pyo.Var(
        m.GPU_BUY,
        within=pyo.NonNegativeIntegers,
        bounds=lambda _m, s, g, y: (0, d.gpu_max_at_site[(s, g)]),
    )
    m.GPU_FLEET = pyo.Set(initialize=ix.fleet, dimen=3, ordered=True)

    # A plain dict: the rule indexes it for every term, and Pyomo's __getitem__ is slower.
    bought = dict(m.gpus_bought.items())

    def installed(s: str, g: str, y: int) -> list[Term]:
        # GPUs retire after their life: only purchases of the last L_g years count.
        life = d.gpu(g).life_years
        return [(1.0, bought[s, g, b]) for b in ix.buys[(s, g)] if y - life < b <= y]

    m.gpus_installed = quantity(ix.fleet, installed)


def add_compute_use(m: pyo.ConcreteModel, d: ModelData) -> None:
    """When idle GPUs draw no power (``Settings.idle_gpus_draw_power`` FALSE), after the
    runs: the IT load is what runs use, and every installed GPU still occupies capacity.

    compute_it_load[s,y]:       it_load_total_mw[s,y] - sum_g kW_g / 1000 * gpus_used[s,g,y]
                                ==  0
    compute_it_occupancy[s,y]:  sum_g kW_g / 1000 * gpus_installed[s,g,y]
                                - it_capacity_mw[s,y]  <=  0
    """
    if d.inputs.settings.idle_gpus_draw_power:
        return
    ix = _fleet_index(d)
    _add_compute_it_load(m, d, ix, m.gpus_used)
    occupied = [k for k in m.SITE_YEAR if ix.fleet_at.get(k)]
    m.compute_it_occupancy = pyo.Constraint(
        occupied,
        rule=lambda _m, s, y: (
            linear(
                [(d.gpu(g).it_kw / 1000.0, m.gpus_installed[s, g, y]) for g in ix.fleet_at[(s, y)]]
                + [(-1, m.it_capacity_mw[s, y])]
            )
            <= 0
        ),
        doc="Installed GPUs, idle or not, fit the IT capacity built (MW)",
    )


def _add_compute_it_load(m: pyo.ConcreteModel, d: ModelData, ix: _FleetIndex, gpus: Any) -> None:
    """compute_it_load[s,y]:  it_load_total_mw[s,y] - sum_g kW_g / 1000 * gpus[s,g,y]  ==  0

    (``gpus`` = gpus_installed, or gpus_used when idle GPUs draw no power)
    """
    m.compute_it_load = pyo.Constraint(
        m.SITE_YEAR,
        rule=lambda _m, s, y: (
            linear(
                [(1, m.it_load_total_mw[s, y])]
                + [(-d.gpu(g).it_kw / 1000.0, gpus[s, g, y]) for g in ix.fleet_at[(s, y)]]
            )
            == 0
        ),
        doc="IT load is the drawing GPUs' it_kw (MW)",
    )


def _add_compute_gpu_supply(m: pyo.ConcreteModel, d: ModelData, ix: _FleetIndex) -> None:
    """compute_gpu_supply[g,y]:  sum_s gpus_bought[s,g,y]  <=  S[gpu:g, y]

    (only for years with a cap and at least one purchase of g)
    """
    by_year = ix.by_year
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


def _supply_years(
    d: ModelData, ix: _FleetIndex, resource: str, per_unit: dict[str, float]
) -> list[int]:
    """Years with a supply cap on ``resource`` and a purchase that uses some of it (a cap
    on no purchase would be an empty row)."""
    return [
        y
        for y in d.years
        if (resource, y) in d.supply and any(per_unit[k[1]] > 0 for k in ix.by_year.get(y, ()))
    ]


def _add_compute_shared_supply(m: pyo.ConcreteModel, d: ModelData, ix: _FleetIndex) -> None:
    """Components shared by all GPU types, with w_g wafers and h_g HBM stacks per GPU:

    compute_cowos_supply[y]:  sum_{s,g} w_g * gpus_bought[s,g,y]  <=  S[cowos_wafers, y]
    compute_hbm_supply[y]:    sum_{s,g} h_g / 1000 * gpus_bought[s,g,y]
                              <=  S[hbm_stacks, y] / 1000
    """
    by_year = ix.by_year
    wafers = {g.gpu_id: d.use(g.gpu_id, "cowos_wafers") for g in d.inputs.gpus}
    stacks = {g.gpu_id: d.use(g.gpu_id, "hbm_stacks") for g in d.inputs.gpus}
    m.compute_cowos_supply = pyo.Constraint(
        _supply_years(d, ix, "cowos_wafers", wafers),
        rule=lambda _m, y: (
            sum(wafers[k[1]] * m.gpus_bought[k] for k in by_year[y])
            <= d.supply[("cowos_wafers", y)]
        ),
        doc="CoWoS wafers used by the year's purchases within supply (wafers)",
    )
    # HBM stacks are counted in thousands so coefficients stay near 1.
    m.compute_hbm_supply = pyo.Constraint(
        _supply_years(d, ix, "hbm_stacks", stacks),
        rule=lambda _m, y: (
            sum(stacks[k[1]] / 1000.0 * m.gpus_bought[k] for k in by_year[y])
            <= d.supply[("hbm_stacks", y)] / 1000.0
        ),
        doc="HBM stacks used by the year's purchases within supply (thousand stacks)",
    )


def _add_compute_costs(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Cost ``gpu_capex`` (capex_g * gpus_bought[s,g,y], online in y for L_g years), MUSD."""
    for s, g, y in d.gpu_buy:
        gpu = d.gpu(g)
        rate = gpu.capex_usd / MUSD
        add_capex(m, d, "gpu_capex", (y, gpu.life_years), rate, m.gpus_bought[s, g, y], (s, g))
