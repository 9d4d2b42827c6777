"""Pictures of a plan: native Excel charts and PNG files (matplotlib, Agg backend).

* cost by category per year (stacked columns), facility MW by site per year (lines),
* facility MW by power source per year (stacked columns),
* GPU fleet (installed) by type per year (stacked columns),
* cost waterfall: discounted cost by category, adding up to the total,
* PNG only: sites by latitude/longitude, sized by IT capacity, with built links drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.workbook import Workbook
from openpyxl.worksheet.pagebreak import Break

from planner.inputs.data import PlanningData
from planner.inputs.excel import print_setup
from planner.results.tables import Plan

DATA_SHEET = "ChartData"
CHART_SHEET = "Charts"
# One chart per landscape page (A4 or Letter): 12 cm is about 23 default rows, and a
# page break after every CHART_ROWS rows keeps each chart whole on its page.
CHART_ROWS = 26
CHART_WIDTH_CM, CHART_HEIGHT_CM = 23.0, 12.0
AXIS_NUMBERS = "#,##0"

# Cost categories (``models.costs.COST_CATEGORIES``) as a reader says them.
CATEGORY_WORDS = {
    "site_capex": "Site shell and fit-out (capex)",
    "site_om": "Site O&M",
    "power_capex": "Power generation (capex)",
    "power_om": "Power O&M",
    "energy": "Energy",
    "transformer_capex": "Transformers (capex)",
    "gpu_capex": "GPUs (capex)",
    "fiber_capex": "Fiber links (capex)",
    "fiber_om": "Fiber O&M",
    "total": "Total",
}
# Words inside workbook ids (power sources such as ``nuclear_ppa``) written out.
ID_WORDS = {
    "ppa": "PPA",
    "ccgt": "CCGT",
    "om": "O&M",
    "gpu": "GPU",
    "recip": "reciprocating",
    "smr": "SMR",
    "pv": "PV",
    "lng": "LNG",
}


def words(name: object) -> str:
    """A category or source id as words: ``gpu_capex`` -> "GPUs (capex)",
    ``nuclear_ppa`` -> "nuclear PPA"; an id with no underscore is kept as it is."""
    text = str(name)
    if text in CATEGORY_WORDS:
        return CATEGORY_WORDS[text]
    return " ".join(ID_WORDS.get(w.lower(), w) for w in text.split("_") if w)


def by_year(plan: Plan, sheet: str, column: str, values: str, scale: float = 1.0) -> pd.DataFrame:
    """A plan table summed per year (rows) and ``column`` (series, all-zero ones dropped)."""
    df = plan[sheet]
    if not len(df):
        return pd.DataFrame()
    # Float first: a 0.0 fill in an integer column (GPU counts) is deprecated in pandas.
    table = df.astype({values: float})
    pivot = (
        table.pivot_table(
            index="year", columns=column, values=values, aggfunc="sum", fill_value=0.0
        )
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
    """Append a table: a header row (series in words), then one row per index value."""
    ws.append([index_name] + [words(name) for name in pivot.columns])
    for key, values in pivot.iterrows():
        label = int(key) if isinstance(key, int | float) else words(key)
        ws.append([label] + [float(v) for v in values])


def cost_by_year(plan: Plan) -> pd.DataFrame:
    return by_year(plan, "Costs", "category", "nominal_usd", scale=1e-6)


def mw_by_site(plan: Plan) -> pd.DataFrame:
    return by_year(plan, "SiteYears", "site_id", "facility_mw")


@dataclass(frozen=True)
class ChartSpec:
    """One native chart: its title, numbers, axis titles (words and units) and kind."""

    title: str
    table: pd.DataFrame
    y_title: str
    x_title: str
    kind: str  # "stacked", "line" or "waterfall"


def chart_specs(plan: Plan) -> list[ChartSpec]:
    return [
        ChartSpec(
            "Cost by category per year (nominal)",
            cost_by_year(plan),
            "Cost (M USD, nominal)",
            "Year",
            "stacked",
        ),
        ChartSpec(
            "Facility power by site per year",
            mw_by_site(plan),
            "Facility power (MW)",
            "Year",
            "line",
        ),
        ChartSpec(
            "Facility power served by source per year",
            mw_by_source(plan),
            "Power served (MW)",
            "Year",
            "stacked",
        ),
        ChartSpec(
            "GPU fleet (installed) by type per year",
            gpu_fleet(plan),
            "GPUs installed",
            "Year",
            "stacked",
        ),
        ChartSpec(
            "Discounted cost by category, adding up to the total",
            cost_waterfall(plan),
            "Discounted cost (M USD)",
            "Cost category",
            "waterfall",
        ),
    ]


def style_axes(chart: Any, x_title: str, y_title: str) -> None:
    """Axis titles in words with units, separators on the value axis, both axes drawn
    (openpyxl 3.1 writes them as deleted unless told otherwise)."""
    chart.x_axis.title = x_title
    chart.y_axis.title = y_title
    chart.y_axis.number_format = AXIS_NUMBERS
    chart.y_axis.numFmt.sourceLinked = False
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def straight_lines(chart: Any) -> None:
    """Lines through the points, never smoothed (LibreOffice smooths an unset series),
    with a marker on every point."""
    for series in chart.series:
        series.smooth = False
        series.marker.symbol = "circle"
        series.marker.size = 6


def _native_chart(ws: Any, spec: ChartSpec, first: int, last: int) -> BarChart | LineChart:
    """The chart of ``spec`` over rows ``first`` (header) to ``last`` of ``ws``."""
    chart: BarChart | LineChart = LineChart() if spec.kind == "line" else BarChart()
    if isinstance(chart, BarChart):
        chart.type = "col"
        chart.grouping = "stacked"
        chart.overlap = 100
    chart.title = spec.title
    data = Reference(ws, min_col=2, max_col=1 + spec.table.shape[1], min_row=first, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=last))
    style_axes(chart, spec.x_title, spec.y_title)
    if isinstance(chart, LineChart):
        straight_lines(chart)
    if spec.kind == "waterfall":  # the base series is invisible
        base = chart.series[0]
        base.graphicalProperties.noFill = True
        base.graphicalProperties.line.noFill = True
        chart.legend = None
    chart.width, chart.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
    return chart


def add_charts(wb: Workbook, plan: Plan) -> None:
    """Every native chart of the plan on a ``Charts`` sheet (second in the workbook), one
    per printed page; their numbers on a hidden ``ChartData`` sheet, one block per chart
    (money in M USD, as the axis titles say)."""
    ws = wb.create_sheet(DATA_SHEET)
    ws.sheet_state = "hidden"  # the charts' numbers, not a plan table
    print_setup(ws, title_row=False)  # should someone unhide and print it
    charts = wb.create_sheet(CHART_SHEET, index=1)
    print_setup(charts, title_row=False)
    top, next_row = 1, 1
    for spec in chart_specs(plan):
        if spec.table.empty or spec.table.shape[1] == 0:
            continue
        if next_row > 1:
            ws.append([])  # a blank row between tables
            next_row += 1
        first, last = next_row, next_row + len(spec.table)
        _write_block(ws, spec.table, spec.x_title.lower())
        next_row = last + 1
        charts.add_chart(_native_chart(ws, spec, first, last), f"A{top}")
        charts.row_breaks.append(Break(id=top + CHART_ROWS - 1))
        top += CHART_ROWS


def write_pngs(
    plan: Plan, data: PlanningData, out_dir: Path | str, stem: str = "plan"
) -> list[Path]:
    """Write the charts (and a map of sites and built links) as PNG files; their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures = {
        "mw-by-source": _stacked_png(
            mw_by_source(plan),
            "Facility power served by source",
            "Power served (MW)",
            "Power source",
        ),
        "gpu-fleet": _stacked_png(
            gpu_fleet(plan), "GPU fleet (installed) by type", "GPUs installed", "GPU type"
        ),
        "cost-waterfall": _waterfall_png(cost_waterfall(plan)),
        "sites-map": site_map(plan, data),
    }
    written: list[Path] = []
    for name, fig in figures.items():
        path = out / f"{stem}-{name}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def _separators(ax: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def _stacked_png(pivot: pd.DataFrame, title: str, y_title: str, legend: str) -> Any:
    """Stacked columns per year, series in words, a separated value axis."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5))
    if not pivot.empty:
        pivot.rename(columns=words).plot(kind="bar", stacked=True, ax=ax, rot=0)
        ax.legend(title=legend)
    ax.set_title(title)
    ax.set_ylabel(y_title)
    ax.set_xlabel("Year")
    _separators(ax)
    return fig


def _waterfall_png(wf: pd.DataFrame) -> Any:
    """Discounted cost by category (M USD), each bar starting where the last ended."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5))
    colors = ["tab:gray" if c == "total" else "tab:blue" for c in wf.index]
    ax.bar([words(c) for c in wf.index], wf["value"], bottom=wf["base"], color=colors)
    ax.set_title("Discounted cost by category, adding up to the total")
    ax.set_ylabel("Discounted cost (M USD)")
    _separators(ax)
    ax.tick_params(axis="x", rotation=30)
    plt.setp(ax.get_xticklabels(), ha="right")
    return fig


