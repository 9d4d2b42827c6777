"""Tiny planning instances built in code, for tests whose optimum is worked out by hand."""

from __future__ import annotations

from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from models.neighbourhood import SiteColumns
from planner.inputs.data import SHEET_ATTRS, PlanningData
from planner.inputs.schema import (
    CoolingRow,
    ExportControlRow,
    FiberLinkRow,
    GpuMaterialRow,
    GpuRow,
    PowerSourceRow,
    RunRow,
    SettingsModel,
    SitePowerRow,
    SiteRow,
    SupplyRow,
    TransformerRow,
)
from planner.solving.compiled import CompiledModel


def settings(**kw: Any) -> SettingsModel:
    base: dict[str, Any] = dict(
        start_year=2026,
        end_year=2026,
        discount_rate=0.0,
        mip_gap=1e-6,
        time_limit_s=60,
        avg_power_fraction=1.0,
        power_factor=1.0,
        gbps_per_pflops=1.0,
        multi_site_efficiency=0.9,
    )
    base.update(kw)
    return SettingsModel(**base)


def site(site_id: str = "S1", **kw: Any) -> SiteRow:
    base: dict[str, Any] = dict(
        site_id=site_id,
        name=site_id,
        country="US",
        latitude=30.0,
        longitude=-97.0,
        max_it_mw=1000.0,
        shell_capex_usd_per_mw=0.0,
        om_usd_per_mw_year=0.0,
        earliest_year=2026,
        pue=1.0,
        existing_transformer_mva=0.0,
    )
    base.update(kw)
    return SiteRow(**base)


def source(source_id: str = "onsite", **kw: Any) -> PowerSourceRow:
    base: dict[str, Any] = dict(
        source_id=source_id,
        via_grid=False,
        capex_usd_per_mw=0.0,
        energy_usd_per_mwh=0.0,
        om_usd_per_mw_year=0.0,
        firm_fraction=1.0,
        lead_years=0,
        co2_t_per_mwh=0.0,
    )
    base.update(kw)
    return PowerSourceRow(**base)


def site_power(site_id: str = "S1", source_id: str = "onsite", **kw: Any) -> SitePowerRow:
    base: dict[str, Any] = dict(
        site_id=site_id, source_id=source_id, max_mw=10_000.0, existing_mw=0.0
    )
    base.update(kw)
    return SitePowerRow(**base)


def gpu(gpu_id: str = "G1", **kw: Any) -> GpuRow:
    # 1,000 TFLOP/s, 1 kW, 10,000 USD: easy arithmetic.
    base: dict[str, Any] = dict(
        gpu_id=gpu_id,
        vendor="v",
        available_year=2026,
        bf16_tflops=1000.0,
        it_kw=1.0,
        capex_usd=10_000.0,
        life_years=5,
        cowos_wafers_per_kgpu=0.0,
        hbm_stacks=0.0,
    )
    base.update(kw)
    return GpuRow(**base)


def run(run_id: str = "R1", **kw: Any) -> RunRow:
    # 1e24 FLOP per GPU-run-unit: 1000 TFLOP/s x mfu 1 x 1e12/86400... see per_gpu_flop().
    base: dict[str, Any] = dict(
        run_id=run_id, ready_year=2026, flop=1e25, duration_days=1.0, mfu=1.0, max_sites=1
    )
    base.update(kw)
    return RunRow(**base)


def per_gpu_flop(tflops: float = 1000.0, days: float = 1.0, mfu: float = 1.0) -> float:
    return tflops * 1e12 * mfu * days * 86400.0


def transformer(transformer_id: str = "T100", **kw: Any) -> TransformerRow:
    base: dict[str, Any] = dict(
        transformer_id=transformer_id, mva=100.0, capex_usd=1e6, lead_years=0
    )
    base.update(kw)
    return TransformerRow(**base)


def link(link_id: str = "L1", site_a: str = "S1", site_b: str = "S2", **kw: Any) -> FiberLinkRow:
    base: dict[str, Any] = dict(
        link_id=link_id,
        site_a=site_a,
        site_b=site_b,
        km=100.0,
        capex_usd=5e6,
        bandwidth_gbps=1e6,
        lead_years=0,
        om_usd_per_year=0.0,
    )
    base.update(kw)
    return FiberLinkRow(**base)


def supply(year: int, resource: str, capacity: float, country: str = "") -> SupplyRow:
    return SupplyRow(year=year, resource=resource, capacity=capacity, country=country)


def material(gpu_id: str, resource: str, amount: float) -> GpuMaterialRow:
    return GpuMaterialRow(gpu_id=gpu_id, resource=resource, amount_per_gpu=amount)


def export_control(country: str, gpu_id: str, allowed: bool) -> ExportControlRow:
    return ExportControlRow(country=country, gpu_id=gpu_id, allowed=allowed)


def cooling(site_id: str, cooling_id: str, pue: float, capex: float) -> CoolingRow:
    return CoolingRow(site_id=site_id, cooling_id=cooling_id, pue=pue, capex_usd_per_mw=capex)


