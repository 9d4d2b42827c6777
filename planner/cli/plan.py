"""``planner plan``, ``planner check``, ``planner explain`` and ``planner diff``: one plan,
its check, its binding limits, and what changed between two plans."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from planner import api
from planner.cli.common import (
    DEFAULT_WORKBOOK,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_NO_PLAN,
    EXIT_NOT_WRITTEN,
    WorkbookArg,
    console,
    hold_until_exit,
    output_path,
    process_age,
    refuse_overwriting_input,
    say,
    warn,
)
from planner.inputs.formats import billions
from planner.inputs.problems import InputError, Problem
from planner.results.tables import Plan
from planner.solving.status import STATUS_INFEASIBLE, STATUS_NO_PLAN, Progress


class LiveProgress:
    """Elapsed time, best plan's cost, bound and gap while a solve runs (terminals only)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and console.is_terminal
        self.live: Any = None

    def __call__(self, p: Progress) -> None:
        if not self.enabled or p.elapsed < 2.0:
            return
        if self.live is None:
            from rich.live import Live

            self.live = Live(console=console, refresh_per_second=4, transient=True)
            self.live.start()
        # Progress reports the model's M USD; headlines show B USD.
        best = billions(p.best * 1e6) if p.best is not None else "none yet"
        bound = billions(p.bound * 1e6) if p.bound is not None else "-"
        gap = f"{p.gap * 100:.2f} %" if p.gap is not None else "-"
        self.live.update(
            f"solving: {p.elapsed:6.1f} s   best plan {best}   bound {bound}   gap {gap}"
        )

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()


KeepOption = Annotated[
    list[str] | None,
    typer.Option(
        "--keep",
        help="SHEET[:ROW_ID] whose limits the diagnosis must not move (repeatable), "
        "e.g. Sites, Sites:US-ABI, Supply:2027:cowos_wafers",
    ),
]


