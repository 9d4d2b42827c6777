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
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from models.build import build_model
from models.elastic import ElasticTerm, add_elastic, loosen
from models.sets import FLOP_UNIT, ModelData, build_model_data
from planner.inputs.data import PlanningData
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

    reach_m, reach_terms = _elastic(data, d, relax_limits=False, relax_leads=False)
    unreachable = list(reach_m.unreachable_runs)
    reach_ok = _solve(reach_m, limit / 2, mip_gap)
    delivered: dict[str, float] = {}
    for t in reach_terms:
        if t.family == "run_flop":
            short = _val(t.var) if reach_ok else t.limit
            delivered[t.index[0]] = max(0.0, t.limit - short) * FLOP_UNIT
    for r in unreachable:
        delivered[r] = 0.0
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


# Elastic family -> (sheet, position of the row id, position of the year) in its index.
EARLY_BUILDS: dict[str, tuple[str, int, int]] = {
    "power_lead": ("PowerSources", 1, 2),
    "transformer_lead": ("Transformers", 1, 2),
    "link_lead": ("FiberLinks", 0, 1),
    "site_earliest": ("Sites", 0, 2),
}


def _moves(data: PlanningData, d: ModelData, terms: list[ElasticTerm]) -> list[dict[str, Any]]:
    """The limits the fix solve moved, as workbook edits."""
    s0 = data.settings.start_year
    cells = data.cells
    out: list[dict[str, Any]] = []
    lead: dict[tuple[str, str], int] = {}
    for t in terms:
        amount = _val(t.var)
        if amount <= TOL * max(t.scale, 1.0) or t.var.fixed:
            continue
        fam, idx = t.family, t.index
        if fam in (
            "compute_cowos_supply",
            "compute_hbm_supply",
            "compute_gpu_supply",
            "transformer_supply",
        ):
            if fam == "compute_gpu_supply":
                res, y, noun = f"gpu:{idx[0]}", idx[1], "GPUs"
            else:
                y = idx[0]
                res, noun = {
                    "compute_cowos_supply": ("cowos_wafers", "wafers"),
                    "compute_hbm_supply": ("hbm_stacks", "HBM stacks"),
                    "transformer_supply": ("transformer_units", "units"),
                }[fam]
            factor = 1000.0 if fam == "compute_hbm_supply" else 1.0
            current = d.supply[(res, y)]
            change = amount * factor
            new = float(math.ceil(round(current + change, 6)))
            out.append(
                _move(
                    None,
                    cells.cell("Supply", (str(y), res), "capacity"),
                    f"{res} {y}",
                    y,
                    new - current,
                    f"+{new - current:,.0f} {noun} would close it",
                    "Supply",
                    f"{y}|{res}",
                    "capacity",
                    current,
                    new,
                )
            )
        elif fam == "site_max_it":
            s = idx[0]
            current = d.site(s).max_it_mw
            new = _ceil_mw(current + amount)
            out.append(
                _move(
                    None,
                    cells.cell("Sites", (s,), "max_it_mw"),
                    f"max_it_mw at {s}",
                    None,
                    new - current,
                    f"+{new - current:,.3f} MW would close it",
                    "Sites",
                    s,
                    "max_it_mw",
                    current,
                    new,
                )
            )
        elif fam == "power_max_mw":
            s, p = idx[0], idx[1]
            current = d.site_power_row(s, p).max_mw
            new = _ceil_mw(current + amount)
            out.append(
                _move(
                    None,
                    cells.cell("SitePower", (s, p), "max_mw"),
                    f"max_mw of {p} at {s}",
                    None,
                    new - current,
                    f"+{new - current:,.3f} MW would close it",
                    "SitePower",
                    f"{s}|{p}",
                    "max_mw",
                    current,
                    new,
                )
            )
        elif fam == "run_flop":
            r = idx[0]
            run = d.run(r)
            new = (t.limit - amount) * FLOP_UNIT * (1 - 1e-9)
            out.append(
                _move(
                    r,
                    cells.cell("Runs", (r,), "flop"),
                    f"flop of {r}",
                    run.ready_year,
                    new - run.flop,
                    f"no limit in reach closes it: lower the target to {new:.3g}",
                    "Runs",
                    r,
                    "flop",
                    run.flop,
                    new,
                )
            )
        elif fam in EARLY_BUILDS:
            # Builds wanted before a lead time (or earliest_year) allows: the earliest year
            # each row's limit would have to allow.
            sheet, id_at, year_at = EARLY_BUILDS[fam]
            key = (sheet, idx[id_at])
            lead[key] = min(lead.get(key, 10**6), idx[year_at])
    for (sheet, ident), year in sorted(lead.items()):
        if sheet == "Sites":
            current = d.site(ident).earliest_year
            cell = cells.cell("Sites", (ident,), "earliest_year")
            out.append(
                _move(
                    None,
                    cell,
                    f"earliest_year of {ident}",
                    year,
                    year - current,
                    f"building at {ident} from {year}, not {current}, would close it",
                    "Sites",
                    ident,
                    "earliest_year",
                    current,
                    year,
                )
            )
            continue
        id_col = {
            "PowerSources": "source_id",
            "Transformers": "transformer_id",
            "FiberLinks": "link_id",
        }[sheet]
        tables: dict[str, list[Any]] = {
            "PowerSources": list(data.power_sources),
            "Transformers": list(data.transformers),
            "FiberLinks": list(data.fiber_links),
        }
        rows = tables[sheet]
        row = next(x for x in rows if getattr(x, id_col) == ident)
        current = row.lead_years
        new_lead = year - s0
        cell = cells.cell(sheet, (ident,), "lead_years")
        out.append(
            _move(
                None,
                cell,
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
        )
    return out


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


KEY_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Supply": ("supply", ("year", "resource")),
    "Sites": ("sites", ("site_id",)),
    "SitePower": ("site_power", ("site_id", "source_id")),
    "Runs": ("runs", ("run_id",)),
    "PowerSources": ("power_sources", ("source_id",)),
    "Transformers": ("transformers", ("transformer_id",)),
    "FiberLinks": ("fiber_links", ("link_id",)),
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
        attr, fields = KEY_FIELDS[sheet]
        new_rows = []
        for row in getattr(data, attr):
            key = tuple(str(getattr(row, f)) for f in fields)
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
