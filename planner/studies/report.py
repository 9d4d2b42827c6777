"""What a study reports: the ``Study`` table, sweep curves, and the study workbook with
one plan file per scenario."""

from __future__ import annotations

import re
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from planner.inputs.data import PlanningData
from planner.results.tables import Plan
from planner.solving.pipeline import PlanResult
from planner.solving.status import SolveResult
from planner.studies.scenarios import BASE, Scenario, effective_hash
from planner.studies.worker import STATUS_CRASHED, Result, _native, crashed

if TYPE_CHECKING:  # openpyxl is imported when a study is written, not when this loads
    from openpyxl.chart import ScatterChart
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet


@dataclass
class StudyResult:
    scenarios: list[Scenario]
    results: dict[str, Result]
    solved: int = 0
    cache_hits: int = 0
    seconds: float = 0.0
    keys: dict[str, str] = field(default_factory=dict)
    # Files the study was asked for and could not write (cache entries, plan files).
    not_written: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """The ``Study`` sheet as a DataFrame, one row per scenario (base first)."""
        return study_table(self.scenarios, self.results)


def _pct(delta: float | None, base: float | None) -> float | None:
    if delta is None or not base:
        return None
    return delta / base * 100.0


def study_table(scenarios: list[Scenario], results: dict[str, Result]) -> pd.DataFrame:
    """One row per scenario: status, cost and its delta against the base, the build."""
    base = results.get(BASE, {})
    base_obj = base.get("objective_usd")
    gpu_types = sorted({g for r in results.values() for g in r.get("gpus", {})})
    sources = sorted({s for r in results.values() for s in r.get("mw", {})})
    runs = list(dict.fromkeys(k for r in results.values() for k in r.get("flop", {})))
    rows = []
    for sc in scenarios:
        r = results.get(sc.name, crashed("no result"))
        obj = r.get("objective_usd")
        delta = obj - base_obj if obj is not None and base_obj is not None else None
        row: dict[str, Any] = {
            "scenario": sc.name,
            "status": r.get("status"),
            "reason": r.get("message", ""),
            # An infeasible scenario's way out, as ``planner plan`` prints it first.
            "diagnosis": r.get("diagnosis"),
            "objective_usd": obj,
            "delta_usd": delta,
            "delta_pct": _pct(delta, base_obj),
            "capex_usd": r.get("capex_usd"),
            "opex_usd": r.get("opex_usd"),
            "co2_t": r.get("co2_t"),
        }
        has_plan = obj is not None
        for g in gpu_types:
            row[f"gpus_{g}"] = r.get("gpus", {}).get(g, 0) if has_plan else None
        for s in sources:
            row[f"mw_{s}"] = r.get("mw", {}).get(s, 0.0) if has_plan else None
        row["sites_built"] = r.get("sites_built")
        row["links_built"] = r.get("links_built")
        for run in runs:
            row[f"flop_delivered_{run}"] = r.get("flop", {}).get(run) if has_plan else None
        row["gap"] = r.get("gap") if has_plan else None
        row["solve_seconds"] = r.get("solve_seconds")
        row["sweep"] = sc.sweep
        row["swept_value"] = sc.swept_value
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_table(study: StudyResult, sweep: str) -> pd.DataFrame:
    table = study.table()
    rows = table[table.sweep == sweep]
    return rows[["swept_value", "scenario", "status", "objective_usd", "delta_pct"]].reset_index(
        drop=True
    )


STUDY_DROP = ("sweep", "swept_value")


def safe_name(name: str) -> str:
    """A file name for a scenario (letters, digits and ._=+- kept)."""
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", name).strip(".") or "scenario"


