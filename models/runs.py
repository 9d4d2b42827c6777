"""Runs: each training run gets a cluster in its ready year (one host site, plus, for
multi-site runs, member sites) whose GPUs deliver the run's FLOP.

FLOP are in units of 1e24. ``gpus_single`` serve a run hosted at one site at full
efficiency; ``gpus_multi`` serve a run that spans sites, at ``multi_site_efficiency``.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pyomo.environ as pyo

from models.linear import Term, linear, quantity
from models.sets import ModelData


def add_runs(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Host and member choices, GPUs assigned to runs, and the FLOP targets."""
    eff = d.inputs.settings.multi_site_efficiency
    flop = d.flop_per_gpu
    cap = d.run_flop_cap
    run_sites = {r: sorted({s for s, _ in d.run_gpus[r]}) for r in d.run_gpus}

    # Most FLOP a site could deliver to a run: its usable IT power filled with its best
    # FLOP-per-kW GPU type (not rounded per type, since types may be mixed).
    best_per_kw: dict[tuple[str, str], float] = {}
    for r in d.run_gpus:
        for s, g in d.run_gpus[r]:
            per_kw = flop(r, g) / d.gpu(g).it_kw
            best_per_kw[(r, s)] = max(best_per_kw.get((r, s), 0.0), per_kw)

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

    hosts = {
        r: sorted(
            {s for s, _ in single_at[r]} | (set(run_sites[r]) if r in d.multi_runs else set())
        )
        for r in d.run_gpus
    }
    m.unreachable_runs = [r for r in d.run_gpus if not hosts[r]]
    reachable = [r for r in d.run_gpus if hosts[r]]
    m.RUN_SITE = pyo.Set(
        initialize=[(r, s) for r in reachable for s in hosts[r]], dimen=2, ordered=True
    )
    m.RUN_USE = pyo.Set(initialize=single, dimen=3, ordered=True)
    m.RUN_MULTI_USE = pyo.Set(initialize=multi, dimen=3, ordered=True)
    m.MULTI_RUNS = pyo.Set(initialize=[r for r in d.multi_runs if hosts[r]], ordered=True)
    m.MULTI_RUN_SITE = pyo.Set(
        initialize=[(r, s) for r in m.MULTI_RUNS for s in run_sites[r]], dimen=2, ordered=True
    )

    def most(r: str, s: str, g: str, factor: float) -> float:
        # Never more GPUs than the site can hold, nor than the run alone would need.
        need = math.ceil(d.run_flop(r) / (factor * flop(r, g)) - 1e-9)
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

    def single_flop(r: str) -> list[Term]:
        return [(flop(r, g), m.gpus_single[r, s, g]) for s, g in single_at[r]]

    def multi_flop(r: str) -> list[Term]:
        return [(eff * flop(r, g), m.gpus_multi[r, s, g]) for s, g in d.run_gpus[r]]

    m.run_flop_delivered = quantity(
        reachable,
        lambda r: single_flop(r) + (multi_flop(r) if r in m.MULTI_RUNS else []),
    )
    m.run_flop = pyo.Constraint(
        reachable,
        rule=lambda _m, r: linear([(1, m.run_flop_delivered[r])]) >= d.run_flop(r),
        doc="Delivered FLOP reach the run's target (1e24 FLOP)",
    )
    m.run_one_host = pyo.Constraint(
        reachable,
        rule=lambda _m, r: sum(m.run_host[r, s] for s in hosts[r]) == 1,
        doc="Each run has exactly one host site",
    )
    # Per site, the FLOP a run draws is bounded by the run's own need (plus one GPU of
    # rounding): tighter than per-type bounds when a site holds several GPU types.
    m.run_single_site_flop = pyo.Constraint(
        sorted(types_single),
        rule=lambda _m, r, s: (
            sum(flop(r, g) * m.gpus_single[r, s, g] for g in types_single[(r, s)])
            <= cap(r) * m.run_host[r, s]
        ),
        doc="A single-site run draws FLOP only from its host (1e24 FLOP)",
    )
    m.run_member_site_flop = pyo.Constraint(
        m.MULTI_RUN_SITE,
        rule=lambda _m, r, s: (
            linear(
                [(eff * flop(r, g), m.gpus_multi[r, s, g]) for g in types_multi[(r, s)]]
                + [(-cap(r), m.run_member[r, s])]
            )
            <= 0
        ),
        doc="A multi-site run draws FLOP only from its members (1e24 FLOP)",
    )
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
        rule=lambda _m, r: sum(m.run_member[r, s] for s in run_sites[r]) <= d.run(r).max_sites,
        doc="A run spans at most max_sites sites",
    )
    # A cheapest plan never delivers more than the target plus one GPU (it would drop a
    # GPU otherwise), so the target bounds each mode's FLOP: no larger big-M is needed.
    m.run_single_off = pyo.Constraint(
        m.MULTI_RUNS,
        rule=lambda _m, r: (
            linear(single_flop(r) + [(cap(r), m.run_multi[r])]) <= cap(r)
            if single_at[r]
            else pyo.Constraint.Skip
        ),
        doc="Full-efficiency (single-site) GPUs only when the run is not multi-site",
    )
    m.run_multi_off = pyo.Constraint(
        m.MULTI_RUNS,
        rule=lambda _m, r: linear(multi_flop(r) + [(-cap(r), m.run_multi[r])]) <= 0,
        doc="Multi-site GPUs only when the run is multi-site",
    )

    users: dict[tuple[str, str, int], list[tuple[str, bool]]] = defaultdict(list)
    for r, s, g in single:
        users[(s, g, d.run(r).ready_year)].append((r, False))
    for r, s, g in multi:
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
