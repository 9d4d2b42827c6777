"""Flat linear expressions and quantities (``models/linear.py``)."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from pyomo.core.expr.numeric_expr import LinearExpression

from models.linear import Terms, coefficients, linear, quantity, value_of


def model() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.x = pyo.Var([1, 2, 3], initialize={1: 2.0, 2: 3.0, 3: 5.0})
    m.total = quantity(
        [(1, "a"), (2, "a")], lambda i, tag: [(10.0, 1.0), (1.0, m.x[i]), (2.0, m.x[3])]
    )
    return m


def test_quantity_terms_splice_into_one_flat_expression() -> None:
    m = model()
    e = linear([(1.0, m.x[2]), (-3.0, m.total[1, "a"])])
    assert e.__class__ is LinearExpression
    # x2 - 3 (10 + x1 + 2 x3) = 3 - 3 (10 + 2 + 10) = -63
    assert pyo.value(e) == pytest.approx(-63.0)
    assert all(a.__class__ is not Terms for a in e.args)


def test_value_of_a_quantity_reads_the_variables() -> None:
    m = model()
    assert m.total.value((2, "a")) == pytest.approx(10.0 + 3.0 + 10.0)
    assert value_of(Terms([(2.0, m.total[1, "a"])])) == pytest.approx(44.0)
    assert (1, "a") in m.total and (3, "a") not in m.total and len(m.total) == 2


def test_coefficients_sum_a_variable_over_its_appearances() -> None:
    m = model()
    weights: dict[int, list[object]] = {}
    constant = coefficients([(1.0, m.total[1, "a"]), (0.5, m.total[2, "a"])], weights)
    by_name = {v.name: c for v, c in weights.values()}  # type: ignore[attr-defined]
    assert constant == pytest.approx(15.0)
    assert by_name == pytest.approx({"x[1]": 1.0, "x[3]": 3.0, "x[2]": 0.5})


def test_zero_coefficients_are_dropped() -> None:
    m = model()
    e = linear([(0.0, m.x[1]), (1.0, m.x[2])])
    assert len(e.args) == 1
