"""Sites and cooling: IT capacity built over the years, one cooling design per site.

Shared quantities added (``models.linear.Quantity``): ``m.it_capacity_mw[s, y]``,
``m.facility_mw[s, y]`` and ``m.it_load_total_mw[s, y]``,
and cost components ``site_capex``, ``site_om``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from models.costs import add_cost
from models.linear import Term, linear, quantity
from models.sets import MUSD, ModelData


def add_sites(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Variables and constraints of sites and cooling designs."""
    sc = [(s, c) for s in d.sites for c in d.cooling[s]]
    build = [(s, c, y) for s, c in sc for y in d.years if y >= d.site(s).earliest_year]
    m.SITE_COOLING = pyo.Set(initialize=sc, dimen=2, ordered=True)
    m.SITE_BUILD = pyo.Set(initialize=build, dimen=3, ordered=True)
    m.SITE_YEAR = pyo.Set(initialize=[(s, y) for s in d.sites for y in d.years], dimen=2)
    m.SITE_COOLING_YEAR = pyo.Set(
        initialize=[(s, c, y) for s, c in sc for y in d.years], dimen=3, ordered=True
    )

    # it_capacity_add[s,c,y]: MW of IT capacity with cooling c brought online in year y.
    m.it_capacity_add = pyo.Var(
        m.SITE_BUILD,
        within=pyo.NonNegativeReals,
        bounds=lambda _m, s, c, y: (0, d.site(s).max_it_mw),
    )
    chosen = [(s, c) for s, c in sc if len(d.cooling[s]) > 1]
    m.COOLING_CHOICE = pyo.Set(initialize=chosen, dimen=2, ordered=True)
    m.cooling_chosen = pyo.Var(m.COOLING_CHOICE, within=pyo.Binary)
    # it_load_mw[s,c,y]: IT load served under cooling design c (only one design is used).
    m.it_load_mw = pyo.Var(
        m.SITE_COOLING_YEAR,
        within=pyo.NonNegativeReals,
        bounds=lambda _m, s, c, y: (0, d.site(s).max_it_mw),
    )

    by_site_cooling: dict[tuple[str, str], list[int]] = {}
    adds_by_site: dict[str, list[tuple[str, str, int]]] = {}
    for s, c, y in build:
        by_site_cooling.setdefault((s, c), []).append(y)
        adds_by_site.setdefault(s, []).append((s, c, y))

    add = dict(m.it_capacity_add.items())
    load = dict(m.it_load_mw.items())

    def capacity(s: str, c: str, y: int) -> list[Term]:
        return [(1.0, add[s, c, b]) for b in by_site_cooling.get((s, c), ()) if b <= y]

    site_years = [(s, y) for s in d.sites for y in d.years]
    m.it_capacity_mw = quantity(
        site_years, lambda s, y: [t for c in d.cooling[s] for t in capacity(s, c, y)]
    )
    m.facility_mw = quantity(
        site_years, lambda s, y: [(opt.pue, load[s, c, y]) for c, opt in d.cooling[s].items()]
    )
    m.it_load_total_mw = quantity(
        site_years, lambda s, y: [(1.0, load[s, c, y]) for c in d.cooling[s]]
    )

    m.site_it_capacity = pyo.Constraint(
        m.SITE_COOLING_YEAR,
        rule=lambda _m, s, c, y: (
            linear(
                [(1, load[s, c, y])]
                + [(-1, add[s, c, b]) for b in by_site_cooling[(s, c)] if b <= y]
            )
            <= 0
            if (s, c) in by_site_cooling
            else load[s, c, y] == 0
        ),
        doc="IT load under a cooling design never exceeds the capacity built with it (MW)",
    )
    m.site_max_it = pyo.Constraint(
        sorted(adds_by_site),
        rule=lambda _m, s: (
            sum(m.it_capacity_add[k] for k in adds_by_site[s]) <= d.site(s).max_it_mw
        ),
        doc="Total IT capacity built at a site stays within max_it_mw (MW)",
    )
    m.site_cooling_one = pyo.Constraint(
        sorted({s for s, _ in chosen}),
        rule=lambda _m, s: sum(m.cooling_chosen[s, c] for c in d.cooling[s]) == 1,
        doc="A site with cooling options uses exactly one",
    )
    m.site_cooling_capacity = pyo.Constraint(
        m.COOLING_CHOICE,
        rule=lambda _m, s, c: (
            sum(m.it_capacity_add[s, c, y] for y in by_site_cooling.get((s, c), ()))
            <= d.site(s).max_it_mw * m.cooling_chosen[s, c]
        ),
        doc="Capacity is built only with the chosen cooling design (MW)",
    )

    for s, c, y in build:
        opt = d.cooling[s][c]
        rate = d.site(s).shell_capex_usd_per_mw + opt.capex_usd_per_mw
        add_cost(m, "site_capex", y, rate / MUSD, m.it_capacity_add[s, c, y])
    for s in d.sites:
        om = d.site(s).om_usd_per_mw_year / MUSD
        if om:
            for y in d.years:
                add_cost(m, "site_om", y, om, m.it_capacity_mw[s, y])
