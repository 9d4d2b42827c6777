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


ANCHORS: tuple[Anchor, ...] = (
    Anchor(
        "cost_per_h100e_hour_used_usd",
        "USD per H100-equivalent GPU-hour",
        1.70,
        "SemiAnalysis (D. Patel) via the seed: natural cost of an H100-hour incl. capital, 2024",
        "GPU prices per FLOP (newer GPUs give more H100e per USD), capex_accounting",
    ),
    Anchor(
        "energy_share_of_cost",
        "fraction of nominal cost",
        0.06,
        "Epoch AI, 'The rising costs of training frontier AI models' (2024): energy 2-6 % "
        "of amortised hardware and energy cost",
        "energy prices, idle_gpus_draw_power, capex_accounting",
    ),
    Anchor(
        "power_share_of_cost",
        "fraction of nominal cost",
        0.12,
        "SemiAnalysis AI cloud TCO model (2024): power and electrical ~10-15 % of cluster TCO",
        "on-site generation capex, energy prices",
    ),
    Anchor(
        "capex_per_gw_it_usd",
        "USD per GW of IT capacity",
        50e9 * 1.2,
        "NVIDIA FY2026 Q2 call (Aug 2025): 50-60 B USD per GW of AI factory, incl. compute; "
        "x PUE 1.2 per GW of IT (derived)",
        "GPU prices, capacity built ahead of later runs",
    ),
    Anchor(
        "capex_per_gw_facility_usd",
        "USD per GW of facility power",
        50e9,
        "NVIDIA FY2026 Q2 call (Aug 2025): 50-60 B USD per GW of AI factory, incl. compute",
        "GPU prices, PUE, capacity built ahead of later runs",
    ),
    Anchor(
        "facility_mw_per_1000_gpus",
        "MW of facility power per 1,000 GPUs",
        1.5,
        "Epoch AI / SemiAnalysis: xAI Colossus, 100k H100 at ~150 MW (2024)",
        "GPU generation (B200/GB200 draw 1.6-2 kW), PUE",
    ),
    Anchor(
        "peak_flops_per_facility_mw",
        "dense BF16 FLOP/s per MW of facility power",
        100_000 * H100_BF16_TFLOPS * 1e12 / 150.0,
        "derived: 100k H100 x 989 TFLOP/s over Colossus' ~150 MW (Epoch AI, 2024)",
        "GPU generation: Blackwell gives ~1.5-2x the FLOP/s per MW of H100",
    ),
    Anchor(
        "h100e_per_1e27_flop",
        "H100-equivalents per 1e27 FLOP of run target",
        1e27 / (H100_BF16_TFLOPS * 1e12 * 0.4 * 120 * 86400.0),
        "derived: 1e27 FLOP / (989 TFLOP/s x MFU 0.4 x 120 days)",
        "run durations and MFU in Runs",
    ),
    Anchor(
        "mw_per_1e27_flop",
        "MW of facility power per 1e27 FLOP of run target",
        1e27 / (H100_BF16_TFLOPS * 1e12 * 0.4 * 120 * 86400.0) * 1.5 / 1000.0,
        "derived: h100e_per_1e27_flop x 1.5 MW per 1,000 H100 (Colossus)",
        "run durations, MFU, GPU generation, PUE",
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
