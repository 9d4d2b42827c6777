"""Why a workbook has no feasible plan, in the workbook's own cells.

Two elastic solves (see ``models/elastic.py``):

1. *reach*: every limit strict, only the runs' FLOP may fall short: how much of each run
   can be delivered by its ready year;
2. *fix*: run targets heavily penalised, every supply, capacity and lead-time limit may
   move at a relative penalty: the (small) set of limits that must move, and by how much.

The result is a ``Diagnosis`` table (one row per short run, one per limit to move), the
printed lines, and ``apply_relaxation`` to try the suggested workbook edits.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from models.build import build_model
from models.elastic import ElasticTerm, add_elastic, loosen
from models.registry import EARLY_BUILDS, FAMILIES, Family
from models.sets import FLOP_UNIT, ModelData, build_model_data
from planner.inputs.data import SHEET_ATTRS, PlanningData
from planner.inputs.schema import SHEET_BY_NAME
from planner.solving.compiled import compile_model, load_values
from planner.solving.pipeline import count_columns
from planner.solving.strategy import solve_compiled

COLUMNS = [
    "run_id",
    "limit_cell",
    "limit",
    "year",
    "needed_change",
    "reading",
    "sheet",
    "key",
    "column",
    "current_value",
    "new_value",
]
TOL = 1e-6


@dataclass
class Diagnosis:
    table: pd.DataFrame
    lines: list[str] = field(default_factory=list)
    reachable_flop: dict[str, float] = field(default_factory=dict)  # FLOP per run

    def __str__(self) -> str:
        return "\n".join(self.lines)


def diagnose(
    data: PlanningData, *, time_limit_s: float | None = None, mip_gap: float = 1e-4
) -> Diagnosis:
    """Explain an infeasible workbook: reachable FLOP per run and limits that must move."""
    limit = time_limit_s if time_limit_s is not None else min(data.settings.time_limit_s, 120)
    d = build_model_data(data)
    runs = {r.run_id: r for r in data.runs}

    reach = reachable(data, time_limit_s=limit / 2, mip_gap=mip_gap, d=d)
    unreachable, delivered = reach.unreachable, reach.flop
    short_runs = [r for r, v in delivered.items() if v < runs[r].flop * (1 - 1e-6)]

    fix_m, fix_terms = _elastic(data, d, relax_limits=True, relax_leads=True)
    fix_ok = _solve(fix_m, limit / 2, mip_gap)
    moves = _moves(data, d, fix_terms) if fix_ok else []

    rows: list[dict[str, Any]] = []
    lines: list[str] = []
    for r in short_runs or list(runs):
        run = runs[r]
        cell = data.cells.cell("Runs", (r,), "flop")
        mine = [mv for mv in moves if mv["run_id"] is None or _affects(mv, run)]
        for mv in mine:
            rows.append({**mv, "run_id": r})
        got = delivered.get(r, 0.0)
        why = (
            "no GPU can be bought, allowed and hosted by its ready year"
            if r in unreachable
            else f"at most {got:.2g} is reachable"
        )
        parts = [f"{mv['limit_cell']} {mv['limit']} ({mv['reading']})" for mv in mine]
        line = f"{cell} needs {run.flop:.2g} FLOP by {run.ready_year}; {why}" + (
            f"; binding: {', '.join(parts)}" if parts else ""
        )
        lines.append(line)
        rows.insert(
            len(rows) - len(mine),
            {
                "run_id": r,
                "limit_cell": cell,
                "limit": "flop",
                "year": run.ready_year,
                "needed_change": got - run.flop,
                "reading": line,
                "sheet": "Runs",
                "key": r,
                "column": "flop",
                "current_value": run.flop,
                "new_value": None,
            },
        )
    if not fix_ok:
        lines.append(
            "the elastic model found no plan either within the time limit; "
            "no relaxation could be computed"
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    return Diagnosis(table=table, lines=lines, reachable_flop=delivered)


@dataclass
class Reach:
    """The FLOP each run can get by its ready year with every limit strict."""

    solved: bool  # False: no answer in time (every run then counts 0)
    flop: dict[str, float]  # FLOP per run
    unreachable: list[str]  # runs no GPU can serve at all


def reachable(
    data: PlanningData,
    *,
    time_limit_s: float,
    mip_gap: float = 1e-4,
    prepare: Callable[[pyo.ConcreteModel], object] | None = None,
    d: ModelData | None = None,
) -> Reach:
    """The diagnosis' reach solve: only the runs' FLOP may fall short. ``prepare`` may
    change the elastic model before it is solved (e.g. fix decisions already taken)."""
    d = d or build_model_data(data)
    m, terms = _elastic(data, d, relax_limits=False, relax_leads=False)
    if prepare is not None:
        prepare(m)
    ok = _solve(m, time_limit_s, mip_gap)
    delivered: dict[str, float] = {}
    for t in terms:
        if t.family == "run_flop":
            short = _val(t.var) if ok else t.limit
            delivered[t.index[0]] = max(0.0, t.limit - short) * FLOP_UNIT
    unreachable = list(m.unreachable_runs)
    for r in unreachable:
        delivered[r] = 0.0
    return Reach(ok, delivered, unreachable)


def _affects(move: dict[str, Any], run: Any) -> bool:
    year = move.get("year")
    return year is None or pd.isna(year) or int(year) <= run.ready_year


def _elastic(
    data: PlanningData, d: ModelData, *, relax_limits: bool, relax_leads: bool
) -> tuple[pyo.ConcreteModel, list[ElasticTerm]]:
    m = build_model(build_model_data(loosen(data)))
    terms = add_elastic(m, d, relax_limits=relax_limits, relax_leads=relax_leads, relax_runs=True)
    return m, terms


def _solve(m: pyo.ConcreteModel, time_limit_s: float, mip_gap: float) -> bool:
    cm = compile_model(m)
    res = solve_compiled(
        cm, mip_gap=mip_gap, time_limit_s=max(time_limit_s, 1.0), counts=count_columns(cm)
    )
    if not res.has_plan or res.values is None:
        return False
    load_values(m, cm, res.values)
    return True


def _val(v: Any) -> float:
    x = pyo.value(v, exception=False)
    return 0.0 if x is None else float(x)


def _moves(data: PlanningData, d: ModelData, terms: list[ElasticTerm]) -> list[dict[str, Any]]:
    """The limits the fix solve moved, as workbook edits (cells and units from
    ``models.registry``)."""
    out: list[dict[str, Any]] = []
    lead: dict[tuple[str, str], int] = {}
    for t in terms:
        amount = _val(t.var)
        if amount <= TOL * max(t.scale, 1.0) or t.var.fixed:
            continue
        if t.family in EARLY_BUILDS:
            # Builds wanted before a lead time (or earliest_year) allows: the earliest
            # year each row's limit would have to allow.
            e = EARLY_BUILDS[t.family]
            key = (e.sheet, t.index[e.id_at])
            lead[key] = min(lead.get(key, 10**6), t.index[e.year_at])
        elif FAMILIES[t.family].relax == "target":
            out.append(_lower_target(d, t, amount))
        else:
            out.append(_raise_limit(d, FAMILIES[t.family], t.index, amount))
    out.extend(
        _earlier(data, d, sheet, ident, year) for (sheet, ident), year in sorted(lead.items())
    )
    return out


def _raise_limit(d: ModelData, fam: Family, idx: tuple[Any, ...], amount: float) -> dict[str, Any]:
    """A limit raised by ``amount`` model units: Supply counts up to a whole unit, MW to
    the next kW."""
    assert fam.limit is not None
    row = fam.limit.row(idx)
    current = fam.limit_value(d, idx)
    change = amount / fam.per_price(d) * fam.workbook_per_price
    supply = fam.limit.sheet == "Supply"
    new = float(math.ceil(round(current + change, 6))) if supply else _ceil_mw(current + change)
    delta = f"{new - current:,.0f}" if supply else f"{new - current:,.3f}"
    if supply:
        label = fam.name_of(d, idx)
    elif len(row) == 2:
        label = f"{fam.limit.column} of {row[1]} at {row[0]}"
    else:
        label = f"{fam.limit.column} at {row[0]}"
    return _move(
        None,
        fam.cell(d, idx),
        label,
        int(row[0]) if supply else None,
        new - current,
        f"+{delta} {fam.noun} would close it",
        fam.limit.sheet,
        "|".join(row),
        fam.limit.column,
        current,
        new,
    )


def _lower_target(d: ModelData, t: ElasticTerm, amount: float) -> dict[str, Any]:
    """No limit in reach closes a run's gap: the target it could reach instead."""
    fam = FAMILIES[t.family]
    assert fam.limit is not None
    r = t.index[0]
    run = d.run(r)
    new = (t.limit - amount) * fam.workbook_per_price * (1 - 1e-9)
    return _move(
        r,
        fam.cell(d, t.index),
        f"{fam.limit.column} of {r}",
        run.ready_year,
        new - run.flop,
        f"no limit in reach closes it: lower the target to {new:.3g}",
        fam.limit.sheet,
        r,
        fam.limit.column,
        run.flop,
        new,
    )


