"""The frontier of a run (``planner frontier``), on tiny instances worked out by hand.

Instances follow ``tests/factory.py``: one GPU G1 delivers f = 1000 TFLOP/s x 1e12 x
mfu 1 x 1 day x 86,400 s = 8.64e19 FLOP to a run, draws 1 kW and costs 10,000 USD;
sites, power and energy cost nothing, so a plan costs 10,000 USD per GPU.
"""

from __future__ import annotations

import dataclasses
import sys
import zipfile
from pathlib import Path

import factory as f
import openpyxl
import pytest

from models.frontier import flop_ceiling, frontier_model_data
from planner import api
from planner.analysis.frontier import INFEASIBLE, OK, curve_targets
from planner.cli import main
from planner.inputs.data import PlanningData
from planner.inputs.problems import InputError
from planner.inputs.schema import ScenarioRow

F = f.per_gpu_flop()  # 8.64e19 FLOP per GPU
USD = 10_000.0  # per GPU


def quiet(_line: str) -> None:
    """An echo that prints nothing."""


def loaded(data: PlanningData, tmp_path: Path, name: str = "in.xlsx") -> PlanningData:
    """Round trip through a real workbook, so cells (``Supply!C2``) are known."""
    return api.load(f.write_workbook(data, tmp_path / name))


def capped(cap: float = 50_000.0, flop: float = 1e25) -> PlanningData:
    """One site for 1,000,000 GPUs (1,000 MW), at most ``cap`` G1 bought in 2026."""
    return f.instance(supply=[f.supply(2026, "gpu:G1", cap)], runs=[f.run("R1", flop=flop)])


def two_runs(other_flop: float = 8.6e22) -> PlanningData:
    """R1 (the frontier's run) and R2 (the other run), both ready in 2026; no supply caps.
    R2 needs ceil(8.6e22 / 8.64e19) = 996 GPUs: 9.96 M USD."""
    supply = [f.supply(2026, "transformer_units", 10.0)]  # a workbook needs a Supply row
    return f.instance(supply=supply, runs=[f.run("R1", flop=1e25), f.run("R2", flop=other_flop)])


# ---- the maximum set by a GPU supply cap -------------------------------------------------
def test_a_supply_cap_sets_the_maximum_cap_times_flop_per_gpu(tmp_path: Path) -> None:
    """At most 50,000 G1 can be bought: F* = 50,000 x 8.64e19 = 4.32e24 FLOP, below the
    1e25 target, so the curve runs from a small run (1 %: 4.32e22, 500 GPUs, 5 M USD)
    to F* (50,000 GPUs, 500 M USD), and the cap's cell binds the maximum: one more G1
    in 2026 adds 8.64e19 FLOP."""
    data = loaded(capped(), tmp_path)
    res = api.frontier(data, "R1", points=3, echo=quiet)
    assert res.status == OK, res.message
    assert res.maximum is not None
    assert res.maximum.flop == pytest.approx(50_000 * F, rel=1e-9)
    first, last = res.points[0], res.points[-1]
    assert first.flop == pytest.approx(500 * F, rel=1e-9) and first.note == "small run"
    assert first.cost_usd == pytest.approx(500 * USD, rel=1e-6)
    assert last.note == "maximum" and last.status == "optimal"
    assert last.flop == res.maximum.flop
    assert last.cost_usd == pytest.approx(50_000 * USD, rel=1e-6)
    assert last.gpus == "50,000 G1"
    top = res.maximum.limits.iloc[0]
    assert top.family == "compute_gpu_supply"
    assert top.limit_cell == data.cells.cell("Supply", ("2026", "gpu:G1"), "capacity")
    assert top.flop_per_unit == pytest.approx(F, rel=1e-6)
    assert "one more G1 GPU in 2026 would add 8.64e+19 FLOP" in top.reading
    assert res.others_cost_usd == 0.0


