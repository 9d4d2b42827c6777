"""Network: fiber links and the traffic of multi-site runs.

Each non-host member of a multi-site run sends ``gbps_per_pflops`` per PFLOP/s of peak
compute it contributes to the host, over links built by the run's ready year. Flow
conservation on the link graph makes the members reachable from the host by a path
of built links; link capacity is shared by the runs of the same year, per direction.

Notation in the docstrings below: ``P_r`` is the Tbps of run r's peak compute
(``_peak_tbps``), ``k_g`` the Tbps one GPU of type g sends at peak, ``y_r`` the run's
ready year; "candidate" (r, s) pairs are those with a ``run_host`` variable.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyomo.environ as pyo

from models.costs import add_capex, add_cost
from models.linear import Term, linear
from models.sets import FLOP_UNIT, MUSD, SECONDS_PER_DAY, ModelData

DIRECTIONS = ("ab", "ba")
# Traffic is modelled in Tbps so that link capacities (up to Pbps) stay near 1e3.
GBPS_PER_TBPS = 1000.0

Arc = tuple[str, str, str]  # (run, link, direction)


@dataclass(frozen=True)
class _RunGraph:
    """The link graph of each multi-site run, computed once from ``ModelData``."""

    runs: list[str]  # multi-site runs in the model
    arcs: list[Arc]  # both directions of every link a run may use
    nodes: dict[str, list[str]]  # run -> its candidate sites and the ends of its links
    gpus_at: dict[tuple[str, str], list[str]]  # (run, site) -> GPU types it may use there
    peak: dict[str, float]  # run -> P_r (Tbps)
    out_arcs: dict[tuple[str, str], list[Arc]]  # (run, site) -> arcs leaving the site
    in_arcs: dict[tuple[str, str], list[Arc]]  # (run, site) -> arcs entering the site


def add_network(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Link builds, per-run flows, and bandwidth limits."""
    years_of = _link_years(d)
    _add_network_links(m, d, years_of)
    _add_network_link_costs(m, d)
    graph = _run_graph(m, d)
    _add_network_flow_vars(m, graph)
    _add_network_demand(m, d, graph)
    _add_network_host(m, graph)
    _add_network_flow_balance(m, graph)
    _add_network_link_bandwidth(m, d, graph, years_of)


def _link_years(d: ModelData) -> dict[str, list[int]]:
    """Link -> the years it may be built in."""
    years_of: dict[str, list[int]] = defaultdict(list)
    for lk, y in d.link_build:
        years_of[lk].append(y)
    return years_of


def _add_network_links(m: pyo.ConcreteModel, d: ModelData, years_of: dict[str, list[int]]) -> None:
    """Binary link_built[l,y] over LINK_BUILD, and

    network_link_once[l]:  sum_y link_built[l,y]  <=  1
    """
    m.LINK_BUILD = pyo.Set(initialize=d.link_build, dimen=2, ordered=True)
    m.link_built = pyo.Var(m.LINK_BUILD, within=pyo.Binary)

    def built_by(lk: str, y: int) -> pyo.Expression:
        return sum(m.link_built[lk, b] for b in years_of[lk] if b <= y)

    m.network_link_once = pyo.Constraint(
        sorted(years_of),
        rule=lambda _m, lk: built_by(lk, max(years_of[lk])) <= 1,
        doc="A link is built at most once",
    )


