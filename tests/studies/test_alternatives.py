"""Near-optimal alternatives and hedges (``planner alternatives``): real HiGHS solves on
tiny instances whose optima are worked out by hand.

Every instance below has one GPU type of 1,000 TFLOP/s, 1 kW and 10,000 USD (unless
said otherwise) and one run of 1e25 FLOP in one day at MFU 1: one GPU delivers
1e15 x 86,400 = 8.64e19 FLOP, so the run needs ceil(1e25 / 8.64e19) = 115,741 GPUs,
115.741 MW of IT, and costs 115,741 x 10,000 = 1,157,410,000 USD when power and shells
are free (discount rate 0, one year).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import factory
import openpyxl
import pandas as pd
import pytest

from models.alternatives import AlternativeSpec
from planner.inputs.data import PlanningData
from planner.results.check import check_plan
from planner.results.tables import Plan
from planner.solving.pipeline import solve
from planner.studies.alternatives import AlternativesResult, plan_gpus, run_alternatives
from planner.studies.alternatives_report import (
    alternatives_table,
    hedge_lines,
    write_alternatives,
)
from planner.studies.report import _frames

GPUS = 115_741
BASE_USD = GPUS * 10_000.0  # 1,157,410,000
IT_MW = GPUS / 1000.0  # 115.741


def two_countries(s2_shell_usd_per_mw: float = 0.0, s2_max_it_mw: float = 1000.0) -> PlanningData:
    """S1 in the US and S2 in Canada, free power; S2's shells may cost money."""
    return factory.instance(
        sites=[
            factory.site("S1", country="US"),
            factory.site(
                "S2",
                country="CA",
                shell_capex_usd_per_mw=s2_shell_usd_per_mw,
                max_it_mw=s2_max_it_mw,
            ),
        ],
        site_power=[factory.site_power("S1"), factory.site_power("S2")],
    )


def rows(result: AlternativesResult) -> dict[str, dict[str, Any]]:
    table = alternatives_table(result)
    return {str(r["plan"]): r.to_dict() for _, r in table.iterrows()}


def assert_checked(result: AlternativesResult) -> None:
    """Every plan of the result holds against the full workbook (independent check)."""
    for e in result.entries:
        tables = e.result.get("tables") or {}
        if tables:
            plan = Plan(_frames(tables), dict(e.result["summary"]))
            assert check_plan(result.data, plan) == [], e.name


def test_the_cost_cap_row_admits_the_optimum_and_nothing_cheaper() -> None:
    data = factory.instance()
    at = solve(data, prepare=AlternativeSpec(cap_musd=BASE_USD / 1e6))
    assert at.status == "optimal"
    assert at.result.objective == pytest.approx(BASE_USD / 1e6)
    below = solve(data, prepare=AlternativeSpec(cap_musd=(BASE_USD - 10_000.0) / 1e6))
    assert below.status == "infeasible"  # one GPU short of the run


def test_two_equally_priced_sites_in_two_countries_give_the_other_one_at_the_same_cost() -> None:
    result = run_alternatives(two_countries(), by="country", slack=0.05, count=3, workers=0)
    table = rows(result)
    opt, alt = table["optimum"], table["alternative 1"]
    assert {opt["countries"], alt["countries"]} == {"US", "CA"}
    assert {opt["sites"], alt["sites"]} == {"S1", "S2"}
    assert opt["objective_usd"] == pytest.approx(BASE_USD)
    assert alt["objective_usd"] == pytest.approx(BASE_USD)
    assert alt["delta_usd"] == pytest.approx(0.0, abs=1.0)
    assert alt["status"] == "optimal"
    assert alt["defined_by"] == f"only sites in {alt['countries']}"
    # A third search step can only find one of the two countries again: the search stops.
    assert "alternative 2" not in table
    assert any("earlier plan again" in n for n in result.notes)
    assert_checked(result)


