"""``planner validate`` on real .xlsx files: the reference workbook, edited copies of it,
and files that are not Excel workbooks at all.

Each invalid case is checked twice: through ``planner.inputs.validate.validate_path`` and
through the CLI in a subprocess (exit code 1, the message on stderr, no traceback).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from openpyxl.utils import get_column_letter

from planner.inputs.problems import Problem
from planner.inputs.schema import SHEETS
from planner.inputs.validate import validate_path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "inputs" / "reference.xlsx"


# ----------------------------------------------------------------------- helpers


def column_letter(ws: Any, column: str) -> str:
    """The letter of the header cell named ``column`` in row 1."""
    for cell in ws[1]:
        if cell.value == column:
            return get_column_letter(cell.column)
    raise KeyError(f"{ws.title} has no column {column!r}")


def row_of(ws: Any, row_id: str | int) -> int:
    """An explicit Excel row number, or the first data row whose column A equals ``row_id``."""
    if isinstance(row_id, int):
        return row_id
    for r in range(2, ws.max_row + 1):
        if ws.cell(row=r, column=1).value == row_id:
            return r
    raise KeyError(f"{ws.title} has no row {row_id!r}")


def put(wb: Any, sheet: str, row_id: str | int, column: str, value: Any) -> str:
    """Write ``value`` into a cell; return where it is as ``Sheet!F7``."""
    ws = wb[sheet]
    ref = f"{column_letter(ws, column)}{row_of(ws, row_id)}"
    ws[ref] = value
    return f"{sheet}!{ref}"


def rename_sheet(wb: Any, old: str, new: str) -> None:
    # openpyxl compares titles case-insensitively, so go through a neutral name.
    wb[old].title = "zz_renaming"
    wb["zz_renaming"].title = new


def errors_of(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems if p.severity == "error"]


def warnings_of(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems if p.severity != "error"]


def check_cli_clean(result: Any, code: int) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout
    assert "internal error" not in result.stderr


def validate_both(path: Path, cli: Callable[..., Any]) -> tuple[Any, list[Problem], Any]:
    """``validate_path`` in-process while ``planner validate PATH`` runs in a subprocess."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(cli, "validate", path)
        data, problems = validate_path(path)
        return data, problems, pending.result()


def assert_invalid(path: Path, cli: Callable[..., Any] | None, *expected: str) -> list[str]:
    """Invalid in-process and on the CLI; every ``expected`` text starts one error line.

    ``cli=None`` checks in-process only: used for the extra variants of a case whose
    CLI behaviour is already covered, to keep the file fast (one subprocess ~0.5 s).
    """
    if cli is None:
        data, problems = validate_path(path)
    else:
        data, problems, result = validate_both(path, cli)
    errors = errors_of(problems)
    assert data is None
    assert errors, problems
    for text in expected:
        assert any(e.startswith(text) for e in errors), (text, errors)
    if cli is None:
        return errors
    check_cli_clean(result, 1)
    assert result.stdout.strip() == ""
    for text in expected:
        assert f"error: {text}" in result.stderr, (text, result.stderr)
    assert f"{len(errors)} error(s) found" in result.stderr
    return errors


def via_cli(*values: Any) -> Any:
    """A case also checked through ``planner validate`` in a subprocess: marked slow."""
    return pytest.param(*values, True, marks=pytest.mark.slow)


def only_error(errors: list[str], prefix: str) -> str:
    hits = [e for e in errors if e.startswith(prefix)]
    assert len(hits) == 1, (prefix, errors)
    return hits[0]


# --------------------------------------------------------------- the reference file


@pytest.mark.slow
def test_reference_workbook_is_valid(cli: Callable[..., Any], reference_copy: Path) -> None:
    data, problems, result = validate_both(reference_copy, cli)
    assert data is not None, [str(p) for p in problems]
    assert errors_of(problems) == []
    assert len(data.sites) > 0 and len(data.gpus) > 0 and len(data.runs) > 0
    check_cli_clean(result, 0)
    assert "valid" in result.stdout
    assert "error" not in result.stderr


