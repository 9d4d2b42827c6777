"""Flat linear expressions: every constraint body as one ``LinearExpression``.

Pyomo's standard-form compiler reads a ``LinearExpression`` of monomials in one step,
but walks sums of sums and named ``Expression`` components node by node. Bodies that
refer to shared quantities (``gpus_installed``, ``facility_mw``, ...) are therefore
flattened here, at build time, into one list of monomials: on a 1,000-site portfolio
this halves the hand-off to HiGHS. Shared quantities are ``Quantity`` term lists, whose
values the reports read from the solved variables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyomo.common.numeric_types import native_numeric_types, value
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    MonomialTermExpression,
    SumExpression,
)

Term = tuple[float, Any]  # (coefficient, variable | linear expression | number)


class Terms(list[Term]):
    """One value of a :class:`Quantity`: its terms, spliced into rows as they are."""


class Quantity:
    """A linear quantity per index (``gpus_installed[s, g, y]``, ``facility_mw[s, y]``,
    ...) kept as lists of terms rather than a Pyomo ``Expression``: rows splice the terms
    in without building or walking an expression tree, and reports read the value from
    the solved variables (``value``)."""

    def __init__(self, terms: dict[Any, Terms]) -> None:
        self.terms = terms

    def __getitem__(self, index: Any) -> Terms:
        return self.terms[index]

    def __contains__(self, index: Any) -> bool:
        return index in self.terms

    def __len__(self) -> int:
        return len(self.terms)

    def value(self, index: Any) -> float:
        return value_of(self.terms[index])


def quantity(index: Iterable[Any], rule: Any) -> Quantity:
    """``Quantity`` from a rule giving each index's terms (tuples unpacked as keys)."""
    return Quantity({k: Terms(rule(*k) if isinstance(k, tuple) else rule(k)) for k in index})


def value_of(terms: Iterable[Term]) -> float:
    """The value of ``sum(c * e)`` at the variables' current values (unset counts as 0)."""
    total = 0.0
    for coef, expr in terms:
        if expr.__class__ in native_numeric_types:
            total += coef * expr
        elif expr.__class__ is Terms:
            total += coef * value_of(expr)
        else:
            total += coef * float(value(expr, exception=False) or 0.0)
    return total


def linear(terms: Iterable[Term]) -> LinearExpression:
    """``sum(c * e)`` as one flat ``LinearExpression`` (constants summed at the end)."""
    args: list[Any] = []
    constant = _flatten(terms, 1.0, args)
    if constant:
        args.append(constant)
    return LinearExpression(args)


def coefficients(terms: Iterable[Term], into: dict[int, list[Any]]) -> float:
    """Add ``sum(c * e)`` to ``into`` (``id(var)`` -> ``[var, coefficient]``: Pyomo
    variables are not hashable); returns the constant part."""
    args: list[Any] = []
    constant = _flatten(terms, 1.0, args)
    for a in args:
        c, v = a.args if a.__class__ is MonomialTermExpression else (1.0, a)
        entry = into.get(id(v))
        if entry is None:
            into[id(v)] = [v, c]
        else:
            entry[1] += c
    return constant


def _flatten(terms: Iterable[Term], scale: float, args: list[Any]) -> float:
    """Append ``scale * sum(c * e)`` to ``args`` as monomials; return the constant part.
    Variables and ``Terms`` (the bulk of every model) take the short way."""
    constant = 0.0
    for coef, expr in terms:
        k = scale * coef
        cls = expr.__class__
        if cls is VarData:
            if k:
                args.append(expr if k == 1.0 else MonomialTermExpression((k, expr)))
        elif cls is Terms:
            constant += _flatten(expr, k, args)
        elif cls in native_numeric_types:
            constant += k * expr
        else:
            constant += _expression(float(k), expr, args)
    return constant


def _expression(coef: float, expr: Any, args: list[Any]) -> float:
    """``_flatten`` for a Pyomo expression: monomials to ``args``; returns the constant."""
    if not coef:
        return 0.0
    cls = expr.__class__
    if cls in native_numeric_types:
        return coef * expr
    if cls is MonomialTermExpression:
        c, v = expr.args
        if c.__class__ not in native_numeric_types:
            raise TypeError(f"non-constant coefficient in {expr}")
        args.append(MonomialTermExpression((coef * c, v)))
        return 0.0
    if cls is LinearExpression or cls is SumExpression:
        return sum(_expression(coef, a, args) for a in expr.args)
    if expr.is_named_expression_type():
        return _expression(coef, expr.expr, args)
    if expr.is_variable_type():
        args.append(expr if coef == 1.0 else MonomialTermExpression((coef, expr)))
        return 0.0
    if expr.is_constant():
        return coef * float(value(expr))
    raise TypeError(f"not a linear term: {expr!r}")
