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
already has (``planner.reuse``): only its objective and supply right-hand sides are
recomputed from its freshly built Pyomo model, skipping the hand-off to HiGHS.
``reuse=False`` runs every scenario in a fresh process (no state shared between
scenarios), which is what ``benchmarks/bench_study.py`` compares against.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from planner.data import PlanningData
from planner.reuse import ReusingCompiler
from planner.scenarios import BASE, Scenario, effective_hash, study_scenarios

STATUS_CRASHED = "crashed"
CACHE_VERSION = 1
FAILED = ("infeasible", "no_plan", "error", STATUS_CRASHED)
CACHEABLE = ("optimal", "time_limit", "infeasible", "no_plan")

Result = dict[str, Any]
Progress = Callable[[str, Result, bool], None]  # (scenario, result, from_cache)


@dataclass
class Task:
    """One solve: the scenarios that share these effective inputs, and its payload."""

    key: str
    names: list[str]
    payload: dict[str, Any]
    cache_key: str | None = None


@dataclass
class StudyResult:
    scenarios: list[Scenario]
    results: dict[str, Result]
    solved: int = 0
    cache_hits: int = 0
    seconds: float = 0.0
    keys: dict[str, str] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """The ``Study`` sheet as a DataFrame, one row per scenario (base first)."""
        return study_table(self.scenarios, self.results)


# ---------------------------------------------------------------- the worker side


# Compiled models this worker process has seen (``planner.reuse``).
_COMPILER = ReusingCompiler()


def solve_task(payload: dict[str, Any]) -> Result:
    """Solve one scenario; never raises (an exception becomes status ``crashed``).

    ``payload["fault"]`` injects failures for tests: ``"exit"`` kills the worker process,
    ``"raise"`` raises inside the solve.
    """
    t0 = time.perf_counter()
    try:
        fault = payload.get("fault")
        if fault == "exit":
            os._exit(70)
        if fault == "raise":
            raise RuntimeError("injected fault")
        from planner import api
        from planner.solve import compile_model

        data = payload["data"]
        compiler = _COMPILER.for_data(data) if payload.get("reuse", True) else compile_model
        result = api.solve(data, mip_gap=payload.get("mip_gap"),
                           time_limit_s=payload.get("time_limit_s"),
                           threads=payload.get("threads", 1), compiler=compiler)
        out = summarize(result)
    except Exception as exc:  # a bug or solver failure in one scenario, not the study
        out = crashed(f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5))
    out["wall_seconds"] = time.perf_counter() - t0
    return out


def crashed(reason: str, detail: str = "") -> Result:
    return {"status": STATUS_CRASHED, "message": reason, "detail": detail, "tables": {}}


def _native(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _records(df: pd.DataFrame) -> dict[str, Any]:
    return {"columns": [str(c) for c in df.columns],
            "rows": [[_native(v) for v in row] for row in df.itertuples(index=False, name=None)]}


def summarize(result: Any) -> Result:
    """The small, JSON-able facts of a ``PlanResult`` (and its plan tables as records)."""
    res, plan = result.result, result.plan
    out: Result = {
        "status": res.status, "message": res.message, "objective_usd": None,
        "bound_usd": res.bound * 1e6 if res.bound is not None else None,
        "capex_usd": None, "opex_usd": None, "gap": res.gap, "solve_seconds": res.seconds,
        "gpus": {}, "mw": {}, "sites_built": None, "links_built": None, "flop": {},
        "violations": len(result.violations), "summary": {}, "tables": {},
    }
    if plan is None:
        return out
    s = plan.summary
    gpus, power, runs = plan["GPUs"], plan["Power"], plan["Runs"]
    bought = gpus.groupby("gpu_id").purchased.sum() if len(gpus) else pd.Series(dtype=float)
    peak = power.groupby(["source_id", "year"]).mw_total.sum().groupby("source_id").max() \
        if len(power) else pd.Series(dtype=float)
    out.update({
        "objective_usd": s.get("objective_usd"), "capex_usd": s.get("capex_usd"),
        "opex_usd": s.get("opex_usd"),
        "gpus": {str(k): int(v) for k, v in bought.items()},
        "mw": {str(k): float(v) for k, v in peak.items()},
        "sites_built": int(plan["Sites"].built_year.notna().sum()),
        "links_built": len(plan["Fiber"]),
        "flop": {str(r.run_id): float(r.flop_delivered) for r in runs.itertuples()},
        "summary": {k: _native(v) for k, v in s.items() if not isinstance(v, list | dict)},
        "tables": {name: _records(df) for name, df in plan.tables.items()},
    })
    return out


# ---------------------------------------------------------------- executors


def _spawn_pool(workers: int, reuse: bool) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                               max_tasks_per_child=None if reuse else 1)