def test_by_site_and_by_vendor_find_the_other_site_and_the_other_vendor() -> None:
    by_site = rows(run_alternatives(two_countries(), by="site", count=2, workers=0))
    assert {by_site["optimum"]["sites"], by_site["alternative 1"]["sites"]} == {"S1", "S2"}
    data = factory.instance(
        gpus=[factory.gpu("G1", vendor="Acme"), factory.gpu("G2", vendor="Brio")]
    )
    by_vendor = rows(run_alternatives(data, by="vendor", count=2, workers=0))
    opt, alt = by_vendor["optimum"], by_vendor["alternative 1"]
    assert {opt["gpus_Acme"], alt["gpus_Acme"]} == {0, GPUS}
    assert opt["gpus_Acme"] + opt["gpus_Brio"] == GPUS
    assert alt["objective_usd"] == pytest.approx(BASE_USD)
    assert alt["defined_by"] in ("only Acme GPUs", "only Brio GPUs")


def test_without_a_country_costs_its_delta_worked_out_by_hand() -> None:
    """S2 (Canada) shells cost 1 M USD per MW: the optimum is all in the US; without the
    US the run moves to Canada for 115.741 MW x 1 M USD = 115,741,000 USD more, exactly
    10 % of 1,157,410,000 USD. A second vendor's GPU at 12,000 USD: without the first
    vendor, 115,741 x 2,000 = 231,482,000 USD (+20 %) more."""
    data = two_countries(s2_shell_usd_per_mw=1e6)
    data.gpus.append(factory.gpu("G2", vendor="w", capex_usd=12_000.0))
    result = run_alternatives(data, by="country", slack=0.05, count=1, workers=0)
    table = rows(result)
    assert table["optimum"]["countries"] == "US"
    us = table["without US"]
    assert us["objective_usd"] == pytest.approx(BASE_USD + IT_MW * 1e6)
    assert us["delta_usd"] == pytest.approx(115_741_000.0)
    assert us["delta_pct"] == pytest.approx(10.0)
    assert us["countries"] == "CA" and us["status"] == "optimal"
    v = table["without v GPUs"]
    assert v["delta_usd"] == pytest.approx(231_482_000.0)
    assert v["delta_pct"] == pytest.approx(20.0)
    assert v["gpus_w"] == GPUS and v["gpus_v"] == 0
    assert "without CA" not in table  # the optimum does not rely on Canada
    lines = hedge_lines(result)
    assert "without US: +0.12 B USD, +10.0 % (optimal)" in lines
    assert "without v GPUs: +0.23 B USD, +20.0 % (optimal)" in lines
    assert_checked(result)


def test_the_slack_caps_every_alternative_and_each_is_at_its_own_least_cost() -> None:
    """Canada costs +10 %: no alternative within 5 %; within 15 % the alternative is the
    Canadian plan at exactly +10 %, its own least cost (the search may stop anywhere
    under the 15 % cap)."""
    tight = run_alternatives(two_countries(1e6), by="country", slack=0.05, count=2, workers=0)
    assert "alternative 1" not in rows(tight)
    # The run is single-site: within 5 % it cannot leave the US at all.
    assert tight.notes == [
        "search step 1 found the countries of an earlier plan again (US): "
        "no other choice fits within the slack"
    ]
    loose = run_alternatives(two_countries(1e6), by="country", slack=0.15, count=2, workers=0)
    alt = rows(loose)["alternative 1"]
    assert alt["countries"] == "CA"
    assert alt["delta_pct"] == pytest.approx(10.0)
    entry = next(e for e in loose.entries if e.name == "alternative 1")
    assert entry.search_cost_usd is not None
    assert alt["objective_usd"] <= entry.search_cost_usd * (1 + 1e-9)
    assert alt["objective_usd"] <= 1.15 * BASE_USD


