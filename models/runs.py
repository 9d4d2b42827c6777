"""Runs: each training run gets a cluster in its ready year (one host site, plus, for
multi-site runs, member sites) whose GPUs deliver the run's FLOP.

FLOP are in units of 1e24. ``gpus_single`` serve a run hosted at one site at full
efficiency; ``gpus_multi`` serve a run that spans sites, at ``multi_site_efficiency``.

Notation in the docstrings below: ``F_r`` is run r's FLOP target, ``cap_r`` the most
FLOP a cheapest plan delivers to it (``ModelData.run_flop_cap``: target plus a few GPUs),
``flop(r,g)`` the FLOP one GPU of type g delivers over r, ``eff`` the multi-site
efficiency, ``y_r`` the run's ready year.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from models.linear import Term, linear, quantity
from models.sets import ModelData

RunUse = tuple[str, str, str]  # (run, site, GPU type)


@dataclass(frozen=True)
class _RunIndex:
    """Index data the run constraint families share, computed once from ``ModelData``."""

    run_sites: dict[str, list[str]]  # candidate sites of each run
    single: list[RunUse]  # single-site choices left after pruning
    multi: list[RunUse]  # multi-site choices (multi-site runs only)
    single_at: dict[str, list[tuple[str, str]]]  # run -> its single-site (site, GPU)
    types_single: dict[tuple[str, str], list[str]]  # (run, site) -> single-site GPU types
    types_multi: dict[tuple[str, str], list[str]]  # (run, site) -> multi-site GPU types
    hosts: dict[str, list[str]]  # run -> sites that may host it
    reachable: list[str]  # runs with at least one possible host


def add_runs(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Host and member choices, GPUs assigned to runs, and the FLOP targets."""
    ix = _run_index(d)
    _add_run_sets(m, d, ix)
    _add_run_vars(m, d)
    _add_run_flop(m, d, ix)
    _add_run_one_host(m, ix)
    _add_run_site_flop(m, d, ix)
    _add_run_site_it(m, d, ix)
    _add_run_cluster(m, d, ix)
    _add_run_modes(m, d, ix)
    _add_run_gpu_share(m, d, ix)
    _add_run_gpu_mix(m, d, ix)


def _best_flop_per_kw(d: ModelData) -> dict[tuple[str, str], float]:
    """Per (run, site): the most FLOP per kW of IT power among the site's GPU types.

    Times the site's usable IT power, this is the most FLOP the site could deliver to
    the run alone (an upper bound: GPU counts are not rounded, since types may mix).
    """
    flop = d.flop_per_gpu
    best_per_kw: dict[tuple[str, str], float] = {}
    for r in d.run_gpus:
        for s, g in d.run_gpus[r]:
            per_kw = flop(r, g) / d.gpu(g).it_kw
            best_per_kw[(r, s)] = max(best_per_kw.get((r, s), 0.0), per_kw)
    return best_per_kw


def _run_index(d: ModelData) -> _RunIndex:
    """The sparse choices of every run: which (site, GPU) pairs serve it in each mode,
    and which sites may host it."""
    run_sites = {r: sorted({s for s, _ in d.run_gpus[r]}) for r in d.run_gpus}
    best_per_kw = _best_flop_per_kw(d)
    # A site that could not deliver a run's FLOP alone never hosts it as a single site;
    # pruning these choices keeps the LP relaxation from splitting a run across them.
    single = [
        (r, s, g)
        for r in d.run_gpus
        for s, g in d.run_gpus[r]
        if d.site_it_mw[s] * 1000.0 * best_per_kw[(r, s)] >= d.run_flop(r)
    ]
    multi = [(r, s, g) for r in d.multi_runs for s, g in d.run_gpus[r]]
    single_at: dict[str, list[tuple[str, str]]] = defaultdict(list)
    types_single: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r, s, g in single:
        single_at[r].append((s, g))
        types_single[(r, s)].append(g)
    types_multi: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r, s, g in multi:
        types_multi[(r, s)].append(g)
    # A run may be hosted where it fits alone or, if multi-site, at any candidate site.
    hosts = {
        r: sorted(
            {s for s, _ in single_at[r]} | (set(run_sites[r]) if r in d.multi_runs else set())
        )
        for r in d.run_gpus
    }
    return _RunIndex(
        run_sites=run_sites,
        single=single,
        multi=multi,
        single_at=single_at,
        types_single=types_single,
        types_multi=types_multi,
        hosts=hosts,
        reachable=[r for r in d.run_gpus if hosts[r]],
    )


