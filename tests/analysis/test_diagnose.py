"""The diagnosis of infeasible workbooks: reach per run, the fewest and smallest edits that
give a plan (applied and re-solved here), alternatives, ``--keep``, what stands in the way,
and the diagnosis in studies. Real HiGHS solves on tiny workbooks.

Arithmetic of ``tests/factory.py``: one GPU G1 (1,000 TFLOP/s, mfu 1, one day) delivers
8.64e19 FLOP to a run and draws 1 kW; a run of 1e25 FLOP needs 115,741 of them
(1e25 / 8.64e19 = 115,740.7), i.e. 115.741 MW of IT.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import factory as f
import openpyxl
import pandas as pd
import pytest

from planner import api
from planner.analysis.diagnose import Diagnosis, apply_relaxation, diagnose
from planner.analysis.keep import Keep, parse_keep
from planner.inputs.data import PlanningData
from planner.inputs.problems import InputError
from planner.inputs.schema import ScenarioRow

PER_GPU = 8.64e19  # FLOP one G1 delivers
N = 115_741  # G1 GPUs for 1e25 FLOP


def loaded(data: PlanningData, tmp_path: Path, name: str = "in.xlsx") -> PlanningData:
    """Round trip through a real workbook, so cells (``Supply!C2``) are known."""
    if not data.supply:  # the workbook needs a Supply row: one that limits nothing
        data = dataclasses.replace(data, supply=[f.supply(2026, "transformer_units", 1e4)])
    return api.load(f.write_workbook(data, tmp_path / name))


def infeasible(data: PlanningData, tmp_path: Path, **kw: Any) -> tuple[PlanningData, Diagnosis]:
    data = loaded(data, tmp_path)
    assert api.solve(data, time_limit_s=30.0).status == "infeasible"
    return data, diagnose(data, time_limit_s=60.0, **kw)


def solves(data: PlanningData) -> bool:
    res = api.solve(data, time_limit_s=30.0)
    assert not res.violations
    return res.status == "optimal"


def edits(dg: Diagnosis, option: int = 1) -> pd.DataFrame:
    return dg.table[dg.table.option == option]


def with_supply(data: PlanningData, row: int, capacity: float) -> PlanningData:
    supply = list(data.supply)
    supply[row] = supply[row].model_copy(update={"capacity": capacity})
    return dataclasses.replace(data, supply=supply)


# ---- the three relaxable causes ---------------------------------------------------------
def test_a_small_supply_cap_is_raised_not_the_target_lowered(tmp_path: Path) -> None:
    # 100 G1 in 2026 deliver 8.64e21 FLOP; the run needs 115,741: +115,641 GPUs. Relative
    # to the cap that is a 1,156-fold rise, yet one limit moved beats giving up the run.
    data, dg = infeasible(f.instance(supply=[f.supply(2026, "gpu:G1", 100.0)]), tmp_path)
    assert dg.reachable_flop["R1"] == pytest.approx(100 * PER_GPU, rel=1e-9)
    assert dg.lines[0] == (
        "Runs!C2 reaches at most 8.64e+21 of 1e+25 FLOP by 2026; "
        "way out: Supply!C2 gpu:G1 2026 +115,641 GPUs (100 -> 115,741)"
    )
    assert dg.lines[1] == (
        "Runs!C2 needs 1e+25 FLOP by 2026; at most 8.64e+21 is reachable "
        "(short by 9.99e+24, 99.9 %)"
    )
    move = edits(dg).iloc[0]
    assert (move.limit_cell, move.current_value, move.new_value) == ("Supply!C2", 100.0, N)
    assert len(edits(dg)) == 1 and move.checked == "feasible"
    assert not any("lower" in line for line in dg.lines)
    assert solves(apply_relaxation(data, dg.table))
    assert not solves(with_supply(data, 0, N - 1))  # the new value is the least that works


def test_a_lead_time_is_cut(tmp_path: Path) -> None:
    # Only grid power, whose lead time of one year misses the 2026 run.
    grid_only = f.grid_instance(grid_lead_years=1, site_power=[f.site_power("S1", "grid")])
    data, dg = infeasible(grid_only, tmp_path)
    move = edits(dg).iloc[0]
    assert len(edits(dg)) == 1
    assert (move.limit_cell, move.current_value, move.new_value) == ("PowerSources!G2", 1, 0)
    assert "PowerSources!G2 lead_years of grid 1 -> 0 (online in 2026)" in dg.lines[0]
    assert solves(apply_relaxation(data, dg.table))


def test_a_site_max_it_mw_is_raised_to_the_kw(tmp_path: Path) -> None:
    # 100 MW of IT hold 100,000 GPUs; the run needs 115,741 (115.741 MW).
    data, dg = infeasible(f.instance(sites=[f.site(max_it_mw=100.0)]), tmp_path)
    move = edits(dg).iloc[0]
    assert move.limit_cell == "Sites!F2" and move.new_value == pytest.approx(115.741)
    assert dg.reachable_flop["R1"] == pytest.approx(100_000 * PER_GPU, rel=1e-9)
    assert "Sites!F2 max_it_mw at S1 +15.741 MW (100.000 -> 115.741)" in dg.lines[0]
    relaxed = apply_relaxation(data, dg.table)
    assert solves(relaxed)
    sites = [relaxed.sites[0].model_copy(update={"max_it_mw": 115.740})]
    assert not solves(dataclasses.replace(relaxed, sites=sites))


# ---- fixed inputs --------------------------------------------------------------------------
def test_an_export_control_alone_is_named_as_what_stands_in_the_way(tmp_path: Path) -> None:
    # The only site is in CN, where the only GPU type is not allowed: no limit helps.
    banned = f.instance(
        sites=[f.site(country="CN")], export_controls=[f.export_control("CN", "G1", False)]
    )
    data, dg = infeasible(banned, tmp_path)
    assert dg.lines[1] == (
        "Runs!C2 needs 1e+25 FLOP by 2026; no GPU can be bought, allowed and hosted for it by then"
    )
    assert "no edit of a limit or target gives Runs!C2 a plan" in dg.lines[0]
    assert "in the way: export controls: ExportControls!C2 (G1 not allowed in CN" in dg.lines[0]
    assert dg.table.new_value.isna().all()  # nothing to apply
    assert (dg.table.limit_cell == "ExportControls!C2").any()
    assert [o.what for o in dg.obstacles] == ["export controls"]


# ---- alternatives and --keep ---------------------------------------------------------------
def two_capped_types() -> PlanningData:
    """G1 as usual and G2 at half its speed (4.32e19 FLOP per GPU), 100 of each in 2026.
    Raising G1's cap alone: (1e25 - 100 x 4.32e19) / 8.64e19 = 115,690.7 -> 115,691;
    raising G2's alone: (1e25 - 100 x 8.64e19) / 4.32e19 = 231,281.5 -> 231,282."""
    return f.instance(
        gpus=[f.gpu("G1"), f.gpu("G2", bf16_tflops=500.0)],
        supply=[f.supply(2026, "gpu:G1", 100.0), f.supply(2026, "gpu:G2", 100.0)],
    )


