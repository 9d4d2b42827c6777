"""Sparse index sets and scaled constants derived from validated inputs.

Units seen by the solver: power in MW, money in millions of USD (``MUSD``), FLOP in
units of 1e24 (``FLOP_UNIT``), GPUs and transformer units as counts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from planner.inputs.data import PlanningData
from planner.inputs.schema import (
    FiberLinkRow,
    GpuRow,
    PowerSourceRow,
    RunRow,
    SitePowerRow,
    SiteRow,
    gpu_use,
)

MUSD = 1e6
FLOP_UNIT = 1e24
HOURS_PER_YEAR = 8760.0
SECONDS_PER_DAY = 86400.0
DEFAULT_COOLING = "default"


@dataclass(frozen=True)
class CoolingOption:
    pue: float
    capex_usd_per_mw: float


@dataclass
class ModelData:
    """What the ``add_*`` functions read: the inputs plus sparse sets built once."""

    inputs: PlanningData
    years: list[int]
    discount: dict[int, float]
    sites: list[str]
    cooling: dict[str, dict[str, CoolingOption]]
    site_power: list[tuple[str, str]]
    power_build: list[tuple[str, str, int]]
    grid_sites: list[str]
    transformer_build: list[tuple[str, str, int]]
    gpu_buy: list[tuple[str, str, int]]
    gpu_max_at_site: dict[tuple[str, str], int]
    supply: dict[tuple[str, int], float]
    runs_by_year: dict[int, list[str]]
    run_gpus: dict[str, list[tuple[str, str]]]
    multi_runs: list[str]
    link_build: list[tuple[str, int]]
    run_links: dict[str, list[str]] = field(default_factory=dict)
    site_it_mw: dict[str, float] = field(default_factory=dict)
    # Every Supply row in the horizon by (resource, country, year); "" = every site.
    supply_caps: dict[tuple[str, str, int], float] = field(default_factory=dict)
    # Runs whose FLOP is maximised (``models.frontier``): the most FLOP (1e24) each could
    # ever get, which replaces the target in every bound derived from it.
    run_ceiling: dict[str, float] = field(default_factory=dict)

    def site(self, site_id: str) -> SiteRow:
        return self._sites[site_id]

    def gpu(self, gpu_id: str) -> GpuRow:
        return self._gpus[gpu_id]

    def source(self, source_id: str) -> PowerSourceRow:
        return self._sources[source_id]

    def run(self, run_id: str) -> RunRow:
        return self._runs[run_id]

    def link(self, link_id: str) -> FiberLinkRow:
        return self._links[link_id]

    def site_power_row(self, site_id: str, source_id: str) -> SitePowerRow:
        return self._site_power[(site_id, source_id)]

    def flop_per_gpu(self, run_id: str, gpu_id: str) -> float:
        """FLOP one GPU delivers over a run at the run's MFU, in units of 1e24."""
        return self._flop_per_gpu[(run_id, gpu_id)]

    def use(self, gpu_id: str, resource: str) -> float:
        """What one GPU of a type uses of a purchase-counted Supply resource when bought
        (GPUs columns and GPUMaterials rows; ``planner.inputs.schema.gpu_use``)."""
        return gpu_use(self._gpus[gpu_id], resource, self._materials)

    def run_flop(self, run_id: str) -> float:
        return self.run(run_id).flop / FLOP_UNIT

    def run_flop_bound(self, run_id: str) -> float:
        """FLOP (1e24) a run's bounds are sized for: its target, or its ceiling."""
        return self.run_ceiling.get(run_id, self.run_flop(run_id))

    def run_flop_cap(self, run_id: str) -> float:
        """Most FLOP (1e24) a cheapest plan delivers to a run: its target (or ceiling)
        plus one GPU, and a rounding margin (``_flop_cap``)."""
        return self._run_flop_cap[run_id]

    def __post_init__(self) -> None:
        d = self.inputs
        self._sites = {s.site_id: s for s in d.sites}
        self._gpus = {g.gpu_id: g for g in d.gpus}
        self._sources = {p.source_id: p for p in d.power_sources}
        self._runs = {r.run_id: r for r in d.runs}
        self._links = {link.link_id: link for link in d.fiber_links}
        self._site_power = {(sp.site_id, sp.source_id): sp for sp in d.site_power}
        self._materials = d.materials
        # Computed once: constraint rules ask for these for every row.
        self._flop_per_gpu = {
            (r.run_id, g.gpu_id): g.bf16_tflops
            * 1e12
            * r.mfu
            * r.duration_days
            * SECONDS_PER_DAY
            / FLOP_UNIT
            for r in d.runs
            for g in d.gpus
        }
        self._run_flop_cap = {r: self._flop_cap(r, pairs) for r, pairs in self.run_gpus.items()}

    def _flop_cap(self, run_id: str, pairs: list[tuple[str, str]]) -> float:
        """Target plus one GPU would do (a cheapest plan never needs more); the margin
        of one more GPU per GPU type and site the run may use keeps a plan whose
        fractional counts are rounded up within the cap, so that rounding starts from a
        feasible plan (``planner.solving.strategy.PhasedSolve.round_counts``)."""
        most = max((self.flop_per_gpu(run_id, g) for _, g in pairs), default=0.0)
        types = len({g for _, g in pairs})
        sites = min(self.run(run_id).max_sites, len({s for s, _ in pairs}))
        return self.run_flop_bound(run_id) + most * (1 + types * sites)


