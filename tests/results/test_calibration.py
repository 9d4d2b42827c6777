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
    assert got["h100e_per_1e27_flop"] == pytest.approx(100 * 1000 / 989 / (100 * 8.64e19 / 1e27))
    rows = table.set_index("figure")
    for a in ANCHORS:
        ratio = rows.loc[a.figure, "ratio"]
        assert ratio == pytest.approx(got[a.figure] / a.value)
        assert bool(rows.loc[a.figure, "flag"]) == (abs(ratio - 1) > 0.5)
