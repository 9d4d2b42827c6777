"""One HiGHS solve in a thread of its own, under a wall-clock promise.

HiGHS runs in a daemon thread; the calling thread watches the clock, reports progress,
and cancels the solve at the time limit. If HiGHS does not stop soon after (its sub-MIP
heuristics were seen to overrun), the best plan found so far, captured by the
improving-solution callback, is returned and the thread is abandoned.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import functools
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import highspy
import numpy as np

from planner.solving.compiled import CompiledModel
from planner.solving.status import (
    STATUS_ERROR,
    STATUS_INFEASIBLE,
    STATUS_NO_PLAN,
    STATUS_OPTIMAL,
    STATUS_TIME_LIMIT,
    STATUS_WORDS,
    Progress,
    SolveResult,
)

# How long HiGHS may take to honour a cancel before its thread is abandoned: the time
# limit holds within a second.
GRACE_S = 0.5
# How long a solve cancelled by Ctrl-C is waited for before the process leaves without it.
STOP_WAIT_S = 2.0
# How long the interpreter's exit waits for cancelled solves still running.
EXIT_WAIT_S = 10.0


def new_highs(threads: int | None = None, log_file: str | None = None) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(log_file))
    if log_file:
        h.setOptionValue("log_file", log_file)
        h.setOptionValue("log_to_console", False)
    if threads:
        h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    return h


def set_start(h: highspy.Highs, start: np.ndarray) -> None:
    sol = highspy.HighsSolution()
    sol.col_value = list(map(float, start))
    sol.value_valid = True
    h.setSolution(sol)


def run_highs(
    h: highspy.Highs,
    cm: CompiledModel,
    *,
    time_limit_s: float,
    on_progress: Callable[[Progress], None] | None = None,
    plan_by_s: float | None = None,
) -> SolveResult:
    """Run a prepared ``Highs`` under the wall-clock limit and read its result; with
    ``plan_by_s``, stop there if a plan is found by then, else at the first plan after."""
    best: dict[str, Any] = {"x": None, "obj": None, "bound": None}

    def improving(e: Any) -> None:
        best["x"] = np.array(e.data_out.mip_solution, dtype=float)
        best["obj"] = float(e.data_out.objective_function_value)
        best["bound"] = float(e.data_out.mip_dual_bound)

    def interrupt(e: Any) -> None:
        bound = float(e.data_out.mip_dual_bound)
        if math.isfinite(bound):
            best["bound"] = bound
        if time.perf_counter() > due(best, t0, time_limit_s, plan_by_s):
            e.interrupt()

    is_mip = bool(cm.integer.any())
    if is_mip:
        h.cbMipImprovingSolution.subscribe(improving)
        h.cbMipInterrupt.subscribe(interrupt)
    h.HandleUserInterrupt = True
    t0 = time.perf_counter()
    thread = start_solver_thread(h)
    try:
        return _watch(h, thread, cm, best, t0, (time_limit_s, plan_by_s), is_mip, on_progress)
    except BaseException:  # Ctrl-C, or a progress callback that failed
        stop_solver(h, thread)
        raise


def _watch(
    h: highspy.Highs,
    thread: threading.Thread,
    cm: CompiledModel,
    best: dict[str, Any],
    t0: float,
    limits: tuple[float, float | None],
    is_mip: bool,
    on_progress: Callable[[Progress], None] | None,
) -> SolveResult:
    """Wait for the solver thread: progress every 0.25 s, cancel when due (``due``),
    and abandon the thread ``GRACE_S`` later with the best plan found so far."""
    time_limit_s, plan_by_s = limits
    cancelled_at: float | None = None
    while thread.is_alive():
        thread.join(0.25)
        now = time.perf_counter()
        if on_progress is not None:
            on_progress(
                Progress(
                    now - t0,
                    _add(best["obj"], cm.offset),
                    _add(best["bound"], cm.offset),
                    _gap(best["obj"], best["bound"]),
                )
            )
        if cancelled_at is None and now > due(best, t0, time_limit_s, plan_by_s):
            h.cancelSolve()
            cancelled_at = now
        if cancelled_at is not None and now > cancelled_at + GRACE_S:
            ABANDONED.append(thread)
            return _abandoned(best, cm, now - t0, time_limit_s)
    seconds = time.perf_counter() - t0
    res = _read_result(h, cm, best, seconds, time_limit_s, is_mip)
    # Subscribed callbacks (ours, and the bound methods ``HandleUserInterrupt`` adds) put
    # the ``Highs`` in a reference cycle that only the cyclic collector frees, and with
    # a large Pyomo model loaded it runs rarely: each solve's model and workspace stayed
    # (plain 1,000 sites x 2 runs: 140-180 MB a solve). Cleared, it goes with its caller.
    h.clearCallbacks()
    return res


def due(best: dict[str, Any], t0: float, time_limit_s: float, plan_by_s: float | None) -> float:
    """When a solve started at ``t0`` is to stop: at its limit, or at ``plan_by_s`` once
    it has a plan (the time after that is only for finding a first plan)."""
    if plan_by_s is not None and best["x"] is not None:
        return t0 + plan_by_s
    return t0 + time_limit_s


def stop_solver(h: highspy.Highs, thread: threading.Thread, wait_s: float = STOP_WAIT_S) -> None:
    """Cancel a solve its caller is leaving (Ctrl-C) and wait a little for it to stop.
    The thread is listed as abandoned first, so that a second Ctrl-C during the wait still
    leaves it known: the CLI then exits without waiting for it (see ``planner.cli``)."""
    h.cancelSolve()
    ABANDONED.append(thread)
    thread.join(wait_s)


def release_memory() -> None:
    """Give the memory of finished solves back to the OS (glibc only; elsewhere a no-op).

    Each solve runs in a new thread, and glibc serves each thread from an arena of its
    own: what one phase freed was not reused by the next, so a 1,000-site solve's peak
    grew phase by phase (1.1 GB after the LP, 3.2 GB by the full MIP; 2.1 GB with one
    arena). ``malloc_trim`` returns the free pages of every arena.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to trim
        return None


