"""Pictures of a plan: native Excel charts and PNG files (matplotlib, Agg backend).

* cost by category per year (stacked columns), facility MW by site per year (lines),
* facility MW by power source per year (stacked columns),
* GPU fleet (installed) by type per year (stacked columns),
* cost waterfall: discounted cost by category, adding up to the total,
* PNG only: sites by latitude/longitude, sized by IT capacity, with built links drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.workbook import Workbook

from planner.inputs.data import PlanningData
from planner.results.tables import Plan

DATA_SHEET = "ChartData"
CHART_SHEET = "Charts"


def by_year(plan: Plan, sheet: str, column: str, values: str, scale: float = 1.0) -> pd.DataFrame:
    """A plan table summed per year (rows) and ``column`` (series, all-zero ones dropped)."""
    df = plan[sheet]
    if not len(df):
        return pd.DataFrame()
    pivot = (
        df.pivot_table(index="year", columns=column, values=values, aggfunc="sum", fill_value=0.0)
        * scale
    )
    return pivot.loc[:, (pivot.abs() > 1e-6).any()]


def mw_by_source(plan: Plan) -> pd.DataFrame:
    return by_year(plan, "Power", "source_id", "mw_served")


def gpu_fleet(plan: Plan) -> pd.DataFrame:
    return by_year(plan, "GPUs", "gpu_id", "installed")


def cost_waterfall(plan: Plan) -> pd.DataFrame:
    """Rows per category plus ``total``: ``base`` (invisible) and ``value`` in M USD."""
    costs = plan["Costs"]
    by_cat = (
        costs.groupby("category").discounted_usd.sum() / 1e6
        if len(costs)
        else pd.Series(dtype=float)
    )
    by_cat = by_cat[by_cat.abs() > 1e-9].sort_values(ascending=False)
    rows, running = [], 0.0
    for cat, v in by_cat.items():
        rows.append((str(cat), running, float(v)))
        running += float(v)
    rows.append(("total", 0.0, running))
    return pd.DataFrame(rows, columns=["category", "base", "value"]).set_index("category")


def _write_block(ws: Any, pivot: pd.DataFrame, index_name: str) -> None:
    """Append a table: a header row, then one row per index value."""
    ws.append([index_name] + [str(name) for name in pivot.columns])
    for key, values in pivot.iterrows():
        ws.append(
            [int(key) if isinstance(key, int | float) else str(key)] + [float(v) for v in values]
        )


def cost_by_year(plan: Plan) -> pd.DataFrame:
    return by_year(plan, "Costs", "category", "nominal_usd", scale=1e-6)


def mw_by_site(plan: Plan) -> pd.DataFrame:
    return by_year(plan, "SiteYears", "site_id", "facility_mw")


def add_charts(wb: Workbook, plan: Plan) -> None:
    """Every native chart of the plan on a ``Charts`` sheet (second in the workbook),
    their numbers on a ``ChartData`` sheet."""
    ws = wb.create_sheet(DATA_SHEET)
    charts = wb.create_sheet(CHART_SHEET, index=1)
    top = 1
    blocks = (
        (
            "Cost by category per year (M USD, nominal)",
            cost_by_year(plan),
            "M USD",
            "year",
            "stacked",
        ),
        ("Facility MW by site per year", mw_by_site(plan), "MW", "year", "line"),
        ("Facility MW served by source per year", mw_by_source(plan), "MW", "year", "stacked"),
        ("GPU fleet (installed) by type per year", gpu_fleet(plan), "GPUs", "year", "stacked"),
        (
            "Cost waterfall by category (M USD, discounted)",
            cost_waterfall(plan),
            "M USD",
            "category",
            "waterfall",
        ),
    )
    next_row = 1
    for title, pivot, y_title, index_name, kind in blocks:
        if pivot.empty or pivot.shape[1] == 0:
            continue
        if next_row > 1:
            ws.append([])  # a blank row between tables
            next_row += 1
        first, last = next_row, next_row + len(pivot)
        _write_block(ws, pivot, index_name)
        next_row = last + 1
        chart: BarChart | LineChart = LineChart() if kind == "line" else BarChart()
        if isinstance(chart, BarChart):
            chart.type = "col"
            chart.grouping = "stacked"
            chart.overlap = 100
        chart.title = title
        chart.y_axis.title = y_title
        chart.x_axis.title = index_name
        data = Reference(ws, min_col=2, max_col=1 + pivot.shape[1], min_row=first, max_row=last)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=last))
        if kind == "waterfall":  # the base series is invisible
            base = chart.series[0]
            base.graphicalProperties.noFill = True
            base.graphicalProperties.line.noFill = True
            chart.legend = None
        chart.width, chart.height = 24, 12
        charts.add_chart(chart, f"A{top}")
        top += 26


def write_pngs(
    plan: Plan, data: PlanningData, out_dir: Path | str, stem: str = "plan"
) -> list[Path]:
    """Write the charts (and a map of sites and built links) as PNG files; their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        path = out / f"{stem}-{name}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    for name, pivot, title, ylabel in (
        ("mw-by-source", mw_by_source(plan), "Facility MW served by source", "MW"),
        ("gpu-fleet", gpu_fleet(plan), "GPU fleet (installed) by type", "GPUs"),
    ):
        fig, ax = plt.subplots(figsize=(9, 5))
        if not pivot.empty:
            pivot.plot(kind="bar", stacked=True, ax=ax)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("year")
        save(fig, name)

    wf = cost_waterfall(plan)
    fig, ax = plt.subplots(figsize=(9, 5))
    colors = ["tab:gray" if c == "total" else "tab:blue" for c in wf.index]
    ax.bar(list(wf.index), wf["value"], bottom=wf["base"], color=colors)
    ax.set_title("Cost waterfall (M USD, discounted)")
    ax.set_ylabel("M USD")
    ax.tick_params(axis="x", rotation=45)
    save(fig, "cost-waterfall")

    fig, ax = plt.subplots(figsize=(9, 6))
    where = {s.site_id: (s.longitude, s.latitude) for s in data.sites}
    site_rows: list[Any] = list(plan["Sites"].itertuples())
    built = {
        str(r.site_id): float(r.it_capacity_mw or 0.0)
        for r in site_rows
        if r.built_year is not None and not pd.isna(r.built_year)
    }
    for r in plan["Fiber"].itertuples():
        a, b = where.get(str(r.site_a)), where.get(str(r.site_b))
        if a and b:
            ax.plot([a[0], b[0]], [a[1], b[1]], color="tab:orange", lw=2, zorder=1)
    for s, (lon, lat) in where.items():
        mw = built.get(s)
        ax.scatter(
            [lon],
            [lat],
            s=30 + (mw or 0.0) ** 0.5 * 20,
            color="tab:green" if mw else "lightgray",
            edgecolor="black",
            zorder=2,
        )
        ax.annotate(
            f"{s}" + (f"\n{mw:,.0f} MW" if mw else ""),
            (lon, lat),
            fontsize=8,
            xytext=(4, 4),
            textcoords="offset points",
        )
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title("Sites (built in green, sized by IT MW) and built fiber links")
    ax.grid(True, alpha=0.3)
    save(fig, "sites-map")
    return written