def test_the_ceiling_bounds_but_never_caps_the_maximum() -> None:
    """U = min(power: 1,000 MW / 1 kW x f, supply: 50,000 x f) = 4.32 (1e24 FLOP), the
    maximum itself; a target of 1e24 is no ceiling: F* is still 4.32e24 and the curve
    starts at the target."""
    d = frontier_model_data(capped(flop=1e24), "R1")
    assert flop_ceiling(d, "R1") == pytest.approx(50_000 * F / 1e24, rel=1e-12)
    # The ceiling plus one GPU, plus one per GPU type and site (rounding margin).
    assert d.run_flop_cap("R1") == pytest.approx(50_002 * F / 1e24, rel=1e-12)
    res = api.frontier(capped(flop=1e24), "R1", points=2, echo=quiet)
    assert res.maximum is not None
    assert res.maximum.flop == pytest.approx(50_000 * F, rel=1e-9)
    assert [p.flop for p in res.points] == [1e24, res.maximum.flop]
    assert res.points[0].note == "target"
    assert res.points[0].cost_usd == pytest.approx(11_575 * USD, rel=1e-6)  # ceil(1e24 / f)


def test_a_multi_site_maximum_is_both_sites_at_multi_site_efficiency(tmp_path: Path) -> None:
    """Two sites of 70 MW (70,000 GPUs each) and a link: alone a site gives 70,000 f,
    together 0.9 x 140,000 f = 126,000 f. The ceiling (both sites at full efficiency,
    140,000 f) sizes the bandwidth and count bounds without capping. Each site's
    max_it_mw binds: one more MW holds 1,000 GPUs, 0.9 x 1,000 x f FLOP. The plan costs
    140,000 GPUs + the link's 5 M USD capex + 0.1 M USD O&M in 2027."""
    data = loaded(f.two_site_instance(), tmp_path)
    res = api.frontier(data, "R1", points=1, echo=quiet)
    assert res.maximum is not None
    assert res.maximum.flop == pytest.approx(0.9 * 140_000 * F, rel=1e-9)
    assert flop_ceiling(frontier_model_data(data, "R1"), "R1") == pytest.approx(
        140_000 * F / 1e24, rel=1e-12
    )
    last = res.points[-1]
    assert last.sites == "S1, S2" and last.gpus == "140,000 G1"
    assert last.cost_usd == pytest.approx(140_000 * USD + 5e6 + 1e5, rel=1e-9)
    limits = res.maximum.limits
    assert list(limits.family) == ["site_max_it", "site_max_it"]
    assert set(limits.limit_cell) == {
        data.cells.cell("Sites", (s,), "max_it_mw") for s in ("S1", "S2")
    }
    assert limits.flop_per_unit.tolist() == pytest.approx([0.9 * 1000 * F] * 2, rel=1e-6)


def test_a_scenario_of_the_workbook_is_applied_first() -> None:
    """``cap-halved`` scales the 2026 G1 cap to 25,000: F* = 25,000 x f."""
    row = ScenarioRow(
        scenario="cap-halved",
        sheet="Supply",
        row_id="2026:gpu:G1",
        column="capacity",
        op="scale",
        value=0.5,
    )
    data = dataclasses.replace(capped(), scenarios=[row])
    res = api.frontier(data, "R1", scenario="cap-halved", points=1, echo=quiet)
    assert res.maximum is not None
    assert res.maximum.flop == pytest.approx(25_000 * F, rel=1e-9)
    with pytest.raises(InputError, match="names no scenario; scenarios: cap-halved"):
        api.frontier(data, "R1", scenario="nope", echo=quiet)


# ---- the maximum set by a budget ---------------------------------------------------------
def test_a_budget_sets_the_maximum_budget_over_price() -> None:
    """100 M USD: R2 costs 996 x 10,000 = 9.96 M USD, the rest buys
    (1e8 - 9.96e6) / 10,000 = 9,004 GPUs for R1: F* = 9,004 x f. The budget binds: one
    more B USD buys 100,000 GPUs, 8.64e24 FLOP."""
    res = api.frontier(two_runs(), "R1", budget_usd=1e8, points=2, echo=quiet)
    assert res.status == OK, res.message
    assert res.others_cost_usd == pytest.approx(996 * USD, rel=1e-9)
    mx = res.maximum
    assert mx is not None and mx.budget_binds
    assert mx.flop == pytest.approx(9_004 * F, rel=1e-9)
    assert mx.cost_usd == pytest.approx(1e8, rel=1e-9)
    assert res.points[-1].cost_usd == pytest.approx(1e8, rel=1e-9)
    assert res.points[-1].note == "maximum, budget binds"
    top = mx.limits.iloc[0]
    assert (top.family, top.limit_cell) == ("frontier_budget", "--budget")
    assert top.flop_per_unit == pytest.approx(1e9 / USD * F, rel=1e-6)


