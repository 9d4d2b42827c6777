"""Emissions (reported, capped, priced) and generic GPU materials, on tiny instances with
optima worked out by hand.

One site, PUE 1, a run of 100 GPUs of 1 kW (0.1 MW of IT) in 2026, avg_power_fraction 1:
the run's year of energy is 0.1 MW x 8,760 h = 876 MWh. GPUs cost 10,000 USD (1 M USD
for the run). Power: ``gas`` (no capex, 50 USD/MWh, 0.4 t CO2/MWh) or ``solar`` (1 M USD
per MW, no energy cost, no emissions, firm 1).
"""

from __future__ import annotations

from typing import Any

import factory as f
import pytest

from planner import api
from planner.api import PlanResult
from planner.inputs.data import PlanningData
from planner.studies.scenarios import Change, apply_changes

FLOP_100 = 100 * f.per_gpu_flop()
GPUS_USD = 1_000_000.0
MWH = 876.0


def optimal(data: PlanningData, objective_usd: float) -> PlanResult:
    res = api.solve(data, mip_gap=1e-9, time_limit_s=30.0)
    assert res.status == "optimal", res.result.message
    assert res.plan is not None and res.violations == []
    assert res.plan.summary["objective_usd"] == pytest.approx(objective_usd, rel=1e-6)
    return res


def gas_or_solar(*supply: Any, **settings: Any) -> PlanningData:
    return f.instance(
        settings=f.settings(**settings),
        power_sources=[
            f.source("gas", energy_usd_per_mwh=50.0, co2_t_per_mwh=0.4),
            f.source("solar", capex_usd_per_mw=1e6),
        ],
        site_power=[f.site_power("S1", "gas"), f.site_power("S1", "solar")],
        supply=list(supply),
        runs=[f.run(flop=FLOP_100)],
    )


def served(res: PlanResult, source: str) -> float:
    assert res.plan is not None
    power = res.plan["Power"]
    return float(power[power.source_id == source].mw_served.sum())


def test_emissions_are_reported_per_site_source_and_year() -> None:
    res = optimal(gas_or_solar(), GPUS_USD + MWH * 50)
    assert res.plan is not None
    co2 = res.plan["Emissions"]
    assert list(co2.co2_t) == pytest.approx([MWH * 0.4])
    assert res.plan.summary["co2_mt"] == pytest.approx(MWH * 0.4 / 1e6)
    assert res.plan.summary["co2_t_per_1e24_flop"] == pytest.approx(MWH * 0.4 / (FLOP_100 / 1e24))


def test_a_zero_co2_cap_forces_solar() -> None:
    res = optimal(gas_or_solar(f.supply(2026, "co2_t", 0)), GPUS_USD + 0.1 * 1e6)
    assert served(res, "solar") == pytest.approx(0.1)


def test_a_partial_co2_cap_splits_gas_and_solar() -> None:
    # 100 t allows 250 MWh of gas = 0.028539 MW; solar carries the other 0.071461 MW.
    gas_mw = 100 / 0.4 / 8760
    res = optimal(
        gas_or_solar(f.supply(2026, "co2_t", 100)),
        GPUS_USD + gas_mw * 8760 * 50 + (0.1 - gas_mw) * 1e6,
    )
    assert served(res, "gas") == pytest.approx(gas_mw)


def test_a_country_co2_cap_binds_only_there() -> None:
    res = optimal(gas_or_solar(f.supply(2026, "co2_t", 0, "France")), GPUS_USD + MWH * 50)
    assert served(res, "gas") == pytest.approx(0.1)


@pytest.mark.parametrize(("price", "source"), [(150.0, "gas"), (170.0, "solar")])
def test_carbon_price_flips_the_choice_at_break_even(price: float, source: str) -> None:
    # Gas: 876 x (50 + 0.4 p) a year; solar 100,000: break-even at p = 160.39 USD/t.
    break_even = (100_000 / MWH - 50) / 0.4
    assert break_even == pytest.approx(160.388, rel=1e-5)
    gas = MWH * (50 + 0.4 * price)
    res = optimal(gas_or_solar(co2_price_usd_per_t=price), GPUS_USD + min(gas, 100_000))
    assert served(res, source) == pytest.approx(0.1)
    assert res.plan is not None
    carbon = res.plan["Costs"].groupby("category").nominal_usd.sum().get("carbon", 0.0)
    assert carbon == pytest.approx(MWH * 0.4 * price if source == "gas" else 0.0)


def test_a_logic_wafer_cap_forces_a_mix_of_two_gpu_types() -> None:
    # G1 takes 1/50 of an N4 wafer; one wafer in 2026 allows 50 G1; G2 (15,000 USD, N3)
    # makes up the other 50.
    data = f.instance(
        gpus=[f.gpu("G1"), f.gpu("G2", capex_usd=15_000.0)],
        gpu_materials=[
            f.material("G1", "wafers_n4", 0.02),
            f.material("G2", "wafers_n3", 0.05),
        ],
        supply=[f.supply(2026, "wafers_n4", 1)],
        runs=[f.run(flop=FLOP_100)],
    )
    res = optimal(data, 50 * 10_000 + 50 * 15_000)
    assert res.plan is not None
    assert res.plan["GPUs"].set_index("gpu_id").purchased.to_dict() == {"G1": 50, "G2": 50}


def test_a_scenario_inserts_the_co2_row_the_base_lacks() -> None:

    net_zero = Change("Supply", "2026:co2_t", "capacity", "insert", 0, "Scenarios", 2)
    changed, problems = apply_changes(gas_or_solar(), [net_zero])
    assert problems == [] and changed is not None
    optimal(changed, GPUS_USD + 0.1 * 1e6)
    again, problems = apply_changes(changed, [net_zero])
    assert again is None and "already has row '2026:co2_t'" in problems[0].message
