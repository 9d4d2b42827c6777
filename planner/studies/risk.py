"""The odds that a plan survives what may turn out otherwise: a Monte Carlo of recourse.

``run_risk`` takes the optimal plan (or a given one), commits its decisions of the years
before the commit year (``models.commitment``: what is already ordered), and for each
sample of the ``Uncertainty`` sheet's draws re-solves the rest of the plan with the drawn
inputs (``planner.studies.recourse``). A sample records whether each run meets its target
by its ready year (and when not, the FLOP it can have), and the discounted cost of the
recourse plan when every run is met.

Then, for every sample that falls short, each uncertainty drawn away from its base value is
undone alone (the other draws kept): when that lets a short run through, the uncertainty
*binds* that run in that sample.

Samples are tasks like a study's scenarios: the same pure function runs in local worker
processes or on a Dask cluster (``planner.studies.executors``), samples with identical
inputs are solved once, and every result is cached under ``<out stem>-cache/`` keyed on the
sample's effective inputs, the commitment and the solver settings, so an interrupted run
resumes and a larger ``samples`` reuses the smaller run's results. Draws depend only on the
seed and the sample's index (``planner.studies.uncertainty``), so a seed gives the same
numbers wherever and in how many workers it runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.commitment import Commitment
from planner.inputs.data import PlanningData
from planner.inputs.problems import InputError, Problem
from planner.results.tables import Plan
from planner.solving.pipeline import solve
from planner.studies.cache import read_cache, result_key, write_cache
from planner.studies.executors import Task, run_dask, run_local
from planner.studies.recourse import commitment_from_plan, recourse_task
from planner.studies.uncertainty import (
    UNCERTAINTY_SHEET,
    Uncertainty,
    apply_draws,
    is_neutral,
    sample_draws,
    uncertainties,
)
from planner.studies.worker import Result

RISK_VERSION = 1
BASE = "base"
Progress = Callable[[str, Result, bool], None]  # (job, result, from_cache)


class NoPlanToCommit(Exception):
    """The workbook has no plan whose decisions could be committed."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Sample:
    index: int
    draws: dict[str, Any]
    result: Result = field(default_factory=dict)
    cached: bool = False


@dataclass
class RiskResult:
    """Everything a risk run found; ``planner.studies.risk_tables`` reads it."""

    data: PlanningData
    uncertainties: list[Uncertainty]
    commitment: Commitment
    seed: int
    plan_source: str
    base: Result
    samples: list[Sample]
    # (sample index, uncertainty) -> the sample's recourse with that uncertainty undone
    undone: dict[tuple[int, str], Result] = field(default_factory=dict)
    solved: int = 0
    cache_hits: int = 0
    seconds: float = 0.0
    not_written: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Job:
    name: str
    data: PlanningData
    result: Result = field(default_factory=dict)
    cached: bool = False


def run_risk(
    data: PlanningData,
    *,
    samples: int = 200,
    seed: int = 0,
    commit_year: int | None = None,
    plan: Plan | None = None,
    plan_source: str = "optimal plan",
    workers: int = 1,
    scheduler: str | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    connect_timeout_s: float = 30.0,
    echo: Callable[[str], object] | None = None,
) -> RiskResult:
    """Sample the ``Uncertainty`` sheet and solve each sample's recourse.

    ``workers`` local processes solve the samples (0: this process), or the Dask cluster at
    ``scheduler``. Raises ``InputError`` for a bad sheet, sample count or commit year
    (nothing is solved), and ``NoPlanToCommit`` when no ``plan`` is given and the workbook
    has none.
    """
    t0 = time.perf_counter()
    us = uncertainties(data)
    year = _commit_year(data, commit_year, samples)
    if plan is None:
        plan = optimal_plan(data, mip_gap=mip_gap, time_limit_s=time_limit_s)
    commitment = commitment_from_plan(plan, year)
    drawn = [Sample(i, sample_draws(us, seed, i)) for i in range(samples)]
    jobs = [Job(BASE, _stripped(data))] + _sample_jobs(data, us, drawn)
    run = Runner(commitment, mip_gap, time_limit_s, cache_dir, progress, echo)
    run.execute(jobs, workers, scheduler, connect_timeout_s)
    for s, job in zip(drawn, jobs[1:], strict=True):
        s.result, s.cached = job.result, job.cached
    risk = RiskResult(data, us, commitment, seed, plan_source, jobs[0].result, drawn)
    undo = _undo_jobs(data, us, drawn)
    run.execute([job for _, _, job in undo], workers, scheduler, connect_timeout_s)
    risk.undone = {(i, name): job.result for i, name, job in undo}
    risk.solved, risk.cache_hits, risk.not_written = run.solved, run.hits, run.not_written
    risk.seconds = time.perf_counter() - t0
    risk.settings = {
        "samples": samples,
        "seed": seed,
        "commit_year": year,
        "plan": plan_source,
        "committed_decisions": len(commitment),
        "mip_gap": mip_gap if mip_gap is not None else data.settings.mip_gap,
        "time_limit_s": time_limit_s or data.settings.time_limit_s,
        "scheduler": scheduler or "local",
        "workers": workers,
    }
    return risk


