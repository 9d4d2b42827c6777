"""Where a study's tasks run: spawned local processes, or a Dask cluster.

A dead worker fails only the task that killed it; the rest of the study goes on.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from planner.studies.worker import Result, crashed, solve_task

PR_SET_PDEATHSIG = 1  # <sys/prctl.h>


@dataclass
class Task:
    """One solve: the scenarios that share these effective inputs, and its payload;
    ``fn`` is the pure, module-level function a worker calls on the payload."""

    key: str
    names: list[str]
    payload: dict[str, Any]
    cache_key: str | None = None
    fn: Callable[[dict[str, Any]], Result] = solve_task


def _spawn_pool(workers: int, reuse: bool) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        max_tasks_per_child=None if reuse else 1,
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


def die_with_parent(parent_pid: int) -> None:
    """A worker ends when the study that started it dies, even by SIGKILL: Linux sends it
    SIGKILL then (``PR_SET_PDEATHSIG``), so no solver is left running, and once the
    workers are gone multiprocessing's resource tracker sees its pipe close and ends too.
    Elsewhere the worker checks its parent once (no signal to ask for)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the signal was asked for
        os._exit(0)


def run_local(
    tasks: Iterable[Task],
    workers: int,
    done: Callable[[Task, Result], None],
    *,
    reuse: bool = True,
) -> None:
    """Run tasks in spawned processes; a dead worker fails only the task that killed it.

    At most ``workers`` tasks are in flight. When the pool breaks, the tasks that were in
    flight are rerun one at a time in a fresh single-worker pool: the one that breaks it
    again is recorded as crashed, the others get their result. The rest of the study
    continues on a fresh pool.
    """
    pending = deque(tasks)
    workers = max(1, workers)
    while pending:
        with _spawn_pool(min(workers, len(pending)), reuse) as pool:
            try:
                suspects = _drain(pool, pending, workers, done)
            except BaseException:  # Ctrl-C: stop now, not after the solves in flight
                _abandon(pool)
                raise
        for task in suspects:
            done(task, _run_isolated(task))


def _drain(
    pool: ProcessPoolExecutor,
    pending: deque[Task],
    workers: int,
    done: Callable[[Task, Result], None],
) -> list[Task]:
    """Run ``pending`` on ``pool``, at most ``workers`` at a time, until all are done or
    the pool breaks; returns the tasks that were in flight when it broke."""
    inflight: dict[Future[Result], Task] = {}
    suspects: list[Task] = []
    while pending or inflight:
        while pending and len(inflight) < workers:
            task = pending.popleft()
            inflight[pool.submit(task.fn, task.payload)] = task
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
            return suspects + list(inflight.values())
    return suspects


def _abandon(pool: ProcessPoolExecutor) -> None:
    """Kill the workers and drop the queued tasks: leaving the ``with`` block would wait
    for every solve in flight to finish (up to a whole time limit each)."""
    processes = getattr(pool, "_processes", None) or {}  # pid -> Process (CPython)
    for proc in list(processes.values()):
        proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _run_isolated(task: Task) -> Result:
    with _spawn_pool(1, reuse=True) as pool:
        try:
            return pool.submit(task.fn, task.payload).result()
        except KeyboardInterrupt:
            _abandon(pool)
            raise
        except BrokenProcessPool:
            return crashed(
                "the worker process died while solving this scenario "
                "(out of memory, or a crash in the solver)"
            )
        except Exception as exc:
            return crashed(f"{type(exc).__name__}: {exc}")


class SchedulerUnreachable(Exception):
    """No Dask scheduler with a worker answered at the address within the timeout."""


def run_dask(
    tasks: Iterable[Task],
    address: str,
    done: Callable[[Task, Result], None],
    *,
    connect_timeout_s: float = 30.0,
    echo: Callable[[str], Any] | None = None,
) -> None:
    """Run tasks on a Dask distributed cluster; a lost worker fails only its task."""
    client = connect(address, connect_timeout_s, echo)
    try:
        run_on_client(client, tasks, done)
    finally:
        client.close(timeout=5)


def run_on_client(client: Any, tasks: Iterable[Task], done: Callable[[Task, Result], None]) -> None:
    """Run tasks on a connected Dask ``client``; a lost worker fails only its task."""
    from distributed import as_completed

    futures = {
        client.submit(task.fn, task.payload, key=f"planner-study-{task.key[:24]}", pure=False): task
        for task in tasks
    }
    for fut in as_completed(futures):
        task = futures[fut]
        try:
            result = fut.result()
        except Exception as exc:  # KilledWorker, lost connection, ...
            result = crashed(f"{type(exc).__name__}: {exc}")
        done(task, result)


def connect(address: str, timeout_s: float, echo: Callable[[str], Any] | None = None) -> Any:
    """A client of the scheduler at ``address`` with at least one worker, each step under
    ``timeout_s``. Connecting runs in a thread of its own: a port that accepts but never
    answers must not hang the study past its timeout."""
    from distributed import Client
    from distributed.comm import parse_address
    from distributed.comm.registry import backends

    say = echo or (lambda _line: None)
    try:
        scheme, _ = parse_address(address, strict=True)
        if scheme not in backends:
            raise ValueError(f"unknown scheme {scheme!r} (known: {', '.join(sorted(backends))})")
    except ValueError as exc:
        raise SchedulerUnreachable(
            f"--scheduler {address!r} is not a Dask address (e.g. tcp://HOST:8786): {exc}"
        ) from None
    say(f"connecting to the Dask scheduler at {address} (timeout {timeout_s:g} s)")
    box: dict[str, Any] = {}

    def attempt() -> None:
        try:
            box["client"] = Client(address, timeout=f"{timeout_s}s")
        except BaseException as exc:  # OSError, TimeoutError, ...
            box["error"] = exc

    thread = threading.Thread(target=attempt, daemon=True, name="dask-connect")
    thread.start()
    thread.join(timeout_s + 5.0)
    if "client" not in box:
        why = box.get("error")
        reason = f"{type(why).__name__}: {why}" if why else "no answer"
        raise SchedulerUnreachable(
            f"cannot connect to the Dask scheduler at {address} within {timeout_s:g} s ({reason})"
        )
    client = box["client"]
    say(f"connected; waiting for a worker at {address} (timeout {timeout_s:g} s)")
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except Exception:
        client.close(timeout=5)
        raise SchedulerUnreachable(
            f"the Dask scheduler at {address} has no worker after {timeout_s:g} s: start "
            f"one with `dask worker {address}`"
        ) from None
    return client
