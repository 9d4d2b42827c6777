"""``planner template OUT.xlsx``: every contract sheet, a Settings sheet and a Guide that
documents every column, all derived from ``planner.inputs.schema``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from planner.inputs.schema import (
    SETTINGS_COLUMNS,
    SETTINGS_SHEET,
    SHEETS,
    STUDY_SHEETS,
    SettingsModel,
)
from planner.inputs.template import GUIDE_COLUMNS, write_template
from planner.inputs.validate import validate_path


@pytest.fixture(scope="module")
def template_path(tmp_path_factory: pytest.TempPathFactory, cli: Callable[..., Any]) -> Path:
    """Written once by the CLI into a folder that does not exist yet."""
    out = tmp_path_factory.mktemp("template") / "new" / "blank.xlsx"
    result = cli("template", out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"template written to {out}" in result.stdout
    return out


@pytest.fixture(scope="module")
def template_wb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Written in-process by ``write_template``, what the CLI calls (checked in the slow
    test below), so that the schema checks stay in the fast subset."""
    wb = openpyxl.load_workbook(write_template(tmp_path_factory.mktemp("tpl") / "blank.xlsx"))
    yield wb
    wb.close()


def header(ws: Any) -> list[Any]:
    return [c.value for c in ws[1] if c.value is not None]


def data_rows(ws: Any) -> list[tuple[Any, ...]]:
    return [r for r in ws.iter_rows(min_row=2, values_only=True) if any(v is not None for v in r)]


def test_template_has_every_sheet(template_wb: Any) -> None:
    names = template_wb.sheetnames
    for spec in SHEETS:
        assert spec.name in names
    assert SETTINGS_SHEET in names
    assert "Guide" in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize("spec", SHEETS + STUDY_SHEETS, ids=lambda s: s.name)
def test_template_headers_equal_schema_columns(template_wb: Any, spec: Any) -> None:
    if spec in STUDY_SHEETS and spec.name not in template_wb.sheetnames:
        pytest.skip("optional study sheet not in the template")
    ws = template_wb[spec.name]
    assert header(ws) == spec.columns
    assert data_rows(ws) == []  # blank: no example rows to delete


def test_template_settings_lists_every_setting(template_wb: Any) -> None:
    ws = template_wb[SETTINGS_SHEET]
    assert header(ws) == list(SETTINGS_COLUMNS)
    keys = [r[0] for r in data_rows(ws)]
    assert keys == list(SettingsModel.model_fields)
    values = {r[0]: r[1] for r in data_rows(ws)}
    for name, f in SettingsModel.model_fields.items():
        if f.is_required():
            assert values[name] is None, name  # the user must fill these in
        else:
            assert values[name] == f.default, name


def test_guide_covers_every_column_of_every_sheet(template_wb: Any) -> None:
    ws = template_wb["Guide"]
    assert header(ws) == list(GUIDE_COLUMNS)
    rows = data_rows(ws)
    documented = [(r[0], r[1]) for r in rows]
    expected = [(SETTINGS_SHEET, name) for name in SettingsModel.model_fields]
    expected += [(spec.name, column) for spec in SHEETS + STUDY_SHEETS for column in spec.columns]
    assert sorted(documented) == sorted(expected)
    assert len(documented) == len(set(documented))
    # every row explains itself
    desc = GUIDE_COLUMNS.index("description")
    assert all(r[desc] for r in rows), [r for r in rows if not r[desc]]


def test_guide_text_matches_schema(template_wb: Any) -> None:
    rows = {
        (r[0], r[1]): dict(zip(GUIDE_COLUMNS, r, strict=False))
        for r in data_rows(template_wb["Guide"])
    }
    for spec in SHEETS:
        for column in spec.columns:
            f = spec.field(column)
            row = rows[(spec.name, column)]
            assert row["description"] == f.description
            if f.is_required() and spec.required:
                assert row["required"] == "yes", (spec.name, column)
            elif not f.is_required():
                assert row["required"] == "no", (spec.name, column)


@pytest.mark.slow
def test_blank_template_fails_validation_cleanly(
    template_path: Path, cli: Callable[..., Any], template_wb: Any
) -> None:
    cli_wb = openpyxl.load_workbook(template_path)
    assert cli_wb.sheetnames == template_wb.sheetnames  # the CLI writes what the tests read
    for ws in cli_wb.worksheets:
        assert header(ws) == header(template_wb[ws.title]), ws.title
    cli_wb.close()
    data, problems = validate_path(template_path)
    assert data is None
    errors = [str(p) for p in problems if p.severity == "error"]
    required = [n for n, f in SettingsModel.model_fields.items() if f.is_required()]
    assert required  # start_year, end_year, discount_rate
    keys = [r[0] for r in data_rows(openpyxl.load_workbook(template_path)[SETTINGS_SHEET])]
    for name in required:
        where = f"Settings!B{keys.index(name) + 2} {name} = (empty): is empty"
        assert any(e.startswith(where) for e in errors), (where, errors)
    # ... and each data sheet a plan cannot do without is reported as empty.
    from planner.inputs.validate import NEEDS_ROWS

    for sheet in NEEDS_ROWS:
        assert f"{sheet}: has no data rows: at least one is needed" in errors
    assert len(errors) == len(required) + len(NEEDS_ROWS)

    result = cli("validate", template_path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    for e in errors:
        assert f"error: {e}" in result.stderr
    assert f"{len(errors)} error(s) found" in result.stderr