def plan_result(data: PlanningData, scenario: Scenario, result: Result) -> PlanResult:
    """A ``PlanResult`` rebuilt from a result dict, for ``planner.results.export.write_plan``."""

    obj = result.get("objective_usd")
    bound = result.get("bound_usd")
    res = SolveResult(
        result.get("status", STATUS_CRASHED),
        objective=obj / 1e6 if obj is not None else None,
        bound=bound / 1e6 if bound is not None else None,
        gap=result.get("gap"),
        seconds=result.get("solve_seconds") or 0.0,
        message=result.get("message", ""),
    )
    tables = result.get("tables") or {}
    plan = Plan(_frames(tables), dict(result.get("summary") or {})) if tables else None
    changes = pd.DataFrame(
        _change_rows(scenario),
        columns=[
            "scenario",
            "sheet",
            "row_id",
            "column",
            "op",
            "value",
            "from_sheet",
            "from_row",
            "note",
        ],
    )
    low, high = result.get("coefficient_range") or (0.0, 0.0)
    return PlanResult(
        data,
        res,
        plan=plan,
        model_size=dict(result.get("model_size") or {}),
        coefficient_range=(float(low), float(high)),
        extra_sheets={**_frames(result.get("extra_sheets") or {}), "Scenario": changes},
    )


