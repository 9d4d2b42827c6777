"""Reading never drops data silently (issue 12, defects 1 and 2): rows after any run of
blank rows are read, a sheet's row count is bounded instead, and look-alike sheet names
are an error naming both."""

from __future__ import annotations

import re
import shutil
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hardening_helpers import rezip

from planner.inputs.reader import MAX_SHEET_ROWS
from planner.inputs.validate import validate_path

REFERENCE = Path(__file__).resolve().parents[2] / "inputs" / "reference.xlsx"


def copy_reference(tmp_path: Path) -> tuple[Path, openpyxl.Workbook]:
    path = tmp_path / "wb.xlsx"
    shutil.copyfile(REFERENCE, path)
    return path, openpyxl.load_workbook(path)


def add_run_after_blank_rows(wb: openpyxl.Workbook, blank: int) -> str:
    """A copy of the first Runs row, under a new id, ``blank`` rows below the table."""
    ws = wb["Runs"]
    values = [c.value for c in ws[2]]
    row = ws.max_row + blank + 1
    for col, value in enumerate(values, start=1):
        ws.cell(row=row, column=col, value=value)
    new_id = f"{values[0]}-far"
    ws.cell(row=row, column=1, value=new_id)
    return new_id


def test_a_run_after_1200_blank_rows_is_read(tmp_path: Path) -> None:
    path, wb = copy_reference(tmp_path)
    before = len(validate_path(REFERENCE)[0].runs)
    new_id = add_run_after_blank_rows(wb, 1200)
    wb.save(path)
    data, problems = validate_path(path)
    assert data is not None, [str(p) for p in problems]
    assert len(data.runs) == before + 1
    assert new_id in {r.run_id for r in data.runs}


def test_a_far_cell_is_read_quickly_and_named(tmp_path: Path) -> None:
    """One stray value at row 1,000,000: read (so it is reported), without walking a
    million empty rows."""
    path, wb = copy_reference(tmp_path)
    wb["Runs"].cell(row=1_000_000, column=1, value="stray")
    wb.save(path)
    t0 = time.perf_counter()
    data, problems = validate_path(path)
    assert time.perf_counter() - t0 < 10
    assert data is None
    assert any(p.sheet == "Runs" and "1000000" in str(p) for p in problems), [
        str(p) for p in problems
    ]


def test_look_alike_sheet_names_are_an_error_naming_both(tmp_path: Path) -> None:
    path, wb = copy_reference(tmp_path)
    wb.copy_worksheet(wb["Runs"]).title = "Runs "
    wb.save(path)
    data, problems = validate_path(path)
    assert data is None
    text = " ".join(str(p) for p in problems)
    assert "'Runs'" in text and "'Runs '" in text


def rename_sheet_in_xml(path: Path, old: str, new: str) -> None:
    """Excel and openpyxl refuse names that differ only in case; a hand-made file can
    still hold them."""
    edit = {
        "xl/workbook.xml": lambda x: x.replace(f'name="{old}"'.encode(), f'name="{new}"'.encode())
    }
    copy = rezip(path.with_name("renamed.xlsx"), edit, source=path)
    copy.replace(path)


def test_a_copy_named_with_an_inner_space_is_refused_naming_both(tmp_path: Path) -> None:
    """Found by the fuzz suite: "Site Power" beside "SitePower" was ignored without a word
    (the validator reads "Site Power" as a misspelt SitePower when it is alone)."""
    path, wb = copy_reference(tmp_path)
    wb.copy_worksheet(wb["SitePower"]).title = "Site Power"
    wb.save(path)
    data, problems = validate_path(path)
    assert data is None
    assert any("'SitePower'" in str(p) and "'Site Power'" in str(p) for p in problems), [
        str(p) for p in problems
    ]


def test_case_only_differences_are_refused_too(tmp_path: Path) -> None:
    path, wb = copy_reference(tmp_path)
    wb.copy_worksheet(wb["Sites"]).title = "SitesCopy"
    wb.save(path)
    rename_sheet_in_xml(path, "SitesCopy", "SITES")
    data, problems = validate_path(path)
    assert data is None and any("SITES" in str(p) for p in problems)


@pytest.mark.slow
def test_a_sheet_with_too_many_rows_is_refused_by_size(tmp_path: Path) -> None:
    path, wb = copy_reference(tmp_path)
    ws = wb["Cooling"] if "Cooling" in wb.sheetnames else wb["Sites"]
    for r in range(ws.max_row + 1, MAX_SHEET_ROWS + 10):
        ws.cell(row=r, column=1, value=" ")
    wb.save(path)
    data, problems = validate_path(path)
    assert data is None
    assert any(p.sheet == ws.title and f"{MAX_SHEET_ROWS:,}" in str(p) for p in problems)