def test_a_budget_below_the_other_runs_cost_has_no_frontier() -> None:
    res = api.frontier(two_runs(), "R1", budget_usd=5e6, echo=quiet)
    assert res.status == INFEASIBLE and res.maximum is None
    assert "below the 0.010 B USD the other runs cost alone" in res.message


def test_other_runs_that_cannot_be_met_leave_no_frontier() -> None:
    """R2 needs 1e27 FLOP: 11.6 M GPUs, more than the 1,000 MW site holds."""
    res = api.frontier(two_runs(other_flop=1e27), "R1", echo=quiet)
    assert res.status == INFEASIBLE
    assert "the other runs cannot be met even with run R1 at zero" in res.message
    assert any(line.startswith("why: Runs") for line in res.lines)


def test_a_run_that_can_get_no_gpu_by_its_ready_year_has_no_maximum() -> None:
    """G1 is first sold in 2027; R1 is ready in 2026 (R2, ready 2027, is still met)."""
    data = f.instance(
        settings=f.settings(end_year=2027),
        gpus=[f.gpu("G1", available_year=2027)],
        runs=[f.run("R1", flop=1e25), f.run("R2", ready_year=2027, flop=1e24)],
    )
    res = api.frontier(data, "R1", echo=quiet)
    assert res.status == INFEASIBLE and res.points == []
    assert "no GPU can be bought, allowed and hosted by the ready year of run(s) R1" in (
        res.message
    )
    assert res.others_cost_usd == pytest.approx(11_575 * USD, rel=1e-9)


@pytest.mark.parametrize(
    ("run", "budget", "points", "words"),
    [
        ("nope", None, 8, "--run 'nope' names no run; the runs are R1, R2"),
        ("R1", -1.0, 8, "-1.0 is not a budget"),
        ("R1", float("nan"), 8, "nan is not a budget"),
        ("R1", None, 0, "0 points: give at least 1"),
    ],
)
def test_bad_questions_are_input_errors(
    run: str, budget: float | None, points: int, words: str
) -> None:
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        api.frontier(two_runs(), run, budget_usd=budget, points=points, echo=quiet)


# ---- the earliest year -------------------------------------------------------------------
def lead_time_instance() -> PlanningData:
    """The only power source takes 2 years: nothing before 2028. R1 (1e25 FLOP, 115,741
    GPUs, 115.7 MW) is asked for 2026."""
    return f.instance(
        settings=f.settings(end_year=2029),
        power_sources=[f.source("onsite", lead_years=2)],
        supply=[f.supply(2026, "transformer_units", 10.0)],
    )


def test_earliest_is_the_first_year_after_the_lead_time(tmp_path: Path) -> None:
    """Ready in 2026 the run gets nothing (no power online): no maximum. Its target is
    feasible from 2028 = 2026 + lead_years; the diagnosis of 2027 names the lead time."""
    data = loaded(lead_time_instance(), tmp_path)
    res = api.frontier(data, "R1", earliest=True, points=2, echo=quiet)
    assert res.status == INFEASIBLE and "can get no FLOP" in res.message
    er = res.earliest
    assert er is not None and er.year == 2028
    assert list(er.tried.ready_year) == [2026, 2027, 2028]
    assert list(er.tried.status) == ["infeasible", "infeasible", "optimal"]
    assert er.tried.cost_usd.iloc[-1] == pytest.approx(115_741 * USD, rel=1e-6)
    lead = data.cells.cell("PowerSources", ("onsite",), "lead_years")
    assert er.before.startswith(data.cells.cell("Runs", ("R1",), "flop"))
    assert "by 2027" in er.before and lead in er.before


