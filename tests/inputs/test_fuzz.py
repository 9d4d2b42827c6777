"""Fuzzing the reader and validator with mutated copies of ``inputs/reference.xlsx``.

Every mutated workbook must end in valid data or a list of problems that each name a
sheet; never an exception. A fixed subset also goes through ``python -m planner validate``
in a subprocess (exit 0 or 1, no traceback, within a timeout).

The default budget fits CI (about a minute); set ``PLANNER_FUZZ_EXAMPLES=2000`` for a
longer run. The number of cases tried is printed at the end of the module.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hardening_helpers import REFERENCE, assert_no_traceback, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from planner.inputs.data import PlanningData
from planner.inputs.problems import Problem
from planner.inputs.schema import SETTINGS_SHEET, SHEETS, STUDY_SHEETS
from planner.inputs.validate import validate_path

pytestmark = pytest.mark.slow  # a hardening suite: long fuzzing runs and CLI subprocesses

FUZZ_EXAMPLES = int(os.environ.get("PLANNER_FUZZ_EXAMPLES", "60"))
BASE = REFERENCE.read_bytes()
CONTRACT = {s.name for s in SHEETS + STUDY_SHEETS} | {SETTINGS_SHEET, "Sources", "Guide"}
SHEET_NAMES = openpyxl.load_workbook(io.BytesIO(BASE), read_only=True).sheetnames
DATA_SHEETS = [n for n in SHEET_NAMES if n not in ("Sources", "Guide")]
CASES = {"fuzz": 0, "cli": 0}

# ------------------------------------------------------------------ strategies

NASTY = [
    None,
    "",
    "   ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e999",
    math.nan,
    math.inf,
    -math.inf,
    -1,
    -0.5,
    0,
    0.0,
    1e300,
    -1e300,
    1e-300,
    10**20,
    True,
    False,
    "TRUE",
    "yes",
    "no",
    "abc",
    "1,000",
    "2026.0",
    " 2026 ",
    "=1+1",
    "=A1/0",
    "=SUM(B:B)",
    "+1",
    "-1",
    "@SUM(A1)",
    "x" * 10_000,
    "é中文🚀ß",
    "\u200b",
    "Ω" * 300,
]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=40)
VALUES = st.one_of(
    st.sampled_from(NASTY),
    TEXT,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
)
SHEET = st.sampled_from(DATA_SHEETS)
ROW = st.integers(min_value=1, max_value=60)
COL = st.integers(min_value=1, max_value=14)

MUTATION = st.one_of(
    st.tuples(st.just("set"), SHEET, ROW, COL, VALUES),
    st.tuples(st.just("set"), SHEET, ROW, COL, VALUES),  # twice as likely as the others
    st.tuples(
        st.just("header"),
        SHEET,
        COL,
        st.sampled_from(
            [None, "", "site_id", "SITE_ID", " site_id ", "extra", "=1+1", "x" * 10_000]
        )
        | TEXT,
    ),
    st.tuples(st.just("dup_row"), SHEET, ROW),
    st.tuples(st.just("clear_row"), SHEET, ROW),
    st.tuples(st.just("delete_rows"), SHEET, ROW, st.integers(1, 5)),
    st.tuples(st.just("merge"), SHEET, ROW, COL, st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("hide"), SHEET, st.sampled_from(["hidden", "veryHidden"])),
    st.tuples(
        st.just("rename"),
        SHEET,
        st.sampled_from(["sites", "Sites ", "Site s", "Zz", "Données", "x" * 31]) | TEXT,
    ),
    st.tuples(st.just("delete_sheet"), SHEET),
    st.tuples(st.just("delete_col"), SHEET, COL),
    st.tuples(st.just("insert_col"), SHEET, COL, TEXT),
    st.tuples(st.just("far_cell"), SHEET, st.integers(2_000, 1_000_000)),
    st.tuples(st.just("long_id"), SHEET, ROW),
    st.tuples(st.just("formula_col"), SHEET, COL),
)


# ------------------------------------------------------------------ applying mutations


def _row(ws: Any, row: int) -> int:
    return 1 + (row - 1) % max(ws.max_row + 2, 1)


def _safe_title(wb: Any, title: str) -> str | None:
    for bad in "[]:*?/\\":
        title = title.replace(bad, "")
    title = title[:31]
    if not title or title.lower() in (n.lower() for n in wb.sheetnames):
        return None
    return title


def apply(wb: Any, op: tuple[Any, ...]) -> None:
    """Apply one mutation; mutations naming a sheet already gone are skipped."""
    kind, sheet = op[0], op[1]
    if sheet not in wb.sheetnames:
        return
    ws = wb[sheet]
    if kind == "set":
        ws.cell(row=_row(ws, op[2]), column=op[3], value=op[4])
    elif kind == "header":
        ws.cell(row=1, column=op[2], value=op[3])
    elif kind == "dup_row":
        src = _row(ws, op[2])
        values = [c.value for c in ws[src]]
        ws.append(values)
    elif kind == "clear_row":
        for cell in ws[_row(ws, op[2])]:
            if not isinstance(cell, openpyxl.cell.cell.MergedCell):
                cell.value = None
    elif kind == "delete_rows":
        ws.delete_rows(_row(ws, op[2]), op[3])
    elif kind == "merge":
        r, c = _row(ws, op[2]), op[3]
        if op[4] or op[5]:
            ws.merge_cells(start_row=r, start_column=c, end_row=r + op[4], end_column=c + op[5])
    elif kind == "hide":
        visible = [w for w in wb.worksheets if w.sheet_state == "visible"]
        if len(visible) > 1:  # a workbook needs one visible sheet
            ws.sheet_state = op[2]
    elif kind == "rename":
        title = _safe_title(wb, op[2])
        if title:
            ws.title = title
    elif kind == "delete_sheet":
        if len(wb.sheetnames) > 1:
            wb.remove(ws)
    elif kind == "delete_col":
        ws.delete_cols(op[2])
    elif kind == "insert_col":
        ws.insert_cols(op[2])
        ws.cell(row=1, column=op[2], value=op[3] or None)
    elif kind == "far_cell":
        ws.cell(row=op[2], column=1, value="far away")
    elif kind == "long_id":
        ws.cell(row=max(2, _row(ws, op[2])), column=1, value="é" * 10_000)
    elif kind == "formula_col":  # formulas without cached values in a whole column
        for r in range(2, ws.max_row + 1):
            ws.cell(row=r, column=op[2], value=f"={get_column_letter(op[2])}{r}*1")


def mutated(ops: list[tuple[Any, ...]], folder: Path, name: str = "fuzzed.xlsx") -> Path:
    wb = openpyxl.load_workbook(io.BytesIO(BASE))
    for op in ops:
        apply(wb, op)
    if wb.active is None or wb.active.sheet_state != "visible":
        wb.active = next(i for i, w in enumerate(wb.worksheets) if w.sheet_state == "visible")
    out = folder / name
    wb.save(out)
    return out


def check_outcome(path: Path, data: PlanningData | None, problems: list[Problem]) -> None:
    """Valid data, or problems that each name a sheet of the file (or the file itself)."""
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    # A look-alike title ("Sites " beside "Sites") is named as it is written in the file.
    titles = set(names) | {t.strip() for t in names}
    allowed = CONTRACT | titles | {path.name}
    assert isinstance(problems, list)
    for p in problems:
        assert isinstance(p, Problem), p
        text = str(p)
        assert p.sheet and text.startswith(p.sheet), text
        assert p.sheet in allowed, (p.sheet, text[:300])
        assert p.severity in ("error", "warning"), p
    errors = [p for p in problems if p.severity == "error"]
    if data is None:
        assert errors, "invalid without any error message"
    else:
        assert isinstance(data, PlanningData)
        assert not errors, [str(p) for p in errors]


# ------------------------------------------------------------------ tests


@pytest.fixture(scope="module", autouse=True)
def report_count(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    line = (
        f"fuzz: {CASES['fuzz']} cases tried in-process, {CASES['cli']} of them also through the CLI"
    )
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print(f"\n{line}")
    else:
        print(line)


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ops=st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_workbook_validates_or_explains(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = mutated(ops, Path(folder))
        t0 = time.perf_counter()
        data, problems = validate_path(path)  # must never raise
        seconds = time.perf_counter() - t0
        CASES["fuzz"] += 1
        check_outcome(path, data, problems)
        assert seconds < 20, f"validate took {seconds:.1f} s"


# A fixed subset of mutations, also run through the CLI in a subprocess.
CLI_CASES: dict[str, list[tuple[Any, ...]]] = {
    "nan-text-and-float": [("set", "Sites", 2, 6, "nan"), ("set", "GPUs", 3, 4, math.nan)],
    "inf-and-huge": [("set", "Runs", 2, 3, math.inf), ("set", "Sites", 3, 6, 1e300)],
    "negative-and-types": [("set", "GPUs", 2, 6, -5), ("set", "Runs", 2, 2, "next year")],
    "duplicate-ids": [("dup_row", "Sites", 2), ("dup_row", "GPUs", 3)],
    "formulas-no-cache": [("formula_col", "Runs", 3), ("set", "Settings", 2, 2, "=1+1")],
    "merged-and-hidden": [("merge", "Sites", 2, 1, 1, 2), ("hide", "GPUs", "hidden")],
    "renamed-and-missing": [("rename", "Sites", "sites "), ("delete_sheet", "Runs")],
    "columns-extra-missing": [("insert_col", "GPUs", 2, "colour"), ("delete_col", "Sites", 1)],
    "long-unicode-ids": [
        ("long_id", "Sites", 2),
        ("long_id", "Runs", 2),
        ("set", "Settings", 3, 1, "clé" * 3000),
    ],
    "far-cell": [("far_cell", "Sites", 1_000_000), ("far_cell", "Supply", 500_000)],
    "blank-header": [("header", "Sites", 1, None), ("header", "Runs", 3, "=1+1")],
}


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_mutated_workbook_through_cli(name: str, tmp_path: Path) -> None:
    path = mutated(CLI_CASES[name], tmp_path, f"{name}.xlsx")
    data, problems = validate_path(path)
    check_outcome(path, data, problems)
    ran = run_cli("validate", path, timeout=30, cwd=tmp_path)
    CASES["fuzz"] += 1
    CASES["cli"] += 1
    assert_no_traceback(ran)
    assert ran.returncode == (0 if data is not None else 1), ran.output[-2000:]
    if data is None:
        assert "error" in ran.stderr
    assert ran.seconds < 30


def test_million_row_sheet_stops_quickly(tmp_path: Path) -> None:
    """A value at row 1,000,000 after the table: read (never dropped) and reported, in
    seconds (only the rows a sheet stores are walked)."""
    path = mutated([("far_cell", name, 1_000_000) for name in DATA_SHEETS], tmp_path)
    t0 = time.perf_counter()
    data, problems = validate_path(path)
    seconds = time.perf_counter() - t0
    CASES["fuzz"] += 1
    check_outcome(path, data, problems)
    assert seconds < 5, f"took {seconds:.1f} s"
    assert data is None  # the stray far cell is read: an incomplete row, reported
    assert any("1000000" in str(p) for p in problems), [str(p) for p in problems][:5]


def test_problem_lines_stay_readable_with_huge_ids(tmp_path: Path) -> None:
    path = mutated([("set", "Settings", 3, 1, "clé" * 3000)], tmp_path)
    _, problems = validate_path(path)
    CASES["fuzz"] += 1
    assert problems
    assert max(len(str(p)) for p in problems) <= 500, [len(str(p)) for p in problems]
