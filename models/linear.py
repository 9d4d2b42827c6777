"""Flat linear expressions: every constraint body as one ``LinearExpression``.

Pyomo's standard-form compiler reads a ``LinearExpression`` of monomials in one step,
but walks sums of sums and named ``Expression`` components node by node. Bodies that
refer to shared quantities (``gpus_installed``, ``facility_mw``, ...) are therefore
flattened here, at build time, into one list of monomials: on a 1,000-site portfolio
this halves the hand-off to HiGHS. The named expressions stay on the model for reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyomo.common.numeric_types import native_numeric_types, value
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    MonomialTermExpression,
    SumExpression,
)

Term = tuple[float, Any]  # (coefficient, variable | linear expression | number)


def linear(terms: Iterable[Term]) -> LinearExpression:
    """``sum(c * e)`` as one flat ``LinearExpression`` (constants summed at the end)."""
    args: list[Any] = []
    constant = [0.0]
    for coef, expr in terms:
        _collect(float(coef), expr, args, constant)
    if constant[0]:
        args.append(constant[0])
    return LinearExpression(args)


def coefficients(terms: Iterable[Term], into: dict[int, list[Any]]) -> float:
    """Add ``sum(c * e)`` to ``into`` (``id(var)`` -> ``[var, coefficient]``: Pyomo
    variables are not hashable); returns the constant part."""
    args: list[Any] = []
    constant = [0.0]
    for coef, expr in terms:
        _collect(float(coef), expr, args, constant)
    for a in args:
        c, v = a.args if a.__class__ is MonomialTermExpression else (1.0, a)
        entry = into.get(id(v))
        if entry is None:
            into[id(v)] = [v, c]
        else:
            entry[1] += c
    return constant[0]


def _collect(coef: float, expr: Any, args: list[Any], constant: list[float]) -> None:
    if not coef:
        return
    cls = expr.__class__
    if cls in native_numeric_types:
        constant[0] += coef * expr
    elif cls is MonomialTermExpression:
        c, v = expr.args
        if c.__class__ not in native_numeric_types:
            raise TypeError(f"non-constant coefficient in {expr}")
        args.append(MonomialTermExpression((coef * c, v)))
    elif cls is LinearExpression or cls is SumExpression:
        for a in expr.args:
            _collect(coef, a, args, constant)
    elif expr.is_named_expression_type():
        _collect(coef, expr.expr, args, constant)
    elif expr.is_variable_type():
        args.append(expr if coef == 1.0 else MonomialTermExpression((coef, expr)))
    elif expr.is_constant():
        constant[0] += coef * float(value(expr))
    else:
        raise TypeError(f"not a linear term: {expr!r}")