def _add_run_sets(m: pyo.ConcreteModel, d: ModelData, ix: _RunIndex) -> None:
    """RUN_SITE (run, possible host), RUN_USE / RUN_MULTI_USE (run, site, GPU) per mode,
    MULTI_RUNS and MULTI_RUN_SITE (multi-site run, candidate member).

    Runs without any possible host are left out of the model and listed in
    ``m.unreachable_runs`` so that diagnostics can report them.
    """
    m.unreachable_runs = [r for r in d.run_gpus if not ix.hosts[r]]
    m.RUN_SITE = pyo.Set(
        initialize=[(r, s) for r in ix.reachable for s in ix.hosts[r]], dimen=2, ordered=True
    )
    m.RUN_USE = pyo.Set(initialize=ix.single, dimen=3, ordered=True)
    m.RUN_MULTI_USE = pyo.Set(initialize=ix.multi, dimen=3, ordered=True)
    m.MULTI_RUNS = pyo.Set(initialize=[r for r in d.multi_runs if ix.hosts[r]], ordered=True)
    m.MULTI_RUN_SITE = pyo.Set(
        initialize=[(r, s) for r in m.MULTI_RUNS for s in ix.run_sites[r]],
        dimen=2,
        ordered=True,
    )


def _add_run_vars(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Binaries run_host[r,s], run_member[r,s], run_multi[r]; integer GPU counts

    gpus_single[r,s,g] in [0, min(max_at_site(s,g), ceil(F_r / flop(r,g)))]
    gpus_multi[r,s,g]  in [0, min(max_at_site(s,g), ceil(F_r / (eff * flop(r,g))))]

    (F_r: the run's ceiling instead when its FLOP is maximised, ``ModelData.run_ceiling``.)
    """
    eff = d.inputs.settings.multi_site_efficiency
    flop = d.flop_per_gpu

    def most(r: str, s: str, g: str, factor: float) -> float:
        # Never more GPUs than the site can hold, nor than the run alone would need.
        need = math.ceil(d.run_flop_bound(r) / (factor * flop(r, g)) - 1e-9)
        return float(min(d.gpu_max_at_site[(s, g)], need))

    m.run_host = pyo.Var(m.RUN_SITE, within=pyo.Binary)
    m.gpus_single = pyo.Var(
        m.RUN_USE,
        within=pyo.NonNegativeIntegers,
        bounds=lambda _m, r, s, g: (0, most(r, s, g, 1.0)),
    )
    m.run_member = pyo.Var(m.MULTI_RUN_SITE, within=pyo.Binary)
    m.run_multi = pyo.Var(m.MULTI_RUNS, within=pyo.Binary)
    m.gpus_multi = pyo.Var(
        m.RUN_MULTI_USE,
        within=pyo.NonNegativeIntegers,
        bounds=lambda _m, r, s, g: (0, most(r, s, g, eff)),
    )


def _single_flop(m: pyo.ConcreteModel, d: ModelData, ix: _RunIndex, r: str) -> list[Term]:
    """FLOP run r gets from full-efficiency GPUs: sum_{s,g} flop(r,g) * gpus_single[r,s,g]."""
    return [(d.flop_per_gpu(r, g), m.gpus_single[r, s, g]) for s, g in ix.single_at[r]]


def _multi_flop(m: pyo.ConcreteModel, d: ModelData, r: str) -> list[Term]:
    """FLOP run r gets from multi-site GPUs: sum_{s,g} eff * flop(r,g) * gpus_multi[r,s,g]."""
    eff = d.inputs.settings.multi_site_efficiency
    return [(eff * d.flop_per_gpu(r, g), m.gpus_multi[r, s, g]) for s, g in d.run_gpus[r]]


def _add_run_flop(m: pyo.ConcreteModel, d: ModelData, ix: _RunIndex) -> None:
    """The quantity ``m.run_flop_delivered[r]`` and its target, for reachable runs r:

    run_flop[r]:  sum_{s,g} flop(r,g) * gpus_single[r,s,g]
                  + sum_{s,g} eff * flop(r,g) * gpus_multi[r,s,g]  >=  F_r
    (the multi-site sum only for multi-site runs).
    """
    m.run_flop_delivered = quantity(
        ix.reachable,
        lambda r: _single_flop(m, d, ix, r) + (_multi_flop(m, d, r) if r in m.MULTI_RUNS else []),
    )
    m.run_flop = pyo.Constraint(
        ix.reachable,
        rule=lambda _m, r: linear([(1, m.run_flop_delivered[r])]) >= d.run_flop(r),
        doc="Delivered FLOP reach the run's target (1e24 FLOP)",
    )


def _add_run_one_host(m: pyo.ConcreteModel, ix: _RunIndex) -> None:
    """run_one_host[r]:  sum_{s in hosts(r)} run_host[r,s]  ==  1   (reachable runs r)."""
    m.run_one_host = pyo.Constraint(
        ix.reachable,
        rule=lambda _m, r: sum(m.run_host[r, s] for s in ix.hosts[r]) == 1,
        doc="Each run has exactly one host site",
    )


def _add_run_site_flop(m: pyo.ConcreteModel, d: ModelData, ix: _RunIndex) -> None:
    """GPUs serve a run only at its host (single-site) or at its members (multi-site):

    run_single_site_flop[r,s]:  sum_g flop(r,g) * gpus_single[r,s,g]  <=  cap_r * run_host[r,s]
    run_member_site_flop[r,s]:  sum_g eff * flop(r,g) * gpus_multi[r,s,g]
                                - cap_r * run_member[r,s]  <=  0
    """
    eff = d.inputs.settings.multi_site_efficiency
    flop = d.flop_per_gpu
    cap = d.run_flop_cap
    # Per site, the FLOP a run draws is bounded by the run's own need (plus a few GPUs of
    # rounding): tighter than per-type bounds when a site holds several GPU types.
    m.run_single_site_flop = pyo.Constraint(
        sorted(ix.types_single),
        rule=lambda _m, r, s: (
            sum(flop(r, g) * m.gpus_single[r, s, g] for g in ix.types_single[(r, s)])
            <= cap(r) * m.run_host[r, s]
        ),
        doc="A single-site run draws FLOP only from its host (1e24 FLOP)",
    )
    m.run_member_site_flop = pyo.Constraint(
        m.MULTI_RUN_SITE,
        rule=lambda _m, r, s: (
            linear(
                [(eff * flop(r, g), m.gpus_multi[r, s, g]) for g in ix.types_multi[(r, s)]]
                + [(-cap(r), m.run_member[r, s])]
            )
            <= 0
        ),
        doc="A multi-site run draws FLOP only from its members (1e24 FLOP)",
    )


def _add_run_site_it(m: pyo.ConcreteModel, d: ModelData, ix: _RunIndex) -> None:
    """The GPUs a run places at a site draw at most the site's usable IT power ``it_s``
    (MW, ``ModelData.site_it_mw``), and none where it is neither host nor member:

    run_single_site_it[r,s]:  sum_g kW_g / 1000 * gpus_single[r,s,g]  <=  it_s * run_host[r,s]
    run_member_site_it[r,s]:  sum_g kW_g / 1000 * gpus_multi[r,s,g]
                              - it_s * run_member[r,s]  <=  0

    Implied by the site's IT and power limits once hosts are whole, but not in the LP
    relaxation: there a run hosted at a fraction h of a site that cannot hold it whole
    still takes h of its GPUs there (contested 300 sites x 2 runs: 96 % of a run at a
    site with room for 94 % of it, the rest at a second one, in single-site mode).
    Only where the site could not hold the run's FLOP cap in one of its types: elsewhere
    ``run_*_site_flop`` implies the row (sum_g kW_g n_g <= max_g kW_g / (eff f_rg) cap_r
    * host). Marked ``implied`` in the registry: the solve keeps them only in the MIPs
    that bound the whole model (``planner.solving.strategy``), since they made the
    priced LP degenerate (300 sites x 20 runs: 2.6 s -> 118 s).
    """
    eff = d.inputs.settings.multi_site_efficiency
    it = d.site_it_mw

    def kw(g: str) -> float:
        return d.gpu(g).it_kw / 1000.0

    def cuts(r: str, s: str, types: list[str], factor: float) -> bool:
        most = max(kw(g) / (factor * d.flop_per_gpu(r, g)) for g in types)
        return most * d.run_flop_cap(r) > it[s] * (1.0 + 1e-9)

    def row(gpus: Any, choice: Any, types: list[str], r: str, s: str) -> Any:
        terms = [(kw(g), gpus[r, s, g]) for g in types] + [(-it[s], choice[r, s])]
        return linear(terms) <= 0

    single = [k for k in sorted(ix.types_single) if cuts(k[0], k[1], ix.types_single[k], 1.0)]
    m.run_single_site_it = pyo.Constraint(
        single,
        rule=lambda _m, r, s: row(m.gpus_single, m.run_host, ix.types_single[(r, s)], r, s),
        doc="A single-site run's GPUs at its host fit the site's usable IT power (MW)",
    )
    multi = [
        k
        for k in m.MULTI_RUN_SITE
        if ix.types_multi.get(k) and cuts(k[0], k[1], ix.types_multi[k], eff)
    ]
    m.run_member_site_it = pyo.Constraint(
        multi,
        rule=lambda _m, r, s: row(m.gpus_multi, m.run_member, ix.types_multi[(r, s)], r, s),
        doc="A multi-site run's GPUs at a member fit the site's usable IT power (MW)",
    )


def _add_run_cluster(m: pyo.ConcreteModel, d: ModelData, ix: _RunIndex) -> None:
    """The members of a multi-site run's cluster:

    run_host_member[r,s]:  run_member[r,s]  >=  run_host[r,s]
    run_multi_flag[r,s]:   run_member[r,s] - run_host[r,s]  <=  run_multi[r]
    run_max_sites[r]:      sum_s run_member[r,s]  <=  max_sites_r
    """
    m.run_host_member = pyo.Constraint(
        m.MULTI_RUN_SITE,
        rule=lambda _m, r, s: m.run_member[r, s] >= m.run_host[r, s],
        doc="The host is a member of its cluster",
    )
    m.run_multi_flag = pyo.Constraint(
        m.MULTI_RUN_SITE,
        rule=lambda _m, r, s: m.run_member[r, s] - m.run_host[r, s] <= m.run_multi[r],
        doc="Any member besides the host makes the run multi-site",
    )
    m.run_max_sites = pyo.Constraint(
        m.MULTI_RUNS,
        rule=lambda _m, r: sum(m.run_member[r, s] for s in ix.run_sites[r]) <= d.run(r).max_sites,
        doc="A run spans at most max_sites sites",
    )


def _add_run_modes(m: pyo.ConcreteModel, d: ModelData, ix: _RunIndex) -> None:
    """A multi-site run draws FLOP from one mode only, switched by run_multi[r]:

    run_single_off[r]:  sum_{s,g} flop(r,g) * gpus_single[r,s,g] + cap_r * run_multi[r]  <=  cap_r
                        (only if r has single-site choices)
    run_multi_off[r]:   sum_{s,g} eff * flop(r,g) * gpus_multi[r,s,g] - cap_r * run_multi[r]  <=  0
    """
    cap = d.run_flop_cap
    # A cheapest plan never needs more than the target plus one GPU (it can drop a GPU
    # otherwise; the cap adds a rounding margin, ``ModelData.run_flop_cap``), so the
    # target bounds each mode's FLOP: no larger big-M is needed.
    m.run_single_off = pyo.Constraint(
        m.MULTI_RUNS,
        rule=lambda _m, r: (
            linear(_single_flop(m, d, ix, r) + [(cap(r), m.run_multi[r])]) <= cap(r)
            if ix.single_at[r]
            else pyo.Constraint.Skip
        ),
        doc="Full-efficiency (single-site) GPUs only when the run is not multi-site",
    )
    m.run_multi_off = pyo.Constraint(
        m.MULTI_RUNS,
        rule=lambda _m, r: linear(_multi_flop(m, d, r) + [(-cap(r), m.run_multi[r])]) <= 0,
        doc="Multi-site GPUs only when the run is multi-site",
    )


def _add_run_gpu_share(m: pyo.ConcreteModel, d: ModelData, ix: _RunIndex) -> None:
    """run_gpu_share[s,g,y]:  sum_{r: y_r = y} (gpus_single[r,s,g] | gpus_multi[r,s,g])
    - gpus_installed[s,g,y]  <=  0
    """
    # A run uses its cluster in its ready year: runs of the same year cannot share a GPU.
    users: dict[tuple[str, str, int], list[tuple[str, bool]]] = defaultdict(list)
    for r, s, g in ix.single:
        users[(s, g, d.run(r).ready_year)].append((r, False))
    for r, s, g in ix.multi:
        users[(s, g, d.run(r).ready_year)].append((r, True))
    m.run_gpu_share = pyo.Constraint(
        sorted(users),
        rule=lambda _m, s, g, y: (
            linear(
                [
                    (1, (m.gpus_multi if is_multi else m.gpus_single)[r, s, g])
                    for r, is_multi in users[(s, g, y)]
                ]
                + [(-1, m.gpus_installed[s, g, y])]
            )
            <= 0
        ),
        doc="Runs of the same year use separate installed GPUs (GPUs)",
    )
    # What runs use of the fleet each year: the IT load when idle GPUs draw no power.
    m.gpus_used = quantity(
        list(m.GPU_FLEET),
        lambda s, g, y: [
            (1.0, (m.gpus_multi if is_multi else m.gpus_single)[r, s, g])
            for r, is_multi in users.get((s, g, y), ())
        ],
    )


def _run_gpu_flop(m: pyo.ConcreteModel, d: ModelData, ix: _RunIndex) -> dict[RunUse, list[Term]]:
    """The FLOP each (run, site, GPU type) delivers, both modes:
    flop(r,g) * gpus_single[r,s,g] and eff * flop(r,g) * gpus_multi[r,s,g]."""
    eff = d.inputs.settings.multi_site_efficiency
    uses: dict[RunUse, list[Term]] = defaultdict(list)
    for k in ix.single:
        uses[k].append((d.flop_per_gpu(k[0], k[2]), m.gpus_single[k]))
    for k in ix.multi:
        uses[k].append((eff * d.flop_per_gpu(k[0], k[2]), m.gpus_multi[k]))
    return uses


def _mix_group(d: ModelData, r: str, g: str) -> str:
    """What run r's GPUs must share under its gpu_mix: the type, or the vendor."""
    return d.gpu(g).vendor.strip().lower() if d.run(r).gpu_mix == "vendor" else g


def _add_run_gpu_mix(m: pyo.ConcreteModel, d: ModelData, ix: _RunIndex) -> None:
    """Homogeneous clusters (``Runs.gpu_mix``), on the GPUs the run uses. ``site``:

    run_mix_site_one[r,s]:    sum_g run_site_gpu[r,s,g]  <=  1
    run_mix_site_use[r,s,g]:  flop(r,g) * (gpus_single[r,s,g] + eff * gpus_multi[r,s,g])
                              - cap_r * run_site_gpu[r,s,g]  <=  0

    ``run`` (group k = g) and ``vendor`` (group k = vendor(g), compared case-insensitively):

    run_mix_one[r]:      sum_k run_gpu_group[r,k]  <=  1
    run_mix_use[r,g]:    sum_s flop(r,g) * (gpus_single + eff * gpus_multi)[r,s,g]
                         - cap_r * run_gpu_group[r,k(g)]  <=  0

    The big-M is the run's FLOP cap (``run_single_off`` and ``run_multi_off`` already
    hold the run's FLOP under it), so the rows keep the FLOP scale of ``run_flop``.
    """
    uses = _run_gpu_flop(m, d, ix)
    mix = {r: d.run(r).gpu_mix for r in ix.reachable}
    site_keys = sorted(k for k in uses if mix.get(k[0]) == "site")
    types_at: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r, s, g in site_keys:
        types_at[(r, s)].append(g)
    m.run_site_gpu = pyo.Var(site_keys, within=pyo.Binary)
    m.run_mix_site_one = pyo.Constraint(
        sorted(types_at),
        rule=lambda _m, r, s: sum(m.run_site_gpu[r, s, g] for g in types_at[(r, s)]) <= 1,
        doc="One GPU type per site for the run (gpu_mix = site)",
    )
    m.run_mix_site_use = pyo.Constraint(
        site_keys,
        rule=lambda _m, r, s, g: (
            linear(uses[(r, s, g)] + [(-d.run_flop_cap(r), m.run_site_gpu[r, s, g])]) <= 0
        ),
        doc="GPUs of a type at a site only when the run chose that type there",
    )
    _add_run_mix_groups(m, d, uses, [r for r in ix.reachable if mix[r] in ("run", "vendor")])


def _add_run_mix_groups(
    m: pyo.ConcreteModel, d: ModelData, uses: dict[RunUse, list[Term]], runs: list[str]
) -> None:
    """``run_gpu_group``, ``run_mix_one`` and ``run_mix_use`` of ``_add_run_gpu_mix``."""
    by_type: dict[tuple[str, str], list[Term]] = defaultdict(list)
    for (r, _, g), terms in uses.items():
        by_type[(r, g)].extend(terms)
    chosen = set(runs)
    types = sorted(k for k in by_type if k[0] in chosen)
    groups: dict[str, set[str]] = defaultdict(set)
    for r, g in types:
        groups[r].add(_mix_group(d, r, g))
    m.run_gpu_group = pyo.Var(
        [(r, k) for r in sorted(groups) for k in sorted(groups[r])], within=pyo.Binary
    )
    m.run_mix_one = pyo.Constraint(
        sorted(groups),
        rule=lambda _m, r: sum(m.run_gpu_group[r, k] for k in groups[r]) <= 1,
        doc="One GPU type (or vendor) for the whole run (gpu_mix = run | vendor)",
    )
    m.run_mix_use = pyo.Constraint(
        types,
        rule=lambda _m, r, g: (
            linear(
                by_type[(r, g)] + [(-d.run_flop_cap(r), m.run_gpu_group[r, _mix_group(d, r, g)])]
            )
            <= 0
        ),
        doc="GPUs of a type only in the run's chosen type or vendor",
    )
