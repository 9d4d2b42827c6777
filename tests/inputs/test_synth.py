"""The synthetic workbook generator: valid, feasible, deterministic (``planner.inputs.synth``)."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from planner import api
from planner.inputs.contested import (
    ContestedWorkbook,
    JointWitness,
    generate_contested,
    write_contested,
)
from planner.inputs.synth import SynthSpec, generate, supply_needs, write_synth
from planner.solving.status import STATUS_OPTIMAL, STATUS_TIME_LIMIT

SPECS = [
    SynthSpec(sites=5, years=2, gpus=3, sources=3, links=4, seed=0),
    SynthSpec(sites=8, years=3, gpus=4, sources=6, links=10, seed=1),
    pytest.param(  # about 2 s
        SynthSpec(sites=12, years=4, gpus=6, sources=8, links=20, seed=7), marks=pytest.mark.slow
    ),
    SynthSpec(sites=20, years=3, gpus=2, sources=2, links=30, seed=3),
]


def cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's values (the file bytes differ by timestamps; the data must not)."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets
        }
    finally:
        wb.close()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.sites}s{s.years}y-seed{s.seed}")
def test_valid_and_feasible(spec: SynthSpec, tmp_path: Path) -> None:
    path = write_synth(spec, tmp_path / "synth.xlsx")
    data = api.load(path)
    assert len(data.sites) == spec.sites
    assert len(data.years) == spec.years
    assert len(data.gpus) == spec.gpus
    assert len(data.power_sources) == spec.sources
    assert len(data.fiber_links) == min(spec.links, spec.sites * (spec.sites - 1) // 2)
    assert data.runs
    result = api.solve(data, mip_gap=0.01, time_limit_s=30, threads=1)
    assert result.status in (STATUS_OPTIMAL, STATUS_TIME_LIMIT), result.result.message
    assert result.plan is not None
    assert result.violations == []


def test_exercises_every_constraint_family() -> None:
    wb = generate(SynthSpec(sites=30, years=5, gpus=6, sources=6, links=60, seed=2))
    t = wb.tables
    resources = {r["resource"] for r in t["Supply"]}
    assert {"cowos_wafers", "hbm_stacks", "transformer_units"} <= resources
    assert any(r.startswith("gpu:") for r in resources)
    assert any(not e["allowed"] for e in t["ExportControls"])
    assert {p["lead_years"] for p in t["PowerSources"]} != {0}
    assert t["Cooling"]
    assert any(r["max_sites"] > 1 for r in t["Runs"])
    assert any(len(w.sites) > 1 for w in wb.witnesses)  # a run that needs its links
    assert len(t["FiberLinks"]) == 60
    ids = [(lk["site_a"], lk["site_b"]) for lk in t["FiberLinks"]]
    assert len(set(ids)) == len(ids)


def test_deterministic(tmp_path: Path) -> None:
    spec = SynthSpec(sites=10, years=3, gpus=4, sources=4, links=12, seed=11)
    a = cells(write_synth(spec, tmp_path / "a.xlsx"))
    b = cells(write_synth(spec, tmp_path / "b.xlsx"))
    c = cells(
        write_synth(
            SynthSpec(sites=10, years=3, gpus=4, sources=4, links=12, seed=12), tmp_path / "c.xlsx"
        )
    )
    assert a == b
    assert a != c


@pytest.mark.slow
def test_cli(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "cli.xlsx"
    proc = cli(
        "synth",
        "--sites",
        "6",
        "--years",
        "2",
        "--gpus",
        "3",
        "--sources",
        "3",
        "--links",
        "5",
        "--seed",
        "4",
        "-o",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.exists()
    assert cells(out) == cells(
        write_synth(
            SynthSpec(sites=6, years=2, gpus=3, sources=3, links=5, seed=4), tmp_path / "api.xlsx"
        )
    )


def test_bad_spec() -> None:
    with pytest.raises(ValueError):
        SynthSpec(sites=0)


# --------------------------------------------------------------------------- contested

CONTESTED_FEASIBLE = [
    SynthSpec(sites=8, years=3, gpus=4, sources=4, links=12, seed=0, runs=4),
    SynthSpec(sites=12, years=4, gpus=5, sources=6, links=24, seed=5, runs=6),
    SynthSpec(sites=16, years=4, gpus=5, sources=6, links=30, seed=2, runs=6),
    SynthSpec(sites=20, years=5, gpus=6, sources=6, links=50, seed=3, runs=7),
]
# Generated only: the joint witness is checked on sizes too large to solve in a test.
CONTESTED_SIZES = [
    *(
        SynthSpec(sites=30, years=6, gpus=8, sources=6, links=90, seed=k, runs=12)
        for k in (1, 2, 3)
    ),
    SynthSpec(sites=100, years=8, gpus=8, sources=6, links=400, seed=4, runs=20),
    SynthSpec(sites=300, years=8, gpus=8, sources=6, links=1500, seed=5, runs=6),
    SynthSpec(sites=6, years=2, gpus=2, sources=2, links=0, seed=6, runs=5),
    SynthSpec(sites=3, years=1, gpus=1, sources=1, links=2, seed=7, runs=3),
]


def spec_id(s: SynthSpec) -> str:
    return f"{s.sites}s{s.years}y{s.runs}r-seed{s.seed}"


@pytest.mark.parametrize("spec", CONTESTED_FEASIBLE, ids=spec_id)
def test_contested_valid_and_feasible(spec: SynthSpec, tmp_path: Path) -> None:
    path = write_contested(spec, tmp_path / "contested.xlsx")
    data = api.load(path)  # raises InputError unless the workbook validates
    assert len(data.sites) == spec.sites
    assert len(data.runs) == spec.runs
    result = api.solve(data, mip_gap=0.01, time_limit_s=60, threads=1)
    assert result.status in (STATUS_OPTIMAL, STATUS_TIME_LIMIT), result.result.message
    assert result.plan is not None
    assert result.violations == []


@pytest.mark.parametrize("spec", [*CONTESTED_FEASIBLE[:2], *CONTESTED_SIZES], ids=spec_id)
def test_joint_witness_meets_every_shared_limit(spec: SynthSpec) -> None:
    wb = generate_contested(spec)
    assert {w.run_id for w in wb.joint.runs} == {r["run_id"] for r in wb.tables["Runs"]}
    assert joint_violations(wb) == []


def test_runs_compete_for_sites_and_supply() -> None:
    """Across seeds: sites carry several runs, supply caps sit close to the witness's
    purchases, and some witness needs new transformers (a shared, capped supply)."""
    shared = tight = transformers = 0
    for seed in range(4):
        wb = generate_contested(
            SynthSpec(sites=30, years=6, gpus=8, sources=6, links=90, seed=seed, runs=12)
        )
        hosts = Counter(s for w in wb.joint.runs for s in w.sites)
        shared += sum(1 for n in hosts.values() if n >= 2)
        caps = {(r["resource"], r["year"]): r["capacity"] for r in wb.tables["Supply"]}
        need = supply_needs(wb.tables["GPUs"], wb.joint.runs)
        tight += sum(1 for k, n in need.items() if k in caps and n > 0 and caps[k] <= 1.3 * n + 1)
        transformers += sum(wb.joint.transformers.values())
    assert shared >= 8
    assert tight >= 8
    assert transformers > 0


def test_the_witness_check_finds_a_broken_limit() -> None:
    """The checker below is the test's own: it must fail a witness that breaks a limit."""
    wb = generate_contested(
        SynthSpec(sites=30, years=6, gpus=8, sources=6, links=90, seed=1, runs=12)
    )
    w = wb.joint.runs[0]
    host = w.sites[0]
    w.gpus_by_site[host] *= 3  # more GPUs than the host can power
    problems = joint_violations(wb)
    assert any(p.startswith(f"power {host}") for p in problems), problems
    w.gpus_by_site[host] //= 3
    flop = next(r for r in wb.tables["Runs"] if r["run_id"] == w.run_id)
    flop["flop"] *= 2.5
    assert any(p.startswith(f"flop {w.run_id}") for p in joint_violations(wb))


