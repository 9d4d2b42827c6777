"""The worker side of a study: one scenario in, a small JSON-able result dict out.

``solve_task`` is the pure function every executor (local processes, Dask) calls, so a
result does not depend on where or in how many workers it was solved.
"""

from __future__ import annotations

import dataclasses
import os
import time
import traceback
from typing import Any

import pandas as pd

from planner.analysis.diagnose import diagnose
from planner.analysis.explain import explained
from planner.inputs.problems import InputError
from planner.solving.compiled import compile_model
from planner.solving.pipeline import PlanResult, solve
from planner.solving.reuse import ReusingCompiler

STATUS_CRASHED = "crashed"
FAILED = ("infeasible", "no_plan", "error", STATUS_CRASHED)
CACHEABLE = ("optimal", "time_limit", "infeasible", "no_plan")

Result = dict[str, Any]

# Compiled models this worker process has seen (``planner.solving.reuse``).
_COMPILER = ReusingCompiler()


def solve_task(payload: dict[str, Any]) -> Result:
    """Solve one scenario; never raises (an exception becomes status ``crashed``).

    ``payload["prepare"]`` (optional, picklable) changes the built model before the
    solve (``planner.solving.pipeline.solve``). ``payload["fault"]`` injects failures
    for tests: ``"exit"`` kills the worker process, ``"raise"`` raises inside the solve.
    """
    t0 = time.perf_counter()
    try:
        fault = payload.get("fault")
        if fault == "exit":
            os._exit(70)
        if fault == "raise":
            raise RuntimeError("injected fault")
        data = payload["data"]
        # A ``prepare`` (rows added to the model: a near-optimal cost cap) changes the
        # matrix, so it is never served a matrix compiled for the inputs alone.
        prepare = payload.get("prepare")
        reuse = payload.get("reuse", True) and prepare is None
        compiler = _COMPILER.for_data(data) if reuse else compile_model
        result = solve(
            data,
            mip_gap=payload.get("mip_gap"),
            time_limit_s=payload.get("time_limit_s"),
            threads=payload.get("threads", 1),
            compiler=compiler,
            keep_model=True,
            prepare=prepare,
        )
        line = None
        if result.status == "infeasible" and payload.get("diagnose", True):
            result, line = diagnosed(result, payload)
        # What a plain ``planner plan`` writes: the binding limits too (or the diagnosis).
        out = summarize(explained(result, warn=lambda _line: None))
        out["diagnosis"] = line
    except Exception as exc:  # a bug or solver failure in one scenario, not the study
        out = crashed(f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5))
    out["wall_seconds"] = time.perf_counter() - t0
    return out


def diagnosed(result: PlanResult, payload: dict[str, Any]) -> tuple[PlanResult, str]:
    """An infeasible scenario with its Diagnosis sheet and first line (``diagnosis``), as
    ``planner plan`` gives them; ``payload["keep"]`` names the limits the scenario sets,
    which its diagnosis must not undo."""
    try:
        dg = diagnose(
            result.data,
            time_limit_s=payload.get("time_limit_s"),
            keep=payload.get("keep") or (),
            threads=payload.get("threads", 1),
        )
    except InputError:  # a scenario's rows that select no limit: diagnose without keeps
        dg = diagnose(result.data, time_limit_s=payload.get("time_limit_s"), threads=1)
    sheets = {**result.extra_sheets, "Diagnosis": dg.table}
    return dataclasses.replace(result, extra_sheets=sheets), dg.lines[0]


def crashed(reason: str, detail: str = "") -> Result:
    return {"status": STATUS_CRASHED, "message": reason, "detail": detail, "tables": {}}


def _native(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _records(df: pd.DataFrame) -> dict[str, Any]:
    return {
        "columns": [str(c) for c in df.columns],
        "rows": [[_native(v) for v in row] for row in df.itertuples(index=False, name=None)],
    }


def summarize(result: PlanResult) -> Result:
    """The small, JSON-able facts of a ``PlanResult`` (and its plan tables as records)."""
    res, plan = result.result, result.plan
    out: Result = {
        "status": res.status,
        "message": res.message,
        "objective_usd": None,
        "bound_usd": res.bound * 1e6 if res.bound is not None else None,
        "capex_usd": None,
        "opex_usd": None,
        "co2_t": None,
        "gap": res.gap,
        "solve_seconds": res.seconds,
        "gpus": {},
        "mw": {},
        "sites_built": None,
        "links_built": None,
        "flop": {},
        "violations": len(result.violations),
        "model_size": dict(result.model_size),
        "coefficient_range": list(result.coefficient_range),
        "summary": {},
        "tables": {},
        "extra_sheets": {name: _records(df) for name, df in result.extra_sheets.items()},
    }
    if plan is None:
        return out
    s = plan.summary
    gpus, power, runs = plan["GPUs"], plan["Power"], plan["Runs"]
    bought = gpus.groupby("gpu_id").purchased.sum() if len(gpus) else pd.Series(dtype=float)
    peak = (
        power.groupby(["source_id", "year"]).mw_total.sum().groupby("source_id").max()
        if len(power)
        else pd.Series(dtype=float)
    )
    out.update(
        {
            "objective_usd": s.get("objective_usd"),
            "capex_usd": s.get("capex_usd"),
            "opex_usd": s.get("opex_usd"),
            "co2_t": float(s.get("co2_mt") or 0.0) * 1e6,
            "gpus": {str(k): int(v) for k, v in bought.items()},
            "mw": {str(k): float(v) for k, v in peak.items()},
            "sites_built": int(plan["Sites"].built_year.notna().sum()),
            "links_built": len(plan["Fiber"]),
            "flop": {
                str(r): float(f) for r, f in zip(runs.run_id, runs.flop_delivered, strict=True)
            },
            "summary": {
                k: [str(x) for x in v] if isinstance(v, list) else _native(v)
                for k, v in s.items()
                if not isinstance(v, dict)
            },
            "tables": {name: _records(df) for name, df in plan.tables.items()},
        }
    )
    return out
