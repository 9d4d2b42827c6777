"""Write a plan workbook for people (formatted tables, native charts) and read one back."""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from planner.inputs.data import PlanningData
from planner.inputs.excel import new_workbook, save_atomic, write_table
from planner.inputs.formats import MONEY_B
from planner.results.calibration import calibration
from planner.results.charts import add_charts
from planner.results.check import Violation
from planner.results.tables import PLAN_COLUMNS, Plan


class SolveFacts(Protocol):
    """What the Summary reads of a solve (``planner.solving.status.SolveResult``)."""

    @property
    def status(self) -> str: ...
    @property
    def words(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def gap(self) -> float | None: ...
    @property
    def seconds(self) -> float: ...


class PlanResult(Protocol):
    """What a plan workbook is written from (``planner.solving.pipeline.PlanResult``):
    the results layer reads a solve's outcome without depending on the solving layer."""

    @property
    def data(self) -> PlanningData: ...
    @property
    def result(self) -> SolveFacts: ...
    @property
    def plan(self) -> Plan | None: ...
    @property
    def violations(self) -> Sequence[Violation]: ...
    @property
    def model_size(self) -> Mapping[str, int]: ...
    @property
    def coefficient_range(self) -> tuple[float, float]: ...
    @property
    def extra_sheets(self) -> Mapping[str, pd.DataFrame]: ...


SUMMARY_COLUMNS = ["item", "value", "unit"]
PACKAGES = ("ai-compute-planner", "pyomo", "highspy", "openpyxl", "pandas", "pydantic")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


HEADLINE_COST = "Total cost (discounted)"


def headline_rows(result: PlanResult) -> list[tuple[Any, ...]]:
    """The story first: status in words, total cost, where and what is built, the peak
    power, and the limits that decide the plan in words."""
    res, plan = result.result, result.plan
    s = plan.summary if plan else {}
    rows: list[tuple[Any, ...]] = [
        ("Plan", res.words, res.message if res.status != "optimal" else ""),
        (HEADLINE_COST, s.get("objective_usd"), "USD, discounted to start_year"),
    ]
    if plan is not None:
        sites = plan["Sites"][plan["Sites"].it_capacity_mw > 0]
        gpus = plan["GPUs"].groupby("gpu_id").purchased.sum()
        rows += [
            ("Sites built", ", ".join(map(str, sites.site_id)) or "none", ""),
            ("Countries", ", ".join(sorted(set(map(str, sites.country)))) or "none", ""),
            ("GPUs bought", ", ".join(f"{g} {int(n):,}" for g, n in gpus.items() if n), ""),
            ("Peak facility power", s.get("peak_facility_mw"), "MW, all sites in one year"),
        ]
    limits = list(s.get("top_constraints") or [])[:3]
    for i, line in enumerate(limits, start=1):
        rows.append((f"Deciding limit {i}", line, ""))
    return [*rows, ("", None, ""), ("Details", None, "")]


def summary_rows(result: PlanResult) -> list[tuple[Any, ...]]:
    """Summary sheet rows: the headline block, then status, cost, gap, runs, fleet,
    provenance."""
    res, data, plan = result.result, result.data, result.plan
    s = plan.summary if plan else {}
    rows: list[tuple[Any, ...]] = [
        *headline_rows(result),
        ("status", res.status, ""),
        ("status_in_words", res.words, ""),
        ("message", res.message, ""),
        ("objective_usd", s.get("objective_usd"), "USD, discounted to start_year"),
        ("bound_usd", s.get("bound_usd"), "USD, best proven lower bound"),
        ("capex_usd", s.get("capex_usd"), "USD, undiscounted"),
        ("opex_usd", s.get("opex_usd"), "USD, undiscounted"),
        ("mip_gap", res.gap, "fraction"),
        ("solve_seconds", round(res.seconds, 3), "s"),
        ("total_gpus_purchased", s.get("total_gpus_purchased"), "GPUs"),
        ("peak_facility_mw", s.get("peak_facility_mw"), "MW, all sites in one year"),
        ("runs_cost_usd", s.get("runs_cost_usd"), "USD, GPU-hours runs use x amortised rates"),
        ("unused_cost_usd", s.get("unused_cost_usd"), "USD, horizon cost no run uses"),
        ("value_left_usd", s.get("value_left_usd"), "USD at end_year, capex still to pay"),
        ("co2_mt", s.get("co2_mt"), "Mt CO2 of the energy served, all years"),
        ("co2_t_per_1e24_flop", s.get("co2_t_per_1e24_flop"), "t CO2 per 1e24 FLOP delivered"),
        (
            "cost_per_h100e_hour_used_usd",
            s.get("cost_per_h100e_hour_used_usd"),
            "USD per H100-equivalent hour runs use",
        ),
        ("check_violations", len(result.violations), "independent re-check"),
        ("model_size", ", ".join(f"{k} {v:,}" for k, v in result.model_size.items()), ""),
        (
            "coefficient_range",
            "{:.3g} .. {:.3g}".format(*result.coefficient_range),
            "smallest and largest |matrix coefficient| HiGHS saw",
        ),
    ]
    if plan is not None:
        for _, r in plan["Runs"].iterrows():
            rows.append((f"run {r.run_id} flop_required", r.flop_required, "FLOP"))
            rows.append((f"run {r.run_id} flop_delivered", r.flop_delivered, "FLOP"))
            rows.append((f"run {r.run_id} cost_usd", r.cost_usd, "USD, GPU-hours x rates"))
            rows.append(
                (
                    f"run {r.run_id} cost_usd_per_1e24_flop",
                    r.cost_usd_per_1e24_flop,
                    "USD per 1e24 FLOP of its target",
                )
            )
    for extra_key in ("top_constraints",):
        for i, line in enumerate(s.get(extra_key, []) or [], start=1):
            rows.append((f"binding limit {i}", line, ""))
    rows.append(("input_file", data.source_name, ""))
    rows.append(("input_sha256", data.source_sha256, ""))
    for name, version in package_versions().items():
        rows.append((f"version {name}", version, ""))
    return rows


def write_plan(result: PlanResult, out: Path, *, inputs: Path | None = None) -> Path:
    """The plan workbook: Summary, one sheet per table, Inputs, charts; atomic save
    (write-only: rows stream to disk)."""
    wb = new_workbook(write_only=True)
    write_table(
        wb.create_sheet("Summary"),
        SUMMARY_COLUMNS,
        summary_rows(result),
        formats={HEADLINE_COST: MONEY_B},
    )
    plan = result.plan
    if plan is not None:
        for sheet, columns in PLAN_COLUMNS.items():
            df = plan.tables[sheet]
            extra = [c for c in df.columns if c not in columns]
            write_table(wb.create_sheet(sheet), columns + extra, _records(df, columns + extra))
        cal = calibration(result.data, plan)
        write_table(
            wb.create_sheet("Calibration"), list(cal.columns), _records(cal, list(cal.columns))
        )
        add_charts(wb, plan)
    for name, df in result.extra_sheets.items():
        write_table(wb.create_sheet(name), list(df.columns), _records(df, list(df.columns)))
    st = result.data.settings
    write_table(
        wb.create_sheet("Inputs"), ["key", "value"], [(k, v) for k, v in st.model_dump().items()]
    )
    return save_atomic(wb, out, inputs=[inputs] if inputs else [])


def _records(df: pd.DataFrame, columns: list[str]) -> list[list[Any]]:
    out = []
    for row in df[columns].itertuples(index=False, name=None):
        out.append([None if (isinstance(v, float) and v != v) else v for v in row])
    return out


def read_plan(path: Path | str) -> Plan:
    """Read an exported (possibly hand-edited) plan workbook back into tables."""
    from planner.inputs.reader import check_file

    path = Path(path)
    check_file(path)
    sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl")
    tables = {}
    for sheet, columns in PLAN_COLUMNS.items():
        df = sheets.get(sheet, pd.DataFrame(columns=columns))
        for c in columns:
            if c not in df.columns:
                df[c] = None
        tables[sheet] = df
    summary: dict[str, Any] = {}
    if "Summary" in sheets:
        for _, r in sheets["Summary"].iterrows():
            summary[str(r["item"])] = r["value"]
    if "objective_usd" in summary:
        try:
            summary["objective_usd"] = float(summary["objective_usd"])
        except (TypeError, ValueError):
            summary["objective_usd"] = None
    return Plan(tables=tables, summary=summary)