def _frames(records: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Tables stored as ``{"columns": [...], "rows": [...]}`` records, as DataFrames."""
    return {name: pd.DataFrame(t["rows"], columns=t["columns"]) for name, t in records.items()}


def _change_rows(scenario: Scenario) -> list[list[Any]]:
    return [
        [
            scenario.name,
            c.sheet,
            c.row_id,
            c.column,
            c.op,
            c.value,
            c.origin_sheet,
            c.origin_row,
            c.note,
        ]
        for c in scenario.changes
    ]


def write_study(
    study: StudyResult,
    data: PlanningData,
    out: Path,
    *,
    plans_dir: Path | None = None,
    inputs: Path | None = None,
    settings: dict[str, Any] | None = None,
) -> Path:
    """``Study`` (one row per scenario, linked plan files), ``Scenarios``, a sheet and a
    native chart per sweep, ``About``; plan files in ``plans_dir``. Atomic saves."""
    from planner.inputs.excel import new_workbook, save_atomic

    out = Path(out)
    plans_dir = plans_dir or out.with_name(f"{out.stem}-plans")
    files = _write_plan_files(study, data, plans_dir, inputs)
    wb = new_workbook()
    _study_sheet(wb, study.table(), files)
    _scenarios_sheet(wb, study)
    sweeps = [s for s in dict.fromkeys(sc.sweep for sc in study.scenarios) if s]
    curves = _sweep_curves(wb, study, sweeps)
    for sweep in sweeps:
        _sweep_sheet(wb, study, sweep, curves[sweep])
    _about_sheet(wb, study, data, settings)
    wb.move_sheet(CHART_DATA, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(CHART_DATA))
    return save_atomic(wb, out, inputs=[inputs] if inputs else [])


def _write_plan_files(
    study: StudyResult, data: PlanningData, plans_dir: Path, inputs: Path | None
) -> dict[str, str]:
    """Write one plan workbook per scenario that has a result (crashed ones have none);
    returns each scenario's file as the Study sheet links it: ``<plans folder>/<file>``."""
    from planner.results.export import write_plan
    from planner.studies.scenarios import apply_changes

    files: dict[str, str] = {}
    used: set[str] = set()
    for sc in study.scenarios:
        result = study.results.get(sc.name)
        if result is None or result.get("status") == STATUS_CRASHED:
            continue
        # Names that differ only in case or in characters safe_name replaces would share
        # a file (and do, on case-insensitive file systems): later ones get a "_" suffix.
        stem = safe_name(sc.name)
        while stem.lower() in used:
            stem += "_"
        used.add(stem.lower())
        sc_data, _ = apply_changes(data, sc.changes)
        target = plans_dir / f"{stem}.xlsx"
        written = write_plan(plan_result(sc_data or data, sc, result), target, inputs=inputs)
        if written != target:  # kept, but not where the Study sheet's link points
            study.not_written.append(str(target))
        files[sc.name] = f"{plans_dir.name}/{target.name}"
    return files


def _study_sheet(wb: Workbook, table: pd.DataFrame, files: dict[str, str]) -> None:
    """The ``Study`` sheet: the study table without its sweep columns, plus a
    ``plan_file`` column hyperlinked to each scenario's plan workbook."""
    from planner.inputs.excel import write_table

    ws = wb.create_sheet("Study")
    columns = [c for c in table.columns if c not in STUDY_DROP] + ["plan_file"]
    rows = [
        [*(_native(r[c]) for c in columns[:-1]), files.get(r["scenario"])]
        for _, r in table.iterrows()
    ]
    write_table(ws, columns, rows, widths={"reason": 50, "diagnosis": 60, "plan_file": 40})
    link_col = len(columns)
    for i, row in enumerate(rows, start=2):  # row 1 is the header
        if row[-1]:
            cell = ws.cell(row=i, column=link_col)
            alignment = copy(cell.alignment)  # the named style would reset it
            cell.hyperlink = row[-1]
            cell.style = "Hyperlink"
            cell.alignment = alignment


def _scenarios_sheet(wb: Workbook, study: StudyResult) -> None:
    """The ``Scenarios`` sheet: every change every scenario makes, scenario by scenario."""
    from planner.inputs.excel import write_table

    changes = [row for sc in study.scenarios for row in _change_rows(sc)]
    write_table(
        wb.create_sheet("Scenarios"),
        ["scenario", "sheet", "row_id", "column", "op", "value", "from_sheet", "from_row", "note"],
        changes,
    )


CHART_DATA = "ChartData"
CHART_DATA_COLUMNS = ["sweep", "swept_value", "status", "chart_usd"]
NO_PLAN = "no plan at this value (see status)"


@dataclass(frozen=True)
class SweepChart:
    """What a sweep's chart shows besides its curve: the x range (the sweep's own ends),
    and the ChartData rows marking the steps that have no plan (None: every step has one)."""

    low: float
    high: float
    no_plan_rows: tuple[int, int] | None


def _sweep_curves(wb: Workbook, study: StudyResult, sweeps: list[str]) -> dict[str, SweepChart]:
    """Each sweep's x range, and a hidden ``ChartData`` table (sweep, swept_value,
    status, chart_usd) of the steps without a plan, drawn at 0 USD as their own
    series: a step with no plan is marked on the chart, not dropped from it."""
    from planner.inputs.excel import write_table

    rows: list[list[Any]] = []
    out: dict[str, SweepChart] = {}
    for sweep in sweeps:
        curve = sweep_table(study, sweep)
        failed = curve[curve.objective_usd.isna()]
        span = (len(rows) + 2, len(rows) + 1 + len(failed)) if len(failed) else None
        rows += [[sweep, _native(r.swept_value), r.status, 0.0] for r in failed.itertuples()]
        xs = curve.swept_value.astype(float)
        out[sweep] = SweepChart(float(xs.min()), float(xs.max()), span)
    ws = wb.create_sheet(CHART_DATA)
    ws.sheet_state = "hidden"  # the charts' marks, not a study table
    write_table(ws, CHART_DATA_COLUMNS, rows)
    return out


def guide_words(sheet: str, column: str) -> str:
    """A workbook column as the Guide says it, with its unit: "Runs.flop: Total training
    compute (FLOP)"; the bare name for a column the schema does not know."""
    from planner.inputs.schema import SETTINGS_SHEET, SHEET_BY_NAME, SettingsModel, field_unit

    if sheet == SETTINGS_SHEET:
        f = SettingsModel.model_fields.get(column)
    else:
        spec = SHEET_BY_NAME.get(sheet)
        f = spec.model.model_fields.get(column) if spec else None
    if f is None:
        return f"{sheet}.{column}"
    unit = field_unit(f)
    return f"{sheet}.{column}: {f.description}" + (f" ({unit})" if unit else "")


def _sweep_sheet(wb: Workbook, study: StudyResult, sweep: str, marks: SweepChart) -> None:
    """A ``Sweep <name>`` sheet: the swept value against the discounted cost, with a
    native scatter chart of the curve beside it."""
    from planner.inputs.excel import write_table

    first = next(sc for sc in study.scenarios if sc.sweep == sweep)
    change = first.changes[0]
    curve = sweep_table(study, sweep)
    ws = wb.create_sheet(_sheet_title(f"Sweep {sweep}", wb.sheetnames))
    n = write_table(
        ws,
        [change.column, "scenario", "status", "objective_usd", "delta_pct"],
        [[_native(v) for v in row] for row in curve.itertuples(index=False)],
    )
    title = f"Discounted cost against {change.sheet}.{change.column} ({sweep})"
    chart = _sweep_chart(
        ws,
        title,
        guide_words(change.sheet, change.column),
        n,
        log_x=first.sweep_scale == "log",
    )
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = marks.low, marks.high
    if marks.no_plan_rows is not None:
        _no_plan_series(chart, wb[CHART_DATA], *marks.no_plan_rows)
    ws.add_chart(chart, "G2")


def _sweep_chart(ws: Worksheet, title: str, x_title: str, n: int, *, log_x: bool) -> ScatterChart:
    """A scatter chart of objective_usd (column D) against the swept value (column A)
    over the ``n`` data rows under the header of ``ws``: straight lines with markers,
    money in M USD on a separated axis from 0."""
    from openpyxl.chart import Reference, ScatterChart, Series

    from planner.inputs.formats import for_name

    chart = ScatterChart()
    chart.title = title
    chart.style = 13
    chart.scatterStyle = "lineMarker"
    chart.x_axis.title = x_title
    chart.y_axis.title = "Discounted cost (M USD)"
    # Values stay in USD; the axis shows them in millions, with separators.
    chart.y_axis.number_format = "#,##0,,"
    chart.y_axis.scaling.min = 0
    # openpyxl (3.1) writes both axes as deleted unless told otherwise: Excel would then
    # draw the curve with no scale to read it against.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if log_x:
        chart.x_axis.scaling.logBase = 10
        chart.x_axis.majorUnit = 10  # a labelled tick at every power of ten
        chart.x_axis.number_format = "0E+0"
    else:
        shown = for_name(str(ws.cell(row=1, column=1).value))
        chart.x_axis.number_format = shown.code if shown else "General"
    for axis in (chart.x_axis, chart.y_axis):
        axis.numFmt.sourceLinked = False
    xs = Reference(ws, min_col=1, min_row=2, max_row=n + 1)
    ys = Reference(ws, min_col=4, min_row=2, max_row=n + 1)
    series = Series(ys, xs, title="Discounted cost (plan found)")
    series.marker.symbol = "circle"
    series.marker.size = 7
    series.smooth = False  # LibreOffice smooths a series that does not say
    chart.series.append(series)
    chart.width, chart.height = 22, 12
    return chart


def _no_plan_series(chart: ScatterChart, ws: Worksheet, first: int, last: int) -> None:
    """The steps without a plan, as red crosses on the x axis (no line between them)."""
    from openpyxl.chart import Reference, Series

    xs = Reference(ws, min_col=2, min_row=first, max_row=last)
    ys = Reference(ws, min_col=4, min_row=first, max_row=last)
    series = Series(ys, xs, title=NO_PLAN)
    series.marker.symbol = "x"
    series.marker.size = 9
    series.marker.graphicalProperties.line.solidFill = "C00000"
    series.graphicalProperties.line.noFill = True
    series.smooth = False
    chart.series.append(series)


def _about_sheet(
    wb: Workbook, study: StudyResult, data: PlanningData, settings: dict[str, Any] | None
) -> None:
    """The ``About`` sheet: which input, its hashes, the study's counts and time, then the
    caller's settings (an empty cell for a setting that is None)."""
    from planner.inputs.excel import write_table

    about = [
        ("input_file", data.source_name),
        ("input_sha256", data.source_sha256),
        ("base_effective_sha256", effective_hash(data)),
        ("scenarios", len(study.scenarios)),
        ("solved_now", study.solved),
        ("from_cache", study.cache_hits),
        ("study_seconds", round(study.seconds, 2)),
    ]
    about += [(k, v) for k, v in (settings or {}).items()]
    write_table(
        wb.create_sheet("About"),
        ["item", "value"],
        [(k, "" if v is None else v) for k, v in about],
    )


def _sheet_title(title: str, taken: list[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", title)[:31]
    base, i = title, 2
    while title in taken:
        suffix = f" {i}"
        title = base[: 31 - len(suffix)] + suffix
        i += 1
    return title