def plan(
    workbook: WorkbookArg = DEFAULT_WORKBOOK,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output plan workbook")] = None,
    mip_gap: Annotated[float | None, typer.Option(help="Override Settings mip_gap")] = None,
    time_limit: Annotated[
        float | None,
        typer.Option("--time-limit", help="Override Settings time_limit_s (wall clock, s)"),
    ] = None,
    threads: Annotated[int | None, typer.Option(help="HiGHS threads")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress")] = False,
    lock: Annotated[
        Path | None,
        typer.Option(
            "--lock", help="Plan workbook whose rows marked in a 'lock' column stay fixed"
        ),
    ] = None,
    png: Annotated[
        bool, typer.Option("--png", help="Also write the charts as PNG files beside the workbook")
    ] = False,
    keep: KeepOption = None,
) -> None:
    """Solve the least-cost build plan and write it to Excel (with binding limits, or a
    diagnosis when infeasible)."""
    data = api.load(workbook)
    target = output_path(out, workbook, "plan")
    refuse_overwriting_input(target, workbook)
    progress = LiveProgress(not quiet)
    try:
        result = api.plan(
            data,
            lock=lock,
            mip_gap=mip_gap,
            time_limit_s=time_limit,
            threads=threads,
            on_progress=progress,
            echo=say,
            spent_s=process_age(),  # the limit covers the whole command
            keep=keep or [],
        )
    finally:
        progress.stop()
    hold_until_exit(result)
    if result.status == STATUS_NO_PLAN:
        warn(f"no plan found within {time_limit or data.settings.time_limit_s:g} s")
        raise typer.Exit(EXIT_NO_PLAN)
    written = api.export(result, target, inputs=workbook)
    after_export(result, written, png=png, echo=say)
    if written != target:
        warn(f"could not write {target}; the plan was written to {written} instead")
    if result.status == STATUS_INFEASIBLE:
        warn(result.result.message)
        say(f"details written to {written}")
        raise typer.Exit(EXIT_INFEASIBLE)
    print_summary(result)
    say(f"plan written to {written}")
    if result.violations or result.plan is None:
        for v in result.violations[:20]:
            warn(f"check: {v}")
        warn(result.result.message)
        raise typer.Exit(EXIT_INTERNAL)
    if written != target:
        raise typer.Exit(EXIT_NOT_WRITTEN)


def after_export(
    result: api.PlanResult, written: Path, *, png: bool, echo: api.Echo = print
) -> list[Path]:
    """``--png``: write the charts and the site map as PNG files beside the workbook."""
    if not png or result.plan is None:
        return []
    from planner.results.charts import write_pngs

    paths = write_pngs(result.plan, result.data, written.parent, stem=written.stem)
    for p in paths:
        echo(f"picture written to {p}")
    return paths


def print_summary(result: api.PlanResult) -> None:
    from rich.table import Table

    assert result.plan is not None
    s = result.plan.summary
    table = Table(title=f"Plan: {result.result.words}", show_header=True)
    table.add_column("item")
    table.add_column("value", justify="right")
    table.add_row("discounted total cost", billions(s["objective_usd"]))
    table.add_row("capex (undiscounted)", billions(s["capex_usd"]))
    table.add_row("opex (undiscounted)", billions(s["opex_usd"]))
    table.add_row("MIP gap", f"{(result.result.gap or 0) * 100:.3f} %")
    table.add_row("GPUs purchased", f"{s['total_gpus_purchased']:,}")
    table.add_row("peak facility power", f"{s['peak_facility_mw']:,.1f} MW")
    for _, r in result.plan["Runs"].iterrows():
        table.add_row(
            f"run {r.run_id} ({r.ready_year})", f"{r.flop_delivered:.3g} FLOP at {r.sites}"
        )
    table.add_row("solve time", f"{result.result.seconds:.1f} s")
    low, high = result.coefficient_range
    table.add_row("matrix coefficients", f"{low:.2g} .. {high:.2g}")
    console.print(table)
    if low > 0 and high / low > 1e10:
        warn(
            f"warning: matrix coefficients span {high / low:.1e}; HiGHS may struggle "
            "numerically (the plan was re-checked independently)"
        )


def check(
    plan_file: Annotated[Path, typer.Argument(help="Exported (possibly edited) plan workbook")],
    inputs: Annotated[
        Path, typer.Option("--inputs", help="Input workbook of the plan")
    ] = DEFAULT_WORKBOOK,
) -> None:
    """Re-verify a plan against its inputs with the independent checker."""
    from planner.results.check import check_plan

    data = api.load(inputs)
    violations = check_plan(data, read_plan_file(plan_file))
    for v in violations:
        say(f"violation: {v}")
    if violations:
        say(f"{len(violations)} violation(s) found in {plan_file}")
        raise typer.Exit(EXIT_INPUT)
    say(f"{plan_file}: every limit of {inputs.name} holds")


def explain(
    workbook: Annotated[Path, typer.Argument(help="Input workbook (.xlsx)")],
    top: Annotated[int, typer.Option(help="Rows to print (0: all)")] = 0,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Override Settings time_limit_s (s)")
    ] = None,
    keep: KeepOption = None,
) -> None:
    """Solve and print the binding limits, their shadow prices and workbook cells;
    for an infeasible workbook, what stands in the way and by how much."""
    from rich.table import Table

    data = api.load(workbook)
    result = api.plan(data, time_limit_s=time_limit, echo=say, keep=keep or [])
    if result.status == STATUS_INFEASIBLE:
        warn(result.result.message)
        raise typer.Exit(EXIT_INFEASIBLE)
    if result.plan is None or "Constraints" not in result.extra_sheets:
        warn(result.result.message or "no plan found")
        raise typer.Exit(EXIT_NO_PLAN)
    df = result.extra_sheets["Constraints"]
    if top:
        df = df.head(top)
    table = Table(title=f"Binding limits ({result.result.words})")
    numbers = ("limit_value", "used", "shadow_price")
    for c in ("limit_cell", "family", "instance", *numbers, "unit", "reading"):
        table.add_column(c, justify="right" if c in numbers else "left")
    for r in df.itertuples():
        table.add_row(
            str(r.limit_cell),
            str(r.family),
            str(r.instance),
            f"{r.limit_value:,.6g}",
            f"{r.used:,.6g}",
            f"{r.shadow_price:,.6g}",
            str(r.unit),
            str(r.reading),
        )
    console.print(table)


def diff(
    plan_a: Annotated[Path, typer.Argument(help="First plan workbook")],
    plan_b: Annotated[Path, typer.Argument(help="Second plan workbook")],
) -> None:
    """List what changed between two plans: sites, links, GPUs, MW, cost by category."""
    from rich.table import Table

    from planner.analysis.review import diff as diff_plans

    df = diff_plans(read_plan_file(plan_a), read_plan_file(plan_b))
    if df.empty:
        say(f"no differences between {plan_a} and {plan_b}")
        return
    table = Table(title=f"{plan_a.name} -> {plan_b.name}")
    for c in df.columns:
        table.add_column(c)
    for r in df.itertuples(index=False):
        table.add_row(*[_fmt(v) for v in r])
    console.print(table)


def read_plan_file(path: Path) -> Plan:
    """A plan workbook, or bad input (exit 1) when it cannot be read as one."""
    from planner.results.export import read_plan

    try:
        return read_plan(path)
    except InputError:
        raise
    except Exception as exc:  # a plan edited beyond recognition
        raise InputError([Problem(path.name, f"cannot be read as a plan: {exc}")]) from None


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.6g}"
    return "" if v is None else str(v)


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command()(check)
    app.command("explain")(explain)
    app.command("diff")(diff)
