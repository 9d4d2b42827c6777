"""A solved elastic model's moves as workbook edits: the Diagnosis table's limit rows.

Each row names one cell (``Supply!C2``), its current and new value in workbook units, and
its *relative move*, the size of the edit against the cell:

* a limit raised from L to L':        (L' - L) / max(L, 1)
* a lead time cut from T to T' years: (T - T') / max(T, 1)
* a site opened in year Y' not Y:     (Y - Y') / max(Y - start_year, 1)
* a target lowered from F to F':      (F - F') / F

New values are always enough for the plan found: Supply counts round up to a whole unit,
MW up to the next kW, years down to the year the plan builds in.
"""

from __future__ import annotations

import math
from typing import Any

import pyomo.environ as pyo

from models.elastic import Cell, ElasticTerm
from models.registry import EARLY_BUILDS, FAMILIES, Family
from models.sets import ModelData
from planner.inputs.data import SHEET_ATTRS, PlanningData
from planner.inputs.schema import SHEET_BY_NAME

COLUMNS = [
    "run_id",
    "option",
    "limit_cell",
    "limit",
    "year",
    "needed_change",
    "relative_move",
    "reading",
    "sheet",
    "key",
    "column",
    "current_value",
    "new_value",
]
TOL = 1e-6


def value(v: Any) -> float:
    x = pyo.value(v, exception=False)
    return 0.0 if x is None else float(x)


def moves_of(data: PlanningData, d: ModelData, terms: list[ElasticTerm]) -> list[dict[str, Any]]:
    """The cells a solved elastic model moved, one row each (the largest move a cell's
    terms need when several share it, e.g. one per year)."""
    rows: dict[Cell, dict[str, Any]] = {}
    lead: dict[Cell, int] = {}
    for t in terms:
        amount = value(t.var)
        if amount <= TOL * max(t.scale, 1.0):
            continue
        if t.family in EARLY_BUILDS:
            # Builds before a lead time (or earliest_year) allows: the earliest year each
            # row's limit would have to allow.
            lead[t.cell] = min(lead.get(t.cell, 10**6), t.index[EARLY_BUILDS[t.family].year_at])
            continue
        fam = FAMILIES[t.family]
        row = (
            lower_target(d, t, amount) if fam.relax == "target" else raise_limit(d, fam, t, amount)
        )
        old = rows.get(t.cell)
        if old is None or abs(row["needed_change"]) > abs(old["needed_change"]):
            rows[t.cell] = row
    out = list(rows.values())
    out.extend(earlier(data, d, cell, year) for cell, year in sorted(lead.items()))
    return out


def raise_limit(d: ModelData, fam: Family, t: ElasticTerm, amount: float) -> dict[str, Any]:
    """A limit raised by ``amount`` model units: Supply counts up to a whole unit, MW up
    to the next kW."""
    assert fam.limit is not None
    idx = t.index
    row = fam.limit.row(idx)
    current = fam.limit_value(d, idx)
    change = amount / fam.per_price(d) * fam.workbook_per_price
    supply = fam.limit.sheet == "Supply"
    new = float(math.ceil(round(current + change, 6))) if supply else _ceil_mw(current + change)
    if supply:
        label, fmt = fam.name_of(d, idx), "{:,.0f}"
    elif len(row) == 2:
        label, fmt = f"{fam.limit.column} of {row[1]} at {row[0]}", "{:,.3f}"
    else:
        label, fmt = f"{fam.limit.column} at {row[0]}", "{:,.3f}"
    reading = (
        f"{label} +{fmt.format(new - current)} {fam.noun} "
        f"({fmt.format(current)} -> {fmt.format(new)})"
    )
    return _move(
        None,
        fam.cell(d, idx),
        label,
        int(row[0]) if supply else None,
        new - current,
        (new - current) / max(abs(current), 1.0),
        reading,
        t.cell,
        current,
        new,
    )


def lower_target(d: ModelData, t: ElasticTerm, amount: float) -> dict[str, Any]:
    """A run's target lowered to what the plan delivers (a hair below, so that the
    plan's own FLOP meets it); no new value when it delivers nothing."""
    fam = FAMILIES[t.family]
    assert fam.limit is not None
    r = t.index[0]
    run = d.run(r)
    got = (t.limit - amount) * fam.workbook_per_price
    new: float | None = got * (1 - 1e-9) if got > run.flop * 1e-9 else None
    reading = (
        f"flop of {r} {run.flop:.3g} -> {new:.3g} (target lowered)"
        if new is not None
        else f"flop of {r}: no plan delivers any of it"
    )
    return _move(
        r,
        fam.cell(d, t.index),
        f"flop of {r}",
        run.ready_year,
        (new or 0.0) - run.flop,
        (run.flop - (new or 0.0)) / run.flop,
        reading,
        t.cell,
        run.flop,
        new,
    )


def earlier(data: PlanningData, d: ModelData, cell: Cell, year: int) -> dict[str, Any]:
    """A site's earliest_year, or a lead time, moved so a build can come online in
    ``year``."""
    sheet, (ident,), column = cell
    s0 = data.settings.start_year
    ref = data.cells.cell(sheet, (ident,), column)
    if sheet == "Sites":
        current = d.site(ident).earliest_year
        reading = f"earliest_year of {ident} {current} -> {year} (build there from {year})"
        rel = (current - year) / max(current - s0, 1)
        return _move(
            None, ref, f"earliest_year of {ident}", year, year - current, rel, reading, cell,
            current, year,
        )  # fmt: skip
    spec = SHEET_BY_NAME[sheet]
    row = next(x for x in getattr(data, SHEET_ATTRS[sheet]) if spec.key_of(x) == (ident,))
    current = row.lead_years
    new = year - s0
    reading = f"lead_years of {ident} {current} -> {new} (online in {year})"
    rel = (current - new) / max(current, 1)
    return _move(
        None, ref, f"lead_years of {ident}", year, new - current, rel, reading, cell, current,
        new,
    )  # fmt: skip


def _ceil_mw(x: float) -> float:
    return math.ceil(round(x, 6) * 1000.0) / 1000.0


def _move(
    run_id: str | None,
    ref: str,
    limit: str,
    year: int | None,
    change: float,
    relative: float,
    reading: str,
    cell: Cell,
    current: float,
    new: float | None,
) -> dict[str, Any]:
    sheet, key, column = cell
    return {
        "run_id": run_id,
        "option": None,
        "limit_cell": ref,
        "limit": limit,
        "year": year,
        "needed_change": change,
        "relative_move": relative,
        "reading": reading,
        "sheet": sheet,
        "key": "|".join(key),
        "column": column,
        "current_value": current,
        "new_value": new,
    }