def test_alternative_single_moves_smallest_relative_move_first(tmp_path: Path) -> None:
    data, dg = infeasible(two_capped_types(), tmp_path)
    assert dg.lines[0].endswith(
        "way out: either Supply!C2 gpu:G1 2026 +115,591 GPUs (100 -> 115,691), "
        "or Supply!C3 gpu:G2 2026 +231,182 GPUs (100 -> 231,282)"
    )
    assert [o.count for o in dg.options] == [1, 1]
    assert edits(dg, 2).iloc[0].new_value == 231_282
    for option in (1, 2):
        assert edits(dg, option).iloc[0].checked == "feasible"
        assert solves(apply_relaxation(data, dg.table, option))


def test_keep_forbids_a_row_and_then_a_sheet(tmp_path: Path) -> None:
    data, dg = infeasible(two_capped_types(), tmp_path, keep=["Supply:2026:gpu:G1"])
    assert list(edits(dg).limit_cell) == ["Supply!C3"] and len(dg.options) == 1
    assert dg.lines[-1] == "kept (never moved): Supply:2026:gpu:G1"
    # Every Supply row kept: no other limit helps, so the target falls to what 100 of
    # each type deliver, 1.296e22 FLOP, and the kept cap is named as what is in the way.
    dg = diagnose(data, time_limit_s=60.0, keep=["Supply"])
    move = edits(dg).iloc[0]
    assert move.limit_cell == "Runs!C2"
    assert move.new_value == pytest.approx(100 * PER_GPU * 1.5, rel=1e-6)
    assert "no limit the diagnosis may move closes it" in dg.lines[0]
    assert "in the way: the kept Supply: Supply!C2 gpu:G1 2026 +115,591 GPUs" in dg.lines[0]
    assert solves(apply_relaxation(data, dg.table))


