"""Power and transformers: firm capacity covers facility power; grid power passes
through transformers, which are added in whole units under a yearly supply cap.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

import pyomo.environ as pyo

from models.costs import add_capex, add_cost
from models.linear import Terms, linear, quantity
from models.sets import HOURS_PER_YEAR, MUSD, ModelData


def add_power(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Power capacity by source, the share each serves, and their costs."""
    builds: dict[tuple[str, str], list[int]] = defaultdict(list)
    for s, p, y in d.power_build:
        builds[(s, p)].append(y)
    sources_at: dict[str, list[str]] = defaultdict(list)
    for s, p in d.site_power:
        sources_at[s].append(p)

    m.POWER_BUILD = pyo.Set(initialize=d.power_build, dimen=3, ordered=True)
    m.SITE_SOURCE_YEAR = pyo.Set(
        initialize=[(s, p, y) for s, p in d.site_power for y in d.years], dimen=3, ordered=True
    )
    m.power_add_mw = pyo.Var(
        m.POWER_BUILD,
        within=pyo.NonNegativeReals,
        bounds=lambda _m, s, p, y: (0, _room(d, s, p)),
    )
    m.power_served_mw = pyo.Var(m.SITE_SOURCE_YEAR, within=pyo.NonNegativeReals)

    add = dict(m.power_add_mw.items())

    def new_mw(s: str, p: str, y: int) -> Terms:
        return Terms((1.0, add[s, p, b]) for b in builds.get((s, p), ()) if b <= y)

    m.power_capacity_mw = quantity(
        m.SITE_SOURCE_YEAR,
        lambda s, p, y: [(1.0, d.site_power_row(s, p).existing_mw), *new_mw(s, p, y)],
    )
    m.power_firm = pyo.Constraint(
        m.SITE_SOURCE_YEAR,
        rule=lambda _m, s, p, y: (
            linear(
                [
                    (1, m.power_served_mw[s, p, y]),
                    (-d.source(p).firm_fraction, m.power_capacity_mw[s, p, y]),
                ]
            )
            <= 0
        ),
        doc="A source serves at most its firm capacity (MW)",
    )
    m.power_max_mw = pyo.Constraint(
        sorted(builds),
        rule=lambda _m, s, p: (
            sum(m.power_add_mw[s, p, y] for y in builds[(s, p)]) <= _room(d, s, p)
        ),
        doc="Capacity never exceeds SitePower.max_mw, existing included (MW)",
    )
    m.power_balance = pyo.Constraint(
        m.SITE_YEAR,
        rule=lambda _m, s, y: (
            linear(
                [(1, m.power_served_mw[s, p, y]) for p in sources_at.get(s, ())]
                + [(-1, m.facility_mw[s, y])]
            )
            == 0
        ),
        doc="Facility power is served by the site's sources (MW)",
    )

    _add_power_costs(m, d, builds, new_mw)


def _add_power_costs(
    m: pyo.ConcreteModel,
    d: ModelData,
    builds: dict[tuple[str, str], list[int]],
    new_mw: Callable[[str, str, int], Terms],
) -> None:
    """Costs per site and source: ``energy`` (served MW x h x price), ``carbon`` (served
    MW x h x co2_t_per_mwh x co2_price_usd_per_t), ``power_om`` (per MW of new capacity in
    service) and ``power_capex`` (per MW added, by ``add_capex``), MUSD; h =
    avg_power_fraction x 8,760."""
    st = d.inputs.settings
    hours = st.avg_power_fraction * HOURS_PER_YEAR
    for s, p in d.site_power:
        src, row = d.source(p), d.site_power_row(s, p)
        price = (
            row.energy_usd_per_mwh if row.energy_usd_per_mwh is not None else src.energy_usd_per_mwh
        )
        at = (s, "")
        carbon = st.co2_price_usd_per_t * src.co2_t_per_mwh * hours / MUSD
        for y in d.years:
            if price:
                add_cost(m, "energy", y, price * hours / MUSD, m.power_served_mw[s, p, y], at)
            if carbon:
                add_cost(m, "carbon", y, carbon, m.power_served_mw[s, p, y], at)
            if src.om_usd_per_mw_year:
                add_cost(m, "power_om", y, src.om_usd_per_mw_year / MUSD, new_mw(s, p, y), at)
        for y in builds.get((s, p), ()):
            if src.capex_usd_per_mw:
                rate = src.capex_usd_per_mw / MUSD
                add_capex(
                    m, d, "power_capex", (y, src.life_years), rate, m.power_add_mw[s, p, y], at
                )


def _room(d: ModelData, s: str, p: str) -> float:
    row = d.site_power_row(s, p)
    return max(0.0, row.max_mw - row.existing_mw)


def add_transformers(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Transformer units per site, grid power within transformer capacity."""
    st = d.inputs.settings
    units = {t.transformer_id: t for t in d.inputs.transformers}
    grid_sources = defaultdict(list)
    for s, p in d.site_power:
        if d.source(p).via_grid:
            grid_sources[s].append(p)

    def unit_bound(s: str, t: str) -> int:
        # Enough units to carry every grid source at its maximum, never more.
        grid_mw = sum(d.site_power_row(s, p).max_mw for p in grid_sources[s])
        return math.ceil(grid_mw / (st.power_factor * units[t].mva))

    m.TRANSFORMER_BUILD = pyo.Set(initialize=d.transformer_build, dimen=3, ordered=True)
    m.transformer_add = pyo.Var(
        m.TRANSFORMER_BUILD,
        within=pyo.NonNegativeIntegers,
        bounds=lambda _m, s, t, y: (0, unit_bound(s, t)),
    )
    by_site: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    by_year: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for k in d.transformer_build:
        by_site[k[0]].append(k)
        by_year[k[2]].append(k)

    m.GRID_SITE_YEAR = pyo.Set(
        initialize=[(s, y) for s in d.grid_sites for y in d.years], dimen=2, ordered=True
    )
    m.transformer_mva = quantity(
        m.GRID_SITE_YEAR,
        lambda s, y: (
            [(1.0, d.site(s).existing_transformer_mva)]
            + [(units[t].mva, m.transformer_add[s, t, b]) for (_, t, b) in by_site[s] if b <= y]
        ),
    )
    m.transformer_capacity = pyo.Constraint(
        m.GRID_SITE_YEAR,
        rule=lambda _m, s, y: (
            linear(
                [(1, m.power_served_mw[s, p, y]) for p in grid_sources[s]]
                + [(-st.power_factor, m.transformer_mva[s, y])]
            )
            <= 0
        ),
        doc="Grid power at a site fits its transformers x power_factor (MW)",
    )
    capped = [y for y in d.years if ("transformer_units", y) in d.supply and by_year.get(y)]
    m.transformer_supply = pyo.Constraint(
        capped,
        rule=lambda _m, y: (
            sum(m.transformer_add[k] for k in by_year[y]) <= d.supply[("transformer_units", y)]
        ),
        doc="Units added (online) per year within Supply transformer_units",
    )
    for s, t, y in d.transformer_build:
        if units[t].capex_usd:
            life = units[t].life_years or st.facility_life_years
            rate = units[t].capex_usd / MUSD
            add_capex(
                m, d, "transformer_capex", (y, life), rate, m.transformer_add[s, t, y], (s, "")
            )