@pytest.mark.slow
def test_validate_without_argument_uses_reference_workbook(cli: Callable[..., Any]) -> None:
    result = cli("validate", cwd=REPO)
    check_cli_clean(result, 0)
    assert "inputs/reference.xlsx: valid" in result.stdout


@pytest.mark.slow
def test_validate_without_argument_elsewhere_says_file_not_found(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    result = cli("validate", cwd=tmp_path)
    check_cli_clean(result, 1)
    assert "error: reference.xlsx: file not found" in result.stderr


# ------------------------------------------------------------------ sheets, columns


@pytest.mark.slow
def test_missing_required_sheet(cli: Callable[..., Any], edited_workbook: Any) -> None:
    path = edited_workbook(lambda wb: wb.remove(wb["GPUs"]))
    errors = assert_invalid(path, cli, "GPUs: required sheet is missing")
    assert len(errors) == 1


@pytest.mark.slow
@pytest.mark.parametrize("how", ["blank_header", "delete_column"])
def test_missing_required_column(cli: Callable[..., Any], edited_workbook: Any, how: str) -> None:
    def edit(wb: Any) -> None:
        ws = wb["Sites"]
        letter = column_letter(ws, "pue")
        if how == "blank_header":
            ws[f"{letter}1"] = None
        else:
            ws.delete_cols(ws[f"{letter}1"].column)

    errors = assert_invalid(edited_workbook(edit), cli, "Sites")
    msg = only_error(errors, "Sites")
    assert "required column 'pue' is missing" in msg
    assert len(errors) == 1


@pytest.mark.slow
def test_column_with_wrong_case_gets_a_hint(cli: Callable[..., Any], edited_workbook: Any) -> None:
    path = edited_workbook(lambda wb: put(wb, "Sites", 1, "pue", "PUE"))
    errors = assert_invalid(path, cli, "Sites")
    msg = only_error(errors, "Sites")
    assert "required column 'pue' is missing" in msg
    assert "found 'PUE'" in msg


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sheet", "wrong"),
    [
        ("GPUs", "gpus"),
        ("Settings", "SETTINGS"),
        ("Cooling", "cooling"),
        ("PowerSources", "Power Sources"),
    ],
)
def test_sheet_named_with_different_case(
    cli: Callable[..., Any], edited_workbook: Any, sheet: str, wrong: str
) -> None:
    path = edited_workbook(lambda wb: rename_sheet(wb, sheet, wrong))
    errors = assert_invalid(path, cli, f"{wrong}: sheet must be named exactly '{sheet}'")
    assert len(errors) == 1


@pytest.mark.slow
def test_extra_column_is_a_warning_only(cli: Callable[..., Any], edited_workbook: Any) -> None:
    def edit(wb: Any) -> None:
        ws = wb["Sites"]
        col = ws.max_column + 1
        ws.cell(row=1, column=col, value="notes")
        ws.cell(row=2, column=col, value="anything at all")

    path = edited_workbook(edit)
    data, problems, result = validate_both(path, cli)
    assert data is not None, [str(p) for p in problems]
    assert errors_of(problems) == []
    letter = get_column_letter(len(next(s for s in SHEETS if s.name == "Sites").columns) + 1)
    warning = f"Sites!{letter}1: extra column 'notes' is ignored"
    assert warning in warnings_of(problems)
    check_cli_clean(result, 0)
    assert f"warning: {warning}" in result.stderr
    assert "valid" in result.stdout


@pytest.mark.slow
def test_extra_sheet_is_a_warning_only(cli: Callable[..., Any], edited_workbook: Any) -> None:
    def edit(wb: Any) -> None:
        wb.create_sheet("Scratch")["A1"] = "my own notes"

    data, problems, result = validate_both(edited_workbook(edit), cli)
    assert data is not None
    assert "Scratch: sheet is not part of the contract and is ignored" in warnings_of(problems)
    check_cli_clean(result, 0)


