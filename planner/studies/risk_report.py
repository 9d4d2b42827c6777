"""The risk workbook: ``Risk`` (the summary a board reads), ``Charts`` (cost distribution,
the odds per run with their 95 % intervals, cost effect per uncertainty), ``Runs``,
``Uncertainties`` (ranked by effect on cost), ``Binding`` (which uncertainty binds which
run in the samples that fall short), ``Samples`` (one row per sample: every draw and its
outcome), ``Uncertainty`` (the sheet as read) and ``About``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.inputs.formats import COUNT, MONEY_B, PCT_POINTS, PERCENT, YEAR, Shown
from planner.studies.risk import RiskResult
from planner.studies.risk_tables import (
    binding_rows,
    cost_stats,
    costs,
    run_rows,
    sample_rows,
    uncertainty_rows,
)
from planner.studies.scenarios import effective_hash
from planner.studies.uncertainty import show
from planner.studies.uncertainty import uncertainty_rows as sheet_rows

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

SUMMARY_COLUMNS = ["measure", "value", "ci95_low", "ci95_high", "samples", "reading"]
RUN_COLUMNS = [
    "run_id",
    "ready_year",
    "flop",
    "samples",
    "met",
    "short",
    "p_meet_fraction",
    "ci95_low_fraction",
    "ci95_high_fraction",
    "flop_reachable_p10",
    "flop_reachable_p50",
    "flop_reachable_short_p50",
    "reading",
]
HISTOGRAM_BINS = 12
CHART_DATA = "ChartData"


class Measures:
    """Rows of the ``Risk`` sheet and the number format of each."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self.formats: dict[str, Shown] = {"samples": COUNT}

    def add(
        self,
        measure: str,
        value: Any,
        fmt: Shown,
        reading: str = "",
        *,
        low: float | None = None,
        high: float | None = None,
        samples: int | None = None,
    ) -> None:
        self.rows.append([measure, value, low, high, samples, reading])
        self.formats[measure] = fmt


def summary_rows(risk: RiskResult) -> tuple[list[list[Any]], dict[str, Shown]]:
    """The ``Risk`` sheet: one measure per row, and each row's number format."""
    m = Measures()
    runs = run_rows(risk)
    for r in runs:
        label = f"P({r['run_id']} by {r['ready_year']})" if r["ready_year"] else "P(every run)"
        low, high = r["ci95_low_fraction"], r["ci95_high_fraction"]
        m.add(
            label,
            r["p_meet_fraction"],
            PERCENT,
            r["reading"],
            low=low,
            high=high,
            samples=r["samples"],
        )
    c = cost_stats(risk)
    n = c["samples"]
    note = f"discounted; over the {n} samples whose recourse plan meets every run"
    for q, label in (("p10", "P10"), ("p50", "P50"), ("p90", "P90"), ("mean", "mean")):
        m.add(f"cost {label}", c[f"{q}_usd"], MONEY_B, note, samples=n)
    m.add(
        "cost, base inputs",
        c["base_usd"],
        MONEY_B,
        "the committed plan's recourse with no draw (the plan's own cost when it is optimal)",
        samples=1,
    )
    m.add(
        "cost P90 over base",
        c["p90_over_base_pct"],
        PCT_POINTS,
        "P90 less the cost at base inputs, as a share of it",
        samples=n,
    )
    _headline_uncertainties(risk, m)
    st = risk.settings
    m.add("samples", st["samples"], COUNT, f"seed {st['seed']}")
    m.add(
        "samples without an answer",
        st["samples"] - runs[-1]["samples"],
        COUNT,
        "crashed, or no plan and no reach found in time (left out of the odds)",
    )
    m.add(
        "commit year",
        st["commit_year"],
        YEAR,
        f"decisions of the years before it are fixed as in the {st['plan']}",
    )
    m.add(
        "committed decisions",
        st["committed_decisions"],
        COUNT,
        "builds and purchases before the commit year (every other decision then is 0)",
    )
    return m.rows, m.formats


def _headline_uncertainties(risk: RiskResult, m: Measures) -> None:
    ranked = uncertainty_rows(risk)
    if ranked and ranked[0]["cost_correlation"] is not None:
        top = ranked[0]
        m.add(
            "largest cost effect",
            top["uncertainty"],
            COUNT,
            f"rank correlation {top['cost_correlation']:+.2f} with the cost; mean cost "
            f"{_b(top['cost_high_half_usd'])} above its median draw vs "
            f"{_b(top['cost_low_half_usd'])} below",
        )
    binding = [b for b in binding_rows(risk) if b["binds_samples"]]
    if binding:
        top_b = max(binding, key=lambda b: (b["binds_pct"] or 0.0, b["binds_samples"]))
        m.add("most binding", top_b["uncertainty"], COUNT, top_b["reading"])


