"""What the code knows about each constraint family and each variable, written once.

A constraint family is one Pyomo ``Constraint`` component (``m.compute_hbm_supply``). Its
entry says what it limits in words, which workbook cell sets the limit and how an index
maps to that cell's row, the units (model row, price, workbook), whether the diagnosis
may relax it, and which input columns move only its right-hand side (so a study may
patch a compiled matrix in place). A variable's entry says which sites its columns
belong to (the site-restricted search) and how the solve and the pricing LP treat it.

Readers: ``planner.analysis.explain`` (prices and readings), ``planner.analysis.diagnose``
and ``models.elastic`` (what may move and by how much), ``planner.solving.reuse`` (what
only moves costs or right-hand sides), ``models.neighbourhood`` (sites per column),
``models.build`` (large counts). Adding a family: an ``add_`` function and one entry
here; ``tests/models/test_registry.py`` fails until both exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from models.network import GBPS_PER_TBPS
from models.sets import FLOP_UNIT, ModelData
from planner.inputs.schema import gpu_resource

Index = tuple[Any, ...]
Relax = Literal["limit", "target"]


@dataclass(frozen=True)
class Limit:
    """The workbook cell that sets a family's limit for one index."""

    sheet: str
    column: str
    row: Callable[[Index], tuple[str, ...]]  # index -> the row's key in ``sheet``
    value: Callable[[ModelData, Index], float]  # the cell's value (workbook units)


@dataclass(frozen=True)
class Family:
    """One constraint family. Units: a *price unit* is what a shadow price is quoted per
    (one GPU, one MW, one 1e24 FLOP); ``model_per_price`` is how many model units of the
    row one price unit is, ``workbook_per_price`` how many workbook units (FLOP per
    1e24 FLOP; 1 for the others)."""

    name: str
    limits: str
    limit: Limit | None = None
    price_unit: str = ""
    model_per_price: float = 1.0
    workbook_per_price: float = 1.0
    what: Callable[[ModelData, Index], str] | None = None  # "one more ..." for a reading
    # How an index is named in reports (default: its parts joined by spaces).
    instance: Callable[[ModelData, Index], str] | None = None
    # A setting that multiplies ``model_per_price`` (MVA -> MW: power_factor).
    scale_setting: str | None = None
    # The limit a plan sets itself (transformer MVA built), read off the solved model,
    # what of it the plan uses (workbook units), and the cells beyond ``limit`` it sums.
    solved_limit: Callable[[Any, Index], float] | None = None
    solved_use: Callable[[Any, ModelData, Index], float] | None = None
    limit_also: str = ""
    # Whether a row limits a solved plan at all (a link's bandwidth only once it is built).
    in_plan: Callable[[Any, ModelData, Index], bool] | None = None
    noun: str = ""  # what the diagnosis adds: "wafers", "MW", ...
    # A valid inequality that other rows imply once hosts are whole (it only tightens the
    # LP relaxation): kept only by the solves that bound the whole model, and dropped
    # from the LPs whose duals are read, where it would take the dual of the limit it
    # repeats (``planner.solving.compiled.without_implied_rows``).
    implied: bool = False
    relax: Relax | None = None
    # The row's right-hand side in model units, when it is not the cell's value.
    rhs: Callable[[ModelData, Index], float] | None = None
    # Input columns ("Sheet.column") that move only this family's right-hand side.
    rhs_inputs: frozenset[str] = frozenset()

    def limit_value(self, d: ModelData, index: Index) -> float:
        assert self.limit is not None
        return self.limit.value(d, index)

    def cell(self, d: ModelData, index: Index) -> str:
        """``Sheet!C14`` of the limit for one index."""
        assert self.limit is not None
        return d.inputs.cells.cell(self.limit.sheet, self.limit.row(index), self.limit.column)

    def per_price(self, d: ModelData) -> float:
        """Model units of the row per price unit, settings included."""
        factor = getattr(d.inputs.settings, self.scale_setting) if self.scale_setting else 1.0
        return self.model_per_price * float(factor)

    def name_of(self, d: ModelData, index: Index) -> str:
        if self.instance is not None:
            return self.instance(d, index)
        return " ".join(str(x) for x in index) if len(index) > 1 else str(index[0])

    def model_rhs(self, d: ModelData, index: Index) -> float:
        """The row's limit in model units."""
        if self.rhs is not None:
            return self.rhs(d, index)
        return self.limit_value(d, index) * self.model_per_price / self.workbook_per_price


def _supply(resource: Callable[[Index], str], year_at: int) -> Limit:
    return Limit(
        "Supply",
        "capacity",
        lambda i: (str(i[year_at]), resource(i)),
        lambda d, i: d.supply[(resource(i), i[year_at])],
    )


