"""The fast matrix reader (``planner/solving/standard_form.py``) against Pyomo's own compiler.

Both must describe the same problem: the same rows (constraint and kind), the same
columns (possibly in another order), and equal coefficients, right-hand sides, costs and
objective offset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import factory as f
import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from models.build import build_model
from models.locks import Locks, fix_locks
from planner import api
from planner.solving.standard_form import NotFlat, _read_flat, standard_form

REFERENCE = Path(__file__).resolve().parents[2] / "inputs" / "reference.xlsx"


def pyomo_form(m: pyo.ConcreteModel) -> Any:
    return LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=pyo.minimize)


def assert_same_problem(m: pyo.ConcreteModel) -> None:
    fast = _read_flat(m)
    ref = pyomo_form(m)
    assert [(id(c), k) for c, k in fast.rows] == [(id(c), k) for c, k in ref.rows]
    assert {id(v) for v in fast.columns} == {id(v) for v in ref.columns}
    order = {id(v): j for j, v in enumerate(fast.columns)}
    perm = np.array([order[id(v)] for v in ref.columns])
    a_fast = fast.A.toarray()[:, perm]
    np.testing.assert_allclose(a_fast, ref.A.toarray(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(fast.rhs, np.asarray(ref.rhs, dtype=float), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        fast.c[perm], np.asarray(ref.c.toarray()).ravel(), rtol=1e-12, atol=0
    )
    assert fast.offset == pytest.approx(float(ref.c_offset[0]), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "data",
    [
        f.instance(),
        f.grid_instance(transformer_cap=1.0),
        f.two_site_instance(),
        f.large_instance(n_sites=6, n_runs=3),
    ],
    ids=["one-site", "grid", "network", "mixed"],
)
def test_same_problem_as_pyomos_compiler(data: Any) -> None:
    assert_same_problem(build_model(data))


def test_same_problem_on_the_reference_workbook() -> None:
    assert_same_problem(build_model(api.load(REFERENCE)))


def test_fixed_variables_move_to_the_right_hand_side() -> None:
    m = build_model(f.instance())
    fix_locks(m, Locks(gpus=[("S1", "G1", 2026, 120_000)]))
    assert_same_problem(m)


def test_a_body_that_is_not_flat_falls_back_to_pyomo() -> None:
    m = build_model(f.instance())
    m.extra = pyo.Constraint(expr=2.0 * (m.gpus_bought["S1", "G1", 2026] + 1.0) <= 1e9)
    with pytest.raises(NotFlat):
        _read_flat(m)
    sf = standard_form(m)
    assert any(c is m.extra for c, _ in sf.rows)
