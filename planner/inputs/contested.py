"""Contested synthetic workbooks: runs that compete for the same sites and supply.

``generate_contested(SynthSpec(...))`` draws the same sites, power, GPUs, links and
export controls as ``planner.inputs.synth.generate`` (``synth.infrastructure``), but the
runs are not given private witness clusters. Feasibility rests on one *joint witness*
plan instead, built run by run in ready-year order on a shared ledger of IT load:

- every run is hosted in a small pool of the largest sites (``POOL_SHARE`` of the runs,
  in sites; a site joins the pool only when no pool site has room in a run's year), and
  a multi-site run takes its members among the host's linked neighbours, shared too;
- a run takes its FLOP fraction (the plain generator's 35-70 %) of what is left at each
  of its sites over the whole life of the GPUs it buys there: those GPUs stay installed
  and draw power until they retire, so runs of later years find the site part-used.
  Runs of the same ready year get GPUs of their own (the model's GPU sharing rule);
- a site may carry more than its existing grid power: grid sources grow to ``max_mw``
  after their lead time once a new transformer can be online, and the witness brings
  online the transformer units its load needs, year by year (``_site_transformers``);
- supply caps are set from the witness's needs with less slack than the plain
  generator's (``CONTESTED_SLACK``): CoWoS, HBM and capped GPU types at 1.05-1.3x the
  witness's purchases of a year, the reference trajectory and the GPU allocations at
  a quarter weight; transformer units at the witness's units plus two to four.

So the plan in ``ContestedWorkbook.joint`` exists and meets every shared limit (sites'
IT, power and transformers; yearly GPU, CoWoS, HBM and transformer supply; GPU sharing
within a ready year; link bandwidth per year); the optimiser is free to find a cheaper
one. The random draws follow ``synth``'s order: infrastructure, ready years, per run
the draws of ``synth.draw_run``, then the supply.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from planner.inputs.synth import (
    POWER_FACTOR,
    TRANSFORMERS,
    Infrastructure,
    Member,
    Row,
    RunSites,
    Slack,
    SynthSpec,
    SynthWorkbook,
    Witness,
    draw_run,
    infrastructure,
    ready_years,
    supply_caps,
    write_workbook,
)

POOL_SHARE = 0.4  # the contested pool holds this share of the runs, in sites
CONTESTED_SLACK = Slack(need=(1.05, 1.3), base=0.25)


@dataclass
class JointWitness:
    """One plan that places every run at once; what the generator knows to exist."""

    runs: list[Witness] = field(default_factory=list)
    it_mw: dict[tuple[str, int], float] = field(default_factory=dict)  # IT load per site-year
    power_mw: dict[tuple[str, str, int], float] = field(default_factory=dict)  # added, online
    transformers: dict[tuple[str, str, int], int] = field(default_factory=dict)  # units online

    def purchases(self) -> dict[tuple[str, str, int], int]:
        """GPUs bought per (site, GPU type, year): each run's own, in its ready year."""
        bought: dict[tuple[str, str, int], int] = defaultdict(int)
        for w in self.runs:
            for s, n in w.gpus_by_site.items():
                bought[(s, w.gpu_by_site[s], w.year)] += n
        return dict(bought)

    def transformer_units(self) -> dict[int, int]:
        """New transformer units the witness brings online per year."""
        units: dict[int, int] = defaultdict(int)
        for (_, _, y), n in self.transformers.items():
            units[y] += n
        return dict(units)


@dataclass
class ContestedWorkbook(SynthWorkbook):
    joint: JointWitness = field(default_factory=JointWitness)


