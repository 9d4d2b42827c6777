"""Fuzzing the reader and validator with mutated workbooks.

Every mutated workbook must end in valid data or a list of problems that each name a
sheet; never an exception.

- Copies of ``inputs/reference.xlsx`` mutated with openpyxl (values, headers, merged,
  hidden, renamed, deleted sheets and columns); a fixed subset also goes through
  ``python -m planner validate`` in a subprocess (exit 0 or 1, no traceback, in time).
- Issue 12's mutations, written into the sheet XML of a small synthetic workbook (cheap
  enough for about 2,000 cases per run): a row after up to 1,500 blank rows must be read,
  1e300, 1e-300, inf and NaN in number cells named by their cell, formulas with no saved
  value and Excel errors named as formulas, look-alike sheet names refused naming both.
  Whatever is accepted is built into a model that HiGHS must take (not solved).

Budgets: ``PLANNER_FUZZ_EXAMPLES`` (openpyxl, default 60), ``PLANNER_FUZZ_XML_EXAMPLES``
(default 1,800) and ``PLANNER_FUZZ_LOOK_ALIKE_EXAMPLES`` (default 300: every one of the
220 cases). The number of cases tried is printed at the end of the module.
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import openpyxl
import pytest
from hardening_helpers import REFERENCE, assert_no_traceback, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils import column_index_from_string, get_column_letter
from xml_book import SheetXml, XmlBook, blank_cell, formula_cell, number_cell, text_cell

from models.build import build_model
from models.registry import UNMODELLED_INPUTS
from models.sets import build_model_data
from planner.inputs.data import SHEET_ATTRS, PlanningData
from planner.inputs.problems import InputError, Problem
from planner.inputs.reader import RawWorkbook, read_workbook
from planner.inputs.schema import (
    SETTINGS_SHEET,
    SHEET_BY_NAME,
    SHEETS,
    STUDY_SHEETS,
    SettingsModel,
)
from planner.inputs.synth import SynthSpec, write_synth
from planner.inputs.validate import _kind, validate_path, validate_raw
from planner.solving.compiled import compile_model

pytestmark = pytest.mark.slow  # a hardening suite: long fuzzing runs and CLI subprocesses

FUZZ_EXAMPLES = int(os.environ.get("PLANNER_FUZZ_EXAMPLES", "60"))
BASE = REFERENCE.read_bytes()
CONTRACT = {s.name for s in SHEETS + STUDY_SHEETS} | {SETTINGS_SHEET, "Sources", "Guide"}
SHEET_NAMES = openpyxl.load_workbook(io.BytesIO(BASE), read_only=True).sheetnames
DATA_SHEETS = [n for n in SHEET_NAMES if n not in ("Sources", "Guide")]
CASES = {"fuzz": 0, "cli": 0, "xml": 0}

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


def check_outcome(
    path: Path,
    data: PlanningData | None,
    problems: list[Problem],
    names: list[str] | None = None,
) -> None:
    """Valid data, or problems that each name a sheet of the file (or the file itself);
    ``names``: the file's sheet names when known (else read from the file)."""
    if names is None:
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
        f"fuzz: {CASES['fuzz']} cases tried in-process ({CASES['xml']} of them edited as XML), "
        f"{CASES['cli']} also through the CLI"
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


# ------------------------------------------------------------------ XML-level mutations
# Issue 12's mutations, written into the sheet XML of a small synthetic workbook: rows
# after blank gaps, look-alike sheet names, extreme magnitudes and formulas with no saved
# value. Editing XML costs a millisecond where openpyxl takes a tenth of a second to load
# and save, so these run thousands of cases; each is read and validated, never solved.

XML_EXAMPLES = int(os.environ.get("PLANNER_FUZZ_XML_EXAMPLES", "1800"))
LOOK_ALIKE_EXAMPLES = int(os.environ.get("PLANNER_FUZZ_LOOK_ALIKE_EXAMPLES", "300"))
# HiGHS refuses a matrix value of 1e15 or more (its large_matrix_value) and reads a cost
# of 1e20 or more as infinite: the model of an accepted workbook must stay below both.
HIGHS_LARGE_MATRIX_VALUE = 1e15
HIGHS_INFINITE_COST = 1e20
MAX_GAP = 1_500


@dataclass(frozen=True)
class Cell:
    """A cell of the base workbook that validation reads: a data cell of a contract
    column, or a Settings key or value."""

    sheet: str
    row: int
    column: int
    name: str

    @property
    def letter(self) -> str:
        return get_column_letter(self.column)


@dataclass(frozen=True)
class Base:
    book: XmlBook
    raw: RawWorkbook
    numeric: tuple[Cell, ...]  # cells of number columns (and numeric Settings values)
    cells: tuple[Cell, ...]  # every cell validation reads
    growable: tuple[str, ...]  # sheets with data rows