def _b(usd: float | None) -> str:
    return "-" if usd is None else f"{usd / 1e9:,.2f} B USD"


def write_risk(risk: RiskResult, out: Path, *, inputs: Path | None = None) -> Path:
    """Write the risk workbook atomically; returns where it went."""
    from planner.inputs.excel import new_workbook, save_atomic, write_table

    wb = new_workbook()
    rows, formats = summary_rows(risk)
    write_table(wb.create_sheet("Risk"), SUMMARY_COLUMNS, rows, formats=formats)
    charts = wb.create_sheet("Charts")
    runs = run_rows(risk)
    write_table(
        wb.create_sheet("Runs"), RUN_COLUMNS, [[r.get(c) for c in RUN_COLUMNS] for r in runs]
    )
    ranked = uncertainty_rows(risk)
    _table(wb, "Uncertainties", ranked, first=["cost_rank", "uncertainty"])
    _table(wb, "Binding", binding_rows(risk))
    _table(wb, "Samples", sample_rows(risk))
    _input_sheet(wb, risk)
    _about(wb, risk)
    data_ws = wb.create_sheet(CHART_DATA)
    data_ws.sheet_state = "hidden"
    _charts(wb, charts, data_ws, risk, len(runs) - 1, ranked)
    return save_atomic(wb, out, inputs=[inputs] if inputs else [])


def _table(
    wb: Workbook, name: str, rows: list[dict[str, Any]], first: list[str] | None = None
) -> None:
    from planner.inputs.excel import write_table

    columns = list(first or [])
    for r in rows:
        columns += [c for c in r if c not in columns]
    write_table(wb.create_sheet(name), columns, [[r.get(c) for c in columns] for r in rows])


def _input_sheet(wb: Workbook, risk: RiskResult) -> None:
    from planner.inputs.excel import write_table
    from planner.inputs.schema import SHEET_BY_NAME

    columns = ["excel_row", *SHEET_BY_NAME["Uncertainty"].columns]
    rows = [[row, *(getattr(r, c) for c in columns[1:])] for row, r in sheet_rows(risk.data)]
    write_table(wb.create_sheet("Uncertainty"), columns, rows)


def _about(wb: Workbook, risk: RiskResult) -> None:
    from planner.inputs.excel import write_table

    about: list[tuple[str, Any]] = [
        ("input_file", risk.data.source_name),
        ("input_sha256", risk.data.source_sha256),
        ("base_effective_sha256", effective_hash(risk.data)),
        ("commitment_sha256", risk.commitment.digest()),
        ("base_status", risk.base.get("status")),
        ("base_objective_usd", risk.base.get("objective_usd")),
        *risk.settings.items(),
        ("solved_now", risk.solved),
        ("from_cache", risk.cache_hits),
        ("undo_solves", len(risk.undone)),
        ("risk_seconds", round(risk.seconds, 2)),
        ("draws", "sample i draws uncertainty u from numpy default_rng([seed, i, crc32(u)])"),
        ("short samples", "reach with committed orders delivered at most in full"),
    ]
    write_table(
        wb.create_sheet("About"), ["item", "value"], [(k, "" if v is None else v) for k, v in about]
    )


# ---------------------------------------------------------------- charts


def histogram(values: list[float], bins: int = HISTOGRAM_BINS) -> list[tuple[str, float, int]]:
    """Equal-width bins of the costs: (label in B USD, bin middle, count)."""
    if not values:
        return []
    low, high = min(values), max(values)
    n = max(1, min(bins, int(math.ceil(math.sqrt(len(values))))))
    width = (high - low) / n if high > low else 1.0
    counts = [0] * n
    for v in values:
        counts[min(n - 1, int((v - low) / width))] += 1
    out = []
    for i, k in enumerate(counts):
        a, b = low + i * width, low + (i + 1) * width
        out.append((f"{a / 1e9:,.2f}-{b / 1e9:,.2f}", (a + b) / 2, k))
    return out