class Ledger:
    """The IT load the joint witness has committed per site and year. A site's room for
    a run of year y is what is left there in every year the run's GPUs stay installed."""

    def __init__(self, lookups: RunSites, years: list[int]) -> None:
        self.lookups = lookups
        self.years = years
        # Grid power may grow from the first year a new transformer can be online.
        self.growth_from = years[0] + min(int(t["lead_years"]) for t in TRANSFORMERS)
        self.load: dict[tuple[str, int], float] = defaultdict(float)
        self._cap: dict[tuple[str, int], float] = {}

    @property
    def s0(self) -> int:
        return self.lookups.s0

    @property
    def neighbours(self) -> dict[str, list[Row]]:
        return self.lookups.neighbours

    def cap_mw(self, site_id: str, year: int) -> float:
        """IT MW the site can carry in ``year`` with grid growth (cached)."""
        key = (site_id, year)
        if key not in self._cap:
            self._cap[key] = self.lookups.it_mw(site_id, year, self.growth_from)
        return self._cap[key]

    def life(self, year: int, gpu: Row) -> list[int]:
        """The horizon's years in which a GPU bought in ``year`` is installed."""
        return [t for t in self.years if year <= t < year + int(gpu["life_years"])]

    def capacity(self, site_id: str, year: int) -> tuple[int, Row | None]:
        """How many of its best GPU the site has room for, bought in ``year``."""
        g = self.lookups.best_gpu(self.lookups.site_by_id[site_id], year)
        if g is None:
            return 0, None
        room = min(self.cap_mw(site_id, t) - self.load[(site_id, t)] for t in self.life(year, g))
        return max(0, int(math.floor(room * 1000.0 / float(g["it_kw"])))), g

    def commit(self, w: Witness, gpu_by_id: dict[str, Row]) -> None:
        """Add a run's GPUs to the load of their sites for as long as they are installed."""
        for s, n in w.gpus_by_site.items():
            g = gpu_by_id[w.gpu_by_site[s]]
            for t in self.life(w.year, g):
                self.load[(s, t)] += n * float(g["it_kw"]) / 1000.0

    def ranked(self, sites: list[Row]) -> list[str]:
        """Site ids, the largest by the horizon's end first (ties by id)."""
        end = self.years[-1]
        return sorted((s["site_id"] for s in sites), key=lambda s: (-self.cap_mw(s, end), s))


def generate_contested(spec: SynthSpec) -> ContestedWorkbook:
    """A valid planning instance whose runs compete for sites and supply, feasible by
    its joint witness (``ContestedWorkbook.joint``)."""
    rng = np.random.default_rng(spec.seed)
    infra = infrastructure(rng, spec)
    runs, joint = _contested_runs(rng, spec, infra)
    slack = Slack(CONTESTED_SLACK.need, CONTESTED_SLACK.base, joint.transformer_units())
    caps = supply_caps(rng, spec, infra.years, infra.gpus, runs, joint.runs, slack)
    return ContestedWorkbook(
        spec, infra.settings, infra.tables(runs, caps), list(joint.runs), joint
    )


def write_contested(spec: SynthSpec, out: Path | str) -> Path:
    """Generate a contested workbook and write it; returns where it went."""
    return write_workbook(generate_contested(spec), out)


def _contested_runs(
    rng: np.random.Generator, spec: SynthSpec, infra: Infrastructure
) -> tuple[list[Row], JointWitness]:
    """The Runs rows and the joint witness; may widen witness links in place."""
    ledger = Ledger(infra.lookups, infra.years)
    ranked = ledger.ranked(infra.sites)
    gpu_by_id = {g["gpu_id"]: g for g in infra.gpus}
    pool = max(1, math.ceil(POOL_SHARE * spec.n_runs))
    runs: list[Row] = []
    joint = JointWitness()
    for i, year in enumerate(ready_years(rng, spec, infra.years)):
        cands, pool = _hosts(ledger, ranked, pool, year)
        if not cands:
            break  # no site has room left in this year
        # Sites are shared: no site is closed to the next run's members (a fresh set).
        run, w = draw_run(rng, ledger, f"R{i + 1:03d}-{year}", year, cands, set(), infra.links)
        ledger.commit(w, gpu_by_id)
        runs.append(run)
        joint.runs.append(w)
    joint.it_mw = {k: v for k, v in ledger.load.items() if v > 0}
    joint.power_mw, joint.transformers = _power_plan(ledger, joint.it_mw)
    return runs, joint