def test_a_formula_without_a_saved_value_is_named_as_a_formula(tmp_path: Path) -> None:
    """openpyxl writes formulas without values (as many programs do): not "empty"."""
    path, wb = copy_reference(tmp_path)
    wb["Sites"]["E2"] = "=1/0"
    wb.save(path)
    data, problems = validate_path(path)
    assert data is None
    hit = [str(p) for p in problems if "Sites!E2" in str(p)]
    assert hit and "formula" in hit[0] and "=1/0" in hit[0], [str(p) for p in problems]


def test_a_settings_row_with_an_unreadable_key_still_names_a_nan_value(tmp_path: Path) -> None:
    """Found by the fuzz suite: a formula key with no saved value hid the NaN beside it."""
    path, wb = copy_reference(tmp_path)
    wb["Settings"]["A7"] = "=1/0"
    wb["Settings"]["B7"] = "NaN"
    wb.save(path)
    data, problems = validate_path(path)
    assert data is None
    assert any("Settings!A7" in str(p) and "formula" in str(p) for p in problems)
    hit = [str(p) for p in problems if "Settings!B7" in str(p) and p.severity == "error"]
    assert hit and "NaN" in hit[0], [str(p) for p in problems]


def test_a_formula_in_a_text_column_is_named_too(tmp_path: Path) -> None:
    """Found by the fuzz suite: a text column took the formula's text as the run's id."""
    path, wb = copy_reference(tmp_path)
    wb["Runs"]["A2"] = '=CONCAT("run-", B2)'
    wb.save(path)
    data, problems = validate_path(path)
    assert data is None
    hit = [str(p) for p in problems if "Runs!A2" in str(p)]
    assert hit and "formula" in hit[0], [str(p) for p in problems]


def test_an_excel_error_value_is_named_as_a_failed_formula(tmp_path: Path) -> None:
    """A VLOOKUP that found nothing saves #N/A: not an id, in any column."""
    with zipfile.ZipFile(REFERENCE) as zf:
        sheet = next(
            n
            for n in zf.namelist()
            if n.startswith("xl/worksheets/") and b"<t>frontier-2027</t>" in zf.read(n)
        )
    cell = re.compile(rb'<c r="A2"[^>]*t="inlineStr"><is><t>frontier-2027</t></is></c>')
    error = b'<c r="A2" t="e"><f>VLOOKUP(B2,Sites!A:B,2,FALSE)</f><v>#N/A</v></c>'
    path = rezip(tmp_path / "na.xlsx", {sheet: lambda x: cell.sub(error, x, count=1)})
    data, problems = validate_path(path)
    assert data is None
    hit = [str(p) for p in problems if "Runs!A2" in str(p)]
    assert hit and "#N/A" in hit[0] and "formula" in hit[0], [str(p) for p in problems]


def test_a_literal_nan_in_the_sheet_xml_is_named_by_cell(tmp_path: Path) -> None:
    with zipfile.ZipFile(REFERENCE) as zf:
        sheet = next(
            n
            for n in zf.namelist()
            if n.startswith("xl/worksheets/") and b"<v>35.06</v>" in zf.read(n)
        )
    path = rezip(
        tmp_path / "nan.xlsx", {sheet: lambda x: x.replace(b"<v>35.06</v>", b"<v>NaN</v>", 1)}
    )
    data, problems = validate_path(path)
    assert data is None
    assert any("Sites!" in str(p) and "NaN" in str(p) for p in problems), [str(p) for p in problems]


def test_a_settings_row_with_an_unknown_key_still_names_a_nan_value(tmp_path: Path) -> None:
    """Found by the fuzz suite: an unknown key ('2', ignored with a warning) hid the NaN
    beside it."""
    path, wb = copy_reference(tmp_path)
    wb["Settings"]["A7"] = "2"
    wb["Settings"]["B7"] = "NaN"
    wb.save(path)
    data, problems = validate_path(path)
    assert any("Settings!A7" in str(p) and "unknown setting" in str(p) for p in problems)
    hit = [str(p) for p in problems if "Settings!B7" in str(p) and p.severity == "error"]
    assert hit and "NaN" in hit[0], [str(p) for p in problems]