# ------------------------------------------------------------------ cell values


@pytest.mark.parametrize(
    ("sheet", "row_id", "column", "value", "expect", "via_cli"),
    [
        # wrong type
        via_cli("Sites", "US-ABI", "max_it_mw", "abc", "must be a positive number of MW"),
        ("Sites", "US-ABI", "max_it_mw", True, "must be a positive number of MW", False),
        ("GPUs", "H100", "life_years", 5.5, "must be a whole number", False),
        ("GPUs", "H100", "available_year", "next year", "must be a calendar year", False),
        ("PowerSources", "grid", "via_grid", "maybe", "TRUE or FALSE", False),
        # negative money
        via_cli("Sites", "US-MEM", "shell_capex_usd_per_mw", -5, "must be a number of USD/MW >= 0"),
        via_cli("GPUs", "H100", "capex_usd", -1, "must be a number of USD >= 0"),
        ("PowerSources", "grid", "capex_usd_per_mw", -100, ">= 0", False),
        ("FiberLinks", "F-ABI-DEN", "capex_usd", -1, ">= 0", False),
        # PUE out of [1, 3]
        via_cli("Sites", "US-ABI", "pue", 0.9, ">= 1 and <= 3"),
        via_cli("Sites", "US-ABI", "pue", 3.5, ">= 1 and <= 3"),
        ("Cooling", 2, "pue", 0.9, ">= 1 and <= 3", False),
        # fractions above 1
        via_cli("Runs", "frontier-2027", "mfu", 1.5, "must be a number > 0 and <= 1"),
        via_cli("PowerSources", "grid", "firm_fraction", 2, "must be a number > 0 and <= 1"),
        # other ranges
        ("Sites", "US-ABI", "latitude", 91, ">= -90 and <= 90", False),
        ("Runs", "frontier-2029", "max_sites", 0, "must be a whole number", False),
    ],
)
def test_bad_cell_value(
    cli: Callable[..., Any],
    edited_workbook: Any,
    sheet: str,
    row_id: str | int,
    column: str,
    value: Any,
    expect: str,
    via_cli: bool,
) -> None:
    where: list[str] = []
    path = edited_workbook(lambda wb: where.append(put(wb, sheet, row_id, column, value)))
    prefix = f"{where[0]} {column} = "
    errors = assert_invalid(path, cli if via_cli else None, prefix)
    msg = only_error(errors, prefix)
    assert expect in msg
    assert len(errors) == 1


@pytest.mark.parametrize(
    ("column", "blank", "expect", "via_cli"),
    [
        via_cli("country", None, "is empty: a value is required (a non-empty text id)"),
        ("country", "   ", "is empty: a value is required", False),
        ("max_it_mw", None, "is empty: a value is required (a positive number of MW)", False),
    ],
)
def test_empty_required_cell(
    cli: Callable[..., Any],
    edited_workbook: Any,
    column: str,
    blank: Any,
    expect: str,
    via_cli: bool,
) -> None:
    where: list[str] = []
    path = edited_workbook(lambda wb: where.append(put(wb, "Sites", "US-MEM", column, blank)))
    errors = assert_invalid(path, cli if via_cli else None, f"{where[0]} {column} = ")
    assert expect in only_error(errors, where[0])
    assert len(errors) == 1


