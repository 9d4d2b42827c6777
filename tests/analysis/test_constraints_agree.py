"""Every Constraints row's ``used`` is what the plan's own sheets say (issue 14): read
back independently from the plan tables, family by family."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from planner import api
from planner.api import PlanResult
from planner.inputs.data import PlanningData
from planner.inputs.schema import gpu_use

REFERENCE = Path(__file__).resolve().parents[2] / "inputs" / "reference.xlsx"
Reader = Callable[[PlanningData, PlanResult, list[str]], float]


def _plan(res: PlanResult, sheet: str) -> pd.DataFrame:
    assert res.plan is not None
    return res.plan[sheet]


def _run_flop(d: PlanningData, res: PlanResult, words: list[str]) -> float:
    runs = _plan(res, "Runs")
    return float(runs[runs.run_id == words[0]].flop_delivered.sum())


def _power_max(d: PlanningData, res: PlanResult, words: list[str]) -> float:
    power = _plan(res, "Power")
    rows = power[(power.site_id == words[0]) & (power.source_id == words[1])]
    return float(rows.mw_total.max())


def _grid_mva(d: PlanningData, res: PlanResult, words: list[str]) -> float:
    grid = {p.source_id for p in d.power_sources if p.via_grid}
    power = _plan(res, "Power")
    rows = power[
        (power.site_id == words[0]) & (power.year == int(words[1])) & power.source_id.isin(grid)
    ]
    return float(rows.mw_served.sum()) / d.settings.power_factor


def _bought(d: PlanningData, res: PlanResult, words: list[str]) -> float:
    """Purchases' use of a resource in a year, at a country's sites when named."""
    resource, year = words[0], int(words[-1])
    country = " ".join(words[1:-1])
    where = {s.site_id: s.country for s in d.sites}
    gpus = {g.gpu_id: g for g in d.gpus}
    bought = _plan(res, "GPUs")
    bought = bought[bought.year == year]
    return sum(
        float(n) * gpu_use(gpus[g], resource, d.materials)
        for s, g, n in zip(bought.site_id, bought.gpu_id, bought.purchased, strict=True)
        if not country or where[s] == country
    )


def _units(d: PlanningData, res: PlanResult, words: list[str]) -> float:
    xf = _plan(res, "Transformers")
    return float(xf[xf.year == int(words[-1])].units_added.sum())


def _it_built(d: PlanningData, res: PlanResult, words: list[str]) -> float:
    years = _plan(res, "SiteYears")
    return float(years[years.site_id == words[0]].it_capacity_mw.max())


READERS: dict[str, Reader] = {
    "run_flop": _run_flop,
    "power_max_mw": _power_max,
    "transformer_capacity": _grid_mva,
    "compute_gpu_supply": _bought,
    "compute_cowos_supply": _bought,
    "compute_hbm_supply": _bought,
    "supply_cap": _bought,
    "transformer_supply": _units,
    "site_max_it": _it_built,
}


def scarce_rubin(data: PlanningData) -> PlanningData:
    """The reference with a fifth of its VR200 supply: supply rows bind too."""
    return dataclasses.replace(
        data,
        supply=[
            s.model_copy(update={"capacity": s.capacity / 5}) if s.resource == "gpu:VR200" else s
            for s in data.supply
        ],
    )


@pytest.mark.parametrize("variant", ["reference", "scarce-rubin"])
def test_every_constraints_row_reads_what_the_plan_sheets_say(variant: str) -> None:
    data = api.load(REFERENCE)
    data = scarce_rubin(data) if variant == "scarce-rubin" else data
    res = api.plan(data)
    assert res.status == "optimal"
    table = res.extra_sheets["Constraints"]
    assert len(table) >= 3
    for r in table.itertuples():
        assert r.family in READERS, f"no independent reading for {r.family}: add one"
        read = READERS[r.family](data, res, str(r.instance).split())
        assert r.used == pytest.approx(read, rel=1e-6, abs=1e-6), r
