"""End to end on the reference workbook: solve, export, read back, check, edit, re-check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from planner import api
from planner.results.check import check_plan
from planner.results.export import read_plan
from planner.results.tables import PLAN_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "inputs" / "reference.xlsx"


def run_cli(*args: object, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def reference_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan") / "reference-plan.xlsx"
    result = run_cli("plan", REFERENCE, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"plan written to {out}" in result.stdout
    return out


@pytest.mark.slow
def test_reference_plan_is_optimal_and_sheets_carry_the_contract_headers(
    reference_plan: Path,
) -> None:
    wb = openpyxl.load_workbook(reference_plan)
    for sheet, columns in PLAN_COLUMNS.items():
        header = [c.value for c in wb[sheet][1]]
        assert header[: len(columns)] == columns, sheet
        assert wb[sheet].freeze_panes == "A2"
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["status"] == "optimal"
    assert summary["mip_gap"] <= 0.005
    assert summary["check_violations"] == 0
    assert summary["input_sha256"] and len(summary["input_sha256"]) == 64
    assert summary["run frontier-2029 flop_delivered"] >= 1e28 * (1 - 1e-9)
    assert "Inputs" in wb.sheetnames
    assert len(wb["Charts"]._charts) == 5  # cost, facility MW by site, by source, fleet, waterfall


@pytest.mark.slow
def test_read_back_plan_passes_the_independent_check(reference_plan: Path) -> None:
    data = api.load(REFERENCE)
    plan = read_plan(reference_plan)
    assert check_plan(data, plan) == []
    result = run_cli("check", reference_plan, "--inputs", REFERENCE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_hand_edited_plan_is_caught_with_sheet_and_row(
    reference_plan: Path, tmp_path: Path
) -> None:
    edited = tmp_path / "edited.xlsx"
    shutil.copy(reference_plan, edited)
    wb = openpyxl.load_workbook(edited)
    ws = wb["GPUs"]
    header = [c.value for c in ws[1]]
    col = header.index("purchased") + 1
    row = next(r for r in range(2, ws.max_row + 1) if (ws.cell(r, col).value or 0) > 0)
    ws.cell(row, col).value = ws.cell(row, col).value - 1000  # fewer GPUs than installed
    wb.save(edited)
    result = run_cli("check", edited, "--inputs", REFERENCE)
    assert result.returncode == 1
    assert f"GPUs!{row}:" in result.stdout
    assert "installed" in result.stdout


def test_python_api_returns_dataframes_and_exports(tmp_path: Path) -> None:
    data = api.load(REFERENCE)
    result = api.solve(data, time_limit_s=120)
    assert result.status == "optimal"
    assert result.violations == []
    assert result.plan is not None
    gpus = result.plan["GPUs"]
    assert set(PLAN_COLUMNS["GPUs"]) <= set(gpus.columns)
    # Export controls hold: no China site gets a GPU other than H20 or Ascend910C.
    china = {s.site_id for s in data.sites if s.country == "China"}
    assert set(gpus[gpus.site_id.isin(china)].gpu_id) <= {"H20", "Ascend910C"}
    out = api.export(result, tmp_path / "api-plan.xlsx", inputs=REFERENCE)
    assert out.exists()


@pytest.mark.slow
def test_plan_never_overwrites_its_input(tmp_path: Path) -> None:
    workbook = tmp_path / "in.xlsx"
    shutil.copy(REFERENCE, workbook)
    before = workbook.read_bytes()
    result = run_cli("plan", workbook, "-o", workbook, "--time-limit", "60")
    assert result.returncode == 1
    assert "input is never overwritten" in result.stderr
    assert workbook.read_bytes() == before
