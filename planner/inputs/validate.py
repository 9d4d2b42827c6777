"""Turn raw workbook rows into validated ``PlanningData``, collecting every problem.

Types, units and ranges come from ``planner.inputs.schema``; the cross-sheet checks below are
data: a condition and the message a spreadsheet user sees.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from planner.inputs.data import SHEET_ATTRS, CellMap, PlanningData
from planner.inputs.problems import InputError, Problem, short
from planner.inputs.reader import ExcelError, RawSheet, RawWorkbook, UncachedFormula, read_workbook
from planner.inputs.schema import (
    BUILTIN_RESOURCES,
    CO2_RESOURCE,
    GPU_MATERIALS,
    GPU_RESOURCE_PREFIX,
    SETTINGS_COLUMNS,
    SETTINGS_SHEET,
    SHEET_BY_NAME,
    SHEETS,
    STUDY_SHEETS,
    SUPPLY_RESOURCES,
    Row,
    SettingsModel,
    SheetSpec,
    field_expect,
)

NEEDS_ROWS = ("Sites", "PowerSources", "SitePower", "GPUs", "Runs")
# Cells holding no value the planner can read, whatever their column's type.
UNREADABLE: dict[type, str] = {
    UncachedFormula: "is not a saved value: open the workbook in Excel and save it (Excel "
    "saves the value of each formula), or type the value",
    ExcelError: "is an Excel error: the formula in this cell failed; fix it or type the value",
}
TRUE_WORDS = {"true", "yes", "y", "1", "x"}
FALSE_WORDS = {"false", "no", "n", "0"}


def load_workbook(path: Path | str) -> PlanningData:
    """Read and validate a workbook; raise ``InputError`` listing every problem."""
    raw = read_workbook(path)
    data, problems = validate_raw(raw)
    errors = [p for p in problems if p.severity == "error"]
    if errors or data is None:
        raise InputError(errors or problems)
    return data


def validate_path(path: Path | str) -> tuple[PlanningData | None, list[Problem]]:
    """Validate a file, returning the data (when valid) and every problem and warning."""
    try:
        raw = read_workbook(path)
    except InputError as exc:
        return None, exc.problems
    return validate_raw(raw)


def validate_raw(raw: RawWorkbook) -> tuple[PlanningData | None, list[Problem]]:
    problems: list[Problem] = []
    cells = CellMap()
    settings = _read_settings(raw, problems, cells)
    tables: dict[str, list[Row]] = {}
    for spec in SHEETS + STUDY_SHEETS:
        sheet = _find_sheet(raw, spec.name, spec.required, problems)
        tables[spec.name] = _read_table(sheet, spec, problems, cells) if sheet else []
    problems.extend(_other_sheets(raw))
    for spec in SHEETS:
        sheet = raw.sheets.get(spec.name)
        if spec.name in NEEDS_ROWS and sheet is not None and sheet.header and not sheet.rows:
            problems.append(Problem(spec.name, "has no data rows: at least one is needed"))
    # Cross-sheet checks run on the rows that did validate, so that every problem is
    # reported in one run; horizon checks need valid settings.
    data = PlanningData(
        settings=settings or SettingsModel.model_construct(),
        cells=cells,
        source_name=raw.path.name,
        source_sha256=raw.sha256,
        **{SHEET_ATTRS[name]: rows for name, rows in tables.items()},  # type: ignore[arg-type]
    )
    # A missing sheet or column would make every reference to it look wrong: then the
    # structural problems alone are reported.
    if not any(p.severity == "error" and p.row is None for p in problems):
        problems.extend(cross_check(data, settings_ok=settings is not None))
    if settings is None or any(p.severity == "error" for p in problems):
        return None, problems
    return data, problems


def _other_sheets(raw: RawWorkbook) -> list[Problem]:
    """Sheets outside the contract are ignored with a warning; one named like a contract
    sheet that is there too ("Site Power" beside "SitePower") is an error: which one holds
    the data meant?"""
    known = {s.name for s in SHEETS + STUDY_SHEETS} | {SETTINGS_SHEET, "Sources", "Guide"}
    problems = []
    for name in raw.sheets:
        near = [k for k in known if _same_name(name, k)]
        if name in known:
            continue
        if not near:
            problems.append(
                Problem(
                    name, "sheet is not part of the contract and is ignored", severity="warning"
                )
            )
        elif near[0] in raw.sheets:
            problems.append(
                Problem(
                    name,
                    f"sheets {near[0]!r} and {name!r} differ only in case or spaces; keep "
                    "one of them (or rename the other)",
                )
            )
    return problems


def _same_name(found: str, wanted: str) -> bool:
    return found.lower().replace(" ", "") == wanted.lower()


def _find_sheet(
    raw: RawWorkbook, name: str, required: bool, problems: list[Problem]
) -> RawSheet | None:
    if name in raw.sheets:
        return raw.sheets[name]
    near = [n for n in raw.sheets if _same_name(n, name)]
    if near:
        problems.append(Problem(near[0], f"sheet must be named exactly '{name}'"))
    elif required:
        problems.append(Problem(name, "required sheet is missing"))
    return None


def _check_header(
    sheet: RawSheet, spec_columns: list[str], required: list[str], problems: list[Problem]
) -> bool:
    names = [n for n, _ in sheet.header]
    ok = True
    for n in {n for n in names if names.count(n) > 1}:
        problems.append(
            Problem(
                sheet.name, f"column '{n}' appears more than once (header row {sheet.header_row})"
            )
        )
        ok = False
    for column in required:
        if column not in names:
            near = [n for n in names if n.lower() == column.lower()]
            hint = f" (found '{near[0]}': names are case-sensitive)" if near else ""
            problems.append(
                Problem(
                    sheet.name,
                    f"required column '{column}' is missing from "
                    f"the header row {sheet.header_row}{hint}",
                )
            )
            ok = False
    for column, letter in sheet.header:
        if column not in spec_columns:
            problems.append(
                Problem(
                    sheet.name,
                    f"extra column '{column}' is ignored",
                    row=sheet.header_row,
                    letter=letter,
                    severity="warning",
                )
            )
    return ok


def _read_table(
    sheet: RawSheet, spec: SheetSpec, problems: list[Problem], cells: CellMap
) -> list[Row]:
    if not _check_header(sheet, spec.columns, spec.required_columns(), problems):
        return []
    letters = dict(sheet.header)
    cells.letters[spec.name] = letters
    rows: list[Row] = []
    seen: dict[tuple[str, ...], int] = {}
    for excel_row, values in sheet.rows:
        row = _validate_row(spec.model, values, spec.name, excel_row, letters, problems)
        if row is None:
            if spec.key:  # its id is still known, so references to it are not errors too
                cells.unvalidated.setdefault(spec.name, set()).add(
                    str(coerce(values.get(spec.key[0]), spec.field(spec.key[0])))
                )
            continue
        if spec.key:
            key = spec.key_of(row)
            if key in seen:
                problems.append(
                    Problem(
                        spec.name,
                        f"duplicate of row {seen[key]}: {' + '.join(spec.key)} must be unique",
                        row=excel_row,
                        column=spec.key[-1],
                        letter=letters.get(spec.key[-1]),
                        value=values.get(spec.key[-1]),
                    )
                )
                continue
            seen[key] = excel_row
        rows.append(row)
    cells.rows[spec.name] = seen
    return rows


def _validate_row(
    model: type[Row],
    values: dict[str, Any],
    sheet: str,
    excel_row: int,
    letters: dict[str, str],
    problems: list[Problem],
) -> Row | None:
    # Cells with no readable value are named as such; the row's other cells are still
    # checked, so that one run reports every problem.
    unreadable = unreadable_cells(values, sheet, excel_row, letters, model_columns(model))
    problems.extend(unreadable)
    skip = {p.column for p in unreadable}
    cleaned: dict[str, Any] = {}
    for name, f in model.model_fields.items():
        column = f.alias or name
        if column in values and column not in skip:
            value = coerce(values[column], f)
            if value is not None:
                cleaned[column] = value
    try:
        row = model.model_validate(cleaned)
    except ValidationError as exc:
        for err in exc.errors():
            column = str(err["loc"][0]) if err["loc"] else ""
            if column in skip:
                continue
            found = values.get(column)
            problems.append(
                Problem(
                    sheet,
                    _message(err, _field_by_column(model, column), found),
                    row=excel_row,
                    column=column,
                    letter=letters.get(column),
                    value=found,
                )
            )
        return None
    return None if unreadable else row


def model_columns(model: type[Row]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def unreadable_cells(
    values: dict[str, Any], sheet: str, excel_row: int, letters: dict[str, str], columns: set[str]
) -> list[Problem]:
    """Formulas with no saved value and Excel errors in the contract's columns, named as
    such: a text column would otherwise take the formula's text as an id or a name."""
    return [
        Problem(
            sheet,
            UNREADABLE[type(value)],
            row=excel_row,
            column=column,
            letter=letters.get(column),
            value=value,
        )
        for column, value in values.items()
        if column in columns and type(value) in UNREADABLE
    ]


