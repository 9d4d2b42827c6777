"""Costs: subsystems add nominal cost terms by category and year; this module discounts
them into the objective.

Money is in millions of USD. A year y weighs (1 + discount_rate)^-(y - start_year).
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
)
CAPEX_CATEGORIES = frozenset(c for c in COST_CATEGORIES if c.endswith("capex"))


def add_cost(m: pyo.ConcreteModel, category: str, year: int, rate: float, quantity: Any) -> None:
    """Register a nominal cost ``rate x quantity`` (MUSD) in a category and year."""
    if category not in COST_CATEGORIES:
        raise KeyError(category)
    terms: dict[tuple[str, int], list[Term]] = m.__dict__.setdefault(
        "_cost_terms", defaultdict(list)
    )
    terms[(category, year)].append((rate, quantity))


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
