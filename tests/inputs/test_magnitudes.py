"""Magnitudes the solver cannot take are refused by validation, naming the cell
(issue 12, defect 7): before, a FLOP target of 1e300 passed, HiGHS rejected the model in
0.02 s and the user was told no plan was found within the time limit."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from planner.inputs.validate import validate_path

REFERENCE = Path(__file__).resolve().parents[2] / "inputs" / "reference.xlsx"


@pytest.mark.parametrize(
    ("sheet", "column", "value", "words"),
    [
        ("Runs", "flop", 1e300, "at most 1e+34 FLOP"),
        ("Runs", "mfu", 1e-300, "at least 0.001"),
        ("Sites", "max_it_mw", 1e12, "at most 1e+06 MW"),
        ("GPUs", "capex_usd", 1e30, "at most 1e+13 USD"),
        ("Supply", "capacity", 1e200, "at most 1e+12"),
        # Found by the fuzz suite: columns that had no bound (HiGHS got a 1e294 cost)...
        ("SitePower", "energy_usd_per_mwh", 1e300, "at most 100000 USD/MWh"),
        ("PowerSources", "om_usd_per_mw_year", 1e300, "at most 1e+13 USD/MW/year"),
        # ...and divisors: a bound became infinite, or the model build divided by zero.
        ("GPUs", "bf16_tflops", 1e-300, "at least 0.001 TFLOP/s"),
        ("GPUs", "it_kw", 5e-324, "at least 1e-06 kW"),
        ("Runs", "duration_days", 1e-300, "at least 0.001 days"),
        ("Transformers", "mva", 1e-300, "at least 0.001 MVA"),
        ("PowerSources", "firm_fraction", 1e-300, "at least 0.001"),
    ],
)
def test_a_magnitude_beyond_the_solver_is_refused_by_cell(
    tmp_path: Path, sheet: str, column: str, value: float, words: str
) -> None:
    path = tmp_path / "wb.xlsx"
    shutil.copyfile(REFERENCE, path)
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index(column) + 1, value=value)
    wb.save(path)
    data, problems = validate_path(path)
    assert data is None
    hit = [str(p) for p in problems if f"{sheet}!{cell.coordinate}" in str(p)]
    assert hit and words in hit[0] and "solver" in hit[0], [str(p) for p in problems]


def test_the_reference_is_within_every_bound() -> None:
    data, problems = validate_path(REFERENCE)
    assert data is not None, [str(p) for p in problems]


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("multi_site_efficiency", 5e-324, "at least 0.001"),  # was a ZeroDivisionError
        ("power_factor", 1e-300, "at least 0.001 MW/MVA"),
        ("gbps_per_pflops", 1e300, "at most 1e+06 Gbps per PFLOP/s"),  # was "no plan found"
    ],
)
def test_a_setting_beyond_the_solver_is_refused_by_cell(
    tmp_path: Path, key: str, value: float, words: str
) -> None:
    path = tmp_path / "wb.xlsx"
    shutil.copyfile(REFERENCE, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Settings"]
    row = next((r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == key), None)
    if row is None:
        row = ws.max_row + 1
        ws.cell(row, 1, key)
    ws.cell(row, 2, value)
    wb.save(path)
    data, problems = validate_path(path)
    assert data is None
    hit = [str(p) for p in problems if f"Settings!B{row}" in str(p)]
    assert hit and words in hit[0] and "solver" in hit[0], [str(p) for p in problems]
