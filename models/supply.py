"""Supply caps beyond the per-resource families of ``models.compute`` and
``models.power``: a cap for one country's sites, volume caps on GPUs of any type
(``gpus``) or H100-equivalents (``h100e``), materials of the GPUMaterials sheet (logic
wafers by node, ...), and a year's emissions (``co2_t``).

Notation: ``S[res, c, y]`` is the Supply row of resource res, country c ("" = every
site) and year y; ``u_g[res]`` what one GPU of type g uses of it when bought
(``planner.inputs.schema.gpu_use``: 1 for ``gpus``, bf16_tflops / 989 for ``h100e``);
``sites(c)`` the sites in country c (every site for "").
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from models.linear import Term, linear
from models.sets import HOURS_PER_YEAR, ModelData
from planner.inputs.schema import CO2_RESOURCE, GPU_RESOURCE_PREFIX

# Resources whose every-site rows have their own families (compute_*_supply and
# transformer_supply); their country rows, and every other resource, are capped here.
SHARED_RESOURCES = frozenset({"cowos_wafers", "hbm_stacks", "transformer_units"})

SupplyIndex = tuple[str, str, int]  # (resource, country, year)
TRANSFORMER_UNITS = "transformer_units"


def add_supply(m: pyo.ConcreteModel, d: ModelData) -> None:
    """supply_cap[res,c,y]:  sum_{s in sites(c), g} u_g[res] * gpus_bought[s,g,y]
    (transformer_add[s,t,y] for transformer_units)  <=  S[res, c, y]

    for every Supply row with a country, and every row of a resource without a family
    of its own (``gpus``, ``h100e``, GPUMaterials resources; the every-site rows of
    ``gpu:<id>``, CoWoS, HBM and transformers are ``compute_*_supply`` and
    ``transformer_supply``; ``co2_t`` is ``emissions_cap``). A row that no purchase can
    touch is left out.
    """
    buys: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for k in d.gpu_buy:
        buys[k[2]].append(k)
    rows = {k: terms for k in _generic_rows(d) if (terms := _use_terms(m, d, k, buys[k[2]]))}
    m.supply_cap = pyo.Constraint(
        sorted(rows),
        rule=lambda _m, r, c, y: linear(rows[(r, c, y)]) <= d.supply_caps[(r, c, y)],
        doc="Purchases at a country's sites (or volume caps) within Supply (units)",
    )


def _generic_rows(d: ModelData) -> list[SupplyIndex]:
    """Supply rows this module caps with purchases (see ``add_supply``)."""
    return [
        (r, c, y)
        for r, c, y in d.supply_caps
        if r != CO2_RESOURCE
        and (c or r not in SHARED_RESOURCES and not r.startswith(GPU_RESOURCE_PREFIX))
    ]


def add_emissions_cap(m: pyo.ConcreteModel, d: ModelData) -> None:
    """emissions_cap[co2_t,c,y]:  sum_{s in sites(c), p} co2_p * h * power_served_mw[s,p,y] / 1000
    <=  S[co2_t, c, y] / 1000

    (kt CO2, so coefficients stay near 1; h = avg_power_fraction x 8,760 hours, as the
    energy cost reads served MW)."""
    hours = d.inputs.settings.avg_power_fraction * HOURS_PER_YEAR
    rows: dict[SupplyIndex, list[Term]] = {}
    for r, c, y in d.supply_caps:
        if r != CO2_RESOURCE:
            continue
        in_country = {s.site_id for s in d.inputs.sites if not c or s.country == c}
        terms: list[Term] = [
            (d.source(p).co2_t_per_mwh * hours / 1000.0, m.power_served_mw[s, p, y])
            for s, p in d.site_power
            if s in in_country and d.source(p).co2_t_per_mwh > 0
        ]
        if terms:
            rows[(r, c, y)] = terms
    m.emissions_cap = pyo.Constraint(
        sorted(rows),
        rule=lambda _m, r, c, y: linear(rows[(r, c, y)]) <= d.supply_caps[(r, c, y)] / 1000.0,
        doc="A year's emissions at the row's sites within Supply co2_t (kt CO2)",
    )


def _use_terms(
    m: pyo.ConcreteModel, d: ModelData, k: SupplyIndex, buys: list[tuple[str, str, int]]
) -> list[Term]:
    """What the year's purchases (``buys``) at the row's sites use of its resource."""
    resource, country, year = k
    in_country = {s.site_id for s in d.inputs.sites if not country or s.country == country}
    if resource == TRANSFORMER_UNITS:
        return [
            (1.0, m.transformer_add[s, t, y])
            for s, t, y in d.transformer_build
            if y == year and s in in_country
        ]
    use = {g.gpu_id: d.use(g.gpu_id, resource) for g in d.inputs.gpus}
    return [(use[g], m.gpus_bought[s, g, y]) for s, g, y in buys if s in in_country and use[g] > 0]
