"""Workbooks a reviewer can read: number formats by unit, straight charts, page setup,
and (slow) every workbook the planner writes rendered by a real client, LibreOffice Calc,
to PDF and read back as text."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import factory
import openpyxl
import pytest
from hardening_helpers import REFERENCE, reference_plan, run_cli

from planner import api
from planner.inputs import formats as fm
from planner.inputs.excel import new_workbook, save_atomic, write_table
from planner.inputs.schema import ScenarioRow, SweepRow
from planner.inputs.template import write_template
from planner.results.charts import site_map
from planner.results.export import read_plan
from planner.results.tables import Plan
from planner.studies.study import run_study, write_study

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
ROW_EMU = 15 * 12700  # one default row (15 pt) in EMU


# ---------------------------------------------------------------- the rule table


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("capex_usd", fm.MONEY_M),
        ("value_left_usd", fm.MONEY_M),  # a column nobody has written yet
        ("run_cost_usd", fm.MONEY_M),
        ("cost_usd_per_1e24_flop", fm.PRICE),
        ("om_usd_per_mw_year", fm.PRICE),  # a price per year, not a year
        ("flop_delivered", fm.FLOP),
        ("flop_delivered_frontier-2029", fm.FLOP),
        ("start_year", fm.YEAR),
        ("built_year", fm.YEAR),
        ("lead_years", fm.COUNT),
        ("delta_pct", fm.PCT_POINTS),
        ("mip_gap", fm.GAP),
        ("gap", fm.GAP),
        ("avg_power_fraction", fm.PERCENT),
        ("gpus_B200", fm.COUNT),
        ("units_added", fm.COUNT),
        ("co2_t", fm.COUNT),
        ("co2_t_per_mwh", fm.INTENSITY),
        ("mw_nuclear_ppa", fm.MW),
        ("peak_facility_mw", fm.MW),
        ("transformer_mva", fm.MW),
        ("pue", fm.RATIO),
        ("ratio", fm.RATIO),
        ("run frontier-2027 flop_required", fm.FLOP),  # a Summary row: its last word
    ],
)
def test_a_column_takes_its_format_from_its_name(name: str, shown: fm.Shown) -> None:
    assert fm.for_name(name) is shown


def test_formats_show_the_unit_the_value_is_in() -> None:
    assert fm.MONEY_M.text(33_625_744_793.0) == "33,625.7 M"
    assert fm.MONEY_M.code == '#,##0.0,," M"'  # two commas: shown in millions
    assert fm.FLOP.text(1.00000090944e28) == "1.00E+28"
    assert fm.GAP.text(1.17e-6) == "0.0001%"  # a tiny gap is not shown as 0
    assert fm.PCT_POINTS.text(-85.232) == "-85.2%"  # delta_pct is already x100
    assert fm.billions(33_625_744_793.0) == "33.626 B USD"
    assert fm.priced_quantity("USD per 1e24 FLOP") == "FLOP"
    assert fm.resolve("multi_site", True) is fm.BOOL
    assert fm.as_bool("multi_site", 0) is False


def _sheet(columns: list[str], rows: list[list[Any]], tmp_path: Path) -> Any:
    wb = new_workbook(write_only=True)
    write_table(wb.create_sheet("T"), columns, rows)
    return openpyxl.load_workbook(save_atomic(wb, tmp_path / "t.xlsx"))["T"]


def test_row_valued_columns_take_the_rows_unit(tmp_path: Path) -> None:
    """Calibration and Constraints mix units in one column: each row says its own."""
    ws = _sheet(
        ["figure", "unit", "plan_value", "anchor_value", "ratio", "source", "flag"],
        [
            ["capex per MW", "USD", 1.1e7, 1.0e7, 1.1, "anchor", False],
            ["cluster compute", "FLOP", 1e27, 9e26, 1.11, "anchor", 1],
            ["gpu share", "fraction", 0.4, 0.5, 0.8, "anchor", 0],
        ],
        tmp_path,
    )
    assert [ws.cell(r, 3).number_format for r in (2, 3, 4)] == [
        fm.MONEY_M.code,
        fm.FLOP.code,
        fm.PERCENT.code,
    ]
    assert ws["E2"].number_format == fm.RATIO.code
    assert [ws.cell(r, 7).value for r in (2, 3, 4)] == [False, True, False]
    assert ws["G3"].data_type == "b"
    ws = _sheet(
        ["family", "limit_value", "used", "shadow_price", "unit"],
        [
            ["run_flop", 1e28, 1e28, 3.9e6, "USD per 1e24 FLOP"],
            ["mw", 500.0, 500, -2.6e6, "USD per MW"],
        ],
        tmp_path,
    )
    assert (ws["B2"].number_format, ws["B3"].number_format) == (fm.FLOP.code, fm.MW.code)
    assert ws["D2"].number_format == fm.PRICE.code


def test_a_headline_row_can_show_billions(tmp_path: Path) -> None:
    """Key/value tables format by the row's name; a headline row may ask for B USD."""
    wb = new_workbook(write_only=True)
    rows = [["total_cost_usd", 33.6e9, "USD"], ["capex_usd", 38.5e9, "USD"]]
    write_table(
        wb.create_sheet("T"),
        ["item", "value", "unit"],
        rows,
        formats={"total_cost_usd": fm.MONEY_B},
    )
    ws = openpyxl.load_workbook(save_atomic(wb, tmp_path / "t.xlsx"))["T"]
    assert (ws["B2"].number_format, ws["B3"].number_format) == (fm.MONEY_B.code, fm.MONEY_M.code)
    assert ws["B2"].value == 33.6e9  # the value stays in USD


