"""A solve records which phase found its plan and which its bound (``SolveResult``)."""

from __future__ import annotations

from pathlib import Path

from planner import api
from planner.inputs.synth import SynthSpec, write_synth
from planner.solving.status import STATUS_OPTIMAL

PLAN_PHASES = {"round:first", "round:dive", "round:relaxed", "full"}
PLAN_PHASES |= {f"{p}:runs" for p in ("round:first", "round:dive", "round:relaxed", "round:last")}
BOUND_PHASES = {"lp", "relaxed", "full"}


def test_found_by_and_bound_by_name_phases(tmp_path: Path) -> None:
    spec = SynthSpec(sites=12, years=4, gpus=4, sources=4, links=20, seed=3)
    path = write_synth(spec, tmp_path / "s.xlsx")
    res = api.solve(api.load(path), mip_gap=0.01, time_limit_s=60, threads=1).result
    assert res.status == STATUS_OPTIMAL, res.message
    assert res.found_by in PLAN_PHASES
    assert res.bound_by in BOUND_PHASES
