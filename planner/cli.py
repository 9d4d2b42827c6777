"""Command line: ``planner validate|template|plan|...``. Exit codes are documented in README."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from planner.problems import InputError, Problem

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_PLAN, EXIT_INTERNAL = 0, 1, 2, 3, 4
DEFAULT_WORKBOOK = Path("inputs/reference.xlsx")

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Capacity planner for AI compute (Pyomo + HiGHS).")
console = Console(stderr=False, highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

WorkbookArg = Annotated[Path, typer.Argument(help="Input workbook (.xlsx)")]


def report_problems(problems: list[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    for p in warnings:
        err.print(f"warning: {p}", markup=False)
    for p in errors:
        err.print(f"error: {p}", markup=False)
    if errors:
        err.print(f"{len(errors)} error(s) found; nothing was solved.", markup=False)


@app.command()
def validate(workbook: WorkbookArg = DEFAULT_WORKBOOK) -> None:
    """Check a workbook against the contract and list every problem at once."""
    from planner.validate import validate_path

    data, problems = validate_path(workbook)
    report_problems(problems)
    if data is None:
        raise typer.Exit(EXIT_INPUT)
    console.print(f"{workbook}: valid ({len(data.sites)} sites, {len(data.gpus)} GPU types, "
                  f"{len(data.runs)} runs, years {data.settings.start_year}-"
                  f"{data.settings.end_year})", markup=False)


@app.command()
def template(out: Annotated[Path, typer.Argument(help="Where to write the blank workbook")]
             ) -> None:
    """Write a blank workbook with every sheet and a Guide sheet describing each column."""
    from planner.template import write_template

    path = write_template(out)
    console.print(f"template written to {path}", markup=False)


def main() -> None:
    """Console-script entry: typer app with exit codes and no tracebacks for users."""
    try:
        rc = app(standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else EXIT_OK)
    except InputError as exc:
        report_problems(exc.problems)
        sys.exit(EXIT_INPUT)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err.print("interrupted; no output was changed")
        sys.exit(130)
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click/typer usage error
            exc.show()
            sys.exit(EXIT_INPUT)  # a usage error is bad input, never "infeasible"
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        log = _write_crash_log()
        err.print(f"internal error: {type(exc).__name__}: {exc}\nfull log: {log}",
                  markup=False)
        sys.exit(EXIT_INTERNAL)


def _write_crash_log() -> Path:
    import tempfile

    fd, name = tempfile.mkstemp(prefix="planner-crash-", suffix=".log")
    with open(fd, "w") as fh:
        fh.write(traceback.format_exc())
    return Path(name)