# ---------------------------------------------------------------- a plan workbook


@pytest.fixture(scope="module")
def small_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-site plan with a fiber link (a multi-site run), written as the CLI does."""
    folder = tmp_path_factory.mktemp("small")
    # A Supply row that limits nothing: the written workbook then has every sheet.
    supply = [factory.supply(2026, "transformer_units", 1e4)]
    data = dataclasses.replace(factory.two_site_instance(), supply=supply)
    path = factory.write_workbook(data, folder / "in.xlsx")
    result = api.plan(api.load(path), time_limit_s=30.0, echo=lambda _line: None)
    assert result.plan is not None
    return api.export(result, folder / "plan.xlsx", inputs=path)


def _column(ws: Any, name: str) -> int:
    return [c.value for c in ws[1]].index(name) + 1


def _row(ws: Any, item: str) -> int:
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == item)


def test_plan_cells_keep_their_unit_and_show_it(small_plan: Path) -> None:
    wb = openpyxl.load_workbook(small_plan)
    costs = wb["Costs"]
    usd = costs.cell(2, _column(costs, "nominal_usd"))
    assert usd.number_format == fm.MONEY_M.code and usd.value > 1e6  # USD, shown as M
    width = costs.column_dimensions["C"].width
    assert width >= len(fm.MONEY_M.text(max(c.value for c in costs["C"][1:])))
    runs = wb["Runs"]
    assert runs.cell(2, _column(runs, "flop_delivered")).number_format == fm.FLOP.code
    multi = runs.cell(2, _column(runs, "multi_site"))
    assert isinstance(multi.value, bool) and multi.data_type == "b"
    assert multi.number_format == fm.BOOL.code
    summary = wb["Summary"]
    assert summary.cell(_row(summary, "objective_usd"), 2).number_format == fm.MONEY_M.code
    assert summary.cell(_row(summary, "mip_gap"), 2).number_format == fm.GAP.code
    inputs = wb["Inputs"]
    assert inputs.cell(_row(inputs, "start_year"), 2).number_format == fm.YEAR.code
    assert wb["SiteYears"]["B2"].number_format == fm.YEAR.code


def test_every_sheet_prints_landscape_one_page_wide(small_plan: Path) -> None:
    wb = openpyxl.load_workbook(small_plan)
    assert wb["ChartData"].sheet_state == "hidden"
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        if ws.title not in ("Charts", "ChartData"):
            assert ws.print_title_rows == "$1:$1", ws.title


def test_no_chart_straddles_a_page_break(small_plan: Path) -> None:
    ws = openpyxl.load_workbook(small_plan)["Charts"]
    breaks = [0] + sorted(b.id for b in ws.row_breaks.brk)
    assert len(ws._charts) == 5
    for chart in ws._charts:
        top = chart.anchor._from.row  # 0-based: the chart starts below row `top`
        bottom = top + chart.anchor.ext.height / ROW_EMU
        page = max(b for b in breaks if b <= top)
        after = [b for b in breaks if b > page]
        assert not after or bottom <= after[0], (top, bottom, breaks)


def chart_xml(path: Path) -> list[ElementTree.Element]:
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        return [ElementTree.fromstring(z.read(n)) for n in names]


def assert_straight_lines(path: Path) -> int:
    """Every line and scatter series says smooth off; returns how many there are."""
    count = 0
    for root in chart_xml(path):
        for kind in ("lineChart", "scatterChart"):
            for ser in root.iter(f"{C}{kind}"):
                for s in ser.iter(f"{C}ser"):
                    smooth = s.find(f"{C}smooth")
                    assert smooth is not None and smooth.get("val") == "0"
                    assert s.find(f"{C}marker") is not None
                    count += 1
    return count


def test_charts_draw_straight_lines_on_separated_axes_in_words(small_plan: Path) -> None:
    assert assert_straight_lines(small_plan) >= 2  # one line per site
    for root in chart_xml(small_plan):
        fmt = root.find(f".//{C}valAx/{C}numFmt")
        assert fmt is not None and fmt.get("formatCode") == "#,##0"
        for ax in (f"{C}valAx", f"{C}catAx"):
            for axis in root.iter(ax):
                assert axis.find(f"{C}delete").get("val") == "0"
                assert axis.find(f"{C}title") is not None
    series_names = {c.value for row in openpyxl.load_workbook(small_plan)["ChartData"] for c in row}
    assert "GPUs (capex)" in series_names and "gpu_capex" not in series_names


def test_written_inputs_show_years_plain_and_money_as_typed(tmp_path: Path) -> None:
    path = factory.write_workbook(factory.instance(), tmp_path / "in.xlsx")
    wb = openpyxl.load_workbook(path)
    settings = wb["Settings"]
    assert settings.cell(_row(settings, "start_year"), 2).number_format == fm.YEAR.code
    gpus = wb["GPUs"]
    assert gpus.cell(2, _column(gpus, "capex_usd")).number_format == fm.WHOLE_USD.code
    runs = wb["Runs"]
    assert runs.cell(2, _column(runs, "flop")).number_format == fm.FLOP.code
    assert runs.cell(2, _column(runs, "mfu")).number_format == fm.PERCENT.code


# ---------------------------------------------------------------- a real client


def _study_data() -> Any:
    """One GPU type, one run; a cheaper-GPU scenario and a log FLOP sweep whose last
    two steps no plan meets."""
    sweep = SweepRow.model_validate(
        dict(sweep="flop", sheet="Runs", row_id="R1", column="flop", to=1e29, steps=4)
        | {"from": 1e23, "scale": "log"}
    )
    cheap = ScenarioRow(
        scenario="cheap-g1", sheet="GPUs", row_id="G1", column="capex_usd", op="scale", value=0.5
    )
    return factory.instance(scenarios=[cheap], sweeps=[sweep])


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every kind of workbook the planner writes."""
    folder = tmp_path_factory.mktemp("render")
    infeasible = folder / "infeasible.xlsx"
    wb = openpyxl.load_workbook(REFERENCE)
    wb["Runs"]["C2"] = 1e30  # frontier-2027 beyond anything buildable
    wb.save(infeasible)
    ran = run_cli("plan", infeasible, "-o", folder / "infeasible-plan.xlsx", "-q", timeout=300)
    assert ran.returncode == 2, ran.output  # infeasible, diagnosed
    data = _study_data()
    study = run_study(data, workers=1, time_limit_s=30.0)
    statuses = dict(zip(study.table().scenario, study.table().status, strict=True))
    assert statuses["flop=1e+29"] == "infeasible" and statuses["flop=1e+23"] == "optimal"
    write_study(study, data, folder / "study.xlsx")
    out = {
        "reference": folder / "reference-plan.xlsx",
        "infeasible": folder / "infeasible-plan.xlsx",
        "study": folder / "study.xlsx",
        "scenario": folder / "study-plans" / "flop=1e+23.xlsx",
        "template": write_template(folder / "template.xlsx"),
        "risk": _risk_workbook(folder / "risk.xlsx"),
    }
    shutil.copyfile(reference_plan(), out["reference"])
    return out