def test_an_alternative_keeps_no_more_of_the_optimum_than_its_search_step() -> None:
    """Acme GPUs at 10,000 USD, Brio GPUs at 11,000 USD, same speed, any mix. Within 5 %
    (cap 1,215,280,500 USD) the search moves n_B <= 57,870.5 GPUs to Brio: 57,871 Acme
    and 57,870 Brio. Re-solved at least cost with at most 57,871 Acme GPUs, it stays
    there: 1,157,410,000 + 57,870 x 1,000 = 1,215,280,000 USD (without the cap it would
    re-solve to the all-Acme optimum)."""
    data = factory.instance(
        gpus=[
            factory.gpu("G1", vendor="Acme"),
            factory.gpu("G2", vendor="Brio", capex_usd=11_000.0),
        ]
    )
    result = run_alternatives(data, by="vendor", slack=0.05, count=1, workers=0, mip_gap=1e-7)
    alt = rows(result)["alternative 1"]
    assert (alt["gpus_Acme"], alt["gpus_Brio"]) == (57_871, 57_870)
    assert alt["objective_usd"] == pytest.approx(1_215_280_000.0)
    assert alt["delta_usd"] == pytest.approx(57_870_000.0)
    assert alt["defined_by"] == "only Acme, Brio GPUs; at most 57,871 Acme GPUs"
    assert_checked(result)


def test_a_hedge_with_no_plan_gives_the_diagnosis_first_line() -> None:
    """Canada holds only 50 MW: 50,000 GPUs x 8.64e19 = 4.32e24 FLOP of the 1e25."""
    result = run_alternatives(two_countries(1e6, s2_max_it_mw=50.0), by="site", count=0, workers=0)
    us = rows(result)["without US"]
    assert us["status"] == "infeasible"
    assert math.isnan(us["objective_usd"])
    assert "reaches at most 4.32e+24 of 1e+25 FLOP by 2026" in us["reason"]
    assert any(
        line.startswith("without US: no plan (infeasible): ") for line in hedge_lines(result)
    )


def test_a_hedge_that_leaves_nothing_says_so_and_the_workbook_has_sheet_and_chart(
    tmp_path: Path,
) -> None:
    result = run_alternatives(two_countries(1e6), by="site", slack=0.15, count=1, workers=0)
    v = rows(result)["without v GPUs"]
    assert v["status"] == "infeasible" and "every candidate GPU type is v's" in v["reason"]
    out = write_alternatives(result, tmp_path / "t-alternatives.xlsx")
    ws = openpyxl.load_workbook(out)["Alternatives"]
    header = [c.value for c in ws[1]]
    wanted = ["plan", "status", "objective_usd", "delta_usd", "delta_pct", "sites"]
    wanted += ["countries", "gpus_v", "peak_mw", "co2_t", "plan_file"]
    assert set(wanted) <= set(header)
    assert len(ws._charts) == 1
    names = [ws.cell(row=i, column=1).value for i in range(2, ws.max_row + 1)]
    assert names == ["optimum", "alternative 1", "without US", "without v GPUs"]
    column = header.index("plan_file") + 1
    files = [ws.cell(row=i, column=column).value for i in range(2, ws.max_row + 1)]
    assert all(files) and all((out.parent / f).exists() for f in files)
    plan = openpyxl.load_workbook(out.parent / files[1])
    assert {"Summary", "GPUs", "Alternative"} <= set(plan.sheetnames)


def test_an_infeasible_base_has_no_alternative() -> None:
    data = factory.instance(runs=[factory.run(flop=1e30)])
    result = run_alternatives(data, by="site", count=2, workers=0)
    assert [e.name for e in result.entries] == ["optimum"]
    assert result.optimum.result["status"] == "infeasible"
    assert "reaches at most" in result.optimum.result["diagnosis"]


def test_the_co2_column_is_each_plans_emissions() -> None:
    # S1 (the cheaper site) runs on free gas: the optimum emits; the alternative at S2,
    # on the clean on-site source, emits nothing.
    data = two_countries(1e6)
    gas = factory.source("gas", co2_t_per_mwh=0.5)
    data = dataclasses.replace(
        data,
        power_sources=[*data.power_sources, gas],
        site_power=[factory.site_power("S1", "gas")]
        + [sp for sp in data.site_power if sp.site_id != "S1"],
    )
    result = run_alternatives(data, by="country", slack=0.15, count=1, workers=0)
    table = alternatives_table(result).set_index("plan")
    assert table.co2_t["optimum"] == pytest.approx(
        float(result.optimum.result["summary"]["co2_mt"]) * 1e6
    )
    assert table.co2_t["alternative 1"] == pytest.approx(0.0)


