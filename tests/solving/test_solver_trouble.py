"""Solver trouble: the time limit is a wall-clock promise, extreme but valid magnitudes
still give plans that pass the independent check, exit codes 0-4, and determinism.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import factory as f
import pytest
from hardening_helpers import (
    REFERENCE,
    assert_no_traceback,
    plan_cells,
    reference_plan,
    run_cli,
    run_script,
)

from planner import api
from planner.results.check import check_plan
from planner.results.tables import PLAN_COLUMNS
from planner.solving.status import STATUS_NO_PLAN, STATUS_OPTIMAL, STATUS_TIME_LIMIT

SLACK_S = 1.0  # allowed overrun of the whole api.solve call (build + hand-off + grace)
PROMISE_S = 1.0  # allowed overrun of a whole `planner plan`, start-up and export included


def hard_instance() -> Any:
    """Too big for HiGHS to close in a few seconds (16 sites, 6 GPUs, 10 years, 8 runs)."""
    return f.large_instance(n_sites=16, n_gpus=6, n_years=10, n_runs=8)


def extreme_instance(days: float) -> Any:
    """1e30 FLOP, 1 W GPUs beside 1.5 kW ones, two 10 GW sites: 7.7e9 GPUs at days=3."""
    return f.instance(
        settings=f.settings(end_year=2027),
        gpus=[
            f.gpu("W1", it_kw=0.001),
            f.gpu("BIG", it_kw=1.5, bf16_tflops=2500.0, capex_usd=40_000.0),
        ],
        sites=[f.site("S1", max_it_mw=10_000.0), f.site("S2", max_it_mw=10_000.0, pue=1.3)],
        site_power=[f.site_power("S1", max_mw=20_000.0), f.site_power("S2", max_mw=20_000.0)],
        supply=[f.supply(2026, "cowos_wafers", 1e12)],
        runs=[
            f.run("huge", flop=1e30, duration_days=days, mfu=0.5, ready_year=2027),
            f.run("small", flop=1e21, ready_year=2026),
        ],
    )


# Solves that may overrun their limit run in a child process: HiGHS's Python wrapper keeps
# its "solver running" locks on the class, so one abandoned solve would break every later
# solve in this pytest process (see test_a_solve_after_an_abandoned_one_still_works).
TROUBLE_SCRIPT = r"""
import json, sys, threading, time
sys.path[:0] = ["tests", "tests/solving"]
import factory as f
import test_solver_trouble as t
from planner import api
from planner.results.check import check_plan
from planner.results.tables import PLAN_COLUMNS

def solver_threads():
    return [x for x in threading.enumerate() if "solve" in x.name.lower() and x.is_alive()]

out = {}
hard = t.hard_instance()
for limit in (1.0, 3.0):
    t0 = time.perf_counter()
    r = api.solve(hard, time_limit_s=limit)
    out[f"hard-{limit:g}"] = dict(
        status=r.status, elapsed=time.perf_counter() - t0, message=r.result.message,
        has_plan=r.plan is not None, gap=r.result.gap, violations=len(r.violations),
        size=r.model_size)
t0 = time.perf_counter()
r = api.solve(t.extreme_instance(days=3.0), time_limit_s=3.0)
elapsed = time.perf_counter() - t0
time.sleep(1.0)
cpu0 = time.process_time()
time.sleep(1.0)
out["extreme"] = dict(
    status=r.status, elapsed=elapsed, message=r.result.message, has_plan=r.plan is not None,
    violations=[str(v) for v in check_plan(r.data, r.plan)] if r.plan is not None else None,
    gpus=float(r.plan["GPUs"].purchased.sum()) if r.plan is not None else 0.0,
    coefficient_range=list(r.coefficient_range), threads=[x.name for x in solver_threads()],
    idle_cpu_s=time.process_time() - cpu0)
try:
    again = api.solve(f.instance(supply=[f.supply(2026, "cowos_wafers", 1e9)]), time_limit_s=10)
    out["again"] = dict(status=again.status, error=None)