def _risk_workbook(out: Path) -> Path:
    """A small ``planner risk`` workbook: a 50/50 supply cap and a GPU price."""
    from planner.inputs.schema import UncertaintyRow
    from planner.studies.risk import run_risk
    from planner.studies.risk_report import write_risk

    def u(name: str, sheet: str, row_id: str, column: str, op: str, **kw: Any) -> Any:
        return UncertaintyRow(
            uncertainty=name, sheet=sheet, row_id=row_id, column=column, op=op, **kw
        )

    data = factory.instance(
        settings=factory.settings(end_year=2027),
        gpus=[factory.gpu("G1", available_year=2027)],
        supply=[factory.supply(2027, "gpu:G1", 200_000)],
        runs=[factory.run("R1", ready_year=2027)],
        uncertainty=[
            u(
                "cap",
                "Supply",
                "2027:gpu:G1",
                "capacity",
                "set",
                distribution="choice",
                choices="200000:0.5;100000:0.5",
            ),
            u(
                "price",
                "GPUs",
                "G1",
                "capex_usd",
                "scale",
                distribution="uniform",
                low=0.8,
                high=1.2,
            ),
        ],
    )
    return write_risk(run_risk(data, samples=30, seed=0, workers=0), out)


def to_pdf(paths: list[Path], folder: Path) -> dict[Path, Path]:
    """LibreOffice headless, with a profile of its own (parallel runs do not clash)."""
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftotext") is None:
        pytest.skip(
            "needs LibreOffice (soffice) and poppler-utils (pdftotext); .ci/run installs them"
        )
    profile = (folder / "lo-profile").as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf"]
        + ["--outdir", str(folder)]
        + [str(p) for p in paths],
        capture_output=True,
        timeout=300,
        check=True,
    )
    pdfs = {p: folder / f"{p.stem}.pdf" for p in paths}
    assert all(pdf.exists() for pdf in pdfs.values()), list(folder.iterdir())
    return pdfs


