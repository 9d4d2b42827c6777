"""Explanations: shadow prices against finite differences, locks and diffs of plans edited
with openpyxl (the diagnosis of infeasible workbooks: ``test_diagnose.py``).

Tiny instances follow ``tests/factory.py``: one GPU delivers 8.64e19 FLOP to a run, draws
1 kW and costs 10,000 USD; the run needs 1e25 FLOP, i.e. 115,741 GPUs.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import factory as f
import numpy as np
import openpyxl
import pandas as pd
import pytest

from models.build import build_model
from models.locks import Locks
from models.sets import build_model_data
from planner import api
from planner.analysis.explain import (
    COUNT_VARS,
    binding_constraints,
    explained,
    money,
    solve_lp,
)
from planner.analysis.review import (
    diff,
    lock_cost_words,
    locks_from_plan,
    read_locks,
    review_locks,
)
from planner.inputs.data import PlanningData
from planner.results.check import check_plan
from planner.results.export import read_plan, write_plan
from planner.solving.compiled import compile_model

REPO = Path(__file__).resolve().parents[2]
N = 115_741  # GPUs for 1e25 FLOP


def solve(data: PlanningData) -> api.PlanResult:
    return api.solve(data, mip_gap=1e-9, time_limit_s=30.0, keep_model=True)


def objective_usd(data: PlanningData) -> float:
    res = api.solve(data, mip_gap=1e-9, time_limit_s=30.0)
    assert res.status == "optimal", res.result.message
    assert res.result.objective is not None
    return res.result.objective * 1e6


def with_supply(data: PlanningData, resource: str, year: int, delta: float) -> PlanningData:
    rows = [
        s.model_copy(update={"capacity": s.capacity + delta})
        if (s.resource, s.year) == (resource, year)
        else s
        for s in data.supply
    ]
    return dataclasses.replace(data, supply=rows)


def with_max_mw(data: PlanningData, site: str, source: str, delta: float) -> PlanningData:
    rows = [
        s.model_copy(update={"max_mw": s.max_mw + delta})
        if (s.site_id, s.source_id) == (site, source)
        else s
        for s in data.site_power
    ]
    return dataclasses.replace(data, site_power=rows)


def row(df: pd.DataFrame, family: str, instance: str | None = None) -> Any:
    hit = df[(df.family == family) & ((df.instance == instance) if instance else True)]
    assert len(hit) == 1, df
    return hit.iloc[0]


def loaded(data: PlanningData, tmp_path: Path, name: str = "in.xlsx") -> PlanningData:
    """Round trip through a real workbook, so cells (``Supply!C2``) are known."""
    if not data.supply:  # the workbook needs a Supply row: one that limits nothing
        data = dataclasses.replace(data, supply=[f.supply(2026, "transformer_units", 1e4)])
    path = f.write_workbook(data, tmp_path / name)
    return api.load(path)


# ---- shadow prices vs finite differences ---------------------------------------------------
def two_gpus(**kw: Any) -> PlanningData:
    """G1: 10,000 USD and CoWoS/HBM hungry; G2: 20,000 USD, needs neither; same FLOP."""
    return f.instance(gpus=[f.gpu("G1", **kw), f.gpu("G2", capex_usd=20_000.0)])


def test_cowos_price_matches_finite_difference(tmp_path: Path) -> None:
    # 10 wafers per 1,000 GPUs: 500 wafers allow 50,000 G1; one more wafer swaps 100 G2 for
    # 100 G1 and saves 100 x 10,000 = 1,000,000 USD.
    data = loaded(
        dataclasses.replace(
            two_gpus(cowos_wafers_per_kgpu=10.0), supply=[f.supply(2026, "cowos_wafers", 500.0)]
        ),
        tmp_path,
    )
    res = solve(data)
    df = binding_constraints(res)
    r = row(df, "compute_cowos_supply")
    assert r.limit_cell == "Supply!C2"
    assert r.unit == "USD per wafer"
    assert r.shadow_price == pytest.approx(-1e6, rel=1e-6)
    assert r.slack == pytest.approx(0.0, abs=1e-6) and r.used == pytest.approx(500.0)
    step = 10.0
    fd = (objective_usd(with_supply(data, "cowos_wafers", 2026, step)) - objective_usd(data)) / step
    assert fd == pytest.approx(r.shadow_price, rel=1e-6)
    assert "one more CoWoS wafer in 2026 would save 1 M USD" in r.reading


def test_hbm_price_is_per_stack() -> None:
    # 8 stacks per G1; 400,000 stacks allow 50,000 G1; one more stack = 1/8 of a G1 swap:
    # saves 10,000 / 8 = 1,250 USD. The model counts stacks in thousands.
    data = dataclasses.replace(
        two_gpus(hbm_stacks=8.0), supply=[f.supply(2026, "hbm_stacks", 400_000.0)]
    )
    res = solve(data)
    r = row(binding_constraints(res), "compute_hbm_supply")
    assert r.unit == "USD per HBM stack"
    assert r.shadow_price == pytest.approx(-1250.0, rel=1e-6)
    step = 800.0  # 100 GPUs
    fd = (objective_usd(with_supply(data, "hbm_stacks", 2026, step)) - objective_usd(data)) / step
    assert fd == pytest.approx(r.shadow_price, rel=1e-6)


def test_power_max_mw_and_run_flop_prices() -> None:
    # Free on-site power "cheap" up to 50 MW, then "dear" at 1,000,000 USD/MW: one more MW
    # of cheap saves 1,000,000 USD. One more 1e24 FLOP costs 1e24 / 8.64e19 GPUs x
    # (10,000 USD + 1 kW x 1,000,000 USD/MW) = 11,574.07 x 11,000 = 127.3 M USD.
    data = f.instance(
        power_sources=[f.source("cheap"), f.source("dear", capex_usd_per_mw=1e6)],
        site_power=[f.site_power("S1", "cheap", max_mw=50.0), f.site_power("S1", "dear")],
    )
    res = solve(data)
    df = binding_constraints(res)
    power = row(df, "power_max_mw", "S1 cheap")
    assert power.shadow_price == pytest.approx(-1e6, rel=1e-6)
    fd = (objective_usd(with_max_mw(data, "S1", "cheap", 1.0)) - objective_usd(data)) / 1.0
    assert fd == pytest.approx(power.shadow_price, rel=1e-6)
    flop = row(df, "run_flop", "R1")
    assert flop.unit == "USD per 1e24 FLOP"
    assert flop.shadow_price == pytest.approx(1e24 / 8.64e19 * 11_000.0, rel=1e-6)
    more = dataclasses.replace(data, runs=[f.run(flop=1e25 + 1e23)])
    fd = (objective_usd(more) - objective_usd(data)) / 0.1
    assert fd == pytest.approx(flop.shadow_price, rel=1e-3)  # GPUs are whole
    assert flop.reading.startswith("one more 1e24 FLOP for run R1")


def reference_lp_cost(data: PlanningData, fixed: dict[str, float]) -> float:
    """Cost (MUSD) of the pricing LP of ``data`` with the same structural integers fixed."""
    cm = compile_model(build_model(build_model_data(data)))
    lower = np.array(cm.lp.col_lower_, dtype=float)
    upper = np.array(cm.lp.col_upper_, dtype=float)
    for j, v in enumerate(cm.columns):
        if cm.integer[j] and v.parent_component().name not in COUNT_VARS:
            lower[j] = upper[j] = fixed[v.name]
    from planner.analysis.explain import copy_lp

    lp = copy_lp(cm.lp, np.zeros(len(cm.columns), dtype=bool))
    lp.col_lower_, lp.col_upper_ = lower, upper
    return solve_lp(lp)[0] + cm.offset


@pytest.mark.slow
def test_reference_constraints_sheet(tmp_path: Path) -> None:
    # The reference with a fifth of its Rubin supply, so that GPU supply caps bind.
    data = api.load(REPO / "inputs" / "reference.xlsx")
    data = dataclasses.replace(
        data,
        supply=[
            s.model_copy(update={"capacity": s.capacity / 5}) if s.resource == "gpu:VR200" else s
            for s in data.supply
        ],
    )
    res = api.solve(data, keep_model=True)
    assert res.plan is not None and res.compiled is not None and res.result.values is not None
    res = explained(res)
    df = res.extra_sheets["Constraints"]
    assert len(df) and (df.impact_usd.diff().dropna() <= 1e-6).all()  # ranked
    assert all("!" in c for c in df.limit_cell)
    assert len(res.plan.summary["top_constraints"]) == 3
    fixed = {
        v.name: float(round(res.result.values[j]))
        for j, v in enumerate(res.compiled.columns)
        if res.compiled.integer[j]
    }
    base = reference_lp_cost(data, fixed)
    checked = 0
    # A cap of 0 sits at a breakpoint (one unit more may change the basis): skipped.
    for r in df[(df.shadow_price != 0) & (df.limit_value > 0)].itertuples():
        if r.family == "compute_hbm_supply" or r.family == "compute_gpu_supply":
            res_name = "hbm_stacks" if r.family == "compute_hbm_supply" else r.instance.split()[0]
            step = max(1.0, 1e-3 * r.limit_value)
            changed = with_supply(data, res_name, int(r.instance.split()[-1]), step)
        elif r.family == "power_max_mw":
            site, source = r.instance.split()
            step = 0.1
            changed = with_max_mw(data, site, source, step)
        else:
            continue
        fd = (reference_lp_cost(changed, fixed) - base) * 1e6 / step
        assert np.sign(fd) == np.sign(r.shadow_price)
        assert fd == pytest.approx(r.shadow_price, rel=0.02), r
        checked += 1
    assert checked >= 2
    out = write_plan(res, tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(out, read_only=True)
    assert "Constraints" in wb.sheetnames
    items = [c[0] for c in wb["Summary"].iter_rows(values_only=True)]
    assert "binding limit 1" in items


# ---- review loop ---------------------------------------------------------------------------
def add_lock_column(ws: Any, rows: dict[int, dict[str, Any]]) -> None:
    header = [c.value for c in ws[1]]
    col = len(header) + 1
    ws.cell(row=1, column=col, value="lock")
    for r, edits in rows.items():
        for name, value in edits.items():
            ws.cell(row=r, column=header.index(name) + 1, value=value)
        ws.cell(row=r, column=col, value="x")


def test_lock_and_diff(tmp_path: Path) -> None:
    # Two sites of 70 MW each, S2 with a dearer shell; a reviewer adds a GPU row locking
    # 60,000 GPUs bought at S2 in 2026.
    data = f.two_site_instance(
        sites=[
            f.site("S1", max_it_mw=70.0),
            f.site("S2", max_it_mw=70.0, shell_capex_usd_per_mw=1e6),
        ]
    )
    free = api.solve(data, time_limit_s=30.0)
    assert free.status == "optimal" and free.plan is not None
    plan_path = write_plan(free, tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(plan_path)
    n_rows = wb["GPUs"].max_row
    add_lock_column(
        wb["GPUs"],
        {n_rows + 1: {"site_id": "S2", "gpu_id": "G1", "year": 2026, "purchased": 60_000}},
    )
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    locks = read_locks(edited)
    assert locks.gpus == [("S2", "G1", 2026, 60_000)]
    report = review_locks(data, locks, time_limit_s=30.0)
    assert report.locked.status == "optimal" and not report.locked.violations
    assert report.locked.plan is not None
    got = report.locked.plan["GPUs"]
    assert int(got[(got.site_id == "S2") & (got.year == 2026)].purchased.sum()) == 60_000
    # Multi-site: 1e25 / (0.9 x 8.64e19) = 128,601 GPUs; free, S1 is full (70,000) and S2
    # holds 58,601. The lock moves 1,399 GPUs (1.399 MW) from S1 to S2's dearer shell:
    # 1.399 MW x 1,000,000 USD/MW = 1,399,000 USD.
    assert report.lock_cost_usd == pytest.approx(1_399_000.0, rel=1e-6)
    assert "the locks cost 1.4 M USD" in report.lines[1]
    assert "free optimum" in report.lines[1] and "not of optima" not in report.lines[1]
    # Had the free solve stopped at its limit with a bound 2 M USD below its plan, the same
    # plans would prove only that the locks cost between 0 (locked bound - free plan, at
    # most 1.4 M USD, floored at 0 when the locked bound sits within its gap) and
    # 1.4 + 2 = 3.4 M USD (locked plan - free bound).
    free_result = report.free.result
    assert free_result.objective is not None and report.locked.result.bound is not None
    stopped = dataclasses.replace(
        free_result, status="time_limit", bound=free_result.objective - 2.0
    )
    line = lock_cost_words(report.locked, dataclasses.replace(report.free, result=stopped))
    assert "difference of plans, not of optima" in line
    low = max(0.0, report.locked.result.bound - free_result.objective) * 1e6
    assert low <= 1_399_000.0 * (1 + 1e-6)
    assert f"between {money(low)} and 3.4 M USD" in line
    changes = diff(free.plan, report.locked.plan)
    assert ((changes.area == "GPUs") & (changes.item == "G1 2026")).any() or (
        (changes.area == "site") & (changes.item == "S2")
    ).any()
    assert ((changes.area == "cost") & (changes.item == "site_capex")).any()
    # The edited plan (an extra GPU row nobody solved for) fails the independent check,
    # with the sheet and row of the fault.
    violations = check_plan(data, read_plan(edited))
    assert violations and any(
        v.sheet in ("GPUs", "Runs", "Costs", "SiteYears", "Sites") for v in violations
    )
    # Diffing a plan with its own export finds nothing.
    assert diff(free.plan, read_plan(plan_path)).empty
    assert locks_from_plan(read_plan(plan_path)).gpus == []


# ---- plan options and commands -------------------------------------------------------------
@pytest.mark.slow
def test_plan_with_options_writes_diagnosis_and_pngs(tmp_path: Path) -> None:
    from planner.api import plan as plan_with_options
    from planner.cli.plan import after_export

    lines: list[str] = []
    bad = loaded(f.instance(sites=[f.site(max_it_mw=100.0)]), tmp_path, "bad.xlsx")
    res = plan_with_options(bad, time_limit_s=30.0, echo=lines.append)
    assert res.status == "infeasible"
    assert any("Sites!F2" in line for line in lines)
    out = write_plan(res, tmp_path / "bad-plan.xlsx")
    assert "Diagnosis" in openpyxl.load_workbook(out, read_only=True).sheetnames

    good = loaded(f.two_site_instance(), tmp_path, "good.xlsx")
    res = plan_with_options(good, time_limit_s=30.0, echo=lines.append)
    assert res.plan is not None and "Constraints" in res.extra_sheets
    out = write_plan(res, tmp_path / "good-plan.xlsx")
    pngs = after_export(res, out, png=True, echo=lines.append)
    assert len(pngs) == 4 and all(p.stat().st_size > 1000 for p in pngs)

    from planner.inputs.excel import new_workbook
    from planner.results.charts import add_charts

    wb = new_workbook()
    add_charts(wb, res.plan)
    assert len(wb["Charts"]._charts) == 5


@pytest.mark.slow
def test_cli_diff_and_explain(tmp_path: Path, cli: Any) -> None:
    data = f.two_site_instance()
    free = api.solve(data, time_limit_s=30.0)
    a = write_plan(free, tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(a)
    ws = wb["Fiber"]
    ws.delete_rows(2, ws.max_row)  # the reviewer drops the link
    wb.save(tmp_path / "b.xlsx")
    done = cli("diff", a, tmp_path / "b.xlsx")
    assert done.returncode == 0, done.stderr
    assert "L1" in done.stdout and "dropped" in done.stdout
    done = cli("explain", REPO / "inputs" / "reference.xlsx", "--top", "3")
    assert done.returncode == 0, done.stderr
    assert "Runs!C3" in done.stdout


@pytest.mark.slow
def test_locked_and_free_solves_share_one_time_limit() -> None:
    """``planner plan --lock`` solves twice (locked, then free for the comparison); the
    user's limit covers both: on a portfolio neither closes to 1e-6 (tests/models), the
    review ends near the limit, not at twice it."""
    limit = 16.0
    t0 = time.perf_counter()
    report = review_locks(f.time_limited_instance(), Locks(), time_limit_s=limit, mip_gap=1e-6)
    wall = time.perf_counter() - t0
    assert report.locked.status in ("time_limit", "no_plan"), report.locked.result.message
    assert report.free.status in ("time_limit", "no_plan"), report.free.result.message
    assert f"{limit:g} s" in report.locked.result.message  # the user's limit is named
    assert wall < 1.3 * limit, wall  # each solve alone would take the whole limit