def _hosts(ledger: Ledger, ranked: list[str], pool: int, year: int) -> tuple[list[Member], int]:
    """The pool's sites with room in ``year`` (candidate hosts) and the pool's size: when
    no pool site has room, the next sites by rank join until one has."""
    cands: list[Member] = []
    for s in ranked[:pool]:
        count, g = ledger.capacity(s, year)
        if count > 0 and g is not None:
            cands.append((s, count, g))
    while not cands and pool < len(ranked):
        pool += 1
        count, g = ledger.capacity(ranked[pool - 1], year)
        if count > 0 and g is not None:
            cands.append((ranked[pool - 1], count, g))
    return cands, pool


def _power_plan(
    ledger: Ledger, it_mw: dict[tuple[str, int], float]
) -> tuple[dict[tuple[str, str, int], float], dict[tuple[str, str, int], int]]:
    """Power and transformers for the witness's load: at each loaded site every source
    is built to ``max_mw`` in the first loaded year its lead time allows (what
    ``Ledger.cap_mw`` assumes), and transformer units come online as the grid share of
    the load needs them."""
    lk = ledger.lookups
    loaded: dict[str, list[int]] = defaultdict(list)
    for s, y in sorted(it_mw):
        loaded[s].append(y)
    power: dict[tuple[str, str, int], float] = {}
    units: dict[tuple[str, str, int], int] = {}
    for s, years in loaded.items():
        for sp in lk.power_at[s]:
            room = float(sp["max_mw"]) - float(sp["existing_mw"])
            online = max(lk.s0 + int(lk.src_by_id[sp["source_id"]]["lead_years"]), years[0])
            if room > 0 and online <= years[-1]:
                power[(s, sp["source_id"], online)] = room
        units.update(_site_transformers(ledger, s, it_mw, power))
    return power, units


def _firm_mw(
    lookups: RunSites,
    site_id: str,
    year: int,
    power: dict[tuple[str, str, int], float],
    via_grid: bool,
) -> float:
    """Firm MW of a site's grid (or on-site) sources in ``year`` with the power added."""
    total = 0.0
    for sp in lookups.power_at[site_id]:
        src = lookups.src_by_id[sp["source_id"]]
        if bool(src["via_grid"]) != via_grid:
            continue
        mw = float(sp["existing_mw"]) + sum(
            v
            for (s, p, y), v in power.items()
            if s == site_id and p == src["source_id"] and y <= year
        )
        total += float(src["firm_fraction"]) * mw
    return total


def _site_transformers(
    ledger: Ledger,
    site_id: str,
    it_mw: dict[tuple[str, int], float],
    power: dict[tuple[str, str, int], float],
) -> dict[tuple[str, str, int], int]:
    """Units to bring online at a site, year by year: on-site power serves the facility
    first, the rest comes through the grid and needs ``power_factor`` x MVA; each year's
    shortfall is met with the largest type whose lead time has passed."""
    lk = ledger.lookups
    site = lk.site_by_id[site_id]
    have = float(site["existing_transformer_mva"])
    units: dict[tuple[str, str, int], int] = {}
    for y in ledger.years:
        facility = it_mw.get((site_id, y), 0.0) * lk.worst_pue[site_id]
        grid = max(0.0, facility - _firm_mw(lk, site_id, y, power, via_grid=False))
        short = grid / POWER_FACTOR - have
        if short <= 1e-9:
            continue
        ready = [t for t in TRANSFORMERS if lk.s0 + int(t["lead_years"]) <= y]
        unit = max(ready, key=lambda t: float(t["mva"]))  # Ledger.cap_mw: never empty here
        n = math.ceil(short / float(unit["mva"]) - 1e-9)
        units[(site_id, unit["transformer_id"], y)] = n
        have += n * float(unit["mva"])
    return units
