"""``planner validate``, ``planner template`` and ``planner synth``: the input workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.common import DEFAULT_WORKBOOK, EXIT_INPUT, WorkbookArg, report_problems, say


def validate(workbook: WorkbookArg = DEFAULT_WORKBOOK) -> None:
    """Check a workbook against the contract and list every problem at once."""
    from planner.inputs.validate import validate_path

    data, problems = validate_path(workbook)
    if data is not None and data.uncertainty:  # what planner risk checks before solving
        from planner.studies.uncertainty import declared_uncertainties

        found = declared_uncertainties(data)[1]
        problems += found
        data = None if any(p.severity == "error" for p in found) else data
    report_problems(problems)
    if data is None:
        raise typer.Exit(EXIT_INPUT)
    say(
        f"{workbook}: valid ({len(data.sites)} sites, {len(data.gpus)} GPU types, "
        f"{len(data.runs)} runs, years {data.settings.start_year}-{data.settings.end_year})"
    )


def template(
    out: Annotated[Path, typer.Argument(help="Where to write the blank workbook")],
) -> None:
    """Write a blank workbook with every sheet and a Guide sheet describing each column."""
    from planner.inputs.template import write_template

    path = write_template(out)
    say(f"template written to {path}")


def synth(
    out: Annotated[Path, typer.Option("-o", "--out", help="Workbook to write (.xlsx)")],
    sites: Annotated[int, typer.Option(min=1, help="Candidate sites")] = 20,
    years: Annotated[int, typer.Option(min=1, max=60, help="Yearly periods")] = 5,
    gpus: Annotated[int, typer.Option(min=1, help="GPU types")] = 6,
    sources: Annotated[int, typer.Option(min=1, help="Power source types")] = 6,
    links: Annotated[int, typer.Option(min=0, help="Candidate fiber links")] = 40,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same workbook)")] = 0,
    runs: Annotated[
        int | None,
        typer.Option(min=1, help="Training runs (default: one per two years, <= sites/4)"),
    ] = None,
    contested: Annotated[
        bool,
        typer.Option(
            "--contested",
            help="Runs compete for the same sites and supply (feasible by one joint plan)",
        ),
    ] = False,
) -> None:
    """Write a synthetic workbook that is valid and feasible by construction."""
    from planner.inputs.contested import generate_contested
    from planner.inputs.synth import SynthSpec, generate
    from planner.inputs.template import write_input_workbook

    spec = SynthSpec(
        sites=sites, years=years, gpus=gpus, sources=sources, links=links, seed=seed, runs=runs
    )
    wb = generate_contested(spec) if contested else generate(spec)
    out.parent.mkdir(parents=True, exist_ok=True)
    path = write_input_workbook(out, wb.settings, wb.tables)
    t = wb.tables
    say(
        f"{path}: {len(t['Sites'])} sites, {spec.years} years, {len(t['GPUs'])} GPU types, "
        f"{len(t['PowerSources'])} sources, {len(t['FiberLinks'])} links, "
        f"{len(t['Runs'])} {'contested ' if contested else ''}runs (seed {seed})"
    )


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(template)
    app.command()(synth)