def _field_by_column(model: type[Row], column: str) -> FieldInfo | None:
    for name, f in model.model_fields.items():
        if (f.alias or name) == column:
            return f
    return None


def _message(err: Any, f: FieldInfo | None, found: Any) -> str:
    expect = field_expect(f) if f is not None else ""
    if err["type"] == "missing":
        return f"is empty: a value is required ({expect.removeprefix('must be ')})"
    if isinstance(found, float) and not math.isfinite(found):
        return f"{expect} (not infinite or NaN)"
    if err["type"] == "value_error":  # the schema's own reason (e.g. solver magnitudes)
        return str(err.get("msg", "")).removeprefix("Value error, ")
    return expect or str(err.get("msg", "invalid value"))


def _kind(f: FieldInfo) -> type | None:
    """The plain Python type a column holds (None for mixed columns)."""
    ann = f.annotation
    if get_origin(ann) in (Union, types.UnionType):
        args = [a for a in get_args(ann) if a is not type(None)]
        return args[0] if len(args) == 1 else None
    return ann if isinstance(ann, type) else None


def coerce(value: Any, f: FieldInfo) -> Any:
    """Spreadsheet leniency: trimmed text, numbers stored as text, TRUE/yes, 2026.0 years.

    Returns None for an empty cell so that defaults apply; anything that cannot be read
    is passed through unchanged for pydantic to reject with a clear message.
    """
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
    if value is None:
        return None
    kind = _kind(f)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        word = str(value).lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        return value
    if kind in (int, float):
        if isinstance(value, bool):
            return str(value)  # TRUE in a number column is an error, not 1
        if isinstance(value, str):
            text = value.replace(",", "").replace("_", "").replace(" ", "")
            try:
                value = float(text)
            except ValueError:
                return value
        if kind is int and isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        return value
    if kind is str:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value) if not isinstance(value, str) else value
    return value