def run_local(tasks: Iterable[Task], workers: int, done: Callable[[Task, Result], None],
              *, reuse: bool = True) -> None:
    """Run tasks in spawned processes; a dead worker fails only the task that killed it.

    At most ``workers`` tasks are in flight. When the pool breaks, the tasks that were in
    flight are rerun one at a time in a fresh single-worker pool: the one that breaks it
    again is recorded as crashed, the others get their result. The rest of the study
    continues on a fresh pool.
    """
    pending = deque(tasks)
    workers = max(1, workers)
    while pending:
        suspects: list[Task] = []
        with _spawn_pool(min(workers, len(pending)), reuse) as pool:
            inflight: dict[Future[Result], Task] = {}
            while pending or inflight:
                while pending and len(inflight) < workers:
                    task = pending.popleft()
                    inflight[pool.submit(solve_task, task.payload)] = task
                finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                broken = False
                for fut in finished:
                    task = inflight.pop(fut)
                    try:
                        done(task, fut.result())
                    except BrokenProcessPool:
                        suspects.append(task)
                        broken = True
                    except Exception as exc:
                        done(task, crashed(f"{type(exc).__name__}: {exc}"))
                if broken:
                    suspects.extend(inflight.values())
                    break
        for task in suspects:
            done(task, _run_isolated(task))


def _run_isolated(task: Task) -> Result:
    with _spawn_pool(1, reuse=True) as pool:
        try:
            return pool.submit(solve_task, task.payload).result()
        except BrokenProcessPool:
            return crashed("the worker process died while solving this scenario "
                           "(out of memory, or a crash in the solver)")
        except Exception as exc:
            return crashed(f"{type(exc).__name__}: {exc}")


def run_dask(tasks: Iterable[Task], address: str, done: Callable[[Task, Result], None]
             ) -> None:
    """Run tasks on a Dask distributed cluster; a lost worker fails only its task."""
    from distributed import Client, as_completed

    with Client(address, timeout="30s") as client:
        futures = {
            client.submit(solve_task, task.payload, key=f"planner-study-{task.key[:24]}",
                          pure=False): task
            for task in tasks
        }
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                result = fut.result()
            except Exception as exc:  # KilledWorker, lost connection, ...
                result = crashed(f"{type(exc).__name__}: {exc}")
            done(task, result)


# ---------------------------------------------------------------- the study


def result_key(data: PlanningData, *, mip_gap: float | None, time_limit_s: float | None
               ) -> str:
    """Cache key: the effective inputs and the solver settings that change the answer."""
    st = data.settings
    solver = {"mip_gap": st.mip_gap if mip_gap is None else mip_gap,
              "time_limit_s": st.time_limit_s if time_limit_s is None else time_limit_s,
              "threads": 1, "version": CACHE_VERSION}
    text = json.dumps({"inputs": effective_hash(data), "solver": solver}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _read_cache(path: Path) -> Result | None:
    try:
        with open(path) as fh:
            result = json.load(fh)
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) and result.get("status") in CACHEABLE else None


def _write_cache(path: Path, result: Result) -> None:
    if result.get("status") not in CACHEABLE:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        json.dump(result, fh, allow_nan=False, default=str)
    os.replace(tmp, path)


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
) -> StudyResult:
    """Solve the base case and every scenario; raises ``InputError`` for bad scenarios.

    ``on_start(total, cached)`` is called once the scenarios are known; ``progress`` once
    per scenario as its result arrives. ``faults`` (tests) maps scenario names to a fault
    injected into their task (see ``solve_task``).
    """
    t0 = time.perf_counter()
    items = study_scenarios(data)
    scenarios = [sc for sc, _ in items]
    study = StudyResult(scenarios, {})
    tasks: dict[str, Task] = {}
    for sc, sc_data in items:
        key = result_key(sc_data, mip_gap=mip_gap, time_limit_s=time_limit_s)
        cache_key: str | None = key
        study.keys[sc.name] = key
        fault = (faults or {}).get(sc.name)
        if fault:
            key, cache_key = f"{key}-fault-{sc.name}", None
        elif cache_dir is not None:
            cached = _read_cache(cache_dir / f"{key}.json")
            if cached is not None:
                study.results[sc.name] = cached
                study.cache_hits += 1
                continue
        if key in tasks and reuse:
            tasks[key].names.append(sc.name)
            continue
        if key in tasks:
            key = f"{key}-{sc.name}"
        payload = {"data": sc_data, "mip_gap": mip_gap, "time_limit_s": time_limit_s,
                   "threads": 1, "fault": fault, "reuse": reuse}
        tasks[key] = Task(key, [sc.name], payload, cache_key)
    if on_start is not None:
        on_start(len(scenarios), study.cache_hits)
    if progress is not None:
        for sc in scenarios:
            if sc.name in study.results:
                progress(sc.name, study.results[sc.name], True)

    def done(task: Task, result: Result) -> None:
        study.solved += 1
        if cache_dir is not None and task.cache_key is not None:
            _write_cache(cache_dir / f"{task.cache_key}.json", result)
        for name in task.names:
            study.results[name] = result
            if progress is not None:
                progress(name, result, False)

    todo = list(tasks.values())
    if todo and scheduler:
        run_dask(todo, scheduler, done)
    elif todo:
        run_local(todo, workers, done, reuse=reuse)
    study.seconds = time.perf_counter() - t0
    return study