def pages(pdf: Path) -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


# A number as printed: digits with separators, a fraction, an exponent; not part of a
# word (a sha256 in hex has runs of digits that are not numbers).
NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)(?:E[-+]\d+)?(?![\w])")


def long_numbers(text: str) -> list[str]:
    return [m for m in NUMBER.findall(text) if sum(ch.isdigit() for ch in m) > 15]


def landscape(pdf: Path) -> bool:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    sizes = re.findall(r"Page +\d+ size: +([\d.]+) x ([\d.]+)", info)
    return bool(sizes) and all(float(w) > float(h) for w, h in sizes)


@pytest.fixture(scope="module")
def rendered(
    written: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[str]]:
    """Each workbook's PDF, as the text of each page."""
    pdfs = to_pdf(list(written.values()), tmp_path_factory.mktemp("pdf"))
    for kind, path in written.items():
        assert landscape(pdfs[path]), kind
    return {kind: pages(pdfs[path]) for kind, path in written.items()}


@pytest.mark.slow
def test_libreoffice_renders_every_workbook_readably(
    written: dict[str, Path], rendered: dict[str, list[str]]
) -> None:
    for kind, path in written.items():
        text = rendered[kind]
        whole = "\n".join(text)
        assert "###" not in whole, kind  # a number too wide for its column
        assert long_numbers(whole) == [], kind
        first = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        header = [c.value for c in next(first.iter_rows(max_row=1))]
        # The first sheet fits one page wide: all of its columns print on page 1.
        assert all(str(h) in text[0] for h in header if h), (kind, header)
    for kind in ("reference", "infeasible", "scenario"):
        # Summary's first and last columns side by side, on the first page.
        first_page = rendered[kind][0]
        assert re.search(r"objective_usd.*USD, discounted to start_year", first_page), kind


