"""Studies: scenario and sweep parsing and validation, fault isolation, resume, parallel
and Dask runs giving the same table (real HiGHS solves on tiny instances)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import factory
import openpyxl
import pandas as pd
import pytest

from planner.inputs.data import PlanningData
from planner.inputs.problems import InputError
from planner.inputs.schema import ScenarioRow, SweepRow
from planner.studies.report import study_table
from planner.studies.scenarios import effective_hash, expand_sweeps, study_scenarios, sweep_values
from planner.studies.study import run_study, write_study
from planner.studies.worker import solve_task

TIMING = ["solve_seconds", "reason"]


def scenario(name: str, sheet: str, row_id: str, column: str, op: str, value: Any) -> ScenarioRow:
    return ScenarioRow(scenario=name, sheet=sheet, row_id=row_id, column=column, op=op, value=value)


def sweep(
    name: str,
    sheet: str,
    row_id: str,
    column: str,
    start: float,
    stop: float,
    steps: int,
    scale: str = "linear",
) -> SweepRow:
    return SweepRow.model_validate(
        dict(
            sweep=name,
            sheet=sheet,
            row_id=row_id,
            column=column,
            to=stop,
            steps=steps,
            scale=scale,
            **{"from": start},
        )
    )


def study_data(**kw: Any) -> PlanningData:
    """Two GPU types, one run; a cheaper-GPU scenario, an infeasible one, a FLOP sweep."""
    base: dict[str, Any] = dict(
        gpus=[factory.gpu("G1"), factory.gpu("G2", capex_usd=12_000.0, bf16_tflops=1100.0)],
        supply=[factory.supply(2026, "cowos_wafers", 1e9)],
        scenarios=[
            scenario("cheap-g2", "GPUs", "G2", "capex_usd", "scale", 0.5),
            scenario("impossible", "Runs", "R1", "flop", "set", 1e30),
            scenario("dear-power", "PowerSources", "*", "capex_usd_per_mw", "add", 1e6),
            scenario("dear-power", "Settings", "discount_rate", "value", "set", 0.05),
        ],
        sweeps=[sweep("flop", "Runs", "R1", "flop", 1e23, 1e25, 3, "log")],
    )
    base.update(kw)
    return factory.instance(**base)


def comparable(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=TIMING).reset_index(drop=True)


# ---------------------------------------------------------------- parsing and validation


def test_scenarios_apply_changes_and_leave_the_base_alone() -> None:
    data = study_data()
    items = dict((sc.name, d) for sc, d in study_scenarios(data))
    assert list(items)[:4] == ["base", "cheap-g2", "impossible", "dear-power"]
    assert items["cheap-g2"].gpus[1].capex_usd == 6_000.0
    assert items["cheap-g2"].gpus[0].capex_usd == 10_000.0
    assert data.gpus[1].capex_usd == 12_000.0
    assert items["impossible"].runs[0].flop == 1e30
    assert items["dear-power"].power_sources[0].capex_usd_per_mw == 1e6
    assert items["dear-power"].settings.discount_rate == 0.05
    assert effective_hash(items["base"]) == effective_hash(data)
    assert effective_hash(items["cheap-g2"]) != effective_hash(data)


@pytest.mark.parametrize(
    ("change", "column", "words"),
    [
        (dict(sheet="Nowhere"), "sheet", "unknown sheet 'Nowhere'"),
        (dict(row_id="G9"), "row_id", "no row with id 'G9' in GPUs"),
        (dict(column="price"), "column", "no column 'price' in GPUs"),
        (dict(op="times"), "op", "unknown op 'times'"),
        (dict(column="gpu_id", op="set", value="X"), "column", "key column"),
        (dict(value="half"), "value", "scale needs a number"),
        (
            dict(sheet="Sites", row_id="S1", column="pue", op="set", value=0.5),
            "value",
            "pue must be a number >= 1 and <= 3",
        ),
        (
            dict(sheet="Settings", row_id="discount_rate", column="value", op="set", value=2),
            "value",
            "must be a number >= 0 and <= 1",
        ),
        (
            dict(sheet="Runs", row_id="R1", column="ready_year", op="set", value=2030),
            None,
            "must be within the plan's years",
        ),
    ],
)
def test_invalid_changes_name_the_scenarios_row(
    change: dict[str, Any], column: str | None, words: str
) -> None:
    good = scenario("ok", "GPUs", "G1", "capex_usd", "scale", 0.9)
    bad = good.model_copy(update={"scenario": "bad", **change})
    data = study_data(scenarios=[good, good.model_copy(update={"scenario": "ok2"}), bad], sweeps=[])
    with pytest.raises(InputError) as info:
        study_scenarios(data)
    [problem] = info.value.problems
    assert problem.sheet == "Scenarios" and problem.row == 4  # header + 2 rows before it
    assert problem.column == column
    assert words in str(problem) and "scenario 'bad'" in str(problem)
    assert str(problem).startswith("Scenarios!")


def test_every_problem_is_reported_before_solving() -> None:
    rows = [
        scenario("a", "Nowhere", "x", "y", "set", 1),
        scenario("b", "Sites", "S1", "pue", "set", 0.5),
    ]
    data = study_data(scenarios=rows, sweeps=[sweep("s", "Sites", "*", "pue", 0, 1, 3, "log")])
    with pytest.raises(InputError) as info:
        run_study(data)
    where = [(p.sheet, p.row) for p in info.value.problems]
    assert where == [("Scenarios", 2), ("Scenarios", 3), ("Sweeps", None)] or where[:2] == [
        ("Scenarios", 2),
        ("Scenarios", 3),
    ]
    assert any(p.sheet == "Sweeps" and "log sweep" in p.message for p in info.value.problems)


def test_sweeps_expand_to_one_scenario_per_step() -> None:
    log = sweep_values(1e26, 1e29, 13, "log")
    assert len(log) == 13 and log[0] == 1e26 and log[-1] == 1e29
    ratios = {round(b / a, 9) for a, b in zip(log, log[1:], strict=False)}
    assert ratios == {round(10**0.25, 9)}
    assert sweep_values(1.1, 1.6, 6, "linear") == [1.1, 1.2, 1.3, 1.4, 1.5, 1.6]
    data = study_data(
        sweeps=[
            sweep("pue", "Sites", "*", "pue", 1.1, 1.6, 6),
            sweep("sites", "Runs", "R1", "max_sites", 1, 2, 4),
        ]
    )
    scenarios, problems = expand_sweeps(data)
    assert not problems
    names = [s.name for s in scenarios]
    assert names[:6] == ["pue=1.1", "pue=1.2", "pue=1.3", "pue=1.4", "pue=1.5", "pue=1.6"]
    assert names[6:] == ["sites=1", "sites=2"]  # whole-number column: steps rounded, deduped
    items = dict((sc.name, d) for sc, d in study_scenarios(data))
    assert items["pue=1.3"].sites[0].pue == 1.3
    assert items["sites=2"].runs[0].max_sites == 2


# ---------------------------------------------------------------- solving


def test_scenarios_solved_in_process_compare_with_the_base() -> None:
    """The worker's solve and the study table without worker processes (the fast subset;
    the tests below run the same study in spawned workers and on Dask)."""
    items = study_scenarios(study_data(sweeps=[]))
    results = {sc.name: solve_task({"data": d, "threads": 1}) for sc, d in items}
    table = study_table([sc for sc, _ in items], results).set_index("scenario")
    assert table.loc["base", "status"] == "optimal"
    assert table.loc["impossible", "status"] == "infeasible"
    assert math.isnan(table.loc["impossible", "objective_usd"])
    assert table.loc["cheap-g2", "delta_usd"] < 0
    assert table.loc["cheap-g2", "gpus_G2"] > 0 and table.loc["cheap-g2", "gpus_G1"] == 0
    assert table.loc["base", "delta_pct"] == 0
    assert table.loc["dear-power", "delta_pct"] > 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One study solved with 1 worker, with 2 workers (cached), and rerun from the cache."""
    cache = tmp_path_factory.mktemp("study") / "cache"
    data = study_data()
    one = run_study(data, workers=1)
    two = run_study(data, workers=2, cache_dir=cache)
    again = run_study(data, workers=2, cache_dir=cache)
    return {"data": data, "one": one, "two": two, "again": again, "cache": cache}


