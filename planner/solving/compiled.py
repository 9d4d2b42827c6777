"""The model as HiGHS sees it: a ``highspy.HighsLp`` read from the Pyomo model (see
``standard_form``), with the maps back to Pyomo columns and rows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from models.registry import IMPLIED_FAMILIES
from planner.solving.standard_form import standard_form

INF = highspy.kHighsInf


@dataclass
class CompiledModel:
    """The model as HiGHS sees it, with the maps back to Pyomo."""

    lp: Any
    columns: list[Any]
    rows: list[tuple[Any, int]]
    offset: float
    integer: np.ndarray
    build_s: float = 0.0

    @cached_property
    def column_at(self) -> dict[int, int]:
        """Each Pyomo variable's column, by ``id`` of the variable."""
        return {id(v): j for j, v in enumerate(self.columns)}

    @cached_property
    def implied_rows(self) -> np.ndarray:
        """Mask of the rows of implied families (``models.registry.Family.implied``);
        none when the rows are not known."""
        mask = np.zeros(int(self.lp.num_row_), dtype=bool)
        mask[: len(self.rows)] = [
            c.parent_component().local_name in IMPLIED_FAMILIES for c, _ in self.rows
        ]
        return mask

    @property
    def size(self) -> dict[str, int]:
        return {
            "rows": int(self.lp.num_row_),
            "columns": int(self.lp.num_col_),
            "nonzeros": int(len(self.lp.a_matrix_.value_)),
            "integer_columns": int(self.integer.sum()),
        }

    def coefficient_range(self) -> tuple[float, float]:
        vals = np.abs(np.asarray(self.lp.a_matrix_.value_))
        vals = vals[vals > 0]
        return (float(vals.min()), float(vals.max())) if len(vals) else (0.0, 0.0)


def compile_model(m: pyo.ConcreteModel) -> CompiledModel:
    """Pyomo model -> ``highspy.HighsLp`` (CSC matrix, bounds, integrality)."""
    t0 = time.perf_counter()
    with PauseGC():  # see models.build.build_model: collections only cost time here
        sf = standard_form(m)
    a = sf.A
    n_col, n_row = a.shape[1], a.shape[0]
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.col_cost_ = sf.c
    lower = np.empty(n_col)
    upper = np.empty(n_col)
    integer = np.zeros(n_col, dtype=bool)
    for j, v in enumerate(sf.columns):
        lb, ub = v.bounds
        lower[j] = -INF if lb is None else lb
        upper[j] = INF if ub is None else ub
        integer[j] = v.is_integer() or v.is_binary()
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    kinds = np.array([k for _, k in sf.rows], dtype=int)
    lp.row_lower_ = np.where(kinds <= 0, sf.rhs, -INF) if n_row else np.zeros(0)
    lp.row_upper_ = np.where(kinds >= 0, sf.rhs, INF) if n_row else np.zeros(0)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer
    ]
    return CompiledModel(
        lp=lp,
        columns=sf.columns,
        rows=sf.rows,
        offset=sf.offset,
        integer=integer,
        build_s=time.perf_counter() - t0,
    )


def copy_lp(src: Any, integer: np.ndarray) -> Any:
    """A copy of a ``HighsLp`` with the given integrality (``HighsLp`` has no copy)."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = src.num_col_, src.num_row_
    lp.col_cost_ = np.array(src.col_cost_)
    lp.col_lower_, lp.col_upper_ = np.array(src.col_lower_), np.array(src.col_upper_)
    lp.row_lower_, lp.row_upper_ = np.array(src.row_lower_), np.array(src.row_upper_)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(src.a_matrix_.start_)
    lp.a_matrix_.index_ = np.array(src.a_matrix_.index_)
    lp.a_matrix_.value_ = np.array(src.a_matrix_.value_)
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer
    ]
    return lp


def fixed_copy(src: Any, integer: np.ndarray, fix: np.ndarray, x: np.ndarray) -> Any:
    """A copy of ``src`` with ``integer`` columns integer and ``fix`` columns fixed at
    ``x`` (rounded, within their bounds)."""
    lp = copy_lp(src, integer)
    lower = np.array(src.col_lower_, dtype=float)
    upper = np.array(src.col_upper_, dtype=float)
    lower[fix] = upper[fix] = np.clip(np.round(x[fix]), lower[fix], upper[fix])
    lp.col_lower_, lp.col_upper_ = lower, upper
    return lp


def without_implied_rows(lp: Any, cm: CompiledModel) -> Any:
    """``lp`` (a copy of ``cm.lp``) with the rows of implied families free
    (``CompiledModel.implied_rows``): in an LP whose duals are read they would take the
    dual of the limit they repeat."""
    lower, upper = np.array(lp.row_lower_, dtype=float), np.array(lp.row_upper_, dtype=float)
    lower[cm.implied_rows], upper[cm.implied_rows] = -INF, INF
    lp.row_lower_, lp.row_upper_ = lower, upper
    return lp


def load_values(m: pyo.ConcreteModel, cm: CompiledModel, x: np.ndarray) -> None:
    """Write a solution vector back into the Pyomo variables (integers rounded)."""
    for j, v in enumerate(cm.columns):
        val = float(x[j])
        if cm.integer[j]:
            val = float(round(val))
        v.set_value(val, skip_validation=True)
    for v in m.component_data_objects(pyo.Var, descend_into=True):
        if v.value is None:
            lb = v.lb
            v.set_value(lb if lb is not None and lb > 0 else 0.0, skip_validation=True)
