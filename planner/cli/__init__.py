"""Command line: ``planner validate|template|synth|plan|check|explain|diff|study|risk``.

Each command group lives in its own module and is registered here, explicitly; command
modules import ``planner.cli.common``, never this package. Exit codes are in the README.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import typer

from planner.cli import inputs, plan, risk, study
from planner.cli.common import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    report_problems,
    warn,
)
from planner.inputs.problems import InputError
from planner.solving.highs import abandoned_solves

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Capacity planner for AI compute (Pyomo + HiGHS).",
)
for group in (inputs, plan, study, risk):
    group.register(app)


def main() -> None:
    """Console-script entry: typer app with exit codes and no tracebacks for users."""
    try:
        rc = app(standalone_mode=False)
        if rc == EXIT_INTERRUPTED:  # typer turns Ctrl-C into Exit(130)
            warn("interrupted; no output was changed")
        _exit_now_if_solver_overran(rc if isinstance(rc, int) else EXIT_OK)
        sys.exit(rc if isinstance(rc, int) else EXIT_OK)
    except InputError as exc:
        report_problems(exc.problems)
        sys.exit(EXIT_INPUT)
    except typer.Exit as exc:
        _exit_now_if_solver_overran(exc.exit_code)
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        warn("interrupted; no output was changed")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        _internal_error(exc)


def _internal_error(exc: Exception) -> None:
    if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click/typer usage error
        exc.show()
        sys.exit(EXIT_INPUT)  # a usage error is bad input, never "infeasible"
    if type(exc).__name__ == "Abort":  # click's form of Ctrl-C
        warn("interrupted; no output was changed")
        sys.exit(EXIT_INTERRUPTED)
    log = _write_crash_log()
    warn(f"internal error: {type(exc).__name__}: {exc}\nfull log: {log}")
    sys.exit(EXIT_INTERNAL)


def _exit_now_if_solver_overran(code: int) -> None:
    """The time limit is a promise: the output is written, so do not wait for a HiGHS
    thread that ignored its cancel (its C++ state cannot be torn down safely)."""
    if abandoned_solves():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _write_crash_log() -> Path:
    import tempfile

    fd, name = tempfile.mkstemp(prefix="planner-crash-", suffix=".log")
    with open(fd, "w") as fh:
        fh.write(traceback.format_exc())
    return Path(name)