def test_earliest_on_a_feasible_run_is_its_first_year_and_the_maximum_stands() -> None:
    res = api.frontier(capped(flop=1e24), "R1", earliest=True, points=1, echo=quiet)
    assert res.status == OK and res.earliest is not None
    assert res.earliest.year == 2026 and res.earliest.before == ""


def test_curve_targets_are_log_spaced_with_exact_ends() -> None:
    assert curve_targets(1e24, 1e28, 5) == [1e24, 1e25, 1e26, 1e27, 1e28]
    assert curve_targets(3e24, 3e24, 8) == [3e24]
    assert curve_targets(1e24, 2e24, 1) == [2e24]


# ---- the command -------------------------------------------------------------------------
def run_main(monkeypatch: pytest.MonkeyPatch, *args: str | Path) -> int:
    """``planner ARGS`` in this process; its exit code."""
    monkeypatch.setattr(sys, "argv", ["planner", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "300")
    with pytest.raises(SystemExit) as exc:
        main()
    return int(exc.value.code or 0)


def test_the_command_writes_the_frontier_sheet_and_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    book = f.write_workbook(capped(), tmp_path / "tiny.xlsx")
    out = tmp_path / "front.xlsx"
    assert run_main(monkeypatch, "frontier", book, "--run", "R1", "--points", "3", "-o", out) == 0
    printed = capsys.readouterr().out
    assert "at most 4.32e+24 FLOP" in printed and f"frontier written to {out}" in printed
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:3] == ["Frontier", "Maximum", "Limits at maximum"]
    rows = list(wb["Frontier"].iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("point", "flop", "cost_usd")
    assert len(rows) == 4 and rows[-1][header.index("note")] == "maximum"
    assert rows[-1][header.index("cost_usd")] == pytest.approx(5e8, rel=1e-6)
    with zipfile.ZipFile(out) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    assert '<c:logBase val="10"' in chart or '<logBase val="10"' in chart
    assert "lineMarker" in chart and '<smooth val="0"' in chart


def test_the_command_default_output_is_named_after_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = f.write_workbook(capped(), tmp_path / "tiny.xlsx")
    monkeypatch.chdir(tmp_path)
    assert run_main(monkeypatch, "frontier", book, "--run", "R1", "--points", "1") == 0
    assert (tmp_path / "outputs" / "tiny-frontier-R1.xlsx").exists()


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("--run", "nope"), 1, "--run 'nope' names no run"),
        (("--run", "R1", "--budget", "5e6"), 2, "below the 0.010 B USD the other runs cost"),
        (("--run", "R1", "--budget", "0"), 1, "0.0 is not a budget"),
        (("--run", "R1", "--scenario", "x"), 1, "--scenario 'x' names no scenario"),
        (("--run", "R1", "--ready-year", "2031"), 1, "2031 is outside the horizon 2026-2026"),
        (("--run", "R1", "--budget", "lots"), 1, "Invalid value for '--budget'"),
    ],
)
def test_the_command_exits_with_a_message_and_no_traceback(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    code: int,
    words: str,
) -> None:
    book = f.write_workbook(two_runs(), tmp_path / "two.xlsx")
    got = run_main(monkeypatch, "frontier", book, *args, "-o", tmp_path / "x.xlsx")
    seen = capsys.readouterr()
    assert got == code, seen
    assert words in seen.err + seen.out
    assert "Traceback" not in seen.err + seen.out


@pytest.mark.slow
def test_the_command_end_to_end_in_a_subprocess(tmp_path: Path, cli: f.Any) -> None:
    book = f.write_workbook(two_runs(), tmp_path / "two.xlsx")
    out = tmp_path / "front.xlsx"
    ran = cli("frontier", book, "--run", "R1", "--budget", "1e8", "--points", "2", "-o", out)
    assert ran.returncode == 0, ran.stderr
    assert "the budget of 0.100 B USD binds" in ran.stdout
    assert "Frontier" in openpyxl.load_workbook(out).sheetnames
    ran = cli("frontier", book, "--run", "R1", "--budget", "5e6", "-o", out)
    assert ran.returncode == 2 and "below" in ran.stderr and "Traceback" not in ran.stderr