@pytest.mark.slow
def test_numbers_stored_as_text_are_accepted(cli: Callable[..., Any], edited_workbook: Any) -> None:
    def edit(wb: Any) -> None:
        put(wb, "Sites", "US-ABI", "max_it_mw", "1,500")
        put(wb, "GPUs", "H100", "available_year", " 2023 ")
        put(wb, "Runs", "frontier-2027", "mfu", "0.45")

    data, problems, result = validate_both(edited_workbook(edit), cli)
    assert data is not None, [str(p) for p in problems]
    assert errors_of(problems) == []
    assert next(s for s in data.sites if s.site_id == "US-ABI").max_it_mw == 1500.0
    assert next(g for g in data.gpus if g.gpu_id == "H100").available_year == 2023
    assert next(r for r in data.runs if r.run_id == "frontier-2027").mfu == 0.45
    check_cli_clean(result, 0)


# ------------------------------------------------------------------ settings


def test_end_year_before_start_year_points_at_the_value_cell(
    cli: Callable[..., Any], edited_workbook: Any
) -> None:
    path = edited_workbook(lambda wb: put(wb, "Settings", "end_year", "value", 2025))
    assert_invalid(path, None, "Settings!B3 end_year = 2025: must not be before start_year")


@pytest.mark.slow
def test_end_year_before_start_year(cli: Callable[..., Any], edited_workbook: Any) -> None:
    path = edited_workbook(lambda wb: put(wb, "Settings", "end_year", "value", 2025))
    errors = assert_invalid(path, cli, "Settings")
    msg = only_error(errors, "Settings")
    assert "end_year = 2025: must not be before start_year (2026)" in msg
    assert msg.startswith("Settings!") and "3 end_year" in msg  # row 3 of Settings


def test_bad_setting_value(cli: Callable[..., Any], edited_workbook: Any) -> None:
    path = edited_workbook(lambda wb: put(wb, "Settings", "discount_rate", "value", 1.5))
    errors = assert_invalid(path, None, "Settings!B4 discount_rate = 1.5: must be a number")
    assert len(errors) == 1


def test_missing_setting_row(cli: Callable[..., Any], edited_workbook: Any) -> None:
    path = edited_workbook(
        lambda wb: wb["Settings"].delete_rows(row_of(wb["Settings"], "start_year"))
    )
    errors = assert_invalid(path, None, "Settings: setting 'start_year' is missing")
    assert len(errors) == 1


@pytest.mark.slow
def test_gpu_available_after_end_year(cli: Callable[..., Any], edited_workbook: Any) -> None:
    where: list[str] = []
    path = edited_workbook(lambda wb: where.append(put(wb, "GPUs", "H100", "available_year", 2031)))
    errors = assert_invalid(
        path, cli, f"{where[0]} available_year = 2031: is after the plan's end_year (2030)"
    )
    assert len(errors) == 1


# ------------------------------------------------------------------ keys, references


@pytest.mark.slow
def test_duplicate_site_id(cli: Callable[..., Any], edited_workbook: Any) -> None:
    where: list[int] = []

    def edit(wb: Any) -> None:
        ws = wb["Sites"]
        ws.append([c.value for c in ws[2]])
        where.append(ws.max_row)

    path = edited_workbook(edit)
    errors = assert_invalid(path, cli, f"Sites!A{where[0]} site_id = 'US-ABI': duplicate of row 2")
    assert len(errors) == 1


def test_duplicate_id_by_renaming_row(cli: Callable[..., Any], edited_workbook: Any) -> None:
    path = edited_workbook(lambda wb: put(wb, "GPUs", 3, "gpu_id", "H100"))
    errors = assert_invalid(path, None, "GPUs!A3 gpu_id = 'H100': duplicate of row 2")
    # H200 no longer exists, so every reference to it is reported in the same run.
    others = [e for e in errors if "duplicate" not in e]
    assert others and all("'H200'" in e or "gpu:H200" in e for e in others)