def _supply_family(name: str, resource: str, noun: str, one: str, unit: str, per: float) -> Family:
    return Family(
        name,
        f"{resource} used by the year's purchases within Supply",
        _supply(lambda _i: resource, 0),
        f"USD per {unit}",
        model_per_price=per,
        what=lambda _d, i: f"one more {one} in {i[0]}",
        instance=lambda _d, i: f"{resource} {i[0]}",
        noun=noun,
        relax="limit",
        rhs_inputs=frozenset({"Supply.capacity"}),
    )


def _supply_row(i: Index) -> tuple[str, ...]:
    """The Supply row of a ``supply_cap`` index (resource, country, year)."""
    resource, country, year = i
    return (str(year), resource, country) if country else (str(year), resource)


def _where(i: Index) -> str:
    return f" at {i[1]}'s sites" if i[1] else ""


def _grid_mva_used(m: Any, d: ModelData, i: Index) -> float:
    """MVA the grid power served at site ``i[0]`` in year ``i[1]`` takes (MW / power factor)."""
    s, y = i
    mw = sum(
        m.power_served_mw[s, p, y].value or 0.0
        for site, p in d.site_power
        if site == s and d.source(p).via_grid
    )
    return mw / d.inputs.settings.power_factor


def _power_room(d: ModelData, i: Index) -> float:
    row = d.site_power_row(i[0], i[1])
    return max(0.0, row.max_mw - row.existing_mw)


def _link_built(m: Any, d: ModelData, i: Index) -> bool:
    """Link ``i[0]`` is built, in a solved model, by year ``i[2]``."""
    lk, _, y = i
    built = sum(
        m.link_built[lk, b].value or 0.0 for b in d.years if b <= y and (lk, b) in m.link_built
    )
    return round(built) >= 1


def _arc(d: ModelData, i: Index) -> str:
    """``A->B``: the direction ``i[1]`` ("ab" or "ba") of link ``i[0]``."""
    link = d.link(i[0])
    a, b = (link.site_a, link.site_b) if i[1] == "ab" else (link.site_b, link.site_a)
    return f"{a}->{b}"


PRICED: tuple[Family, ...] = (
    Family(
        "run_flop",
        "delivered FLOP reach each run's target",
        Limit("Runs", "flop", lambda i: (i[0],), lambda d, i: d.run(i[0]).flop),
        "USD per 1e24 FLOP",
        workbook_per_price=FLOP_UNIT,
        what=lambda d, i: f"one more 1e24 FLOP for run {i[0]} (ready {d.run(i[0]).ready_year})",
        noun="FLOP",
        relax="target",
    ),
    _supply_family("compute_cowos_supply", "cowos_wafers", "wafers", "CoWoS wafer", "wafer", 1.0),
    _supply_family(
        "compute_hbm_supply", "hbm_stacks", "HBM stacks", "HBM stack", "HBM stack", 1e-3
    ),
    Family(
        "compute_gpu_supply",
        "purchases of one GPU type per year within Supply gpu:<id>",
        _supply(lambda i: gpu_resource(i[0]), 1),
        "USD per GPU",
        what=lambda _d, i: f"one more {i[0]} GPU in {i[1]}",
        instance=lambda _d, i: f"{gpu_resource(i[0])} {i[1]}",
        noun="GPUs",
        relax="limit",
        rhs_inputs=frozenset({"Supply.capacity"}),
    ),
    _supply_family(
        "transformer_supply",
        "transformer_units",
        "units",
        "transformer unit",
        "transformer unit",
        1.0,
    ),
    Family(
        "supply_cap",
        "purchases at a country's sites, or of GPUs in all, within Supply",
        Limit("Supply", "capacity", _supply_row, lambda d, i: d.supply_caps[i]),
        "USD per unit",
        what=lambda _d, i: f"one more unit of {i[0]}{_where(i)} in {i[2]}",
        instance=lambda _d, i: f"{i[0]}{' ' + i[1] if i[1] else ''} {i[2]}",
        noun="units",
        relax="limit",
        rhs_inputs=frozenset({"Supply.capacity"}),
    ),
    Family(
        "emissions_cap",
        "a year's emissions at the row's sites within Supply co2_t",
        Limit("Supply", "capacity", _supply_row, lambda d, i: d.supply_caps[i]),
        "USD per t CO2",
        model_per_price=1e-3,
        what=lambda _d, i: f"one more t CO2{_where(i)} in {i[2]}",
        instance=lambda _d, i: f"co2_t{' ' + i[1] if i[1] else ''} {i[2]}",
        noun="t CO2",
        relax="limit",
        rhs_inputs=frozenset({"Supply.capacity"}),
    ),
    Family(
        "transformer_capacity",
        "grid power at a site within its transformers x power_factor",
        Limit(
            "Sites",
            "existing_transformer_mva",
            lambda i: (i[0],),
            lambda d, i: d.site(i[0]).existing_transformer_mva,
        ),
        "USD per MVA",
        what=lambda _d, i: f"one more MVA of transformer capacity at {i[0]} in {i[1]}",
        scale_setting="power_factor",
        solved_limit=lambda m, i: m.transformer_mva.value((i[0], i[1])),
        solved_use=_grid_mva_used,
        limit_also="units the plan adds (plan Transformers sheet) x Transformers.mva",
    ),
    Family(
        "site_max_it",
        "IT capacity built at a site within max_it_mw",
        Limit("Sites", "max_it_mw", lambda i: (i[0],), lambda d, i: d.site(i[0]).max_it_mw),
        "USD per MW",
        what=lambda _d, i: f"one more MW of IT capacity (max_it_mw) at {i[0]}",
        noun="MW",
        relax="limit",
    ),
    Family(
        "power_max_mw",
        "a source's capacity at a site within SitePower.max_mw",
        Limit(
            "SitePower",
            "max_mw",
            lambda i: (i[0], i[1]),
            lambda d, i: d.site_power_row(i[0], i[1]).max_mw,
        ),
        "USD per MW",
        what=lambda _d, i: f"one more MW of {i[1]} at {i[0]} (max_mw)",
        noun="MW",
        relax="limit",
        rhs=_power_room,
    ),
    Family(
        "network_link_bandwidth",
        "runs' traffic on a link, per direction, within its bandwidth",
        Limit(
            "FiberLinks",
            "bandwidth_gbps",
            lambda i: (i[0],),
            lambda d, i: d.link(i[0]).bandwidth_gbps,
        ),
        "USD per Gbps",
        model_per_price=1.0 / GBPS_PER_TBPS,
        what=lambda d, i: f"one more Gbps on link {i[0]} ({_arc(d, i)}) for {i[2]}'s runs",
        instance=lambda d, i: f"{i[0]} {_arc(d, i)} {i[2]}",
        in_plan=_link_built,
    ),
)

