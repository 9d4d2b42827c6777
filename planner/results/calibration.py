"""A plan's implied figures beside published anchors (the ``Calibration`` sheet).

``ANCHORS`` is the one cited table of anchors in the project; the user's workbook never
holds them. ``calibration(data, plan)`` computes each figure from the plan's tables and
the inputs only. ``ratio`` = plan / anchor; ``flag`` says in words when a figure is more
than 50 % off its anchor, and what usually moves it.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from planner.inputs.data import PlanningData
from planner.inputs.schema import H100_BF16_TFLOPS
from planner.results.check import recompute_costs
from planner.results.tables import CAPEX_SUFFIX, Plan

CALIBRATION_COLUMNS = ["figure", "unit", "plan_value", "anchor_value", "ratio", "source", "flag"]
TOLERANCE = 0.5  # flag a figure more than 50 % off its anchor
POWER_CATEGORIES = ("power_capex", "power_om", "energy", "transformer_capex")


@dataclass(frozen=True)
class Anchor:
    figure: str
    unit: str
    value: float
    source: str
    moves_it: str  # what usually explains a plan far from the anchor


# Facility MW per H100-equivalent at Stargate Abilene: 1.2 GW for ~400k GB200 (2.5 PF).
_ABILENE_MW_PER_H100E = 1200.0 / (400_000 * 2500.0 / H100_BF16_TFLOPS)
_H100E_PER_1E27 = 1e27 / (H100_BF16_TFLOPS * 1e12 * 0.4 * 120 * 86400.0)
_SOURCES = "docs/reference-sources.md section 5"
# Epoch AI (Hobbhahn & Besiroglu 2022): FLOP/s per USD of ML GPUs doubles every 2.07 years
# (95 % CI 1.54-3.13); the H100, the 1.70 USD/h anchor's GPU, first shipped in 2023.
PRICE_PERFORMANCE_DOUBLING_YEARS = 2.07
H100_YEAR = 2023

ANCHORS: tuple[Anchor, ...] = (
    Anchor(
        "cost_per_h100e_hour_used_usd",
        "USD per H100-equivalent GPU-hour",
        1.70,
        "SemiAnalysis (D. Patel) via the seed: natural cost of an H100-hour incl. capital "
        f"(2024); H100 1-year contracts 1.70-2.65 USD/h in 2025-26 ({_SOURCES})",
        "the GPU generation: the anchor is an H100-hour, and newer GPUs give several "
        "H100e per USD (a VR200 ~0.56, a GB200 ~0.9 USD per H100e-hour amortised); the "
        "next row takes the generation out",
    ),
    Anchor(
        "cost_per_h100e_hour_used_at_h100_vintage_usd",
        "USD per H100e-hour, at H100 (2023) price-performance",
        1.70,
        "the row above with each GPU's hours priced back to 2023 along the ML-GPU FLOP/s "
        "per USD trend (doubling every 2.07 y, Epoch AI, Hobbhahn & Besiroglu 2022), "
        "weighted by the runs' H100e-hours",
        "GPU prices against the price-performance trend, capex_accounting, utilisation",
    ),
    Anchor(
        "energy_share_of_cost",
        "fraction of nominal cost",
        0.04,
        "Cottier et al. 2024 (arXiv 2405.21015): energy 2-6 % of frontier training cost",
        "energy prices, idle_gpus_draw_power, capex_accounting",
    ),
    Anchor(
        "power_share_of_cost",
        "fraction of nominal cost",
        0.12,
        "seed (SemiAnalysis): power under 15 % of H100 cost of ownership, often under 10 %",
        "on-site generation capex, energy prices, GPU prices",
    ),
    Anchor(
        "capex_per_gw_it_usd",
        "USD per GW of IT capacity",
        38e9,
        "Epoch AI data-center cost breakdown: 1 GW of IT on GB200 NVL72 ~38 B USD up front "
        f"(2026); Morgan Stanley (May 2026) 23 B (H100) to 41 B (Vera Rubin) ({_SOURCES})",
        "GPU prices, capacity built ahead of later runs",
    ),
    Anchor(
        "capex_per_gw_facility_usd",
        "USD per GW of facility power",
        35e9,
        f"Bernstein (2025): ~35 B USD per GW on GB200, 5.9 M USD per NVL72 rack ({_SOURCES})",
        "GPU prices, PUE, capacity built ahead of later runs",
    ),
    Anchor(
        "facility_mw_per_1000_gpus",
        "MW of facility power per 1,000 GPUs",
        3.0,
        "Stargate Abilene: 1.2 GW for ~400k GB200 (Bloomberg/FT 2025); H100 ~1.65-1.9",
        "the GPU generation (H100 ~1.7, GB200 ~3, VR200 ~4), PUE",
    ),
    Anchor(
        "peak_flops_per_facility_mw",
        "FLOP/s per MW of facility power (dense BF16)",
        400_000 * 2500e12 / 1200.0,
        "derived: Abilene, 400k GB200 x 2.5 PFLOP/s over 1.2 GW; H100 ~6e17, VR200 ~2.1e18",
        "the GPU generation (VR200 ~2.5x GB200 per MW), PUE",
    ),
    Anchor(
        "h100e_per_1e27_flop",
        "H100-equivalents per 1e27 FLOP of run target",
        _H100E_PER_1E27,
        "derived: 1e27 FLOP / (989 TFLOP/s x MFU 0.4 x 120 days); Epoch AI median MFU ~0.38",
        "run durations and MFU in Runs",
    ),
    Anchor(
        "mw_per_1e27_flop",
        "MW of facility power per 1e27 FLOP of run target",
        _H100E_PER_1E27 * _ABILENE_MW_PER_H100E,
        "derived: h100e_per_1e27_flop x Abilene's facility MW per H100e (GB200 class)",
        "run durations, MFU, the GPU generation, PUE",
    ),
)


def calibration(data: PlanningData, plan: Plan) -> pd.DataFrame:
    """One row per anchor: the plan's figure beside it, the ratio and a flag."""
    figures = _figures(data, plan)
    rows = []
    for a in ANCHORS:
        value = figures[a.figure]()
        ratio = value / a.value if a.value else float("nan")
        off = abs(ratio - 1.0) > TOLERANCE
        flag = f"{ratio:.2f}x the anchor, more than 50 % off: see {a.moves_it}" if off else ""
        rows.append((a.figure, a.unit, value, a.value, ratio, a.source, flag))
    return pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)


