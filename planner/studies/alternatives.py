"""Near-optimal alternatives and hedges: plans that differ most from the optimum (and
from each other) at little extra cost, and what avoiding each country or GPU vendor of
the optimum costs.

The computation (``run_alternatives``), on the studies machinery (worker processes or
a Dask scheduler, each task a pure function of its payload, results cached):

1. **The optimum**: the least-cost plan, cost ``C*``.
2. **Hop-skip-jump search** (modelling to generate alternatives) in the dimension
   ``by`` (site, country or vendor): search step ``k`` minimises the use of what the
   optimum and the earlier steps used (IT MW built at those sites or countries, or GPUs
   of those vendors, each weighted by how many earlier plans used it) under the cost cap
   ``C(x) <= (1 + slack) C*`` (``models.alternatives``), integer decisions intact. Its
   plan's choices in ``by`` (the sites, countries or vendors it puts GPUs at or buys)
   define the alternative. The search stops after ``count`` steps, or when a step finds
   no plan or nothing new.
3. **Each alternative at its own least cost**: re-solved with the normal objective on
   the inputs restricted to its choices (the other sites, countries' sites or vendors'
   GPU types removed), under the same cost cap and with its use of the choices it keeps
   of earlier plans capped at the search step's (``alternative_use_cap``: a plan that
   moves 300 MW out of the UAE keeps at most the rest there), so it is reported at the
   cheapest cost of what defines it, not at the cost the search stopped at. An
   alternative that still re-solves to the choices of an earlier plan is dropped
   (noted).
4. **Hedges**: for every country and every GPU vendor the optimum relies on, the
   cheapest plan without it (its sites, or its GPU types, removed), its cost delta, or,
   when there is none, the first line of the diagnosis of the restricted inputs.

Steps 2 and 3 overlap: the re-solve of alternative ``k`` and the hedges run beside
search step ``k + 1``. Every plan is re-checked against the full workbook
(``planner.results.check``); a plan that fails is reported with status ``error``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.alternatives import AlternativeSpec, cost_value, use_values
from models.build import build_model
from models.neighbourhood import site_columns
from models.sets import MUSD, build_model_data
from planner.inputs.data import PlanningData
from planner.inputs.schema import gpu_resource
from planner.inputs.validate import cross_check
from planner.results.check import check_plan
from planner.results.tables import Plan
from planner.solving.compiled import compile_model, load_values
from planner.solving.pipeline import count_columns
from planner.solving.status import STATUS_ERROR, STATUS_INFEASIBLE
from planner.solving.strategy import solve_compiled
from planner.studies.cache import read_cache, result_key, write_cache
from planner.studies.executors import Task
from planner.studies.report import _frames
from planner.studies.session import Session, open_session
from planner.studies.worker import Result, crashed, solve_task

BY = ("site", "country", "vendor")
PLURAL = {"site": "sites", "country": "countries", "vendor": "vendors"}
OPTIMUM = "optimum"
USED_MW = 1e-3  # IT capacity below this (MW) does not count as a site used
TIE_BREAK = 1e-3  # the cost tie-break at C*, as a share of the optimum's total use
CACHE_KIND = 1  # bump when a task's result dict changes

Echo = Callable[[str], object]


# ------------------------------------------------------------------- worker side


def plan_task(payload: dict[str, Any]) -> Result:
    """``solve_task`` (normal objective; the payload's ``prepare`` may add a cost cap),
    and for an infeasible plan the first line of the diagnosis as ``diagnosis``."""
    out = solve_task(payload)
    if out.get("status") == STATUS_INFEASIBLE and payload.get("diagnose"):
        from planner.analysis.diagnose import diagnose

        try:
            lines = diagnose(payload["data"], time_limit_s=payload.get("time_limit_s")).lines
            out["diagnosis"] = lines[0] if lines else ""
        except Exception as exc:  # the row still says infeasible
            out["diagnosis"] = f"no diagnosis ({type(exc).__name__}: {exc})"
    return out


def search_task(payload: dict[str, Any]) -> Result:
    """One hop-skip-jump step: minimise the spec's use objective under its cost cap;
    returns the plan's IT MW per site (``sites_mw``), GPUs bought per site and type
    (``gpus``: ``[site, type, count]``) and its cost, never the plan tables."""
    t0 = time.perf_counter()
    try:
        out = _search(payload, t0)
    except Exception as exc:
        out = crashed(f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5))
    out["wall_seconds"] = time.perf_counter() - t0
    return out


def _search(payload: dict[str, Any], t0: float) -> Result:
    data: PlanningData = payload["data"]
    spec: AlternativeSpec = payload["prepare"]
    gap = data.settings.mip_gap if payload.get("mip_gap") is None else payload["mip_gap"]
    limit = payload.get("time_limit_s") or data.settings.time_limit_s
    md = build_model_data(data)
    m = build_model(md)
    if m.unreachable_runs:
        return {"status": STATUS_INFEASIBLE, "message": "a run has no GPU it could use"}
    spec(m)
    cm = compile_model(m)
    res = solve_compiled(
        cm,
        mip_gap=float(gap),
        time_limit_s=max(limit - (time.perf_counter() - t0), 0.01),
        threads=payload.get("threads", 1),
        counts=count_columns(cm),
        limit_label_s=limit,
        sites=site_columns(cm.columns, md),
    )
    out: Result = {"status": res.status, "message": res.message, "use": res.objective}
    if res.has_plan and res.values is not None:
        load_values(m, cm, res.values)
        sites_mw, gpus = use_values(m)
        out["sites_mw"] = {s: v for s, v in sorted(sites_mw.items()) if v > USED_MW}
        out["gpus"] = [[s, g, round(n)] for (s, g), n in sorted(gpus.items()) if n > 0.5]
        out["cost_usd"] = cost_value(m) * MUSD
    return out


# ------------------------------------------------------------------- the parent side


@dataclass
class Entry:
    """One reported plan: what defines it, the inputs it was solved on, its result."""

    name: str
    kind: str  # optimum | alternative | without
    defined_by: str
    data: PlanningData
    result: Result
    avoided: str = ""  # the country or vendor a hedge goes without
    search_cost_usd: float | None = None  # where the search step that found it stopped

    @property
    def objective_usd(self) -> float | None:
        value = self.result.get("objective_usd")
        return float(value) if value is not None else None


@dataclass
class AlternativesResult:
    data: PlanningData
    by: str
    slack: float
    count: int
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    solved: int = 0
    cache_hits: int = 0
    seconds: float = 0.0
    not_written: list[str] = field(default_factory=list)

    @property
    def optimum(self) -> Entry:
        return self.entries[0]


@dataclass
class Job:
    name: str
    fn: Callable[[dict[str, Any]], Result]
    payload: dict[str, Any]
    key: str


@dataclass
class Pending:
    """A search step's alternative waiting for its re-solve."""

    job: Job
    data: PlanningData
    defined_by: str
    search_cost_usd: float | None


class Runner:
    """Batches of jobs on a session, through the cache; counts what was solved."""

    def __init__(
        self,
        session: Session,
        out: AlternativesResult,
        settings: dict[str, Any],
        cache_dir: Path | None,
        echo: Echo | None,
    ) -> None:
        self.session, self.out, self.settings = session, out, settings
        self.cache_dir, self.echo = cache_dir, echo

    def job(
        self,
        name: str,
        fn: Callable[[dict[str, Any]], Result],
        data: PlanningData,
        spec: AlternativeSpec | None = None,
        diagnose: bool = False,
    ) -> Job:
        """A job with its cache key: the inputs, the solver settings, the spec."""
        base = result_key(
            data, mip_gap=self.settings["mip_gap"], time_limit_s=self.settings["time_limit_s"]
        )
        text = json.dumps(
            {
                "kind": [fn.__name__, CACHE_KIND],
                "inputs": base,
                "spec": dataclasses.asdict(spec) if spec is not None else None,
                "diagnose": diagnose,
            },
            sort_keys=True,
        )
        payload = {"data": data, "prepare": spec, "diagnose": diagnose, **self.settings}
        return Job(name, fn, payload, hashlib.sha256(text.encode()).hexdigest())

    def batch(self, jobs: list[Job]) -> dict[str, Result]:
        """Every job's result: from the cache when there, else solved on the session."""
        results: dict[str, Result] = {}
        tasks: list[Task] = []
        for job in jobs:
            path = self.cache_dir / f"{job.key}.json" if self.cache_dir else None
            cached = read_cache(path, self.echo) if path is not None else None
            if cached is not None:
                results[job.name] = cached
                self.out.cache_hits += 1
            else:
                tasks.append(Task(job.key, [job.name], job.payload, job.key, fn=job.fn))

        def done(task: Task, result: Result) -> None:
            self.out.solved += 1
            results[task.names[0]] = result
            if self.echo is not None:
                wall = float(result.get("wall_seconds") or 0.0)
                self.echo(f"{task.names[0]}: {result.get('status')} ({wall:.1f} s)")
            if self.cache_dir is not None:
                path = self.cache_dir / f"{task.key}.json"
                try:
                    write_cache(path, result)
                except OSError as exc:
                    self.out.not_written.append(str(path))
                    if self.echo is not None:
                        self.echo(f"warning: cache entry {path} not written ({exc})")

        self.session.run(tasks, done)
        return results


# ------------------------------------------------------------------- choices in a dimension


def vendor_of(data: PlanningData) -> dict[str, str]:
    """Each GPU type's vendor as reports name it (blank vendor: the type's own id)."""
    return {g.gpu_id: g.vendor.strip() or g.gpu_id for g in data.gpus}


def country_of(data: PlanningData) -> dict[str, str]:
    return {s.site_id: s.country for s in data.sites}


def choices(data: PlanningData, by: str, gpus: list[tuple[str, str, float]]) -> set[str]:
    """The sites, countries or vendors a plan uses: where it buys GPUs, or whose."""
    bought = [(s, g) for s, g, n in gpus if n > 0.5]
    if by == "site":
        return {s for s, _ in bought}
    if by == "country":
        where = country_of(data)
        return {where[s] for s, _ in bought}
    whose = vendor_of(data)
    return {whose[g] for _, g in bought}


def plan_gpus(result: Result) -> list[tuple[str, str, float]]:
    """(site, type, GPUs bought) over the horizon, from a plan result's GPUs table."""
    table = (result.get("tables") or {}).get("GPUs")
    if not table:
        return []
    cols = table["columns"]
    s, g, n = cols.index("site_id"), cols.index("gpu_id"), cols.index("purchased")
    total: dict[tuple[str, str], float] = {}
    for row in table["rows"]:
        key = (str(row[s]), str(row[g]))
        total[key] = total.get(key, 0.0) + float(row[n] or 0.0)
    return [(k[0], k[1], v) for k, v in sorted(total.items())]


def restrict(
    data: PlanningData, *, sites: set[str] | None = None, gpus: set[str] | None = None
) -> tuple[PlanningData | None, str]:
    """The inputs with only ``sites`` and ``gpus`` kept (None: all), every row that
    names a removed site or GPU type removed with it (Cooling, SitePower, FiberLinks with
    a removed end, ExportControls, Supply ``gpu:<id>``); or None and why when nothing is
    left or the result breaks a rule of the workbook."""
    keep_s = {s.site_id for s in data.sites} if sites is None else sites
    keep_g = {g.gpu_id for g in data.gpus} if gpus is None else gpus
    gone = {gpu_resource(g.gpu_id) for g in data.gpus if g.gpu_id not in keep_g}
    new = dataclasses.replace(
        data,
        sites=[s for s in data.sites if s.site_id in keep_s],
        cooling=[c for c in data.cooling if c.site_id in keep_s],
        site_power=[p for p in data.site_power if p.site_id in keep_s],
        fiber_links=[lk for lk in data.fiber_links if {lk.site_a, lk.site_b} <= keep_s],
        gpus=[g for g in data.gpus if g.gpu_id in keep_g],
        export_controls=[e for e in data.export_controls if e.gpu_id in keep_g],
        supply=[r for r in data.supply if r.resource not in gone],
        scenarios=[],
        sweeps=[],
    )
    if not new.sites:
        return None, "no candidate site is left"
    if not new.gpus:
        return None, "no GPU type is left"
    errors = [p for p in cross_check(new) if p.severity == "error"]
    if errors:
        return None, f"the inputs without them are invalid: {errors[0]}"
    return new, ""


def restricted_to(data: PlanningData, by: str, keep: set[str]) -> tuple[PlanningData | None, str]:
    """The inputs with only the sites, the sites of the countries, or the GPU types of
    the vendors in ``keep``."""
    if by == "site":
        return restrict(data, sites=keep)
    if by == "country":
        return restrict(data, sites={s for s, c in country_of(data).items() if c in keep})
    return restrict(data, gpus={g for g, v in vendor_of(data).items() if v in keep})


def _listing(names: set[str]) -> str:
    return ", ".join(sorted(names))


def defined_by(by: str, keep: set[str]) -> str:
    """How an alternative is defined, in words."""
    if by == "site":
        return f"only sites {_listing(keep)}"
    if by == "country":
        return f"only sites in {_listing(keep)}"
    return f"only {_listing(keep)} GPUs"


# ------------------------------------------------------------------- the computation


def run_alternatives(
    data: PlanningData,
    *,
    by: str = "site",
    slack: float = 0.05,
    count: int = 4,
    workers: int = 1,
    scheduler: str | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    cache_dir: Path | None = None,
    echo: Echo | None = None,
    connect_timeout_s: float = 30.0,
) -> AlternativesResult:
    """The optimum, up to ``count`` alternatives within ``slack`` of its cost that differ
    in ``by``, and a hedge per country and vendor of the optimum (module docstring).
    ``workers`` local processes (0: this process) unless a Dask ``scheduler`` is given;
    ``cache_dir`` keeps one JSON result per solve (a rerun solves only what changed).
    Raises ``executors.SchedulerUnreachable`` for a ``scheduler`` that cannot be used."""
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}, not {by!r}")
    t0 = time.perf_counter()
    data = dataclasses.replace(data, scenarios=[], sweeps=[])
    out = AlternativesResult(data, by, slack, count)
    settings = {"mip_gap": mip_gap, "time_limit_s": time_limit_s, "threads": 1, "reuse": False}
    with open_session(workers, scheduler, connect_timeout_s=connect_timeout_s, echo=echo) as s:
        runner = Runner(s, out, settings, cache_dir, echo)
        job = runner.job(OPTIMUM, plan_task, data, diagnose=True)
        result = runner.batch([job])[OPTIMUM]
        out.entries.append(
            checked(Entry(OPTIMUM, OPTIMUM, "least cost, every input", data, result), data)
        )
        if out.optimum.objective_usd is not None:
            Search(runner, out).run()
    out.seconds = time.perf_counter() - t0
    return out