def _read_settings(
    raw: RawWorkbook, problems: list[Problem], cells: CellMap
) -> SettingsModel | None:
    """The validated Settings (None when the sheet, its header or a value is wrong, each
    reported in ``problems``); records where each setting sits in ``cells``."""
    sheet = _find_sheet(raw, SETTINGS_SHEET, True, problems)
    if sheet is None:
        return None
    if not _check_header(sheet, list(SETTINGS_COLUMNS), list(SETTINGS_COLUMNS), problems):
        return None
    letters = dict(sheet.header)
    cells.letters[SETTINGS_SHEET] = letters
    values, rows = _settings_values(sheet, letters, problems)
    cells.rows[SETTINGS_SHEET] = {(k,): r for k, r in rows.items()}
    try:
        return SettingsModel.model_validate(values)
    except ValidationError as exc:
        problems.extend(_settings_problems(exc, sheet, rows, letters))
        return None


def _settings_values(
    sheet: RawSheet, letters: dict[str, str], problems: list[Problem]
) -> tuple[dict[str, Any], dict[str, int]]:
    """The coerced value of each known setting (empty cells left out so defaults apply)
    and the Excel row each key is on; unknown keys (a warning) and repeated keys (an
    error) are reported in row order and skipped."""
    fields = SettingsModel.model_fields
    values: dict[str, Any] = {}
    rows: dict[str, int] = {}
    for excel_row, cells_ in sheet.rows:
        unreadable = unreadable_cells(
            cells_, SETTINGS_SHEET, excel_row, letters, set(SETTINGS_COLUMNS)
        )
        if unreadable:
            problems.extend(unreadable)
            if not any(p.column == "value" for p in unreadable):
                problems.extend(_non_finite_value(cells_.get("value"), excel_row, letters))
            continue
        key = str(cells_.get("key") or "").strip()
        if key not in fields:
            problems.append(
                Problem(
                    SETTINGS_SHEET,
                    f"unknown setting '{short(key)}' is ignored",
                    row=excel_row,
                    column="key",
                    letter=letters.get("key"),
                    value=key,
                    severity="warning",
                )
            )
            problems.extend(_non_finite_value(cells_.get("value"), excel_row, letters))
            continue
        if key in rows:
            problems.append(
                Problem(
                    SETTINGS_SHEET,
                    f"duplicate of row {rows[key]}",
                    row=excel_row,
                    column="key",
                    letter=letters.get("key"),
                    value=key,
                )
            )
            continue
        rows[key] = excel_row
        value = coerce(cells_.get("value"), fields[key])
        if value is not None:
            values[key] = value
    return values, rows


