"""planner risk: draws, the odds of a run against a hand-checkable supply cap, determinism,
commitments, the cache, Dask, and every recourse plan re-checked (real HiGHS solves on
tiny instances)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import factory
import openpyxl
import pytest
from scipy.stats import binom

from planner.inputs.data import PlanningData
from planner.inputs.schema import UncertaintyRow
from planner.studies.risk import RiskResult, run_risk
from planner.studies.risk_report import write_risk
from planner.studies.risk_tables import binding_rows, run_rows, sample_rows, wilson
from planner.studies.uncertainty import sample_draws, uncertainties

# R1 needs 1e25 FLOP in one day on 1,000 TFLOP/s GPUs at MFU 1: 115,741 GPUs.
PER_GPU = factory.per_gpu_flop()
NEED = math.ceil(1e25 / PER_GPU)
TIMING = ("solve_seconds", "from_cache")


def urow(name: str, sheet: str, row_id: str, column: str, op: str, dist: str, **kw: Any) -> Any:
    return UncertaintyRow(
        uncertainty=name, sheet=sheet, row_id=row_id, column=column, op=op, distribution=dist, **kw
    )


def cap_data(**kw: Any) -> PlanningData:
    """One GPU type on sale from 2027, one run ready in 2027, and a 50/50 choice between a
    2027 supply cap that lets the run through (200,000 GPUs) and one that blocks it
    (100,000); plus a GPU price that only moves the cost."""
    base: dict[str, Any] = dict(
        settings=factory.settings(end_year=2027),
        gpus=[factory.gpu("G1", available_year=2027)],
        supply=[factory.supply(2027, "gpu:G1", 200_000)],
        runs=[factory.run("R1", ready_year=2027)],
        uncertainty=[
            urow(
                "cap",
                "Supply",
                "2027:gpu:G1",
                "capacity",
                "set",
                "choice",
                choices="200000:0.5;100000:0.5",
            ),
            urow("price", "GPUs", "G1", "capex_usd", "scale", "uniform", low=0.8, high=1.2),
        ],
    )
    base.update(kw)
    return factory.instance(**base)


def comparable(risk: RiskResult) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in sample_rows(risk)]


@pytest.fixture(scope="module")
def fifty_fifty() -> RiskResult:
    return run_risk(cap_data(), samples=60, seed=0, workers=0)


def test_a_fifty_fifty_cap_gives_odds_inside_the_binomial_interval(fifty_fifty: RiskResult) -> None:
    risk = fifty_fifty
    r1 = run_rows(risk)[0]
    low, high = binom.interval(0.99, 60, 0.5)
    assert r1["samples"] == 60
    assert low <= r1["met"] <= high
    # Hand check, sample by sample: the run is met exactly when the cap lets it through,
    # and short of it by what 100,000 GPUs deliver.
    for s in risk.samples:
        through = s.draws["cap"] == 200_000
        assert s.result["met"]["R1"] is through
        if not through:
            assert s.result["flop"]["R1"] == pytest.approx(100_000 * PER_GPU, rel=1e-9)
            assert s.result["objective_usd"] is None
        else:
            price = 10_000.0 * s.draws["price"]
            assert s.result["objective_usd"] == pytest.approx(NEED * price, rel=1e-6)
    lo, hi = wilson(r1["met"], 60)
    assert (r1["ci95_low_fraction"], r1["ci95_high_fraction"]) == (lo, hi)


def test_the_blocking_cap_binds_every_short_sample_and_the_price_none(
    fifty_fifty: RiskResult,
) -> None:
    rows = {b["uncertainty"]: b for b in binding_rows(fifty_fifty)}
    short = 60 - run_rows(fifty_fifty)[0]["met"]
    assert rows["cap"]["short_samples"] == short
    assert rows["cap"]["binds_samples"] == short and rows["cap"]["binds_pct"] == 100.0
    assert rows["price"]["adverse_samples"] == short and rows["price"]["binds_samples"] == 0


def test_every_recourse_plan_passes_the_independent_check(fifty_fifty: RiskResult) -> None:
    plans = [s.result for s in fifty_fifty.samples if s.result.get("objective_usd") is not None]
    assert plans
    for res in plans + [fifty_fifty.base]:
        assert res["status"] == "optimal"
        assert res["violations"] == [] and res["breaks"] == []


def test_the_same_seed_gives_the_same_numbers(fifty_fifty: RiskResult) -> None:
    again = run_risk(cap_data(), samples=60, seed=0, workers=0)
    assert comparable(again) == comparable(fifty_fifty)
    other = run_risk(cap_data(), samples=60, seed=1, workers=0)
    assert [s.draws for s in other.samples] != [s.draws for s in fifty_fifty.samples]
    # A sample's draws depend only on the seed, its index and the uncertainty's name.
    us = uncertainties(cap_data())
    assert sample_draws(us, 0, 17) == fifty_fifty.samples[17].draws
    assert sample_draws(us[1:], 0, 17)["price"] == fifty_fifty.samples[17].draws["price"]


def test_wilson_interval_matches_published_values() -> None:
    low, high = wilson(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775


def committed_data(**kw: Any) -> PlanningData:
    """R0 ready in 2026 and R1 in 2027 on the same GPUs, discounted at 10 %: the optimum
    buys R0's 115,741 GPUs in 2026 and the rest of R1's 231,482 in 2027."""
    base: dict[str, Any] = dict(
        settings=factory.settings(end_year=2027, discount_rate=0.1),
        runs=[factory.run("R0", ready_year=2026), factory.run("R1", ready_year=2027, flop=2e25)],
        export_controls=[factory.export_control("US", "G1", True)],
        uncertainty=[
            urow("price", "GPUs", "G1", "capex_usd", "scale", "uniform", low=0.5, high=0.6)
        ],
    )
    base.update(kw)
    return factory.instance(**base)


def test_the_commit_year_fixes_what_was_bought_before_it() -> None:
    risk = run_risk(committed_data(), samples=3, seed=0, workers=0)
    assert risk.settings["commit_year"] == 2027
    assert risk.commitment.values["gpus_bought"] == {("S1", "G1", 2026): float(NEED)}
    two_runs = math.ceil(2e25 / PER_GPU)
    for s in risk.samples:
        assert s.result["status"] == "optimal" and s.result["breaks"] == []
        # Cheaper GPUs in 2027 cannot buy back the 2026 purchase: the rest is bought then.
        assert s.result["gpus"] == {"G1": two_runs}
        price = 10_000.0 * s.draws["price"]
        assert s.result["objective_usd"] == pytest.approx(
            (NEED + (two_runs - NEED) / 1.1) * price, rel=1e-6
        )


def test_an_exported_plan_commits_what_the_optimum_does(tmp_path: Path) -> None:
    from planner import api

    data = committed_data()
    plan_file = api.export(api.solve(data), tmp_path / "plan.xlsx")
    given = run_risk(data, samples=2, seed=0, workers=0, plan=api.read_plan(plan_file))
    optimal = run_risk(data, samples=2, seed=0, workers=0)
    assert given.commitment.values == optimal.commitment.values
    assert comparable(given) == comparable(optimal)


def test_a_licence_withdrawn_cancels_a_committed_purchase_and_the_run() -> None:
    data = committed_data(
        uncertainty=[
            urow(
                "licence", "ExportControls", "US:G1", "allowed", "set", "choice", choices="FALSE:1"
            )
        ]
    )
    risk = run_risk(data, samples=2, seed=0, workers=0)
    for s in risk.samples:
        assert s.result["cancelled"] == ["gpus_bought ['S1', 'G1', 2026]"]
        assert s.result["met"] == {"R0": False, "R1": False}
    rows = {b["run_id"]: b for b in binding_rows(risk)}
    assert rows["R0"]["binds_samples"] == 2


def test_a_shortfall_in_a_committed_year_leaves_the_order_short() -> None:
    data = committed_data(
        supply=[factory.supply(2026, "gpu:G1", 200_000)],
        uncertainty=[
            urow("cap", "Supply", "2026:gpu:G1", "capacity", "set", "choice", choices="100000:1")
        ],
    )
    risk = run_risk(data, samples=2, seed=0, workers=0)
    assert risk.commitment.values["gpus_bought"] == {("S1", "G1", 2026): float(NEED)}
    for s in risk.samples:
        # 115,741 GPUs were ordered for 2026 and only 100,000 can come: R0 is short by the
        # rest; R1 (2027) buys what it lacks in 2027.
        assert s.result["met"] == {"R0": False, "R1": True}
        assert s.result["flop"]["R0"] == pytest.approx(100_000 * PER_GPU, rel=1e-9)
        assert s.result["cancelled"] == []


def test_a_one_year_horizon_commits_nothing_by_default() -> None:
    data = cap_data(
        settings=factory.settings(),
        gpus=[factory.gpu("G1")],
        supply=[factory.supply(2026, "gpu:G1", 200_000)],
        runs=[factory.run("R1")],
        uncertainty=[
            urow(
                "cap",
                "Supply",
                "2026:gpu:G1",
                "capacity",
                "set",
                "choice",
                choices="200000:0.5;100000:0.5",
            )
        ],
    )
    risk = run_risk(data, samples=10, seed=0, workers=0)
    assert risk.settings["commit_year"] == 2026 and len(risk.commitment) == 0
    assert [s.result["met"]["R1"] for s in risk.samples] == [
        s.draws["cap"] == 200_000 for s in risk.samples
    ]


def test_a_rerun_resumes_from_the_cache(tmp_path: Path) -> None:
    first = run_risk(cap_data(), samples=8, seed=2, workers=0, cache_dir=tmp_path)
    assert first.cache_hits == 0 and first.solved > 0
    again = run_risk(cap_data(), samples=12, seed=2, workers=0, cache_dir=tmp_path)
    assert again.cache_hits >= 9  # the base and the first eight samples
    assert comparable(again)[:8] == comparable(first)


def test_the_risk_workbook_has_its_sheets_and_charts(
    fifty_fifty: RiskResult, tmp_path: Path
) -> None:
    out = write_risk(fifty_fifty, tmp_path / "x-risk.xlsx")
    wb = openpyxl.load_workbook(out)
    for sheet in ("Risk", "Charts", "Runs", "Uncertainties", "Binding", "Samples", "About"):
        assert sheet in wb.sheetnames
    assert len(wb["Charts"]._charts) == 3
    assert wb["Samples"].max_row == 1 + 60  # header, one row per sample
    measures = [c.value for c in wb["Risk"]["A"]]
    assert "P(R1 by 2027)" in measures and "cost P90" in measures


@pytest.mark.slow
def test_dask_local_cluster_gives_the_local_numbers(fifty_fifty: RiskResult) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        on_dask = run_risk(cap_data(), samples=60, seed=0, scheduler=cluster.scheduler_address)
    assert comparable(on_dask) == comparable(fifty_fifty)


@pytest.mark.slow
def test_local_workers_give_the_in_process_numbers(fifty_fifty: RiskResult) -> None:
    two = run_risk(cap_data(), samples=60, seed=0, workers=2)
    assert comparable(two) == comparable(fifty_fifty)


def cap_workbook(tmp_path: Path, data: PlanningData, name: str = "cap.xlsx") -> Path:
    """``data`` as a real input workbook, its Uncertainty rows included."""
    from planner.inputs.schema import SHEET_BY_NAME

    out = Path(factory.write_workbook(data, tmp_path / name))
    wb = openpyxl.load_workbook(out)
    ws = wb.create_sheet("Uncertainty")
    columns = SHEET_BY_NAME["Uncertainty"].columns
    ws.append(columns)
    for r in data.uncertainty:
        ws.append([getattr(r, c) for c in columns])
    wb.save(out)
    return out


@pytest.mark.slow
def test_cli_risk_writes_the_workbook_and_names_bad_cells(cli: Any, tmp_path: Path) -> None:
    path = cap_workbook(tmp_path, cap_data())
    done = cli("risk", path, "--samples", "12", "--workers", "1", "-o", tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cap-risk.xlsx").exists() and (tmp_path / "cap-risk-cache").is_dir()
    assert "R1" in done.stdout and "95 % interval" in done.stdout
    again = cli("risk", path, "--samples", "12", "--workers", "1", "-o", tmp_path)
    assert again.returncode == 0 and "0 solves" in again.stdout

    bad = cap_data(
        uncertainty=[
            urow("cap", "Supply", "2031:gpu:G1", "capacity", "scale", "uniform", low=2, high=1)
        ]
    )
    refused = cli("risk", cap_workbook(tmp_path, bad, "bad.xlsx"), "-o", tmp_path)
    assert refused.returncode == 1
    assert "Uncertainty!G2 low = 2.0" in refused.stderr
    assert "Uncertainty!C2 row_id = '2031:gpu:G1'" in refused.stderr  # both at once

    blocked = cap_data(supply=[factory.supply(2027, "gpu:G1", 1_000)])
    stuck = cli("risk", cap_workbook(tmp_path, blocked, "stuck.xlsx"), "-o", tmp_path)
    assert stuck.returncode == 2 and "no plan to commit" in stuck.stderr
