"""Command line: ``planner validate|template|plan|...``. Exit codes are documented in README."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from planner.problems import InputError, Problem

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_PLAN, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130
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


def default_output(workbook: Path, suffix: str) -> Path:
    return Path("outputs") / f"{workbook.stem}-{suffix}.xlsx"


class LiveProgress:
    """Elapsed time, best plan's cost, bound and gap while a solve runs (terminals only)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and console.is_terminal
        self.live: Any = None

    def __call__(self, p: Any) -> None:
        if not self.enabled or p.elapsed < 2.0:
            return
        if self.live is None:
            from rich.live import Live

            self.live = Live(console=console, refresh_per_second=4, transient=True)
            self.live.start()
        best = f"{p.best:,.1f} M USD" if p.best is not None else "none yet"
        bound = f"{p.bound:,.1f} M USD" if p.bound is not None else "-"
        gap = f"{p.gap * 100:.2f} %" if p.gap is not None else "-"
        self.live.update(f"solving: {p.elapsed:6.1f} s   best plan {best}   bound {bound}"
                         f"   gap {gap}")

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()


@app.command()
def plan(
    workbook: WorkbookArg = DEFAULT_WORKBOOK,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output plan workbook")] = None,
    mip_gap: Annotated[float | None, typer.Option(help="Override Settings mip_gap")] = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", help="Override Settings time_limit_s (wall clock, s)")] = None,
    threads: Annotated[int | None, typer.Option(help="HiGHS threads")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress")] = False,
    lock: Annotated[Path | None, typer.Option(
        "--lock", help="Plan workbook whose rows marked in a 'lock' column stay fixed")] = None,
    png: Annotated[bool, typer.Option(
        "--png", help="Also write the charts as PNG files beside the workbook")] = False,
) -> None:
    """Solve the least-cost build plan and write it to Excel (with binding limits, or a
    diagnosis when infeasible)."""
    from planner import api
    from planner.solve import STATUS_INFEASIBLE, STATUS_NO_PLAN

    data = api.load(workbook)
    target = out or default_output(workbook, "plan")
    refuse_overwriting_input(target, workbook)
    progress = LiveProgress(not quiet)
    from planner.cmd_explain import after_export, plan_with_options

    def echo(line: str) -> None:
        console.print(line, markup=False)

    try:
        result = plan_with_options(data, lock=lock, mip_gap=mip_gap, time_limit_s=time_limit,
                                   threads=threads, on_progress=progress, echo=echo)
    finally:
        progress.stop()
    status = result.status
    if status == STATUS_NO_PLAN:
        err.print(f"no plan found within {time_limit or data.settings.time_limit_s:g} s",
                  markup=False)
        raise typer.Exit(EXIT_NO_PLAN)
    written = api.export(result, target, inputs=workbook)
    after_export(result, written, png=png, echo=echo)
    if written != target:
        err.print(f"could not write {target}; the plan was written to {written} instead",
                  markup=False)
    if status == STATUS_INFEASIBLE:
        err.print(f"{result.result.message}", markup=False)
        console.print(f"details written to {written}", markup=False)
        raise typer.Exit(EXIT_INFEASIBLE)
    print_summary(result)
    console.print(f"plan written to {written}", markup=False)
    if result.violations or result.plan is None:
        for v in result.violations[:20]:
            err.print(f"check: {v}", markup=False)
        err.print(f"{result.result.message}", markup=False)
        raise typer.Exit(EXIT_INTERNAL)


@app.command()
def check(
    plan_file: Annotated[Path, typer.Argument(help="Exported (possibly edited) plan workbook")],
    inputs: Annotated[Path, typer.Option("--inputs", help="Input workbook of the plan")
                      ] = DEFAULT_WORKBOOK,
) -> None:
    """Re-verify a plan against its inputs with the independent checker."""
    from planner import api
    from planner.check import check_plan
    from planner.export import read_plan

    data = api.load(inputs)
    try:
        the_plan = read_plan(plan_file)
    except InputError:
        raise
    except Exception as exc:  # a plan workbook edited beyond recognition
        raise InputError([Problem(plan_file.name, f"cannot be read as a plan: {exc}")]) from None
    violations = check_plan(data, the_plan)
    for v in violations:
        console.print(f"violation: {v}", markup=False)
    if violations:
        console.print(f"{len(violations)} violation(s) found in {plan_file}", markup=False)
        raise typer.Exit(EXIT_INPUT)
    console.print(f"{plan_file}: every limit of {inputs.name} holds", markup=False)


def refuse_overwriting_input(target: Path, workbook: Path) -> None:
    """The input workbook is never written."""
    if target.resolve() == workbook.resolve():
        raise InputError([Problem(workbook.name, "the output path is the input workbook; "
                                  "choose another -o (the input is never overwritten)")])


def print_summary(result: Any) -> None:
    from rich.table import Table

    s = result.plan.summary
    table = Table(title=f"Plan: {result.result.words}", show_header=True)
    table.add_column("item")
    table.add_column("value", justify="right")
    table.add_row("discounted total cost", f"{s['objective_usd'] / 1e9:,.3f} B USD")
    table.add_row("capex (undiscounted)", f"{s['capex_usd'] / 1e9:,.3f} B USD")
    table.add_row("opex (undiscounted)", f"{s['opex_usd'] / 1e9:,.3f} B USD")
    table.add_row("MIP gap", f"{(result.result.gap or 0) * 100:.3f} %")
    table.add_row("GPUs purchased", f"{s['total_gpus_purchased']:,}")
    table.add_row("peak facility power", f"{s['peak_facility_mw']:,.1f} MW")
    for _, r in result.plan["Runs"].iterrows():
        table.add_row(f"run {r.run_id} ({r.ready_year})",
                      f"{r.flop_delivered:.3g} FLOP at {r.sites}")
    table.add_row("solve time", f"{result.result.seconds:.1f} s")
    low, high = result.coefficient_range
    table.add_row("matrix coefficients", f"{low:.2g} .. {high:.2g}")
    console.print(table)
    if low > 0 and high / low > 1e10:
        err.print(f"warning: matrix coefficients span {high / low:.1e}; HiGHS may struggle "
                  "numerically (the plan was re-checked independently)", markup=False)


def main() -> None:
    """Console-script entry: typer app with exit codes and no tracebacks for users."""
    try:
        rc = app(standalone_mode=False)
        if rc == EXIT_INTERRUPTED:  # typer turns Ctrl-C into Exit(130)
            err.print("interrupted; no output was changed")
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
        err.print("interrupted; no output was changed")
        sys.exit(130)
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click/typer usage error
            exc.show()
            sys.exit(EXIT_INPUT)  # a usage error is bad input, never "infeasible"
        if type(exc).__name__ == "Abort":  # click's form of Ctrl-C
            err.print("interrupted; no output was changed")
            sys.exit(130)
        log = _write_crash_log()
        err.print(f"internal error: {type(exc).__name__}: {exc}\nfull log: {log}",
                  markup=False)
        sys.exit(EXIT_INTERNAL)


def _exit_now_if_solver_overran(code: int) -> None:
    """The time limit is a promise: the output is written, so do not wait for a HiGHS
    thread that ignored its cancel (its C++ state cannot be torn down safely)."""
    from planner.solve import abandoned_solves

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


# Subcommands that live in their own modules register themselves here.
def _register_commands() -> None:
    import importlib

    for name in ("planner.cmd_study", "planner.cmd_explain", "planner.cmd_synth"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app)


_register_commands()
