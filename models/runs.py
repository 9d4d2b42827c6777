"""Runs: each training run gets a cluster in its ready year (one host site, plus, for
multi-site runs, member sites) whose GPUs deliver the run's FLOP.

FLOP are in units of 1e24. ``gpus_single`` serve a run hosted at one site at full
efficiency; ``gpus_multi`` serve a run that spans sites, at ``multi_site_efficiency``.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pyomo.environ as pyo

from models.sets import ModelData


def add_runs(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Host and member choices, GPUs assigned to runs, and the FLOP targets."""
    eff = d.inputs.settings.multi_site_efficiency
    run_sites = {r: sorted({s for s, _ in d.run_gpus[r]}) for r in d.run_gpus}
    use = [(r, s, g) for r in d.run_gpus for s, g in d.run_gpus[r]]
    multi_use = [(r, s, g) for r, s, g in use if r in d.multi_runs]
    m.RUN_SITE = pyo.Set(
        initialize=[(r, s) for r in run_sites for s in run_sites[r]], dimen=2, ordered=True
    )
    m.RUN_USE = pyo.Set(initialize=use, dimen=3, ordered=True)
    m.RUN_MULTI_USE = pyo.Set(initialize=multi_use, dimen=3, ordered=True)
    m.MULTI_RUNS = pyo.Set(initialize=[r for r in d.multi_runs if run_sites[r]], ordered=True)
    m.MULTI_RUN_SITE = pyo.Set(
        initialize=[(r, s) for r in d.multi_runs for s in run_sites[r]], dimen=2, ordered=True
    )

    eff_of = {r: (eff if r in d.multi_runs else 1.0) for r in d.run_gpus}

    def most(r: str, s: str, g: str) -> float:
        # Never more GPUs than the site can hold, nor than the run alone would need.
        need = math.ceil(d.run_flop(r) / (eff_of[r] * d.flop_per_gpu(r, g)) - 1e-9)
        return float(min(d.gpu_max_at_site[(s, g)], need))

    def bound(_m: object, r: str, s: str, g: str) -> tuple[float, float]:
        return (0, most(r, s, g))

    m.run_host = pyo.Var(m.RUN_SITE, within=pyo.Binary)
    m.gpus_single = pyo.Var(m.RUN_USE, within=pyo.NonNegativeIntegers, bounds=bound)
    m.run_member = pyo.Var(m.MULTI_RUN_SITE, within=pyo.Binary)
    m.run_multi = pyo.Var(m.MULTI_RUNS, within=pyo.Binary)
    m.gpus_multi = pyo.Var(m.RUN_MULTI_USE, within=pyo.NonNegativeIntegers, bounds=bound)

    flop = d.flop_per_gpu
    types_at: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r, s, g in use:
        types_at[(r, s)].append(g)
    m.run_flop_delivered = pyo.Expression(
        list(d.run_gpus),
        rule=lambda _m, r: sum(flop(r, g) * m.gpus_single[r, s, g] for s, g in d.run_gpus[r])
        + (eff * sum(flop(r, g) * m.gpus_multi[r, s, g] for s, g in d.run_gpus[r])
           if r in d.multi_runs else 0),
    )
    # A run with no GPU it could use by its ready year can never be met: the solve layer
    # reports it as infeasible instead of handing HiGHS a constant constraint.
    m.unreachable_runs = [r for r in d.run_gpus if not run_sites[r]]
    reachable = [r for r in d.run_gpus if run_sites[r]]
    m.run_flop = pyo.Constraint(
        reachable,
        rule=lambda _m, r: m.run_flop_delivered[r] >= d.run_flop(r),
        doc="Delivered FLOP reach the run's target (1e24 FLOP)",
    )
    m.run_one_host = pyo.Constraint(
        reachable,
        rule=lambda _m, r: sum(m.run_host[r, s] for s in run_sites[r]) == 1,
        doc="Each run has exactly one host site",
    )
    m.run_single_at_host = pyo.Constraint(
        m.RUN_USE,
        rule=lambda _m, r, s, g: m.gpus_single[r, s, g] <= most(r, s, g) * m.run_host[r, s],
        doc="A single-site run uses GPUs at its host only (GPUs)",
    )
    # Per site, the FLOP a run draws from a host or member is bounded by the run's own
    # need: tighter than the per-GPU-type bounds when a site holds several types.
    m.run_single_site_flop = pyo.Constraint(
        m.RUN_SITE,
        rule=lambda _m, r, s: sum(flop(r, g) * m.gpus_single[r, s, g] for g in types_at[(r, s)])
        <= d.run_flop_cap(r) * m.run_host[r, s],
        doc="A single-site run draws FLOP only from its host (1e24 FLOP)",
    )
    m.run_member_site_flop = pyo.Constraint(
        m.MULTI_RUN_SITE,
        rule=lambda _m, r, s: eff * sum(flop(r, g) * m.gpus_multi[r, s, g]
                                        for g in types_at[(r, s)])
        <= d.run_flop_cap(r) * m.run_member[r, s],
        doc="A multi-site run draws FLOP only from its members (1e24 FLOP)",
    )
    m.run_member_use = pyo.Constraint(
        m.RUN_MULTI_USE,
        rule=lambda _m, r, s, g: m.gpus_multi[r, s, g] <= most(r, s, g) * m.run_member[r, s],
        doc="A multi-site run uses GPUs at member sites only (GPUs)",
    )
    m.run_host_member = pyo.Constraint(
        m.MULTI_RUN_SITE, rule=lambda _m, r, s: m.run_member[r, s] >= m.run_host[r, s],
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
    # The run's own target, plus one GPU of rounding, bounds each mode's FLOP: a cheapest
    # plan never delivers more (drop a GPU otherwise), so no larger big-M is needed.
    cap = d.run_flop_cap

    m.run_single_off = pyo.Constraint(
        m.MULTI_RUNS,
        rule=lambda _m, r: sum(flop(r, g) * m.gpus_single[r, s, g] for s, g in d.run_gpus[r])
        <= cap(r) * (1 - m.run_multi[r]),
        doc="Full-efficiency (single-site) GPUs only when the run is not multi-site",
    )
    m.run_multi_off = pyo.Constraint(
        m.MULTI_RUNS,
        rule=lambda _m, r: eff * sum(flop(r, g) * m.gpus_multi[r, s, g]
                                     for s, g in d.run_gpus[r])
        <= cap(r) * m.run_multi[r],
        doc="Multi-site GPUs only when the run is multi-site",
    )

    users: dict[tuple[str, str, int], list[str]] = defaultdict(list)
    for r, s, g in use:
        users[(s, g, d.run(r).ready_year)].append(r)
    m.run_gpu_share = pyo.Constraint(
        sorted(users),
        rule=lambda _m, s, g, y: sum(
            m.gpus_single[r, s, g] + (m.gpus_multi[r, s, g] if r in d.multi_runs else 0)
            for r in users[(s, g, y)]
        ) <= m.gpus_installed[s, g, y],
        doc="Runs of the same year use separate installed GPUs (GPUs)",
    )