def optimal_plan(
    data: PlanningData, *, mip_gap: float | None = None, time_limit_s: float | None = None
) -> Plan:
    """The least-cost plan of the base inputs (one HiGHS thread, like the samples)."""
    result = solve(_stripped(data), mip_gap=mip_gap, time_limit_s=time_limit_s, threads=1)
    if result.plan is None or result.violations:
        raise NoPlanToCommit(
            result.status,
            f"the base workbook has no plan to commit ({result.result.words}: "
            f"{result.result.message}); run planner plan for the diagnosis",
        )
    return result.plan


def _commit_year(data: PlanningData, year: int | None, samples: int) -> int:
    st = data.settings
    problems = []
    # The second year of the horizon; a one-year horizon commits nothing by default.
    default = st.start_year + 1 if st.end_year > st.start_year else st.start_year
    chosen = default if year is None else year
    if not st.start_year <= chosen <= st.end_year + 1:
        problems.append(
            Problem(
                "Settings",
                f"--commit-year {chosen} is outside the plan's years: use {st.start_year} "
                f"(commit nothing) to {st.end_year + 1} (commit everything)",
            )
        )
    if samples < 1:
        problems.append(Problem(UNCERTAINTY_SHEET, f"--samples {samples}: at least 1 is needed"))
    if problems:
        raise InputError(problems)
    return chosen


def _stripped(data: PlanningData) -> PlanningData:
    return dataclasses.replace(data, scenarios=[], sweeps=[], uncertainty=[])


def _sample_jobs(data: PlanningData, us: list[Uncertainty], drawn: list[Sample]) -> list[Job]:
    """One job per sample; every sample whose draws break a rule is a problem (raised
    together, before anything is solved)."""
    jobs: list[Job] = []
    problems: list[Problem] = []
    for s in drawn:
        new, found = apply_draws(data, us, s.draws)
        if new is None:
            problems += [
                Problem(p.sheet, f"sample {s.index}: {p.message}", row=p.row, column=p.column)
                for p in found[:3]
            ]
            continue
        jobs.append(Job(f"sample {s.index}", new))
    if problems:
        raise InputError(problems[:50])
    return jobs


def short_runs(result: Result) -> list[str]:
    return [r for r, ok in (result.get("met") or {}).items() if ok is False]


def _undo_jobs(
    data: PlanningData, us: list[Uncertainty], drawn: list[Sample]
) -> list[tuple[int, str, Job]]:
    """For each short sample, each uncertainty drawn away from its base value undone."""
    out = []
    for s in drawn:
        if not short_runs(s.result):
            continue
        for u in us:
            if is_neutral(data, u, s.draws[u.name]):
                continue
            new, _ = apply_draws(data, us, s.draws, leave_out=u.name)
            if new is not None:
                out.append((s.index, u.name, Job(f"sample {s.index} without {u.name}", new)))
    return out


class Runner:
    """Runs jobs as tasks: cached results taken, identical inputs solved once."""

    def __init__(
        self,
        commitment: Commitment,
        mip_gap: float | None,
        time_limit_s: float | None,
        cache_dir: Path | None,
        progress: Progress | None,
        echo: Callable[[str], object] | None,
    ) -> None:
        self.commitment = commitment
        self.settings = {"mip_gap": mip_gap, "time_limit_s": time_limit_s, "threads": 1}
        self.cache_dir = cache_dir
        self.progress = progress
        self.echo = echo
        self.solved = 0
        self.hits = 0
        self.not_written: list[str] = []

    def key(self, data: PlanningData) -> str:
        inputs = result_key(
            data, mip_gap=self.settings["mip_gap"], time_limit_s=self.settings["time_limit_s"]
        )
        text = json.dumps(
            {"risk": RISK_VERSION, "inputs": inputs, "commitment": self.commitment.digest()},
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()

    def execute(
        self, jobs: list[Job], workers: int, scheduler: str | None, connect_timeout_s: float
    ) -> None:
        tasks: dict[str, Task] = {}
        by_name = {job.name: job for job in jobs}
        for job in jobs:
            key = self.key(job.data)
            cached = self._cached(key)
            if cached is not None:
                job.result, job.cached = cached, True
                self.hits += 1
                if self.progress is not None:
                    self.progress(job.name, cached, True)
            elif key in tasks:
                tasks[key].names.append(job.name)
            else:
                payload = {"data": job.data, "commitment": self.commitment, **self.settings}
                tasks[key] = Task(key, [job.name], payload, key, fn=recourse_task)

        def done(task: Task, result: Result) -> None:
            self.solved += 1
            self._keep(task, result)
            for name in task.names:
                by_name[name].result = result
                if self.progress is not None:
                    self.progress(name, result, False)

        if tasks and scheduler:
            run_dask(
                list(tasks.values()),
                scheduler,
                done,
                connect_timeout_s=connect_timeout_s,
                echo=self.echo,
            )
        elif tasks and workers == 0:  # in this process (notebooks, tests)
            for task in tasks.values():
                done(task, recourse_task(task.payload))
        elif tasks:
            run_local(list(tasks.values()), workers, done)

    def _cached(self, key: str) -> Result | None:
        if self.cache_dir is None:
            return None
        return read_cache(self.cache_dir / f"{key}.json", self.echo)

    def _keep(self, task: Task, result: Result) -> None:
        if self.cache_dir is None:
            return
        path = self.cache_dir / f"{task.key}.json"
        try:
            write_cache(path, result)
        except OSError as exc:
            self.not_written.append(str(path))
            if self.echo is not None:
                self.echo(f"warning: cache entry {path} not written ({exc.strerror or exc})")