def _figures(data: PlanningData, plan: Plan) -> dict[str, Callable[[], float]]:
    """How each figure is read off a plan (lazily: a plan with no GPUs reads 0)."""
    costs = plan["Costs"]
    nominal = float(costs.nominal_usd.sum()) or float("nan")
    by_cat = costs.groupby("category").nominal_usd.sum()
    capex = _whole_capex(data, plan)
    years = plan["SiteYears"].groupby("year")
    peak_it = float(years.it_capacity_mw.sum().max()) if len(plan["SiteYears"]) else 0.0
    peak_mw = float(plan.summary.get("peak_facility_mw") or 0.0)
    runs = plan["Runs"]
    targets = float(runs.flop_required.sum()) / 1e27 if len(runs) else 0.0
    h100e = _run_h100e(data, plan)
    return {
        "cost_per_h100e_hour_used_usd": lambda: float(
            plan.summary.get("cost_per_h100e_hour_used_usd") or 0.0
        ),
        "cost_per_h100e_hour_used_at_h100_vintage_usd": lambda: (
            float(plan.summary.get("cost_per_h100e_hour_used_usd") or 0.0)
            * _vintage_factor(data, plan)
        ),
        "energy_share_of_cost": lambda: float(by_cat.get("energy", 0.0)) / nominal,
        "power_share_of_cost": lambda: (
            sum(float(by_cat.get(c, 0.0)) for c in POWER_CATEGORIES) / nominal
        ),
        "capex_per_gw_it_usd": lambda: _per(capex, peak_it / 1000.0),
        "capex_per_gw_facility_usd": lambda: _per(capex, peak_mw / 1000.0),
        "facility_mw_per_1000_gpus": lambda: _per(peak_mw, _peak_gpus(plan) / 1000.0),
        "peak_flops_per_facility_mw": lambda: _per(_peak_flops(data, plan), peak_mw),
        "h100e_per_1e27_flop": lambda: _per(h100e, targets),
        "mw_per_1e27_flop": lambda: _per(_run_facility_mw(data, plan), targets),
    }


