"""The synthetic workbook generator: valid, feasible, deterministic (``planner.inputs.synth``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from planner import api
from planner.inputs.synth import SynthSpec, generate, write_synth
from planner.solving.status import STATUS_OPTIMAL, STATUS_TIME_LIMIT

SPECS = [
    SynthSpec(sites=5, years=2, gpus=3, sources=3, links=4, seed=0),
    SynthSpec(sites=8, years=3, gpus=4, sources=6, links=10, seed=1),
    pytest.param(  # about 2 s
        SynthSpec(sites=12, years=4, gpus=6, sources=8, links=20, seed=7), marks=pytest.mark.slow
    ),
    SynthSpec(sites=20, years=3, gpus=2, sources=2, links=30, seed=3),
]


def cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's values (the file bytes differ by timestamps; the data must not)."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets
        }
    finally:
        wb.close()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.sites}s{s.years}y-seed{s.seed}")
def test_valid_and_feasible(spec: SynthSpec, tmp_path: Path) -> None:
    path = write_synth(spec, tmp_path / "synth.xlsx")
    data = api.load(path)
    assert len(data.sites) == spec.sites
    assert len(data.years) == spec.years
    assert len(data.gpus) == spec.gpus
    assert len(data.power_sources) == spec.sources
    assert len(data.fiber_links) == min(spec.links, spec.sites * (spec.sites - 1) // 2)
    assert data.runs
    result = api.solve(data, mip_gap=0.01, time_limit_s=30, threads=1)
    assert result.status in (STATUS_OPTIMAL, STATUS_TIME_LIMIT), result.result.message
    assert result.plan is not None
    assert result.violations == []


def test_exercises_every_constraint_family() -> None:
    wb = generate(SynthSpec(sites=30, years=5, gpus=6, sources=6, links=60, seed=2))
    t = wb.tables
    resources = {r["resource"] for r in t["Supply"]}
    assert {"cowos_wafers", "hbm_stacks", "transformer_units"} <= resources
    assert any(r.startswith("gpu:") for r in resources)
    assert any(not e["allowed"] for e in t["ExportControls"])
    assert {p["lead_years"] for p in t["PowerSources"]} != {0}
    assert t["Cooling"]
    assert any(r["max_sites"] > 1 for r in t["Runs"])
    assert any(len(w.sites) > 1 for w in wb.witnesses)  # a run that needs its links
    assert len(t["FiberLinks"]) == 60
    ids = [(lk["site_a"], lk["site_b"]) for lk in t["FiberLinks"]]
    assert len(set(ids)) == len(ids)


def test_deterministic(tmp_path: Path) -> None:
    spec = SynthSpec(sites=10, years=3, gpus=4, sources=4, links=12, seed=11)
    a = cells(write_synth(spec, tmp_path / "a.xlsx"))
    b = cells(write_synth(spec, tmp_path / "b.xlsx"))
    c = cells(
        write_synth(
            SynthSpec(sites=10, years=3, gpus=4, sources=4, links=12, seed=12), tmp_path / "c.xlsx"
        )
    )
    assert a == b
    assert a != c


@pytest.mark.slow
def test_cli(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "cli.xlsx"
    proc = cli(
        "synth",
        "--sites",
        "6",
        "--years",
        "2",
        "--gpus",
        "3",
        "--sources",
        "3",
        "--links",
        "5",
        "--seed",
        "4",
        "-o",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.exists()
    assert cells(out) == cells(
        write_synth(
            SynthSpec(sites=6, years=2, gpus=3, sources=3, links=5, seed=4), tmp_path / "api.xlsx"
        )
    )


def test_bad_spec() -> None:
    with pytest.raises(ValueError):
        SynthSpec(sites=0)
