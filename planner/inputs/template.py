"""The blank template and its Guide sheet, both derived from ``planner.inputs.schema``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from planner.inputs.excel import new_workbook, save_atomic, write_table
from planner.inputs.schema import (
    SETTINGS_COLUMNS,
    SETTINGS_SHEET,
    SHEETS,
    STUDY_SHEETS,
    SettingsModel,
    SheetSpec,
    field_expect,
    field_unit,
)

GUIDE_COLUMNS = ("sheet", "column", "unit", "required", "default", "allowed", "description")


def guide_rows() -> list[tuple[Any, ...]]:
    """One row per column of every sheet: the text the validator also uses."""
    rows: list[tuple[Any, ...]] = []
    for name, f in SettingsModel.model_fields.items():
        rows.append(
            (
                SETTINGS_SHEET,
                name,
                field_unit(f),
                "yes" if f.is_required() else "no",
                _default(f.default),
                field_expect(f).removeprefix("must be "),
                f.description or "",
            )
        )
    for spec in SHEETS + STUDY_SHEETS:
        for column in spec.columns:
            f = spec.field(column)
            required = (
                "yes"
                if f.is_required() and spec.required
                else ("yes (if sheet used)" if f.is_required() else "no")
            )
            rows.append(
                (
                    spec.name,
                    column,
                    field_unit(f),
                    required,
                    _default(f.default),
                    field_expect(f).removeprefix("must be "),
                    f.description or "",
                )
            )
    return rows


def _default(value: Any) -> Any:
    return None if value is PydanticUndefined or value is None else value


def write_input_workbook(
    out: Path,
    settings: Mapping[str, Any],
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    extra_sheets: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> Path:
    """Write an input workbook: Settings, every contract sheet, extra sheets, the Guide."""
    wb = new_workbook()
    write_table(
        wb.create_sheet(SETTINGS_SHEET),
        list(SETTINGS_COLUMNS),
        [(k, v) for k, v in settings.items()],
    )
    for spec in SHEETS + STUDY_SHEETS:
        rows = tables.get(spec.name)
        if rows is None and not spec.required and spec not in STUDY_SHEETS:
            rows = []
        if rows is None and spec in STUDY_SHEETS:
            continue
        _write_rows(wb.create_sheet(spec.name), spec, rows or [])
    for name, rows in (extra_sheets or {}).items():
        columns = list(rows[0].keys()) if rows else []
        write_table(wb.create_sheet(name), columns, [[r.get(c) for c in columns] for r in rows])
    write_table(
        wb.create_sheet("Guide"),
        list(GUIDE_COLUMNS),
        guide_rows(),
    )
    return save_atomic(wb, out)


def _write_rows(ws: Any, spec: SheetSpec, rows: Sequence[Mapping[str, Any]]) -> None:
    """A contract sheet, each column formatted by its schema unit (money as typed)."""
    columns = spec.columns
    units = {c: field_unit(spec.field(c)) for c in columns}
    write_table(ws, columns, [[r.get(c) for c in columns] for r in rows], units=units)


def write_template(out: Path) -> Path:
    """A blank workbook with every sheet's header, the default settings and the Guide."""
    settings = {name: _default(f.default) for name, f in SettingsModel.model_fields.items()}
    tables: dict[str, list[dict[str, Any]]] = {spec.name: [] for spec in SHEETS + STUDY_SHEETS}
    return write_input_workbook(out, settings, tables)
