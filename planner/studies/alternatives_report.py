"""What ``planner alternatives`` reports: the ``Alternatives`` table (one row per plan),
its workbook with a native bar chart of cost by plan, and each plan's full workbook."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from planner.studies.alternatives import (
    OPTIMUM,
    AlternativesResult,
    Entry,
    choices,
    country_of,
    plan_gpus,
    vendor_of,
)
from planner.studies.report import _sheet_title, plan_result, safe_name
from planner.studies.scenarios import Scenario
from planner.studies.worker import STATUS_CRASHED, _native

if TYPE_CHECKING:
    from openpyxl.chart import BarChart
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

KIND_ORDER = {OPTIMUM: 0, "alternative": 1, "without": 2}
SHEET = "Alternatives"
CHART_COLUMN = "objective_usd"


def ordered(result: AlternativesResult) -> list[Entry]:
    """The optimum, the alternatives, then the hedges (each group in the order found)."""
    return sorted(result.entries, key=lambda e: KIND_ORDER.get(e.kind, 9))


def alternatives_table(result: AlternativesResult) -> pd.DataFrame:
    """One row per plan: name, kind, status, reason, discounted cost, delta against the
    optimum (USD, %), what defines it, sites, countries, GPUs by vendor, peak MW, t CO2
    of the energy served, gap, solve seconds."""
    entries = ordered(result)
    base = result.optimum.objective_usd
    vendors = sorted({v for e in entries for v in _by_vendor(result, e)})
    rows = []
    for e in entries:
        obj = e.objective_usd
        delta = obj - base if obj is not None and base is not None else None
        row: dict[str, Any] = {
            "plan": e.name,
            "kind": e.kind,
            "status": e.result.get("status"),
            "reason": _reason(e),
            "objective_usd": obj,
            "delta_usd": delta,
            "delta_pct": delta / base * 100.0 if delta is not None and base else None,
            "defined_by": e.defined_by,
            **_where(result, e),
        }
        gpus = _by_vendor(result, e)
        for v in vendors:
            row[f"gpus_{v}"] = gpus.get(v, 0) if obj is not None else None
        summary = e.result.get("summary") or {}
        row["peak_mw"] = summary.get("peak_facility_mw") if obj is not None else None
        row["co2_t"] = e.result.get("co2_t") if obj is not None else None
        row["gap"] = e.result.get("gap") if obj is not None else None
        row["solve_seconds"] = e.result.get("solve_seconds")
        rows.append(row)
    return pd.DataFrame(rows)


def _reason(e: Entry) -> str:
    """The result's message; for a plan that does not exist, the diagnosis' first line."""
    if e.objective_usd is None and e.result.get("diagnosis"):
        return str(e.result["diagnosis"])
    return str(e.result.get("message") or "")


def _where(result: AlternativesResult, e: Entry) -> dict[str, str | None]:
    gpus = plan_gpus(e.result)
    if e.objective_usd is None:
        return {"sites": None, "countries": None}
    return {
        "sites": ", ".join(sorted(choices(result.data, "site", gpus))),
        "countries": ", ".join(sorted(choices(result.data, "country", gpus))),
    }


def _by_vendor(result: AlternativesResult, e: Entry) -> dict[str, int]:
    whose = vendor_of(result.data)
    out: dict[str, int] = {}
    for _, g, n in plan_gpus(e.result):
        out[whose.get(g, g)] = out.get(whose.get(g, g), 0) + int(round(n))
    return out


def hedge_lines(result: AlternativesResult) -> list[str]:
    """``without UAE: +4.1 B USD, +12.0 %`` per hedge, or its diagnosis' first line."""
    base = result.optimum.objective_usd
    lines = []
    for e in ordered(result):
        if e.kind != "without":
            continue
        obj = e.objective_usd
        if obj is None or base is None:
            lines.append(f"{e.name}: no plan ({e.result.get('status')}): {_reason(e)}")
            continue
        delta = obj - base
        pct = f", {delta / base * 100:+.1f} %" if base else ""
        lines.append(f"{e.name}: {delta / 1e9:+,.2f} B USD{pct} ({e.result.get('status')})")
    return lines


# ------------------------------------------------------------------- the workbook


