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