def _non_finite_value(value: Any, excel_row: int, letters: dict[str, str]) -> list[Problem]:
    """A value no setting takes (inf, NaN) on a row whose key cannot be read or names no
    setting: named at its own cell too, since the key cannot say which setting it was for."""
    try:
        number = float(value) if isinstance(value, str | float | int) else None
    except ValueError:
        number = None
    if number is None or math.isfinite(number):
        return []
    return [
        Problem(
            SETTINGS_SHEET,
            "must be a finite number (not infinite or NaN)",
            row=excel_row,
            column="value",
            letter=letters.get("value"),
            value=value,
        )
    ]


def _settings_problems(
    exc: ValidationError, sheet: RawSheet, rows: dict[str, int], letters: dict[str, str]
) -> list[Problem]:
    """One problem per rejected setting, in pydantic's order: at the value cell of a
    setting that has a row, or a sheet-level 'add a row' for one that has none."""
    fields = SettingsModel.model_fields
    problems: list[Problem] = []
    for err in exc.errors():
        key = str(err["loc"][0])
        found = next((c.get("value") for r, c in sheet.rows if r == rows.get(key)), None)
        if key in rows:
            problems.append(
                Problem(
                    SETTINGS_SHEET,
                    _message(err, fields[key], found),
                    row=rows[key],
                    column=key,
                    letter=letters.get("value"),
                    value=found,
                )
            )
        else:
            problems.append(
                Problem(
                    SETTINGS_SHEET,
                    f"setting '{key}' is missing: add a row "
                    f"with key {key} ({field_expect(fields[key])})",
                )
            )
    return problems


# ---------------------------------------------------------------- cross-sheet checks

Check = Callable[[PlanningData], Iterator[Problem]]


def _at(
    data: PlanningData,
    sheet: str,
    key: tuple[str, ...],
    column: str,
    value: Any,
    message: str,
    severity: str = "error",
) -> Problem:
    # Settings values all sit in the sheet's `value` column.
    letter_of = "value" if sheet == SETTINGS_SHEET else column
    return Problem(
        sheet,
        message,
        row=data.cells.rows.get(sheet, {}).get(key),
        column=column,
        letter=data.cells.letters.get(sheet, {}).get(letter_of),
        value=value,
        severity=severity,
    )


def _check_horizon(d: PlanningData) -> Iterator[Problem]:
    s = d.settings
    if s.end_year < s.start_year:
        yield _at(
            d,
            SETTINGS_SHEET,
            ("end_year",),
            "end_year",
            s.end_year,
            f"must not be before start_year ({s.start_year})",
        )
    elif s.end_year - s.start_year > 60:
        yield _at(
            d,
            SETTINGS_SHEET,
            ("end_year",),
            "end_year",
            s.end_year,
            "the horizon may span at most 60 years",
        )