def test_bad_keep_values_are_input_errors(tmp_path: Path, cli: Any) -> None:
    data = loaded(two_capped_types(), tmp_path)
    assert parse_keep(data, ["Sites", "Sites:S1", "Supply:2026:gpu:G2", "SitePower:S1"]) == [
        Keep("Sites"),
        Keep("Sites", "S1"),
        Keep("Supply", "2026:gpu:G2"),
        Keep("SitePower", "S1"),
    ]
    with pytest.raises(InputError) as err:
        parse_keep(data, ["GPUs", "Sites:S9"])
    assert [p.message.split(":")[0] for p in err.value.problems] == ["'GPUs'", "'Sites"]
    with pytest.raises(InputError):
        api.plan(data, keep=["Supply:2031:gpu:G1"], echo=lambda _line: None)
    proc = cli("plan", tmp_path / "in.xlsx", "-o", tmp_path / "p.xlsx", "--keep", "Bogus")
    assert proc.returncode == 1
    assert "'Bogus' holds no limit the diagnosis moves" in proc.stdout + proc.stderr


# ---- several runs --------------------------------------------------------------------------
def test_competing_runs_say_each_is_reachable_alone_but_not_together(tmp_path: Path) -> None:
    # Two runs of 1e25 in 2026 need 2 x 115,741 GPUs on separate hardware; 150,000 exist.
    # R1 with R2 at its target gets 150,000 - 115,741 = 34,259 GPUs: 2.95998e24 FLOP.
    two = f.instance(runs=[f.run("R1"), f.run("R2")], supply=[f.supply(2026, "gpu:G1", 150e3)])
    data, dg = infeasible(two, tmp_path)
    assert dg.reachable_flop["R1"] == pytest.approx(34_259 * PER_GPU, rel=1e-9)
    assert dg.lines[1] == (
        "Runs!C2 needs 1e+25 FLOP by 2026; at most 2.96e+24 is reachable with the other runs "
        "at their targets (short by 7.04e+24, 70.4 %); on its own it is reachable: the runs "
        "compete for the same limits"
    )
    assert list(edits(dg).new_value) == [2 * N]
    assert solves(apply_relaxation(data, dg.table))


def test_a_reach_just_short_of_the_target_never_reads_as_the_target(tmp_path: Path) -> None:
    # 115,740 GPUs deliver 9.999936e24, 6.4e19 short: three digits would print 1e+25.
    data, dg = infeasible(f.instance(supply=[f.supply(2026, "gpu:G1", N - 1.0)]), tmp_path)
    assert "at most 9.99994e+24 is reachable (short by 6.4e+19, 0.00064 %)" in dg.lines[1]
    assert edits(dg).iloc[0].new_value == N