def _earlier(data: PlanningData, d: ModelData, sheet: str, ident: str, year: int) -> dict[str, Any]:
    """A site's earliest_year, or a lead time, moved so a build can come online in ``year``."""
    cell = data.cells
    if sheet == "Sites":
        current = d.site(ident).earliest_year
        return _move(
            None,
            cell.cell(sheet, (ident,), "earliest_year"),
            f"earliest_year of {ident}",
            year,
            year - current,
            f"building at {ident} from {year}, not {current}, would close it",
            sheet,
            ident,
            "earliest_year",
            current,
            year,
        )
    spec = SHEET_BY_NAME[sheet]
    row = next(x for x in getattr(data, SHEET_ATTRS[sheet]) if getattr(x, spec.key[0]) == ident)
    current = row.lead_years
    new_lead = year - data.settings.start_year
    return _move(
        None,
        cell.cell(sheet, (ident,), "lead_years"),
        f"lead_years of {ident}",
        year,
        new_lead - current,
        f"lead time {current} -> {new_lead} years (online in {year}) would close it",
        sheet,
        ident,
        "lead_years",
        current,
        new_lead,
    )


def _ceil_mw(x: float) -> float:
    return math.ceil(round(x, 6) * 1000.0) / 1000.0


def _move(
    run_id: str | None,
    cell: str,
    limit: str,
    year: int | None,
    change: float,
    reading: str,
    sheet: str,
    key: str,
    column: str,
    current: float,
    new: float,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "limit_cell": cell,
        "limit": limit,
        "year": year,
        "needed_change": change,
        "reading": reading,
        "sheet": sheet,
        "key": key,
        "column": column,
        "current_value": current,
        "new_value": new,
    }


def apply_relaxation(data: PlanningData, table: pd.DataFrame) -> PlanningData:
    """``data`` with every suggested edit of a Diagnosis table applied."""
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
            key = SHEET_BY_NAME[sheet].key_of(row)
            upd = by_key.get(key)
            if upd:
                typed = {
                    c: type(getattr(row, c))(v) if getattr(row, c) is not None else v
                    for c, v in upd.items()
                }
                row = row.model_copy(update=typed)
            new_rows.append(row)
        changes[attr] = new_rows
    return dataclasses.replace(data, **changes)