def _kind_of(sheet: str, column: str) -> type | None:
    if sheet == SETTINGS_SHEET:
        return None
    spec = SHEET_BY_NAME[sheet]
    return _kind(spec.field(column)) if column in spec.columns else None


def _base_cells(raw: RawWorkbook) -> tuple[list[Cell], list[Cell]]:
    numeric, cells = [], []
    numbers = {k for k, f in SettingsModel.model_fields.items() if _kind(f) in (int, float)}
    for name, sheet in raw.sheets.items():
        columns = {n: column_index_from_string(letter) for n, letter in sheet.header}
        for row, values in sheet.rows:
            for column, index in columns.items():
                cell = Cell(name, row, index, column)
                if name == SETTINGS_SHEET:
                    cells.append(cell)
                    if column == "value" and values.get("key") in numbers:
                        numeric.append(cell)
                elif name in SHEET_BY_NAME and column in SHEET_BY_NAME[name].columns:
                    cells.append(cell)
                    # A column the model never reads cannot trouble HiGHS.
                    modelled = f"{name}.{column}" not in UNMODELLED_INPUTS
                    if modelled and _kind_of(name, column) in (int, float):
                        numeric.append(cell)
    return numeric, cells


@functools.lru_cache(maxsize=1)
def small_base() -> Base:
    """3 sites, 2 years, 2 GPUs, 2 sources, 2 links, 1 run; no Guide sheet (read in
    about 20 ms, a quarter of the reference)."""
    folder = Path(tempfile.mkdtemp(prefix="planner-fuzz-"))
    spec = SynthSpec(sites=3, years=2, gpus=2, sources=2, links=2, runs=1, seed=0)
    book = XmlBook.load(write_synth(spec, folder / "synth.xlsx"), drop=("Guide",))
    path = book.copy().save(folder / "base.xlsx")
    data, problems = validate_path(path)
    assert data is not None, [str(p) for p in problems]
    raw = read_workbook(path)
    numeric, cells = _base_cells(raw)
    growable = tuple(n for n, s in raw.sheets.items() if s.rows)
    return Base(book, raw, tuple(numeric), tuple(cells), growable)


# A number as the sheet XML holds it, or as text typed into a cell.
EXTREME_LITERALS = [
    "1e+300",
    "-1e+300",
    "1e-300",
    "-1e-300",
    "5e-324",
    "1.7976931348623157e+308",
    "1e+20",
    "1e+16",
    "1e+15",
    "NaN",
    "nan",
    "INF",
    "inf",
    "-inf",
    "Infinity",
    "1e999",
    "-1e999",
]
LITERAL = st.one_of(
    st.sampled_from(EXTREME_LITERALS),
    st.floats(min_value=1e15, allow_infinity=False).map(repr),
    st.floats(min_value=-1e-12, max_value=1e-12).map(repr),
    st.floats().map(repr),
)
FORMULAS = ["1/0", "A1*2", "SUM(B:B)", "NA()", "B2+1", '"text"', "VLOOKUP(A2,Sites!A:B,2)"]
CACHED = st.sampled_from([None, None, ("n", "2"), ("e", "#DIV/0!"), ("e", "#N/A"), ("str", "x")])
FILLERS = ["absent", "absent", "absent", "empty rows", "styled cells", "spaces"]
# Sheets whose rows a free text id tells apart: a copied row with a new id is a new row.
# Elsewhere (Settings keys, Supply years, SitePower pairs) a copy is a duplicate.
FREE_IDS = {
    "Sites": "site_id",
    "Cooling": "cooling_id",
    "PowerSources": "source_id",
    "Transformers": "transformer_id",
    "GPUs": "gpu_id",
    "FiberLinks": "link_id",
    "Runs": "run_id",
}


def _cells(which: str) -> st.SearchStrategy[Cell]:
    return st.deferred(lambda: st.sampled_from(getattr(small_base(), which)))


XML_MUTATION = st.one_of(
    st.tuples(
        st.just("gap"),
        st.deferred(lambda: st.sampled_from(small_base().growable)),
        st.integers(1, MAX_GAP),
        st.sampled_from(FILLERS),
    ),
    st.tuples(st.just("magnitude"), _cells("numeric"), LITERAL, st.booleans()),
    st.tuples(st.just("formula"), _cells("cells"), st.sampled_from(FORMULAS), CACHED),
)


@dataclass
class Expect:
    """What validation must say about one mutation."""

    kind: str
    sheet: str
    row: int
    letter: str = ""
    detail: Any = None