# ---- studies -------------------------------------------------------------------------------
def test_an_infeasible_scenario_carries_its_diagnosis(tmp_path: Path) -> None:
    from planner.studies.report import StudyResult, write_study
    from planner.studies.scenarios import study_scenarios
    from planner.studies.study import scenario_keep
    from planner.studies.worker import solve_task

    # The scenario sets R1 to 2e25 FLOP (231,482 GPUs, 231.482 MW) on a 150 MW site: its
    # own target is kept, so the site's max_it_mw is what moves.
    row = ScenarioRow(
        scenario="big", sheet="Runs", row_id="R1", column="flop", op="set", value=2e25
    )
    data = loaded(f.instance(sites=[f.site(max_it_mw=150.0)]), tmp_path)
    data = dataclasses.replace(data, scenarios=[row])  # write_workbook leaves Scenarios out
    items = study_scenarios(data)
    results = {
        sc.name: solve_task({"data": d, "threads": 1, "keep": scenario_keep(sc, d, items[0][1])})
        for sc, d in items
    }
    assert scenario_keep(*items[1], items[0][1]) == ["Runs:R1"]
    study = StudyResult([sc for sc, _ in items], results)
    table = study.table().set_index("scenario")
    assert pd.isna(table.loc["base", "diagnosis"])
    assert table.loc["big", "diagnosis"].endswith(
        "way out: Sites!F2 max_it_mw at S1 +81.482 MW (150.000 -> 231.482)"
    )
    write_study(study, data, tmp_path / "s.xlsx")
    plan = openpyxl.load_workbook(tmp_path / "s-plans" / "big.xlsx", read_only=True)
    assert "Diagnosis" in plan.sheetnames
    header, first = list(plan["Diagnosis"].iter_rows(max_row=2, values_only=True))
    assert {"limit_cell", "new_value", "option", "checked"} <= set(header)
    summary = dict(zip(header, first, strict=False))  # read-only rows drop trailing blanks
    assert (summary["limit"], summary["reading"]) == ("summary", table.loc["big", "diagnosis"])


# ---- the fewest limits, proven by the kinds that must move --------------------------------
def three_short_limits() -> PlanningData:
    """The run needs 115,741 G1; CoWoS (1 wafer per 1,000 GPUs), HBM (8 stacks a GPU) and
    the site's IT (1 kW a GPU) each hold only 100: all three must rise, nothing else."""
    gpu = f.gpu(cowos_wafers_per_kgpu=1.0, hbm_stacks=8.0)
    return f.instance(
        gpus=[gpu],
        sites=[f.site(max_it_mw=0.1)],
        supply=[f.supply(2026, "cowos_wafers", 0.1), f.supply(2026, "hbm_stacks", 800.0)],
    )


def test_three_kinds_that_must_move_prove_three_limits_fewest(tmp_path: Path) -> None:
    from planner.analysis.count_bound import count_lower_bound, kind_of
    from planner.analysis.relax import Search

    data, dg = infeasible(three_short_limits(), tmp_path)
    (option, *_) = dg.options
    assert option.count == 3 and option.proven
    assert {kind_of(c) for c in option.cells} == {
        ("Supply", "capacity", "cowos"),
        ("Supply", "capacity", "hbm"),
        ("Sites", "max_it_mw", ""),
    }
    assert "the fewest found in the time limit" not in "\n".join(dg.lines)
    assert solves(apply_relaxation(data, dg.table))
    # The bound itself: each of the three kinds, shut alone, leaves no plan (1 + 1 + 1).
    search = Search(data, deadline=time.perf_counter() + 60.0)
    bound = count_lower_bound(
        search.m, option.cells, search.free, deadline=time.perf_counter() + 60.0
    )
    assert bound == 3


def test_a_kind_with_a_way_around_it_adds_nothing_to_the_bound(tmp_path: Path) -> None:
    # A second GPU type G2 needs no CoWoS: CoWoS can be avoided, so only HBM and IT must
    # move (bound 2), though the set found moves CoWoS too (G1, cheaper, is chosen).
    from planner.analysis.count_bound import count_lower_bound
    from planner.analysis.relax import Search

    base = three_short_limits()
    g2 = f.gpu("G2", capex_usd=20_000.0, hbm_stacks=8.0)
    data = loaded(dataclasses.replace(base, gpus=[*base.gpus, g2]), tmp_path)
    search = Search(data, deadline=time.perf_counter() + 60.0)
    cowos = ("Supply", ("2026", "cowos_wafers"), "capacity")
    hbm = ("Supply", ("2026", "hbm_stacks"), "capacity")
    it = ("Sites", ("S1",), "max_it_mw")
    assert {cowos, hbm, it} <= set(search.free)
    bound = count_lower_bound(
        search.m,
        [cowos, hbm, it],
        search.free,
        deadline=time.perf_counter() + 60.0,
    )
    assert bound == 2