# ---------------------------------------------------------------- tables


def _pct(delta: float | None, base: float | None) -> float | None:
    if delta is None or not base:
        return None
    return delta / base * 100.0


def study_table(scenarios: list[Scenario], results: dict[str, Result]) -> pd.DataFrame:
    """One row per scenario: status, cost and its delta against the base, the build."""
    base = results.get(BASE, {})
    base_obj = base.get("objective_usd")
    gpu_types = sorted({g for r in results.values() for g in r.get("gpus", {})})
    sources = sorted({s for r in results.values() for s in r.get("mw", {})})
    runs = list(dict.fromkeys(k for r in results.values() for k in r.get("flop", {})))
    rows = []
    for sc in scenarios:
        r = results.get(sc.name, crashed("no result"))
        obj = r.get("objective_usd")
        delta = obj - base_obj if obj is not None and base_obj is not None else None
        row: dict[str, Any] = {
            "scenario": sc.name, "status": r.get("status"), "reason": r.get("message", ""),
            "objective_usd": obj, "delta_usd": delta, "delta_pct": _pct(delta, base_obj),
            "capex_usd": r.get("capex_usd"), "opex_usd": r.get("opex_usd"),
        }
        has_plan = obj is not None
        for g in gpu_types:
            row[f"gpus_{g}"] = r.get("gpus", {}).get(g, 0) if has_plan else None
        for s in sources:
            row[f"mw_{s}"] = r.get("mw", {}).get(s, 0.0) if has_plan else None
        row["sites_built"] = r.get("sites_built")
        row["links_built"] = r.get("links_built")
        for run in runs:
            row[f"flop_delivered_{run}"] = r.get("flop", {}).get(run) if has_plan else None
        row["gap"] = r.get("gap") if has_plan else None
        row["solve_seconds"] = r.get("solve_seconds")
        row["sweep"] = sc.sweep
        row["swept_value"] = sc.swept_value
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_table(study: StudyResult, sweep: str) -> pd.DataFrame:
    table = study.table()
    rows = table[table.sweep == sweep]
    return rows[["swept_value", "scenario", "status", "objective_usd", "delta_pct"]] \
        .reset_index(drop=True)


# ---------------------------------------------------------------- the study workbook

STUDY_DROP = ("sweep", "swept_value")


def safe_name(name: str) -> str:
    """A file name for a scenario (letters, digits and ._=+- kept)."""
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", name).strip(".") or "scenario"


def plan_result(data: PlanningData, scenario: Scenario, result: Result) -> Any:
    """A ``PlanResult`` rebuilt from a result dict, for ``planner.export.write_plan``."""
    from planner.api import PlanResult
    from planner.plan import Plan
    from planner.solve import SolveResult

    obj = result.get("objective_usd")
    bound = result.get("bound_usd")
    res = SolveResult(result.get("status", STATUS_CRASHED),
                      objective=obj / 1e6 if obj is not None else None,
                      bound=bound / 1e6 if bound is not None else None, gap=result.get("gap"),
                      seconds=result.get("solve_seconds") or 0.0,
                      message=result.get("message", ""))
    tables = result.get("tables") or {}
    plan = Plan({name: pd.DataFrame(t["rows"], columns=t["columns"])
                 for name, t in tables.items()}, dict(result.get("summary") or {})) \
        if tables else None
    out = PlanResult(data, res, plan=plan)
    changes = pd.DataFrame(_change_rows(scenario),
                           columns=["scenario", "sheet", "row_id", "column", "op", "value",
                                    "from_sheet", "from_row", "note"])
    setattr(out, "extra_sheets", {"Scenario": changes})  # noqa: B010 - read via getattr
    return out