@pytest.mark.parametrize(
    ("sheet", "row", "column", "value", "expect", "via_cli"),
    [
        via_cli("SitePower", 2, "site_id", "NOPE", "no site with this id in Sites"),
        ("SitePower", 2, "source_id", "NOPE", "no source with this id in PowerSources", False),
        ("Cooling", 2, "site_id", "NOPE", "no site with this id in Sites", False),
        ("FiberLinks", 2, "site_a", "NOPE", "no site with this id in Sites", False),
        via_cli("FiberLinks", 2, "site_b", "NOPE", "no site with this id in Sites"),
        via_cli("Supply", 2, "resource", "gpu:NOPE", "no GPU with this id in GPUs"),
        ("Supply", 2, "resource", "widgets", "must be one of cowos_wafers", False),
        via_cli("ExportControls", 2, "gpu_id", "NOPE", "no GPU with this id in GPUs"),
    ],
)
def test_unknown_reference(
    cli: Callable[..., Any],
    edited_workbook: Any,
    sheet: str,
    row: int,
    column: str,
    value: str,
    expect: str,
    via_cli: bool,
) -> None:
    where: list[str] = []
    path = edited_workbook(lambda wb: where.append(put(wb, sheet, row, column, value)))
    text = f"{where[0]} {column} = {value!r}: {expect}"
    errors = assert_invalid(path, cli if via_cli else None, text)
    assert len(errors) == 1, errors


def test_fiber_link_to_itself(cli: Callable[..., Any], edited_workbook: Any) -> None:
    def edit(wb: Any) -> None:
        site_a = wb["FiberLinks"][f"{column_letter(wb['FiberLinks'], 'site_a')}2"].value
        put(wb, "FiberLinks", 2, "site_b", site_a)

    path = edited_workbook(edit)
    errors = assert_invalid(path, None, "FiberLinks!C2 site_b = ")
    assert "two different sites" in only_error(errors, "FiberLinks!C2")


@pytest.mark.slow
def test_export_control_unknown_country_is_a_warning(
    cli: Callable[..., Any], edited_workbook: Any
) -> None:
    path = edited_workbook(lambda wb: put(wb, "ExportControls", 2, "country", "Atlantis"))
    data, problems, result = validate_both(path, cli)
    assert data is not None
    warning = "ExportControls!A2 country = 'Atlantis': no site is in this country"
    assert warning in warnings_of(problems)
    check_cli_clean(result, 0)
    assert f"warning: {warning}" in result.stderr


# ------------------------------------------------------------------ many errors at once


@pytest.mark.slow
def test_all_cell_errors_reported_in_one_run(cli: Callable[..., Any], edited_workbook: Any) -> None:
    where: list[str] = []

    def edit(wb: Any) -> None:
        where.append(put(wb, "Sites", "US-ABI", "max_it_mw", "abc"))
        where.append(put(wb, "Sites", "US-MEM", "pue", 0.9))
        where.append(put(wb, "Sites", "US-MEM", "country", None))
        where.append(put(wb, "GPUs", "H100", "capex_usd", -1))
        where.append(put(wb, "Runs", "frontier-2027", "mfu", 1.5))
        where.append(put(wb, "PowerSources", "grid", "firm_fraction", 2))
        where.append(put(wb, "Settings", "discount_rate", "value", -0.1))

    path = edited_workbook(edit)
    errors = assert_invalid(path, cli, *where)  # also checks "7 error(s) found" on stderr
    assert len(errors) == len(where) == 7


@pytest.mark.slow
def test_all_cross_sheet_errors_reported_in_one_run(
    cli: Callable[..., Any], edited_workbook: Any
) -> None:
    where: list[str] = []

    def edit(wb: Any) -> None:
        where.append(put(wb, "SitePower", 2, "site_id", "NOPE"))
        where.append(put(wb, "FiberLinks", 2, "site_b", "NOPE"))
        where.append(put(wb, "Supply", 2, "resource", "gpu:NOPE"))
        where.append(put(wb, "ExportControls", 2, "gpu_id", "NOPE"))
        where.append(put(wb, "GPUs", "H100", "available_year", 2031))

    path = edited_workbook(edit)
    errors = assert_invalid(path, cli, *where)
    assert len(errors) == 5


