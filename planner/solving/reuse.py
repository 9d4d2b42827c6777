"""Reuse a compiled model across scenarios that change only costs or supply limits.

Handing a model to HiGHS (``compile_model``: every row read into a sparse matrix, see
``planner.solving.standard_form``) is the costly part of preparing a solve. Scenarios of a
study often change only prices (objective coefficients) or Supply capacities (right-hand
sides): then the constraint matrix is the same as one already compiled in this worker.
``ReusingCompiler`` keeps compiled models keyed on everything else in the inputs, and for
such a scenario takes the cached matrix and bounds, recomputing only the objective and
the right-hand sides of the families the registry says those inputs move
(``models.registry``: ``COST_INPUTS`` and each family's ``rhs_inputs``), from the
scenario's freshly built Pyomo model (whose expressions the plan is read from).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from models.registry import COST_INPUTS, FAMILIES, SETTINGS_OUTSIDE_MATRIX, UNMODELLED_INPUTS
from planner.inputs.data import SHEET_ATTRS, PlanningData
from planner.solving.compiled import CompiledModel, compile_model, copy_lp

# Columns that only enter the objective, or only the right-hand side of some rows
# (``models.registry``; its test rebuilds the matrix with each of them changed).
_MATRIX_FREE = (
    COST_INPUTS | UNMODELLED_INPUTS | {c for f in FAMILIES.values() for c in f.rhs_inputs}
)
COST_OR_RHS_COLUMNS: dict[str, frozenset[str]] = {
    sheet: frozenset(c.split(".", 1)[1] for c in _MATRIX_FREE if c.split(".", 1)[0] == sheet)
    for sheet in sorted({c.split(".", 1)[0] for c in _MATRIX_FREE})
}
COST_OR_RHS_SETTINGS = SETTINGS_OUTSIDE_MATRIX
# Below this many columns a fresh compile is faster than mapping a cached one (measured:
# reference workbook, 1k columns, 0.04 s fresh vs 0.10 s reused; 200-site synthetic, 37k
# columns, hand-off 0.62 s fresh vs 0.22 s reused).
REUSE_MIN_COLUMNS = 5_000
# Rows whose right-hand side a scenario may move: recomputed from the new model.
RHS_ROWS = frozenset(f.name for f in FAMILIES.values() if f.rhs_inputs)


def structure_key(data: PlanningData) -> str:
    """A hash of every input that can change the constraint matrix or the bounds."""
    blob: dict[str, Any] = {
        "settings": {
            k: v for k, v in data.settings.model_dump().items() if k not in COST_OR_RHS_SETTINGS
        },
    }
    for sheet, attr in SHEET_ATTRS.items():
        if sheet in ("Scenarios", "Sweeps", "Uncertainty"):
            continue
        skip = COST_OR_RHS_COLUMNS.get(sheet, frozenset())
        blob[sheet] = [
            {k: v for k, v in row.model_dump(by_alias=True).items() if k not in skip}
            for row in getattr(data, attr)
        ]
        if sheet == "Supply":  # which rows exist matters; their capacities do not
            blob[sheet] = [(r.year, r.resource) for r in getattr(data, attr)]
    text = json.dumps(blob, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class ReusingCompiler:
    """A ``compile`` hook for ``planner.api.solve`` that reuses matrices it has seen."""

    def __init__(self, min_columns: int = REUSE_MIN_COLUMNS) -> None:
        self.min_columns = min_columns
        self.cache: dict[str, Compiled] = {}
        self.key: str | None = None
        self.reused = 0

    def for_data(self, data: PlanningData) -> ReusingCompiler:
        self.key = structure_key(data)
        return self

    def __call__(self, m: pyo.ConcreteModel) -> CompiledModel:
        cached = self.cache.get(self.key) if self.key else None
        if cached is not None:
            reused = retarget(cached, m)
            if reused is not None:
                self.reused += 1
                return reused
        cm = compile_model(m)
        if self.key and len(cm.columns) >= self.min_columns:
            # Names, not Pyomo objects: the model they belong to is freed after its solve.
            self.cache[self.key] = Compiled(
                cm, [_key(v) for v in cm.columns], [(_key(c), k) for c, k in cm.rows]
            )
        return cm


@dataclass
class Compiled:
    """A compiled model with the names of its columns and rows (family, kind)."""

    cm: CompiledModel
    columns: list[Key]
    rows: list[tuple[Key, int]]


Key = tuple[str, Any]  # (component name, index): cheaper than Pyomo's full names


def _key(obj: Any) -> Key:
    return (obj.parent_component().local_name, obj.index())


def _by_key(m: pyo.ConcreteModel, ctype: Any) -> dict[Key, Any]:
    return {_key(x): x for x in m.component_data_objects(ctype, active=True)}


def retarget(cached: Compiled, m: pyo.ConcreteModel) -> CompiledModel | None:
    """``cached``'s matrix with ``m``'s objective and supply limits, mapped onto ``m``'s
    variables; None when ``m`` does not fit (then it is compiled afresh)."""
    variables = _by_key(m, pyo.Var)
    try:
        columns = [variables[key] for key in cached.columns]
    except KeyError:
        return None
    index = {id(v): j for j, v in enumerate(columns)}
    objective = next(m.component_data_objects(pyo.Objective, active=True))
    repn = generate_standard_repn(objective.expr, compute_values=True)
    cost = np.zeros(len(columns))
    for v, coef in zip(repn.linear_vars, repn.linear_coefs, strict=True):
        j = index.get(id(v))
        if j is None:
            return None  # a variable the cached matrix does not have
        cost[j] += coef
    lp = copy_lp(cached.cm.lp, cached.cm.integer)
    lp.col_cost_ = cost
    upper = np.array(cached.cm.lp.row_upper_, dtype=float)
    constraints = _by_key(m, pyo.Constraint)
    rows = []
    for i, (key, kind) in enumerate(cached.rows):
        new = constraints.get(key)
        if new is None:
            return None
        rows.append((new, kind))
        if key[0] in RHS_ROWS and kind > 0:
            body = generate_standard_repn(new.body, compute_values=True)
            upper[i] = pyo.value(new.upper) - float(body.constant or 0.0)
    lp.row_upper_ = upper
    return CompiledModel(
        lp=lp,
        columns=columns,
        rows=rows,
        offset=float(repn.constant or 0.0),
        integer=cached.cm.integer,
    )
