"""Synthetic planning workbooks: any size, deterministic for a seed, feasible by construction.

``generate(SynthSpec(...))`` returns the Settings and sheet rows; ``write_synth`` writes
them through ``planner.inputs.template.write_input_workbook`` (so the Guide sheet and the column
order are the contract's). Figures are drawn around the reference workbook's ranges
(``inputs/reference_data.py``): site sizes 50-2,000 MW IT, shell capex 5-14 M USD/MW,
PUE 1.1-1.55, the reference power sources and their lead times, GPUs whose speed grows
~1.45x a year, CoWoS/HBM/GPU/transformer supply caps, export controls (one country
bans every foreign GPU, some ban the newest ones, the domestic part is banned abroad),
cooling choices on about a third of the sites, and candidate fiber links between
k-nearest neighbours.

Feasibility by construction: every run is given a *witness* cluster of sites nobody
else uses (one site, or a host plus linked members for a multi-site run) that can carry
it with power that exists already or can be built by its ready year without new
transformers, using a GPU that is sold by then and allowed in the site's country. The
run's FLOP target is 35-70 % of what that cluster delivers, every supply cap of a year
with purchases is at least 1.3x the witness's need, and each witness link carries 1.5x
the traffic a member could send. So the plan exists; the optimiser is free to find a
cheaper one.

Runs that compete for the same sites and supply, feasible by one joint witness plan
instead of private clusters, are ``planner.inputs.contested`` (``planner synth
--contested``), built from the pieces here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

Row = dict[str, Any]

START_YEAR = 2026
POWER_FACTOR = 0.9
MULTI_SITE_EFFICIENCY = 0.9
GBPS_PER_PFLOPS = 1.0
FIBER_USD_PER_KM = 53_000.0
SECONDS_PER_DAY = 86_400.0

# (country, latitude, longitude, spread in degrees, weight)
COUNTRIES: tuple[tuple[str, float, float, float, float], ...] = (
    ("US", 37.0, -95.0, 8.0, 0.30),
    ("Canada", 50.0, -100.0, 6.0, 0.05),
    ("Mexico", 23.0, -102.0, 4.0, 0.03),
    ("Brazil", -15.0, -50.0, 6.0, 0.04),
    ("Norway", 62.0, 9.0, 3.0, 0.03),
    ("Germany", 51.0, 10.0, 2.5, 0.05),
    ("Spain", 40.0, -4.0, 3.0, 0.04),
    ("UAE", 24.0, 54.5, 1.0, 0.05),
    ("Saudi Arabia", 24.0, 45.0, 4.0, 0.05),
    ("Kuwait", 29.3, 47.9, 0.5, 0.02),
    ("India", 21.0, 78.0, 6.0, 0.06),
    ("Malaysia", 3.0, 102.0, 2.0, 0.06),
    ("Japan", 36.0, 138.0, 3.0, 0.05),
    ("Australia", -28.0, 140.0, 8.0, 0.03),
    ("Ethiopia", 9.0, 39.0, 3.0, 0.02),
    ("China", 33.0, 108.0, 7.0, 0.12),
)
RESTRICTED = "China"  # every foreign GPU banned, the domestic part allowed
TIER_TWO = ("UAE", "Saudi Arabia", "India", "Malaysia")  # newest GPU types banned

# Reference power sources (inputs/reference_data.py), in the order they are used.
SOURCE_TEMPLATES: tuple[Row, ...] = (
    dict(
        source_id="grid",
        via_grid=True,
        capex_usd_per_mw=150_000,
        energy_usd_per_mwh=70.0,
        om_usd_per_mw_year=0,
        firm_fraction=1.0,
        lead_years=4,
        co2_t_per_mwh=0.37,
    ),
    dict(
        source_id="recip_engines",
        via_grid=False,
        capex_usd_per_mw=1_250_000,
        energy_usd_per_mwh=60.0,
        om_usd_per_mw_year=25_000,
        firm_fraction=0.9,
        lead_years=1,
        co2_t_per_mwh=0.50,
    ),
    dict(
        source_id="solar_storage",
        via_grid=False,
        capex_usd_per_mw=2_000_000,
        energy_usd_per_mwh=5.0,
        om_usd_per_mw_year=30_000,
        firm_fraction=0.4,
        lead_years=2,
        co2_t_per_mwh=0.0,
    ),
    dict(
        source_id="gas_ccgt",
        via_grid=False,
        capex_usd_per_mw=2_350_000,
        energy_usd_per_mwh=35.0,
        om_usd_per_mw_year=15_000,
        firm_fraction=0.9,
        lead_years=5,
        co2_t_per_mwh=0.35,
    ),
    dict(
        source_id="nuclear_ppa",
        via_grid=True,
        capex_usd_per_mw=100_000,
        energy_usd_per_mwh=112.0,
        om_usd_per_mw_year=0,
        firm_fraction=0.9,
        lead_years=3,
        co2_t_per_mwh=0.0,
    ),
    dict(
        source_id="hydro",
        via_grid=True,
        capex_usd_per_mw=100_000,
        energy_usd_per_mwh=40.0,
        om_usd_per_mw_year=0,
        firm_fraction=0.6,
        lead_years=1,
        co2_t_per_mwh=0.0,
    ),
)
TRANSFORMERS: tuple[Row, ...] = (
    dict(transformer_id="LPT-100", mva=100, capex_usd=4_000_000, lead_years=2),
    dict(transformer_id="LPT-250", mva=250, capex_usd=8_000_000, lead_years=3),
)


@dataclass(frozen=True)
class SynthSpec:
    """Size and seed of a synthetic instance."""

    sites: int = 20
    years: int = 5
    gpus: int = 6
    sources: int = 6
    links: int = 40
    seed: int = 0
    runs: int | None = None  # default: one per two years, at most sites // 4
    start_year: int = START_YEAR

    def __post_init__(self) -> None:
        if self.sites < 1 or self.years < 1 or self.gpus < 1 or self.sources < 1:
            raise ValueError("sites, years, gpus and sources must be at least 1")
        if self.links < 0:
            raise ValueError("links must be >= 0")
        if self.years > 60:
            raise ValueError("the horizon may span at most 60 years")

    @property
    def n_runs(self) -> int:
        if self.runs is not None:
            return max(1, self.runs)
        return max(1, min(self.years // 2, self.sites // 4))


@dataclass
class Witness:
    """The plan the generator knows to exist for one run."""

    run_id: str
    year: int
    sites: list[str]
    gpu_by_site: dict[str, str]
    gpus_by_site: dict[str, int]
    links: list[str]


@dataclass
class SynthWorkbook:
    spec: SynthSpec
    settings: Row
    tables: dict[str, list[Row]]
    witnesses: list[Witness] = field(default_factory=list)


def _r(x: float, digits: int = 3) -> float:
    """Round to ``digits`` significant figures (workbook-looking numbers)."""
    if x == 0 or not math.isfinite(x):
        return 0.0
    return float(round(x, digits - 1 - int(math.floor(math.log10(abs(x))))))


def _floor_sig(x: float, digits: int = 3) -> float:
    """Round down to ``digits`` significant figures."""
    if x <= 0:
        return 0.0
    scale = 10 ** (int(math.floor(math.log10(x))) - digits + 1)
    return float(math.floor(x / scale) * scale)


@dataclass
class Infrastructure:
    """Everything of an instance but its runs and supply: what the plain and the
    contested generator (``planner.inputs.contested``) share, drawn in one order."""

    settings: Row
    years: list[int]
    gpus: list[Row]
    sources: list[Row]
    sites: list[Row]
    cooling: list[Row]
    site_power: list[Row]
    links: list[Row]
    export_controls: list[Row]
    lookups: RunSites

    def tables(self, runs: list[Row], supply: list[Row]) -> dict[str, list[Row]]:
        """The workbook's sheets, given the runs and the supply."""
        return {
            "Sites": self.sites,
            "Cooling": self.cooling,
            "PowerSources": self.sources,
            "SitePower": self.site_power,
            "Transformers": [dict(t) for t in TRANSFORMERS],
            "GPUs": self.gpus,
            "Supply": supply,
            "ExportControls": self.export_controls,
            "FiberLinks": self.links,
            "Runs": runs,
        }