@pytest.mark.slow
def test_study_solves_base_and_scenarios(runs: dict[str, Any]) -> None:
    table = runs["one"].table().set_index("scenario")
    assert table.loc["base", "status"] == "optimal"
    assert table.loc["impossible", "status"] == "infeasible"
    assert "infeasible" in table.loc["impossible", "reason"]
    assert math.isnan(table.loc["impossible", "objective_usd"])
    # half-price G2 is bought instead of G1 and the plan is cheaper than the base
    assert table.loc["cheap-g2", "delta_usd"] < 0
    assert table.loc["cheap-g2", "gpus_G2"] > 0 and table.loc["cheap-g2", "gpus_G1"] == 0
    assert table.loc["base", "delta_pct"] == 0
    assert table.loc["dear-power", "delta_pct"] > 0
    assert table.loc["flop=1e+24", "flop_delivered_R1"] >= 1e24
    assert list(table.index[-3:]) == ["flop=1e+23", "flop=1e+24", "flop=1e+25"]


@pytest.mark.slow
def test_identical_tables_for_one_and_two_workers(runs: dict[str, Any]) -> None:
    pd.testing.assert_frame_equal(comparable(runs["one"].table()), comparable(runs["two"].table()))


@pytest.mark.slow
def test_rerun_resumes_from_the_cache(runs: dict[str, Any]) -> None:
    again = runs["again"]
    assert again.solved == 0
    assert again.cache_hits == len(again.scenarios)
    pd.testing.assert_frame_equal(comparable(runs["two"].table()), comparable(again.table()))
    # the sweep step flop=1e+25 is the base case: solved once, cached once
    assert runs["two"].solved == len(runs["two"].scenarios) - 1
    assert len(list(runs["cache"].glob("*.json"))) == len(again.scenarios) - 1


