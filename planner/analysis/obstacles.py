"""What fixed input stands in the way when no limit the diagnosis may move closes a gap.

Each probe lifts one kind of input the diagnosis never moves and asks the elastic model
(``planner.analysis.relax``) whether the fewest limit moves then meet every target:

* export controls: every ``ExportControls`` row with ``allowed`` FALSE dropped;
* ``GPUs.available_year``: every GPU type buyable from ``start_year``;
* both together;
* the limits the user kept (``--keep``), released.

A probe that succeeds names what its plan uses of the lifted input (the controls whose
GPUs it buys in that country, the GPUs it buys before their year, the kept cells it moves).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from planner.analysis.keep import Keep, kept
from planner.analysis.moves import value
from planner.analysis.relax import Search
from planner.inputs.data import PlanningData


@dataclass
class Obstacle:
    """One fixed input that, lifted, lets every target be met."""

    what: str  # "export controls", "available_year", "the kept Sites"
    cells: list[tuple[str, str]]  # (cell, words) of what the plan uses of it
    also: list[dict[str, Any]] = field(default_factory=list)  # limit moves it needs too

    def __str__(self) -> str:
        used = ", ".join(f"{ref} {words}" for ref, words in self.cells)
        also = " and ".join(f"{m['limit_cell']} {m['reading']}" for m in self.also)
        return f"{self.what}: {used}" + (f", together with {also}" if also else "")


def lift_controls(data: PlanningData) -> PlanningData:
    return dataclasses.replace(data, export_controls=[e for e in data.export_controls if e.allowed])


def lift_available(data: PlanningData) -> PlanningData:
    s0 = data.settings.start_year
    gpus = [g.model_copy(update={"available_year": min(g.available_year, s0)}) for g in data.gpus]
    return dataclasses.replace(data, gpus=gpus)


def obstacles(
    data: PlanningData, keeps: list[Keep], *, deadline: float, **solver: Any
) -> list[Obstacle]:
    """The fixed inputs that stand in the way of meeting every target (first the
    single ones; both GPU probes together only when neither alone does it)."""
    found: list[Obstacle] = []
    probes: list[tuple[str, Callable[[PlanningData], PlanningData], list[Keep]]] = [
        ("export controls", lift_controls, keeps),
        ("available_year", lift_available, keeps),
    ]
    for what, lift, probe_keeps in probes:
        hit = _probe(data, what, lift(data), probe_keeps, keeps, deadline, solver)
        if hit is not None:
            found.append(hit)
    if not found:
        both = lift_available(lift_controls(data))
        hit = _probe(
            data, "export controls and available_year", both, keeps, keeps, deadline, solver
        )
        if hit is not None:
            found.append(hit)
    if keeps:
        what = f"the kept {', '.join(str(k) for k in keeps)}"
        hit = _probe(data, what, data, [], keeps, deadline, solver)
        if hit is not None:
            found.append(hit)
    return found


def _probe(
    data: PlanningData,
    what: str,
    lifted: PlanningData,
    probe_keeps: list[Keep],
    keeps: list[Keep],
    deadline: float,
    solver: dict[str, Any],
) -> Obstacle | None:
    """Targets strict, limits free but ``probe_keeps``, on ``lifted`` inputs."""
    s = Search(lifted, keeps=probe_keeps, deadline=deadline, **solver)
    if s.unreachable:
        return None
    free = [c for c in s.free if c[0] != "Runs"]
    options = s.options(free, most=1)
    # Solved again so that the model holds this option's plan, whose purchases say
    # which controls or years it goes past.
    option = s.smallest(options[0].cells) if options and not options[0].lowered else None
    if option is None:
        return None
    if not probe_keeps and keeps:
        used = [m for m in option.moves if kept(_cell(m), keeps)]
        return Obstacle(
            what,
            [(m["limit_cell"], m["reading"]) for m in used],
            [m for m in option.moves if m not in used],
        )
    return Obstacle(what, _used(data, s, what), option.moves)


def _cell(move: dict[str, Any]) -> tuple[str, tuple[str, ...], str]:
    return (move["sheet"], tuple(str(move["key"]).split("|")), move["column"])


def _used(data: PlanningData, s: Search, what: str) -> list[tuple[str, str]]:
    """Export controls and available years the probe's plan goes past, as cells."""
    banned = {(e.country, e.gpu_id) for e in data.export_controls if not e.allowed}
    country = {x.site_id: x.country for x in data.sites}
    available = {g.gpu_id: g.available_year for g in data.gpus}
    out: dict[str, str] = {}
    for (site, gpu, year), v in s.m.gpus_bought.items():
        if value(v) < 0.5:
            continue
        c = country[site]
        if "export" in what and (c, gpu) in banned:
            ref = data.cells.cell("ExportControls", (c, gpu), "allowed")
            out.setdefault(ref, f"({gpu} not allowed in {c}; a plan would buy it at {site})")
        if "available" in what and year < available[gpu]:
            ref = data.cells.cell("GPUs", (gpu,), "available_year")
            out.setdefault(
                ref, f"({gpu} available from {available[gpu]}; a plan would buy it in {year})"
            )
    return sorted(out.items())
