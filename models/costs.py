"""Costs: subsystems add nominal cost terms by category and year; this module discounts
them into the objective.

Money is in millions of USD. A year y weighs (1 + discount_rate)^-(y - start_year).

Capex follows ``Settings.capex_accounting``. ``full``: the whole capex K in the year the
asset comes online. ``annuity``: the capital-recovery annuity

    A = K * rho / (1 - (1 + rho)^-L)      (K / L when rho = 0)

in every year b .. b + L - 1 the asset is in service, years after end_year left out;
the payments still due then, discounted to end_year, are the value left (reported, not
in the objective).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyomo.environ as pyo

from models.linear import Term, coefficients, linear, quantity
from models.sets import ModelData

COST_CATEGORIES = (
    "site_capex",
    "site_om",
    "power_capex",
    "power_om",
    "energy",
    "transformer_capex",
    "gpu_capex",
    "fiber_capex",
    "fiber_om",
    "carbon",
)
CAPEX_CATEGORIES = frozenset(c for c in COST_CATEGORIES if c.endswith("capex"))


# Where a cost term is incurred: (site, GPU type); "" when it belongs to no site or GPU.
Where = tuple[str, str]


def add_cost(
    m: pyo.ConcreteModel,
    category: str,
    year: int,
    rate: float,
    quantity: Any,
    where: Where = ("", ""),
) -> None:
    """Register a nominal cost ``rate x quantity`` (MUSD) in a category and year, incurred
    at ``where`` (reports split costs by site and GPU type with it)."""
    if category not in COST_CATEGORIES:
        raise KeyError(category)
    m.__dict__.setdefault("_cost_terms", defaultdict(list))[(category, year)].append(
        (rate, quantity)
    )
    m.__dict__.setdefault("_cost_where", defaultdict(list))[(category, year)].append(where)


def annuity_factor(rate: float, life: int) -> float:
    """Yearly payment per unit of capex over ``life`` years at ``rate``."""
    # Below 1e-9 (1 + rate)^-life rounds to 1: the rate-0 limit K / L is exact enough.
    if rate < 1e-9:
        return 1.0 / life
    return rate / (1.0 - (1.0 + rate) ** -life)


def add_capex(
    m: pyo.ConcreteModel,
    d: ModelData,
    category: str,
    online: tuple[int, int],
    rate: float,
    quantity: Any,
    where: Where = ("", ""),
) -> None:
    """Register capex ``rate x quantity`` (MUSD) of an asset online in ``online[0]`` with a
    life of ``online[1]`` years, by ``Settings.capex_accounting`` (module docstring); the
    value left at end_year goes to ``m._value_left``."""
    year, life = online[0], int(online[1])
    settings = d.inputs.settings
    rho, end = settings.discount_rate, settings.end_year
    payment = rate * annuity_factor(rho, life)
    left = payment * sum((1.0 + rho) ** -(k - end) for k in range(end + 1, year + life))
    if left:
        m.__dict__.setdefault("_value_left", defaultdict(list))[category].append((left, quantity))
    if settings.capex_accounting == "full":
        add_cost(m, category, year, rate, quantity, where)
        return
    for z in d.years:
        if year <= z < year + life:
            add_cost(m, category, z, payment, quantity, where)


def value_left_terms(m: pyo.ConcreteModel) -> dict[str, list[Term]]:
    """Per capex category, the terms of the value left at end_year (MUSD at end_year)."""
    return dict(m.__dict__.get("_value_left", {}))


def cost_where(m: pyo.ConcreteModel) -> dict[tuple[str, int], list[tuple[Term, Where]]]:
    """Every nominal cost term by (category, year), with where it is incurred."""
    terms = m.__dict__.get("_cost_terms", {})
    wheres = m.__dict__.get("_cost_where", {})
    return {k: list(zip(terms[k], wheres[k], strict=True)) for k in terms}


def add_costs(m: pyo.ConcreteModel, d: ModelData) -> None:
    """``cost_nominal[cat, y]`` (MUSD) and the discounted objective ``total_cost``."""
    terms: dict[tuple[str, int], list[Term]] = m.__dict__.get("_cost_terms", {})
    index = [(c, y) for c in COST_CATEGORIES for y in d.years]
    m.COST_INDEX = pyo.Set(initialize=index, dimen=2, ordered=True)
    m.cost_nominal = quantity(index, lambda c, y: terms.get((c, y), []))
    # The objective holds each variable once, with its discounted cost summed over the
    # categories and years it appears in (O&M terms repeat a build for every later year).
    weights: dict[int, list[Any]] = {}
    constant = sum(
        coefficients([(d.discount[y] * rate, q) for rate, q in terms[(c, y)]], weights)
        for c, y in index
        if (c, y) in terms
    )
    m.total_cost = pyo.Objective(
        expr=linear([(w, v) for v, w in weights.values()] + [(1.0, constant)]),
        sense=pyo.minimize,
        doc="Total discounted cost (MUSD)",
    )
