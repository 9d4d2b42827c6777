"""Independent re-check of a plan against its inputs.

This module never looks at the Pyomo model: it recomputes IT load, PUE, power, supply,
FLOP, bandwidth and cost from the plan's own tables and the validated inputs, so a
solver or formulation bug cannot hide behind its own arithmetic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from planner.inputs.data import PlanningData
from planner.inputs.schema import CO2_RESOURCE, SUPPLY_RESOURCES, gpu_resource, gpu_use
from planner.results.tables import Plan

REL_TOL = 1e-5
HOURS = 8760.0
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Violation:
    sheet: str
    row: int | None  # Excel row of the plan sheet (header is row 1), when one row is at fault
    message: str

    def __str__(self) -> str:
        where = f"{self.sheet}!{self.row}" if self.row else self.sheet
        return f"{where}: {self.message}"


def _over(value: float, limit: float, scale: float = 1.0) -> bool:
    return value > limit + REL_TOL * max(abs(limit), scale, 1.0)


def _differs(a: float, b: float, scale: float = 1.0) -> bool:
    return abs(a - b) > REL_TOL * max(abs(a), abs(b), scale, 1.0)


def check_plan(data: PlanningData, plan: Plan) -> list[Violation]:
    """Every violation of the inputs' limits found in the plan (empty when it holds)."""
    out: list[Violation] = []
    for check in (
        _check_gpus,
        _check_supply,
        _check_sites,
        _check_power,
        _check_transformers,
        _check_runs,
        _check_costs,
    ):
        out.extend(check(data, plan))
    return out


def _rows(df: pd.DataFrame) -> Iterator[tuple[int, pd.Series]]:
    for i, (_, row) in enumerate(df.iterrows()):
        yield i + 2, row


def _check_gpus(d: PlanningData, plan: Plan) -> Iterator[Violation]:
    gpus = {g.gpu_id: g for g in d.gpus}
    sites = {s.site_id: s for s in d.sites}
    banned = {(e.country, e.gpu_id) for e in d.export_controls if not e.allowed}
    df = plan["GPUs"]
    bought: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for _, r in df.iterrows():
        bought[(r.site_id, r.gpu_id)][int(r.year)] = float(r.purchased)
    for row, r in _rows(df):
        g, s, y = gpus.get(r.gpu_id), sites.get(r.site_id), int(r.year)
        if g is None or s is None:
            yield Violation("GPUs", row, f"unknown site {r.site_id} or GPU {r.gpu_id}")
            continue
        n = float(r.purchased)
        if n < 0 or not float(n).is_integer():
            yield Violation("GPUs", row, f"purchased = {n}: must be a whole number >= 0")
        if n > 0 and y < g.available_year:
            yield Violation(
                "GPUs",
                row,
                f"{g.gpu_id} bought in {y}, before its available_year {g.available_year}",
            )
        if (n > 0 or r.installed > 0) and (s.country, g.gpu_id) in banned:
            yield Violation(
                "GPUs", row, f"{g.gpu_id} is not allowed in {s.country} (ExportControls)"
            )
        expected = sum(
            v for b, v in bought[(r.site_id, r.gpu_id)].items() if y - g.life_years < b <= y
        )
        if _differs(float(r.installed), expected):
            yield Violation(
                "GPUs",
                row,
                f"installed = {r.installed} but purchases within life_years add up to {expected:g}",
            )
        if _differs(float(r.it_mw), float(r.installed) * g.it_kw / 1000.0):
            yield Violation(
                "GPUs",
                row,
                f"it_mw = {r.it_mw} but installed x it_kw = {r.installed * g.it_kw / 1000.0:g} MW",
            )


