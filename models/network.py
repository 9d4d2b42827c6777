"""Network: fiber links and the traffic of multi-site runs.

Each non-host member of a multi-site run sends ``gbps_per_pflops`` per PFLOP/s of peak
compute it contributes to the host, over links built by the run's ready year. Flow
conservation on the link graph makes the members reachable from the host by a path
of built links; link capacity is shared by the runs of the same year, per direction.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from models.costs import add_cost
from models.linear import Term, linear
from models.sets import FLOP_UNIT, MUSD, SECONDS_PER_DAY, ModelData

DIRECTIONS = ("ab", "ba")
# Traffic is modelled in Tbps so that link capacities (up to Pbps) stay near 1e3.
GBPS_PER_TBPS = 1000.0


def add_network(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Link builds, per-run flows, and bandwidth limits."""
    st = d.inputs.settings
    m.LINK_BUILD = pyo.Set(initialize=d.link_build, dimen=2, ordered=True)
    m.link_built = pyo.Var(m.LINK_BUILD, within=pyo.Binary)
    years_of: dict[str, list[int]] = defaultdict(list)
    for lk, y in d.link_build:
        years_of[lk].append(y)

    def built_by(lk: str, y: int) -> pyo.Expression:
        return sum(m.link_built[lk, b] for b in years_of[lk] if b <= y)

    m.network_link_once = pyo.Constraint(
        sorted(years_of),
        rule=lambda _m, lk: built_by(lk, max(years_of[lk])) <= 1,
        doc="A link is built at most once",
    )
    for lk, y in d.link_build:
        link = d.link(lk)
        add_cost(m, "fiber_capex", y, link.capex_usd / MUSD, m.link_built[lk, y])
        if link.om_usd_per_year:
            for z in d.years:
                if z >= y:
                    add_cost(m, "fiber_om", z, link.om_usd_per_year / MUSD, m.link_built[lk, y])

    runs = [r for r in m.MULTI_RUNS]
    arcs = [(r, lk, dr) for r in runs for lk in d.run_links.get(r, []) for dr in DIRECTIONS]
    nodes = {
        r: sorted(
            {s for s, _ in d.run_gpus[r]}
            | {x for lk in d.run_links.get(r, []) for x in _ends(d, lk)}
        )
        for r in runs
    }
    m.RUN_ARC = pyo.Set(initialize=arcs, dimen=3, ordered=True)
    m.RUN_NODE = pyo.Set(initialize=[(r, s) for r in runs for s in nodes[r]], dimen=2, ordered=True)
    m.link_flow_tbps = pyo.Var(m.RUN_ARC, within=pyo.NonNegativeReals)
    m.site_send_tbps = pyo.Var(m.RUN_NODE, within=pyo.NonNegativeReals)
    m.site_receive_tbps = pyo.Var(m.RUN_NODE, within=pyo.NonNegativeReals)

    tbps_per_gpu_pflops = st.gbps_per_pflops / GBPS_PER_TBPS

    def peak_tbps(r: str) -> float:
        # Bandwidth of the most peak compute the run could ever draw: its own target.
        run = d.run(r)
        seconds = run.duration_days * SECONDS_PER_DAY
        flop = d.run_flop_cap(r) * FLOP_UNIT
        pflops = flop / (st.multi_site_efficiency * run.mfu * seconds) / 1e15
        return st.gbps_per_pflops * pflops / GBPS_PER_TBPS

    gpus_at: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in runs:
        for s, g in d.run_gpus[r]:
            gpus_at[(r, s)].append(g)

    def is_candidate(r: str, s: str) -> bool:
        return (r, s) in m.run_host

    peak = {r: peak_tbps(r) for r in runs}

    def minus_need(r: str, s: str) -> list[Term]:
        # Minus the Tbps a member's GPUs send at peak.
        return [
            (-tbps_per_gpu_pflops * d.gpu(g).bf16_tflops / 1000.0, m.gpus_multi[r, s, g])
            for g in gpus_at[(r, s)]
        ]

    m.network_remote_demand = pyo.Constraint(
        m.RUN_NODE,
        rule=lambda _m, r, s: (
            linear([(1, m.site_send_tbps[r, s]), (peak[r], m.run_host[r, s])] + minus_need(r, s))
            >= 0
            if gpus_at[(r, s)]
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
                + ([(-peak[r], m.run_host[r, s])] if is_candidate(r, s) else [])
            )
            <= 0
        ),
        doc="A non-host sends no more than its compute needs, so reported traffic is real",
    )
    m.network_host_sends_nothing = pyo.Constraint(
        m.RUN_NODE,
        rule=lambda _m, r, s: (
            linear([(1, m.site_send_tbps[r, s]), (peak[r], m.run_host[r, s])]) <= peak[r]
            if is_candidate(r, s)
            else pyo.Constraint.Skip
        ),
        doc="The host only receives (no traffic loops through it)",
    )
    m.network_host_only = pyo.Constraint(
        m.RUN_NODE,
        rule=lambda _m, r, s: (
            linear(
                [(1, m.site_receive_tbps[r, s])]
                + ([(-peak[r], m.run_host[r, s])] if is_candidate(r, s) else [])
            )
            <= 0
        ),
        doc="Only the host receives the run's traffic (Tbps)",
    )
    out_arcs: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    in_arcs: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for r, lk, dr in arcs:
        a, b = _ends(d, lk)
        src, dst = (a, b) if dr == "ab" else (b, a)
        out_arcs[(r, src)].append((r, lk, dr))
        in_arcs[(r, dst)].append((r, lk, dr))
    m.network_flow_balance = pyo.Constraint(
        m.RUN_NODE,
        rule=lambda _m, r, s: (
            linear(
                [(1, m.link_flow_tbps[k]) for k in out_arcs[(r, s)]]
                + [(-1, m.link_flow_tbps[k]) for k in in_arcs[(r, s)]]
                + [(-1, m.site_send_tbps[r, s]), (1, m.site_receive_tbps[r, s])]
            )
            == 0
        ),
        doc="Traffic leaving a site equals what it sends less what it receives (Tbps)",
    )
    users: dict[tuple[str, str, int], list[tuple[str, str, str]]] = defaultdict(list)
    for r, lk, dr in arcs:
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
