"""The frontier workbook: ``Frontier`` (the curve, with a native chart of cost against
FLOP on a log axis), ``Maximum`` (the answer and how it was proven), ``Limits at
maximum`` (what binds it), ``Earliest`` (when asked) and ``About``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.analysis.frontier import FrontierResult

if TYPE_CHECKING:  # openpyxl is imported when the workbook is written
    from openpyxl.chart import ScatterChart
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

FLOP_COL, COST_COL = 2, 3  # columns B and C of the Frontier sheet
USD_COLUMNS = ("cost_usd", "cost_delta_usd", "added_cost_usd", "usd_per_1e24_flop")
B_USD = '#,##0.0,,," B"'  # USD shown in billions


def write_frontier(result: FrontierResult, out: Path, *, inputs: Path | None = None) -> Path:
    """Write every sheet atomically (never over ``inputs``); returns where it went."""
    from planner.inputs.excel import new_workbook, save_atomic, write_table

    wb = new_workbook()
    ws = wb.create_sheet("Frontier")
    table = result.table()
    n = write_table(
        ws,
        list(table.columns),
        table.itertuples(index=False),
        widths={**dict.fromkeys(USD_COLUMNS, 18), "binding_limit": 60, "binding_cell": 20},
    )
    flops = [p.flop for p in result.points if p.ok]
    if flops:
        ws.add_chart(frontier_chart(ws, result.run_id, n, min(flops), max(flops)), "B" + str(n + 4))
    _maximum_sheet(wb, result)
    mx = result.maximum
    if mx is not None:
        limits = mx.limits
        write_table(
            wb.create_sheet("Limits at maximum"),
            list(limits.columns),
            limits.itertuples(index=False),
            widths={"reading": 70},
        )
    if result.earliest is not None:
        _earliest_sheet(wb, result)
    _about_sheet(wb, result)
    return save_atomic(wb, out, inputs=[inputs] if inputs else [])


def frontier_chart(ws: Worksheet, run_id: str, n: int, low: float, high: float) -> ScatterChart:
    """Discounted cost (column C) against FLOP (column B) over the ``n`` rows under the
    header: straight lines with markers, a log x axis bounded by the points."""
    from openpyxl.chart import Reference, ScatterChart, Series

    chart = ScatterChart()
    chart.title = f"Least cost against the FLOP of run {run_id}"
    chart.style = 13
    chart.scatterStyle = "lineMarker"
    chart.x_axis.title = f"FLOP of run {run_id} (log scale)"
    chart.y_axis.title = "discounted cost of the plan, B USD"
    chart.x_axis.delete = False  # openpyxl 3.1 hides both axes unless told otherwise
    chart.y_axis.delete = False
    chart.x_axis.scaling.logBase = 10
    if high <= low:  # one point: a decade around it
        low, high = low / math.sqrt(10), high * math.sqrt(10)
    chart.x_axis.scaling.min = low
    chart.x_axis.scaling.max = high
    chart.x_axis.number_format = "0.0E+0"
    chart.y_axis.number_format = B_USD
    xs = Reference(ws, min_col=FLOP_COL, min_row=2, max_row=n + 1)
    ys = Reference(ws, min_col=COST_COL, min_row=1, max_row=n + 1)  # row 1: the title
    series = Series(ys, xs, title_from_data=True)
    series.marker.symbol = "circle"
    series.marker.size = 7
    series.smooth = False
    chart.series.append(series)
    chart.legend = None
    chart.width, chart.height = 24, 12
    return chart


def _facts(result: FrontierResult) -> list[tuple[str, Any]]:
    """The answer in one column: the maximum, its proof, the budget, the other runs."""
    mx = result.maximum
    run = next((r for r in result.data.runs if r.run_id == result.run_id), None)
    last = result.points[-1] if result.points else None
    facts: list[tuple[str, Any]] = [
        ("run_id", result.run_id),
        ("ready_year", run.ready_year if run else None),
        ("target_flop", run.flop if run else None),
        ("status", result.status),
        ("message", result.message),
        ("max_flop", mx.flop if mx else None),
        ("max_solve_status", mx.status if mx else None),
        ("max_solve_gap", mx.gap if mx else None),
        ("max_plan_cost_usd", mx.cost_usd if mx else None),
        ("budget_usd", result.budget_usd),
        ("budget_binds", mx.budget_binds if mx else None),
        ("other_runs_cost_usd", result.others_cost_usd),
        ("max_resolved_as_plan", last.status if last else None),
        ("max_resolved_cost_usd", last.cost_usd if last else None),
    ]
    if mx is not None and len(mx.limits):
        top = mx.limits.iloc[0]
        facts.append(("max_bound_by", f"{top.limit_cell}: {top.reading}"))
    facts += [("log", line) for line in result.lines]
    return facts


def _maximum_sheet(wb: Workbook, result: FrontierResult) -> None:
    from planner.inputs.excel import write_table

    ws = wb.create_sheet("Maximum")
    facts = _facts(result)
    write_table(
        ws, ["item", "value"], [(k, "" if v is None else v) for k, v in facts], widths={"value": 90}
    )
    for i, (key, value) in enumerate(facts, start=2):
        if "flop" in key and isinstance(value, float):
            ws.cell(row=i, column=2).number_format = "0.000E+00"


def _earliest_sheet(wb: Workbook, result: FrontierResult) -> None:
    from planner.inputs.excel import write_table

    er = result.earliest
    assert er is not None
    rows = [list(r) for r in er.tried.itertuples(index=False)]
    rows.append(["earliest", er.year if er.year is not None else "none in the horizon", None])
    if er.before:
        rows.append(["year before", er.before, None])
    write_table(
        wb.create_sheet("Earliest"),
        ["ready_year", "status", "cost_usd"],
        rows,
        widths={"status": 90},
    )


def _about_sheet(wb: Workbook, result: FrontierResult) -> None:
    from planner.inputs.excel import write_table

    data = result.data
    about: list[tuple[str, Any]] = [
        ("input_file", data.source_name),
        ("input_sha256", data.source_sha256),
        *result.question.items(),
    ]
    write_table(
        wb.create_sheet("About"),
        ["item", "value"],
        [(k, "" if v is None else v) for k, v in about],
        widths={"value": 70},
    )