def _charts(
    wb: Workbook, ws: Any, data_ws: Any, risk: RiskResult, n_runs: int, ranked: list[dict[str, Any]]
) -> None:
    """The three charts, one per printed page; their numbers in blocks on the hidden
    ``ChartData`` sheet (the cost histogram, the odds with their interval, the swings)."""
    from openpyxl.worksheet.pagebreak import Break

    from planner.inputs.excel import print_setup
    from planner.results.charts import CHART_ROWS

    print_setup(ws, title_row=False)
    print_setup(data_ws, title_row=False)
    bins = histogram(costs(risk))
    blocks = [
        (["cost (B USD)", "samples"], [[label, k] for label, _, k in bins]),
        (
            ["run", "probability", "minus", "plus"],
            [[r["run_id"], r["p_meet_fraction"] or 0.0, *_interval(r)] for r in run_rows(risk)],
        ),
        (
            ["uncertainty", "cost swing (M USD)"],
            [[r["uncertainty"], (r["cost_swing_usd"] or 0.0) / 1e6] for r in ranked],
        ),
    ]
    starts: list[int] = []
    row_no = 1
    for header, rows in blocks:
        starts.append(row_no)
        for j, line in enumerate([header, *rows]):
            for k, value in enumerate(line, start=1):
                data_ws.cell(row=row_no + j, column=k, value=value)
        row_no += len(rows) + 2  # a blank row between blocks
    top = 1
    for chart in (
        _cost_chart(data_ws, starts[0], len(bins), risk),
        _odds_chart(data_ws, starts[1], n_runs + 1),
        _swing_chart(data_ws, starts[2], len(ranked)),
    ):
        if chart is None:
            continue
        ws.add_chart(chart, f"A{top}")
        ws.row_breaks.append(Break(id=top + CHART_ROWS - 1))
        top += CHART_ROWS


def _interval(r: dict[str, Any]) -> list[float]:
    p, low, high = r["p_meet_fraction"], r["ci95_low_fraction"], r["ci95_high_fraction"]
    if p is None or low is None or high is None:
        return [0.0, 0.0]
    return [p - low, high - p]


def _bar(title: str, x_title: str, y_title: str) -> Any:
    from openpyxl.chart import BarChart

    from planner.results.charts import CHART_HEIGHT_CM, CHART_WIDTH_CM, style_axes

    chart = BarChart()
    chart.type = "col"
    chart.title = title
    style_axes(chart, x_title, y_title)
    chart.width, chart.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
    chart.legend = None
    return chart


def _cost_chart(ws: Any, first: int, n: int, risk: RiskResult) -> Any:
    from openpyxl.chart import Reference

    if n == 0:
        return None
    c = cost_stats(risk)
    chart = _bar(
        f"Discounted cost over the {c['samples']} samples that meet every run "
        f"(P10 {_b(c['p10_usd'])}, P50 {_b(c['p50_usd'])}, P90 {_b(c['p90_usd'])})",
        "Discounted cost (B USD)",
        "Samples",
    )
    chart.gapWidth = 10
    chart.add_data(
        Reference(ws, min_col=2, min_row=first, max_row=first + n), titles_from_data=True
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=first + n))
    return chart


def _odds_chart(ws: Any, first: int, n: int) -> Any:
    """P(meet) per run (and every run), with its 95 % interval as error bars."""
    from openpyxl.chart import Reference
    from openpyxl.chart.data_source import NumDataSource, NumRef
    from openpyxl.chart.error_bar import ErrorBars

    chart = _bar("Probability of meeting the target by the ready year", "Run", "Probability")
    chart.add_data(
        Reference(ws, min_col=2, min_row=first, max_row=first + n), titles_from_data=True
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=first + n))
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0.0, 1.0
    chart.y_axis.number_format = "0%"

    def ref(column: str) -> NumDataSource:
        f = f"'{ws.title}'!${column}${first + 1}:${column}${first + n}"
        return NumDataSource(numRef=NumRef(f=f))

    chart.series[0].errBars = ErrorBars(
        errDir="y",
        errBarType="both",
        errValType="cust",
        noEndCap=False,
        minus=ref("C"),
        plus=ref("D"),
    )
    return chart


def _swing_chart(ws: Any, first: int, n: int) -> Any:
    from openpyxl.chart import Reference

    if n == 0:
        return None
    chart = _bar(
        "Effect on cost: mean cost above the median draw less below it",
        "Uncertainty (ranked by rank correlation with cost)",
        "Cost swing (M USD, discounted)",
    )
    chart.type = "bar"
    chart.x_axis.scaling.orientation = "maxMin"  # the top-ranked first
    chart.x_axis.tickLblPos = "low"  # names clear of the bars that go left
    chart.add_data(
        Reference(ws, min_col=2, min_row=first, max_row=first + n), titles_from_data=True
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=first + n))
    return chart


__all__ = ["histogram", "show", "summary_rows", "write_risk"]
