"""Economics switches, each on a tiny instance whose optimum is worked out by hand:
annuity capex, idle GPUs that draw no power, homogeneous clusters (``Runs.gpu_mix``),
country and volume caps (``Supply.country``, ``gpus``, ``h100e``).

Unless a test says otherwise: one GPU type of 1,000 TFLOP/s, 1 kW, 10,000 USD, life 5;
a run of one day at MFU 1, so one GPU delivers 8.64e19 FLOP; power, shells and energy
are free.
"""

from __future__ import annotations

from typing import Any

import factory as f
import pytest

from planner import api
from planner.api import PlanResult
from planner.inputs.data import PlanningData

PER_GPU = f.per_gpu_flop()  # 8.64e19 FLOP per GPU-day
FLOP_100 = 100 * PER_GPU  # exactly 100 GPUs


def optimal(data: PlanningData, objective_usd: float) -> PlanResult:
    """Solve to a tight gap; the plan is optimal, passes the independent check and costs
    ``objective_usd``."""
    res = api.solve(data, mip_gap=1e-9, time_limit_s=30.0)
    assert res.status == "optimal", res.result.message
    assert res.plan is not None
    assert res.violations == []
    assert res.plan.summary["objective_usd"] == pytest.approx(objective_usd, rel=1e-6)
    return res


def bought(res: PlanResult) -> dict[tuple[str, str, int], int]:
    assert res.plan is not None
    return {
        (r.site_id, r.gpu_id, int(r.year)): int(r.purchased)
        for r in res.plan["GPUs"].itertuples()
        if r.purchased
    }


def crf(rate: float, life: int) -> float:
    return rate / (1 - (1 + rate) ** -life)


# ---- capex accounting ------------------------------------------------------------------
def two_years(accounting: str, **kw: Any) -> PlanningData:
    """2026-2027 at 10 %, one run of 100 GPUs ready in 2027."""
    return f.instance(
        settings=f.settings(end_year=2027, discount_rate=0.1, capex_accounting=accounting, **kw),
        runs=[f.run(ready_year=2027, flop=FLOP_100)],
    )


def test_full_capex_books_the_last_year_purchase_whole() -> None:
    res = optimal(two_years("full"), 100 * 10_000 / 1.1)
    assert bought(res) == {("S1", "G1", 2027): 100}


def test_annuity_of_a_gpu_bought_in_the_last_year() -> None:
    # One payment A = 10,000 x 0.1 / (1 - 1.1^-5) = 2,637.97 per GPU, in 2027 (weight
    # 1/1.1); four payments are still due after 2027: A x (1.1^-1 + ... + 1.1^-4).
    payment = 10_000 * crf(0.1, 5)
    assert payment == pytest.approx(2637.97, abs=0.01)
    res = optimal(two_years("annuity"), 100 * payment / 1.1)
    assert bought(res) == {("S1", "G1", 2027): 100}
    assert res.plan is not None
    left = 100 * payment * sum(1.1**-k for k in range(1, 5))
    assert res.plan.summary["value_left_usd"] == pytest.approx(left, rel=1e-9)
    costs = res.plan["Costs"]
    assert list(costs.category) == ["gpu_capex"]
    assert float(costs.nominal_usd.sum()) == pytest.approx(100 * payment)


def test_annuity_charges_an_early_purchase_each_year_in_service() -> None:
    # A cap of 40 GPUs in 2027 forces 60 to be bought in 2026: two payments each.
    data = two_years("annuity")
    data = data.__class__(**{**data.__dict__, "supply": [f.supply(2027, "gpus", 40)]})
    payment = 10_000 * crf(0.1, 5)
    res = optimal(data, 60 * payment * (1 + 1 / 1.1) + 40 * payment / 1.1)
    assert bought(res) == {("S1", "G1", 2026): 60, ("S1", "G1", 2027): 40}


# ---- idle GPUs -------------------------------------------------------------------------
def idle_case(draw: bool) -> PlanningData:
    """A run of 100 GPUs in 2026; nothing uses them in 2027. Energy 100 USD/MWh at full
    draw: 0.1 MW x 8,760 h x 100 = 87,600 USD a year."""
    return f.instance(
        settings=f.settings(end_year=2027, idle_gpus_draw_power=draw),
        power_sources=[f.source(energy_usd_per_mwh=100.0)],
        runs=[f.run(flop=FLOP_100)],
    )


@pytest.mark.parametrize(("draw", "years_of_energy"), [(True, 2), (False, 1)])
def test_idle_gpus_draw_no_energy(draw: bool, years_of_energy: int) -> None:
    res = optimal(idle_case(draw), 100 * 10_000 + years_of_energy * 87_600)
    assert res.plan is not None
    later = res.plan["SiteYears"].set_index("year").loc[2027]
    assert later.it_capacity_mw == pytest.approx(0.1)  # still occupied
    assert later.it_load_mw == pytest.approx(0.1 if draw else 0.0)