def _check_supply(d: PlanningData, plan: Plan) -> Iterator[Violation]:
    """Each Supply row against what the year's purchases use: at every site (blank
    country) or at the country's sites."""
    gpus = {g.gpu_id: g for g in d.gpus}
    country = {s.site_id: s.country for s in d.sites}
    used: dict[tuple[str, str, int], float] = defaultdict(float)

    def use(resource: str, site: str, year: int, amount: float) -> None:
        for where in ("", country.get(site, "")):
            used[(resource, where, year)] += amount

    materials = d.materials
    resources = {*SUPPLY_RESOURCES, *(res for _, res in materials)}
    for _, r in plan["GPUs"].iterrows():
        g, y, n = gpus.get(r.gpu_id), int(r.year), float(r.purchased)
        if g is None:
            continue
        for resource in (*resources, gpu_resource(g.gpu_id)):
            use(resource, str(r.site_id), y, n * gpu_use(g, resource, materials))
    for _, r in plan["Transformers"].iterrows():
        use("transformer_units", str(r.site_id), int(r.year), float(r.units_added))
    co2 = {p.source_id: p.co2_t_per_mwh for p in d.power_sources}
    for _, r in plan["Power"].iterrows():
        use(CO2_RESOURCE, str(r.site_id), int(r.year), float(r.mwh) * co2.get(r.source_id, 0.0))
    for s in d.supply:
        got = used.get((s.resource, s.country, s.year), 0.0)
        if _over(got, s.capacity):
            where = f" at {s.country}'s sites" if s.country else ""
            yield Violation(
                {"transformer_units": "Transformers", CO2_RESOURCE: "Power"}.get(
                    s.resource, "GPUs"
                ),
                None,
                f"{s.year} uses {got:,.1f} {s.resource}{where}, above the supply of "
                f"{s.capacity:,.1f}",
            )


def _site_pue(d: PlanningData, site_id: str, cooling_id: object) -> float | None:
    options = {c.cooling_id: c.pue for c in d.cooling if c.site_id == site_id}
    if not options:
        return next(s.pue for s in d.sites if s.site_id == site_id)
    return options.get(str(cooling_id)) if isinstance(cooling_id, str) else None


def _drawing_mw(d: PlanningData, plan: Plan) -> dict[tuple[str, int], float]:
    """IT MW the GPUs that draw power need per (site, year): every installed GPU, or,
    when idle GPUs draw no power, those the year's runs use."""
    if d.settings.idle_gpus_draw_power:
        return _installed_mw(plan)
    kw = {g.gpu_id: g.it_kw for g in d.gpus}
    ready = {r.run_id: r.ready_year for r in d.runs}
    mw: dict[tuple[str, int], float] = defaultdict(float)
    for _, a in plan["RunGPUs"].iterrows():
        if a.run_id in ready and a.gpu_id in kw:
            mw[(str(a.site_id), ready[a.run_id])] += float(a.gpus) * kw[a.gpu_id] / 1000.0
    return mw


def _installed_mw(plan: Plan) -> dict[tuple[str, int], float]:
    mw: dict[tuple[str, int], float] = defaultdict(float)
    for _, r in plan["GPUs"].iterrows():
        mw[(r.site_id, int(r.year))] += float(r.it_mw)
    return mw


def _check_sites(d: PlanningData, plan: Plan) -> Iterator[Violation]:
    sites = {s.site_id: s for s in d.sites}
    drawing, installed = _drawing_mw(d, plan), _installed_mw(plan)
    cooling = {r.site_id: r.cooling_id for _, r in plan["Sites"].iterrows()}
    for row, r in _rows(plan["SiteYears"]):
        s, y = sites[r.site_id], int(r.year)
        load, held = drawing.get((s.site_id, y), 0.0), installed.get((s.site_id, y), 0.0)
        if _differs(float(r.it_load_mw), load):
            yield Violation(
                "SiteYears",
                row,
                f"it_load_mw = {r.it_load_mw} but the GPUs drawing power need {load:g} MW",
            )
        if _over(held, float(r.it_capacity_mw)):
            yield Violation(
                "SiteYears",
                row,
                f"installed GPUs need {held:g} MW of IT, above the {r.it_capacity_mw:g} MW built",
            )
        if _over(float(r.it_capacity_mw), s.max_it_mw):
            yield Violation(
                "SiteYears",
                row,
                f"IT capacity {r.it_capacity_mw:g} MW exceeds max_it_mw {s.max_it_mw:g}",
            )
        if y < s.earliest_year and float(r.it_capacity_mw) > 1e-6:
            yield Violation(
                "SiteYears", row, f"capacity built before earliest_year {s.earliest_year}"
            )
        pue = _site_pue(d, s.site_id, cooling.get(s.site_id))
        if load > 1e-6 and pue is None:
            yield Violation("Sites", None, f"{s.site_id} hosts load without a valid cooling_id")
        elif pue is not None and _differs(float(r.facility_mw), load * pue):
            yield Violation(
                "SiteYears",
                row,
                f"facility_mw = {r.facility_mw:g} but IT load x PUE = {load * pue:g}",
            )