def write_alternatives(
    result: AlternativesResult,
    out: Path,
    *,
    plans_dir: Path | None = None,
    inputs: Path | None = None,
    settings: dict[str, Any] | None = None,
) -> Path:
    """``Alternatives`` (one row per plan, linked plan files, a bar chart of cost by
    plan), ``Notes`` and ``About``; each plan's workbook in ``plans_dir`` (default
    ``<out stem>-plans/``). Atomic saves; files not written go to ``not_written``."""
    from planner.inputs.excel import new_workbook, save_atomic, write_table

    out = Path(out)
    plans_dir = plans_dir or out.with_name(f"{out.stem}-plans")
    files = _write_plan_files(result, plans_dir, inputs)
    table = alternatives_table(result)
    wb = new_workbook()
    ws = wb.create_sheet(SHEET)
    columns = [*table.columns, "plan_file"]
    rows = [[*(_cell(v) for v in r), files.get(str(r[0]))] for r in table.itertuples(index=False)]
    n = write_table(ws, columns, rows, widths={"reason": 60, "defined_by": 40, "plan_file": 40})
    _link_files(ws, rows, len(columns))
    ws.add_chart(cost_chart(ws, n, columns.index(CHART_COLUMN) + 1), f"A{n + 4}")
    notes = [[line] for line in result.notes] or [["(none)"]]
    write_table(wb.create_sheet("Notes"), ["note"], notes, widths={"note": 120})
    _about_sheet(wb, result, settings)
    return save_atomic(wb, out, inputs=[inputs] if inputs else [])


def _cell(value: Any) -> Any:
    value = _native(value)
    return None if isinstance(value, float) and math.isnan(value) else value


def _link_files(ws: Worksheet, rows: list[list[Any]], column: int) -> None:
    for i, row in enumerate(rows, start=2):
        if row[-1]:
            cell = ws.cell(row=i, column=column)
            cell.hyperlink = row[-1]
            cell.style = "Hyperlink"


def cost_chart(ws: Worksheet, n: int, cost_column: int) -> BarChart:
    """A native bar chart of the discounted cost (``cost_column``) of the ``n`` plans
    under the header, labelled by plan name (column A)."""
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = "Discounted cost by plan"
    chart.x_axis.title = "plan"
    chart.y_axis.title = "USD, discounted"
    chart.x_axis.delete = False  # openpyxl 3.1 hides both axes unless told otherwise
    chart.y_axis.delete = False
    chart.legend = None
    data = Reference(ws, min_col=cost_column, min_row=1, max_row=n + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
    chart.width, chart.height = 22, max(8.0, 1.0 + 0.9 * n)
    return chart


def _write_plan_files(
    result: AlternativesResult, plans_dir: Path, inputs: Path | None
) -> dict[str, str]:
    """One plan workbook per plan with a result, with an ``Alternative`` sheet saying
    what defines it; returns each plan's file as the sheet links it."""
    from planner.results.export import write_plan

    files: dict[str, str] = {}
    used: set[str] = set()
    for e in ordered(result):
        if e.result.get("status") == STATUS_CRASHED or not e.result:
            continue
        stem = safe_name(e.name)
        while stem.lower() in used:
            stem += "_"
        used.add(stem.lower())
        pr = plan_result(e.data, Scenario(e.name), e.result)
        sheets = {k: v for k, v in pr.extra_sheets.items() if k != "Scenario"}
        sheets["Alternative"] = _about_plan(result, e)
        target = plans_dir / f"{stem}.xlsx"
        written = write_plan(dataclasses.replace(pr, extra_sheets=sheets), target, inputs=inputs)
        if written != target:
            result.not_written.append(str(target))
        files[e.name] = f"{plans_dir.name}/{target.name}"
    return files


def _about_plan(result: AlternativesResult, e: Entry) -> pd.DataFrame:
    base = result.optimum.objective_usd
    rows: list[tuple[str, Any]] = [
        ("plan", e.name),
        ("kind", e.kind),
        ("defined_by", e.defined_by),
        ("dimension", result.by),
        ("slack", result.slack),
        ("optimum_objective_usd", base),
        (
            "cost_cap_usd",
            (1 + result.slack) * base if base is not None and e.kind != "without" else None,
        ),
        ("search_stopped_at_usd", e.search_cost_usd),
        ("sites_kept", ", ".join(sorted(s.site_id for s in e.data.sites))),
        ("countries_kept", ", ".join(sorted(set(country_of(e.data).values())))),
        ("gpu_types_kept", ", ".join(sorted(g.gpu_id for g in e.data.gpus))),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def _about_sheet(wb: Workbook, result: AlternativesResult, settings: dict[str, Any] | None) -> None:
    from planner.inputs.excel import write_table

    about = [
        ("input_file", result.data.source_name),
        ("input_sha256", result.data.source_sha256),
        ("by", result.by),
        ("slack", result.slack),
        ("count", result.count),
        ("plans", len(result.entries)),
        ("solved_now", result.solved),
        ("from_cache", result.cache_hits),
        ("seconds", round(result.seconds, 2)),
        *((k, v) for k, v in (settings or {}).items()),
    ]
    write_table(
        wb.create_sheet(_sheet_title("About", wb.sheetnames)),
        ["item", "value"],
        [(k, "" if v is None else v) for k, v in about],
        widths={"value": 70},
    )
