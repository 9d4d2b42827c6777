"""``planner alternatives``: the optimum, near-optimal plans that differ most from it in
sites, countries or GPU vendors, and what avoiding each country and vendor costs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from planner import api
from planner.cli.common import (
    DEFAULT_WORKBOOK,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_NO_PLAN,
    ConnectTimeoutOption,
    MipGapOption,
    SchedulerOption,
    WorkbookArg,
    WorkersOption,
    console,
    exit_if_not_written,
    output_path,
    refuse_overwriting_input,
    say,
    warn,
    writable_folder,
)
from planner.cli.study import default_workers
from planner.inputs.problems import InputError, Problem
from planner.solving.status import STATUS_ERROR, STATUS_INFEASIBLE, STATUS_NO_PLAN
from planner.studies.alternatives import AlternativesResult, run_alternatives
from planner.studies.alternatives_report import (
    alternatives_table,
    hedge_lines,
    write_alternatives,
)
from planner.studies.executors import SchedulerUnreachable


class By(StrEnum):
    site = "site"
    country = "country"
    vendor = "vendor"


@dataclass(frozen=True)
class Options:
    """The command's options (the About sheet lists them)."""

    by: str
    slack: float
    count: int
    workers: int
    scheduler: str | None
    time_limit_s: float | None
    mip_gap: float | None
    cache: bool
    quiet: bool
    connect_timeout_s: float


def register(app: typer.Typer) -> None:
    """Add the ``alternatives`` command to the planner CLI."""

    @app.command()
    def alternatives(
        workbook: WorkbookArg = DEFAULT_WORKBOOK,
        slack: Annotated[
            float,
            typer.Option(
                min=0.0, max=10.0, help="Extra cost allowed over the optimum (0.05 = 5 %)"
            ),
        ] = 0.05,
        count: Annotated[
            int, typer.Option(min=0, max=50, help="Most alternatives to search for")
        ] = 4,
        by: Annotated[
            By, typer.Option(help="What the alternatives differ in: site, country or vendor")
        ] = By.site,
        out: Annotated[
            Path | None,
            typer.Option("-o", "--out", help="Workbook (default outputs/<stem>-alternatives.xlsx)"),
        ] = None,
        workers: WorkersOption = None,
        scheduler: SchedulerOption = None,
        time_limit: Annotated[
            float | None,
            typer.Option("--time-limit", help="Per-solve time limit (s); default Settings"),
        ] = None,
        mip_gap: MipGapOption = None,
        cache: Annotated[
            bool,
            typer.Option("--cache/--no-cache", help="Reuse solves whose inputs are unchanged"),
        ] = True,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No status lines")] = False,
        connect_timeout: ConnectTimeoutOption = 30.0,
    ) -> None:
        """The optimum and up to COUNT plans within SLACK of its cost that differ most in
        sites, countries or vendors, each at its own least cost; and the cheapest plan
        without each country and GPU vendor the optimum relies on."""
        opts = Options(
            by.value,
            slack,
            count,
            workers or default_workers(),
            scheduler,
            time_limit,
            mip_gap,
            cache,
            quiet,
            connect_timeout,
        )
        run_alternatives_command(workbook, out, opts)


def run_alternatives_command(workbook: Path, out: Path | None, opts: Options) -> None:
    """Load, search, write, report; exits with the README's codes."""
    data = api.load(workbook)
    target = output_path(out, workbook, "alternatives")
    refuse_overwriting_input(target, workbook)
    cache_dir = target.with_name(f"{target.stem}-cache") if opts.cache else None
    for folder_of in [target] + ([cache_dir / "probe"] if cache_dir else []):
        why = writable_folder(folder_of)
        if why is not None:
            raise InputError([Problem(workbook.name, f"the alternatives cannot be written: {why}")])
    try:
        result = run_alternatives(
            data,
            by=opts.by,
            slack=opts.slack,
            count=opts.count,
            workers=opts.workers,
            scheduler=opts.scheduler or None,
            time_limit_s=opts.time_limit_s,
            mip_gap=opts.mip_gap,
            cache_dir=cache_dir,
            echo=None if opts.quiet else warn,
            connect_timeout_s=opts.connect_timeout_s,
        )
    except SchedulerUnreachable as exc:
        warn(f"error: {exc}")
        raise typer.Exit(EXIT_INPUT) from None
    settings = {k: v for k, v in dataclasses.asdict(opts).items() if k != "quiet"}
    written = write_alternatives(result, target, inputs=workbook, settings=settings)
    report(result, written)
    code = exit_code(result)
    if code:
        raise typer.Exit(code)
    exit_if_not_written(result.not_written, target, written)


def report(result: AlternativesResult, written: Path) -> None:
    """The table, one line per hedge, the notes, and where the workbook went."""
    print_table(result)
    for line in hedge_lines(result):
        say(line)
    for note in result.notes:
        say(f"note: {note}")
    say(
        f"{len(result.entries)} plan(s) ({result.solved} solve(s), {result.cache_hits} "
        f"from cache) in {result.seconds:.1f} s; written to {written}"
    )


def exit_code(result: AlternativesResult) -> int:
    """The README's exit codes for the optimum's status, then the checks (files are
    ``exit_if_not_written``'s)."""
    opt = result.optimum.result
    status = opt.get("status")
    if status == STATUS_INFEASIBLE:
        warn(str(opt.get("message") or "infeasible"))
        if opt.get("diagnosis"):
            warn(str(opt["diagnosis"]))
        return EXIT_INFEASIBLE
    if status == STATUS_NO_PLAN:
        warn(str(opt.get("message") or "no plan found within the time limit"))
        return EXIT_NO_PLAN
    failed = [e for e in result.entries if e.result.get("status") == STATUS_ERROR]
    if result.optimum.objective_usd is None or failed:
        for e in [result.optimum, *failed][:10]:
            warn(f"{e.name}: {e.result.get('status')}: {e.result.get('message')}")
        return EXIT_INTERNAL
    return 0


def print_table(result: AlternativesResult) -> None:
    from rich.table import Table

    table = Table(title=f"Alternatives by {result.by} (slack {result.slack:.1%})")
    for name, justify in (
        ("plan", "left"),
        ("status", "left"),
        ("cost (B USD)", "right"),
        ("vs optimum", "right"),
        ("countries", "left"),
        ("sites", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=name != "sites")  # type: ignore[arg-type]
    for _, r in alternatives_table(result).iterrows():
        obj, pct = r["objective_usd"], r["delta_pct"]
        table.add_row(
            str(r["plan"]),
            str(r["status"]),
            f"{obj / 1e9:,.3f}" if obj is not None and obj == obj else "-",
            f"{pct:+.1f} %" if pct is not None and pct == pct else "-",
            _text(r["countries"]),
            _text(r["sites"]),
        )
    console.print(table)


def _text(value: object) -> str:
    return value if isinstance(value, str) and value else "-"