def checked(entry: Entry, data: PlanningData) -> Entry:
    """``entry`` re-checked against the full workbook ``data`` (``results.check``): a
    plan with a violation is reported with status ``error``, never ``optimal``."""
    tables = entry.result.get("tables") or {}
    if not tables:
        return entry
    plan = Plan(_frames(tables), dict(entry.result.get("summary") or {}))
    violations = check_plan(data, plan)
    if not violations:
        return entry
    result = {
        **entry.result,
        "status": STATUS_ERROR,
        "message": f"fails the independent check against the workbook "
        f"({len(violations)} violation(s)): {violations[0]}",
        "violations": len(violations),
    }
    return dataclasses.replace(entry, result=result)


def _total_use(result: Result, by: str) -> float:
    """The optimum's IT MW built (site, country) or GPUs bought (vendor)."""
    if by == "vendor":
        return sum(n for _, _, n in plan_gpus(result))
    table = (result.get("tables") or {}).get("Sites")
    if not table:
        return 0.0
    col = table["columns"].index("it_capacity_mw")
    return sum(float(r[col] or 0.0) for r in table["rows"])


class Search:
    """The hop-skip-jump search, the re-solves and the hedges, batch by batch: each batch
    holds the next search step, the re-solve of the step before, and (first) the hedges."""

    def __init__(self, runner: Runner, out: AlternativesResult) -> None:
        self.runner, self.out, self.data, self.by = runner, out, out.data, out.by
        opt = out.optimum
        assert opt.objective_usd is not None
        self.cost_musd = opt.objective_usd / MUSD
        self.cap_musd = (1.0 + out.slack) * self.cost_musd
        self.history = [choices(self.data, self.by, plan_gpus(opt.result))]
        self.scale = max(_total_use(opt.result, self.by), 1.0)
        self.steps = 0

    def run(self) -> None:
        hedges = self.hedges()
        search = self.step()
        resolve: Pending | None = None
        first = True
        while first or search is not None or resolve is not None:
            jobs = [j for j, _ in hedges if j is not None] if first else []
            jobs += [j for j in (search, resolve.job if resolve else None) if j is not None]
            results = self.runner.batch(jobs)
            if first:
                for job, entry in hedges:
                    self.add_hedge(entry, results[job.name] if job is not None else None)
                first = False
            if resolve is not None:
                self.accept(resolve, results[resolve.job.name])
                resolve = None
            if search is not None:
                resolve = self.found(results[search.name])
                search = self.step() if resolve is not None else None
        self.note_cheaper()

    def note_cheaper(self) -> None:
        """A plan cheaper than the optimum's means the optimum stopped within its MIP
        gap of the best bound, not at the least cost: say so."""
        opt = self.out.optimum
        base = opt.objective_usd or 0.0
        for e in self.out.entries[1:]:
            if e.objective_usd is not None and e.objective_usd < base * (1 - 1e-9):
                gap = opt.result.get("gap")
                within = f" (the optimum is within its MIP gap of {gap:.3%})" if gap else ""
                self.out.notes.append(
                    f"{e.name} costs {base - e.objective_usd:,.0f} USD less than the "
                    f"optimum's plan{within}"
                )

    def step(self) -> Job | None:
        """The next search step, with weights counting the earlier plans' choices."""
        if self.steps >= self.out.count:
            return None
        self.steps += 1
        weight = {e: float(sum(e in h for h in self.history)) for h in self.history for e in h}
        sites: tuple[tuple[str, float], ...] = ()
        gpus: tuple[tuple[str, float], ...] = ()
        if self.by == "site":
            sites = tuple(sorted(weight.items()))
        elif self.by == "country":
            where = country_of(self.data)
            sites = tuple((s, weight[c]) for s, c in sorted(where.items()) if c in weight)
        else:
            whose = vendor_of(self.data)
            gpus = tuple((g, weight[v]) for g, v in sorted(whose.items()) if v in weight)
        spec = AlternativeSpec(
            cap_musd=self.cap_musd,
            site_weights=sites,
            gpu_weights=gpus,
            cost_weight=TIE_BREAK * self.scale / max(self.cost_musd, 1e-9),
        )
        return self.runner.job(f"search {self.steps}", search_task, self.data, spec)

    def found(self, result: Result) -> Pending | None:
        """The re-solve job for a search step's choices, or None when the search ends."""
        k = self.steps
        gpus = [(str(s), str(g), float(n)) for s, g, n in result.get("gpus") or []]
        if not gpus:
            why = result.get("message") or result.get("status")
            self.out.notes.append(f"search step {k} found no plan within the cap ({why})")
            return None
        keep = choices(self.data, self.by, gpus)
        if keep in self.history:
            self.out.notes.append(
                f"search step {k} found the {PLURAL[self.by]} of an earlier plan again "
                f"({_listing(keep)}): no other choice fits within the slack"
            )
            return None
        spec, limits = self.use_caps(keep, result, gpus)
        self.history.append(keep)
        restricted, why = restricted_to(self.data, self.by, keep)
        if restricted is None:
            self.out.notes.append(f"search step {k}: {why}")
            return None
        words = "; ".join([defined_by(self.by, keep), *limits])
        job = self.runner.job(f"alternative {k}", plan_task, restricted, spec, diagnose=True)
        return Pending(job, restricted, words, result.get("cost_usd"))

    def use_caps(
        self, keep: set[str], result: Result, gpus: list[tuple[str, str, float]]
    ) -> tuple[AlternativeSpec, list[str]]:
        """The cost cap and, for each choice the step keeps of earlier plans', a cap at
        the step's use of it (IT MW built, or GPUs bought), with the caps in words."""
        earlier = set().union(*self.history) & keep
        mw: dict[str, float] = result.get("sites_mw") or {}
        site_caps: list[tuple[tuple[str, ...], float]] = []
        gpu_caps: list[tuple[tuple[str, ...], float]] = []
        words: list[str] = []
        where, whose = country_of(self.data), vendor_of(self.data)
        for e in sorted(earlier):
            if self.by == "vendor":
                group = tuple(sorted(g for g, v in whose.items() if v == e))
                n = float(sum(c for _, g, c in gpus if g in group))
                gpu_caps.append((group, n))
                words.append(f"at most {n:,.0f} {e} GPUs")
                continue
            group = (
                (e,) if self.by == "site" else tuple(sorted(s for s, c in where.items() if c == e))
            )
            total = sum(float(mw.get(s, 0.0)) for s in group)
            site_caps.append((group, total * (1 + 1e-7) + 1e-6))
            words.append(f"at most {total:,.1f} MW {'at' if self.by == 'site' else 'in'} {e}")
        spec = AlternativeSpec(
            cap_musd=self.cap_musd, site_caps=tuple(site_caps), gpu_caps=tuple(gpu_caps)
        )
        return spec, words

    def accept(self, pending: Pending, result: Result) -> None:
        """Add a re-solved alternative, unless it uses the choices of an earlier plan."""
        used = choices(self.data, self.by, plan_gpus(result))
        for e in self.out.entries:
            if (
                e.kind != "without"
                and used
                and used == choices(self.data, self.by, plan_gpus(e.result))
            ):
                self.out.notes.append(
                    f"the plan on {pending.defined_by} re-solves to the "
                    f"{PLURAL[self.by]} of {e.name} ({_listing(used)}); not repeated"
                )
                return
        n = sum(e.kind == "alternative" for e in self.out.entries) + 1
        entry = Entry(
            f"alternative {n}",
            "alternative",
            pending.defined_by,
            pending.data,
            result,
            search_cost_usd=pending.search_cost_usd,
        )
        self.out.entries.append(checked(entry, self.data))

    def hedges(self) -> list[tuple[Job | None, Entry]]:
        """A job per country and per vendor of the optimum: the inputs without it (None
        when nothing is left to solve, the entry already saying why)."""
        opt_gpus = plan_gpus(self.out.optimum.result)
        out: list[tuple[Job | None, Entry]] = []
        for dim, what in (("country", "no site in {}"), ("vendor", "no {} GPU")):
            for x in sorted(choices(self.data, dim, opt_gpus)):
                others = {e for e in _all(self.data, dim) if e != x}
                restricted, why = restricted_to(self.data, dim, others)
                name = f"without {x}" if dim == "country" else f"without {x} GPUs"
                entry = Entry(name, "without", what.format(x), restricted or self.data, {}, x)
                if restricted is None:
                    whole = f"site is in {x}" if dim == "country" else f"GPU type is {x}'s"
                    entry.result = _no_inputs(f"every candidate {whole}: {why}")
                    out.append((None, entry))
                else:
                    out.append((self.runner.job(name, plan_task, restricted, diagnose=True), entry))
        return out

    def add_hedge(self, entry: Entry, result: Result | None) -> None:
        if result is not None:
            entry.result = result
        self.out.entries.append(checked(entry, self.data))


def _all(data: PlanningData, by: str) -> set[str]:
    if by == "site":
        return {s.site_id for s in data.sites}
    if by == "country":
        return set(country_of(data).values())
    return set(vendor_of(data).values())


def _no_inputs(why: str) -> Result:
    return {
        "status": STATUS_INFEASIBLE,
        "message": f"infeasible: {why}",
        "diagnosis": why,
        "objective_usd": None,
        "tables": {},
    }
