"""Near-optimal alternatives (modelling to generate alternatives, MGA): the cost cap and
the use objective of a hop-skip-jump search.

With ``C(x)`` the discounted cost ``total_cost`` (MUSD) and ``C*`` the optimum's cost,
the *cost cap* keeps a plan within a slack ``e`` of the optimum:

    alternative_cost_cap:   C(x)  <=  (1 + e) * C*                      (one row)

and the *use objective* replaces ``total_cost`` by the weighted use of what earlier
plans used, plus a small cost tie-break:

    min  sum_s w_s * U_s(x)  +  sum_g v_g * N_g(x)  +  tau * C(x) / C*

where ``U_s = sum_{c,y} it_capacity_add[s,c,y]`` is the IT MW built at site ``s``,
``N_g = sum_{s,y} gpus_bought[s,g,y]`` the GPUs of type ``g`` bought, and the weights
count how many earlier plans used the site (or its country) or the type (or its vendor)
(hop-skip-jump: Brill et al. 1982; PyPSA's ``optimization/mga.py`` has the cost cap
and the alternative objective in the same form). The integer decisions (run hosts,
cooling designs, links, GPU counts) stay integer.

An alternative found by a search step is then re-solved at least cost with the *use
caps* of what it kept of earlier plans' choices, at the search plan's levels:

    alternative_use_cap[i]:  sum_{s in S_i} U_s(x) <= a_i   (S_i: a site, a country's sites)
                             sum_{g in G_j} N_g(x) <= b_j   (G_j: a vendor's GPU types)

``tau`` orders plans of equal use by cost without outweighing one MW of use.

``AlternativeSpec`` carries them as plain data (picklable, for worker processes); called
on a built model it adds them (``planner.solving.pipeline.solve``'s ``prepare`` hook).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo
from pyomo.common.numeric_types import native_numeric_types
from pyomo.core.expr.numeric_expr import LinearExpression

from models.linear import linear


@dataclass(frozen=True)
class AlternativeSpec:
    """What a near-optimal solve adds to the model: the cost cap ``cap_musd`` (None: no
    cap) and, when any weight is given, the use objective in place of ``total_cost``.
    ``site_weights`` / ``gpu_weights`` are (id, weight) pairs; ``cost_weight`` is
    ``tau / C*`` (per MUSD)."""

    cap_musd: float | None = None
    site_weights: tuple[tuple[str, float], ...] = ()
    gpu_weights: tuple[tuple[str, float], ...] = ()
    cost_weight: float = 0.0
    # (sites, most MW built there) and (GPU types, most bought): the use caps.
    site_caps: tuple[tuple[tuple[str, ...], float], ...] = ()
    gpu_caps: tuple[tuple[tuple[str, ...], float], ...] = ()

    @property
    def searches(self) -> bool:
        """True when the spec replaces the objective (a search step, not a plan)."""
        return bool(self.site_weights or self.gpu_weights)

    def __call__(self, m: pyo.ConcreteModel) -> None:
        if self.cap_musd is not None:
            add_cost_cap(m, self.cap_musd)
        if self.site_caps or self.gpu_caps:
            add_use_caps(m, self.site_caps, self.gpu_caps)
        if self.searches:
            add_use_objective(m, dict(self.site_weights), dict(self.gpu_weights), self.cost_weight)


def _cost_body(m: pyo.ConcreteModel) -> tuple[LinearExpression, float]:
    """``total_cost`` split into its variable part and its constant (MUSD)."""
    flat = linear([(1.0, m.total_cost.expr)])
    constant = sum(a for a in flat.args if a.__class__ in native_numeric_types)
    terms = [a for a in flat.args if a.__class__ not in native_numeric_types]
    return LinearExpression(terms), float(constant)


def add_cost_cap(m: pyo.ConcreteModel, cap_musd: float) -> None:
    """``alternative_cost_cap``: ``total_cost <= cap_musd`` (the constant part of the
    objective moved to the right-hand side)."""
    body, constant = _cost_body(m)
    m.alternative_cost_cap = pyo.Constraint(
        expr=body <= cap_musd - constant,
        doc="Total discounted cost within the near-optimal cap (MUSD)",
    )


def add_use_caps(
    m: pyo.ConcreteModel,
    site_caps: tuple[tuple[tuple[str, ...], float], ...],
    gpu_caps: tuple[tuple[tuple[str, ...], float], ...],
) -> None:
    """``alternative_use_cap[i]``: ``sum_{s in S_i} U_s <= a_i`` for each site group and
    ``sum_{g in G_j} N_g <= b_j`` for each GPU-type group (what an alternative may keep
    of the choices earlier plans made: no more than the search step that found it)."""
    sites, gpus = site_use_terms(m), gpu_use_terms(m)
    rows = [([t for s in group for t in sites.get(s, [])], cap) for group, cap in site_caps]
    rows += [([t for g in group for t in gpus.get(g, [])], cap) for group, cap in gpu_caps]
    m.ALTERNATIVE_CAP = pyo.RangeSet(0, len(rows) - 1)
    m.alternative_use_cap = pyo.Constraint(
        m.ALTERNATIVE_CAP,
        rule=lambda _m, i: linear(rows[i][0]) <= rows[i][1] if rows[i][0] else pyo.Constraint.Skip,
        doc="Use of earlier plans' sites, countries or vendors within the search's (MW, GPUs)",
    )


def site_use_terms(m: pyo.ConcreteModel) -> dict[str, list[tuple[float, Any]]]:
    """``U_s``: per site, the IT capacity added over designs and years (MW)."""
    out: dict[str, list[tuple[float, Any]]] = {}
    for (s, _c, _y), v in m.it_capacity_add.items():
        out.setdefault(s, []).append((1.0, v))
    return out


def gpu_use_terms(m: pyo.ConcreteModel) -> dict[str, list[tuple[float, Any]]]:
    """``N_g``: per GPU type, the purchases over sites and years (GPUs)."""
    out: dict[str, list[tuple[float, Any]]] = {}
    for (_s, g, _y), v in m.gpus_bought.items():
        out.setdefault(g, []).append((1.0, v))
    return out


def add_use_objective(
    m: pyo.ConcreteModel,
    site_weights: dict[str, float],
    gpu_weights: dict[str, float],
    cost_weight: float,
) -> None:
    """Deactivate ``total_cost`` and minimise ``alternative_objective`` =
    ``sum_s w_s U_s + sum_g v_g N_g + cost_weight * C`` (module docstring)."""
    terms: list[tuple[float, Any]] = []
    for s, ts in site_use_terms(m).items():
        w = site_weights.get(s, 0.0)
        terms.extend((w * c, v) for c, v in ts if w)
    for g, ts in gpu_use_terms(m).items():
        w = gpu_weights.get(g, 0.0)
        terms.extend((w * c, v) for c, v in ts if w)
    if cost_weight:
        terms.append((cost_weight, m.total_cost.expr))
    m.total_cost.deactivate()
    m.alternative_objective = pyo.Objective(
        expr=linear(terms), sense=pyo.minimize, doc="Weighted use of earlier plans' choices"
    )


def use_values(m: pyo.ConcreteModel) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """A solved model's IT MW built per site and GPUs bought per (site, type)."""
    sites = {s: sum(c * _value(v) for c, v in ts) for s, ts in site_use_terms(m).items()}
    gpus: dict[tuple[str, str], float] = {}
    for (s, g, _y), v in m.gpus_bought.items():
        gpus[(s, g)] = gpus.get((s, g), 0.0) + _value(v)
    return sites, gpus


def _value(v: Any) -> float:
    return float(pyo.value(v, exception=False) or 0.0)


def cost_value(m: pyo.ConcreteModel) -> float:
    """``C(x)`` at the model's current values (MUSD), whichever objective is active."""
    return float(pyo.value(m.total_cost.expr))