def _check_power(d: PlanningData, plan: Plan) -> Iterator[Violation]:
    st = d.settings
    sources = {p.source_id: p for p in d.power_sources}
    site_power = {(p.site_id, p.source_id): p for p in d.site_power}
    facility = {
        (r.site_id, int(r.year)): float(r.facility_mw) for _, r in plan["SiteYears"].iterrows()
    }
    mva = {
        (r.site_id, int(r.year)): float(r.transformer_mva) for _, r in plan["SiteYears"].iterrows()
    }
    served: dict[tuple[str, int], float] = defaultdict(float)
    grid: dict[tuple[str, int], float] = defaultdict(float)
    added: dict[tuple[str, str], float] = defaultdict(float)
    df = plan["Power"].sort_values(["site_id", "source_id", "year"], kind="stable")
    for row, r in _rows(plan["Power"]):
        sp, src = site_power.get((r.site_id, r.source_id)), sources.get(r.source_id)
        if sp is None or src is None:
            yield Violation("Power", row, f"{r.source_id} is not available at {r.site_id}")
            continue
        y = int(r.year)
        if float(r.mw_added) > 1e-6 and y < st.start_year + src.lead_years:
            yield Violation(
                "Power",
                row,
                f"{r.source_id} capacity added in {y}, before its "
                f"lead time allows ({st.start_year + src.lead_years})",
            )
        if _over(float(r.mw_total), sp.max_mw):
            yield Violation("Power", row, f"mw_total {r.mw_total:g} exceeds max_mw {sp.max_mw:g}")
        mw = (
            float(r.mwh) / (st.avg_power_fraction * HOURS)
            if st.avg_power_fraction
            else float(r.mw_served)
        )
        if _over(mw, src.firm_fraction * float(r.mw_total)):
            yield Violation(
                "Power",
                row,
                f"serves {mw:g} MW, above firm capacity "
                f"{src.firm_fraction * float(r.mw_total):g} MW",
            )
        served[(r.site_id, y)] += mw
        if src.via_grid:
            grid[(r.site_id, y)] += mw
    for keys, group in df.groupby(["site_id", "source_id"], sort=False):
        site, source = str(keys[0]), str(keys[1])
        sp = site_power.get((site, source))
        if sp is None:
            continue
        total = sp.existing_mw
        for _, r in group.iterrows():
            total += float(r.mw_added)
            added[(site, source)] += float(r.mw_added)
            if _differs(float(r.mw_total), total):
                yield Violation(
                    "Power",
                    None,
                    f"{site} {source} {int(r.year)}: mw_total "
                    f"{r.mw_total:g} but existing + added = {total:g}",
                )
    for key, fac in facility.items():
        if _differs(served.get(key, 0.0), fac):
            yield Violation(
                "Power",
                None,
                f"{key[0]} {key[1]}: sources serve "
                f"{served.get(key, 0.0):g} MW for {fac:g} MW of facility power",
            )
        if _over(grid.get(key, 0.0), st.power_factor * mva.get(key, 0.0)):
            yield Violation(
                "Transformers",
                None,
                f"{key[0]} {key[1]}: grid power "
                f"{grid[key]:g} MW exceeds transformers {mva.get(key, 0.0):g} MVA x "
                f"power_factor",
            )


