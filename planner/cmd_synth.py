"""``planner synth``: write a synthetic, feasible workbook of any size (see ``planner.synth``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``synth`` subcommand to the CLI."""

    @app.command()
    def synth(
        out: Annotated[Path, typer.Option("-o", "--out", help="Workbook to write (.xlsx)")],
        sites: Annotated[int, typer.Option(min=1, help="Candidate sites")] = 20,
        years: Annotated[int, typer.Option(min=1, max=60, help="Yearly periods")] = 5,
        gpus: Annotated[int, typer.Option(min=1, help="GPU types")] = 6,
        sources: Annotated[int, typer.Option(min=1, help="Power source types")] = 6,
        links: Annotated[int, typer.Option(min=0, help="Candidate fiber links")] = 40,
        seed: Annotated[int, typer.Option(help="Random seed (same seed, same workbook)")] = 0,
        runs: Annotated[int | None, typer.Option(
            min=1, help="Training runs (default: one per two years, <= sites/4)")] = None,
    ) -> None:
        """Write a synthetic workbook that is valid and feasible by construction."""
        from planner.cli import console
        from planner.synth import SynthSpec, generate
        from planner.template import write_input_workbook

        spec = SynthSpec(sites=sites, years=years, gpus=gpus, sources=sources, links=links,
                         seed=seed, runs=runs)
        wb = generate(spec)
        out.parent.mkdir(parents=True, exist_ok=True)
        path = write_input_workbook(out, wb.settings, wb.tables)
        t = wb.tables
        console.print(
            f"{path}: {len(t['Sites'])} sites, {spec.years} years, {len(t['GPUs'])} GPU types, "
            f"{len(t['PowerSources'])} sources, {len(t['FiberLinks'])} links, "
            f"{len(t['Runs'])} runs (seed {seed})", markup=False)