@pytest.mark.slow
def test_sheet_errors_from_several_sheets_in_one_run(
    cli: Callable[..., Any], edited_workbook: Any
) -> None:
    def edit(wb: Any) -> None:
        wb.remove(wb["Runs"])
        rename_sheet(wb, "GPUs", "gpus")
        put(wb, "Sites", 1, "pue", None)
        put(wb, "Transformers", 2, "mva", "big")

    path = edited_workbook(edit)
    errors = assert_invalid(
        path,
        cli,
        "Runs: required sheet is missing",
        "gpus: sheet must be named exactly 'GPUs'",
        "Transformers!B2 mva = 'big'",
    )
    assert any(e.startswith("Sites") and "'pue' is missing" in e for e in errors)
    assert len(errors) == 4


@pytest.mark.slow
def test_cell_and_cross_sheet_errors_reported_in_one_run(
    cli: Callable[..., Any], edited_workbook: Any
) -> None:
    where: list[str] = []

    def edit(wb: Any) -> None:
        where.append(put(wb, "Sites", "US-ABI", "max_it_mw", "abc"))
        where.append(put(wb, "SitePower", 2, "source_id", "NOPE"))

    path = edited_workbook(edit)
    errors = assert_invalid(path, cli, *where)
    assert len(errors) == 2


# ------------------------------------------------------------------ not a workbook


def _csv(path: Path) -> Path:
    out = path / "inputs.csv"
    out.write_text("site_id,max_it_mw\nUS-ABI,1000\n")
    return out


def _old_xls(out: Path) -> Path:
    """An OLE2 (Excel 97-2003) header, the start of every old .xls file."""
    out.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    return out


def _xls_named_xls(path: Path) -> Path:
    return _old_xls(path / "old.xls")


def _xls_renamed(path: Path) -> Path:
    return _old_xls(path / "old.xlsx")


def _text_renamed(path: Path) -> Path:
    out = path / "notes.xlsx"
    out.write_text("site_id;max_it_mw\nUS-ABI;1000\n")
    return out


def _empty(path: Path) -> Path:
    out = path / "empty.xlsx"
    out.write_bytes(b"")
    return out


def _truncated(path: Path) -> Path:
    out = path / "truncated.xlsx"
    data = REFERENCE.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


def _plain_zip(path: Path) -> Path:
    out = path / "archive.xlsx"
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
    return out


def _zip_with_broken_workbook(path: Path) -> Path:
    out = path / "broken.xlsx"
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook")
    return out


def _missing(path: Path) -> Path:
    return path / "nowhere.xlsx"


def _folder(path: Path) -> Path:
    out = path / "folder.xlsx"
    out.mkdir()
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (_csv, "is a .csv file"),
        (_xls_named_xls, "is a .xls file"),
        (_xls_renamed, "old .xls file"),
        (_text_renamed, "is not an Excel workbook"),
        (_empty, "is empty"),
        (_truncated, "is damaged or truncated"),
        (_plain_zip, "is a zip file but not an Excel workbook"),
        (_zip_with_broken_workbook, "cannot be read as an Excel workbook"),
        (_missing, "file not found"),
        (_folder, "is a folder"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else None,
)
def test_not_an_excel_workbook(
    cli: Callable[..., Any], tmp_path: Path, make: Callable[[Path], Path], expect: str
) -> None:
    path = make(tmp_path)
    data, problems, result = validate_both(path, cli)
    assert data is None
    assert len(problems) == 1
    msg = str(problems[0])
    assert "\n" not in msg
    assert msg.startswith(f"{path.name}: ") and expect in msg, msg
    check_cli_clean(result, 1)
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert lines == [f"error: {msg}"], result.stderr


def test_reference_copy_is_untouched_by_validation(reference_copy: Path) -> None:
    before = reference_copy.read_bytes()
    validate_path(reference_copy)
    assert reference_copy.read_bytes() == before