def infrastructure(rng: np.random.Generator, spec: SynthSpec) -> Infrastructure:
    """Settings, GPUs, sources, sites, power, transformers, links and export controls."""
    s0 = spec.start_year
    years = list(range(s0, s0 + spec.years))
    end = years[-1]
    settings: Row = dict(
        start_year=s0,
        end_year=end,
        discount_rate=0.08,
        mip_gap=0.01,
        time_limit_s=120.0,
        avg_power_fraction=0.8,
        power_factor=POWER_FACTOR,
        gbps_per_pflops=GBPS_PER_PFLOPS,
        multi_site_efficiency=MULTI_SITE_EFFICIENCY,
    )

    gpus = _gpus(rng, spec.gpus, s0, end)
    sources = _sources(rng, spec.sources)
    sites, cooling = _sites(rng, spec.sites, s0, end)
    site_power = _site_power(rng, sites, sources)
    _set_transformers(rng, sites, site_power, sources)
    links = _links(rng, sites, spec.links)
    export_controls = _export_controls(gpus, sites)

    banned = {(e["country"], e["gpu_id"]) for e in export_controls if not e["allowed"]}
    lookups = _run_sites(years, sites, cooling, site_power, sources, gpus, links, banned)
    return Infrastructure(
        settings, years, gpus, sources, sites, cooling, site_power, links, export_controls, lookups
    )