def _check_references(d: PlanningData) -> Iterator[Problem]:
    """Ids that name a row of another sheet and find none, sheet by sheet (Cooling,
    SitePower, ExportControls, FiberLinks, Supply), with the in-row checks that go along."""
    skip = d.cells.unvalidated  # ids of rows already reported as invalid
    sites = {s.site_id for s in d.sites} | skip.get("Sites", set())
    sources = {p.source_id for p in d.power_sources} | skip.get("PowerSources", set())
    gpus = {g.gpu_id for g in d.gpus} | skip.get("GPUs", set())
    yield from _check_cooling_refs(d, sites)
    yield from _check_site_power_refs(d, sites, sources)
    yield from _check_export_control_refs(d, gpus)
    yield from _check_fiber_link_refs(d, sites)
    yield from _check_supply_refs(d, gpus)
    yield from _check_material_refs(d, gpus)


def _check_material_refs(d: PlanningData, gpus: set[str]) -> Iterator[Problem]:
    """GPUMaterials rows for an unknown GPU, or repeating a GPUs column (a resource
    counted twice), and Supply resources no GPU consumes (a warning: they cap nothing)."""
    columns = {g.gpu_id: g for g in d.gpus}
    for r in d.gpu_materials:
        key = (r.gpu_id, r.resource)
        if r.gpu_id not in gpus:
            yield _at(d, "GPUMaterials", key, "gpu_id", r.gpu_id, "no GPU with this id in GPUs")
        elif r.resource in GPU_MATERIALS and r.gpu_id in columns:
            column, _ = GPU_MATERIALS[r.resource]
            if getattr(columns[r.gpu_id], column):
                yield _at(
                    d,
                    "GPUMaterials",
                    key,
                    "resource",
                    r.resource,
                    f"GPUs.{column} of {r.gpu_id} already counts {r.resource}: set one or "
                    "the other",
                )
        counted = r.resource in (*BUILTIN_RESOURCES, CO2_RESOURCE)
        if (counted or r.resource.startswith(GPU_RESOURCE_PREFIX)) and (
            r.resource not in GPU_MATERIALS
        ):
            yield _at(
                d,
                "GPUMaterials",
                key,
                "resource",
                r.resource,
                "is counted by the planner itself, not per GPU",
            )
    yield from _unused_supply(d)


def _unused_supply(d: PlanningData) -> Iterator[Problem]:
    """Supply rows of a GPUMaterials resource that no GPU consumes (amounts all zero)."""
    named = {r.resource for r in d.gpu_materials} - set(GPU_MATERIALS)
    used = {r.resource for r in d.gpu_materials if r.amount_per_gpu > 0}
    for sup in d.supply:
        if sup.resource in named - used:
            yield _at(
                d,
                "Supply",
                SHEET_BY_NAME["Supply"].key_of(sup),
                "resource",
                sup.resource,
                "no GPU consumes this resource (GPUMaterials), so the row caps nothing",
                severity="warning",
            )


def _check_cooling_refs(d: PlanningData, sites: set[str]) -> Iterator[Problem]:
    """Cooling rows for a site that is not in Sites."""
    for c in d.cooling:
        if c.site_id not in sites:
            yield _at(
                d,
                "Cooling",
                (c.site_id, c.cooling_id),
                "site_id",
                c.site_id,
                "no site with this id in Sites",
            )


def _check_site_power_refs(
    d: PlanningData, sites: set[str], sources: set[str]
) -> Iterator[Problem]:
    """SitePower rows naming an unknown site or source, or with more existing MW than
    their max_mw; a row's problems come together, in column order."""
    for sp in d.site_power:
        key = (sp.site_id, sp.source_id)
        if sp.site_id not in sites:
            yield _at(d, "SitePower", key, "site_id", sp.site_id, "no site with this id in Sites")
        if sp.source_id not in sources:
            yield _at(
                d,
                "SitePower",
                key,
                "source_id",
                sp.source_id,
                "no source with this id in PowerSources",
            )
        if sp.existing_mw > sp.max_mw:
            yield _at(
                d,
                "SitePower",
                key,
                "existing_mw",
                sp.existing_mw,
                f"must not exceed max_mw ({sp.max_mw:g}), which includes it",
            )


