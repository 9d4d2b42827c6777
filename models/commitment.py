"""Decisions already taken: every build and purchase of the years before a commit year.

``fix_commitment(m, c)`` fixes each decision variable whose year is before ``c.year`` to
its committed value, and to 0 where nothing was committed (what was not ordered by then
cannot be online then), before the model is compiled. The model then decides only the
years from ``c.year`` on: the recourse of a committed plan.

A committed value the model has no variable for (a licence the inputs now refuse, a lead
time that no longer allows the build) cannot be imposed: it is returned as cancelled. With
``at_most`` the committed values are upper bounds (orders a shortfall may leave undelivered
in part), which the reach solve of a short sample uses.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo

# Decision variables, each indexed with its year last.
DECISIONS = ("it_capacity_add", "power_add_mw", "transformer_add", "gpus_bought", "link_built")
ZERO = 1e-9


@dataclass
class Commitment:
    """The committed value of every decision of the years before ``year`` (model units;
    a decision not listed was committed at 0)."""

    year: int
    values: dict[str, dict[tuple[Any, ...], float]] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(1 for vals in self.values.values() for v in vals.values() if abs(v) > ZERO)

    def digest(self) -> str:
        """A hash of the commitment, for cache keys."""
        blob = {
            "year": self.year,
            "values": {
                name: sorted([list(map(str, k)), repr(float(v))] for k, v in vals.items())
                for name, vals in sorted(self.values.items())
            },
        }
        return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()


def fix_commitment(
    m: pyo.ConcreteModel, c: Commitment, *, at_most: bool = False
) -> list[tuple[str, tuple[Any, ...]]]:
    """Fix the decisions before ``c.year`` on ``m``; returns the committed decisions the
    model cannot take (cancelled), as (variable, index).

    ``at_most``: what was committed is an upper bound instead (orders that may be
    delivered in part, e.g. when a supply shortfall of a committed year leaves too little
    for them); what was not committed stays fixed at 0."""
    cancelled: list[tuple[str, tuple[Any, ...]]] = []
    for name in DECISIONS:
        var = getattr(m, name, None)
        committed = c.values.get(name, {})
        for key, v in var.items() if var is not None else ():
            index = key if isinstance(key, tuple) else (key,)
            if index[-1] >= c.year:
                continue
            value = _within(v, committed.get(index, 0.0))
            if at_most and value > 0:
                v.setub(value)
            else:
                v.fix(value)
        cancelled += [
            (name, k)
            for k, value in committed.items()
            if abs(value) > ZERO and (var is None or k not in var)
        ]
    return cancelled


def _within(v: Any, value: float) -> float:
    """The value inside the variable's bounds (a plan read back from a workbook may be
    off by rounding), whole for an integer variable."""
    if v.is_integer() or v.is_binary():
        value = float(round(value))
    lb, ub = v.lb, v.ub
    if lb is not None:
        value = max(value, lb)
    if ub is not None:
        value = min(value, ub)
    return value
