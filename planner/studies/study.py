"""Run a study: the base case and every scenario, in parallel, resumable, fault-isolated.

Each scenario is one task: a picklable payload (its validated ``PlanningData`` and solver
settings) that ``solve_task`` turns into a small JSON-able result dict. Tasks run in
spawned worker processes (``ProcessPoolExecutor``, HiGHS with one thread each) or on a
Dask cluster (``scheduler`` address); both call the same pure function, so the results do
not depend on where or in how many workers they ran. Results are cached in
``<out stem>-cache/<key>.json``, keyed on the scenario's effective inputs and the solver
settings, so a rerun only solves what changed (an interrupted study resumes).

Model reuse (``reuse=True``, the default): worker processes stay alive across scenarios,
so the solver stack is imported and warmed once per worker; scenarios whose effective
inputs are identical (a sweep step equal to the base case, say) are solved once; and a
scenario that changes only costs or Supply capacities reuses the compiled matrix a worker
already has (``planner.solving.reuse``): only its objective and supply right-hand sides are
recomputed from its freshly built Pyomo model, skipping the hand-off to HiGHS.
``reuse=False`` runs every scenario in a fresh process (no state shared between
scenarios), which is what ``benchmarks/bench_study.py`` compares against.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from planner.analysis.keep import KEEPABLE
from planner.inputs.data import SHEET_ATTRS, PlanningData
from planner.inputs.schema import SHEET_BY_NAME
from planner.studies.cache import read_cache, result_key, write_cache
from planner.studies.executors import Task, run_dask, run_local
from planner.studies.report import StudyResult, sweep_table, write_study
from planner.studies.scenarios import Scenario, study_scenarios
from planner.studies.worker import FAILED, STATUS_CRASHED, Result, solve_task

__all__ = [
    "FAILED",
    "STATUS_CRASHED",
    "StudyResult",
    "run_study",
    "solve_task",
    "sweep_table",
    "write_study",
]

Progress = Callable[[str, Result, bool], None]  # (scenario, result, from_cache)


def run_study(
    data: PlanningData,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    cache_dir: Path | None = None,
    reuse: bool = True,
    progress: Progress | None = None,
    on_start: Callable[[int, int], None] | None = None,
    faults: dict[str, str] | None = None,
    connect_timeout_s: float = 30.0,
    echo: Callable[[str], object] | None = None,
) -> StudyResult:
    """Solve the base case and every scenario; raises ``InputError`` for bad scenarios.

    ``on_start(total, cached)`` is called once the scenarios are known; ``progress`` once
    per scenario as its result arrives. ``faults`` (tests) maps scenario names to a fault
    injected into their task (see ``solve_task``). ``connect_timeout_s`` bounds each
    step of reaching a Dask ``scheduler`` (``SchedulerUnreachable`` past it); ``echo``
    gets status lines and warnings (a cache entry that cannot be written is one: the
    result is kept and listed in ``not_written``).
    """
    t0 = time.perf_counter()
    items = study_scenarios(data)
    study = StudyResult([sc for sc, _ in items], {})
    settings = {"mip_gap": mip_gap, "time_limit_s": time_limit_s, "threads": 1, "reuse": reuse}
    tasks = _plan_tasks(study, items, settings, cache_dir, faults or {}, echo)
    if on_start is not None:
        on_start(len(study.scenarios), study.cache_hits)
    if progress is not None:
        for sc in study.scenarios:
            if sc.name in study.results:
                progress(sc.name, study.results[sc.name], True)

    def done(task: Task, result: Result) -> None:
        study.solved += 1
        if cache_dir is not None and task.cache_key is not None:
            _keep(study, cache_dir / f"{task.cache_key}.json", result, echo)
        for name in task.names:
            study.results[name] = result
            if progress is not None:
                progress(name, result, False)

    if tasks and scheduler:
        run_dask(tasks, scheduler, done, connect_timeout_s=connect_timeout_s, echo=echo)
    elif tasks:
        run_local(tasks, workers, done, reuse=reuse)
    study.seconds = time.perf_counter() - t0
    return study


def _plan_tasks(
    study: StudyResult,
    items: list[tuple[Scenario, PlanningData]],
    settings: dict[str, Any],
    cache_dir: Path | None,
    faults: dict[str, str],
    echo: Callable[[str], object] | None,
) -> list[Task]:
    """One task per distinct effective input (with ``reuse``), cached results taken into
    ``study`` instead; a scenario with an injected fault always gets its own task."""
    tasks: dict[str, Task] = {}
    base = items[0][1]  # ``study_scenarios`` puts the base case first
    for sc, sc_data in items:
        keep = scenario_keep(sc, sc_data, base)
        key = result_key(
            sc_data, mip_gap=settings["mip_gap"], time_limit_s=settings["time_limit_s"], keep=keep
        )
        cache_key: str | None = key
        study.keys[sc.name] = key
        fault = faults.get(sc.name)
        if fault:
            key, cache_key = f"{key}-fault-{sc.name}", None
        elif cache_dir is not None:
            cached = read_cache(cache_dir / f"{key}.json", echo)
            if cached is not None:
                study.results[sc.name] = cached
                study.cache_hits += 1
                continue
        if key in tasks and settings["reuse"]:
            tasks[key].names.append(sc.name)
            continue
        if key in tasks:
            key = f"{key}-{sc.name}"
        payload = {"data": sc_data, "fault": fault, "keep": keep, **settings}
        tasks[key] = Task(key, [sc.name], payload, cache_key)
    return list(tasks.values())


def scenario_keep(sc: Scenario, sc_data: PlanningData, base: PlanningData) -> list[str]:
    """The limits a scenario sets are what it studies: its diagnosis, when it is
    infeasible, must not undo them. As ``--keep`` values, one per row whose value the
    scenario actually changes (a sweep step equal to the base keeps nothing, so it still
    shares the base's solve)."""
    out: set[str] = set()
    for c in sc.changes:
        if c.sheet not in KEEPABLE:
            continue
        spec, attr = SHEET_BY_NAME[c.sheet], SHEET_ATTRS[c.sheet]
        before = {spec.key_of(r): r for r in getattr(base, attr)}
        column = spec.attr(c.column)
        for row in getattr(sc_data, attr):
            key = spec.key_of(row)
            old = before.get(key)
            if old is None or getattr(old, column, None) != getattr(row, column, None):
                out.add(f"{c.sheet}:{':'.join(key)}")
    return sorted(out)


def _keep(
    study: StudyResult, path: Path, result: Result, echo: Callable[[str], object] | None
) -> None:
    """Cache a result; one that cannot be written stays in the study, listed as such."""
    try:
        write_cache(path, result)
    except OSError as exc:
        study.not_written.append(str(path))
        if echo is not None:
            echo(f"warning: cache entry {path} not written ({exc.strerror or exc})")