@pytest.mark.slow
def test_a_crashed_worker_fails_only_its_scenario() -> None:
    data = study_data(sweeps=[])
    study = run_study(data, workers=2, faults={"cheap-g2": "exit", "dear-power": "raise"})
    table = study.table().set_index("scenario")
    assert table.loc["cheap-g2", "status"] == "crashed"
    assert "worker process died" in table.loc["cheap-g2", "reason"]
    assert table.loc["dear-power", "status"] == "crashed"
    assert "injected fault" in table.loc["dear-power", "reason"]
    assert table.loc["base", "status"] == "optimal"
    assert table.loc["impossible", "status"] == "infeasible"


@pytest.mark.slow
def test_dask_local_cluster_gives_the_local_table(runs: dict[str, Any]) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        study = run_study(runs["data"], scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(comparable(runs["one"].table()), comparable(study.table()))


# ---------------------------------------------------------------- workbook and CLI


@pytest.mark.slow
def test_study_workbook_has_table_sweep_chart_and_plan_files(
    runs: dict[str, Any], tmp_path: Path
) -> None:
    out = write_study(runs["one"], runs["data"], tmp_path / "x-study.xlsx")
    wb = openpyxl.load_workbook(out)
    assert {"Study", "Scenarios", "Sweep flop", "About"} <= set(wb.sheetnames)
    ws = wb["Study"]
    header = [c.value for c in ws[1]]
    for column in (
        "scenario",
        "status",
        "reason",
        "objective_usd",
        "delta_usd",
        "delta_pct",
        "capex_usd",
        "opex_usd",
        "gpus_G1",
        "mw_onsite",
        "sites_built",
        "links_built",
        "flop_delivered_R1",
        "gap",
        "solve_seconds",
        "plan_file",
    ):
        assert column in header
    link = ws.cell(row=2, column=header.index("plan_file") + 1)
    assert link.hyperlink is not None and link.value == "x-study-plans/base.xlsx"
    assert (tmp_path / "x-study-plans" / "base.xlsx").exists()
    assert (tmp_path / "x-study-plans" / "impossible.xlsx").exists()
    plan = openpyxl.load_workbook(tmp_path / "x-study-plans" / "cheap-g2.xlsx")
    assert "Scenario" in plan.sheetnames and "GPUs" in plan.sheetnames
    chart = wb["Sweep flop"]._charts[0]
    assert chart.x_axis.scaling.logBase == 10


def _write_inputs(data: PlanningData, out: Path) -> Path:
    from planner.inputs.data import SHEET_ATTRS
    from planner.inputs.template import write_input_workbook

    tables = {
        sheet: [r.model_dump(by_alias=True) for r in getattr(data, attr)]
        for sheet, attr in SHEET_ATTRS.items()
    }
    return write_input_workbook(out, data.settings.model_dump(), tables)


@pytest.mark.slow
def test_cli_study_writes_the_workbook_and_rejects_bad_scenarios(cli: Any, tmp_path: Path) -> None:
    data = study_data(scenarios=study_data().scenarios[:2], sweeps=[])
    book = _write_inputs(data, tmp_path / "tiny.xlsx")
    res = cli("study", book, "--workers", "1", "--time-limit", "20", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "outputs" / "tiny-study.xlsx").exists()
    assert (tmp_path / "outputs" / "tiny-study-plans" / "impossible.xlsx").exists()
    bad = dataclasses.replace(
        data, scenarios=[*data.scenarios, scenario("hot", "Sites", "S1", "pue", "set", 0.5)]
    )
    book = _write_inputs(bad, tmp_path / "bad.xlsx")
    res = cli("study", book, cwd=tmp_path)
    assert res.returncode == 1
    assert "Scenarios!F4 value = 0.5" in res.stderr and "nothing was solved" in res.stderr