def start_solver_thread(h: highspy.Highs) -> threading.Thread:
    """Run HiGHS in a daemon thread of our own.

    ``Highs.startSolve`` guards its thread with locks shared by *every* ``Highs`` object,
    so once a solve overran and was abandoned no other solve could start in the process.
    ``cancelSolve`` still works: it is read by the interrupt callbacks that
    ``HandleUserInterrupt`` installs, not by ``startSolve``.
    """
    base_run = highspy.highs._Highs.run
    thread = threading.Thread(target=base_run, args=(h,), daemon=True, name="highs")
    thread.start()
    return thread


def _add(x: float | None, offset: float) -> float | None:
    return None if x is None or not math.isfinite(x) else x + offset


def _gap(obj: float | None, bound: float | None) -> float | None:
    if obj is None or bound is None or not math.isfinite(bound):
        return None
    return abs(obj - bound) / max(abs(obj), 1e-9)


# Solver threads that overran their limit and were left running (see ``run_highs``).
ABANDONED: list[threading.Thread] = []


def abandoned_solves() -> list[threading.Thread]:
    return [t for t in ABANDONED if t.is_alive()]


@atexit.register
def _wait_for_abandoned() -> None:
    """A HiGHS thread still running at interpreter exit aborts the process: give the
    cancelled solves a little time to stop, then leave without running C++ destructors
    (a stuck one was seen to run 300 s past its limit: waiting longer gains nothing)."""
    until = time.monotonic() + EXIT_WAIT_S
    for t in abandoned_solves():
        t.join(max(until - time.monotonic(), 0.0))
    if abandoned_solves():
        # os._exit skips the flush of buffered output (a script's result printed to a
        # pipe or a file would be lost).
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(70)


def _abandoned(
    best: dict[str, Any], cm: CompiledModel, seconds: float, limit: float
) -> SolveResult:
    if best["x"] is None:
        return SolveResult(
            STATUS_NO_PLAN, seconds=seconds, message=f"no plan found within {limit:g} s"
        )
    return SolveResult(
        STATUS_TIME_LIMIT,
        objective=best["obj"] + cm.offset,
        bound=_add(best["bound"], cm.offset),
        gap=_gap(best["obj"], best["bound"]),
        seconds=seconds,
        values=best["x"],
        message=f"stopped at the {limit:g} s time limit; HiGHS did not stop in time, "
        "so the best plan it had found is returned",
    )


def _read_result(
    h: highspy.Highs,
    cm: CompiledModel,
    best: dict[str, Any],
    seconds: float,
    limit: float,
    is_mip: bool,
) -> SolveResult:
    ms = h.getModelStatus()
    info = h.getInfo()
    status_enum = highspy.HighsModelStatus
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.array(h.getSolution().col_value, dtype=float) if has_solution else None
    if x is None and best["x"] is not None:
        x = best["x"]
    obj = (
        (float(info.objective_function_value) + cm.offset)
        if has_solution
        else (best["obj"] + cm.offset if best["obj"] is not None else None)
    )
    bound = (
        float(info.mip_dual_bound) + cm.offset
        if is_mip and math.isfinite(info.mip_dual_bound)
        else obj
    )
    gap = (
        float(info.mip_gap)
        if is_mip and math.isfinite(info.mip_gap)
        else (0.0 if obj is not None else None)
    )
    if ms == status_enum.kOptimal:
        res = SolveResult(STATUS_OPTIMAL, obj, bound, gap, seconds, "optimal", x)
        if info.dual_solution_status == 2:  # an LP's: priced on by ``pricing``
            res.duals = np.array(h.getSolution().row_dual, dtype=float)
        return res
    if ms in (status_enum.kInfeasible, status_enum.kUnboundedOrInfeasible):
        return SolveResult(
            STATUS_INFEASIBLE, seconds=seconds, message=STATUS_WORDS[STATUS_INFEASIBLE]
        )
    stopped = (
        status_enum.kTimeLimit,
        status_enum.kInterrupt,
        status_enum.kIterationLimit,
        status_enum.kSolutionLimit,
        status_enum.kObjectiveTarget,
    )
    if ms in stopped:
        if x is None:
            return SolveResult(
                STATUS_NO_PLAN, seconds=seconds, message=f"no plan found within {limit:g} s"
            )
        return SolveResult(
            STATUS_TIME_LIMIT,
            obj,
            bound,
            gap,
            seconds,
            f"stopped at the {limit:g} s time limit; gap {(gap or 0) * 100:.2f} %",
            x,
        )
    return SolveResult(
        STATUS_ERROR,
        seconds=seconds,
        message=f"HiGHS ended with status {h.modelStatusToString(ms)}",
    )
