"""Where a study's tasks run: spawned local processes, or a Dask cluster.

A dead worker fails only the task that killed it; the rest of the study goes on.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from planner.studies.worker import Result, crashed, solve_task


@dataclass
class Task:
    """One solve: the scenarios that share these effective inputs, and its payload."""

    key: str
    names: list[str]
    payload: dict[str, Any]
    cache_key: str | None = None


def _spawn_pool(workers: int, reuse: bool) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, max_tasks_per_child=None if reuse else 1
    )


def run_local(
    tasks: Iterable[Task], workers: int, done: Callable[[Task, Result], None], *, reuse: bool = True
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
            return crashed(
                "the worker process died while solving this scenario "
                "(out of memory, or a crash in the solver)"
            )
        except Exception as exc:
            return crashed(f"{type(exc).__name__}: {exc}")


def run_dask(tasks: Iterable[Task], address: str, done: Callable[[Task, Result], None]) -> None:
    """Run tasks on a Dask distributed cluster; a lost worker fails only its task."""
    from distributed import Client, as_completed

    with Client(address, timeout="30s") as client:
        futures = {
            client.submit(
                solve_task, task.payload, key=f"planner-study-{task.key[:24]}", pure=False
            ): task
            for task in tasks
        }
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                result = fut.result()
            except Exception as exc:  # KilledWorker, lost connection, ...
                result = crashed(f"{type(exc).__name__}: {exc}")
            done(task, result)
