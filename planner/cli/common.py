"""What every command shares: the consoles, the exit codes, the default paths, and how
problems with the inputs are printed. Nothing here imports a command module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from planner.inputs.problems import InputError, Problem

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_PLAN, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130
DEFAULT_WORKBOOK = Path("inputs/reference.xlsx")

console = Console(stderr=False, highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

WorkbookArg = Annotated[Path, typer.Argument(help="Input workbook (.xlsx)")]


def say(line: str) -> None:
    """A line to standard output, never read as rich markup."""
    console.print(line, markup=False)


def warn(line: str) -> None:
    """A line to standard error, never read as rich markup."""
    err.print(line, markup=False)


def report_problems(problems: list[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    for p in warnings:
        warn(f"warning: {p}")
    for p in errors:
        warn(f"error: {p}")
    if errors:
        warn(f"{len(errors)} error(s) found; nothing was solved.")


def default_output(workbook: Path, suffix: str) -> Path:
    return Path("outputs") / f"{workbook.stem}-{suffix}.xlsx"


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