def comparable(result: AlternativesResult) -> pd.DataFrame:
    return alternatives_table(result).drop(columns=["solve_seconds"])


@pytest.mark.slow
def test_local_workers_and_a_dask_local_cluster_give_the_same_table() -> None:
    distributed = pytest.importorskip("distributed")
    data = two_countries(1e6)
    local = run_alternatives(data, by="country", slack=0.15, count=2, workers=2)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        dask = run_alternatives(
            data, by="country", slack=0.15, count=2, scheduler=cluster.scheduler_address
        )
    pd.testing.assert_frame_equal(comparable(local), comparable(dask))
    assert rows(local)["alternative 1"]["countries"] == "CA"


def test_plan_gpus_sums_purchases_over_years() -> None:
    result = {
        "tables": {
            "GPUs": {
                "columns": ["site_id", "gpu_id", "year", "purchased"],
                "rows": [["S1", "G1", 2026, 3], ["S1", "G1", 2027, 2]],
            }
        }
    }
    assert plan_gpus(result) == [("S1", "G1", 5.0)]


# ---------------------------------------------------------------- the command


@pytest.mark.slow  # CLI subprocesses with a worker process each: about 10 s
def test_the_command_writes_the_sheet_and_exits_0(tmp_path: Path, cli: Any) -> None:
    workbook = factory.write_workbook(two_countries(1e6), tmp_path / "tiny.xlsx")
    out = tmp_path / "out" / "tiny-alternatives.xlsx"
    args = ("alternatives", workbook, "--by", "country", "--slack", "0.15", "--count", "2")
    ran = cli(*args, "-o", out, "--workers", "1", "-q", cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "without US: +0.12 B USD, +10.0 % (optimal)" in ran.stdout
    wb = openpyxl.load_workbook(out)
    ws = wb["Alternatives"]
    names = [ws.cell(row=i, column=1).value for i in range(2, ws.max_row + 1)]
    assert names == ["optimum", "alternative 1", "without US", "without v GPUs"]
    assert (out.parent / "tiny-alternatives-plans" / "alternative_1.xlsx").exists()
    # A rerun is answered from the cache and gives the same sheet.
    again = cli(*args, "-o", out, "--workers", "1", "-q", cwd=tmp_path)
    assert again.returncode == 0 and "0 solve(s)" in again.stdout, again.stdout


@pytest.mark.slow
def test_bad_input_is_exit_1_with_the_cell_and_an_infeasible_base_exit_2(
    tmp_path: Path, cli: Any
) -> None:
    bad = factory.write_workbook(factory.instance(), tmp_path / "bad.xlsx")
    wb = openpyxl.load_workbook(bad)
    ws = wb["Sites"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("pue") + 1).value = 0.5
    wb.save(bad)
    ran = cli("alternatives", bad, "-o", tmp_path, "-q", cwd=tmp_path)
    letter = openpyxl.utils.get_column_letter(header.index("pue") + 1)
    assert ran.returncode == 1 and f"Sites!{letter}2" in ran.stderr, ran.stderr
    assert not (tmp_path / "bad-alternatives.xlsx").exists()
    usage = cli("alternatives", bad, "--by", "planet", "-q", cwd=tmp_path)
    assert usage.returncode == 1
    hopeless = factory.write_workbook(
        factory.instance(runs=[factory.run(flop=1e30)]), tmp_path / "hopeless.xlsx"
    )
    ran = cli("alternatives", hopeless, "-o", tmp_path, "-w", "1", "-q", cwd=tmp_path)
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert "reaches at most" in ran.stderr
