"""``planner risk``: the odds that a committed plan still meets its runs, and what it costs,
over samples of the workbook's ``Uncertainty`` sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from planner import api
from planner.cli.common import (
    DEFAULT_WORKBOOK,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_NO_PLAN,
    console,
    exit_if_not_written,
    output_path,
    refuse_overwriting_input,
    say,
    warn,
    writable_folder,
)
from planner.cli.study import default_workers
from planner.inputs.formats import billions
from planner.inputs.problems import InputError, Problem
from planner.solving.status import STATUS_INFEASIBLE
from planner.studies.executors import SchedulerUnreachable
from planner.studies.risk import NoPlanToCommit, RiskResult
from planner.studies.risk_report import write_risk
from planner.studies.risk_tables import cost_stats, run_rows, uncertainty_rows

RiskWorkbookArg = Annotated[Path, typer.Argument(help="Input workbook with an Uncertainty sheet")]


def register(app: typer.Typer) -> None:
    """Add the ``risk`` command to the planner CLI."""

    @app.command()
    def risk(
        workbook: RiskWorkbookArg = DEFAULT_WORKBOOK,
        samples: Annotated[int, typer.Option(min=1, help="Samples of the draws")] = 200,
        seed: Annotated[int, typer.Option(help="Seed: the same seed, the same numbers")] = 0,
        commit_year: Annotated[
            int | None,
            typer.Option(
                "--commit-year",
                help="Decisions of the years before it are fixed (default: the second "
                "year of the horizon: what is already ordered)",
            ),
        ] = None,
        plan: Annotated[
            Path | None,
            typer.Option(
                "--plan", help="Commit this plan workbook's decisions (default: the optimum)"
            ),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option("-o", "--out", help="Risk workbook (default outputs/<stem>-risk.xlsx)"),
        ] = None,
        workers: Annotated[
            int | None, typer.Option("--workers", "-w", min=1, help="Local worker processes")
        ] = None,
        scheduler: Annotated[
            str | None,
            typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://HOST:8786"),
        ] = None,
        time_limit: Annotated[
            float | None, typer.Option("--time-limit", help="Per-sample time limit (s)")
        ] = None,
        mip_gap: Annotated[float | None, typer.Option(help="Override Settings mip_gap")] = None,
        cache: Annotated[
            bool, typer.Option("--cache/--no-cache", help="Reuse samples solved before")
        ] = True,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")] = False,
        connect_timeout: Annotated[
            float, typer.Option("--connect-timeout", min=0.1, help="Seconds to reach Dask")
        ] = 30.0,
    ) -> None:
        """Commit a plan's early decisions, sample the Uncertainty sheet, re-plan the rest
        for each sample: the odds of each run, the cost distribution, what binds."""
        options = {
            "samples": samples,
            "seed": seed,
            "commit_year": commit_year,
            "workers": workers or default_workers(),
            "scheduler": scheduler,
            "time_limit_s": time_limit,
            "mip_gap": mip_gap,
            "connect_timeout_s": connect_timeout,
        }
        run_risk_command(workbook, out, plan, options, cache=cache, quiet=quiet)


def run_risk_command(
    workbook: Path,
    out: Path | None,
    plan: Path | None,
    options: dict[str, Any],
    *,
    cache: bool = True,
    quiet: bool = False,
) -> None:
    data = api.load(workbook)
    target = output_path(out, workbook, "risk")
    refuse_overwriting_input(target, workbook)
    cache_dir = target.with_name(f"{target.stem}-cache") if cache else None
    for folder_of in [target] + ([cache_dir / "probe"] if cache_dir else []):
        why = writable_folder(folder_of)
        if why is not None:  # say so before the solves, not after
            raise InputError([Problem(workbook.name, f"the risk run cannot be written: {why}")])
    committed = api.read_plan(plan) if plan is not None else None
    bar = RiskProgress(enabled=not quiet and console.is_terminal, total=options["samples"])
    try:
        result = api.risk(
            data,
            plan=committed,
            plan_source=f"plan {plan.name}" if plan is not None else "optimal plan",
            cache_dir=cache_dir,
            progress=bar.update,
            echo=warn,
            **options,
        )
    except SchedulerUnreachable as exc:
        warn(f"error: {exc}")
        raise typer.Exit(EXIT_INPUT) from None
    except NoPlanToCommit as exc:
        warn(f"error: {exc}")
        code = EXIT_INFEASIBLE if exc.status == STATUS_INFEASIBLE else EXIT_NO_PLAN
        raise typer.Exit(code) from None
    finally:
        bar.stop()
    written = write_risk(result, target, inputs=workbook)
    if written != target:
        warn(f"could not write {target}; the risk workbook was written to {written} instead")
    print_summary(result)
    say(
        f"{len(result.samples)} samples ({result.solved} solves, {result.cache_hits} from "
        f"cache) in {result.seconds:.1f} s; risk written to {written}"
    )
    exit_if_not_written(result.not_written, target, written)


def print_summary(result: RiskResult) -> None:
    from rich.table import Table

    st = result.settings
    table = Table(
        title=f"Risk: {st['samples']} samples, seed {st['seed']}, decisions before "
        f"{st['commit_year']} committed ({st['committed_decisions']} of the {st['plan']})"
    )
    for name, justify in (
        ("run", "left"),
        ("by", "right"),
        ("P(meet)", "right"),
        ("95 % interval", "right"),
        ("samples", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in run_rows(result):
        p = r["p_meet_fraction"]
        table.add_row(
            str(r["run_id"]),
            str(r["ready_year"] or ""),
            f"{p:.1%}" if p is not None else "-",
            f"{r['ci95_low_fraction']:.1%} to {r['ci95_high_fraction']:.1%}"
            if p is not None
            else "-",
            str(r["samples"]),
        )
    console.print(table)
    c = cost_stats(result)
    say(
        f"discounted cost over the {c['samples']} samples that meet every run: "
        f"P10 {billions(c['p10_usd'])}, P50 {billions(c['p50_usd'])}, "
        f"P90 {billions(c['p90_usd'])}, mean {billions(c['mean_usd'])} "
        f"(base inputs {billions(c['base_usd'])})"
    )
    for u in uncertainty_rows(result)[:3]:
        rho = u["cost_correlation"]
        binds = u["binds_pct"]
        say(
            f"  {u['cost_rank']}. {u['uncertainty']}: rank correlation with cost "
            f"{'-' if rho is None else f'{rho:+.2f}'}; binds "
            f"{'-' if binds is None else f'{binds:.0f} %'} of the short samples"
        )


class RiskProgress:
    """A rich progress bar over the samples (terminals only)."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.progress: Any = None
        self.task: Any = None
        self.short = 0
        if not enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]risk"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[short]} short"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task("risk", total=total + 1, short=0)

    def update(self, name: str, result: dict[str, Any], cached: bool) -> None:
        if self.progress is None or " without " in name:
            return
        if any(v is False for v in (result.get("met") or {}).values()):
            self.short += 1
        self.progress.update(self.task, advance=1, short=self.short)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
