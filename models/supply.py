"""Supply caps beyond the per-resource families of ``models.compute`` and
``models.power``: a cap for one country's sites, and volume caps on GPUs of any type
(``gpus``) or H100-equivalents (``h100e``).

Notation: ``S[res, c, y]`` is the Supply row of resource res, country c ("" = every
site) and year y; ``u_g[res]`` what one GPU of type g uses of it when bought
(``planner.inputs.schema.gpu_use``: 1 for ``gpus``, bf16_tflops / 989 for ``h100e``);
``sites(c)`` the sites in country c (every site for "").
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from models.linear import Term, linear
from models.sets import ModelData
from planner.inputs.schema import GPU_COUNT_RESOURCES, gpu_use

SupplyIndex = tuple[str, str, int]  # (resource, country, year)
TRANSFORMER_UNITS = "transformer_units"


def add_supply(m: pyo.ConcreteModel, d: ModelData) -> None:
    """supply_cap[res,c,y]:  sum_{s in sites(c), g} u_g[res] * gpus_bought[s,g,y]
    (transformer_add[s,t,y] for transformer_units)  <=  S[res, c, y]

    for every Supply row with a country, and every ``gpus`` / ``h100e`` row (the rows
    of every site for the other resources are ``compute_*_supply`` and
    ``transformer_supply``). A row that no purchase can touch is left out.
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
    """Supply rows this module caps (see ``add_supply``)."""
    return [(r, c, y) for r, c, y in d.supply_caps if c or r in GPU_COUNT_RESOURCES]


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
    use = {g.gpu_id: gpu_use(g, resource) for g in d.inputs.gpus}
    return [(use[g], m.gpus_bought[s, g, y]) for s, g, y in buys if s in in_country and use[g] > 0]