@pytest.mark.slow
def test_reference_plan_prints_a_page_per_table_and_per_chart(
    written: dict[str, Path], rendered: dict[str, list[str]]
) -> None:
    """35 pages before page setup (Summary one column a page, charts cut in two): now
    each table fits a page and each chart has one, so a chart cut by a page break would
    add a page. (LibreOffice also writes the clipped, invisible text of a chart that
    reaches into a page's margin, so a chart's title alone does not tell its page.)"""
    text = rendered["reference"]
    wb = openpyxl.load_workbook(written["reference"])
    tables = [ws for ws in wb.worksheets if ws.sheet_state == "visible" and ws.title != "Charts"]
    # Summary (headline, details, provenance) may run to a second page; every other
    # table fits one.
    assert len(text) <= len(tables) + 1 + len(wb["Charts"]._charts)
    for title, x_title in (
        ("Cost by category per year", "Year"),
        ("Discounted cost by category", "Cost category"),
    ):
        assert any(title in page and x_title in page for page in text), title


@pytest.mark.slow
def test_study_sweep_chart_is_bounded_and_marks_steps_without_a_plan(
    written: dict[str, Path],
) -> None:
    path = written["study"]
    assert assert_straight_lines(path) == 2  # the curve and the no-plan marks
    wb = openpyxl.load_workbook(path)
    assert wb["ChartData"].sheet_state == "hidden"
    (chart,) = chart_xml(path)
    (log_axis,) = [s for s in chart.iter(f"{C}scaling") if s.find(f"{C}logBase") is not None]
    low, high = (float(log_axis.find(f"{C}{end}").get("val")) for end in ("min", "max"))
    assert (low, high) == (1e23, 1e29)  # the sweep's ends, not the next power of ten
    marks = list(wb["ChartData"].iter_rows(min_row=2, values_only=True))
    assert {row[1] for row in marks} == {1e27, 1e29}
    study = wb["Study"]
    assert study.cell(2, _column(study, "delta_pct")).number_format == fm.PCT_POINTS.code
    assert study.cell(2, _column(study, "capex_usd")).number_format == fm.MONEY_M.code


def test_site_map_labels_do_not_overlap_and_the_title_says_what_was_built(
    small_plan: Path,
) -> None:
    """The two sites stand on the same spot: their labels must still part."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plan = read_plan(small_plan)
    data = api.load(small_plan.with_name("in.xlsx"))
    links = len(plan["Fiber"])
    for fiber, title in (
        (plan["Fiber"], f"{links} fiber link{'s' if links != 1 else ''} built"),
        (plan["Fiber"].iloc[0:0], "no fiber links built"),
    ):
        fig = site_map(Plan({**plan.tables, "Fiber": fiber}, plan.summary), data)
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        assert title in ax.get_title()
        boxes = [t.get_window_extent(renderer) for t in ax.texts]
        assert len(boxes) == len(data.sites)
        for i, a in enumerate(boxes):
            assert not any(a.overlaps(b) for b in boxes[i + 1 :])
        plt.close(fig)
    assert links >= 1  # the run spans both sites over the link