def _check_transformers(d: PlanningData, plan: Plan) -> Iterator[Violation]:
    st = d.settings
    units = {t.transformer_id: t for t in d.transformers}
    sites = {s.site_id: s for s in d.sites}
    extra: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row, r in _rows(plan["Transformers"]):
        t = units.get(r.transformer_id)
        if t is None:
            yield Violation("Transformers", row, f"unknown transformer {r.transformer_id}")
            continue
        if int(r.year) < st.start_year + t.lead_years:
            yield Violation(
                "Transformers",
                row,
                f"unit online in {int(r.year)}, before its "
                f"lead time allows ({st.start_year + t.lead_years})",
            )
        if float(r.units_added) < 0 or not float(r.units_added).is_integer():
            yield Violation("Transformers", row, "units_added must be a whole number >= 0")
        extra[r.site_id].append((int(r.year), float(r.units_added) * t.mva))
    for row, r in _rows(plan["SiteYears"]):
        s = sites[r.site_id]
        expected = s.existing_transformer_mva + sum(
            mva for y, mva in extra.get(s.site_id, []) if y <= int(r.year)
        )
        if _differs(float(r.transformer_mva), expected):
            yield Violation(
                "SiteYears",
                row,
                f"transformer_mva {r.transformer_mva:g} but existing + units added = {expected:g}",
            )


def _check_runs(d: PlanningData, plan: Plan) -> Iterator[Violation]:
    st = d.settings
    gpus = {g.gpu_id: g for g in d.gpus}
    runs = {r.run_id: r for r in d.runs}
    installed = {
        (r.site_id, r.gpu_id, int(r.year)): float(r.installed) for _, r in plan["GPUs"].iterrows()
    }
    alloc = plan["RunGPUs"]
    used: dict[tuple[str, str, int], float] = defaultdict(float)
    listed = {r.run_id: r for _, r in plan["Runs"].iterrows()}
    for run in d.runs:
        if run.run_id not in listed:
            yield Violation("Runs", None, f"run {run.run_id} is missing from the plan")
    for row, r in _rows(plan["Runs"]):
        if r.run_id not in runs:
            yield Violation("Runs", row, f"unknown run {r.run_id}")
            continue
        run = runs[r.run_id]
        mine = alloc[alloc.run_id == r.run_id]
        sites = sorted(set(mine.site_id))
        host = r.host_site if isinstance(r.host_site, str) else None
        if len(sites) > run.max_sites:
            yield Violation("Runs", row, f"spans {len(sites)} sites, max_sites is {run.max_sites}")
        mixed = _mixed(run.gpu_mix, mine[mine.gpus > 0], gpus)
        if mixed:
            yield Violation("Runs", row, f"gpu_mix is {run.gpu_mix} but the run uses {mixed}")
        factor = st.multi_site_efficiency if len(sites) > 1 else 1.0
        seconds = run.duration_days * SECONDS_PER_DAY
        delivered = factor * sum(
            float(a.gpus) * gpus[a.gpu_id].bf16_tflops * 1e12 * run.mfu * seconds
            for _, a in mine.iterrows()
        )
        if delivered < run.flop * (1 - REL_TOL):
            yield Violation(
                "Runs", row, f"delivers {delivered:.4g} FLOP, below the {run.flop:.4g} required"
            )
        for _, a in mine.iterrows():
            used[(a.site_id, a.gpu_id, run.ready_year)] += float(a.gpus)
        if len(sites) > 1:
            yield from _check_network(d, plan, run, host, mine, row)
    for (s, g, y), n in used.items():
        if _over(n, installed.get((s, g, y), 0.0)):
            yield Violation(
                "RunGPUs",
                None,
                f"runs of {y} use {n:g} {g} at {s}, but only "
                f"{installed.get((s, g, y), 0.0):g} are installed",
            )


