"""``planner explain`` and ``planner diff``, and the explanation steps of ``planner plan``
(``--lock``, ``--png``, the Constraints and Diagnosis sheets), registered by ``planner.cli``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from planner.api import PlanResult
    from planner.data import PlanningData

Echo = Callable[[str], Any]


def plan_with_options(
    data: PlanningData,
    *,
    lock: Path | None = None,
    mip_gap: float | None = None,
    time_limit_s: float | None = None,
    threads: int | None = None,
    on_progress: Callable[[Any], None] | None = None,
    echo: Echo = print,
    diagnose_infeasible: bool = True,
) -> PlanResult:
    """Solve for ``planner plan``: with the locks of a reviewed plan when ``lock`` is given,
    then attach the ``Constraints`` sheet (binding limits) to a plan, or the ``Diagnosis``
    sheet (printed too) when the workbook is infeasible. Export as usual afterwards."""
    from planner import api
    from planner.solve import STATUS_INFEASIBLE

    if lock is not None:
        from models.locks import LockError
        from planner.problems import InputError, Problem
        from planner.review import read_locks, review_locks

        try:
            report = review_locks(data, read_locks(lock), mip_gap=mip_gap,
                                  time_limit_s=time_limit_s, threads=threads, keep_model=True)
        except LockError as exc:  # a lock the inputs do not allow is bad input (exit 1)
            raise InputError([Problem(lock.name, p) for p in exc.problems]) from None
        for line in report.lines:
            echo(line)
        result = report.locked
    else:
        result = api.solve(data, mip_gap=mip_gap, time_limit_s=time_limit_s, threads=threads,
                           on_progress=on_progress, keep_model=True)
    if result.plan is not None and result.model is not None and result.compiled is not None:
        from planner.explain import attach_explanation

        try:
            attach_explanation(result)
        except RuntimeError as exc:  # pricing LP trouble must never lose the plan
            echo(f"warning: binding constraints not computed: {exc}")
    elif result.status == STATUS_INFEASIBLE and diagnose_infeasible and lock is None:
        from planner.diagnose import diagnose

        dg = diagnose(data, time_limit_s=time_limit_s)
        for line in dg.lines:
            echo(line)
        result.extra_sheets["Diagnosis"] = dg.table
    return result


def after_export(result: PlanResult, written: Path, *, png: bool, echo: Echo = print
                 ) -> list[Path]:
    """``--png``: write the charts and the site map as PNG files beside the workbook."""
    if not png or result.plan is None:
        return []
    from planner.charts import write_pngs

    paths = write_pngs(result.plan, result.data, written.parent, stem=written.stem)
    for p in paths:
        echo(f"picture written to {p}")
    return paths


def register(app: typer.Typer) -> None:
    @app.command("explain")
    def explain_cmd(
        workbook: Annotated[Path, typer.Argument(help="Input workbook (.xlsx)")],
        top: Annotated[int, typer.Option(help="Rows to print (0: all)")] = 0,
        time_limit: Annotated[float | None, typer.Option(
            "--time-limit", help="Override Settings time_limit_s (s)")] = None,
    ) -> None:
        """Solve and print the binding limits, their shadow prices and workbook cells;
        for an infeasible workbook, what stands in the way and by how much."""
        from rich.table import Table

        from planner import api
        from planner.cli import EXIT_INFEASIBLE, EXIT_NO_PLAN, console, err
        from planner.solve import STATUS_INFEASIBLE

        data = api.load(workbook)
        result = plan_with_options(data, time_limit_s=time_limit,
                                   echo=lambda s: console.print(s, markup=False))
        if result.status == STATUS_INFEASIBLE:
            err.print(result.result.message, markup=False)
            raise typer.Exit(EXIT_INFEASIBLE)
        sheets = getattr(result, "extra_sheets", None) or {}
        if result.plan is None or "Constraints" not in sheets:
            err.print(result.result.message or "no plan found", markup=False)
            raise typer.Exit(EXIT_NO_PLAN)
        df = sheets["Constraints"]
        if top:
            df = df.head(top)
        table = Table(title=f"Binding limits ({result.result.words})")
        for c in ("limit_cell", "family", "instance", "limit_value", "used", "shadow_price",
                  "unit", "reading"):
            table.add_column(c, justify="right" if c in ("limit_value", "used",
                                                           "shadow_price") else "left")
        for r in df.itertuples():
            table.add_row(r.limit_cell, r.family, str(r.instance), f"{r.limit_value:,.6g}",
                          f"{r.used:,.6g}", f"{r.shadow_price:,.6g}", r.unit, r.reading)
        console.print(table)

    @app.command("diff")
    def diff_cmd(
        plan_a: Annotated[Path, typer.Argument(help="First plan workbook")],
        plan_b: Annotated[Path, typer.Argument(help="Second plan workbook")],
    ) -> None:
        """List what changed between two plans: sites, links, GPUs, MW, cost by category."""
        from rich.table import Table

        from planner.cli import console
        from planner.problems import InputError, Problem
        from planner.review import diff

        plans = []
        for path in (plan_a, plan_b):
            plans.append(_read(path, InputError, Problem))
        df = diff(*plans)
        if df.empty:
            console.print(f"no differences between {plan_a} and {plan_b}", markup=False)
            return
        table = Table(title=f"{plan_a.name} -> {plan_b.name}")
        for c in df.columns:
            table.add_column(c)
        for r in df.itertuples(index=False):
            table.add_row(*[_fmt(v) for v in r])
        console.print(table)


def _read(path: Path, input_error: Any, problem: Any) -> Any:
    from planner.export import read_plan

    try:
        return read_plan(path)
    except input_error:
        raise
    except Exception as exc:  # a plan edited beyond recognition
        raise input_error([problem(path.name, f"cannot be read as a plan: {exc}")]) from None


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.6g}"
    return "" if v is None else str(v)
