"""Why a workbook has no feasible plan, and the workbook edits that give it one.

On one elastic model (``models/elastic.py``, searches in ``planner.analysis.relax``):

1. *reach*, per run r: every limit strict, the other runs held to their targets, the
   most FLOP r can have by its ready year (one solve per run; a second with the others
   free to fall short when that is what sets r's reach);
2. *way out*, lexicographically: the fewest limits moved (run targets only when no
   limit closes a gap), then the smallest relative move of that set; up to two
   alternatives of the same count (the sets found so far forbidden); ``keeps`` never
   move. Each way out is applied to the workbook (``apply_relaxation``) and re-solved;
3. *what stands in the way* (``planner.analysis.obstacles``) when a target has to be
   lowered: the export controls, ``available_year`` or kept limits that, lifted, close it.

The result is a ``Diagnosis`` table (one row per run, one per edit, option 1 first), the
printed lines (the first a one-line summary, as studies show it) and ``apply_relaxation``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from planner.analysis.keep import Keep, parse_keep
from planner.analysis.moves import COLUMNS as MOVE_COLUMNS
from planner.analysis.obstacles import Obstacle, obstacles
from planner.analysis.relax import Option, Search
from planner.inputs.data import SHEET_ATTRS, PlanningData
from planner.inputs.schema import SHEET_BY_NAME
from planner.solving.pipeline import solve

COLUMNS = [*MOVE_COLUMNS, "checked"]
REACHED = 1e-6  # a run within this fraction of its target has reached it
ALTERNATIVES = 3  # ways out of the same count looked for


@dataclass
class RunReach:
    """What one run can reach by its ready year, every limit strict."""

    run_id: str
    cell: str  # Runs!C2
    target: float  # FLOP
    year: int
    held: float | None  # with the other runs at their targets; None: they cannot be
    alone: float | None = None  # with the other runs free to fall short (when solved)
    unreachable: bool = False  # no GPU can be bought, allowed and hosted by its year

    def reaches(self, flop: float | None) -> bool:
        return flop is not None and flop >= self.target * (1 - REACHED)

    @property
    def short(self) -> bool:
        return not self.reaches(self.held)

    @property
    def best(self) -> float:
        """The most FLOP shown for the run: held to the others if possible."""
        return self.held if self.held is not None else (self.alone or 0.0)


@dataclass
class Diagnosis:
    table: pd.DataFrame
    lines: list[str] = field(default_factory=list)
    reachable_flop: dict[str, float] = field(default_factory=dict)  # FLOP per run
    options: list[Option] = field(default_factory=list)  # ways out, the first suggested
    obstacles: list[Obstacle] = field(default_factory=list)
    keeps: list[Keep] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.lines)


def diagnose(
    data: PlanningData,
    *,
    time_limit_s: float | None = None,
    mip_gap: float = 1e-4,
    keep: Sequence[str | Keep] = (),
    threads: int | None = None,
) -> Diagnosis:
    """Explain an infeasible workbook: reachable FLOP per run, the edits that give it a
    plan (checked by re-solving), and what stands in the way when a target must fall.
    ``keep``: ``SHEET[:ROW_ID]`` limits never to move (``planner.analysis.keep``)."""
    keeps = parse_keep(data, keep)
    limit = time_limit_s if time_limit_s is not None else min(data.settings.time_limit_s, 120)
    deadline = time.perf_counter() + limit
    solver: dict[str, Any] = {"mip_gap": mip_gap, "threads": threads}
    search = Search(data, keeps=keeps, deadline=deadline, **solver)
    reaches = [_reach(search, data, r.run_id) for r in data.runs]
    options = search.options(search.free, most=ALTERNATIVES)
    for option in options:
        option.verified = _verify(data, option, deadline, solver)
    # A way out the re-solve confirms comes before one it does not.
    options.sort(key=lambda o: (o.verified != "", len(o.lowered), o.count, o.relative))
    stuck = not options or bool(options[0].lowered) or bool(search.unreachable)
    found = obstacles(data, keeps, deadline=deadline, **solver) if stuck else []
    lines = _lines(reaches, options, found, keeps)
    return Diagnosis(
        table=_table(reaches, options, found, lines),
        lines=lines,
        reachable_flop={r.run_id: r.best for r in reaches},
        options=options,
        obstacles=found,
        keeps=keeps,
    )


def _reach(search: Search, data: PlanningData, run_id: str) -> RunReach:
    """One run's reach: held to the others' targets and, when that is short (or the
    others cannot be held), on its own. With one run the first solve is both."""
    run = next(r for r in data.runs if r.run_id == run_id)
    cell = data.cells.cell("Runs", (run_id,), "flop")
    rr = RunReach(run_id, cell, run.flop, run.ready_year, None)
    if run_id in search.unreachable:
        rr.held, rr.alone, rr.unreachable = 0.0, 0.0, True
        return rr
    rr.held = search.reach(run_id, others_held=True)
    if len(data.runs) == 1:
        rr.alone = rr.held
    elif rr.short:
        rr.alone = search.reach(run_id, others_held=False)
    return rr


def _verify(data: PlanningData, option: Option, deadline: float, solver: dict[str, Any]) -> str:
    """Re-solve the workbook with the option's edits: "" when a plan exists, else why
    not. A run that gets no FLOP at all cannot be fixed by an edit."""
    if any(m["new_value"] is None for m in option.moves):
        return "a run gets no FLOP at all: no edit of its target gives a plan"
    relaxed = apply_relaxation(data, _frame(option.moves))
    left = max(deadline - time.perf_counter(), 5.0)
    res = solve(relaxed, time_limit_s=left, mip_gap=max(solver["mip_gap"], 1e-3))
    if res.plan is not None:
        return ""
    return f"re-solving the edited workbook found no plan ({res.result.words})"


# ---- words ---------------------------------------------------------------------------------
def _flop(x: float, target: float) -> str:
    """FLOP in three digits, more when three would make it look like the target."""
    text = f"{x:.3g}"
    return f"{x:.6g}" if text == f"{target:.3g}" and x < target else text


def _pct(part: float, whole: float) -> str:
    p = part / whole * 100.0
    return f"{p:.3g} %" if p >= 1 else f"{p:.2g} %"


def _short_by(r: RunReach, got: float) -> str:
    return f"short by {r.target - got:.3g}, {_pct(r.target - got, r.target)}"


def _short_alone(r: RunReach) -> bool:
    """Short even with the other runs free to fall short."""
    return r.unreachable or (r.alone is not None and not r.reaches(r.alone))


def _run_line(r: RunReach, reaches: list[RunReach]) -> str:
    """What one run can reach, in words that never contradict themselves: a reach is
    "at most X" only when X is short of the target by more than ``REACHED``."""
    head = f"{r.cell} needs {r.target:.3g} FLOP by {r.year}"
    if r.unreachable:
        return f"{head}; no GPU can be bought, allowed and hosted for it by then"
    several = len(reaches) > 1
    others = " with the other runs at their targets" if several else ""
    if not r.short:
        return f"{head}: reachable{others}"
    if r.held is None:  # the other runs cannot all be held to their targets
        if r.reaches(r.alone):
            rest = [x for x in reaches if x is not r and x.short]
            why = (
                "the other runs fall short even without it"
                if rest and all(_short_alone(x) for x in rest)
                else "not while the other runs meet theirs: they compete for the same limits"
            )
            return f"{head}: reachable on its own; {why}"
        got = r.alone or 0.0
        return (
            f"{head}; at most {_flop(got, r.target)} is reachable even if the other runs "
            f"fall short ({_short_by(r, got)})"
        )
    line = (
        f"{head}; at most {_flop(r.held, r.target)} is reachable{others} ({_short_by(r, r.held)})"
    )
    if several and r.reaches(r.alone):
        line += "; on its own it is reachable: the runs compete for the same limits"
    elif several and r.alone is not None and r.alone > r.held * (1 + REACHED):
        line += f"; on its own at most {_flop(r.alone, r.target)}"
    return line


def _gaps(reaches: list[RunReach]) -> str:
    """The summary's runs: those short on their own, else those that cannot all be met
    together."""
    alone = [r for r in reaches if r.short and (r.held is not None or _short_alone(r))]
    if not alone:
        cells = ", ".join(r.cell for r in reaches if r.short) or "the runs"
        return f"{cells} cannot all meet their targets together"
    parts = []
    for r in alone:
        if r.unreachable:
            parts.append(f"{r.cell} ({r.target:.3g} FLOP by {r.year}) can get no GPU")
        else:
            got = _flop(r.best, r.target)
            parts.append(f"{r.cell} reaches at most {got} of {r.target:.3g} FLOP by {r.year}")
    return ", ".join(parts)


def _edits(option: Option) -> str:
    return " and ".join(f"{m['limit_cell']} {m['reading']}" for m in option.moves)


def _way_out(options: list[Option], found: list[Obstacle], unreachable: list[str]) -> str:
    """The summary's way out: the suggested edits (either/or when several single sets
    of the same count each close every gap), or the target to lower and what fixed
    input stands in the way."""
    if options and not options[0].lowered and not unreachable:
        ways = [_edits(o) for o in options if o.count == options[0].count]
        if len(ways) > 1 and options[0].count > 1:  # sets of several edits: one is enough
            return f"{ways[0]} (or {len(ways) - 1} other set(s) of as many edits: below)"
        return "either " + ", or ".join(ways) if len(ways) > 1 else ways[0]
    parts = ["no limit the diagnosis may move closes it"]
    if options:
        parts = [f"{parts[0]}: {_edits(options[0])}"]
    if unreachable:
        parts.append(f"no edit of a limit or target gives {', '.join(unreachable)} a plan")
    if found:
        parts.append(f"in the way: {'; or '.join(str(o) for o in found)}")
    else:
        parts.append(
            "in the way: what a GPU delivers (GPUs bf16_tflops, Runs duration_days, mfu "
            "and max_sites), which the diagnosis never moves"
        )
    return "; ".join(parts)


def _lines(
    reaches: list[RunReach], options: list[Option], found: list[Obstacle], keeps: list[Keep]
) -> list[str]:
    """The summary line, then one line per run, the ways out, the check, the keeps."""
    unreachable = [r.cell for r in reaches if r.unreachable]
    way = _way_out(options, found, unreachable) if options or unreachable or found else ""
    lines = [f"{_gaps(reaches)}; way out: {way or 'none found within the time limit'}"]
    lines += [_run_line(r, reaches) for r in reaches]
    for k, o in enumerate(options, start=1):
        n = o.count
        what = "lowers a target" if o.lowered else f"moves {n} limit{'s' if n > 1 else ''}"
        what += "" if o.proven else ", the fewest found in the time limit"
        check = "re-solved: a plan exists" if o.verified == "" else o.verified
        lines.append(f"way out {k} ({what}; {check}): {_edits(o)}")
    lines += [f"stands in the way: {ob}" for ob in found]
    if keeps:
        lines.append(f"kept (never moved): {', '.join(str(k) for k in keeps)}")
    return lines


# ---- table ---------------------------------------------------------------------------------
def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def _table(
    reaches: list[RunReach], options: list[Option], found: list[Obstacle], lines: list[str]
) -> pd.DataFrame:
    """The summary line, then one row per run (its reach), one per edit of each way out
    (``option`` 1 is the suggested one), one per fixed input that stands in the way."""
    rows: list[dict[str, Any]] = [{"limit": "summary", "reading": lines[0]}]
    for r, line in zip(reaches, lines[1:], strict=False):
        change = 0.0 if r.reaches(r.best) else r.best - r.target
        rows.append(
            {
                "run_id": r.run_id, "limit_cell": r.cell, "limit": "flop", "year": r.year,
                "needed_change": change, "reading": line, "sheet": "Runs", "key": r.run_id,
                "column": "flop", "current_value": r.target,
            }
        )  # fmt: skip
    for k, o in enumerate(options, start=1):
        check = "feasible" if o.verified == "" else (o.verified or "not checked")
        rows += [{**m, "option": k, "checked": check} for m in o.moves]
    for ob in found:
        for ref, words in ob.cells:
            rows.append(
                {"limit_cell": ref, "limit": ob.what, "reading": words, "sheet": ref.split("!")[0]}
            )
    return _frame(rows)


def apply_relaxation(data: PlanningData, table: pd.DataFrame, option: int = 1) -> PlanningData:
    """``data`` with every edit of one way out (``option``, 1 the suggested) applied."""
    if "option" in table.columns and table.option.notna().any():
        table = table[table.option == option]
    edits: dict[str, dict[tuple[str, ...], dict[str, Any]]] = defaultdict(dict)
    for r in table.itertuples():
        if r.new_value is None or (isinstance(r.new_value, float) and math.isnan(r.new_value)):
            continue
        key = tuple(str(r.key).split("|"))
        edits[str(r.sheet)].setdefault(key, {})[str(r.column)] = r.new_value
    changes: dict[str, Any] = {}
    for sheet, by_key in edits.items():
        attr = SHEET_ATTRS[sheet]
        new_rows = []
        for row in getattr(data, attr):
            upd = by_key.get(SHEET_BY_NAME[sheet].key_of(row))
            if upd:
                typed = {
                    c: type(getattr(row, c))(v) if getattr(row, c) is not None else v
                    for c, v in upd.items()
                }
                row = row.model_copy(update=typed)
            new_rows.append(row)
        changes[attr] = new_rows
    return dataclasses.replace(data, **changes)