def _change_rows(scenario: Scenario) -> list[list[Any]]:
    return [[scenario.name, c.sheet, c.row_id, c.column, c.op, c.value, c.origin_sheet,
             c.origin_row, c.note] for c in scenario.changes]


def write_study(study: StudyResult, data: PlanningData, out: Path, *,
                plans_dir: Path | None = None, inputs: Path | None = None,
                settings: dict[str, Any] | None = None) -> Path:
    """``Study`` (one row per scenario, linked plan files), ``Scenarios``, a sheet and a
    native chart per sweep, ``About``; plan files in ``plans_dir``. Atomic saves."""
    from openpyxl.chart import Reference, ScatterChart, Series

    from planner.excel import new_workbook, save_atomic, write_table
    from planner.export import write_plan

    out = Path(out)
    plans_dir = plans_dir or out.with_name(f"{out.stem}-plans")
    table = study.table()
    files: dict[str, str] = {}
    used: set[str] = set()
    if plans_dir is not None:
        from planner.scenarios import apply_changes

        for sc in study.scenarios:
            result = study.results.get(sc.name)
            if result is None or result.get("status") == STATUS_CRASHED:
                continue
            stem = safe_name(sc.name)
            while stem.lower() in used:
                stem += "_"
            used.add(stem.lower())
            sc_data, _ = apply_changes(data, sc.changes)
            target = plans_dir / f"{stem}.xlsx"
            write_plan(plan_result(sc_data or data, sc, result), target, inputs=inputs)
            files[sc.name] = f"{plans_dir.name}/{target.name}"

    wb = new_workbook()
    ws = wb.create_sheet("Study")
    columns = [c for c in table.columns if c not in STUDY_DROP] + ["plan_file"]
    rows = [[*(_native(r[c]) for c in columns[:-1]), files.get(r["scenario"])]
            for _, r in table.iterrows()]
    write_table(ws, columns, rows, widths={"reason": 50, "plan_file": 40})
    link_col = len(columns)
    for i, row in enumerate(rows, start=2):
        if row[-1]:
            cell = ws.cell(row=i, column=link_col)
            cell.hyperlink = row[-1]
            cell.style = "Hyperlink"

    changes = [row for sc in study.scenarios for row in _change_rows(sc)]
    write_table(wb.create_sheet("Scenarios"),
                ["scenario", "sheet", "row_id", "column", "op", "value", "from_sheet",
                 "from_row", "note"], changes)

    for sweep in dict.fromkeys(sc.sweep for sc in study.scenarios if sc.sweep):
        first = next(sc for sc in study.scenarios if sc.sweep == sweep)
        column = first.changes[0].column
        curve = sweep_table(study, sweep)
        ws = wb.create_sheet(_sheet_title(f"Sweep {sweep}", wb.sheetnames))
        n = write_table(ws, [column, "scenario", "status", "objective_usd", "delta_pct"],
                        [[_native(v) for v in row] for row in curve.itertuples(index=False)])
        chart = ScatterChart()
        chart.title = f"Discounted cost against {first.changes[0].sheet}.{column} ({sweep})"
        chart.style = 13
        chart.x_axis.title = column
        chart.y_axis.title = "USD, discounted"
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        if first.sweep_scale == "log":
            chart.x_axis.scaling.logBase = 10
            chart.x_axis.number_format = "0E+0"
        xs = Reference(ws, min_col=1, min_row=2, max_row=n + 1)
        ys = Reference(ws, min_col=4, min_row=1, max_row=n + 1)
        series = Series(ys, xs, title_from_data=True)
        series.marker.symbol = "circle"
        chart.series.append(series)
        chart.width, chart.height = 22, 12
        ws.add_chart(chart, "G2")

    about = [("input_file", data.source_name), ("input_sha256", data.source_sha256),
             ("base_effective_sha256", effective_hash(data)),
             ("scenarios", len(study.scenarios)), ("solved_now", study.solved),
             ("from_cache", study.cache_hits), ("study_seconds", round(study.seconds, 2))]
    about += [(k, v) for k, v in (settings or {}).items()]
    write_table(wb.create_sheet("About"), ["item", "value"],
                [(k, "" if v is None else v) for k, v in about], widths={"value": 70})
    return save_atomic(wb, out, inputs=[inputs] if inputs else [])


def _sheet_title(title: str, taken: list[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", title)[:31]
    base, i = title, 2
    while title in taken:
        suffix = f" {i}"
        title = base[: 31 - len(suffix)] + suffix
        i += 1
    return title