def _mixed(mix: str, used: pd.DataFrame, gpus: dict[str, Any]) -> str:
    """What breaks a run's gpu_mix in its RunGPUs rows ("" when nothing does)."""
    if mix == "site":
        for site, group in used.groupby("site_id"):
            if group.gpu_id.nunique() > 1:
                return f"{', '.join(sorted(set(group.gpu_id)))} at {site}"
    if mix == "run" and used.gpu_id.nunique() > 1:
        return ", ".join(sorted(set(used.gpu_id)))
    vendors = {gpus[g].vendor.strip().lower() for g in used.gpu_id if g in gpus}
    if mix == "vendor" and len(vendors) > 1:
        return "GPUs of " + ", ".join(sorted(vendors))
    return ""


def _check_network(
    d: PlanningData, plan: Plan, run: object, host: str | None, mine: pd.DataFrame, row: int
) -> Iterator[Violation]:
    st = d.settings
    gpus = {g.gpu_id: g for g in d.gpus}
    links = {lk.link_id: lk for lk in d.fiber_links}
    ready = int(run.ready_year)  # type: ignore[attr-defined]
    run_id = str(run.run_id)  # type: ignore[attr-defined]
    built = {str(r.link_id): int(r.built_year) for _, r in plan["Fiber"].iterrows()}
    flows = plan["FiberFlows"]
    mine_flows = flows[flows.run_id == run_id]
    net: dict[str, float] = defaultdict(float)
    for _, f in mine_flows.iterrows():
        link = links.get(f.link_id)
        if link is None or built.get(str(f.link_id), 10**9) > ready:
            yield Violation(
                "FiberFlows",
                None,
                f"{run_id} sends traffic on link {f.link_id}, which is not built by {ready}",
            )
            continue
        net[f.from_site] += float(f.gbps)
        net[f.to_site] -= float(f.gbps)
    for site, group in mine.groupby("site_id"):
        if site == host:
            continue
        need = st.gbps_per_pflops * sum(
            float(a.gpus) * gpus[a.gpu_id].bf16_tflops / 1000.0 for _, a in group.iterrows()
        )
        if net.get(str(site), 0.0) < need * (1 - REL_TOL) - 1e-6:
            yield Violation(
                "Runs",
                row,
                f"{site} contributes {need:,.0f} Gbps of compute to "
                f"{run_id} but sends only {net.get(str(site), 0.0):,.0f} Gbps",
            )
    for s, v in net.items():
        if s != host and v < -REL_TOL * max(1.0, abs(v)) - 1e-6:
            yield Violation(
                "FiberFlows", None, f"{run_id}: traffic ends at {s}, not at the host {host}"
            )
    load: dict[tuple[str, str, str], float] = defaultdict(float)
    same_year = {r.run_id for r in d.runs if r.ready_year == ready}
    for _, f in flows[flows.run_id.isin(same_year)].iterrows():
        load[(str(f.link_id), str(f.from_site), str(f.to_site))] += float(f.gbps)
    for (lk, a, b), gbps in load.items():
        link = links.get(lk)
        if link is not None and _over(gbps, link.bandwidth_gbps):
            yield Violation(
                "FiberFlows",
                None,
                f"{lk} {a}->{b} carries {gbps:,.0f} Gbps in "
                f"{ready}, above its {link.bandwidth_gbps:,.0f} Gbps",
            )


class _Ledger(dict[tuple[int, str], float]):
    """Nominal USD by (year, category); capex is booked by ``Settings.capex_accounting``."""

    def __init__(self, d: PlanningData) -> None:
        super().__init__()
        self.settings = d.settings

    def add(self, year: int, category: str, usd: float) -> None:
        self[(year, category)] = self.get((year, category), 0.0) + usd

    def capex(self, year: int, category: str, usd: float, life: int) -> None:
        """Whole in ``year`` (full), or the level payment whose present value, paid at
        the end of each of ``life`` years, is ``usd`` (the capital-recovery annuity), in
        each year from ``year`` on within the horizon."""
        st = self.settings
        if st.capex_accounting == "full":
            self.add(year, category, usd)
            return
        growth = 1.0 + st.discount_rate
        payment = usd / sum(growth**-k for k in range(1, life + 1))
        for z in range(year, min(year + life, st.end_year + 1)):
            self.add(z, category, payment)