def instance(**kw: Any) -> PlanningData:
    """One site, one on-site power source, one GPU type, one run, unless overridden."""
    base: dict[str, Any] = dict(
        settings=settings(),
        sites=[site()],
        power_sources=[source()],
        site_power=[site_power()],
        transformers=[transformer()],
        gpus=[gpu()],
        supply=[],
        runs=[run()],
    )
    base.update(kw)
    return PlanningData(**base)


def grid_instance(
    *, grid_lead_years: int = 0, transformer_cap: float | None = None, **kw: Any
) -> PlanningData:
    """One site that can take cheap grid power (through transformers) or dear on-site power.

    grid: via_grid, 100,000 USD/MW, 10 USD/MWh; onsite: 1,000,000 USD/MW, 100 USD/MWh.
    Transformer T100: 100 MVA, 1,000,000 USD, no lead time. power_factor 0.9,
    avg_power_fraction 1.0. ``transformer_cap`` adds a Supply transformer_units row for 2026.
    """
    base: dict[str, Any] = dict(
        settings=settings(power_factor=0.9, avg_power_fraction=1.0),
        power_sources=[
            source(
                "grid",
                via_grid=True,
                capex_usd_per_mw=100_000.0,
                energy_usd_per_mwh=10.0,
                lead_years=grid_lead_years,
            ),
            source("onsite", capex_usd_per_mw=1_000_000.0, energy_usd_per_mwh=100.0),
        ],
        site_power=[site_power("S1", "grid"), site_power("S1", "onsite")],
        transformers=[transformer("T100", mva=100.0, capex_usd=1e6, lead_years=0)],
        supply=[]
        if transformer_cap is None
        else [supply(2026, "transformer_units", transformer_cap)],
    )
    base.update(kw)
    return instance(**base)


def two_site_instance(*, max_it_mw: float = 70.0, links: bool = True, **kw: Any) -> PlanningData:
    """Two sites that each hold only ``max_it_mw`` of IT, a fiber link between them, and one
    run ready in 2027 that may span both (max_sites=2)."""
    base: dict[str, Any] = dict(
        settings=settings(end_year=2027, multi_site_efficiency=0.9, gbps_per_pflops=1.0),
        sites=[site("S1", max_it_mw=max_it_mw), site("S2", max_it_mw=max_it_mw)],
        site_power=[site_power("S1", "onsite"), site_power("S2", "onsite")],
        fiber_links=[link("L1", "S1", "S2", capex_usd=5e6, om_usd_per_year=1e5, bandwidth_gbps=1e6)]
        if links
        else [],
        runs=[run("R1", ready_year=2027, max_sites=2)],
    )
    base.update(kw)
    return instance(**base)