def site_map(plan: Plan, data: PlanningData) -> Any:
    """Sites by longitude and latitude, built ones green and sized by IT MW, built fiber
    links in orange; the title says how many links were built."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 6))
    where = {s.site_id: (s.longitude, s.latitude) for s in data.sites}
    site_rows: list[Any] = list(plan["Sites"].itertuples())
    built = {
        str(r.site_id): float(r.it_capacity_mw or 0.0)
        for r in site_rows
        if r.built_year is not None and not pd.isna(r.built_year)
    }
    links = 0
    for r in plan["Fiber"].itertuples():
        a, b = where.get(str(r.site_a)), where.get(str(r.site_b))
        if a and b:
            ax.plot([a[0], b[0]], [a[1], b[1]], color="tab:orange", lw=2, zorder=1)
            links += 1
    labels = []
    for s, (lon, lat) in where.items():
        mw = built.get(s)
        area = 30 + (mw or 0.0) ** 0.5 * 20  # points squared
        ax.scatter(
            [lon],
            [lat],
            s=area,
            color="tab:green" if mw else "lightgray",
            edgecolor="black",
            zorder=2,
        )
        labels.append((f"{s}" + (f"\n{mw:,.0f} MW" if mw else ""), lon, lat, area**0.5 / 2))
    ax.set_xlabel("Longitude (degrees)")
    ax.set_ylabel("Latitude (degrees)")
    built_links = f"{links} fiber link{'s' if links != 1 else ''} built (orange)"
    ax.set_title(
        f"Sites: {len(built)} of {len(where)} built (green, sized by IT MW); "
        + (built_links if links else "no fiber links built")
    )
    ax.grid(True, alpha=0.3)
    ax.margins(0.12)
    place_labels(fig, ax, labels)
    return fig


# Label directions tried around a point: right, left, then the four diagonals.
LABEL_SIDES = ((1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))


def place_labels(fig: Any, ax: Any, labels: list[tuple[str, float, float, float]]) -> None:
    """Annotate each point where its label overlaps no point and no label placed before
    it (the first offset that is free, else the least crowded)."""
    from matplotlib.transforms import Bbox

    renderer = fig.canvas.get_renderer()
    placed: list[Any] = []
    pixels = fig.dpi / 72.0
    for _text, x, y, radius in labels:  # the points themselves are taken
        px, py = ax.transData.transform((x, y))
        r = radius * pixels
        placed.append(Bbox.from_extents(px - r, py - r, px + r, py + r))
    for text, x, y, radius in labels:
        best: tuple[float, Any] | None = None
        for sx, sy in LABEL_SIDES:
            ann = ax.annotate(
                text,
                (x, y),
                fontsize=8,
                xytext=(sx * (radius + 3), sy * (radius + 3)),
                textcoords="offset points",
                ha="left" if sx > 0 else "right",
                va={0: "center", 1: "bottom", -1: "top"}[sy],
            )
            box = ann.get_window_extent(renderer).expanded(1.05, 1.1)
            crowding = sum(_overlap(box, other) for other in placed)
            if best is None or crowding < best[0]:
                if best is not None:
                    best[1].remove()
                best = (crowding, ann)
            else:
                ann.remove()
            if crowding == 0:
                break
        assert best is not None
        placed.append(best[1].get_window_extent(renderer))


def _overlap(a: Any, b: Any) -> float:
    """Area two display boxes share (0 when apart)."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(0.0, w) * max(0.0, h)