def _add_network_link_costs(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Costs ``fiber_capex`` (capex_l * link_built[l,y], online in y, life ``life_years``
    or ``facility_life_years``) and ``fiber_om`` (every year z >= y: om_l *
    link_built[l,y]), in MUSD."""
    for lk, y in d.link_build:
        link = d.link(lk)
        life = link.life_years or d.inputs.settings.facility_life_years
        add_capex(m, d, "fiber_capex", (y, life), link.capex_usd / MUSD, m.link_built[lk, y])
        if link.om_usd_per_year:
            for z in d.years:
                if z >= y:
                    add_cost(m, "fiber_om", z, link.om_usd_per_year / MUSD, m.link_built[lk, y])


def _peak_tbps(d: ModelData, r: str) -> float:
    """P_r: the Tbps of the most peak compute run r could ever draw, its own target
    (``run_flop_cap``) spread over its duration at multi-site efficiency and MFU."""
    st = d.inputs.settings
    run = d.run(r)
    seconds = run.duration_days * SECONDS_PER_DAY
    flop = d.run_flop_cap(r) * FLOP_UNIT
    pflops = flop / (st.multi_site_efficiency * run.mfu * seconds) / 1e15
    return st.gbps_per_pflops * pflops / GBPS_PER_TBPS


def _run_graph(m: pyo.ConcreteModel, d: ModelData) -> _RunGraph:
    """Arcs, nodes and per-node GPU types of each multi-site run's link graph."""
    runs = [r for r in m.MULTI_RUNS]
    arcs = [(r, lk, dr) for r in runs for lk in d.run_links.get(r, []) for dr in DIRECTIONS]
    nodes = {
        r: sorted(
            {s for s, _ in d.run_gpus[r]}
            | {x for lk in d.run_links.get(r, []) for x in _ends(d, lk)}
        )
        for r in runs
    }
    gpus_at: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in runs:
        for s, g in d.run_gpus[r]:
            gpus_at[(r, s)].append(g)
    out_arcs: dict[tuple[str, str], list[Arc]] = defaultdict(list)
    in_arcs: dict[tuple[str, str], list[Arc]] = defaultdict(list)
    for r, lk, dr in arcs:
        a, b = _ends(d, lk)
        src, dst = (a, b) if dr == "ab" else (b, a)
        out_arcs[(r, src)].append((r, lk, dr))
        in_arcs[(r, dst)].append((r, lk, dr))
    return _RunGraph(
        runs=runs,
        arcs=arcs,
        nodes=nodes,
        gpus_at=gpus_at,
        peak={r: _peak_tbps(d, r) for r in runs},
        out_arcs=out_arcs,
        in_arcs=in_arcs,
    )


def _add_network_flow_vars(m: pyo.ConcreteModel, graph: _RunGraph) -> None:
    """Sets RUN_ARC (run, link, direction) and RUN_NODE (run, site); non-negative Tbps
    link_flow_tbps[r,l,dir], site_send_tbps[r,s] and site_receive_tbps[r,s]."""
    m.RUN_ARC = pyo.Set(initialize=graph.arcs, dimen=3, ordered=True)
    m.RUN_NODE = pyo.Set(
        initialize=[(r, s) for r in graph.runs for s in graph.nodes[r]], dimen=2, ordered=True
    )
    m.link_flow_tbps = pyo.Var(m.RUN_ARC, within=pyo.NonNegativeReals)
    m.site_send_tbps = pyo.Var(m.RUN_NODE, within=pyo.NonNegativeReals)
    m.site_receive_tbps = pyo.Var(m.RUN_NODE, within=pyo.NonNegativeReals)


def _is_candidate(m: pyo.ConcreteModel, r: str, s: str) -> bool:
    """Whether site s may host run r (only then does ``run_host[r, s]`` exist)."""
    return (r, s) in m.run_host


def _add_network_demand(m: pyo.ConcreteModel, d: ModelData, graph: _RunGraph) -> None:
    """What a member sends, with k_g = gbps_per_pflops / 1000 * bf16_tflops_g / 1000:

    network_remote_demand[r,s]:  site_send[r,s] + P_r * run_host[r,s]
                                 - sum_g k_g * gpus_multi[r,s,g]  >=  0
                                 (sites where r may use GPUs)
    network_remote_exact[r,s]:   site_send[r,s] - sum_g k_g * gpus_multi[r,s,g]
                                 - P_r * run_host[r,s]  <=  0
                                 (the run_host term only at candidate hosts)
    """
    tbps_per_gpu_pflops = d.inputs.settings.gbps_per_pflops / GBPS_PER_TBPS
    peak = graph.peak

    def minus_need(r: str, s: str) -> list[Term]:
        # Minus the Tbps a member's GPUs send at peak.
        return [
            (-tbps_per_gpu_pflops * d.gpu(g).bf16_tflops / 1000.0, m.gpus_multi[r, s, g])
            for g in graph.gpus_at[(r, s)]
        ]

    # The host's own GPUs need no bandwidth: P_r * run_host relaxes the demand there.
    m.network_remote_demand = pyo.Constraint(
        m.RUN_NODE,
        rule=lambda _m, r, s: (
            linear([(1, m.site_send_tbps[r, s]), (peak[r], m.run_host[r, s])] + minus_need(r, s))
            >= 0
            if graph.gpus_at[(r, s)]
            else pyo.Constraint.Skip
        ),
        doc="A non-host member sends bandwidth for the peak PFLOP/s it contributes (Tbps)",
    )
    m.network_remote_exact = pyo.Constraint(
        m.RUN_NODE,
        rule=lambda _m, r, s: (
            linear(
                [(1, m.site_send_tbps[r, s])]
                + minus_need(r, s)
                + ([(-peak[r], m.run_host[r, s])] if _is_candidate(m, r, s) else [])
            )
            <= 0
        ),
        doc="A non-host sends no more than its compute needs, so reported traffic is real",
    )


def _add_network_host(m: pyo.ConcreteModel, graph: _RunGraph) -> None:
    """Traffic flows towards the host only:

    network_host_sends_nothing[r,s]:  site_send[r,s] + P_r * run_host[r,s]  <=  P_r
                                      (candidate hosts)
    network_host_only[r,s]:           site_receive[r,s] - P_r * run_host[r,s]  <=  0
                                      (the run_host term only at candidate hosts, so
                                      other sites receive nothing)
    """
    peak = graph.peak
    m.network_host_sends_nothing = pyo.Constraint(
        m.RUN_NODE,
        rule=lambda _m, r, s: (
            linear([(1, m.site_send_tbps[r, s]), (peak[r], m.run_host[r, s])]) <= peak[r]
            if _is_candidate(m, r, s)
            else pyo.Constraint.Skip
        ),
        doc="The host only receives (no traffic loops through it)",
    )
    m.network_host_only = pyo.Constraint(
        m.RUN_NODE,
        rule=lambda _m, r, s: (
            linear(
                [(1, m.site_receive_tbps[r, s])]
                + ([(-peak[r], m.run_host[r, s])] if _is_candidate(m, r, s) else [])
            )
            <= 0
        ),
        doc="Only the host receives the run's traffic (Tbps)",
    )


def _add_network_flow_balance(m: pyo.ConcreteModel, graph: _RunGraph) -> None:
    """network_flow_balance[r,s]:  sum_{arcs a out of s} link_flow[a]
    - sum_{arcs a into s} link_flow[a]
    - site_send[r,s] + site_receive[r,s]  ==  0
    """
    m.network_flow_balance = pyo.Constraint(
        m.RUN_NODE,
        rule=lambda _m, r, s: (
            linear(
                [(1, m.link_flow_tbps[k]) for k in graph.out_arcs[(r, s)]]
                + [(-1, m.link_flow_tbps[k]) for k in graph.in_arcs[(r, s)]]
                + [(-1, m.site_send_tbps[r, s]), (1, m.site_receive_tbps[r, s])]
            )
            == 0
        ),
        doc="Traffic leaving a site equals what it sends less what it receives (Tbps)",
    )


def _add_network_link_bandwidth(
    m: pyo.ConcreteModel, d: ModelData, graph: _RunGraph, years_of: dict[str, list[int]]
) -> None:
    """network_link_bandwidth[l,dir,y]:  sum_{r: y_r = y} link_flow[r,l,dir]
    - bandwidth_l / 1000 * sum_{b <= y} link_built[l,b]
    <=  0
    """
    # Runs of the same ready year share a link's capacity, each direction separately.
    users: dict[tuple[str, str, int], list[Arc]] = defaultdict(list)
    for r, lk, dr in graph.arcs:
        users[(lk, dr, d.run(r).ready_year)].append((r, lk, dr))
    m.network_link_bandwidth = pyo.Constraint(
        sorted(users),
        rule=lambda _m, lk, dr, y: (
            linear(
                [(1, m.link_flow_tbps[k]) for k in users[(lk, dr, y)]]
                + [
                    (-d.link(lk).bandwidth_gbps / GBPS_PER_TBPS, m.link_built[lk, b])
                    for b in years_of[lk]
                    if b <= y
                ]
            )
            <= 0
        ),
        doc="Traffic of a year's runs fits a built link's bandwidth, per direction (Tbps)",
    )


def _ends(d: ModelData, link_id: str) -> tuple[str, str]:
    link = d.link(link_id)
    return link.site_a, link.site_b
