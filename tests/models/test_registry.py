"""The registry of constraint families and variables (``models/registry.py``) matches what
the models build, and its claims about inputs hold.

Every ``Constraint`` and ``Var`` component the models build has an entry, and every entry
is built by some model (the plain model, the diagnosis' elastic model, a locked model).
The inputs the registry says only move costs or right-hand sides are checked by
rebuilding the matrix with each of them changed: if a constraint ever reads one of them,
study reuse would silently solve the wrong matrix, and this test fails.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import openpyxl
import pyomo.environ as pyo
import pytest

from models import registry
from models.alternatives import AlternativeSpec
from models.build import build_model
from models.elastic import add_elastic, loosen
from models.frontier import add_frontier, frontier_model_data
from models.locks import Locks, fix_locks
from models.sets import build_model_data
from planner import api
from planner.inputs.data import SHEET_ATTRS, PlanningData
from planner.solving.compiled import compile_model
from planner.solving.reuse import COST_OR_RHS_COLUMNS, RHS_ROWS

REFERENCE = Path(__file__).resolve().parents[2] / "inputs" / "reference.xlsx"


@pytest.fixture(scope="module")
def reference() -> PlanningData:
    return api.load(REFERENCE)


def built_models(data: PlanningData) -> list[pyo.ConcreteModel]:
    """The plain model, the elastic model of the diagnosis, a model with a lock, a
    near-optimal search model (cost cap, use objective), one with every switch away from
    its default (idle GPUs draw no power, each gpu_mix), and a run's frontier with a
    budget."""
    d = build_model_data(data)
    plain = build_model(d)
    mixes = ["site", "run", "vendor"]
    switched = dataclasses.replace(
        data,
        settings=data.settings.model_copy(
            update={"idle_gpus_draw_power": False, "capex_accounting": "annuity"}
        ),
        runs=[
            r.model_copy(update={"gpu_mix": mixes[i % 3], "run_id": f"{r.run_id}-{i}"})
            for i, r in enumerate(data.runs * 2)
        ],
    )
    elastic = build_model(build_model_data(loosen(data)))
    add_elastic(elastic, d)
    locked = build_model(d)
    site = next(k for k in locked.SITE_BUILD)
    fix_locks(locked, Locks(sites=[(site[0], site[2], None, None)]))
    run = data.runs[0].run_id
    fd = frontier_model_data(data, run)
    frontier = build_model(fd)
    add_frontier(frontier, fd, run, budget_musd=1e5)
    near = build_model(d)
    AlternativeSpec(
        cap_musd=1e9,
        site_weights=((site[0], 1.0),),
        cost_weight=1e-6,
        site_caps=(((site[0],), 100.0),),
        gpu_caps=(((next(iter(near.GPU_BUY))[1],), 1000.0),),
    )(near)
    return [plain, elastic, locked, near, build_model(switched), frontier]


def unregistered(
    models: list[pyo.ConcreteModel], ctype: type, entries: set[str]
) -> tuple[set[str], set[str]]:
    """(components built without an entry, entries no model builds)."""
    built = {c.local_name for m in models for c in m.component_objects(ctype)}
    return built - entries, entries - built


def test_every_constraint_family_has_one_entry_and_every_entry_is_built(
    reference: PlanningData,
) -> None:
    missing, unused = unregistered(built_models(reference), pyo.Constraint, set(registry.FAMILIES))
    assert not missing, f"constraint families without a registry entry: {missing}"
    assert not unused, f"registry entries no model builds: {unused}"


def test_every_variable_has_one_entry_and_every_entry_is_built(reference: PlanningData) -> None:
    missing, unused = unregistered(built_models(reference), pyo.Var, set(registry.VARIABLES))
    assert not missing and not unused, (missing, unused)


def test_a_removed_entry_is_caught(reference: PlanningData) -> None:
    entries = set(registry.FAMILIES) - {"compute_hbm_supply"}
    missing, _ = unregistered(built_models(reference), pyo.Constraint, entries)
    assert missing == {"compute_hbm_supply"}


@pytest.fixture(scope="module")
def reference_with_co2_cap(tmp_path_factory: pytest.TempPathFactory) -> PlanningData:
    """The reference workbook with one more Supply row: a co2_t cap (no emissions cap is
    in the base; scenarios add one)."""
    wb = openpyxl.load_workbook(REFERENCE)
    wb["Supply"].append([2029, "co2_t", 5_000_000, ""])
    path = tmp_path_factory.mktemp("co2") / "reference-co2.xlsx"
    wb.save(path)
    return api.load(path)


def test_every_priced_limit_names_a_workbook_cell(reference_with_co2_cap: PlanningData) -> None:
    reference = reference_with_co2_cap
    d = build_model_data(reference)
    m = build_model(d)
    for fam in registry.PRICED:
        rows = list(getattr(m, fam.name).keys())
        assert rows, f"the reference builds no {fam.name} row"
        for idx in rows:
            key = idx if isinstance(idx, tuple) else (idx,)
            cell = fam.cell(d, key)
            assert cell.startswith(f"{fam.limit.sheet}!"), (fam.name, key, cell)
            assert np.isfinite(fam.model_rhs(d, key))


def _matrix(data: PlanningData) -> tuple[np.ndarray, ...]:
    """The compiled matrix, column bounds, and row bounds of rows with fixed limits."""
    m = build_model(data)
    cm = compile_model(m)
    free = np.array([c.parent_component().local_name in RHS_ROWS for c, _ in cm.rows])
    lp = cm.lp
    return (
        np.asarray(lp.a_matrix_.start_),
        np.asarray(lp.a_matrix_.index_),
        np.asarray(lp.a_matrix_.value_),
        np.asarray(lp.col_lower_),
        np.asarray(lp.col_upper_),
        np.where(free, 0.0, np.asarray(lp.row_lower_)),
        np.where(free, 0.0, np.asarray(lp.row_upper_)),
    )


def _changed(data: PlanningData, sheet: str, column: str) -> PlanningData | None:
    """``data`` with ``column`` of every row of ``sheet`` changed, or None if nothing is."""
    rows = getattr(data, SHEET_ATTRS[sheet])
    out = []
    for row in rows:
        value = getattr(row, column)
        if isinstance(value, bool):
            return None
        if value is None:  # an optional override left empty: give it a value
            new: object = 42.0
        else:
            new = value + "-x" if isinstance(value, str) else value * 1.37 + 1.0
        out.append(row.model_copy(update={column: new}))
    return dataclasses.replace(data, **{SHEET_ATTRS[sheet]: out}) if out else None


@pytest.mark.parametrize(
    "sheet_column",
    sorted(f"{s}.{c}" for s, cols in COST_OR_RHS_COLUMNS.items() for c in cols),
)
def test_cost_or_rhs_inputs_leave_the_matrix_alone(
    reference: PlanningData, sheet_column: str
) -> None:
    sheet, column = sheet_column.split(".", 1)
    changed = _changed(reference, sheet, column)
    if changed is None:
        pytest.skip(f"the reference has no {sheet_column} to change")
    base, moved = _matrix(reference), _matrix(changed)
    for part, (x, y) in enumerate(zip(base, moved, strict=True)):
        assert x.shape == y.shape and np.allclose(x, y), f"{sheet_column} moves matrix part {part}"


def test_a_structural_input_does_move_the_matrix(reference: PlanningData) -> None:
    """The check above can fail: GPUs.it_kw is a coefficient of the IT-load rows."""
    changed = _changed(reference, "GPUs", "it_kw")
    assert changed is not None
    base, moved = _matrix(reference), _matrix(changed)
    assert not all(
        x.shape == y.shape and np.allclose(x, y) for x, y in zip(base, moved, strict=True)
    )