def _per(value: float, size: float) -> float:
    return value / size if size else 0.0


def _whole_capex(data: PlanningData, plan: Plan) -> float:
    """Capex of every asset the plan builds, whole (as ``full`` accounting books it)."""
    full = dataclasses.replace(
        data, settings=data.settings.model_copy(update={"capex_accounting": "full"})
    )
    costs = recompute_costs(full, plan)
    return sum(v for (_, c), v in costs.items() if c.endswith(CAPEX_SUFFIX))


def _peak_year(plan: Plan) -> int | None:
    site_years = plan["SiteYears"]
    if not len(site_years):
        return None
    by_year: dict[int, float] = defaultdict(float)
    for y, mw in zip(site_years.year, site_years.facility_mw, strict=True):
        by_year[int(y)] += float(mw)
    return max(by_year, key=lambda y: by_year[y])


def _peak_gpus(plan: Plan) -> float:
    """GPUs installed in the year of peak facility power."""
    year, gpus = _peak_year(plan), plan["GPUs"]
    return float(gpus[gpus.year == year].installed.sum()) if year is not None else 0.0


def _peak_flops(data: PlanningData, plan: Plan) -> float:
    """Dense BF16 FLOP/s of the GPUs installed in the peak year."""
    tflops = {g.gpu_id: g.bf16_tflops for g in data.gpus}
    year, gpus = _peak_year(plan), plan["GPUs"]
    peak = gpus[gpus.year == year]
    return sum(
        float(n) * tflops.get(g, 0.0) * 1e12
        for g, n in zip(peak.gpu_id, peak.installed, strict=True)
    )


def _run_h100e(data: PlanningData, plan: Plan) -> float:
    """H100-equivalents (by dense BF16) of the GPUs the runs use, all runs."""
    tflops = {g.gpu_id: g.bf16_tflops for g in data.gpus}
    alloc = plan["RunGPUs"]
    return sum(
        float(n) * tflops.get(g, 0.0) / H100_BF16_TFLOPS
        for g, n in zip(alloc.gpu_id, alloc.gpus, strict=True)
    )


def _vintage_factor(data: PlanningData, plan: Plan) -> float:
    """How much dearer the runs' H100e-hours were at H100 price-performance (>= 1 if newer).

    The mean over the runs' GPUs of 2^((available_year - 2023) / 2.07), weighted by the
    H100e-hours each allocation gives (GPUs x bf16_tflops x the run's duration).
    """
    gpus = {g.gpu_id: g for g in data.gpus}
    days = {r.run_id: r.duration_days for r in data.runs}
    alloc = plan["RunGPUs"]
    weight = total = 0.0
    for r, g, n in zip(alloc.run_id, alloc.gpu_id, alloc.gpus, strict=True):
        if g not in gpus or r not in days:
            continue
        w = float(n) * gpus[g].bf16_tflops * days[r]
        years = (gpus[g].available_year - H100_YEAR) / PRICE_PERFORMANCE_DOUBLING_YEARS
        weight, total = weight + w, total + w * 2.0**years
    return total / weight if weight else 1.0


def _run_facility_mw(data: PlanningData, plan: Plan) -> float:
    """Facility MW the runs' GPUs draw (IT power x the site's PUE), all runs."""
    kw = {g.gpu_id: g.it_kw for g in data.gpus}
    pue: dict[str, float] = defaultdict(lambda: 1.0)
    pue.update(
        {str(s): float(p) for s, p in zip(plan["Sites"].site_id, plan["Sites"].pue, strict=True)}
    )
    alloc = plan["RunGPUs"]
    return sum(
        float(n) * kw.get(g, 0.0) / 1000.0 * pue[str(s)]
        for s, g, n in zip(alloc.site_id, alloc.gpu_id, alloc.gpus, strict=True)
    )
