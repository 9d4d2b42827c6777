"""What-if scenarios and sweeps: changes to validated inputs, validated like the inputs.

A scenario is every ``Scenarios`` row with the same ``scenario`` name; each row changes one
column of the rows it selects in one sheet (``set``, ``scale`` or ``add``), or ``insert``s
a row the base lacks (key columns from ``row_id``, e.g. ``2028:co2_t`` in Supply). A sweep
(``Sweeps`` sheet) expands into one scenario per step, named ``<sweep>=<value>``.

Every change is checked before anything is solved: an unknown sheet, row or column, a bad
op, a value the column cannot hold, or a result that fails the workbook's cross-sheet
checks is a ``Problem`` naming the ``Scenarios`` (or ``Sweeps``) row that caused it.

``row_id`` addresses rows by the sheet's key columns joined with ``:``
(``SitePower``: ``<site_id>:<source_id>``, ``Supply``: ``<year>:<resource>``), by the
first key column alone (``Cooling``: ``<site_id>`` selects every cooling design of the
site), or ``*`` for every row. ``Settings`` rows are addressed by the setting key, with
column ``value``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from planner.inputs.data import SHEET_ATTRS, PlanningData
from planner.inputs.problems import InputError, Problem
from planner.inputs.schema import (
    SETTINGS_SHEET,
    SHEETS,
    STUDY_SHEETS,
    Row,
    SettingsModel,
    SheetSpec,
    field_expect,
)
from planner.inputs.validate import _kind, coerce, cross_check

SCENARIOS_SHEET = "Scenarios"
SWEEPS_SHEET = "Sweeps"
BASE = "base"
OPS = ("set", "scale", "add", "insert")
SCALES = ("linear", "log")
DATA_SHEETS: dict[str, SheetSpec] = {s.name: s for s in SHEETS}
# Column letters of the study sheets as the template writes them (messages only).
LETTERS: dict[str, dict[str, str]] = {
    spec.name: {c: chr(ord("A") + i) for i, c in enumerate(spec.columns)} for spec in STUDY_SHEETS
}


@dataclass(frozen=True)
class Change:
    """One change to the inputs, and the study row it came from."""

    sheet: str
    row_id: str
    column: str
    op: str
    value: Any
    origin_sheet: str = SCENARIOS_SHEET
    origin_row: int | None = None
    note: str = ""
    scenario: str = ""


@dataclass(frozen=True)
class Scenario:
    """A named set of changes; sweep steps also carry the sweep and the swept value."""

    name: str
    changes: tuple[Change, ...] = ()
    sweep: str | None = None
    swept_value: float | None = None
    sweep_scale: str | None = None


# ---------------------------------------------------------------- parsing and sweeps


def scenario_rows(data: PlanningData) -> list[tuple[int, Any]]:
    """``(excel_row, ScenarioRow)``; the sheet has no key, so rows are numbered in order
    (header on row 1). Blank rows skipped by the reader shift these numbers."""
    return [(i + 2, row) for i, row in enumerate(data.scenarios)]


def declared_scenarios(data: PlanningData) -> list[Scenario]:
    """The ``Scenarios`` sheet grouped by name, in order of first appearance."""
    groups: dict[str, list[Change]] = {}
    for excel_row, r in scenario_rows(data):
        groups.setdefault(r.scenario, []).append(
            Change(
                r.sheet,
                r.row_id,
                r.column,
                r.op,
                r.value,
                SCENARIOS_SHEET,
                excel_row,
                r.note,
                r.scenario,
            )
        )
    return [Scenario(name, tuple(changes)) for name, changes in groups.items()]


def sweep_values(start: float, stop: float, steps: int, scale: str) -> list[float]:
    """``steps`` values from ``start`` to ``stop``, ends included (geometric for log)."""
    spaced = np.geomspace if scale == "log" else np.linspace
    values = spaced(start, stop, steps)
    out = [float(v) for v in values]
    out[0], out[-1] = float(start), float(stop)  # exact ends, no rounding drift
    return [float(f"{v:.12g}") for v in out]


def format_value(value: float) -> str:
    return f"{value:.4g}"


def expand_sweeps(data: PlanningData) -> tuple[list[Scenario], list[Problem]]:
    """One scenario per sweep step; problems for bad scales, ranges or columns."""
    scenarios: list[Scenario] = []
    problems: list[Problem] = []
    rows = data.cells.rows.get(SWEEPS_SHEET, {})
    letters = data.cells.letters.get(SWEEPS_SHEET, {})
    for i, sw in enumerate(data.sweeps):
        excel_row = rows.get((sw.sweep,), i + 2)

        def bad(column: str, value: Any, message: str, row: int = excel_row) -> None:
            problems.append(
                Problem(
                    SWEEPS_SHEET,
                    message,
                    row=row,
                    column=column,
                    letter=letters.get(column),
                    value=value,
                )
            )

        scale = sw.scale.strip().lower()
        if scale not in SCALES:
            bad("scale", sw.scale, "must be linear or log")
            continue
        if scale == "log" and (sw.from_ <= 0 or sw.to <= 0):
            bad(
                "from" if sw.from_ <= 0 else "to",
                sw.from_ if sw.from_ <= 0 else sw.to,
                "a log sweep needs positive from and to values",
            )
            continue
        values = sweep_values(sw.from_, sw.to, sw.steps, scale)
        spec = DATA_SHEETS.get(sw.sheet)
        if spec is not None and sw.column in spec.columns and _kind(spec.field(sw.column)) is int:
            values = list(dict.fromkeys(float(round(v)) for v in values))
        for v in values:
            name = f"{sw.sweep}={format_value(v)}"
            change = Change(
                sw.sheet, sw.row_id, sw.column, "set", v, SWEEPS_SHEET, excel_row, scenario=name
            )
            scenarios.append(Scenario(name, (change,), sw.sweep, v, scale))
    return scenarios, problems


# ---------------------------------------------------------------- applying changes


def _selects(spec: SheetSpec, row: Row, row_id: str) -> bool:
    if row_id == "*":
        return True
    key = spec.key_of(row)
    return row_id == ":".join(key) or (len(key) > 1 and row_id == key[0])


def _problem(change: Change, message: str, column: str = "value", value: Any = None) -> Problem:
    shown = change.value if value is None and column == "value" else value
    letter = LETTERS.get(change.origin_sheet, {}).get(column)
    if change.scenario:
        message = f"scenario '{change.scenario}': {message}"
    return Problem(
        change.origin_sheet,
        message,
        row=change.origin_row,
        column=column,
        letter=letter,
        value=shown,
    )


def _new_value(change: Change, old: Any, f: Any) -> tuple[Any, str | None]:
    """The changed value, or an error message."""
    kind = _kind(f)
    if change.op == "set":
        value = coerce(change.value, f)
        if value is None and f.is_required():
            return None, "set needs a value"
        return value, None
    if kind not in (int, float):
        return None, f"{change.op} works only on number columns; use set"
    amount = change.value
    if isinstance(amount, str):
        try:
            amount = float(amount.replace(",", "").replace("_", "").strip())
        except ValueError:
            return None, f"{change.op} needs a number"
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount):
        return None, f"{change.op} needs a finite number"
    if old is None:
        return None, f"the column is empty in the input, so there is nothing to {change.op}"
    new = old * amount if change.op == "scale" else old + amount
    if kind is int and float(new).is_integer():
        new = int(new)
    return new, None


def _validated(model: type[BaseModel], values: dict[str, Any]) -> tuple[Any, str | None]:
    try:
        return model.model_validate(values), None
    except ValidationError as exc:
        err = exc.errors()[0]
        column = str(err["loc"][0]) if err["loc"] else ""
        f = model.model_fields.get(column)
        expect = field_expect(f) if f is not None else ""
        return None, expect or str(err.get("msg", "invalid value"))


def _apply_settings(settings: SettingsModel, change: Change) -> tuple[SettingsModel, list[Problem]]:
    fields = SettingsModel.model_fields
    if change.row_id not in fields:
        return settings, [
            _problem(
                change,
                f"unknown setting '{change.row_id}' (one of {', '.join(fields)})",
                "row_id",
                change.row_id,
            )
        ]
    if change.column not in ("value", change.row_id):
        return settings, [
            _problem(change, "Settings rows are changed in column 'value'", "column", change.column)
        ]
    old = getattr(settings, change.row_id)
    new, error = _new_value(change, old, fields[change.row_id])
    if error is None:
        values = settings.model_dump()
        values[change.row_id] = new
        checked, error = _validated(SettingsModel, values)
        if error is None:
            return checked, []
        error = f"the new value {new!r} is invalid: the setting {error}"
    return settings, [_problem(change, error or "invalid")]


def _apply_table(
    rows: list[Row], spec: SheetSpec, change: Change
) -> tuple[list[Row], list[Problem]]:
    if change.column not in spec.columns:
        return rows, [
            _problem(
                change,
                f"no column '{change.column}' in {spec.name} (one of {', '.join(spec.columns)})",
                "column",
                change.column,
            )
        ]
    if change.op == "insert":
        return _insert_row(rows, spec, change)
    if change.column in spec.key:
        return rows, [
            _problem(
                change,
                f"'{change.column}' is a key column of {spec.name} and cannot be changed",
                "column",
                change.column,
            )
        ]
    attr = spec.attr(change.column)
    f = spec.field(change.column)
    selected = [i for i, r in enumerate(rows) if _selects(spec, r, change.row_id)]
    if not selected:
        if change.row_id == "*":
            return rows, [_problem(change, f"{spec.name} has no rows", "row_id", change.row_id)]
        hint = " or ".join(
            ":".join(spec.key[: n + 1]) for n in range(len(spec.key)) if n in (0, len(spec.key) - 1)
        )
        return rows, [
            _problem(
                change,
                f"no row with id '{change.row_id}' in {spec.name} (ids are {hint}, or *)",
                "row_id",
                change.row_id,
            )
        ]
    out = list(rows)
    for i in selected:
        old = getattr(rows[i], attr)
        new, error = _new_value(change, old, f)
        if error is None:
            # model_copy(update=...) skips validation, so validate the changed fields.
            values = rows[i].model_dump(by_alias=True)
            values[change.column] = new
            checked, error = _validated(spec.model, values)
            if error is None:
                out[i] = checked
                continue
            error = (
                f"the new value {new!r} for row {':'.join(spec.key_of(rows[i]))} "
                f"is invalid: {change.column} {error}"
            )
        return rows, [_problem(change, error or "invalid")]
    return out, []


def _insert_row(
    rows: list[Row], spec: SheetSpec, change: Change
) -> tuple[list[Row], list[Problem]]:
    """``insert``: a new row whose key columns are ``row_id`` split at ``:`` (trailing
    optional keys may be left out), with ``column`` set to ``value`` and every other
    column at its default; later ``set`` rows of the scenario may change it."""
    parts = change.row_id.split(":")
    if not 1 <= len(parts) <= len(spec.key) or not all(parts):
        return rows, [
            _problem(
                change,
                f"insert needs a row id of {':'.join(spec.key)} for {spec.name}",
                "row_id",
                change.row_id,
            )
        ]
    if any(spec.key_of(r) == tuple(parts) for r in rows):
        return rows, [
            _problem(change, f"{spec.name} already has row '{change.row_id}': use set", "row_id")
        ]
    values: dict[str, Any] = dict(zip(spec.key, parts, strict=False))
    values[change.column] = coerce(change.value, spec.field(change.column))
    row, error = _validated(spec.model, values)
    if error is not None:
        return rows, [_problem(change, f"the inserted row is invalid: {error}")]
    return [*rows, row], []


def apply_changes(
    data: PlanningData, changes: Sequence[Change]
) -> tuple[PlanningData | None, list[Problem]]:
    """A new, validated ``PlanningData`` with the changes applied in order, or problems."""
    problems: list[Problem] = []
    settings = data.settings
    tables: dict[str, list[Row]] = {
        name: list(getattr(data, SHEET_ATTRS[name])) for name in DATA_SHEETS
    }
    for change in changes:
        if change.op not in OPS:
            problems.append(
                _problem(
                    change,
                    f"unknown op '{change.op}': use set, scale, add or insert",
                    "op",
                    change.op,
                )
            )
            continue
        if change.sheet == SETTINGS_SHEET:
            settings, found = _apply_settings(settings, change)
        elif change.sheet in DATA_SHEETS:
            tables[change.sheet], found = _apply_table(
                tables[change.sheet], DATA_SHEETS[change.sheet], change
            )
        else:
            found = [
                _problem(
                    change,
                    f"unknown sheet '{change.sheet}' (one of "
                    f"{SETTINGS_SHEET}, {', '.join(DATA_SHEETS)})",
                    "sheet",
                    change.sheet,
                )
            ]
        problems.extend(found)
    if problems:
        return None, problems
    new = dataclasses.replace(
        data,
        settings=settings,
        scenarios=[],
        sweeps=[],
        **{SHEET_ATTRS[name]: rows for name, rows in tables.items()},  # type: ignore[arg-type]
    )
    errors = [p for p in cross_check(new) if p.severity == "error"]
    if errors:
        first = changes[0] if changes else None
        return None, [
            Problem(
                first.origin_sheet if first else SCENARIOS_SHEET,
                f"scenario '{first.scenario if first else ''}' makes the inputs invalid: {p}",
                row=first.origin_row if first else None,
            )
            for p in errors
        ]
    return new, []


def study_scenarios(data: PlanningData) -> list[tuple[Scenario, PlanningData]]:
    """The base case and every scenario and sweep step, each with its inputs.

    Raises ``InputError`` listing every problem of every scenario (nothing is solved).
    """
    declared = declared_scenarios(data)
    swept, problems = expand_sweeps(data)
    base_data = dataclasses.replace(data, scenarios=[], sweeps=[])
    out: list[tuple[Scenario, PlanningData]] = [(Scenario(BASE), base_data)]
    seen: dict[str, Scenario] = {BASE: out[0][0]}
    for sc in declared + swept:
        if sc.name in seen:
            first = sc.changes[0] if sc.changes else None
            problems.append(
                Problem(
                    first.origin_sheet if first else SCENARIOS_SHEET,
                    f"scenario name '{sc.name}' is used twice (by a scenario, a sweep step or "
                    "the base case)",
                    row=first.origin_row if first else None,
                )
            )
            continue
        seen[sc.name] = sc
        new, found = apply_changes(base_data, sc.changes)
        problems.extend(found)
        if new is not None:
            out.append((sc, new))
    if problems:
        letters = data.cells.letters
        problems.sort(key=lambda p: (p.sheet != SCENARIOS_SHEET, p.row or 0))
        raise InputError(
            [
                dataclasses.replace(
                    p, letter=letters.get(p.sheet, {}).get(p.column or "", p.letter)
                )
                for p in problems
            ]
        )
    return out


# ---------------------------------------------------------------- hashing


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)  # exact, and NaN/inf safe
    return value


def canonical_inputs(data: PlanningData) -> dict[str, Any]:
    """Every sheet's rows and the settings, as plain JSON-able data (no study sheets)."""
    out: dict[str, Any] = {
        SETTINGS_SHEET: {k: _plain(v) for k, v in data.settings.model_dump().items()}
    }
    for name in DATA_SHEETS:
        out[name] = [
            {k: _plain(v) for k, v in row.model_dump(by_alias=True).items()}
            for row in getattr(data, SHEET_ATTRS[name])
        ]
    return out


def effective_hash(data: PlanningData) -> str:
    """SHA-256 of the inputs a solve sees (every sheet's rows and the settings)."""
    text = json.dumps(canonical_inputs(data), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
