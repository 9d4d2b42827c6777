"""The Calibration sheet: each figure read off a plan, against hand arithmetic."""

from __future__ import annotations

import factory as f
import pytest

from planner import api
from planner.results.calibration import ANCHORS, CALIBRATION_COLUMNS, calibration


def test_calibration_of_a_hand_plan() -> None:
    # 100 GPUs of 1,000 TFLOP/s and 1 kW at PUE 1: 0.1 MW; 10,000 USD each; no other cost.
    res = api.solve(f.instance(runs=[f.run(flop=100 * f.per_gpu_flop())]), mip_gap=1e-9)
    assert res.status == "optimal" and res.plan is not None
    table = calibration(res.data, res.plan)
    assert list(table.columns) == CALIBRATION_COLUMNS
    assert list(table.figure) == [a.figure for a in ANCHORS]
    got = dict(zip(table.figure, table.plan_value, strict=True))
    assert got["facility_mw_per_1000_gpus"] == pytest.approx(1.0)
    assert got["peak_flops_per_facility_mw"] == pytest.approx(100 * 1e15 / 0.1)
    assert got["capex_per_gw_it_usd"] == pytest.approx(1e6 / 1e-4)
    assert got["energy_share_of_cost"] == 0.0
    # Every GPU-hour of the one-day run at 10,000 USD / 8,760 h (full capex in the year).
    assert got["cost_per_h100e_hour_used_usd"] == pytest.approx(10_000 / 8760 * 989 / 1000)
    # The factory's GPU ships in 2026: 3 years after the H100 at a 2.07-year doubling.
    assert got["cost_per_h100e_hour_used_at_h100_vintage_usd"] == pytest.approx(
        got["cost_per_h100e_hour_used_usd"] * 2 ** (3 / 2.07)
    )
    assert got["h100e_per_1e27_flop"] == pytest.approx(100 * 1000 / 989 / (100 * 8.64e19 / 1e27))
    rows = table.set_index("figure")
    for a in ANCHORS:
        ratio = rows.loc[a.figure, "ratio"]
        assert ratio == pytest.approx(got[a.figure] / a.value)
        assert bool(rows.loc[a.figure, "flag"]) == (abs(ratio - 1) > 0.5)


def test_vintage_row_weights_each_gpu_by_the_runs_h100e_hours() -> None:
    # Run A (2024) can only use OLD (2023, 1 PF); run B (2026) buys NEW (2026, 2 PF), which
    # is cheaper per FLOP; OLD lives one year, so B cannot reuse A's GPUs. 100 GPUs each.
    old = f.gpu("OLD", available_year=2023, life_years=1)
    new = f.gpu("NEW", available_year=2026, bf16_tflops=2000.0)
    data = f.instance(
        settings=f.settings(start_year=2024, end_year=2026),
        sites=[f.site(earliest_year=2024)],
        gpus=[old, new],
        runs=[
            f.run("A", ready_year=2024, flop=100 * f.per_gpu_flop()),
            f.run("B", ready_year=2026, flop=100 * f.per_gpu_flop(2000.0)),
        ],
    )
    res = api.solve(data, mip_gap=1e-9)
    assert res.status == "optimal" and res.plan is not None
    table = calibration(res.data, res.plan)
    got = dict(zip(table.figure, table.plan_value, strict=True))
    # Weights 100 x 1000 (OLD, factor 1) and 100 x 2000 (NEW, factor 2^(3/2.07)).
    factor = (1.0 + 2.0 * 2 ** (3 / 2.07)) / 3.0
    assert got["cost_per_h100e_hour_used_at_h100_vintage_usd"] == pytest.approx(
        got["cost_per_h100e_hour_used_usd"] * factor
    )
