"""Command line: ``planner validate|template|synth|plan|check|explain|diff|study``,
``planner frontier``, ``planner alternatives`` and ``planner risk``.

Each command group lives in its own module and is registered here, explicitly; command
modules import ``planner.cli.common``, never this package. Exit codes are in the README.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path

import typer

from planner.cli import alternatives, frontier, inputs, plan, risk, study
from planner.cli.common import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    HELD,
    report_problems,
    warn,
)
from planner.inputs.excel import WRITTEN
from planner.inputs.problems import InputError
from planner.solving.highs import abandoned_solves

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Capacity planner for AI compute (Pyomo + HiGHS).",
)
for group in (inputs, plan, study, frontier, alternatives, risk):
    group.register(app)


def main() -> None:
    """Console-script entry: typer app with exit codes and no tracebacks for users."""
    try:
        code = _run()
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    if code == EXIT_INTERRUPTED:
        _interrupted()
    _leave(code)


def _run() -> int:
    """The command's exit code; Ctrl-C may still escape (``main`` takes it)."""
    try:
        rc = app(standalone_mode=False)  # typer turns Ctrl-C into Exit(130) or Abort
        return rc if isinstance(rc, int) else EXIT_OK
    except InputError as exc:
        report_problems(exc.problems)
        return EXIT_INPUT
    except typer.Exit as exc:
        return int(exc.exit_code)
    except SystemExit:
        raise
    except Exception as exc:
        return _internal_error(exc)


def _internal_error(exc: Exception) -> int:
    if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click/typer usage error
        exc.show()
        return EXIT_INPUT  # a usage error is bad input, never "infeasible"
    if type(exc).__name__ == "Abort":  # click's form of Ctrl-C
        return EXIT_INTERRUPTED
    log = _write_crash_log()
    warn(f"internal error: {type(exc).__name__}: {exc}\nfull log: {log}")
    return EXIT_INTERNAL


def _interrupted() -> None:
    """Say what Ctrl-C left behind; a second Ctrl-C must not cut this short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    written = ", ".join(str(p) for p in WRITTEN)
    warn(
        f"interrupted after writing {written}" if written else "interrupted; no output was changed"
    )


def _leave(code: int) -> None:
    """Exit with ``code``. After Ctrl-C, when a HiGHS thread ignored its cancel (the time
    limit is a promise and the output is written), or with a solved model held, the
    process leaves at once: a C++ solver thread alive at interpreter exit aborts it
    ("terminate called without an active exception", SIGABRT), and tearing down a large
    model object by object takes seconds nobody asked for."""
    if code == EXIT_INTERRUPTED or abandoned_solves() or HELD:
        _release_process_pools()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _release_process_pools() -> None:
    """What multiprocessing does at exit, which ``os._exit`` skips: run its finalizers
    (the semaphores of a study's process pool; else its resource tracker warns of leaked
    semaphores) and end any child still running."""
    mp_util = sys.modules.get("multiprocessing.util")
    exit_function = getattr(mp_util, "_exit_function", None)
    if exit_function is not None:
        exit_function()


def _write_crash_log() -> Path:
    import tempfile

    fd, name = tempfile.mkstemp(prefix="planner-crash-", suffix=".log")
    with open(fd, "w") as fh:
        fh.write(traceback.format_exc())
    return Path(name)
