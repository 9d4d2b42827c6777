"""Sites and cooling: IT capacity built over the years, one cooling design per site.

Shared quantities added (``models.linear.Quantity``): ``m.it_capacity_mw[s, y]``,
``m.facility_mw[s, y]`` and ``m.it_load_total_mw[s, y]``,
and cost components ``site_capex``, ``site_om``.

Notation in the docstrings below: ``M_s`` is a site's ``max_it_mw``, ``pue_c`` the PUE
of cooling design c, ``b`` a build year.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from models.costs import add_capex, add_cost
from models.linear import Term, linear, quantity
from models.sets import MUSD, ModelData

SiteBuild = tuple[str, str, int]  # (site, cooling design, year)


@dataclass(frozen=True)
class _SiteIndex:
    """Index data the site constraint families share, computed once from ``ModelData``."""

    sc: list[tuple[str, str]]  # (site, cooling design) pairs
    build: list[SiteBuild]  # years from the site's earliest year on
    chosen: list[tuple[str, str]]  # pairs of sites with more than one design to choose
    by_site_cooling: dict[tuple[str, str], list[int]]  # (site, design) -> build years
    adds_by_site: dict[str, list[SiteBuild]]  # site -> its builds


def add_sites(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Variables and constraints of sites and cooling designs."""
    ix = _site_index(d)
    _add_site_sets(m, d, ix)
    _add_site_vars(m, d, ix)
    _add_site_quantities(m, d, ix)
    _add_site_capacity(m, d, ix)
    _add_site_cooling(m, d, ix)
    _add_site_costs(m, d, ix)


def _site_index(d: ModelData) -> _SiteIndex:
    """The sparse (site, cooling, year) builds and their groupings."""
    sc = [(s, c) for s in d.sites for c in d.cooling[s]]
    build = [(s, c, y) for s, c in sc for y in d.years if y >= d.site(s).earliest_year]
    by_site_cooling: dict[tuple[str, str], list[int]] = {}
    adds_by_site: dict[str, list[SiteBuild]] = {}
    for s, c, y in build:
        by_site_cooling.setdefault((s, c), []).append(y)
        adds_by_site.setdefault(s, []).append((s, c, y))
    return _SiteIndex(
        sc=sc,
        build=build,
        chosen=[(s, c) for s, c in sc if len(d.cooling[s]) > 1],
        by_site_cooling=by_site_cooling,
        adds_by_site=adds_by_site,
    )


def _add_site_sets(m: pyo.ConcreteModel, d: ModelData, ix: _SiteIndex) -> None:
    """SITE_COOLING (s,c), SITE_BUILD (s,c,y), SITE_YEAR (s,y), SITE_COOLING_YEAR (s,c,y)."""
    m.SITE_COOLING = pyo.Set(initialize=ix.sc, dimen=2, ordered=True)
    m.SITE_BUILD = pyo.Set(initialize=ix.build, dimen=3, ordered=True)
    m.SITE_YEAR = pyo.Set(initialize=[(s, y) for s in d.sites for y in d.years], dimen=2)
    m.SITE_COOLING_YEAR = pyo.Set(
        initialize=[(s, c, y) for s, c in ix.sc for y in d.years], dimen=3, ordered=True
    )


def _add_site_vars(m: pyo.ConcreteModel, d: ModelData, ix: _SiteIndex) -> None:
    """it_capacity_add[s,c,y] in [0, M_s] (MW), binary cooling_chosen[s,c] over
    COOLING_CHOICE, it_load_mw[s,c,y] in [0, M_s] (MW)."""
    # it_capacity_add[s,c,y]: MW of IT capacity with cooling c brought online in year y.
    m.it_capacity_add = pyo.Var(
        m.SITE_BUILD,
        within=pyo.NonNegativeReals,
        bounds=lambda _m, s, c, y: (0, d.site(s).max_it_mw),
    )
    # A site with a single design needs no choice variable.
    m.COOLING_CHOICE = pyo.Set(initialize=ix.chosen, dimen=2, ordered=True)
    m.cooling_chosen = pyo.Var(m.COOLING_CHOICE, within=pyo.Binary)
    # it_load_mw[s,c,y]: IT load served under cooling design c (only one design is used).
    m.it_load_mw = pyo.Var(
        m.SITE_COOLING_YEAR,
        within=pyo.NonNegativeReals,
        bounds=lambda _m, s, c, y: (0, d.site(s).max_it_mw),
    )


