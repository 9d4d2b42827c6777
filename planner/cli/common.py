"""What every command shares: the consoles, the exit codes, the default paths, and how
problems with the inputs are printed. Nothing here imports a command module."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from planner.inputs.problems import InputError, Problem

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_PLAN, EXIT_INTERNAL = 0, 1, 2, 3, 4
# The answer exists but not where it was asked for (written elsewhere, or a study's cache
# or plan files missing): a script must not read a stale file at the requested path.
EXIT_NOT_WRITTEN = 5
EXIT_INTERRUPTED = 130
DEFAULT_WORKBOOK = Path("inputs/reference.xlsx")
MAX_PROBLEM_LINES = 200  # past this, a list of problems says how many more there are

_LOADED = time.monotonic()
# Results kept alive until the process exits, which then leaves at once (``planner.cli``):
# a large model takes seconds to free object by object; the OS reclaims it in no time.
HELD: list[object] = []

console = Console(stderr=False, highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

WorkbookArg = Annotated[Path, typer.Argument(help="Input workbook (.xlsx)")]
# Options of every command that runs its solves on workers (study, alternatives).
WorkersOption = Annotated[
    int | None,
    typer.Option("--workers", "-w", min=1, help="Local worker processes (default: CPU count)"),
]
SchedulerOption = Annotated[
    str | None, typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://HOST:8786")
]
ConnectTimeoutOption = Annotated[
    float,
    typer.Option(
        "--connect-timeout",
        min=0.1,
        help="Seconds to reach the Dask scheduler, and again to see a worker",
    ),
]
MipGapOption = Annotated[float | None, typer.Option(help="Override Settings mip_gap")]


def say(line: str) -> None:
    """A line to standard output, never read as rich markup."""
    console.print(line, markup=False)


def warn(line: str) -> None:
    """A line to standard error, never read as rich markup."""
    err.print(line, markup=False)


def report_problems(problems: list[Problem], limit: int = MAX_PROBLEM_LINES) -> None:
    """Warnings, then errors, each list cut at ``limit`` lines with a count of the rest."""
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    for kind, found in (("warning", warnings), ("error", errors)):
        for p in found[:limit]:
            warn(f"{kind}: {p}")
        if len(found) > limit:
            warn(f"... and {len(found) - limit:,} more {kind}(s) like these")
    if errors:
        warn(f"{len(errors)} error(s) found; nothing was solved.")


def process_age() -> float:
    """Seconds since this process started, Python start-up and imports included: the wall
    clock an operator timing the command sees (from /proc on Linux, else since this module
    was loaded)."""
    try:
        with open("/proc/self/stat") as fh:
            # Field 22, start time in clock ticks after boot; the name (field 2) may hold
            # spaces, so count from the ")" that closes it.
            start = int(fh.read().rpartition(")")[2].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _LOADED


def hold_until_exit(obj: object) -> None:
    """Keep ``obj`` (a solved model) alive until the process exits without freeing it."""
    HELD.append(obj)


def default_output(workbook: Path, suffix: str) -> Path:
    return Path("outputs") / f"{workbook.stem}-{suffix}.xlsx"


def output_path(out: Path | None, workbook: Path, suffix: str) -> Path:
    """Where ``-o`` asks for the output: the default when absent, and
    ``<folder>/<stem>-<suffix>.xlsx`` when it names a folder."""
    if out is None:
        return default_output(workbook, suffix)
    if out.is_dir():
        return out / f"{workbook.stem}-{suffix}.xlsx"
    return out


def writable_folder(target: Path) -> str | None:
    """Why ``target``'s folder cannot take a new file, or None when it can (tried by
    creating the folder and a probe file: permission bits alone miss read-only mounts)."""
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".planner-probe-"):
            pass
    except OSError as exc:
        return f"{folder} cannot be written ({exc.strerror or exc})"
    return None


def refuse_overwriting_input(target: Path, workbook: Path) -> None:
    """The input workbook is never written."""
    if target.resolve() == workbook.resolve():
        raise InputError(
            [
                Problem(
                    workbook.name,
                    "the output path is the input workbook; "
                    "choose another -o (the input is never overwritten)",
                )
            ]
        )


def exit_if_not_written(not_written: list[str], target: Path, written: Path) -> None:
    """Exit ``EXIT_NOT_WRITTEN`` when a requested file (the workbook at ``target``, or a
    plan file beside it) was not written where it was asked for."""
    missing = not_written + ([str(target)] if written != target else [])
    if missing:
        warn(f"{len(missing)} requested file(s) not written: {', '.join(missing[:5])}")
        raise typer.Exit(EXIT_NOT_WRITTEN)
