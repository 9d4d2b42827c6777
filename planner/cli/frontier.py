"""``planner frontier``: how big one run can be by its ready year, what each size costs,
and from which year its target is feasible."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from planner import api
from planner.analysis.frontier import DEFAULT_POINTS, INFEASIBLE, NO_PLAN, UNVERIFIED
from planner.cli.common import (
    DEFAULT_WORKBOOK,
    EXIT_INFEASIBLE,
    EXIT_INTERNAL,
    EXIT_NO_PLAN,
    EXIT_NOT_WRITTEN,
    WorkbookArg,
    console,
    output_path,
    refuse_overwriting_input,
    say,
    warn,
)


def frontier(
    workbook: WorkbookArg = DEFAULT_WORKBOOK,
    run: Annotated[
        str, typer.Option("--run", help="Run whose FLOP is maximised (Runs.run_id)")
    ] = "",
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Apply this scenario of the Scenarios sheet")
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option("--budget", help="Most the whole plan may cost, discounted (USD, e.g. 50e9)"),
    ] = None,
    points: Annotated[
        int, typer.Option("--points", help="Points on the least-cost curve (log-spaced)")
    ] = DEFAULT_POINTS,
    earliest: Annotated[
        bool, typer.Option("--earliest", help="Also the earliest ready year the target is feasible")
    ] = False,
    ready_year: Annotated[
        int | None, typer.Option("--ready-year", help="Move the run to this ready year first")
    ] = None,
    alone: Annotated[
        bool, typer.Option("--alone", help="Leave the other runs out (default: all still met)")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("-o", "--out", help="Output workbook (default outputs/<stem>-frontier-<run>)"),
    ] = None,
    mip_gap: Annotated[float | None, typer.Option(help="Override Settings mip_gap")] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", help="Per-solve time limit (s); default Settings time_limit_s"
        ),
    ] = None,
    threads: Annotated[int | None, typer.Option(help="HiGHS threads")] = None,
) -> None:
    """The most FLOP a run can get by its ready year with every other run still met
    (within --budget), the least-cost curve up to it with what binds each point, and
    (--earliest) the first ready year its target is feasible."""
    data = api.load(workbook)
    target = output_path(out, workbook, f"frontier-{_safe(run)}")
    refuse_overwriting_input(target, workbook)
    result = api.frontier(
        data,
        run,
        scenario=scenario,
        ready_year=ready_year,
        alone=alone,
        budget_usd=budget,
        points=points,
        earliest=earliest,
        mip_gap=mip_gap,
        time_limit_s=time_limit,
        threads=threads,
        echo=say,
    )
    print_frontier(result)
    written = api.export_frontier(result, target, inputs=workbook)
    say(f"frontier written to {written}")
    finish(result, written, target)


EXIT_FOR = {INFEASIBLE: EXIT_INFEASIBLE, NO_PLAN: EXIT_NO_PLAN, UNVERIFIED: EXIT_INTERNAL}


def finish(result: api.FrontierResult, written: Path, target: Path) -> None:
    """Exit 2 (no frontier: the other runs, the budget, or a run that gets nothing), 3
    (no plan in time), 4 (the maximum did not re-solve) with the reason on stderr; 5
    when the workbook went elsewhere."""
    if written != target:
        warn(f"could not write {target}; the frontier was written to {written} instead")
    if result.status in EXIT_FOR:
        warn(result.message)
        raise typer.Exit(EXIT_FOR[result.status])
    if written != target:
        raise typer.Exit(EXIT_NOT_WRITTEN)


def _safe(name: str) -> str:
    """A run id as a file name part."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "run"


def _b(usd: float | None) -> str:
    return "-" if usd is None or usd != usd else f"{usd / 1e9:,.2f}"


def print_frontier(result: api.FrontierResult) -> None:
    """The curve as a table, then what binds the maximum and the earliest year."""
    if result.points:
        _print_curve(result)
    mx = result.maximum
    if mx is not None:
        for lim in mx.limits.head(3).itertuples(index=False):
            say(f"binds the maximum: {lim.limit_cell}: {lim.reading}")
    er = result.earliest
    if er is not None:
        year = er.year if er.year is not None else "none in the horizon"
        say(f"earliest ready year for the target: {year}")
        if er.before:
            say(f"the year before: {er.before}")


def _print_curve(result: api.FrontierResult) -> None:
    from rich.table import Table

    table = Table(title=f"Frontier of run {result.run_id}", show_header=True)
    for name, justify in (
        ("#", "right"),
        ("FLOP", "right"),
        ("cost B USD", "right"),
        ("delta B USD", "right"),
        ("binding limit", "left"),
        ("status", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in result.table().to_dict("records"):
        cell, words = r["binding_cell"], r["binding_limit"]
        note = f" ({r['note']})" if r["note"] else ""
        table.add_row(
            str(r["point"]),
            f"{r['flop']:.3g}",
            _b(r["cost_usd"]),
            _b(r["cost_delta_usd"]),
            f"{cell}: {words}" if cell else str(words),
            f"{r['status']}{note}",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(frontier)
