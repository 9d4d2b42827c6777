"""Read a solved Pyomo model into plan tables (workbook units: USD, MW, FLOP).

The tables and their columns are ``planner.results.tables``; this is the only place that
reads them off the model, so the results layer never sees Pyomo.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyomo.environ as pyo

from models.costs import COST_CATEGORIES
from models.linear import Terms, value_of
from models.network import GBPS_PER_TBPS
from models.sets import FLOP_UNIT, HOURS_PER_YEAR, MUSD, ModelData
from planner.results.tables import PLAN_COLUMNS, Plan
from planner.solving.attribution import run_costs, value_left_usd

TOL = 1e-7


def _v(x: Any) -> float:
    """Solved value of a variable, expression or ``models.linear.Terms``; tiny is 0."""
    val = value_of(x) if isinstance(x, Terms) else pyo.value(x, exception=False)
    return 0.0 if val is None or abs(val) < TOL else float(val)


def _count(x: Any) -> int:
    return int(round(_v(x)))


def extract_plan(m: pyo.ConcreteModel, d: ModelData) -> Plan:
    """Read a solved model into plan tables (workbook units)."""
    tables: dict[str, pd.DataFrame] = {"GPUs": _gpus_table(m, d)}
    site_years = _site_years(m, d)
    units_added = _transformer_units(m)
    used = _used_sites(m, site_years, units_added)
    tables["SiteYears"] = pd.DataFrame(
        [r for r in site_years if r[0] in used], columns=PLAN_COLUMNS["SiteYears"]
    )
    tables["Sites"] = _sites_table(m, d, tables["SiteYears"])
    tables["Power"] = _power_table(m, d, used)
    tables["Emissions"] = _emissions_table(d, tables["Power"])
    tables["Transformers"] = _transformers_table(m, units_added)
    tables["Fiber"] = _fiber_table(m, d)
    tables["FiberFlows"] = _flows_table(m, d)
    tables["Costs"] = _costs_table(m, d)
    tables["RunGPUs"], tables["Runs"] = _run_tables(m, d)
    return Plan(tables=tables, summary=_economics(m, tables))


def _gpus_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    """GPUs bought and installed per site, type and year (fleet rows with neither are
    left out), with the IT MW the installed ones draw."""
    gpu_rows = [
        (
            s,
            g,
            y,
            _count(m.gpus_bought[s, g, y]) if (s, g, y) in m.gpus_bought else 0,
            _count(m.gpus_installed[s, g, y]),
        )
        for s, g, y in m.GPU_FLEET
    ]
    return pd.DataFrame(
        [(s, g, y, b, i, i * d.gpu(g).it_kw / 1000.0) for s, g, y, b, i in gpu_rows if b or i],
        columns=PLAN_COLUMNS["GPUs"],
    )


def _site_years(m: pyo.ConcreteModel, d: ModelData) -> list[tuple[Any, ...]]:
    """One SiteYears row per candidate site and year (sites in input order): IT added,
    IT capacity, IT load, facility MW, transformer MVA, and the MW served through the grid
    (the part the transformers carry). Untouched sites are dropped
    later, once every table that can touch a site has been read."""
    grid: dict[str, list[str]] = {}
    for s, p in d.site_power:
        if d.source(p).via_grid:
            grid.setdefault(s, []).append(p)
    rows = []
    for s in d.sites:
        for y in d.years:
            added = sum(
                _v(m.it_capacity_add[s, c, y])
                for c in d.cooling[s]
                if (s, c, y) in m.it_capacity_add
            )
            # Only grid sites have an MVA variable; elsewhere the existing rating stands.
            mva = (
                _v(m.transformer_mva[s, y])
                if (s, y) in m.GRID_SITE_YEAR
                else d.site(s).existing_transformer_mva
            )
            rows.append(
                (
                    s,
                    y,
                    added,
                    _v(m.it_capacity_mw[s, y]),
                    _v(m.it_load_total_mw[s, y]),
                    _v(m.facility_mw[s, y]),
                    mva,
                    sum(_v(m.power_served_mw[s, p, y]) for p in grid.get(s, ())),
                )
            )
    return rows


def _transformer_units(m: pyo.ConcreteModel) -> list[tuple[str, str, int, int]]:
    """(site, transformer type, year, units) for every transformer purchase made."""
    return [
        (s, t, y, n) for s, t, y in m.TRANSFORMER_BUILD if (n := _count(m.transformer_add[s, t, y]))
    ]


def _used_sites(
    m: pyo.ConcreteModel,
    site_years: list[tuple[Any, ...]],
    units_added: list[tuple[str, str, int, int]],
) -> set[str]:
    """Sites the plan touches: IT added or standing, facility power, power added, or
    transformers bought.

    Candidate sites the plan leaves untouched get no SiteYears or Power rows: on a
    1,000-site portfolio they would be 95 % of the file."""
    return (
        {r[0] for r in site_years if r[2] > 1e-6 or r[3] > 1e-6 or r[5] > 1e-6}
        | {k[0] for k in m.POWER_BUILD if _v(m.power_add_mw[k]) > 1e-6}
        | {k[0] for k in units_added}
    )


def _power_table(m: pyo.ConcreteModel, d: ModelData, used: set[str]) -> pd.DataFrame:
    """Power per used site, source and year: MW added, capacity, MWh served, energy cost
    (at the site's own price when SitePower gives one), MW served."""
    hours = d.inputs.settings.avg_power_fraction * HOURS_PER_YEAR
    power = []
    for s, p in d.site_power:
        if s not in used:
            continue
        row, src = d.site_power_row(s, p), d.source(p)
        price = (
            row.energy_usd_per_mwh if row.energy_usd_per_mwh is not None else src.energy_usd_per_mwh
        )
        for y in d.years:
            added = _v(m.power_add_mw[s, p, y]) if (s, p, y) in m.power_add_mw else 0.0
            served = _v(m.power_served_mw[s, p, y])
            power.append(
                (
                    s,
                    p,
                    y,
                    added,
                    _v(m.power_capacity_mw[s, p, y]),
                    served * hours,
                    served * hours * price,
                    served,
                )
            )
    return pd.DataFrame(power, columns=PLAN_COLUMNS["Power"])


def _emissions_table(d: ModelData, power: pd.DataFrame) -> pd.DataFrame:
    """t CO2 per site, source and year: the energy served (as the energy cost reads it)
    times the source's co2_t_per_mwh."""
    rows = [
        (s, p, y, mwh, d.source(p).co2_t_per_mwh, mwh * d.source(p).co2_t_per_mwh)
        for s, p, y, mwh in zip(power.site_id, power.source_id, power.year, power.mwh, strict=True)
        if mwh > 0
    ]
    return pd.DataFrame(rows, columns=PLAN_COLUMNS["Emissions"])


def _transformers_table(
    m: pyo.ConcreteModel, units_added: list[tuple[str, str, int, int]]
) -> pd.DataFrame:
    """Each transformer purchase with the site's total MVA in that year."""
    xf = [(s, t, y, n, _v(m.transformer_mva[s, y])) for s, t, y, n in units_added]
    return pd.DataFrame(xf, columns=PLAN_COLUMNS["Transformers"])


def _fiber_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    """Each fiber link built, in the year it is built, with its ends, bandwidth, capex."""
    fiber = [
        (
            lk,
            d.link(lk).site_a,
            d.link(lk).site_b,
            y,
            d.link(lk).bandwidth_gbps,
            d.link(lk).capex_usd,
        )
        for lk, y in m.LINK_BUILD
        if _count(m.link_built[lk, y])
    ]
    return pd.DataFrame(fiber, columns=PLAN_COLUMNS["Fiber"])


def _flows_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    """Net traffic per run and link: flows carry no cost, so the two directions are
    netted (conservation holds for the net flow) and only real traffic is reported."""
    net: dict[tuple[str, str], float] = {}
    for r, lk, dr in m.RUN_ARC:
        sign = 1.0 if dr == "ab" else -1.0
        gbps = _v(m.link_flow_tbps[r, lk, dr]) * GBPS_PER_TBPS
        net[(r, lk)] = net.get((r, lk), 0.0) + sign * gbps
    rows = []
    for (r, lk), gbps in net.items():
        a, b = _ends(d, lk)
        if abs(gbps) > 1e-6:
            rows.append((r, lk, a, b, gbps) if gbps > 0 else (r, lk, b, a, -gbps))
    return pd.DataFrame(rows, columns=PLAN_COLUMNS["FiberFlows"])


def _ends(d: ModelData, lk: str) -> tuple[str, str]:
    return d.link(lk).site_a, d.link(lk).site_b


PEAK_COLUMNS = ("it_load_mw", "facility_mw", "it_capacity_mw")


def _sites_table(m: pyo.ConcreteModel, d: ModelData, site_years: pd.DataFrame) -> pd.DataFrame:
    """Every candidate site; the ones the plan leaves untouched have no built_year."""
    peaks = site_years.groupby("site_id")[list(PEAK_COLUMNS)].max().to_dict("index")
    first = site_years[site_years.it_capacity_mw > 1e-6].groupby("site_id").year.min()
    rows = []
    for s in d.sites:
        built_year = int(first[s]) if s in first.index else None
        options = d.cooling[s]
        if len(options) == 1:
            cooling_id = next(iter(options))
        else:
            cooling_id = max(options, key=lambda c: _v(m.cooling_chosen[s, c]))
        site = d.site(s)
        load, facility, capacity = (
            [float(peaks[s][c]) for c in PEAK_COLUMNS] if s in peaks else [0.0] * 3
        )
        rows.append(
            (
                s,
                built_year,
                cooling_id if built_year else None,
                options[cooling_id].pue,
                load,
                facility,
                site.name,
                site.country,
                capacity,
            )
        )
    return pd.DataFrame(rows, columns=PLAN_COLUMNS["Sites"])


def _costs_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    rows = []
    for y in d.years:
        for c in COST_CATEGORIES:
            nominal = _v(m.cost_nominal[c, y]) * MUSD
            if nominal:
                rows.append((y, c, nominal, nominal * d.discount[y]))
    return pd.DataFrame(rows, columns=PLAN_COLUMNS["Costs"])


def _economics(m: pyo.ConcreteModel, tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """What the runs cost, what no run uses, and the value left at end_year (USD)."""
    runs, costs, co2 = tables["Runs"], tables["Costs"], tables["Emissions"]
    tonnes = float(co2.co2_t.sum()) if len(co2) else 0.0
    flop = float(runs.flop_delivered.sum()) / FLOP_UNIT if len(runs) else 0.0
    nominal = float(costs.nominal_usd.sum()) if len(costs) else 0.0
    used = float(runs.cost_usd.sum()) if len(runs) else 0.0
    hours = float(runs.h100e_hours.sum()) if len(runs) else 0.0
    return {
        "runs_cost_usd": used,
        "unused_cost_usd": nominal - used,
        "value_left_usd": value_left_usd(m),
        "cost_per_h100e_hour_used_usd": used / hours if hours else 0.0,
        "co2_mt": tonnes / 1e6,
        "co2_t_per_1e24_flop": tonnes / flop if flop else 0.0,
    }


def _run_tables(m: pyo.ConcreteModel, d: ModelData) -> tuple[pd.DataFrame, pd.DataFrame]:
    eff = d.inputs.settings.multi_site_efficiency
    alloc, runs = [], []
    for r in d.run_gpus:
        run = d.run(r)
        multi = r in d.multi_runs and (r in m.run_multi) and _count(m.run_multi[r]) == 1
        factor = eff if multi else 1.0
        var = m.gpus_multi if multi else m.gpus_single
        used = []
        for s, g in d.run_gpus[r]:
            if (r, s, g) not in var:
                continue
            n = _v(var[r, s, g])
            if n > 1e-6:
                used.append((r, s, g, n, n * d.flop_per_gpu(r, g) * factor * FLOP_UNIT))
        alloc.extend(used)
        host = next(
            (s for s, g in d.run_gpus[r] if (r, s) in m.run_host and _count(m.run_host[r, s])), None
        )
        sites = sorted({s for _, s, *_ in used} | ({host} if host else set()))
        delivered = sum(u[4] for u in used)
        runs.append(
            (
                r,
                run.ready_year,
                host,
                ", ".join(sites),
                sum(u[3] for u in used),
                run.flop,
                delivered,
                multi,
            )
        )
    alloc_df = pd.DataFrame(alloc, columns=PLAN_COLUMNS["RunGPUs"])
    return alloc_df, _with_run_costs(m, d, alloc_df, runs)


def _with_run_costs(
    m: pyo.ConcreteModel, d: ModelData, alloc: pd.DataFrame, runs: list[tuple[Any, ...]]
) -> pd.DataFrame:
    """The Runs table: each run's facts, then its cost (``planner.solving.attribution``)."""
    costs = run_costs(m, d, alloc)
    rows = []
    for row in runs:
        r = row[0]
        usd = costs.usd.get(r, 0.0)
        hours = costs.gpu_hours.get(r, 0.0)
        rows.append(
            (
                *row,
                usd,
                hours,
                costs.h100e_hours.get(r, 0.0),
                usd / hours if hours else 0.0,
                usd / (d.run(r).flop / FLOP_UNIT),
            )
        )
    return pd.DataFrame(rows, columns=PLAN_COLUMNS["Runs"])