def build_model_data(d: PlanningData) -> ModelData:
    """Derive every sparse index set the formulation needs, once."""
    sources = {p.source_id: p for p in d.power_sources}
    grid_sites = sorted({sp.site_id for sp in d.site_power if sources[sp.source_id].via_grid})
    site_it = usable_it_mw(d)
    gpu_buy, gpu_max_at_site = _gpu_purchases(d, site_it)
    multi_runs = [r.run_id for r in d.runs if r.max_sites > 1]
    link_build = _link_builds(d)
    return ModelData(
        inputs=d,
        years=d.years,
        discount=_discount(d),
        sites=[s.site_id for s in d.sites],
        cooling=_cooling_options(d),
        site_power=[(sp.site_id, sp.source_id) for sp in d.site_power],
        power_build=_power_builds(d, sources),
        grid_sites=grid_sites,
        transformer_build=_transformer_builds(d, grid_sites),
        gpu_buy=gpu_buy,
        gpu_max_at_site=gpu_max_at_site,
        supply=_supply_caps(d),
        runs_by_year=_runs_by_year(d),
        run_gpus=_run_gpus(d, gpu_buy),
        multi_runs=multi_runs,
        link_build=link_build,
        run_links=_run_links(d, multi_runs, link_build),
        site_it_mw=site_it,
        supply_caps=_supply_caps_by_country(d),
    )


def _discount(d: PlanningData) -> dict[int, float]:
    """Discount factor of each year: (1 + rate)^-(y - start_year)."""
    s0 = d.settings.start_year
    return {y: (1 + d.settings.discount_rate) ** -(y - s0) for y in d.years}


def _cooling_options(d: PlanningData) -> dict[str, dict[str, CoolingOption]]:
    """Cooling choices per site (Sites order); a site without Cooling rows gets one
    ``DEFAULT_COOLING`` option at its own PUE and no capex, so every site has a choice."""
    cooling: dict[str, dict[str, CoolingOption]] = {s.site_id: {} for s in d.sites}
    for c in d.cooling:
        cooling[c.site_id][c.cooling_id] = CoolingOption(c.pue, c.capex_usd_per_mw)
    for s in d.sites:
        if not cooling[s.site_id]:
            cooling[s.site_id][DEFAULT_COOLING] = CoolingOption(s.pue, 0.0)
    return cooling


def _power_builds(
    d: PlanningData, sources: dict[str, PowerSourceRow]
) -> list[tuple[str, str, int]]:
    """(site, source, year) where power can be added: room above the existing MW, and
    the source's lead time passed."""
    s0 = d.settings.start_year
    return [
        (sp.site_id, sp.source_id, y)
        for sp in d.site_power
        if sp.max_mw > sp.existing_mw
        for y in d.years
        if y >= s0 + sources[sp.source_id].lead_years
    ]


def _transformer_builds(d: PlanningData, grid_sites: list[str]) -> list[tuple[str, str, int]]:
    """(site, transformer type, year) for every grid site once the type's lead time passed:
    only power that comes through the grid needs transformers."""
    s0 = d.settings.start_year
    return [
        (s, t.transformer_id, y)
        for s in grid_sites
        for t in d.transformers
        for y in d.years
        if y >= s0 + t.lead_years
    ]