def _fill_gap(sheet: SheetXml, first: int, last: int, filler: str) -> None:
    """Blank rows first..last as a file may store them: not at all, as empty rows, as
    rows of styled empty cells, or as cells holding only spaces."""
    for r in range(first, last + 1):
        if filler == "empty rows":
            sheet.rows[r] = {}
        elif filler == "styled cells":
            sheet.rows[r] = {1: blank_cell(f"A{r}")}
        elif filler == "spaces":
            sheet.rows[r] = {1: text_cell(f"A{r}", "   ")}


def add_row_after_gap(book: XmlBook, name: str, blank: int, filler: str) -> Expect:
    """A copy of the sheet's first data row, ``blank`` blank rows below its last row, with
    a new id where the sheet's key allows one (else it is a duplicate, to be reported)."""
    sheet = book.sheet(name)
    base_sheet = small_base().raw.sheets[name]
    source = base_sheet.rows[0][0]
    far = sheet.last_row() + blank + 1
    _fill_gap(sheet, far - blank, far - 1, filler)
    sheet.rows[far] = {
        c: re.sub(r'r="[A-Z]+\d+"', f'r="{get_column_letter(c)}{far}"', xml, count=1)
        for c, xml in sheet.rows[source].items()
    }
    key = FREE_IDS.get(name)
    if key is None:
        return Expect("duplicate", name, far, detail=(name, source))
    column = column_index_from_string(dict(base_sheet.header)[key])
    new_id = f"{base_sheet.rows[0][1][key]}-r{far}"
    sheet.set(far, column, text_cell(f"{get_column_letter(column)}{far}", new_id))
    return Expect("new row", name, far, detail=(key, new_id))


def apply_xml(book: XmlBook, op: tuple[Any, ...]) -> Expect:
    if op[0] == "gap":
        return add_row_after_gap(book, op[1], op[2], op[3])
    cell: Cell = op[1]
    at = f"{cell.letter}{cell.row}"
    if op[0] == "magnitude":
        literal, as_text = op[2], op[3]
        xml = text_cell(at, literal) if as_text else number_cell(at, literal)
        book.sheet(cell.sheet).set(cell.row, cell.column, xml)
        return Expect("magnitude", cell.sheet, cell.row, cell.letter, literal)
    formula, cached = op[2], op[3]
    kind, value = cached if cached else ("n", None)
    book.sheet(cell.sheet).set(cell.row, cell.column, formula_cell(at, formula, value, kind))
    return Expect("formula", cell.sheet, cell.row, cell.letter, (formula, cached))


def _finite(literal: str) -> bool:
    try:
        return math.isfinite(float(literal))
    except ValueError:
        return False


def assert_highs_takes(data: PlanningData) -> None:
    """The model of an accepted workbook is one HiGHS takes (built, handed over, not
    solved): finite, every matrix value and cost within HiGHS's limits."""
    m = build_model(build_model_data(data))
    if m.unreachable_runs:  # no model is handed to HiGHS: the plan is called infeasible
        return
    lp = compile_model(m).lp
    for name, values, limit in (
        ("matrix value", lp.a_matrix_.value_, HIGHS_LARGE_MATRIX_VALUE),
        ("cost", lp.col_cost_, HIGHS_INFINITE_COST),
    ):
        size = np.abs(np.asarray(values, dtype=float))
        assert np.isfinite(size).all() and size.max(initial=0.0) < limit, (name, size.max())
    for bounds in (lp.col_lower_, lp.col_upper_, lp.row_lower_, lp.row_upper_):
        assert not np.isnan(np.asarray(bounds, dtype=float)).any()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.passModel(lp) != highspy.HighsStatus.kError


def at_cell(problems: list[Problem], e: Expect) -> list[str]:
    return [
        str(p)
        for p in problems
        if p.severity == "error" and p.sheet == e.sheet and p.row == e.row and p.letter == e.letter
    ]


def check_expect(
    e: Expect, raw: RawWorkbook, data: PlanningData | None, problems: list[Problem]
) -> None:
    """One mutation's promise: the far row read, a number that is not finite or a formula
    named by its cell (a finite number accepted is checked on the model)."""
    shown = [str(p) for p in problems][:20]
    if e.kind in ("new row", "duplicate"):
        assert e.row in {r for r, _ in raw.sheets[e.sheet].rows}, (e, "row dropped")
    if e.kind == "new row" and data is not None:
        key, new_id = e.detail
        ids = {str(getattr(r, key)) for r in getattr(data, SHEET_ATTRS[e.sheet])}
        assert new_id in ids, (e, "row read but not validated")
    elif e.kind == "duplicate":
        assert any(p.sheet == e.sheet and p.row == e.row for p in problems), (e, shown)
    elif e.kind == "magnitude" and not _finite(e.detail):
        assert at_cell(problems, e), (e, shown)
    elif e.kind == "formula" and (e.detail[1] is None or e.detail[1][0] == "e"):
        formula, cached = e.detail
        words = f"={formula}" if cached is None else cached[1]
        hits = at_cell(problems, e)
        assert any(words in h and "formula" in h for h in hits), (e, hits or shown)