def large_instance(
    n_sites: int = 12, n_gpus: int = 5, n_years: int = 8, n_runs: int = 6, seed: int = 7
) -> PlanningData:
    """A mid-sized instance (many sites, GPU types, years, multi-site runs, supply caps)
    that HiGHS cannot close in a fraction of a second. Deterministic for a given seed."""
    import random

    rng = random.Random(seed)
    start = 2026
    end = start + n_years - 1
    countries = ["US", "CA", "MX", "CN", "AE"]
    sites = [
        site(
            f"S{i}",
            country=countries[i % len(countries)],
            max_it_mw=rng.choice([150.0, 300.0, 600.0, 1200.0]),
            shell_capex_usd_per_mw=rng.uniform(5e6, 12e6),
            om_usd_per_mw_year=rng.uniform(1e5, 4e5),
            earliest_year=start + rng.randrange(3),
            pue=rng.uniform(1.1, 1.5),
            existing_transformer_mva=rng.choice([0.0, 100.0]),
        )
        for i in range(n_sites)
    ]
    sources = [
        source(
            "grid",
            via_grid=True,
            capex_usd_per_mw=3e5,
            energy_usd_per_mwh=60.0,
            lead_years=2,
            firm_fraction=0.95,
        ),
        source(
            "gas",
            capex_usd_per_mw=1.2e6,
            energy_usd_per_mwh=75.0,
            om_usd_per_mw_year=2e4,
            lead_years=1,
            firm_fraction=0.9,
        ),
        source(
            "solar", capex_usd_per_mw=9e5, energy_usd_per_mwh=5.0, lead_years=0, firm_fraction=0.25
        ),
    ]
    sp = []
    for s in sites:
        for p in sources:
            if p.source_id == "grid" or rng.random() < 0.7:
                sp.append(
                    site_power(
                        s.site_id,
                        p.source_id,
                        max_mw=rng.uniform(100.0, 1500.0),
                        energy_usd_per_mwh=rng.choice([None, 40.0, 90.0]),
                    )
                )
    cools = [
        c
        for s in sites
        if rng.random() < 0.5
        for c in (
            cooling(s.site_id, "air", 1.45, 0.0),
            cooling(s.site_id, "liquid", 1.12, rng.uniform(2e5, 8e5)),
        )
    ]
    gpus = [
        gpu(
            f"G{j}",
            available_year=start + rng.randrange(n_years // 2),
            bf16_tflops=rng.uniform(700.0, 3000.0),
            it_kw=rng.uniform(1.0, 2.5),
            capex_usd=rng.uniform(15_000.0, 45_000.0),
            life_years=rng.choice([3, 4, 5]),
            cowos_wafers_per_kgpu=rng.uniform(20.0, 60.0),
            hbm_stacks=rng.choice([6.0, 8.0]),
        )
        for j in range(n_gpus)
    ]
    supplies = [
        supply(y, "cowos_wafers", rng.uniform(2_000.0, 8_000.0)) for y in range(start, end + 1)
    ]
    supplies += [
        supply(y, "transformer_units", float(rng.randrange(1, 6))) for y in range(start, end + 1)
    ]
    supplies += [
        supply(y, f"gpu:G{j}", float(rng.randrange(20_000, 120_000)))
        for y in range(start, end + 1)
        for j in range(n_gpus)
        if rng.random() < 0.3
    ]
    controls = [export_control("CN", "G0", False), export_control("AE", "G1", False)]
    links = [
        link(
            f"L{i}-{k}",
            f"S{i}",
            f"S{k}",
            capex_usd=rng.uniform(2e7, 2e8),
            bandwidth_gbps=rng.choice([2e5, 5e5, 1e6]),
            lead_years=rng.randrange(3),
            om_usd_per_year=rng.uniform(1e5, 1e6),
        )
        for i in range(n_sites)
        for k in range(i + 1, n_sites)
        if rng.random() < 0.3
    ]
    runs = [
        run(
            f"R{r}",
            ready_year=start + 1 + rng.randrange(n_years - 1),
            flop=rng.choice([3e26, 1e27, 3e27]),
            duration_days=rng.choice([60.0, 90.0, 120.0]),
            mfu=rng.uniform(0.3, 0.5),
            max_sites=rng.choice([1, 2, 3]),
        )
        for r in range(n_runs)
    ]
    return PlanningData(
        settings=settings(
            end_year=end, discount_rate=0.08, avg_power_fraction=0.8, power_factor=0.9, mip_gap=1e-4
        ),
        sites=sites,
        power_sources=sources,
        site_power=sp,
        cooling=cools,
        transformers=[
            transformer("T100", mva=100.0, capex_usd=3e6, lead_years=1),
            transformer("T250", mva=250.0, capex_usd=6e6, lead_years=2),
        ],
        gpus=gpus,
        supply=supplies,
        export_controls=controls,
        fiber_links=links,
        runs=runs,
    )


def write_workbook(data: PlanningData, out: Any) -> Any:
    """Write ``data`` as an input workbook (the planner's own Excel format)."""
    from planner.inputs.template import write_input_workbook

    tables = {
        sheet: [row.model_dump(by_alias=True) for row in getattr(data, attr)]
        for sheet, attr in SHEET_ATTRS.items()
        if sheet not in ("Scenarios", "Sweeps", "Uncertainty")
    }
    return write_input_workbook(out, data.settings.model_dump(), tables)


def time_limited_instance() -> PlanningData:
    """30 sites x 8 GPU types x 6 years, 12 runs (``planner synth``, seed 1), read back
    from the workbook it writes: nothing closes a 1e-6 gap on it within a minute (see
    tests/models/test_model.py)."""
    import tempfile
    from pathlib import Path

    from planner import api
    from planner.inputs.synth import SynthSpec, write_synth

    spec = SynthSpec(sites=30, years=6, gpus=8, sources=6, links=90, runs=12, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        return api.load(write_synth(spec, Path(tmp) / "hard.xlsx"))


def dense_model(
    cost: list[float], upper: list[float], rows: list[tuple[list[float], float, float]]
) -> CompiledModel:
    """A compiled model from a dense matrix worked by hand: every column integer with a
    lower bound of zero, ``rows`` as (coefficients, lower, upper)."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cost), len(rows)
    lp.col_cost_ = np.array(cost, dtype=float)
    lp.col_lower_ = np.zeros(len(cost))
    lp.col_upper_ = np.array(upper, dtype=float)
    lp.row_lower_ = np.array([r[1] for r in rows], dtype=float)
    lp.row_upper_ = np.array([r[2] for r in rows], dtype=float)
    a = sp.csc_matrix(np.array([r[0] for r in rows], dtype=float))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * len(cost)
    integer = np.ones(len(cost), dtype=bool)
    return CompiledModel(lp=lp, columns=[], rows=[], offset=0.0, integer=integer)


def run_choices(decision_year: np.ndarray, n_sites: int) -> SiteColumns:
    """Columns tagged only with the ready year of the run whose choice each is (0: none)."""
    none = np.zeros(0, dtype=int)
    return SiteColumns(
        entry_column=none,
        entry_site=none,
        n_sites=n_sites,
        link=np.zeros(len(decision_year), dtype=bool),
        decision_year=np.asarray(decision_year, dtype=int),
        target_year=np.zeros(0, dtype=int),
    )
