"""The MILP on tiny instances whose optimum is worked out by hand.

Every test states its arithmetic in USD, MW and FLOP, solves with the real HiGHS through
``planner.api.solve``, and checks the status, the decisions, the objective and that the
independent checker (``planner/results/check.py``) finds nothing wrong.

Numbers shared by most tests (``factory.instance``): one GPU delivers
1,000 TFLOP/s x MFU 1 x 1 day = 1e15 x 86,400 = 8.64e19 FLOP to a run, draws 1 kW and
costs 10,000 USD; the run needs 1e25 FLOP.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import factory as f
import openpyxl
import pandas as pd
import pytest

from planner import api
from planner.api import PlanResult
from planner.inputs.data import PlanningData

REPO = Path(__file__).resolve().parents[2]
HOURS = 8760.0

# ---- shared hand arithmetic --------------------------------------------------------------
FLOP = 1e25  # the run's target
PER_GPU = 8.64e19  # 1e15 FLOP/s x 86,400 s
N = 115_741  # ceil(1e25 / 8.64e19) = ceil(115,740.74)
IT_MW = 115.741  # 115,741 GPUs x 1 kW
GPU_USD = 10_000.0
GPUS_USD = N * GPU_USD  # 1,157,410,000 USD


def test_shared_arithmetic() -> None:
    assert f.per_gpu_flop() == pytest.approx(PER_GPU)
    assert math.ceil(FLOP / PER_GPU) == N
    assert (N - 1) * PER_GPU < FLOP <= N * PER_GPU
    assert GPUS_USD == 1_157_410_000.0


# ---- helpers -----------------------------------------------------------------------------
def solve(data: PlanningData, **kw: Any) -> PlanResult:
    kw.setdefault("mip_gap", 1e-9)
    kw.setdefault("time_limit_s", 30.0)
    return api.solve(data, **kw)


def solve_optimal(data: PlanningData, objective_usd: float) -> PlanResult:
    """Solve, and check status, objective (1e-6 relative) and the independent checker."""
    res = solve(data)
    assert res.status == "optimal", res.result.message
    assert res.plan is not None
    assert res.violations == []
    assert res.plan.summary["objective_usd"] == pytest.approx(objective_usd, rel=1e-6)
    # The cost table discounts to the same total.
    assert res.plan.summary["discounted_total_usd"] == pytest.approx(objective_usd, rel=1e-6)
    return res


def bought(res: PlanResult) -> dict[tuple[str, str, int], int]:
    """GPUs purchased, by (site, gpu, year), nonzero only."""
    assert res.plan is not None
    df = res.plan["GPUs"]
    return {
        (r.site_id, r.gpu_id, int(r.year)): int(r.purchased) for r in df.itertuples() if r.purchased
    }


def bought_by_gpu(res: PlanResult) -> dict[str, int]:
    out: dict[str, int] = {}
    for (_, g, _), n in bought(res).items():
        out[g] = out.get(g, 0) + n
    return out


def power_row(res: PlanResult, source: str, year: int = 2026, site: str = "S1") -> Any:
    assert res.plan is not None
    df = res.plan["Power"]
    rows = df[(df.site_id == site) & (df.source_id == source) & (df.year == year)]
    assert len(rows) == 1
    return rows.iloc[0]


def cost_by_category(res: PlanResult) -> dict[str, float]:
    assert res.plan is not None
    return res.plan["Costs"].groupby("category").nominal_usd.sum().to_dict()


def units_added(res: PlanResult) -> int:
    assert res.plan is not None
    return int(res.plan["Transformers"].units_added.sum())


# ---- 1. one site, one GPU type -----------------------------------------------------------
def test_one_gpu_type_buys_ceil_flop_over_per_gpu_flop() -> None:
    # Only GPUs cost anything: 115,741 x 10,000 USD.
    res = solve_optimal(f.instance(), GPUS_USD)
    assert bought(res) == {("S1", "G1", 2026): N}
    assert cost_by_category(res) == pytest.approx({"gpu_capex": 1_157_410_000.0})


def test_one_gpu_type_with_shell_power_and_energy_costs() -> None:
    shell, power_capex, price, apf = 2e6, 1e6, 50.0, 0.5
    data = f.instance(
        settings=f.settings(avg_power_fraction=apf),
        sites=[f.site(shell_capex_usd_per_mw=shell)],
        power_sources=[f.source(capex_usd_per_mw=power_capex, energy_usd_per_mwh=price)],
    )
    # PUE 1: facility = IT = 115.741 MW.
    shell_usd = IT_MW * shell  # 231,482,000
    power_usd = IT_MW * power_capex  # 115,741,000
    mwh = IT_MW * apf * HOURS  # 506,945.58 MWh
    energy_usd = mwh * price  # 25,347,279
    total = GPUS_USD + shell_usd + power_usd + energy_usd
    assert total == pytest.approx(1_529_980_279.0)
    res = solve_optimal(data, total)
    assert res.plan is not None
    assert bought(res) == {("S1", "G1", 2026): N}
    sy = res.plan["SiteYears"].iloc[0]
    assert sy.it_added_mw == pytest.approx(IT_MW)
    assert sy.it_load_mw == pytest.approx(IT_MW)
    assert sy.facility_mw == pytest.approx(IT_MW)
    p = power_row(res, "onsite")
    assert p.mw_added == pytest.approx(IT_MW)
    assert p.mw_served == pytest.approx(IT_MW)
    assert p.mwh == pytest.approx(mwh)
    assert cost_by_category(res) == pytest.approx(
        {
            "gpu_capex": GPUS_USD,
            "site_capex": shell_usd,
            "power_capex": power_usd,
            "energy": energy_usd,
        }
    )


# ---- 2. supply caps force a mix of GPU types ---------------------------------------------
G2_USD = 15_000.0  # the dearer GPU, same speed and power as G1


@pytest.mark.parametrize("cap", ["gpu", "cowos"])
def test_supply_cap_forces_a_mix(cap: str) -> None:
    if cap == "gpu":
        g1 = f.gpu("G1")
        supply = [f.supply(2026, "gpu:G1", 50_000)]
    else:
        # 2 wafers per 1,000 G1 and 100 wafers: at most 100 / 0.002 = 50,000 G1.
        g1 = f.gpu("G1", cowos_wafers_per_kgpu=2.0)
        supply = [f.supply(2026, "cowos_wafers", 100.0)]
    data = f.instance(gpus=[g1, f.gpu("G2", capex_usd=G2_USD)], supply=supply)
    n1 = 50_000
    n2 = N - n1  # 65,741: same FLOP per GPU
    total = n1 * GPU_USD + n2 * G2_USD  # 500,000,000 + 986,115,000
    assert total == 1_486_115_000.0
    res = solve_optimal(data, total)
    assert bought(res) == {("S1", "G1", 2026): n1, ("S1", "G2", 2026): n2}


# ---- 3. export controls ------------------------------------------------------------------
@pytest.mark.parametrize("allowed", [False, True])
def test_export_control_forces_the_other_gpu(allowed: bool) -> None:
    data = f.instance(
        sites=[f.site(country="CN")],
        gpus=[f.gpu("G1"), f.gpu("G2", capex_usd=G2_USD)],
        export_controls=[f.export_control("CN", "G1", allowed)],
    )
    if allowed:
        res = solve_optimal(data, GPUS_USD)  # the cheap G1, as usual
        assert bought(res) == {("S1", "G1", 2026): N}
    else:
        res = solve_optimal(data, N * G2_USD)  # 1,736,115,000
        assert bought(res) == {("S1", "G2", 2026): N}


# ---- 4. a grid lead time forces on-site power for an early run ---------------------------
# factory.grid_instance: power_factor 0.9, avg_power_fraction 1, PUE 1, discount 0.
ONSITE_PER_MW = 1_000_000.0 + HOURS * 100.0  # capex + a year of energy: 1,876,000 USD/MW
GRID_PER_MW = 100_000.0 + HOURS * 10.0  # 187,600 USD/MW
ONSITE_USD = IT_MW * ONSITE_PER_MW  # 217,130,116 USD
TRANSFORMERS_2 = 2 * 1e6  # ceil(115.741 / (0.9 x 100)) = 2 units
GRID_USD = IT_MW * GRID_PER_MW + TRANSFORMERS_2  # 21,713,011.6 + 2,000,000


def test_grid_lead_time_forces_onsite_power_for_an_early_run() -> None:
    # Horizon 2026-2028; the grid can only be online from 2026 + 2 = 2028. GPUs last one
    # year, so each run's GPUs draw power only in their ready year.
    data = f.grid_instance(
        grid_lead_years=2,
        settings=f.settings(end_year=2028, power_factor=0.9, avg_power_fraction=1.0),
        gpus=[f.gpu(life_years=1)],
        runs=[f.run("R1", ready_year=2026), f.run("R2", ready_year=2028)],
    )
    # 2026: no grid yet, so 115.741 MW on-site: GPUs + 217,130,116.
    y2026 = GPUS_USD + ONSITE_USD
    assert y2026 == pytest.approx(1_374_540_116.0)
    # 2028: the on-site plant is still there (capex sunk), but a year of its energy
    # (115.741 x 8,760 x 100 = 101,389,116) costs more than new grid capacity, two
    # transformers and grid energy (11,574,100 + 2,000,000 + 10,138,911.6 = 23,713,011.6).
    y2028 = GPUS_USD + GRID_USD
    assert IT_MW * HOURS * 100.0 > GRID_USD
    res = solve_optimal(data, y2026 + y2028)
    assert bought(res) == {("S1", "G1", 2026): N, ("S1", "G1", 2028): N}
    onsite, grid = power_row(res, "onsite", 2026), power_row(res, "grid", 2026)
    assert onsite.mw_added == pytest.approx(IT_MW)
    assert onsite.mw_served == pytest.approx(IT_MW)
    assert grid.mw_served == pytest.approx(0.0, abs=1e-6)
    assert power_row(res, "grid", 2028).mw_served == pytest.approx(IT_MW)
    assert power_row(res, "onsite", 2028).mw_served == pytest.approx(0.0, abs=1e-6)
    assert units_added(res) == 2


def test_without_grid_lead_time_the_early_run_uses_the_grid() -> None:
    data = f.grid_instance(grid_lead_years=0)
    res = solve_optimal(data, GPUS_USD + GRID_USD)  # 1,181,123,011.6
    assert power_row(res, "grid").mw_served == pytest.approx(IT_MW)
    assert power_row(res, "onsite").mw_added == pytest.approx(0.0, abs=1e-6)


# ---- 5. two power-capped sites joined by fiber -------------------------------------------
def test_two_capped_sites_need_a_fiber_link() -> None:
    # Each site holds 70 MW = 70,000 GPUs < 115,741, so the run spans both sites at
    # efficiency 0.9: ceil(1e25 / (0.9 x 8.64e19)) = ceil(128,600.82) = 128,601 GPUs.
    n = 128_601
    assert math.ceil(FLOP / (0.9 * PER_GPU)) == n
    assert 0.9 * (n - 1) * PER_GPU < FLOP <= 0.9 * n * PER_GPU
    # Run ready in 2027; link capex 5,000,000 once, O&M 100,000 a year from its build year:
    # built in 2027 (one year of O&M) rather than 2026 (two).
    link_usd = 5e6 + 1e5
    total = n * GPU_USD + link_usd  # 1,286,010,000 + 5,100,000
    assert total == 1_291_110_000.0
    res = solve_optimal(f.two_site_instance(), total)
    assert res.plan is not None
    gpus = res.plan["GPUs"]
    installed = gpus[gpus.year == 2027].groupby("site_id").installed.sum().to_dict()
    assert sum(installed.values()) == n
    assert set(installed) == {"S1", "S2"}
    assert all(v <= 70_000 for v in installed.values())
    run = res.plan["Runs"].iloc[0]
    assert bool(run.multi_site)
    assert run.sites == "S1, S2"
    fiber = res.plan["Fiber"]
    assert list(fiber.link_id) == ["L1"]
    assert list(fiber.built_year) == [2027]
    costs = cost_by_category(res)
    assert costs["fiber_capex"] == pytest.approx(5e6)  # counted once
    assert costs["fiber_om"] == pytest.approx(1e5)


def test_one_site_that_fits_needs_no_link() -> None:
    # 200 MW holds all 115,741 GPUs at full efficiency: no link, no 0.9 factor.
    res = solve_optimal(f.two_site_instance(max_it_mw=200.0), GPUS_USD)
    assert res.plan is not None
    assert res.plan["Fiber"].empty
    run = res.plan["Runs"].iloc[0]
    assert not bool(run.multi_site)
    assert run.gpus == N


def test_two_capped_sites_without_a_link_are_infeasible() -> None:
    res = solve(f.two_site_instance(links=False))
    assert res.status == "infeasible"
    assert res.plan is None


# ---- 6. PUE ------------------------------------------------------------------------------
# Power capex 1,000,000 USD/MW and energy 50 USD/MWh at avg_power_fraction 0.8:
# each MW of facility power costs 1,000,000 + 0.8 x 8,760 x 50 = 1,350,400 USD.
PER_FACILITY_MW = 1e6 + 0.8 * HOURS * 50.0


def pue_instance(**kw: Any) -> PlanningData:
    base: dict[str, Any] = dict(
        settings=f.settings(avg_power_fraction=0.8),
        power_sources=[f.source(capex_usd_per_mw=1e6, energy_usd_per_mwh=50.0)],
    )
    base.update(kw)
    return f.instance(**base)


def test_pue_scales_power_bought_and_energy() -> None:
    assert pytest.approx(1_350_400.0) == PER_FACILITY_MW
    out = {}
    for pue, total in ((1.0, 1_313_706_646.4), (1.5, 1_391_854_969.6)):
        # GPUs + 115.741 x PUE MW x 1,350,400 USD/MW
        assert GPUS_USD + IT_MW * pue * PER_FACILITY_MW == pytest.approx(total)
        res = solve_optimal(pue_instance(sites=[f.site(pue=pue)]), total)
        assert bought(res) == {("S1", "G1", 2026): N}
        p = power_row(res, "onsite")
        assert p.mw_added == pytest.approx(IT_MW * pue)
        assert p.mwh == pytest.approx(IT_MW * pue * 0.8 * HOURS)
        out[pue] = p
    assert out[1.5].mw_added / out[1.0].mw_added == pytest.approx(1.5)
    assert out[1.5].energy_cost_usd / out[1.0].energy_cost_usd == pytest.approx(1.5)


@pytest.mark.parametrize("liquid_capex, expected", [(300_000.0, "liquid"), (600_000.0, "air")])
def test_cooling_choice_picks_the_cheaper_design(liquid_capex: float, expected: str) -> None:
    # Per MW of IT: air = 1.5 x 1,350,400 = 2,025,600 USD;
    # liquid = capex + 1.1 x 1,350,400 = capex + 1,485,440 USD
    # -> 1,785,440 (liquid wins) at 300,000; 2,085,440 (air wins) at 600,000.
    air = 1.5 * PER_FACILITY_MW
    liquid = liquid_capex + 1.1 * PER_FACILITY_MW
    assert (liquid < air) == (expected == "liquid")
    pue = {"air": 1.5, "liquid": 1.1}[expected]
    total = GPUS_USD + IT_MW * min(air, liquid)
    # 1,364,058,611.04 (liquid) or 1,391,854,969.6 (air)
    data = pue_instance(
        cooling=[f.cooling("S1", "air", 1.5, 0.0), f.cooling("S1", "liquid", 1.1, liquid_capex)]
    )
    res = solve_optimal(data, total)
    assert res.plan is not None
    site = res.plan["Sites"].iloc[0]
    assert site.cooling_id == expected
    assert site.pue == pue
    assert res.plan["SiteYears"].iloc[0].facility_mw == pytest.approx(IT_MW * pue)
    assert power_row(res, "onsite").mw_added == pytest.approx(IT_MW * pue)


# ---- 7. discounting ----------------------------------------------------------------------
YEAR_USD = GPUS_USD + IT_MW * 1e6 + IT_MW * 0.8 * HOURS * 50.0  # 1,313,706,646.4
ENERGY_USD = IT_MW * 0.8 * HOURS * 50.0  # 40,555,646.4


def test_discounting_a_run_ready_in_the_second_year() -> None:
    # 2026-2027 at 10 %: 2027 weighs 1.1^-1. Buying in 2027 puts every cost there.
    data = pue_instance(
        settings=f.settings(end_year=2027, discount_rate=0.1, avg_power_fraction=0.8),
        runs=[f.run(ready_year=2027)],
    )
    total = YEAR_USD / 1.1  # 1,194,278,769.45
    res = solve_optimal(data, total)
    assert res.plan is not None
    assert bought(res) == {("S1", "G1", 2027): N}
    costs = res.plan["Costs"]
    assert set(costs.year) == {2027}
    assert costs.nominal_usd.sum() == pytest.approx(YEAR_USD)
    for r in costs.itertuples():
        assert r.discounted_usd == pytest.approx(r.nominal_usd / 1.1)


def test_discounting_weighs_each_year() -> None:
    # No G1 can be bought in 2027, so they are bought in 2026 (weight 1) and draw power in
    # 2026 and 2027 (life 5): the 2027 energy weighs 1 / 1.1.
    data = pue_instance(
        settings=f.settings(end_year=2027, discount_rate=0.1, avg_power_fraction=0.8),
        runs=[f.run(ready_year=2027)],
        supply=[f.supply(2027, "gpu:G1", 0)],
    )
    total = YEAR_USD + ENERGY_USD / 1.1  # 1,350,575,415.85
    res = solve_optimal(data, total)
    assert res.plan is not None
    assert bought(res) == {("S1", "G1", 2026): N}
    costs = res.plan["Costs"].set_index(["year", "category"])
    assert costs.loc[(2026, "gpu_capex")].discounted_usd == pytest.approx(GPUS_USD)
    assert costs.loc[(2027, "energy")].nominal_usd == pytest.approx(ENERGY_USD)
    assert costs.loc[(2027, "energy")].discounted_usd == pytest.approx(ENERGY_USD / 1.1)


# ---- 8. transformers ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "cap, units, grid_mw, total",
    [
        # Unlimited: ceil(115.741 / (0.9 x 100)) = ceil(1.286) = 2 units carry it all.
        (None, 2, IT_MW, GPUS_USD + GRID_USD),  # 1,181,123,011.6
        # One unit: 90 MW from the grid, 25.741 MW on-site:
        # 1,000,000 + 90 x 187,600 + 25.741 x 1,876,000 = 1e6 + 16,884,000 + 48,290,116.
        (1, 1, 90.0, GPUS_USD + 1e6 + 90.0 * GRID_PER_MW + (IT_MW - 90.0) * ONSITE_PER_MW),
        # None at all: everything on-site.
        (0, 0, 0.0, GPUS_USD + ONSITE_USD),  # 1,374,540,116
    ],
)
def test_transformers_carry_grid_power(
    cap: float | None, units: int, grid_mw: float, total: float
) -> None:
    assert math.ceil(IT_MW / (0.9 * 100.0)) == 2
    res = solve_optimal(f.grid_instance(transformer_cap=cap), total)
    assert res.plan is not None
    assert units_added(res) == units
    if units:
        assert res.plan["Transformers"].mva_total.max() == pytest.approx(100.0 * units)
    assert power_row(res, "grid").mw_served == pytest.approx(grid_mw, abs=1e-6)
    assert power_row(res, "onsite").mw_served == pytest.approx(IT_MW - grid_mw, abs=1e-6)


# ---- 9. infeasible -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [
        # 100 MW holds 100,000 GPUs < 115,741 needed.
        f.instance(sites=[f.site(max_it_mw=100.0)]),
        # 100 MW of firm power at PUE 1 is the same limit, reached through SitePower.
        f.instance(site_power=[f.site_power(max_mw=100.0)]),
        # Only 100,000 GPUs can be bought (found by the solver, not by pre-checks).
        f.instance(supply=[f.supply(2026, "gpu:G1", 100_000)]),
        # The only GPU is banned in the site's country.
        f.instance(export_controls=[f.export_control("US", "G1", False)]),
    ],
    ids=["max_it_mw", "power", "gpu-supply", "export-ban"],
)
def test_infeasible_instances_give_no_plan(data: PlanningData) -> None:
    res = solve(data)
    assert res.status == "infeasible", res.result.message
    assert res.plan is None
    assert res.violations == []


def _has_plan_command() -> bool:
    import typer

    from planner import cli

    group = typer.main.get_command(cli.app)
    return "plan" in getattr(group, "commands", {})


@pytest.mark.slow
def test_cli_plan_on_infeasible_workbook_exits_2(tmp_path: Path) -> None:
    wb = f.write_workbook(f.instance(sites=[f.site(max_it_mw=100.0)]), tmp_path / "inf.xlsx")
    assert api.solve(api.load(wb)).status == "infeasible"
    if not _has_plan_command():
        pytest.skip("`planner plan` does not exist yet")
    proc = subprocess.run(
        [_python(), "-m", "planner", "plan", str(wb), "-o", str(tmp_path / "plan.xlsx"), "-q"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr


def _python() -> str:
    import sys

    return sys.executable


# ---- 10. stopped at the time limit with a plan ------------------------------------------
# 30 sites x 8 GPU types x 6 years, 12 runs (`planner synth`, seed 1): a first plan is
# ready after about 5 s, and nothing closes even a 1 % gap within 60 s (benchmarks/
# README.md, plain 30/12), let alone 1e-6 within 15 s. Phases 2 and 3 get at most half and
# 85 % of the time left, so a plan is still rounded when the machine is slower than usual.
TIME_LIMIT_S = 15.0
# `planner plan`'s limit covers the whole command: Python start-up and imports (2-5 s on
# a busy machine) come out of it too.
CLI_TIME_LIMIT_S = 25.0
TIGHT_GAP = 1e-6


time_limited_instance = f.time_limited_instance


@pytest.mark.slow
def test_time_limited_solve_stops_with_a_plan() -> None:
    res = solve(time_limited_instance(), mip_gap=TIGHT_GAP, time_limit_s=TIME_LIMIT_S)
    r = res.result
    assert res.status == "time_limit", r.message
    assert res.plan is not None
    assert res.violations == []
    assert r.objective is not None and r.bound is not None and r.gap is not None
    assert r.gap > TIGHT_GAP
    assert r.bound <= r.objective
    assert r.message.startswith(f"stopped at the {TIME_LIMIT_S:g} s time limit"), r.message
    assert res.plan.summary["status"] == "time_limit"
    assert res.plan.summary["bound_usd"] <= res.plan.summary["objective_usd"]


@pytest.mark.slow
def test_cli_plan_stopped_at_the_time_limit_exits_0_and_says_so(
    cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    wb = f.write_workbook(time_limited_instance(), tmp_path / "hard.xlsx")
    out = tmp_path / "plan.xlsx"
    limit, gap = f"{CLI_TIME_LIMIT_S:g}", f"{TIGHT_GAP:g}"
    ran = cli("plan", wb, "-o", out, "--time-limit", limit, "--mip-gap", gap, cwd=tmp_path)
    assert "Traceback" not in ran.stdout + ran.stderr, ran.stderr[-3000:]
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    book = openpyxl.load_workbook(out, read_only=True)
    try:
        summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True) if r}
    finally:
        book.close()
    assert summary["status"] == "time_limit"
    words = summary["status_in_words"]
    assert "stopped at the time limit" in words and "optimal" not in words, words
    assert summary["mip_gap"] > TIGHT_GAP
    assert summary["bound_usd"] <= summary["objective_usd"]


# ---- a loose MIP gap: the plan is within the gap of the hand optimum --------------------
def cooling_liquid_instance() -> PlanningData:
    return pue_instance(
        cooling=[f.cooling("S1", "air", 1.5, 0.0), f.cooling("S1", "liquid", 1.1, 300_000.0)]
    )


@pytest.mark.parametrize(
    "make, optimum",
    [
        (f.instance, GPUS_USD),
        (
            lambda: f.grid_instance(transformer_cap=1),
            GPUS_USD + 1e6 + 90.0 * GRID_PER_MW + (IT_MW - 90.0) * ONSITE_PER_MW,
        ),
        (f.two_site_instance, 128_601 * GPU_USD + 5e6 + 1e5),
        (cooling_liquid_instance, GPUS_USD + IT_MW * (300_000.0 + 1.1 * PER_FACILITY_MW)),
    ],
    ids=["one-gpu", "transformer-cap", "two-sites", "cooling"],
)
def test_loose_gap_is_honest(make: Any, optimum: float) -> None:
    # "optimal" at mip_gap 1e-3 means: a plan no dearer than optimum x 1.001, and a
    # bound that never exceeds the true (hand-computed) optimum.
    gap = 1e-3
    res = solve(make(), mip_gap=gap)
    assert res.status == "optimal", res.result.message
    assert res.violations == []
    assert res.plan is not None
    obj = res.plan.summary["objective_usd"]
    assert optimum * (1 - 1e-9) <= obj <= optimum * (1 + gap + 1e-9)
    assert res.result.bound is not None
    assert res.result.bound * 1e6 <= optimum * (1 + 1e-9)
    assert res.result.gap is not None and res.result.gap <= gap + 1e-12


# ---- FLOP delivered, determinism ---------------------------------------------------------
def mixed_instance() -> PlanningData:
    """Two sites of 70 MW, two GPU types, three runs over two years (one multi-site)."""
    return f.two_site_instance(
        settings=f.settings(end_year=2027, avg_power_fraction=0.8),
        gpus=[
            f.gpu("G1", life_years=1),
            f.gpu("G2", bf16_tflops=2500.0, it_kw=2.0, capex_usd=22_000.0, life_years=1),
        ],
        power_sources=[f.source(capex_usd_per_mw=1e6, energy_usd_per_mwh=50.0)],
        runs=[
            f.run("R1", ready_year=2026, flop=3e24, duration_days=2.0, mfu=0.4),
            f.run("R2", ready_year=2026, flop=2e24, duration_days=3.0, mfu=0.5),
            f.run("R3", ready_year=2027, flop=1e25, duration_days=1.0, mfu=1.0, max_sites=2),
        ],
    )


@pytest.mark.slow
def test_runs_deliver_at_least_the_required_flop() -> None:
    data = mixed_instance()
    res = solve(data)
    assert res.status == "optimal", res.result.message
    assert res.violations == []
    assert res.plan is not None
    runs, alloc = res.plan["Runs"], res.plan["RunGPUs"]
    gpus = {g.gpu_id: g for g in data.gpus}
    assert set(runs.run_id) == {"R1", "R2", "R3"}
    for spec in data.runs:
        row = runs[runs.run_id == spec.run_id].iloc[0]
        mine = alloc[alloc.run_id == spec.run_id]
        factor = 0.9 if len(set(mine.site_id)) > 1 else 1.0
        # Recomputed from the GPUs assigned, never from the model's own numbers.
        delivered = factor * sum(
            a.gpus * f.per_gpu_flop(gpus[a.gpu_id].bf16_tflops, spec.duration_days, spec.mfu)
            for a in mine.itertuples()
        )
        assert delivered >= spec.flop * (1 - 1e-9)
        assert row.flop_delivered == pytest.approx(delivered, rel=1e-9)
        assert row.flop_delivered >= row.flop_required * (1 - 1e-9)
        assert row.flop_required == spec.flop


@pytest.mark.parametrize(
    "make", [f.two_site_instance, pytest.param(mixed_instance, marks=pytest.mark.slow)]
)
def test_same_instance_twice_gives_identical_tables(make: Any) -> None:
    a, b = solve(make()), solve(make())
    assert a.status == b.status == "optimal"
    assert a.plan is not None and b.plan is not None
    assert a.plan.tables.keys() == b.plan.tables.keys()
    for sheet in a.plan.tables:
        pd.testing.assert_frame_equal(a.plan[sheet], b.plan[sheet], check_exact=True)
    assert a.plan.summary["objective_usd"] == b.plan.summary["objective_usd"]


# ---- more hand-computed cases ------------------------------------------------------------
def test_existing_power_firm_fraction_and_power_om() -> None:
    # Firm fraction 0.5: 115.741 MW served needs 231.482 MW of nameplate; 100 MW exist
    # (no capex, no O&M), so 131.482 MW are added at 1,000,000 capex + 100,000 O&M per MW.
    data = f.instance(
        power_sources=[f.source(capex_usd_per_mw=1e6, om_usd_per_mw_year=1e5, firm_fraction=0.5)],
        site_power=[f.site_power(existing_mw=100.0)],
    )
    added = IT_MW / 0.5 - 100.0  # 131.482 MW
    total = GPUS_USD + added * (1e6 + 1e5)  # + 144,630,200
    res = solve_optimal(data, total)
    p = power_row(res, "onsite")
    assert p.mw_added == pytest.approx(added)
    assert p.mw_total == pytest.approx(2 * IT_MW)
    assert cost_by_category(res)["power_om"] == pytest.approx(added * 1e5)


def test_gpus_serve_runs_of_later_years_but_not_two_runs_of_one_year() -> None:
    # Life 5: GPUs bought in 2026 still serve a 2027 run, so two runs a year apart cost one
    # fleet; two runs in the same year need a fleet each.
    years_apart = f.instance(
        settings=f.settings(end_year=2027), runs=[f.run("R1"), f.run("R2", ready_year=2027)]
    )
    res = solve_optimal(years_apart, GPUS_USD)
    assert bought(res) == {("S1", "G1", 2026): N}
    same_year = f.instance(runs=[f.run("R1"), f.run("R2")])
    res = solve_optimal(same_year, 2 * GPUS_USD)
    assert bought(res) == {("S1", "G1", 2026): 2 * N}


def test_fiber_bandwidth_limits_what_a_remote_site_contributes() -> None:
    # S1 holds 100,000 GPUs, S2 70,000; the run needs 128,601 GPUs over both sites. At
    # 1 Gbps per PFLOP/s and 1 PFLOP/s per GPU, a 30,000 Gbps link lets the remote site
    # contribute at most 30,000 GPUs: S1 hosts (98,601..100,000 GPUs), S2 sends the rest.
    n = 128_601
    sites = [f.site("S1", max_it_mw=100.0), f.site("S2", max_it_mw=70.0)]
    data = f.two_site_instance(
        sites=sites, fiber_links=[f.link("L1", "S1", "S2", capex_usd=5e6, bandwidth_gbps=3e4)]
    )
    res = solve_optimal(data, n * GPU_USD + 5e6)  # 1,291,010,000
    assert res.plan is not None
    run = res.plan["Runs"].iloc[0]
    assert run.host_site == "S1"
    alloc = res.plan["RunGPUs"].groupby("site_id").gpus.sum()
    assert alloc.sum() == n
    assert 28_601 <= alloc["S2"] <= 30_000
    flows = res.plan["FiberFlows"]
    assert list(zip(flows.from_site, flows.to_site, strict=True)) == [("S2", "S1")]
    assert alloc["S2"] <= flows.gbps.iloc[0] <= 3e4 * (1 + 1e-9)
    # A 10,000 Gbps link cannot carry the 28,601+ GPUs' worth the remote site must add.
    tight = f.two_site_instance(
        sites=sites, fiber_links=[f.link("L1", "S1", "S2", capex_usd=5e6, bandwidth_gbps=1e4)]
    )
    assert solve(tight).status == "infeasible"


def test_one_site_may_need_a_mix_of_gpu_types() -> None:
    # A 2.5 MW site; G1 = 1 MW, 1,000 TFLOP/s, 10,000 USD; G2 = 1.5 MW, 1,500 TFLOP/s,
    # 15,000 USD. Over 1,000 days G1 delivers 8.64e22 FLOP and G2 1.296e23.
    # Target 2.4 x 8.64e22 = 2.0736e23: two G1 (2 MW) give 1.728e23, one G2 (1.5 MW)
    # 1.296e23, both too little; one of each (2.5 MW) gives 2.16e23 for 25,000 USD.
    data = f.instance(
        sites=[f.site(max_it_mw=2.5)],
        gpus=[
            f.gpu("G1", it_kw=1000.0),
            f.gpu("G2", it_kw=1500.0, bf16_tflops=1500.0, capex_usd=15_000.0),
        ],
        runs=[f.run(flop=2.4 * 8.64e22, duration_days=1000.0)],
    )
    res = solve_optimal(data, 25_000.0)
    assert bought(res) == {("S1", "G1", 2026): 1, ("S1", "G2", 2026): 1}