def generate(spec: SynthSpec) -> SynthWorkbook:
    """A valid, feasible planning instance of the requested size."""
    rng = np.random.default_rng(spec.seed)
    infra = infrastructure(rng, spec)
    runs, witnesses = _runs(rng, spec, infra.years, infra.sites, infra.links, infra.lookups)
    supply = supply_caps(rng, spec, infra.years, infra.gpus, runs, witnesses)
    return SynthWorkbook(spec, infra.settings, infra.tables(runs, supply), witnesses)


def write_synth(spec: SynthSpec, out: Path | str) -> Path:
    """Generate and write a workbook; returns where it went."""
    return write_workbook(generate(spec), out)


def write_workbook(wb: SynthWorkbook, out: Path | str) -> Path:
    """Write a generated workbook (plain or contested); returns where it went."""
    from planner.inputs.template import write_input_workbook

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_input_workbook(out, wb.settings, wb.tables)


# --------------------------------------------------------------------------- GPUs


def _gpus(rng: np.random.Generator, n: int, s0: int, end: int) -> list[Row]:
    """GPU generations: speed ~1.45x a year from ~1 PFLOP/s in 2024, one domestic part."""
    domestic = n >= 3
    foreign = n - 1 if domestic else n
    # Two foreign types are on sale from the start; the rest spread over the horizon.
    late = max(s0, min(end, s0 + (end - s0) // 2 + 1))
    avail = [int(rng.integers(s0 - 3, s0 + 1)) for _ in range(min(2, foreign))]
    avail += [int(rng.integers(s0 - 2, late + 1)) for _ in range(foreign - len(avail))]
    avail.sort()
    vendors = ("NVIDIA", "AMD", "Intel", "Google")
    rows: list[Row] = []
    for i, year in enumerate(avail):
        age = year - 2024
        two_die = year >= 2025 and rng.random() < 0.8
        tflops = 1000.0 * 1.45**age * rng.uniform(0.8, 1.2)
        rows.append(
            dict(
                gpu_id=f"G{i + 1:02d}-{year}",
                vendor=str(vendors[int(rng.integers(0, 2))]),
                available_year=year,
                bf16_tflops=_r(tflops),
                it_kw=_r(
                    float(np.clip(1.0 + 0.25 * (age + 1) * rng.uniform(0.85, 1.15), 0.7, 3.5))
                ),
                capex_usd=_r(30_000.0 * 1.15**age * rng.uniform(0.45, 1.4)),
                life_years=int(rng.integers(4, 7)),
                cowos_wafers_per_kgpu=_r((67.0 if two_die else 35.0) * rng.uniform(0.9, 1.15)),
                hbm_stacks=float(min(16, max(4, round(5 + 1.2 * age + rng.normal(0, 0.8))))),
            )
        )
    if domestic:
        year = int(rng.integers(s0 - 1, s0 + 1))
        rows.append(
            dict(
                gpu_id=f"D{n:02d}-domestic",
                vendor="Domestic",
                available_year=year,
                bf16_tflops=_r(780.0 * rng.uniform(0.9, 1.2)),
                it_kw=_r(1.46 * rng.uniform(0.9, 1.1)),
                capex_usd=_r(28_000.0 * rng.uniform(0.8, 1.2)),
                life_years=5,
                cowos_wafers_per_kgpu=0.0,
                hbm_stacks=8.0,
            )
        )
    return rows


def _export_controls(gpus: list[Row], sites: list[Row]) -> list[Row]:
    countries = sorted({s["country"] for s in sites})
    domestic = [g["gpu_id"] for g in gpus if g["vendor"] == "Domestic"]
    foreign = [g for g in gpus if g["vendor"] != "Domestic"]
    newest = sorted(foreign, key=lambda g: (-g["available_year"], g["gpu_id"]))
    newest_ids = (
        [g["gpu_id"] for g in newest[: max(1, len(foreign) // 3)]] if len(foreign) > 2 else []
    )
    rows: list[Row] = []
    for c in countries:
        if c == RESTRICTED and domestic:
            rows += [dict(country=c, gpu_id=g["gpu_id"], allowed=False) for g in foreign]
            rows += [dict(country=c, gpu_id=g, allowed=True) for g in domestic]
            continue
        if c in TIER_TWO:
            rows += [dict(country=c, gpu_id=g, allowed=False) for g in newest_ids]
        rows += [dict(country=c, gpu_id=g, allowed=False) for g in domestic]
    return rows


# --------------------------------------------------------------------------- sites, power


def _sources(rng: np.random.Generator, n: int) -> list[Row]:
    rows: list[Row] = []
    for i in range(n):
        t = dict(SOURCE_TEMPLATES[i % len(SOURCE_TEMPLATES)])
        if i >= len(SOURCE_TEMPLATES):  # variants of the reference sources
            t["source_id"] = f"{t['source_id']}_{i // len(SOURCE_TEMPLATES) + 1}"
            for key in ("capex_usd_per_mw", "energy_usd_per_mwh", "om_usd_per_mw_year"):
                t[key] = _r(float(t[key]) * rng.uniform(0.75, 1.3)) if t[key] else t[key]
            t["lead_years"] = int(max(0, int(t["lead_years"]) + int(rng.integers(-1, 2))))
        rows.append(t)
    return rows


def _sites(rng: np.random.Generator, n: int, s0: int, end: int) -> tuple[list[Row], list[Row]]:
    weights = np.array([c[4] for c in COUNTRIES])
    picks = rng.choice(len(COUNTRIES), size=n, p=weights / weights.sum())
    sites: list[Row] = []
    cooling: list[Row] = []
    for i, k in enumerate(picks):
        country, lat, lon, spread, _ = COUNTRIES[int(k)]
        site_id = f"S{i + 1:04d}"
        pue = _r(float(rng.uniform(1.1, 1.55)), 3)
        max_it = float(np.clip(rng.lognormal(math.log(300.0), 0.8), 50.0, 2000.0))
        sites.append(
            dict(
                site_id=site_id,
                name=f"synthetic site {i + 1} ({country})",
                country=country,
                latitude=round(float(np.clip(lat + rng.normal(0, spread), -89.0, 89.0)), 3),
                longitude=round(float(np.clip(lon + rng.normal(0, spread), -179.0, 179.0)), 3),
                max_it_mw=_r(max_it),
                shell_capex_usd_per_mw=_r(rng.uniform(5e6, 14e6)),
                om_usd_per_mw_year=_r(rng.uniform(150_000, 350_000)),
                earliest_year=int(min(end, s0 + int(rng.choice([0, 0, 0, 1, 2])))),
                pue=pue,
                existing_transformer_mva=0.0,
            )
        )
        if rng.random() < 0.3 and pue > 1.2:
            cooling.append(dict(site_id=site_id, cooling_id="air", pue=pue, capex_usd_per_mw=0.0))
            cooling.append(
                dict(
                    site_id=site_id,
                    cooling_id="liquid",
                    pue=_r(float(rng.uniform(1.08, 1.18)), 3),
                    capex_usd_per_mw=_r(rng.uniform(1.0e6, 1.8e6)),
                )
            )
    return sites, cooling


def _site_power(rng: np.random.Generator, sites: list[Row], sources: list[Row]) -> list[Row]:
    rows: list[Row] = []
    n = len(sources)
    for s in sites:
        k = int(rng.integers(min(2, n), min(4, n) + 1))
        picked = sorted(rng.choice(n, size=k, replace=False).tolist())
        has_existing = rng.random() < 0.6
        first = True
        for j in picked:
            src = sources[j]
            max_mw = _r(float(s["max_it_mw"]) * rng.uniform(0.3, 1.6))
            existing = 0.0
            if has_existing and first:
                existing = _r(max_mw * rng.uniform(0.3, 0.9))
                first = False
            price = None
            if src["via_grid"] and rng.random() < 0.5:
                price = _r(rng.uniform(30.0, 95.0))
            rows.append(
                dict(
                    site_id=s["site_id"],
                    source_id=src["source_id"],
                    max_mw=max_mw,
                    existing_mw=min(existing, max_mw),
                    energy_usd_per_mwh=price,
                )
            )
    return rows


def _set_transformers(
    rng: np.random.Generator, sites: list[Row], site_power: list[Row], sources: list[Row]
) -> None:
    """Existing transformers carry the existing grid power (as at US-MEM: 135 MW, 150 MVA)."""
    via_grid = {p["source_id"] for p in sources if p["via_grid"]}
    existing_grid: dict[str, float] = defaultdict(float)
    for sp in site_power:
        if sp["source_id"] in via_grid:
            existing_grid[sp["site_id"]] += float(sp["existing_mw"])
    for s in sites:
        mw = existing_grid.get(s["site_id"], 0.0)
        if mw > 0:
            s["existing_transformer_mva"] = float(50 * math.ceil(mw / POWER_FACTOR / 50.0))
        elif rng.random() < 0.2:
            s["existing_transformer_mva"] = float(rng.choice([100, 150, 250]))


def _links(rng: np.random.Generator, sites: list[Row], n_links: int) -> list[Row]:
    """``n_links`` candidate links, k-nearest neighbours first, then the next-shortest pairs."""
    n = len(sites)
    max_pairs = n * (n - 1) // 2
    n_links = min(n_links, max_pairs)
    if n_links == 0:
        return []
    lat = np.radians([s["latitude"] for s in sites])
    lon = np.radians([s["longitude"] for s in sites])
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    km = 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    np.fill_diagonal(km, np.inf)
    k = min(n - 1, max(1, math.ceil(2 * n_links / n)))
    nearest = np.argsort(km, axis=1, kind="stable")[:, :k]
    pairs = {(min(i, int(j)), max(i, int(j))) for i in range(n) for j in nearest[i]}
    chosen = sorted(pairs, key=lambda p: (km[p], p))[:n_links]
    if len(chosen) < n_links:
        iu, ju = np.triu_indices(n, 1)
        order = np.lexsort((ju, iu, km[iu, ju]))
        have = set(chosen)
        for t in order:
            p = (int(iu[t]), int(ju[t]))
            if p not in have:
                chosen.append(p)
                have.add(p)
                if len(chosen) == n_links:
                    break
    rows: list[Row] = []
    for i, j in sorted(chosen, key=lambda p: (km[p], p)):
        route = max(5.0, float(km[i, j]) * 1.2)
        capex = _r(route * FIBER_USD_PER_KM * rng.uniform(0.8, 1.3))
        rows.append(
            dict(
                link_id=f"L{len(rows) + 1:05d}",
                site_a=sites[i]["site_id"],
                site_b=sites[j]["site_id"],
                km=round(route, 1),
                capex_usd=capex,
                bandwidth_gbps=float(rng.choice([1_000_000, 2_000_000, 3_000_000, 5_000_000])),
                lead_years=int(rng.choice([1, 1, 2])),
                om_usd_per_year=_r(capex * 0.02),
            )
        )
    return rows


# --------------------------------------------------------------------------- runs, supply


def _witness_it_mw(
    site: Row,
    year: int,
    s0: int,
    rows: list[Row],
    sources: dict[str, Row],
    worst_pue: float,
    growth_from: int | None = None,
) -> float:
    """IT MW a site can carry in ``year``: on-site sources at ``max_mw`` once their lead
    time has passed, grid power as it exists through the existing transformers. From
    ``growth_from`` on (the first year a new transformer can be online; None: never),
    grid sources also grow to ``max_mw`` after their lead time, carried by new
    transformers (the contested generator's joint witness builds them)."""
    if site["earliest_year"] > year:
        return 0.0
    grid = 0.0
    onsite = 0.0
    for sp in rows:
        src = sources[sp["source_id"]]
        firm = float(src["firm_fraction"])
        mw = float(sp["existing_mw"])
        grows = not src["via_grid"] or growth_from is not None
        if grows and s0 + int(src["lead_years"]) <= year:
            mw = float(sp["max_mw"])
        if src["via_grid"]:
            grid += firm * mw
        else:
            onsite += firm * mw
    if growth_from is None or year < growth_from:
        grid = min(grid, POWER_FACTOR * float(site["existing_transformer_mva"]))
    return 0.995 * min(float(site["max_it_mw"]), (grid + onsite) / worst_pue)


# A member of a witness cluster: site id, GPUs the site can hold, the GPU type it uses.
Member = tuple[str, int, Row]


class SiteCapacity(Protocol):
    """What drawing a run's witness cluster asks of the sites: the plain generator's
    free sites (``RunSites``) or the contested generator's shared ledger."""

    @property
    def s0(self) -> int: ...

    @property
    def neighbours(self) -> dict[str, list[Row]]: ...

    def capacity(self, site_id: str, year: int) -> tuple[int, Row | None]: ...


@dataclass
class RunSites:
    """Lookups that say what a free site can carry in a year, built once for every run."""

    s0: int
    site_by_id: dict[str, Row]
    power_at: dict[str, list[Row]]
    src_by_id: dict[str, Row]
    worst_pue: dict[str, float]
    neighbours: dict[str, list[Row]]
    gpus: list[Row]
    banned: set[tuple[str, str]]

    def best_gpu(self, site: Row, year: int) -> Row | None:
        """The most FLOP-per-kW GPU on sale by ``year`` and allowed in the site's country
        (None when there is none); ties go to the larger id so the pick is deterministic."""
        ok = [
            g
            for g in self.gpus
            if g["available_year"] <= year and (site["country"], g["gpu_id"]) not in self.banned
        ]
        return max(ok, key=lambda g: (g["bf16_tflops"] / g["it_kw"], g["gpu_id"]), default=None)

    def it_mw(self, site_id: str, year: int, growth_from: int | None = None) -> float:
        """IT MW a witness may load the site with in ``year`` (``_witness_it_mw``)."""
        return _witness_it_mw(
            self.site_by_id[site_id],
            year,
            self.s0,
            self.power_at[site_id],
            self.src_by_id,
            self.worst_pue[site_id],
            growth_from,
        )

    def capacity(self, site_id: str, year: int) -> tuple[int, Row | None]:
        """How many of its best GPU a site can power in ``year``, and that GPU (0, None
        when no GPU may be used there)."""
        g = self.best_gpu(self.site_by_id[site_id], year)
        if g is None:
            return 0, None
        return int(math.floor(self.it_mw(site_id, year) * 1000.0 / float(g["it_kw"]))), g


def _run_sites(
    years: list[int],
    sites: list[Row],
    cooling: list[Row],
    site_power: list[Row],
    sources: list[Row],
    gpus: list[Row],
    links: list[Row],
    banned: set[tuple[str, str]],
) -> RunSites:
    """The per-site lookups ``_runs`` needs: power rows, worst PUE, neighbouring links."""
    power_at: dict[str, list[Row]] = defaultdict(list)
    for sp in site_power:
        power_at[sp["site_id"]].append(sp)
    # The witness must hold whichever cooling the optimiser picks, so it sizes for the worst.
    worst_pue = {s["site_id"]: float(s["pue"]) for s in sites}
    for c in cooling:
        worst_pue[c["site_id"]] = max(worst_pue[c["site_id"]], float(c["pue"]))
    neighbours: dict[str, list[Row]] = defaultdict(list)
    for lk in links:
        neighbours[lk["site_a"]].append(lk)
        neighbours[lk["site_b"]].append(lk)
    return RunSites(
        s0=years[0],
        site_by_id={s["site_id"]: s for s in sites},
        power_at=power_at,
        src_by_id={p["source_id"]: p for p in sources},
        worst_pue=worst_pue,
        neighbours=neighbours,
        gpus=gpus,
        banned=banned,
    )


def _runs(
    rng: np.random.Generator,
    spec: SynthSpec,
    years: list[int],
    sites: list[Row],
    links: list[Row],
    lookups: RunSites,
) -> tuple[list[Row], list[Witness]]:
    """The Runs rows and the witness plan of each; may widen witness links in place.

    Random draws, in order (the workbook of a seed depends on it): the ready years, then
    per run its duration, MFU, multi-site coin (only when there are links), site count
    (only for a multi-site run), host and FLOP fraction."""
    ready = ready_years(rng, spec, years)
    used: set[str] = set()
    runs: list[Row] = []
    witnesses: list[Witness] = []
    for i, year in enumerate(ready):
        cands = _free_sites(lookups, sites, used, year)
        if not cands:
            break  # every usable site already carries a run
        run, witness = draw_run(rng, lookups, f"R{i + 1:03d}-{year}", year, cands, used, links)
        runs.append(run)
        witnesses.append(witness)
    return runs, witnesses


def ready_years(rng: np.random.Generator, spec: SynthSpec, years: list[int]) -> list[int]:
    """The runs' ready years, sorted: any year but the first (when there is another)."""
    ready_choices = years[1:] or years
    return sorted(int(y) for y in rng.choice(ready_choices, size=spec.n_runs))


def _free_sites(lookups: RunSites, sites: list[Row], used: set[str], year: int) -> list[Member]:
    """Sites no witness uses yet that can hold at least one GPU in ``year``, in site order."""
    cands: list[Member] = []
    for s in sites:
        if s["site_id"] in used:
            continue
        count, g = lookups.capacity(s["site_id"], year)
        if count > 0 and g is not None:
            cands.append((s["site_id"], count, g))
    return cands


def draw_run(
    rng: np.random.Generator,
    lookups: SiteCapacity,
    run_id: str,
    year: int,
    cands: list[Member],
    used: set[str],
    links: list[Row],
) -> tuple[Row, Witness]:
    """One run's row and witness; marks the witness's sites as used."""
    duration = float(rng.choice([90, 120, 150, 180]))
    mfu = _r(float(rng.uniform(0.35, 0.45)), 2)
    # No draw for the coin when there are no links: `and` short-circuits, as it always has.
    want_multi = bool(links) and rng.random() < 0.5
    max_sites = int(rng.integers(2, 4)) if want_multi else 1
    host = _pick_host(rng, cands)
    cluster: list[Member] = [host]
    member_links: list[str] = []
    if max_sites > 1:
        cluster, member_links = _grow_cluster(lookups, host, year, max_sites, used)
    frac = float(rng.uniform(0.35, 0.7))
    flop = _run_flop(cluster, duration, mfu, frac)
    for s, _, _ in cluster:
        used.add(s)
    run = dict(
        run_id=run_id,
        ready_year=year,
        flop=flop,
        duration_days=duration,
        mfu=mfu,
        max_sites=max_sites,
    )
    witness = Witness(
        run_id=run_id,
        year=year,
        sites=[c[0] for c in cluster],
        gpu_by_site={c[0]: c[2]["gpu_id"] for c in cluster},
        # What the witness buys: the run's share of each site, rounded up.
        gpus_by_site={c[0]: int(math.ceil(c[1] * frac)) for c in cluster},
        links=member_links,
    )
    return run, witness


def _pick_host(rng: np.random.Generator, cands: list[Member]) -> Member:
    """A host drawn among the larger half of the free candidates (sorts ``cands``)."""
    cands.sort(key=lambda c: (-c[1], c[0]))
    top = cands[: max(1, (len(cands) + 1) // 2)]
    return top[int(rng.integers(0, len(top)))]


def _grow_cluster(
    lookups: SiteCapacity, host: Member, year: int, max_sites: int, used: set[str]
) -> tuple[list[Member], list[str]]:
    """The host plus free sites linked to it by ``year`` (link id order), up to
    ``max_sites``, and the links used; each used link is widened to 1.5x the traffic its
    member could send, so the witness never waits on bandwidth."""
    cluster = [host]
    member_links: list[str] = []
    for lk in sorted(lookups.neighbours[host[0]], key=lambda x: x["link_id"]):
        if len(cluster) >= max_sites:
            break
        if lookups.s0 + int(lk["lead_years"]) > year:
            continue
        other = lk["site_b"] if lk["site_a"] == host[0] else lk["site_a"]
        if other in used or any(other == c[0] for c in cluster):
            continue
        count, g = lookups.capacity(other, year)
        if count <= 0 or g is None:
            continue
        pflops = count * float(g["bf16_tflops"]) / 1000.0
        need_gbps = GBPS_PER_PFLOPS * pflops * 1.5
        if lk["bandwidth_gbps"] < need_gbps:
            lk["bandwidth_gbps"] = float(1e5 * math.ceil(need_gbps / 1e5))
        cluster.append((other, count, g))
        member_links.append(lk["link_id"])
    return cluster, member_links


def _run_flop(cluster: list[Member], duration: float, mfu: float, frac: float) -> float:
    """The run's FLOP target: ``frac`` of what the whole cluster delivers over
    ``duration`` days at ``mfu`` (multi-site efficiency applied when it spans sites),
    rounded down to 3 significant figures so the witness keeps its margin."""
    eff = MULTI_SITE_EFFICIENCY if len(cluster) > 1 else 1.0
    seconds = duration * SECONDS_PER_DAY
    total = sum(c * float(g["bf16_tflops"]) * 1e12 * mfu * seconds for _, c, g in cluster)
    # Same product order as ever (frac * eff * total): a float's last bit decides the rounding.
    return _floor_sig(frac * eff * total, 3)


@dataclass(frozen=True)
class Slack:
    """How far the supply caps sit above the witness's needs; the defaults are the plain
    generator's (the contested one is tighter and caps transformers by its witness)."""

    need: tuple[float, float] = (1.3, 2.0)  # a cap is at least the need x U(need)
    base: float = 1.0  # weight of the reference trajectory and of the GPU allocations
    # New transformer units the witness brings online per year; None: it builds none,
    # and the yearly caps grow with the number of sites instead.
    transformer_units: dict[int, int] | None = None


def supply_needs(gpus: list[Row], witnesses: list[Witness]) -> dict[tuple[str, int], float]:
    """What the witnesses buy per (resource, year): GPUs of a type, CoWoS, HBM."""
    gpu_by_id = {g["gpu_id"]: g for g in gpus}
    need: dict[tuple[str, int], float] = defaultdict(float)
    for w in witnesses:
        for s, count in w.gpus_by_site.items():
            g = gpu_by_id[w.gpu_by_site[s]]
            need[("cowos_wafers", w.year)] += count * float(g["cowos_wafers_per_kgpu"]) / 1000.0
            need[("hbm_stacks", w.year)] += count * float(g["hbm_stacks"])
            need[(f"gpu:{g['gpu_id']}", w.year)] += count
    return need


def supply_caps(
    rng: np.random.Generator,
    spec: SynthSpec,
    years: list[int],
    gpus: list[Row],
    runs: list[Row],
    witnesses: list[Witness],
    slack: Slack = Slack(),  # noqa: B008  (frozen: one shared default is safe)
) -> list[Row]:
    """Yearly caps near the reference's trajectory, with slack on every witness need."""
    s0 = years[0]
    need = supply_needs(gpus, witnesses)
    scale = max(1.0, len(runs) / 2.0)  # the reference buyer has 2 runs
    rows: list[Row] = []
    for y in years:
        t = y - s0
        base = {
            "cowos_wafers": 15_000.0 * 1.3**t * scale,
            "hbm_stacks": 1_500_000.0 * 1.3**t * scale,
        }
        for res, b in base.items():
            cap = max(
                b * rng.uniform(0.4, 0.8) * slack.base, need[(res, y)] * rng.uniform(*slack.need)
            )
            rows.append(dict(year=y, resource=res, capacity=float(math.ceil(cap))))
        spare = rng.uniform(4, 8)
        if slack.transformer_units is None:
            units = math.ceil(spare * max(1.0, spec.sites / 20.0))
        else:  # the witness's units and a few more, whatever the portfolio's size
            units = slack.transformer_units.get(y, 0) + math.ceil(spare / 2.0)
        rows.append(dict(year=y, resource="transformer_units", capacity=float(units)))
    # Per-type caps on about half the GPU types: older ones wind down, others are allocated.
    capped = [g for g in gpus if rng.random() < 0.5]
    for g in capped:
        gid = g["gpu_id"]
        for y in years:
            if y < g["available_year"]:
                continue
            age = y - g["available_year"]
            allocation = (
                0.0
                if age >= 4 and rng.random() < 0.6
                else float(rng.uniform(20_000, 200_000)) * scale * slack.base
            )
            cap = max(allocation, need[(f"gpu:{gid}", y)] * rng.uniform(*slack.need))
            rows.append(dict(year=y, resource=f"gpu:{gid}", capacity=float(math.ceil(cap))))
    return rows
