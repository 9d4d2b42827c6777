"""Costs: subsystems add nominal cost terms by category and year; this module discounts
them into the objective.

Money is in millions of USD. A year y weighs (1 + discount_rate)^-(y - start_year).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyomo.environ as pyo

from models.sets import ModelData

COST_CATEGORIES = (
    "site_capex", "site_om", "power_capex", "power_om", "energy",
    "transformer_capex", "gpu_capex", "fiber_capex", "fiber_om",
)
CAPEX_CATEGORIES = frozenset(c for c in COST_CATEGORIES if c.endswith("capex"))


def add_cost(m: pyo.ConcreteModel, category: str, year: int, term: Any) -> None:
    """Register a nominal cost term (MUSD) in a category and year."""
    if category not in COST_CATEGORIES:
        raise KeyError(category)
    terms: dict[tuple[str, int], list[Any]] = m.__dict__.setdefault(
        "_cost_terms", defaultdict(list)
    )
    terms[(category, year)].append(term)


def add_costs(m: pyo.ConcreteModel, d: ModelData) -> None:
    """``cost_nominal[cat, y]`` (MUSD) and the discounted objective ``total_cost``."""
    terms: dict[tuple[str, int], list[Any]] = m.__dict__.get("_cost_terms", {})
    index = [(c, y) for c in COST_CATEGORIES for y in d.years]
    m.COST_INDEX = pyo.Set(initialize=index, dimen=2, ordered=True)
    m.cost_nominal = pyo.Expression(
        m.COST_INDEX, rule=lambda _m, c, y: sum(terms.get((c, y), []))
    )
    m.total_cost = pyo.Objective(
        expr=sum(d.discount[y] * m.cost_nominal[c, y] for c, y in index),
        sense=pyo.minimize,
        doc="Total discounted cost (MUSD)",
    )