# Families with no workbook limit of their own: balances, logic and definitions.
STRUCTURAL: tuple[Family, ...] = tuple(
    Family(name, words)
    for name, words in (
        ("site_it_capacity", "IT load under a cooling design within the capacity built"),
        ("site_cooling_one", "one cooling design per site"),
        ("site_cooling_capacity", "capacity only with the chosen cooling design"),
        ("power_firm", "a source serves at most its firm capacity"),
        ("power_balance", "facility power served by the site's sources"),
        ("compute_it_load", "IT load is the drawing GPUs' it_kw"),
        ("compute_it_occupancy", "installed GPUs, idle or not, fit the IT capacity built"),
        ("run_one_host", "each run has one host site"),
        ("run_single_site_flop", "a single-site run draws FLOP only from its host"),
        ("run_member_site_flop", "a multi-site run draws FLOP only from its members"),
        ("run_host_member", "the host is a member of its cluster"),
        ("run_multi_flag", "any member besides the host makes a run multi-site"),
        ("run_max_sites", "a run spans at most max_sites sites"),
        ("run_single_off", "full-efficiency GPUs only for single-site runs"),
        ("run_multi_off", "multi-site GPUs only for multi-site runs"),
        ("run_gpu_share", "runs of one year use separate installed GPUs"),
        ("run_mix_site_one", "one GPU type per site for the run (gpu_mix site)"),
        ("run_mix_site_use", "GPUs of a type at a site only in the type chosen there"),
        ("run_mix_one", "one GPU type or vendor for the whole run (gpu_mix run, vendor)"),
        ("run_mix_use", "GPUs of a type only in the run's chosen type or vendor"),
        ("network_link_once", "a link is built at most once"),
        ("network_remote_demand", "a member sends bandwidth for the compute it contributes"),
        ("network_remote_exact", "a member sends no more than its compute needs"),
        ("network_host_sends_nothing", "the host only receives"),
        ("network_host_only", "only the host receives a run's traffic"),
        ("network_flow_balance", "traffic conservation at each site"),
        ("elastic_rows", "the diagnosis' limits with their penalised slacks"),
        ("elastic_moved_rows", "a diagnosis slack only where its cell is counted as moved"),
        ("lock_site_built", "a locked site has its planned capacity online in its year"),
        ("frontier_budget", "the plan's discounted cost within the frontier's --budget"),
        ("alternative_cost_cap", "a near-optimal plan's cost within (1 + slack) x the optimum"),
        ("alternative_use_cap", "an alternative keeps no more of earlier plans' choices"),
    )
) + (
    Family(
        "run_single_site_it",
        "a single-site run's GPUs fit its host's usable IT power",
        implied=True,
    ),
    Family(
        "run_member_site_it",
        "a multi-site run's GPUs at a member fit its usable IT power",
        implied=True,
    ),
)

