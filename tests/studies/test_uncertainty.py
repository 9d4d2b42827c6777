"""The Uncertainty sheet: read from a real workbook, every bad cell named at once, draws
deterministic and within their distributions, and the reference workbook's sheet sound."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import factory
import numpy as np
import openpyxl
import pytest

from planner import api
from planner.inputs.problems import InputError
from planner.inputs.schema import SHEET_BY_NAME
from planner.studies.uncertainty import (
    apply_draws,
    parse_choices,
    sample_draws,
    uncertainties,
)

COLUMNS = SHEET_BY_NAME["Uncertainty"].columns
LETTER = {c: chr(ord("A") + i) for i, c in enumerate(COLUMNS)}
CONTROLS = [factory.export_control("US", "G1", True)]


def workbook(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    """The factory instance as a real .xlsx with these Uncertainty rows."""
    data = factory.instance(
        settings=factory.settings(end_year=2027),
        supply=[factory.supply(y, "cowos_wafers", 1e6) for y in (2026, 2027)],
        export_controls=CONTROLS,
    )
    out = factory.write_workbook(data, tmp_path / "u.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb.create_sheet("Uncertainty")
    ws.append(COLUMNS)
    for r in rows:
        ws.append([r.get(c) for c in COLUMNS])
    wb.save(out)
    return Path(out)


def row(name: str, sheet: str, row_id: str, column: str, op: str, dist: str, **kw: Any) -> dict:
    return dict(
        uncertainty=name, sheet=sheet, row_id=row_id, column=column, op=op, distribution=dist, **kw
    )


def cells(problems: list[Any]) -> set[tuple[int | None, str | None]]:
    return {(p.row, p.letter) for p in problems if p.severity == "error"}


def test_cells_the_reader_refuses_are_all_named(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        [
            row("a", "GPUs", "G1", "capex_usd", "times", "uniform", low=1, high=2),
            row("b", "GPUs", "G1", "capex_usd", "scale", "normal", low=1, high=2),
            row("c", "GPUs", "G1", "capex_usd", "scale", "uniform", low="abc", high=2),
        ],
    )
    with pytest.raises(InputError) as info:
        api.load(path)
    found = cells(info.value.problems)
    assert {(2, LETTER["op"]), (3, LETTER["distribution"]), (4, LETTER["low"])} <= found
    text = "\n".join(map(str, info.value.problems))
    assert "must be one of set, scale, add" in text
    assert "must be one of uniform, triangular, choice" in text


HOSTILE: list[tuple[dict[str, Any], str, str]] = [
    (
        row("a", "Nowhere", "G1", "capex_usd", "scale", "uniform", low=1, high=2),
        "sheet",
        "unknown sheet 'Nowhere'",
    ),
    (
        row("b", "Supply", "2031:cowos_wafers", "capacity", "scale", "uniform", low=1, high=2),
        "row_id",
        "no row with id '2031:cowos_wafers'",
    ),
    (
        row("c", "GPUs", "G1", "price", "scale", "uniform", low=1, high=2),
        "column",
        "no column 'price' in GPUs",
    ),
    (
        row("d", "GPUs", "G1", "capex_usd", "scale", "choice", choices="1:0.5;2:0.4"),
        "choices",
        "sum to 0.9, not 1",
    ),
    (
        row("e", "GPUs", "G1", "capex_usd", "scale", "uniform", low=2, high=1),
        "low",
        "low 2 is above high 1",
    ),
    (
        row("f", "GPUs", "G1", "capex_usd", "scale", "triangular", low=0.5, mode=1.5, high=1),
        "mode",
        "mode 1.5 is outside low..high",
    ),
    (
        row("g", "Sites", "S1", "pue", "set", "uniform", low=1.0, high=3.5),
        "high",
        "pue must be a number >= 1 and <= 3",
    ),
    (
        row("h", "Transformers", "*", "lead_years", "add", "uniform", low=0, high=2),
        "distribution",
        "whole numbers",
    ),
    (
        row("i", "ExportControls", "US:G1", "allowed", "scale", "choice", choices="0:0.5;1:0.5"),
        "choices",
        "works only on number columns",
    ),
    (
        row("j", "Runs", "R1", "ready_year", "set", "choice", choices="2026:0.5;2040:0.5"),
        "choices",
        "at draw 2040",
    ),
    (
        row("k", "GPUs", "G1", "capex_usd", "scale", "triangular", low=0.5, high=1),
        "mode",
        "a triangular draw needs it",
    ),
    (
        row("l", "GPUs", "G1", "capex_usd", "scale", "choice", choices="1:0.5;1:0.5"),
        "choices",
        "listed twice",
    ),
    (
        row("m", "Settings", "no_such_key", "value", "set", "uniform", low=0, high=1),
        "row_id",
        "unknown setting 'no_such_key'",
    ),
    (
        row("n", "ExportControls", "US:G1", "allowed", "set", "uniform", low=0, high=1),
        "distribution",
        "TRUE or FALSE",
    ),
]


def test_a_hostile_uncertainty_sheet_names_every_bad_cell_at_once(tmp_path: Path) -> None:
    good = row(
        "grp", "Supply", "2026:cowos_wafers", "capacity", "scale", "uniform", low=0.5, high=1
    )
    disagree = {**good, "row_id": "2027:cowos_wafers", "high": 0.9}
    rows = [r for r, _, _ in HOSTILE] + [good, disagree]
    data = api.load(workbook(tmp_path, rows))
    with pytest.raises(InputError) as info:
        uncertainties(data)
    problems = [p for p in info.value.problems if p.severity == "error"]
    for i, (_, column, words) in enumerate(HOSTILE):
        at = [p for p in problems if p.row == i + 2 and p.letter == LETTER[column]]
        assert at, f"row {i + 2} ({column}): nothing reported; got {problems}"
        assert any(words in str(p) for p in at), (words, [str(p) for p in at])
    last = len(rows) + 1
    assert (last, LETTER["high"]) in cells(problems)
    assert not [p for p in problems if p.row == last - 1]  # the good row itself is fine
    assert len({p.row for p in problems}) == len(HOSTILE) + 1


def test_an_address_is_checked_even_when_the_distribution_is_wrong(tmp_path: Path) -> None:
    rows = [row("a", "Supply", "2031:cowos_wafers", "capacity", "scale", "uniform", low=2, high=1)]
    with pytest.raises(InputError) as info:
        uncertainties(api.load(workbook(tmp_path, rows)))
    assert cells(info.value.problems) == {(2, LETTER["low"]), (2, LETTER["row_id"])}


def test_unused_parameters_are_warnings_not_errors(tmp_path: Path) -> None:
    rows = [row("a", "GPUs", "G1", "capex_usd", "scale", "uniform", low=0.9, mode=1, high=1.1)]
    data = api.load(workbook(tmp_path, rows))
    (u,) = uncertainties(data)
    assert u.describe() == "uniform (0.9 to 1.1)"


def test_choices_parse_numbers_booleans_and_words() -> None:
    values, probs, error = parse_choices("TRUE:0.8; FALSE:0.2")
    assert error is None and values == (True, False) and probs == (0.8, 0.2)
    values, _, error = parse_choices("0:50%;1:30%;2:20%")
    assert error is None and values == (0.0, 1.0, 2.0)
    values, _, error = parse_choices("site:0.5;run:0.5")
    assert error is None and values == ("site", "run")
    assert parse_choices("1:0.5;2")[2] == "'2' is not value:probability"
    assert "above 0" in str(parse_choices("1:1.5")[2])


def test_draws_follow_their_distribution_and_seed(tmp_path: Path) -> None:
    rows = [
        row("u", "GPUs", "G1", "capex_usd", "scale", "uniform", low=0.5, high=1.5),
        row("t", "GPUs", "G1", "it_kw", "scale", "triangular", low=0.5, mode=0.6, high=2),
        row("c", "Transformers", "*", "lead_years", "add", "choice", choices="0:0.25;1:0.75"),
    ]
    us = uncertainties(api.load(workbook(tmp_path, rows)))
    draws = [sample_draws(us, 7, i) for i in range(2000)]
    assert all(0.5 <= d["u"] <= 1.5 and 0.5 <= d["t"] <= 2 for d in draws)
    assert abs(np.mean([d["u"] for d in draws]) - 1.0) < 0.03
    assert abs(np.mean([d["t"] for d in draws]) - (0.5 + 0.6 + 2) / 3) < 0.04
    assert abs(np.mean([d["c"] for d in draws]) - 0.75) < 0.04
    rng = np.random.default_rng([7, 5, zlib.crc32(b"u")])
    assert draws[5]["u"] == rng.uniform(0.5, 1.5)
    data, problems = apply_draws(api.load(workbook(tmp_path, rows)), us, draws[5])
    assert not problems and data is not None
    assert data.gpus[0].capex_usd == pytest.approx(10_000.0 * draws[5]["u"])
    assert data.transformers[0].lead_years == int(draws[5]["c"])


def test_reference_uncertainties_have_sources() -> None:
    from conftest import REFERENCE

    data = api.load(REFERENCE)
    names = [u.name for u in uncertainties(data)]
    assert names == [
        "cowos-allocation",
        "hbm-allocation",
        "transformer-lead",
        "gas-turbine-lead",
        "gpu-price",
        "uae-licence",
        "malaysia-licence",
    ]
    wb = openpyxl.load_workbook(REFERENCE, read_only=True)
    sourced = {
        r[1] for r in wb["Sources"].iter_rows(min_row=2, values_only=True) if r[0] == "Uncertainty"
    }
    assert set(names) <= sourced
    assert all(r.note for r in data.uncertainty)
    controls = {(e.country, e.gpu_id): e.allowed for e in data.export_controls}
    assert controls[("UAE", "VR200")] and controls[("Malaysia", "GB300")]


def test_planner_validate_checks_the_uncertainty_sheet_too(tmp_path: Path) -> None:
    import typer

    from planner.cli.inputs import validate

    bad = [row("a", "Nowhere", "G1", "capex_usd", "scale", "uniform", low=1, high=2)]
    with pytest.raises(typer.Exit) as info:
        validate(workbook(tmp_path, bad))
    assert info.value.exit_code == 1
    good = [row("a", "GPUs", "G1", "capex_usd", "scale", "uniform", low=1, high=2)]
    validate(workbook(tmp_path, good))  # no exit: valid
