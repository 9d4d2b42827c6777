"""Tiny planning instances built in code, for tests whose optimum is worked out by hand."""

from __future__ import annotations

from typing import Any

from planner.data import PlanningData
from planner.schema import (
    CoolingRow,
    ExportControlRow,
    FiberLinkRow,
    GpuRow,
    PowerSourceRow,
    RunRow,
    SettingsModel,
    SiteRow,
    SitePowerRow,
    SupplyRow,
    TransformerRow,
)


def settings(**kw: Any) -> SettingsModel:
    base: dict[str, Any] = dict(start_year=2026, end_year=2026, discount_rate=0.0,
                                mip_gap=1e-6, time_limit_s=60, avg_power_fraction=1.0,
                                power_factor=1.0, gbps_per_pflops=1.0, multi_site_efficiency=0.9)
    base.update(kw)
    return SettingsModel(**base)


def site(site_id: str = "S1", **kw: Any) -> SiteRow:
    base: dict[str, Any] = dict(site_id=site_id, name=site_id, country="US", latitude=30.0,
                                longitude=-97.0, max_it_mw=1000.0, shell_capex_usd_per_mw=0.0,
                                om_usd_per_mw_year=0.0, earliest_year=2026, pue=1.0,
                                existing_transformer_mva=0.0)
    base.update(kw)
    return SiteRow(**base)


def source(source_id: str = "onsite", **kw: Any) -> PowerSourceRow:
    base: dict[str, Any] = dict(source_id=source_id, via_grid=False, capex_usd_per_mw=0.0,
                                energy_usd_per_mwh=0.0, om_usd_per_mw_year=0.0,
                                firm_fraction=1.0, lead_years=0, co2_t_per_mwh=0.0)
    base.update(kw)
    return PowerSourceRow(**base)


def site_power(site_id: str = "S1", source_id: str = "onsite", **kw: Any) -> SitePowerRow:
    base: dict[str, Any] = dict(site_id=site_id, source_id=source_id, max_mw=10_000.0,
                                existing_mw=0.0)
    base.update(kw)
    return SitePowerRow(**base)


def gpu(gpu_id: str = "G1", **kw: Any) -> GpuRow:
    # 1,000 TFLOP/s, 1 kW, 10,000 USD: easy arithmetic.
    base: dict[str, Any] = dict(gpu_id=gpu_id, vendor="v", available_year=2026,
                                bf16_tflops=1000.0, it_kw=1.0, capex_usd=10_000.0, life_years=5,
                                cowos_wafers_per_kgpu=0.0, hbm_stacks=0.0)
    base.update(kw)
    return GpuRow(**base)


def run(run_id: str = "R1", **kw: Any) -> RunRow:
    # 1e24 FLOP per GPU-run-unit: 1000 TFLOP/s x mfu 1 x 1e12/86400... see per_gpu_flop().
    base: dict[str, Any] = dict(run_id=run_id, ready_year=2026, flop=1e25, duration_days=1.0,
                                mfu=1.0, max_sites=1)
    base.update(kw)
    return RunRow(**base)


def per_gpu_flop(tflops: float = 1000.0, days: float = 1.0, mfu: float = 1.0) -> float:
    return tflops * 1e12 * mfu * days * 86400.0


def transformer(transformer_id: str = "T100", **kw: Any) -> TransformerRow:
    base: dict[str, Any] = dict(transformer_id=transformer_id, mva=100.0, capex_usd=1e6,
                                lead_years=0)
    base.update(kw)
    return TransformerRow(**base)


def link(link_id: str = "L1", site_a: str = "S1", site_b: str = "S2", **kw: Any) -> FiberLinkRow:
    base: dict[str, Any] = dict(link_id=link_id, site_a=site_a, site_b=site_b, km=100.0,
                                capex_usd=5e6, bandwidth_gbps=1e6, lead_years=0,
                                om_usd_per_year=0.0)
    base.update(kw)
    return FiberLinkRow(**base)


def supply(year: int, resource: str, capacity: float) -> SupplyRow:
    return SupplyRow(year=year, resource=resource, capacity=capacity)


def export_control(country: str, gpu_id: str, allowed: bool) -> ExportControlRow:
    return ExportControlRow(country=country, gpu_id=gpu_id, allowed=allowed)


def cooling(site_id: str, cooling_id: str, pue: float, capex: float) -> CoolingRow:
    return CoolingRow(site_id=site_id, cooling_id=cooling_id, pue=pue, capex_usd_per_mw=capex)


def instance(**kw: Any) -> PlanningData:
    """One site, one on-site power source, one GPU type, one run, unless overridden."""
    base: dict[str, Any] = dict(
        settings=settings(), sites=[site()], power_sources=[source()],
        site_power=[site_power()], transformers=[transformer()], gpus=[gpu()], supply=[],
        runs=[run()],
    )
    base.update(kw)
    return PlanningData(**base)
