"""A plan as tables: the sheets and columns of a plan workbook, and what they sum to.

The sheet and column names below are the plan's interface (``planner check``, pandas,
other tools read them back). Quantities are in workbook units: USD, MW, FLOP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

PLAN_COLUMNS: dict[str, list[str]] = {
    "Sites": [
        "site_id",
        "built_year",
        "cooling_id",
        "pue",
        "peak_it_mw",
        "peak_facility_mw",
        "name",
        "country",
        "it_capacity_mw",
    ],
    "SiteYears": [
        "site_id",
        "year",
        "it_added_mw",
        "it_capacity_mw",
        "it_load_mw",
        "facility_mw",
        "transformer_mva",
        # Only power through the grid needs transformers: the part transformer_mva carries.
        "grid_mw",
    ],
    "Power": [
        "site_id",
        "source_id",
        "year",
        "mw_added",
        "mw_total",
        "mwh",
        "energy_cost_usd",
        "mw_served",
    ],
    "Transformers": ["site_id", "transformer_id", "year", "units_added", "mva_total"],
    "GPUs": ["site_id", "gpu_id", "year", "purchased", "installed", "it_mw"],
    "Fiber": ["link_id", "site_a", "site_b", "built_year", "bandwidth_gbps", "capex_usd"],
    "Runs": [
        "run_id",
        "ready_year",
        "host_site",
        "sites",
        "gpus",
        "flop_required",
        "flop_delivered",
        "multi_site",
        "cost_usd",
        "gpu_hours",
        "h100e_hours",
        "cost_usd_per_gpu_hour",
        "cost_usd_per_1e24_flop",
    ],
    "RunGPUs": ["run_id", "site_id", "gpu_id", "gpus", "flop_delivered"],
    "FiberFlows": ["run_id", "link_id", "from_site", "to_site", "gbps"],
    "Costs": ["year", "category", "nominal_usd", "discounted_usd"],
    "Emissions": ["site_id", "source_id", "year", "mwh", "co2_t_per_mwh", "co2_t"],
}


# Cost categories named ``*_capex`` are capital spending; the others are operating.
CAPEX_SUFFIX = "_capex"


@dataclass
class Plan:
    """Every table of a plan, plus the summary facts."""

    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, sheet: str) -> pd.DataFrame:
        return self.tables[sheet]


def cost_split(costs: pd.DataFrame) -> dict[str, float]:
    """Undiscounted capex and opex, and the discounted total (USD)."""
    capex_rows = costs.category.astype(str).str.endswith(CAPEX_SUFFIX)
    capex = costs[capex_rows].nominal_usd.sum()
    opex = costs[~capex_rows].nominal_usd.sum()
    return {
        "capex_usd": float(capex),
        "opex_usd": float(opex),
        "discounted_total_usd": float(costs.discounted_usd.sum()),
    }
