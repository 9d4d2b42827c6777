"""``planner study``: solve the base case and every scenario and sweep of a workbook."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from planner import api
from planner.cli.common import (
    DEFAULT_WORKBOOK,
    EXIT_INPUT,
    ConnectTimeoutOption,
    MipGapOption,
    SchedulerOption,
    WorkersOption,
    console,
    exit_if_not_written,
    output_path,
    refuse_overwriting_input,
    say,
    warn,
    writable_folder,
)
from planner.inputs.formats import billions
from planner.inputs.problems import InputError, Problem
from planner.studies.executors import SchedulerUnreachable
from planner.studies.study import FAILED, run_study, write_study

StudyWorkbookArg = Annotated[Path, typer.Argument(help="Input workbook with Scenarios/Sweeps")]


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def register(app: typer.Typer) -> None:
    """Add the ``study`` command to the planner CLI."""

    @app.command()
    def study(
        workbook: StudyWorkbookArg = DEFAULT_WORKBOOK,
        out: Annotated[
            Path | None,
            typer.Option("-o", "--out", help="Study workbook (default outputs/<stem>-study.xlsx)"),
        ] = None,
        workers: WorkersOption = None,
        scheduler: SchedulerOption = None,
        time_limit: Annotated[
            float | None,
            typer.Option(
                "--time-limit", help="Per-scenario time limit (s); default Settings time_limit_s"
            ),
        ] = None,
        mip_gap: MipGapOption = None,
        reuse: Annotated[
            bool,
            typer.Option(
                "--reuse/--no-reuse", help="Keep warm workers and solve identical inputs once"
            ),
        ] = True,
        cache: Annotated[
            bool,
            typer.Option(
                "--cache/--no-cache",
                help="Skip scenarios whose inputs are unchanged since the last run",
            ),
        ] = True,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")] = False,
        connect_timeout: ConnectTimeoutOption = 30.0,
    ) -> None:
        """Solve the base case and every scenario and sweep; write a comparison workbook."""
        run_study_command(
            workbook,
            out,
            workers,
            scheduler,
            time_limit,
            mip_gap,
            reuse,
            cache,
            quiet,
            connect_timeout,
        )


def run_study_command(
    workbook: Path,
    out: Path | None,
    workers: int | None,
    scheduler: str | None,
    time_limit: float | None,
    mip_gap: float | None,
    reuse: bool,
    cache: bool,
    quiet: bool,
    connect_timeout: float = 30.0,
) -> None:
    data = api.load(workbook)
    target = output_path(out, workbook, "study")
    refuse_overwriting_input(target, workbook)
    cache_dir = target.with_name(f"{target.stem}-cache") if cache else None
    for folder_of in [target] + ([cache_dir / "probe"] if cache_dir else []):
        why = writable_folder(folder_of)
        if why is not None:  # say so before an hour of solving, not after
            raise InputError([Problem(workbook.name, f"the study cannot be written: {why}")])
    bar = StudyProgress(enabled=not quiet and console.is_terminal)
    try:
        study = run_study(
            data,
            workers=workers or default_workers(),
            scheduler=scheduler,
            time_limit_s=time_limit,
            mip_gap=mip_gap,
            cache_dir=cache_dir,
            reuse=reuse,
            progress=bar.update,
            on_start=bar.start,
            connect_timeout_s=connect_timeout,
            echo=warn,
        )
    except SchedulerUnreachable as exc:
        warn(f"error: {exc}")
        raise typer.Exit(EXIT_INPUT) from None
    finally:
        bar.stop()
    settings = {
        "workers": workers or default_workers(),
        "scheduler": scheduler or "local",
        "time_limit_s": time_limit or data.settings.time_limit_s,
        "mip_gap": mip_gap if mip_gap is not None else data.settings.mip_gap,
        "reuse": reuse,
    }
    written = write_study(study, data, target, inputs=workbook, settings=settings)
    if written != target:
        warn(f"could not write {target}; the study was written to {written} instead")
    print_table(study)
    for sc in study.scenarios:
        line = study.results.get(sc.name, {}).get("diagnosis")
        if line:  # an infeasible scenario's way out, as ``planner plan`` says it first
            say(f"{sc.name}: {line}")
    failed = sum(1 for r in study.results.values() if r.get("objective_usd") is None)
    say(
        f"{len(study.scenarios)} scenarios ({study.solved} solved, "
        f"{study.cache_hits} from cache, {failed} without a plan) in "
        f"{study.seconds:.1f} s; study written to {written}"
    )
    exit_if_not_written(study.not_written, target, written)


def print_table(study: Any) -> None:
    from rich.table import Table

    table = Table(title="Study", show_header=True)
    for name, justify in (
        ("scenario", "left"),
        ("status", "left"),
        ("cost (B USD)", "right"),
        ("vs base", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for _, r in study.table().iterrows():
        obj = r["objective_usd"]
        pct = r["delta_pct"]
        table.add_row(
            str(r["scenario"]),
            str(r["status"]),
            billions(obj if obj == obj else None, suffix=""),
            f"{pct:+.1f} %" if pct == pct and pct is not None else "-",
        )
    console.print(table)


class StudyProgress:
    """A rich progress bar: scenarios done, failed, time left (terminals only)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress: Any = None
        self.task: Any = None
        self.failed = 0

    def start(self, total: int, cached: int) -> None:
        if not self.enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]study"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[last]}"),
            console=console,
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task("study", total=total, failed=0, last="")

    def update(self, name: str, result: dict[str, Any], cached: bool) -> None:
        if result.get("status") in FAILED:
            self.failed += 1
        if self.progress is not None:
            self.progress.update(
                self.task,
                advance=1,
                failed=self.failed,
                last=f"{name}: {result.get('status')}" + (" (cached)" if cached else ""),
            )

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