def recompute_costs(d: PlanningData, plan: Plan) -> dict[tuple[int, str], float]:
    """Nominal USD by (year, category), from plan quantities and input prices only."""
    st = d.settings
    sites = {s.site_id: s for s in d.sites}
    sources = {p.source_id: p for p in d.power_sources}
    site_power = {(p.site_id, p.source_id): p for p in d.site_power}
    gpus = {g.gpu_id: g for g in d.gpus}
    units = {t.transformer_id: t for t in d.transformers}
    links = {lk.link_id: lk for lk in d.fiber_links}
    cooling_capex = {(c.site_id, c.cooling_id): c.capex_usd_per_mw for c in d.cooling}
    chosen = {r.site_id: r.cooling_id for _, r in plan["Sites"].iterrows()}
    cost = _Ledger(d)
    shell_life = st.facility_life_years
    for _, r in plan["SiteYears"].iterrows():
        s, y = sites[r.site_id], int(r.year)
        extra = cooling_capex.get((s.site_id, str(chosen.get(s.site_id))), 0.0)
        rate = s.shell_capex_usd_per_mw + extra
        cost.capex(y, "site_capex", float(r.it_added_mw) * rate, shell_life)
        cost.add(y, "site_om", float(r.it_capacity_mw) * s.om_usd_per_mw_year)
    for _, r in plan["Power"].iterrows():
        src, sp, y = sources[r.source_id], site_power[(r.site_id, r.source_id)], int(r.year)
        price = (
            sp.energy_usd_per_mwh if sp.energy_usd_per_mwh is not None else src.energy_usd_per_mwh
        )
        cost.capex(y, "power_capex", float(r.mw_added) * src.capex_usd_per_mw, src.life_years)
        cost.add(y, "power_om", (float(r.mw_total) - sp.existing_mw) * src.om_usd_per_mw_year)
        cost.add(y, "energy", float(r.mwh) * price)
        cost.add(y, "carbon", float(r.mwh) * src.co2_t_per_mwh * st.co2_price_usd_per_t)
    for _, r in plan["Transformers"].iterrows():
        unit = units[r.transformer_id]
        usd = float(r.units_added) * unit.capex_usd
        cost.capex(int(r.year), "transformer_capex", usd, unit.life_years or shell_life)
    for _, r in plan["GPUs"].iterrows():
        g = gpus[r.gpu_id]
        cost.capex(int(r.year), "gpu_capex", float(r.purchased) * g.capex_usd, g.life_years)
    for _, r in plan["Fiber"].iterrows():
        link = links[r.link_id]
        cost.capex(int(r.built_year), "fiber_capex", link.capex_usd, link.life_years or shell_life)
        for y in range(int(r.built_year), st.end_year + 1):
            cost.add(y, "fiber_om", link.om_usd_per_year)
    return {k: v for k, v in cost.items() if abs(v) > 1e-6}


def _check_costs(d: PlanningData, plan: Plan) -> Iterator[Violation]:
    expected = recompute_costs(d, plan)
    reported = {
        (int(r.year), str(r.category)): float(r.nominal_usd) for _, r in plan["Costs"].iterrows()
    }
    scale = max([abs(v) for v in expected.values()] + [1.0]) * 1e-6
    for key in sorted(set(expected) | set(reported)):
        if _differs(reported.get(key, 0.0), expected.get(key, 0.0), scale):
            yield Violation(
                "Costs",
                None,
                f"{key[0]} {key[1]}: reported "
                f"{reported.get(key, 0.0):,.0f} USD, recomputed "
                f"{expected.get(key, 0.0):,.0f} USD",
            )
    rate = d.settings.discount_rate
    total = sum(v * (1 + rate) ** -(y - d.settings.start_year) for (y, _), v in expected.items())
    objective = plan.summary.get("objective_usd")
    if (
        isinstance(objective, int | float)
        and math.isfinite(objective)
        and _differs(float(objective), total, scale)
    ):
        yield Violation(
            "Summary",
            None,
            f"objective {objective:,.0f} USD but the plan's costs discount to {total:,.0f} USD",
        )