def _check_export_control_refs(d: PlanningData, gpus: set[str]) -> Iterator[Problem]:
    """ExportControls rows naming an unknown GPU (an error) or a country no site is in (a
    warning: the rule is harmless, but likely a misspelt country)."""
    countries = {s.country for s in d.sites}
    for e in d.export_controls:
        if e.gpu_id not in gpus:
            yield _at(
                d,
                "ExportControls",
                (e.country, e.gpu_id),
                "gpu_id",
                e.gpu_id,
                "no GPU with this id in GPUs",
            )
        if e.country not in countries:
            yield _at(
                d,
                "ExportControls",
                (e.country, e.gpu_id),
                "country",
                e.country,
                "no site is in this country",
                severity="warning",
            )


def _check_fiber_link_refs(d: PlanningData, sites: set[str]) -> Iterator[Problem]:
    """FiberLinks rows with an end that is not in Sites, or that join a site to itself."""
    for link in d.fiber_links:
        for column in ("site_a", "site_b"):
            site = getattr(link, column)
            if site not in sites:
                yield _at(
                    d, "FiberLinks", (link.link_id,), column, site, "no site with this id in Sites"
                )
        if link.site_a == link.site_b:
            yield _at(
                d,
                "FiberLinks",
                (link.link_id,),
                "site_b",
                link.site_b,
                "a link must join two different sites",
            )


def _check_supply_refs(d: PlanningData, gpus: set[str]) -> Iterator[Problem]:
    """Supply rows whose resource is neither a known resource nor gpu:<a GPU in GPUs>,
    and countries no site is in (a warning: the row caps nothing)."""
    countries = {s.country for s in d.sites}
    materials = {r.resource for r in d.gpu_materials}
    for sup in d.supply:
        key = SHEET_BY_NAME["Supply"].key_of(sup)
        res = sup.resource
        if res.startswith(GPU_RESOURCE_PREFIX):
            if res.removeprefix(GPU_RESOURCE_PREFIX) not in gpus:
                yield _at(d, "Supply", key, "resource", res, "no GPU with this id in GPUs")
        elif res not in SUPPLY_RESOURCES and res not in materials:
            yield _at(
                d,
                "Supply",
                key,
                "resource",
                res,
                f"must be one of {', '.join(SUPPLY_RESOURCES)}, gpu:<gpu_id>, or a resource "
                "of GPUMaterials",
            )
        if sup.country and sup.country not in countries:
            yield _at(
                d,
                "Supply",
                key,
                "country",
                sup.country,
                "no site is in this country, so the row caps nothing",
                severity="warning",
            )


def _check_years(d: PlanningData) -> Iterator[Problem]:
    start, end = d.settings.start_year, d.settings.end_year
    for g in d.gpus:
        if g.available_year > end:
            yield _at(
                d,
                "GPUs",
                (g.gpu_id,),
                "available_year",
                g.available_year,
                f"is after the plan's end_year ({end}): the GPU could never be bought",
            )
    for r in d.runs:
        if not start <= r.ready_year <= end:
            yield _at(
                d,
                "Runs",
                (r.run_id,),
                "ready_year",
                r.ready_year,
                f"must be within the plan's years {start}-{end}",
            )
    for s in d.sites:
        if s.earliest_year > end:
            yield _at(
                d,
                "Sites",
                (s.site_id,),
                "earliest_year",
                s.earliest_year,
                f"is after end_year ({end}): the site can never be used",
                severity="warning",
            )
    for sup in d.supply:
        if not start <= sup.year <= end:
            yield _at(
                d,
                "Supply",
                SHEET_BY_NAME["Supply"].key_of(sup),
                "year",
                sup.year,
                f"is outside the plan's years {start}-{end} and is ignored",
                severity="warning",
            )


CROSS_CHECKS: tuple[Check, ...] = (_check_references,)
SETTINGS_CHECKS: tuple[Check, ...] = (_check_horizon, _check_years)


def cross_check(data: PlanningData, *, settings_ok: bool = True) -> list[Problem]:
    checks = CROSS_CHECKS + (SETTINGS_CHECKS if settings_ok else ())
    return [p for check in checks for p in check(data)]