# ---- homogeneous clusters ----------------------------------------------------------------
def two_types(mix: str, vendors: tuple[str, str] = ("A", "B")) -> PlanningData:
    """G1 (10,000 USD) is capped at 60 in 2026; G2 (15,000 USD) is not. A run of 100."""
    return f.instance(
        gpus=[f.gpu("G1", vendor=vendors[0]), f.gpu("G2", vendor=vendors[1], capex_usd=15_000.0)],
        supply=[f.supply(2026, "gpu:G1", 60)],
        runs=[f.run(flop=FLOP_100, gpu_mix=mix)],
    )


@pytest.mark.parametrize(
    ("mix", "vendors", "g1", "usd"),
    [
        ("any", ("A", "B"), 60, 60 * 10_000 + 40 * 15_000),
        ("run", ("A", "B"), 0, 100 * 15_000),
        ("site", ("A", "B"), 0, 100 * 15_000),
        ("vendor", ("A", "B"), 0, 100 * 15_000),
        ("vendor", ("Acme", " acme"), 60, 60 * 10_000 + 40 * 15_000),  # one vendor
    ],
)
def test_gpu_mix(mix: str, vendors: tuple[str, str], g1: int, usd: float) -> None:
    res = optimal(two_types(mix, vendors), usd)
    assert bought(res).get(("S1", "G1", 2026), 0) == g1


def test_gpu_mix_site_allows_one_type_per_site() -> None:
    # Two sites of 0.07 MW each (70 GPUs), two sites' GPUs at 0.9: the run needs 112
    # GPUs (100 / 0.9, rounded up). G1 (capped at 60) at one site, G2 at the other.
    data = f.two_site_instance(
        max_it_mw=0.07,
        gpus=[f.gpu("G1"), f.gpu("G2", capex_usd=15_000.0)],
        supply=[f.supply(2027, "gpu:G1", 60), f.supply(2026, "gpu:G1", 0)],
        runs=[f.run(ready_year=2027, flop=FLOP_100, max_sites=2, gpu_mix="site")],
    )
    res = api.solve(data, mip_gap=1e-9, time_limit_s=30.0)
    assert res.status == "optimal" and res.violations == []
    assert res.plan is not None
    alloc = res.plan["RunGPUs"]
    assert sorted(alloc.gpus) == [52, 60]  # 60 G1 at one site, 52 G2 at the other
    assert alloc.groupby("site_id").gpu_id.nunique().max() == 1


# ---- country and volume caps -------------------------------------------------------------
def two_countries(*supply: Any) -> PlanningData:
    """S1 (US) costs 1 M USD per MW of shell; S2 (UAE) nothing. A single-site run of 100."""
    return f.instance(
        sites=[f.site("S1", shell_capex_usd_per_mw=1e6), f.site("S2", country="UAE")],
        site_power=[f.site_power("S1"), f.site_power("S2")],
        supply=list(supply),
        runs=[f.run(flop=FLOP_100)],
    )


def test_without_a_country_cap_the_cheaper_country_hosts() -> None:
    res = optimal(two_countries(), 1_000_000)
    assert bought(res) == {("S2", "G1", 2026): 100}


@pytest.mark.parametrize("resource", ["gpus", "gpu:G1", "h100e"])
def test_a_country_cap_moves_purchases_to_another_countrys_site(resource: str) -> None:
    res = optimal(two_countries(f.supply(2026, resource, 50, "UAE")), 1_000_000 + 100_000)
    assert bought(res) == {("S1", "G1", 2026): 100}


def test_a_blank_country_row_and_a_country_row_both_bind() -> None:
    data = two_countries(f.supply(2026, "gpus", 500, "UAE"), f.supply(2026, "gpus", 99))
    res = api.solve(data, mip_gap=1e-9, time_limit_s=30.0)
    assert res.status == "infeasible"


def test_h100e_cap_weighs_gpus_by_bf16_over_989() -> None:
    # 2026-2027 at 10 %, a run of 100 ready in 2027. 50.5 H100e in 2027 allows
    # floor(50.5 x 0.989) = 49 GPUs of 1,000 TFLOP/s (50 would be 50.56 H100e); the other
    # 51 are bought in 2026 at full price.
    data = f.instance(
        settings=f.settings(end_year=2027, discount_rate=0.1),
        supply=[f.supply(2027, "h100e", 50.5)],
        runs=[f.run(ready_year=2027, flop=FLOP_100)],
    )
    res = optimal(data, 49 * 10_000 / 1.1 + 51 * 10_000)
    assert bought(res) == {("S1", "G1", 2026): 51, ("S1", "G1", 2027): 49}


@pytest.mark.parametrize("rate", [0.0, 1e-301, 1e-12])
def test_annuity_at_a_vanishing_rate_is_capex_over_life(rate: float) -> None:
    # The rate-0 limit: 10,000 / 5 per GPU per year in service, 2026 and 2027.
    data = f.instance(
        settings=f.settings(end_year=2027, discount_rate=rate, capex_accounting="annuity"),
        runs=[f.run(ready_year=2027, flop=FLOP_100)],
    )
    res = optimal(data, 100 * 10_000 / 5)
    assert bought(res) == {("S1", "G1", 2027): 100}