FAMILIES: dict[str, Family] = {f.name: f for f in PRICED + STRUCTURAL}
IMPLIED_FAMILIES = frozenset(n for n, f in FAMILIES.items() if f.implied)


@dataclass(frozen=True)
class EarlyBuild:
    """Builds the inputs forbid as too early, which the diagnosis may allow at a penalty:
    the variable, the sheet and column whose limit forbids them, and where the row id and
    the year sit in the variable's index."""

    family: str
    variable: str
    sheet: str
    column: str
    id_at: int
    year_at: int


EARLY_BUILDS: dict[str, EarlyBuild] = {
    e.family: e
    for e in (
        EarlyBuild("power_lead", "power_add_mw", "PowerSources", "lead_years", 1, 2),
        EarlyBuild("transformer_lead", "transformer_add", "Transformers", "lead_years", 1, 2),
        EarlyBuild("link_lead", "link_built", "FiberLinks", "lead_years", 0, 1),
        EarlyBuild("site_earliest", "it_capacity_add", "Sites", "earliest_year", 0, 2),
    )
}


@dataclass(frozen=True)
class Column:
    """One variable. ``site_at``: where its site id sits in the index (``link_at``: its
    link id; the link belongs to both ends; neither: no site). ``large_count``: integer
    counts running to 1e5, which the solve first relaxes; ``priced_continuous``: left
    continuous in the pricing LP; ``implied_bound``: its upper bound repeats a limit
    row, so the pricing LP drops it and the row carries the dual. ``run_at``: where the
    run id sits in the index of a run's own choice (host, members, mode, GPU type), which
    the staged first plan fixes run by run."""

    name: str
    site_at: int | None = None
    link_at: int | None = None
    large_count: bool = False
    priced_continuous: bool = False
    implied_bound: bool = False
    run_at: int | None = None


VARIABLES: dict[str, Column] = {
    c.name: c
    for c in (
        Column("it_capacity_add", site_at=0, implied_bound=True),
        Column("it_load_mw", site_at=0, implied_bound=True),
        # Nonzero at every site, used or not (one design is always chosen): it neither
        # shows use nor may be fixed at zero, so it is tagged with no site.
        Column("cooling_chosen"),
        Column("power_add_mw", site_at=0, implied_bound=True),
        Column("power_served_mw", site_at=0),
        Column("transformer_add", site_at=0, priced_continuous=True, implied_bound=True),
        Column(
            "gpus_bought", site_at=0, large_count=True, priced_continuous=True, implied_bound=True
        ),
        Column("run_host", site_at=1, run_at=0),
        Column("gpus_single", site_at=1, large_count=True, priced_continuous=True),
        Column("run_member", site_at=1, run_at=0),
        Column("run_multi", run_at=0),
        Column("gpus_multi", site_at=1, large_count=True, priced_continuous=True),
        Column("run_site_gpu", site_at=1, run_at=0),
        Column("run_gpu_group", run_at=0),
        Column("link_built", link_at=0),
        Column("link_flow_tbps", link_at=1),
        Column("site_send_tbps", site_at=1),
        Column("site_receive_tbps", site_at=1),
        Column("elastic_slack"),
        Column("elastic_moved"),
    )
}


def variables_where(flag: str) -> frozenset[str]:
    """Names of the variables whose ``Column`` flag is set."""
    return frozenset(n for n, c in VARIABLES.items() if getattr(c, flag))


# Input columns that only the objective reads (costs). With the families' ``rhs_inputs``
# they are what a study may change without rebuilding the matrix; the registry test
# checks the claim by rebuilding the matrix with each of them changed.
COST_INPUTS: frozenset[str] = frozenset(
    {
        "Sites.shell_capex_usd_per_mw",
        "Sites.om_usd_per_mw_year",
        "Cooling.capex_usd_per_mw",
        "PowerSources.capex_usd_per_mw",
        "PowerSources.energy_usd_per_mwh",
        "PowerSources.om_usd_per_mw_year",
        "SitePower.energy_usd_per_mwh",
        "Transformers.capex_usd",
        "GPUs.capex_usd",
        "FiberLinks.capex_usd",
        "FiberLinks.om_usd_per_year",
        "PowerSources.life_years",
        "Transformers.life_years",
        "FiberLinks.life_years",
    }
)
# Input columns no constraint or cost reads yet (reported, never modelled).
UNMODELLED_INPUTS: frozenset[str] = frozenset()
SETTINGS_OUTSIDE_MATRIX: frozenset[str] = frozenset(
    {
        "discount_rate",
        "mip_gap",
        "time_limit_s",
        "capex_accounting",
        "facility_life_years",
        "co2_price_usd_per_t",
    }
)