def _gpu_purchases(
    d: PlanningData, site_it: dict[str, float]
) -> tuple[list[tuple[str, str, int]], dict[tuple[str, str], int]]:
    """(site, GPU, year) purchases worth offering, and the most of each GPU type a site
    could ever hold (only for pairs with a purchase). A pair is left out when the GPU is
    banned in the site's country or the site cannot power a single one."""
    s0 = d.settings.start_year
    banned = {(e.country, e.gpu_id) for e in d.export_controls if not e.allowed}
    ready_years = sorted({r.ready_year for r in d.runs})
    gpu_max_at_site: dict[tuple[str, str], int] = {}
    gpu_buy: list[tuple[str, str, int]] = []
    for s in d.sites:
        for g in d.gpus:
            if (s.country, g.gpu_id) in banned:
                continue
            cap = math.floor(site_it[s.site_id] * 1000.0 / g.it_kw + 1e-9)
            if cap <= 0:
                continue
            first = max(g.available_year, s.earliest_year, s0)
            # A GPU bought where no run's ready year falls within its life is pure cost.
            buys = [
                (s.site_id, g.gpu_id, y)
                for y in d.years
                if y >= first and any(y <= r <= y + g.life_years - 1 for r in ready_years)
            ]
            if buys:
                gpu_max_at_site[(s.site_id, g.gpu_id)] = cap
                gpu_buy.extend(buys)
    return gpu_buy, gpu_max_at_site


def _supply_caps(d: PlanningData) -> dict[tuple[str, int], float]:
    """Supply capacity of every site together by (resource, year); rows outside the
    horizon and rows for one country are left out."""
    return {(r, y): cap for (r, c, y), cap in _supply_caps_by_country(d).items() if not c}


def _supply_caps_by_country(d: PlanningData) -> dict[tuple[str, str, int], float]:
    """Supply capacity by (resource, country, year), "" for every site; rows outside the
    horizon are ignored."""
    st = d.settings
    return {
        (row.resource, row.country, row.year): row.capacity
        for row in d.supply
        if st.start_year <= row.year <= st.end_year
    }


def _runs_by_year(d: PlanningData) -> dict[int, list[str]]:
    """Run ids by ready year (years in the order runs first name them)."""
    runs_by_year: dict[int, list[str]] = defaultdict(list)
    for r in d.runs:
        runs_by_year[r.ready_year].append(r.run_id)
    return dict(runs_by_year)


def _run_gpus(
    d: PlanningData, gpu_buy: list[tuple[str, str, int]]
) -> dict[str, list[tuple[str, str]]]:
    """Sorted (site, GPU) pairs each run may use: a purchase of the pair still within its
    life at the run's ready year."""
    gpu_life = {g.gpu_id: g.life_years for g in d.gpus}
    return {
        r.run_id: sorted(
            {(s, g) for (s, g, y) in gpu_buy if r.ready_year - gpu_life[g] < y <= r.ready_year}
        )
        for r in d.runs
    }


def _link_builds(d: PlanningData) -> list[tuple[str, int]]:
    """(link, year) where a fiber link may be built, in FiberLinks order.

    Links matter only to multi-site runs, and only from their ready years: a link built
    in any other year is worth no more than one built at the next such ready year, and
    costs no less (capex and O&M are non-negative and discounting never grows)."""
    s0 = d.settings.start_year
    site_ids = {s.site_id for s in d.sites}
    multi_years = sorted({r.ready_year for r in d.runs if r.max_sites > 1})
    return [
        (link.link_id, y)
        for link in d.fiber_links
        for y in multi_years
        if s0 + link.lead_years <= y <= d.settings.end_year
        and link.site_a in site_ids
        and link.site_b in site_ids
    ]


def _run_links(
    d: PlanningData, multi_runs: list[str], link_build: list[tuple[str, int]]
) -> dict[str, list[str]]:
    """Links each multi-site run may use: buildable at all, and ready by its ready year."""
    s0 = d.settings.start_year
    built_links = {lk for lk, _ in link_build}
    ready = {r.run_id: r.ready_year for r in d.runs}
    return {
        r: [
            link.link_id
            for link in d.fiber_links
            if link.link_id in built_links and s0 + link.lead_years <= ready[r]
        ]
        for r in multi_runs
    }


def usable_it_mw(d: PlanningData) -> dict[str, float]:
    """Most IT load each site could ever carry: max_it_mw, and the firm power of every
    source at its max_mw divided by the site's best PUE. A derived bound, not a limit."""
    firm = {p.source_id: p.firm_fraction for p in d.power_sources}
    power: dict[str, float] = defaultdict(float)
    for sp in d.site_power:
        power[sp.site_id] += firm.get(sp.source_id, 0.0) * sp.max_mw
    best_pue: dict[str, float] = {}
    for c in d.cooling:
        best_pue[c.site_id] = min(c.pue, best_pue.get(c.site_id, math.inf))
    return {
        s.site_id: min(s.max_it_mw, power[s.site_id] / best_pue.get(s.site_id, s.pue))
        for s in d.sites
    }