def validate_book(
    book: XmlBook, folder: Path
) -> tuple[Path, RawWorkbook | None, Any, list[Problem]]:
    path = book.save(folder / "fuzzed.xlsx")
    t0 = time.perf_counter()
    try:
        raw = read_workbook(path)
    except InputError as exc:
        return path, None, None, exc.problems
    data, problems = validate_raw(raw)
    assert time.perf_counter() - t0 < 5, "validation took more than 5 s"
    return path, raw, data, problems


@settings(
    max_examples=XML_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ops=st.lists(XML_MUTATION, min_size=1, max_size=4))
def test_gaps_magnitudes_and_formulas_are_read_and_named(ops: list[tuple[Any, ...]]) -> None:
    book = small_base().book.copy()
    expects: dict[tuple[str, int, str], Expect] = {}
    for op in ops:
        e = apply_xml(book, op)
        # A later edit of a cell replaces the earlier one's promise, and a copied row is
        # no longer a duplicate once its original is edited.
        expects = {
            k: v
            for k, v in expects.items()
            if not (v.kind == "duplicate" and v.detail == (e.sheet, e.row))
        }
        expects[(e.sheet, e.row, e.letter)] = e
    with tempfile.TemporaryDirectory() as folder:
        path, raw, data, problems = validate_book(book, Path(folder))
        CASES["fuzz"] += 1
        CASES["xml"] += 1
        check_outcome(path, data, problems, names=book.names())
        assert raw is not None, [str(p) for p in problems]  # cell edits never break the file
        for e in expects.values():
            check_expect(e, raw, data, problems)
        if all(e.kind == "new row" for e in expects.values()):
            assert data is not None, [str(p) for p in problems][:20]
        if data is not None:  # accepted: HiGHS must be able to take every number in it
            assert_highs_takes(data)


# ------------------------------------------------------------------ look-alike sheet names

VARIANTS: dict[str, Any] = {
    "upper": str.upper,
    "lower": str.lower,
    "swapcase": str.swapcase,
    "leading space": lambda n: f" {n}",
    "trailing space": lambda n: f"{n} ",
    "spaces around": lambda n: f"  {n}  ",
    "upper, trailing space": lambda n: f"{n.upper()} ",
    "no-break space": lambda n: f"{n}\u00a0",
    "inner space": lambda n: f"{n[:2]} {n[2:]}",
    "suffix": lambda n: f"{n}2",
}
LOOK_ALIKE = st.tuples(
    st.deferred(lambda: st.sampled_from([n for n in small_base().book.names() if n in CONTRACT])),
    st.sampled_from(sorted(VARIANTS)),
    st.sampled_from(["copy", "rename"]),
)


def _look_alike_promise(
    name: str, variant: str, mode: str, data: Any, problems: list[Problem]
) -> None:
    texts = [str(p) for p in problems if p.severity == "error"]
    same = variant.strip().casefold() == name.casefold()
    near = variant.replace(" ", "").casefold() == name.casefold()
    if mode == "copy" and (same or near):  # two sheets for one: which is meant?
        assert data is None
        assert any(repr(name) in t and repr(variant) in t for t in texts), texts
    elif mode == "copy":  # another sheet beside the contract's: ignored, with a warning
        assert data is not None, texts
        assert any(p.sheet == variant and p.severity == "warning" for p in problems)
    elif variant.strip() == name:  # the only such sheet, spaces around its name: read
        assert data is not None, texts
    elif same or near:
        assert data is None and any(variant.strip() in t and name in t for t in texts), texts
    else:  # renamed away: missing, or an optional sheet ignored with a warning
        assert data is None or any(p.sheet == variant for p in problems)


@settings(
    max_examples=LOOK_ALIKE_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(case=LOOK_ALIKE)
def test_look_alike_sheet_names_are_refused_naming_both(case: tuple[str, str, str]) -> None:
    name, how, mode = case
    variant = VARIANTS[how](name)
    book = small_base().book.copy()
    if mode == "copy":
        book.add_copy(name, variant)
    else:
        book.rename(name, variant)
    with tempfile.TemporaryDirectory() as folder:
        path, _, data, problems = validate_book(book, Path(folder))
        CASES["fuzz"] += 1
        CASES["xml"] += 1
        check_outcome(path, data, problems, names=book.names())
        _look_alike_promise(name, variant, mode, data, problems)