def _add_site_quantities(m: pyo.ConcreteModel, d: ModelData, ix: _SiteIndex) -> None:
    """Shared quantities per (s, y):

    it_capacity_mw[s,y]    = sum_c sum_{b <= y} it_capacity_add[s,c,b]
    facility_mw[s,y]       = sum_c pue_c * it_load_mw[s,c,y]
    it_load_total_mw[s,y]  = sum_c it_load_mw[s,c,y]
    """
    # Plain dicts: rules index them for every term, and Pyomo's __getitem__ is slower.
    add = dict(m.it_capacity_add.items())
    load = dict(m.it_load_mw.items())

    def capacity(s: str, c: str, y: int) -> list[Term]:
        return [(1.0, add[s, c, b]) for b in ix.by_site_cooling.get((s, c), ()) if b <= y]

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


def _add_site_capacity(m: pyo.ConcreteModel, d: ModelData, ix: _SiteIndex) -> None:
    """site_it_capacity[s,c,y]:  it_load_mw[s,c,y] - sum_{b <= y} it_capacity_add[s,c,b]  <=  0
                                 (it_load_mw[s,c,y] == 0 if c is never built at s)
    site_max_it[s]:              sum_{c,y} it_capacity_add[s,c,y]  <=  M_s
    """
    add = dict(m.it_capacity_add.items())
    load = dict(m.it_load_mw.items())
    by_site_cooling = ix.by_site_cooling
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
        sorted(ix.adds_by_site),
        rule=lambda _m, s: (
            sum(m.it_capacity_add[k] for k in ix.adds_by_site[s]) <= d.site(s).max_it_mw
        ),
        doc="Total IT capacity built at a site stays within max_it_mw (MW)",
    )


def _add_site_cooling(m: pyo.ConcreteModel, d: ModelData, ix: _SiteIndex) -> None:
    """For sites with several cooling designs:

    site_cooling_one[s]:        sum_c cooling_chosen[s,c]  ==  1
    site_cooling_capacity[s,c]: sum_y it_capacity_add[s,c,y]  <=  M_s * cooling_chosen[s,c]
    """
    m.site_cooling_one = pyo.Constraint(
        sorted({s for s, _ in ix.chosen}),
        rule=lambda _m, s: sum(m.cooling_chosen[s, c] for c in d.cooling[s]) == 1,
        doc="A site with cooling options uses exactly one",
    )
    m.site_cooling_capacity = pyo.Constraint(
        m.COOLING_CHOICE,
        rule=lambda _m, s, c: (
            sum(m.it_capacity_add[s, c, y] for y in ix.by_site_cooling.get((s, c), ()))
            <= d.site(s).max_it_mw * m.cooling_chosen[s, c]
        ),
        doc="Capacity is built only with the chosen cooling design (MW)",
    )


def _add_site_costs(m: pyo.ConcreteModel, d: ModelData, ix: _SiteIndex) -> None:
    """Costs ``site_capex`` ((shell_s + cooling_c capex per MW) * it_capacity_add[s,c,y],
    online in y, life ``facility_life_years``) and ``site_om`` (every year: om_s *
    it_capacity_mw[s,y]), MUSD.
    """
    life = d.inputs.settings.facility_life_years
    for s, c, y in ix.build:
        opt = d.cooling[s][c]
        rate = d.site(s).shell_capex_usd_per_mw + opt.capex_usd_per_mw
        add_capex(m, d, "site_capex", (y, life), rate / MUSD, m.it_capacity_add[s, c, y], (s, ""))
    for s in d.sites:
        om = d.site(s).om_usd_per_mw_year / MUSD
        if om:
            for y in d.years:
                add_cost(m, "site_om", y, om, m.it_capacity_mw[s, y], (s, ""))
