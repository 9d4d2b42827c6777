"""What each run costs: the year's costs at its sites, shared out by the GPU-hours it
uses, and what no run uses shown apart.

Every nominal cost term carries where it is incurred (``models.costs.add_cost``: site
and GPU type). In a run's ready year y, at each site s it uses n GPUs of type g for
``duration_days`` (at most a year):

* GPU capex at (s, g, y) is shared per installed GPU-hour of g,
* site, power and transformer costs at (s, y) per installed IT MW-hour (idle GPUs
  occupy capacity too),
* energy at (s, y) per IT MW-hour drawn,
* fiber costs of year y by the GPUs of the year's multi-site runs.

With ``capex_accounting`` = annuity these are GPU-hours times amortised rates; with
``full`` a year's capex is shared by that year's GPU-hours only. The rest of each year's
cost is what no run uses (idle GPUs, capacity built ahead of a later run).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd
import pyomo.environ as pyo

from models.costs import cost_where, value_left_terms
from models.linear import value_of
from models.sets import HOURS_PER_YEAR, MUSD, ModelData
from planner.inputs.schema import H100_BF16_TFLOPS

FACILITY = frozenset({"site_capex", "site_om", "power_capex", "power_om", "transformer_capex"})


@dataclass
class RunCosts:
    """Per run: nominal USD in its ready year, GPU-hours and H100-equivalent hours."""

    usd: dict[str, float] = field(default_factory=dict)
    gpu_hours: dict[str, float] = field(default_factory=dict)
    h100e_hours: dict[str, float] = field(default_factory=dict)


def cost_pools(m: pyo.ConcreteModel) -> dict[tuple[str, int, str, str], float]:
    """Nominal USD by (category, year, site, GPU type)."""
    pools: dict[tuple[str, int, str, str], float] = defaultdict(float)
    for (category, year), terms in cost_where(m).items():
        for (rate, q), (site, gpu) in terms:
            pools[(category, year, site, gpu)] += value_of([(rate, q)]) * MUSD
    return pools


def value_left_usd(m: pyo.ConcreteModel) -> float:
    """Capex payments still due after end_year, discounted to it (USD)."""
    return sum(value_of(terms) for terms in value_left_terms(m).values()) * MUSD


def run_costs(m: pyo.ConcreteModel, d: ModelData, alloc: pd.DataFrame) -> RunCosts:
    """Each run's share of its ready year's costs (module docstring); ``alloc`` is the
    RunGPUs table."""
    shares = _Shares.of(m, d, cost_pools(m))
    uses = [
        (str(r), str(s), str(g), float(n))
        for r, s, g, n in zip(alloc.run_id, alloc.site_id, alloc.gpu_id, alloc.gpus, strict=True)
    ]
    spans: dict[str, set[str]] = defaultdict(set)
    for r, s, _, _ in uses:
        spans[r].add(s)
    multi_gpus: dict[int, float] = defaultdict(float)
    for r, _, _, n in uses:
        if len(spans[r]) > 1:
            multi_gpus[d.run(r).ready_year] += n
    out = RunCosts()
    for r, s, g, n in uses:
        run, gpu = d.run(r), d.gpu(g)
        y, hours = run.ready_year, min(run.duration_days * 24.0, HOURS_PER_YEAR)
        usd = n * hours * shares.per_gpu_hour(s, g, y, gpu.it_kw)
        if len(spans[r]) > 1:
            usd += shares.fiber[y] * n / multi_gpus[y] * hours / HOURS_PER_YEAR
        out.usd[r] = out.usd.get(r, 0.0) + usd
        out.gpu_hours[r] = out.gpu_hours.get(r, 0.0) + n * hours
        out.h100e_hours[r] = (
            out.h100e_hours.get(r, 0.0) + n * hours * gpu.bf16_tflops / H100_BF16_TFLOPS
        )
    return out


@dataclass
class _Shares:
    """Cost pools and the quantities they are shared over, per site and year."""

    d: ModelData
    pools: dict[tuple[str, int, str, str], float]
    installed: dict[tuple[str, str, int], float]
    installed_mw: dict[tuple[str, int], float]
    drawing_mw: dict[tuple[str, int], float]
    fiber: dict[int, float]

    @classmethod
    def of(
        cls, m: pyo.ConcreteModel, d: ModelData, pools: dict[tuple[str, int, str, str], float]
    ) -> _Shares:
        installed = {k: m.gpus_installed.value(k) for k in m.GPU_FLEET}
        installed_mw: dict[tuple[str, int], float] = defaultdict(float)
        for (s, g, y), n in installed.items():
            installed_mw[(s, y)] += n * d.gpu(g).it_kw / 1000.0
        drawing = {k: m.it_load_total_mw.value(k) for k in m.SITE_YEAR}
        fiber: dict[int, float] = defaultdict(float)
        for (c, y, s, _), usd in pools.items():
            if c.startswith("fiber") and not s:
                fiber[y] += usd
        return cls(d, pools, installed, installed_mw, drawing, fiber)

    def per_gpu_hour(self, s: str, g: str, y: int, it_kw: float) -> float:
        """USD per GPU-hour of one GPU of type g at site s in year y."""
        p, mw = self.pools, it_kw / 1000.0
        n = self.installed.get((s, g, y), 0.0)
        gpu = p.get(("gpu_capex", y, s, g), 0.0) / n if n else 0.0
        held = self.installed_mw.get((s, y), 0.0)
        facility = sum(p.get((c, y, s, ""), 0.0) for c in FACILITY)
        drawn = self.drawing_mw.get((s, y), 0.0)
        energy = p.get(("energy", y, s, ""), 0.0)
        per_year = gpu + (mw * facility / held if held else 0.0)
        per_year += mw * energy / drawn if drawn else 0.0
        return per_year / HOURS_PER_YEAR