except Exception as exc:
    out["again"] = dict(status=None, error=f"{type(exc).__name__}: {exc}")
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def trouble() -> dict[str, Any]:
    ran = run_script(TROUBLE_SCRIPT, timeout=180)
    lines = [x for x in ran.stdout.splitlines() if x.startswith("RESULT ")]
    assert lines, ran.output[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


# ------------------------------------------------------------------ wall-clock limit


@pytest.mark.slow
@pytest.mark.parametrize("limit", [1.0, 3.0])
def test_time_limit_is_a_wall_clock_promise(limit: float, trouble: dict[str, Any]) -> None:
    r = trouble[f"hard-{limit:g}"]
    print(
        f"time limit {limit:g} s: {r['status']} after {r['elapsed']:.2f} s "
        f"({r['size']}); {r['message']}"
    )
    assert r["elapsed"] < limit + SLACK_S, f"{r['elapsed']:.1f} s against a {limit:g} s limit"
    assert r["status"] in (STATUS_TIME_LIMIT, STATUS_NO_PLAN), r["message"]
    if r["status"] == STATUS_TIME_LIMIT:
        assert r["has_plan"] and r["gap"] is not None and r["violations"] == 0
    else:
        assert not r["has_plan"]
        assert "no plan found within" in r["message"]


@pytest.mark.slow
def test_cli_time_limit_holds_within_a_second(tmp_path: Path) -> None:
    """The whole command, timed from outside as an operator would: Python start-up,
    imports, reading, build, solve, extract, check, binding limits and export (issue 12.7:
    a 60 s limit took 63.6 s; 300 sites with 20 s took 26.8 s)."""
    from planner.inputs.synth import SynthSpec, write_synth

    workbook = write_synth(SynthSpec(sites=300, runs=12, seed=1), tmp_path / "s300.xlsx")
    limit = 10.0
    ran = run_cli(
        "plan",
        workbook,
        "-o",
        tmp_path / "plan.xlsx",
        "-q",
        "--time-limit",
        f"{limit:g}",
        timeout=120,
        cwd=tmp_path,
    )
    assert_no_traceback(ran)
    assert ran.returncode in (0, 3), ran.output[-2000:]  # a plan at the limit, or none
    print(f"time limit {limit:g} s: exit {ran.returncode} after {ran.seconds:.2f} s")
    assert ran.seconds < limit + PROMISE_S, f"{ran.seconds:.2f} s against {limit:g} s"


@pytest.mark.slow
def test_no_plan_message_names_the_users_limit(trouble: dict[str, Any]) -> None:
    """1 s is too short for a plan of the hard instance (3 s may find one)."""
    r = trouble["hard-1"]
    assert r["status"] == STATUS_NO_PLAN
    assert "within 1 s" in r["message"], r["message"]


# ------------------------------------------------------------------ extreme magnitudes


@pytest.mark.slow
def test_extreme_magnitudes_pass_the_independent_check(trouble: dict[str, Any]) -> None:
    r = trouble["extreme"]
    lo, hi = r["coefficient_range"]
    print(
        f"extreme: {r['status']} in {r['elapsed']:.1f} s, coefficient range "
        f"[{lo:.3g}, {hi:.3g}] (ratio {hi / lo:.3g}); {r['message']}"
    )
    assert r["elapsed"] < 3.0 + SLACK_S
    assert r["has_plan"], r["message"]
    assert r["violations"] == []
    assert r["status"] in (STATUS_OPTIMAL, STATUS_TIME_LIMIT)  # never "error" with a clean check
    assert r["gpus"] > 1e9  # billions of 1 W GPUs: the numbers really are extreme
    assert 0 < lo <= hi < 1e12


@pytest.mark.parametrize("days", [30.0, 120.0])
def test_extreme_but_easier_magnitudes(days: float) -> None:
    result = api.solve(extreme_instance(days=days), time_limit_s=20.0)
    lo, hi = result.coefficient_range
    print(f"extreme days={days:g}: {result.status}, coefficient range [{lo:.3g}, {hi:.3g}]")
    assert result.plan is not None, result.result.message
    assert result.violations == [] and check_plan(result.data, result.plan) == []
    assert result.status == STATUS_OPTIMAL


@pytest.mark.slow
def test_no_solver_thread_outlives_the_solve(trouble: dict[str, Any]) -> None:
    r = trouble["extreme"]
    assert not r["threads"], (r["threads"], f"{r['idle_cpu_s']:.2f} s CPU while idle")


@pytest.mark.slow
def test_a_solve_after_an_abandoned_one_still_works(trouble: dict[str, Any]) -> None:
    r = trouble["again"]
    assert r["error"] is None, r["error"]
    assert r["status"] == STATUS_OPTIMAL


# ------------------------------------------------------------------ exit codes


@pytest.mark.slow
def test_exit_0_on_the_reference() -> None:
    out = reference_plan()  # planned once per session by ``python -m planner plan``
    assert out.exists() and out.stat().st_size > 0


@pytest.mark.slow
def test_exit_1_on_invalid_input(tmp_path: Path) -> None:
    import openpyxl

    src = Path(
        f.write_workbook(
            f.instance(supply=[f.supply(2026, "cowos_wafers", 1e9)]), tmp_path / "bad.xlsx"
        )
    )
    wb = openpyxl.load_workbook(src)
    ws = wb["GPUs"]
    column = [c.value for c in ws[1]].index("capex_usd") + 1
    ws.cell(row=2, column=column, value=-5.0)
    wb.save(src)
    ran = run_cli("plan", src, "-o", tmp_path / "plan.xlsx", "-q", cwd=tmp_path)
    assert_no_traceback(ran)
    assert ran.returncode == 1, ran.output[-2000:]
    assert "GPUs" in ran.stderr and "capex_usd" in ran.stderr
    assert not (tmp_path / "plan.xlsx").exists()


@pytest.mark.slow
def test_exit_2_on_an_infeasible_workbook(tmp_path: Path) -> None:
    data = f.instance(
        sites=[f.site(max_it_mw=1.0)],
        runs=[f.run(flop=1e27)],
        supply=[f.supply(2026, "cowos_wafers", 1e9)],
    )
    src = Path(f.write_workbook(data, tmp_path / "infeasible.xlsx"))
    ran = run_cli("plan", src, "-o", tmp_path / "plan.xlsx", "-q", cwd=tmp_path)
    assert_no_traceback(ran)
    assert ran.returncode == 2, ran.output[-2000:]
    assert "infeasible" in ran.output


@pytest.mark.slow
def test_exit_3_when_no_plan_in_time(tmp_path: Path) -> None:
    src = Path(f.write_workbook(hard_instance(), tmp_path / "hard.xlsx"))
    t0 = time.perf_counter()
    ran = run_cli(
        "plan", src, "-o", tmp_path / "plan.xlsx", "-q", "--time-limit", "0.5", cwd=tmp_path
    )
    assert_no_traceback(ran)
    assert ran.returncode == 3, ran.output[-2000:]
    assert "no plan found within 0.5 s" in ran.stderr
    assert time.perf_counter() - t0 < 30


INTERNAL_ERROR = r"""
import sys
import planner.api
def broken(*args, **kwargs):
    raise RuntimeError("simulated solver crash")
planner.api.solve = broken
sys.argv = ["planner", "plan", sys.argv[1], "-o", sys.argv[2], "-q"]
from planner.cli import main
main()
"""


@pytest.mark.slow
def test_exit_4_on_an_internal_error_with_a_log(tmp_path: Path) -> None:
    src = tmp_path / "reference.xlsx"
    shutil.copyfile(REFERENCE, src)
    ran = run_script(
        INTERNAL_ERROR.replace("sys.argv[1]", repr(str(src))).replace(
            "sys.argv[2]", repr(str(tmp_path / "plan.xlsx"))
        ),
        cwd=tmp_path,
    )
    assert_no_traceback(ran)
    assert ran.returncode == 4, ran.output[-2000:]
    assert "internal error: RuntimeError: simulated solver crash" in ran.stderr
    log = Path(ran.stderr.split("full log:")[-1].strip())
    assert log.is_file(), ran.stderr
    text = log.read_text()
    assert "Traceback" in text and "simulated solver crash" in text
    log.unlink()


# ------------------------------------------------------------------ determinism


@pytest.mark.slow
def test_same_workbook_same_plan_across_runs_and_threads(tmp_path: Path) -> None:
    data = api.load(REFERENCE)
    cells = []
    for i, threads in enumerate((None, None, 1)):
        result = api.solve(data, threads=threads)
        assert result.status == STATUS_OPTIMAL, result.result.message
        cells.append(plan_cells(api.export(result, tmp_path / f"plan-{i}.xlsx")))
    first = cells[0]
    assert set(PLAN_COLUMNS) <= first.keys()
    for other in cells[1:]:
        assert other.keys() == first.keys()
        for sheet in first:
            assert other[sheet] == first[sheet], f"sheet {sheet} differs"
    # Another process, through the CLI (which may add explanation sheets).
    cli = plan_cells(reference_plan())
    explanation = ("binding limit", "Deciding limit")
    cli["Summary"] = [r for r in cli["Summary"] if not str(r[0]).startswith(explanation)]
    for sheet in [*PLAN_COLUMNS, "Summary", "ChartData", "Inputs"]:
        assert cli[sheet] == first[sheet], f"sheet {sheet} differs from the CLI's plan"