@pytest.mark.parametrize(
    "spec",
    [
        SynthSpec(sites=10, years=3, gpus=4, sources=4, links=12, seed=11, runs=5),
        SynthSpec(sites=30, years=6, gpus=8, sources=6, links=90, seed=3, runs=12),
        SynthSpec(sites=100, years=8, gpus=8, sources=6, links=400, seed=8, runs=6),
    ],
    ids=spec_id,
)
def test_contested_deterministic(spec: SynthSpec) -> None:
    a, b = generate_contested(spec), generate_contested(spec)
    assert a.tables == b.tables
    assert a.joint == b.joint
    other = generate_contested(dataclasses.replace(spec, seed=spec.seed + 1))
    assert other.tables != a.tables


def test_contested_files_deterministic(tmp_path: Path) -> None:
    spec = SynthSpec(sites=10, years=3, gpus=4, sources=4, links=12, seed=11, runs=5)
    a = cells(write_contested(spec, tmp_path / "a.xlsx"))
    assert a == cells(write_contested(spec, tmp_path / "b.xlsx"))
    assert a != cells(write_synth(spec, tmp_path / "plain.xlsx"))


@pytest.mark.slow
def test_cli_contested(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "cli.xlsx"
    args = ["--sites", "8", "--years", "3", "--runs", "4", "--seed", "4", "--contested"]
    proc = cli("synth", *args, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "4 contested runs" in proc.stdout
    spec = SynthSpec(sites=8, years=3, runs=4, seed=4)
    assert cells(out) == cells(write_contested(spec, tmp_path / "api.xlsx"))


# An independent check of the joint witness, written from the workbook's tables and the
# formulation's rules (docs/formulation.md), not from the generator's code.

TOL = 1e-6


@dataclass
class Tables:
    """The workbook's rows by key."""

    wb: ContestedWorkbook

    def __post_init__(self) -> None:
        t, st = self.wb.tables, self.wb.settings
        self.years = list(range(st["start_year"], st["end_year"] + 1))
        self.s0 = st["start_year"]
        self.sites = {s["site_id"]: s for s in t["Sites"]}
        self.gpus = {g["gpu_id"]: g for g in t["GPUs"]}
        self.sources = {p["source_id"]: p for p in t["PowerSources"]}
        self.units = {u["transformer_id"]: u for u in t["Transformers"]}
        self.runs = {r["run_id"]: r for r in t["Runs"]}
        self.links = {lk["link_id"]: lk for lk in t["FiberLinks"]}
        self.caps = {(r["resource"], r["year"]): r["capacity"] for r in t["Supply"]}
        self.banned = {(e["country"], e["gpu_id"]) for e in t["ExportControls"] if not e["allowed"]}
        self.pue = {s: float(row["pue"]) for s, row in self.sites.items()}
        for c in t["Cooling"]:  # whichever design is chosen, its PUE is at most the worst
            self.pue[c["site_id"]] = max(self.pue[c["site_id"]], float(c["pue"]))
        self.power_rows = defaultdict(list)
        for sp in t["SitePower"]:
            self.power_rows[sp["site_id"]].append(sp)


def joint_violations(wb: ContestedWorkbook) -> list[str]:
    tb = Tables(wb)
    installed = _installed(tb, wb.joint.purchases())
    return [
        *_purchase_rules(tb, wb.joint.purchases()),
        *_site_limits(tb, wb.joint, installed),
        *_supply_caps(tb, wb.joint),
        *_run_rules(tb, wb.joint, installed),
        *_link_rules(tb, wb.joint),
    ]


def _installed(
    tb: Tables, bought: dict[tuple[str, str, int], int]
) -> dict[tuple[str, str, int], int]:
    """GPUs in service per (site, type, year): bought within the last life_years."""
    out: dict[tuple[str, str, int], int] = defaultdict(int)
    for (s, g, y), n in bought.items():
        for t in tb.years:
            if y <= t < y + tb.gpus[g]["life_years"]:
                out[(s, g, t)] += n
    return out


def _purchase_rules(tb: Tables, bought: dict[tuple[str, str, int], int]) -> list[str]:
    bad = []
    for (s, g, y), n in bought.items():
        site, gpu = tb.sites[s], tb.gpus[g]
        if n < 0 or y < gpu["available_year"] or y < site["earliest_year"] or y not in tb.years:
            bad.append(f"purchase {s} {g} {y}: not on sale or site not open")
        if (site["country"], g) in tb.banned:
            bad.append(f"purchase {s} {g}: banned in {site['country']}")
    return bad


def _site_limits(
    tb: Tables, joint: JointWitness, installed: dict[tuple[str, str, int], int]
) -> list[str]:
    """IT within max_it_mw; facility power within firm power, grid within transformers."""
    bad = []
    pf = tb.wb.settings["power_factor"]
    for s, site in tb.sites.items():
        it = {
            t: sum(
                n * tb.gpus[g]["it_kw"] / 1000
                for (x, g, y), n in installed.items()
                if x == s and y == t
            )
            for t in tb.years
        }
        if max(it.values()) > site["max_it_mw"] + TOL:
            bad.append(f"it {s}: {max(it.values()):.1f} MW over max_it_mw")
        for t in tb.years:
            if it[t] <= 0:
                continue
            onsite, grid = _firm(tb, joint, s, t)
            mva = site["existing_transformer_mva"] + sum(
                n * tb.units[u]["mva"]
                for (x, u, y), n in joint.transformers.items()
                if x == s and y <= t
            )
            if it[t] * tb.pue[s] > onsite + min(grid, pf * mva) + TOL:
                bad.append(f"power {s} {t}: facility {it[t] * tb.pue[s]:.1f} MW not served")
    for (s, u, y), n in joint.transformers.items():
        grid_sources = [sp for sp in tb.power_rows[s] if tb.sources[sp["source_id"]]["via_grid"]]
        if n < 0 or y < tb.s0 + tb.units[u]["lead_years"] or not grid_sources:
            bad.append(f"transformer {s} {u} {y}: before its lead time or no grid source")
    return bad


def _firm(tb: Tables, joint: JointWitness, s: str, t: int) -> tuple[float, float]:
    """Firm on-site and grid MW at site s in year t, checking the builds on the way."""
    onsite = grid = 0.0
    for sp in tb.power_rows[s]:
        p = sp["source_id"]
        src = tb.sources[p]
        adds = {y: mw for (x, q, y), mw in joint.power_mw.items() if x == s and q == p}
        assert all(y >= tb.s0 + src["lead_years"] for y in adds), f"{s} {p} before lead time"
        assert sum(adds.values()) <= sp["max_mw"] - sp["existing_mw"] + TOL, f"{s} {p} max_mw"
        mw = sp["existing_mw"] + sum(v for y, v in adds.items() if y <= t)
        if src["via_grid"]:
            grid += src["firm_fraction"] * mw
        else:
            onsite += src["firm_fraction"] * mw
    return onsite, grid


def _supply_caps(tb: Tables, joint: JointWitness) -> list[str]:
    use: dict[tuple[str, int], float] = defaultdict(float)
    for (_, g, y), n in joint.purchases().items():
        gpu = tb.gpus[g]
        use[(f"gpu:{g}", y)] += n
        use[("cowos_wafers", y)] += n * gpu["cowos_wafers_per_kgpu"] / 1000
        use[("hbm_stacks", y)] += n * gpu["hbm_stacks"]
    for (_, _, y), n in joint.transformers.items():
        use[("transformer_units", y)] += n
    return [
        f"supply {res} {y}: {u:.0f} over {tb.caps[(res, y)]:.0f}"
        for (res, y), u in use.items()
        if (res, y) in tb.caps and u > tb.caps[(res, y)] + TOL
    ]


def _run_rules(
    tb: Tables, joint: JointWitness, installed: dict[tuple[str, str, int], int]
) -> list[str]:
    """FLOP targets, max_sites, and separate GPUs for the runs of one ready year."""
    bad = []
    eff = tb.wb.settings["multi_site_efficiency"]
    used: dict[tuple[str, str, int], int] = defaultdict(int)
    for w in joint.runs:
        run = tb.runs[w.run_id]
        seconds = run["duration_days"] * 86400
        flop = sum(
            n * tb.gpus[w.gpu_by_site[s]]["bf16_tflops"] * 1e12 * run["mfu"] * seconds
            for s, n in w.gpus_by_site.items()
        ) * (eff if len(w.sites) > 1 else 1.0)
        if flop < run["flop"] * (1 - 1e-12) or w.year != run["ready_year"]:
            bad.append(f"flop {w.run_id}: {flop:.3g} < {run['flop']:.3g}")
        if len(w.sites) > run["max_sites"] or set(w.gpus_by_site) != set(w.sites):
            bad.append(f"sites {w.run_id}: {len(w.sites)} > max_sites {run['max_sites']}")
        for s, n in w.gpus_by_site.items():
            used[(s, w.gpu_by_site[s], w.year)] += n
    for k, n in used.items():
        if n > installed.get(k, 0):
            bad.append(f"sharing {k}: runs of one year use {n} of {installed.get(k, 0)} GPUs")
    return bad


def _link_rules(tb: Tables, joint: JointWitness) -> list[str]:
    """Each member sends over a direct link to its host, online by the run's year; the
    runs of one year share each link's bandwidth per direction."""
    bad = []
    k = tb.wb.settings["gbps_per_pflops"]
    traffic: dict[tuple[str, str, int], float] = defaultdict(float)
    for w in joint.runs:
        host, members = w.sites[0], w.sites[1:]
        if len(w.links) != len(members):
            bad.append(f"links {w.run_id}: {len(w.links)} for {len(members)} members")
            continue
        for m, lid in zip(members, w.links, strict=True):
            lk = tb.links[lid]
            if {lk["site_a"], lk["site_b"]} != {host, m} or tb.s0 + lk["lead_years"] > w.year:
                bad.append(f"link {lid}: does not join {m} to {host} by {w.year}")
            pflops = w.gpus_by_site[m] * tb.gpus[w.gpu_by_site[m]]["bf16_tflops"] / 1000
            traffic[(lid, m, w.year)] += k * pflops
    for (lid, sender, y), gbps in traffic.items():
        if gbps > tb.links[lid]["bandwidth_gbps"] + TOL:
            bad.append(f"bandwidth {lid} from {sender} in {y}: {gbps:.0f} Gbps")
    return bad
