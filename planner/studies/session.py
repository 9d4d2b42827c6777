"""Executors that stay up across batches of tasks: one pool of local worker processes, or
one Dask client, for a computation whose later tasks depend on earlier results (the
near-optimal search of ``planner.studies.alternatives``).

``run(tasks, done)`` has the contract of ``executors.run_local`` / ``run_dask``: every
task's result goes to ``done``, and a dead worker fails only the task that killed it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Protocol

from planner.studies.executors import Task, _spawn_pool, connect, run_local, run_on_client
from planner.studies.worker import Result, crashed

Done = Callable[[Task, Result], None]


class Session(Protocol):
    def run(self, tasks: Sequence[Task], done: Done) -> None: ...


class LocalSession:
    """A pool of spawned worker processes kept for the whole session (the solver stack is
    imported once per worker). When the pool breaks, the unfinished tasks go through
    ``run_local``, which isolates the one that breaks it, and a fresh pool follows."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self.pool: ProcessPoolExecutor | None = None

    def run(self, tasks: Sequence[Task], done: Done) -> None:
        if not tasks:
            return
        if self.pool is None:
            self.pool = _spawn_pool(self.workers, reuse=True)
        futures: dict[Future[Result], Task] = {self.pool.submit(t.fn, t.payload): t for t in tasks}
        left: list[Task] = []
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                done(task, fut.result())
            except BrokenProcessPool:
                left.append(task)
            except Exception as exc:
                done(task, crashed(f"{type(exc).__name__}: {exc}"))
        if left:
            self.close()
            run_local(left, self.workers, done, reuse=True)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


class InlineSession:
    """Tasks run one after the other in this process (``workers=0``: notebooks, tests);
    the task functions never raise, so neither does this."""

    def run(self, tasks: Sequence[Task], done: Done) -> None:
        for task in tasks:
            done(task, task.fn(task.payload))


class DaskSession:
    """One client of a Dask scheduler for the whole session."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def run(self, tasks: Sequence[Task], done: Done) -> None:
        if tasks:
            run_on_client(self.client, tasks, done)


@contextmanager
def open_session(
    workers: int,
    scheduler: str | None = None,
    *,
    connect_timeout_s: float = 30.0,
    echo: Callable[[str], Any] | None = None,
) -> Iterator[Session]:
    """Local worker processes (``workers=0``: this process), or the Dask scheduler at
    ``scheduler`` (raises ``executors.SchedulerUnreachable`` when it cannot be reached
    or has no worker)."""
    if scheduler:
        client = connect(scheduler, connect_timeout_s, echo)
        try:
            yield DaskSession(client)
        finally:
            client.close(timeout=5)
        return
    if workers <= 0:
        yield InlineSession()
        return
    local = LocalSession(workers)
    try:
        yield local
    finally:
        local.close()
