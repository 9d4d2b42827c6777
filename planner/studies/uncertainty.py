"""The ``Uncertainty`` sheet: what may turn out otherwise, as distributions of changes.

Each row changes one column of the rows it selects in one sheet, addressed exactly as a
``Scenarios`` row is (``sheet``, ``row_id``, ``column``), by a drawn amount: ``set`` (the
draw is the new value), ``scale`` (times the draw) or ``add`` (plus the draw). The draw
comes from the row's ``distribution``: ``uniform`` (``low``..``high``), ``triangular``
(``low``, ``mode``, ``high``) or ``choice`` (``choices``: ``value:probability;...``, the
values numbers, TRUE/FALSE or words). Rows with the same ``uncertainty`` name take one
draw together (a CoWoS shortfall scales every year's cap by the same factor), so they must
state the same distribution.

Everything is checked before anything is solved, every problem at once, each naming the
``Uncertainty`` cell at fault: an unknown sheet, row or column, a distribution without its
parameters, ``low`` above ``high``, a ``mode`` outside them, probabilities that do not sum
to 1, rows of one uncertainty that disagree, a continuous draw on a whole-number or
TRUE/FALSE column, and a draw (each end of a range, each choice) that breaks a rule of the
column or of the workbook.

Draws are deterministic: sample ``i`` of seed ``s`` draws uncertainty ``u`` from a numpy
``Generator`` seeded with ``(s, i, crc32(u))``, so a sample does not depend on how many
samples are drawn, in which order or where, nor on the other uncertainties.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.inputs.data import SHEET_ATTRS, PlanningData
from planner.inputs.problems import InputError, Problem
from planner.inputs.schema import SETTINGS_SHEET, SettingsModel, UncertaintyRow
from planner.inputs.validate import _kind
from planner.studies.scenarios import DATA_SHEETS, Change, _selects, apply_changes

UNCERTAINTY_SHEET = "Uncertainty"
PROBABILITY_TOL = 1e-6
PARAMETERS = ("distribution", "low", "mode", "high", "choices")
STRUCTURE = ("sheet", "row_id", "column", "op")
BOOL_WORDS = {"true": True, "yes": True, "false": False, "no": False}


@dataclass(frozen=True)
class Target:
    """One ``Uncertainty`` row: the cells it changes, and how."""

    sheet: str
    row_id: str
    column: str
    op: str
    excel_row: int
    note: str = ""


@dataclass(frozen=True)
class Uncertainty:
    """One named uncertainty: a distribution and the rows its single draw changes."""

    name: str
    distribution: str
    targets: tuple[Target, ...]
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    values: tuple[Any, ...] = ()
    probabilities: tuple[float, ...] = ()

    def draw(self, rng: np.random.Generator) -> Any:
        """One draw (one call on ``rng``)."""
        if self.distribution == "choice":
            cumulative = np.cumsum(self.probabilities) / sum(self.probabilities)
            i = int(np.searchsorted(cumulative, rng.random(), side="right"))
            return self.values[min(i, len(self.values) - 1)]
        low, high = float(self.low or 0.0), float(self.high or 0.0)
        if self.distribution == "uniform":
            x = rng.uniform(low, high)
        else:
            x = rng.triangular(low, float(self.mode or low), high) if high > low else low
        return float(x)

    def extremes(self) -> list[tuple[Any, str]]:
        """The draws that bound every other, with the column that sets each."""
        if self.distribution == "choice":
            return [(v, "choices") for v in self.values]
        return [(self.low, "low"), (self.high, "high")]

    def numeric(self, value: Any) -> float:
        """A draw as a number (TRUE = 1; a word: its place among the choices)."""
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, int | float):
            return float(value)
        return float(self.values.index(value)) if value in self.values else math.nan

    def describe(self) -> str:
        if self.distribution == "choice":
            parts = [
                f"{show(v)}: {p:.0%}" for v, p in zip(self.values, self.probabilities, strict=True)
            ]
            return f"choice ({', '.join(parts)})"
        if self.distribution == "uniform":
            return f"uniform ({show(self.low)} to {show(self.high)})"
        return f"triangular ({show(self.low)}, {show(self.mode)}, {show(self.high)})"

    def changes(self, value: Any) -> list[Change]:
        """The changes this draw makes."""
        return [
            Change(
                t.sheet,
                t.row_id,
                t.column,
                t.op,
                value,
                UNCERTAINTY_SHEET,
                t.excel_row,
                t.note,
                self.name,
            )
            for t in self.targets
        ]


def show(value: Any) -> str:
    """A draw as a person writes it: TRUE, 0.85, 2, 1.5e+06."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# ---------------------------------------------------------------- reading and checking


def uncertainty_rows(data: PlanningData) -> list[tuple[int, UncertaintyRow]]:
    """``(excel_row, row)`` for every row of the sheet, with its real row number."""
    rows = data.cells.rows.get(UNCERTAINTY_SHEET, {})
    out = []
    for i, r in enumerate(data.uncertainty):
        key = (r.uncertainty, r.sheet, r.row_id, r.column)
        out.append((rows.get(key, i + 2), r))
    return out


def parse_choices(text: str) -> tuple[tuple[Any, ...], tuple[float, ...], str | None]:
    """``value:probability;...`` as values and probabilities, or the reason it is not."""
    values: list[Any] = []
    probabilities: list[float] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        if ":" not in part:
            return (), (), f"'{part}' is not value:probability"
        raw, _, prob = part.rpartition(":")
        try:
            p = float(prob.strip().rstrip("%")) / (100.0 if prob.strip().endswith("%") else 1.0)
        except ValueError:
            return (), (), f"the probability of '{raw.strip()}' is not a number ('{prob}')"
        if not math.isfinite(p) or not 0.0 < p <= 1.0:
            return (), (), f"the probability of '{raw.strip()}' must be above 0 and at most 1"
        value = choice_value(raw)
        if any(type(v) is type(value) and v == value for v in values):
            return (), (), f"'{raw.strip()}' is listed twice"
        values.append(value)
        probabilities.append(p)
    if not values:
        return (), (), "no choices: write value:probability;... (e.g. 0:0.5;1:0.5)"
    total = sum(probabilities)
    if abs(total - 1.0) > PROBABILITY_TOL:
        return (), (), f"the probabilities sum to {total:.6g}, not 1"
    return tuple(values), tuple(probabilities), None


def choice_value(raw: str) -> Any:
    """A choice as TRUE/FALSE, a number, or the word itself."""
    text = raw.strip()
    if text.lower() in BOOL_WORDS:
        return BOOL_WORDS[text.lower()]
    try:
        return float(text.replace(",", "").replace("_", ""))
    except ValueError:
        return text


def declared_uncertainties(data: PlanningData) -> tuple[list[Uncertainty], list[Problem]]:
    """The sheet grouped by name (order of first appearance), and every problem."""
    groups: dict[str, list[tuple[int, UncertaintyRow]]] = {}
    for excel_row, r in uncertainty_rows(data):
        groups.setdefault(r.uncertainty, []).append((excel_row, r))
    problems: list[Problem] = []
    out: list[Uncertainty] = []
    base = _base(data)
    for name, rows in groups.items():
        found = _parameter_problems(rows) + _group_problems(rows)
        u = _uncertainty(name, rows)
        found += _kind_problems(u, rows)
        if not any(p.severity == "error" for p in found) and u is not None:
            found += draw_problems(base, u)
        else:  # the addresses are checked all the same, with a probe draw
            probe = Uncertainty(name, "choice", _targets(rows), values=(1.0,), probabilities=(1.0,))
            found += [p for p in draw_problems(base, probe) if p.column in STRUCTURE]
        problems.extend(found)
        if u is not None and not any(p.severity == "error" for p in found):
            out.append(u)
    letters = data.cells.letters.get(UNCERTAINTY_SHEET, {})
    problems = [
        dataclasses.replace(p, letter=letters.get(p.column or "", p.letter)) for p in problems
    ]
    problems.sort(key=lambda p: p.row or 0)
    return out, problems


def uncertainties(data: PlanningData) -> list[Uncertainty]:
    """Every uncertainty of the workbook; raises ``InputError`` listing every problem
    (warnings are kept out: ``declared_uncertainties`` returns them)."""
    found, problems = declared_uncertainties(data)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(problems)
    if not data.uncertainty:
        raise InputError(
            [
                Problem(
                    UNCERTAINTY_SHEET,
                    "the workbook has no Uncertainty rows: add the sheet (planner template "
                    "writes its header) with one row per uncertain cell",
                )
            ]
        )
    return found


def _base(data: PlanningData) -> PlanningData:
    return dataclasses.replace(data, scenarios=[], sweeps=[], uncertainty=[])


def _cell_problem(
    excel_row: int, column: str, message: str, value: Any, severity: str = "error"
) -> Problem:
    return Problem(
        UNCERTAINTY_SHEET, message, row=excel_row, column=column, value=value, severity=severity
    )


def _parameter_problems(rows: list[tuple[int, UncertaintyRow]]) -> list[Problem]:
    """Each row's distribution and its parameters (given, in order, unused)."""
    return [p for excel_row, r in rows for p in _row_parameter_problems(excel_row, r)]


def _row_parameter_problems(excel_row: int, r: UncertaintyRow) -> list[Problem]:
    out: list[Problem] = []

    def bad(column: str, message: str, severity: str = "error") -> None:
        out.append(_cell_problem(excel_row, column, message, getattr(r, column), severity))

    if r.distribution == "choice":
        _, _, error = parse_choices(r.choices)
        if error:
            bad("choices", error)
        for column in ("low", "mode", "high"):
            if getattr(r, column) is not None:
                bad(column, "is ignored: a choice draws from choices", "warning")
        return out
    for column in ("low", "high") + (("mode",) if r.distribution == "triangular" else ()):
        if getattr(r, column) is None:
            bad(column, f"is empty: a {r.distribution} draw needs it")
    if r.low is not None and r.high is not None and r.low > r.high:
        bad("low", f"low {r.low:g} is above high {r.high:g}")
    elif r.distribution == "triangular" and None not in (r.low, r.mode, r.high):
        assert r.low is not None and r.mode is not None and r.high is not None
        if not r.low <= r.mode <= r.high:
            bad("mode", f"mode {r.mode:g} is outside low..high ({r.low:g}..{r.high:g})")
    if r.distribution == "uniform" and r.mode is not None:
        bad("mode", "is ignored: a uniform draw has no mode", "warning")
    if r.choices.strip():
        bad("choices", f"are ignored: a {r.distribution} draw uses low and high", "warning")
    return out


def _group_problems(rows: list[tuple[int, UncertaintyRow]]) -> list[Problem]:
    """Rows of one uncertainty take one draw: their distributions must be the same."""
    first_row, first = rows[0]
    out = []
    for excel_row, r in rows[1:]:
        for column in PARAMETERS:
            mine, theirs = getattr(r, column), getattr(first, column)
            if column == "choices":
                mine, theirs = mine.replace(" ", ""), theirs.replace(" ", "")
            if mine != theirs:
                out.append(
                    _cell_problem(
                        excel_row,
                        column,
                        f"rows of uncertainty '{r.uncertainty}' take one draw: {column} must "
                        f"be the same as on row {first_row} ({show(getattr(first, column))})",
                        getattr(r, column),
                    )
                )
                break
    return out


def _targets(rows: list[tuple[int, UncertaintyRow]]) -> tuple[Target, ...]:
    return tuple(Target(x.sheet, x.row_id, x.column, x.op, row, x.note) for row, x in rows)


def _uncertainty(name: str, rows: list[tuple[int, UncertaintyRow]]) -> Uncertainty | None:
    _, r = rows[0]
    targets = _targets(rows)
    if r.distribution == "choice":
        values, probabilities, error = parse_choices(r.choices)
        if error:
            return None
        return Uncertainty(name, "choice", targets, values=values, probabilities=probabilities)
    if r.low is None or r.high is None or r.low > r.high:
        return None
    if r.distribution == "triangular" and (r.mode is None or not r.low <= r.mode <= r.high):
        return None
    return Uncertainty(name, r.distribution, targets, r.low, r.mode, r.high)


def _target_kind(t: Target) -> type | None:
    """The Python type of the column a row changes (None when unknown or mixed)."""
    if t.sheet == SETTINGS_SHEET:
        f = SettingsModel.model_fields.get(t.row_id)
    else:
        spec = DATA_SHEETS.get(t.sheet)
        f = spec.field(t.column) if spec is not None and t.column in spec.columns else None
    return _kind(f) if f is not None else None


def _kind_problems(u: Uncertainty | None, rows: list[tuple[int, UncertaintyRow]]) -> list[Problem]:
    """A continuous draw cannot fill a whole-number, TRUE/FALSE or text column."""
    if u is None or u.distribution == "choice":
        return []
    out = []
    for t in u.targets:
        kind = _target_kind(t)
        if kind is int:
            why = f"{t.column} takes whole numbers, which a {u.distribution} draw is not"
        elif kind in (bool, str):
            what = "TRUE or FALSE" if kind is bool else "words"
            why = f"{t.column} takes {what}, which a {u.distribution} draw is not"
        else:
            continue
        out.append(_cell_problem(t.excel_row, "distribution", f"{why}: use choice", u.distribution))
    return out


def draw_problems(base: PlanningData, u: Uncertainty) -> list[Problem]:
    """Apply each bounding draw alone to the inputs: a row that addresses nothing, and a
    draw that breaks a rule, named at the ``Uncertainty`` cell that sets it."""
    out: list[Problem] = []
    seen: set[tuple[int | None, str | None, str]] = set()
    cells = {t.excel_row: t for t in u.targets}
    for value, column in u.extremes():
        _, found = apply_changes(base, u.changes(value))
        for p in found:
            structural = p.column in STRUCTURE
            where = column if not structural else p.column
            prefix = f"uncertainty '{u.name}'" + ("" if structural else f" at draw {show(value)}")
            message = p.message.replace(f"scenario '{u.name}'", prefix, 1)
            key = (p.row, where, message)
            if key in seen:
                continue
            seen.add(key)
            target = cells.get(p.row or -1)
            shown = p.value if structural else _cell_value(u, column, target)
            out.append(_cell_problem(p.row or u.targets[0].excel_row, where or "", message, shown))
        if any(p.column in STRUCTURE for p in found):
            break  # an address that is wrong is wrong for every draw
    return out


def _cell_value(u: Uncertainty, column: str, target: Target | None) -> Any:
    if column == "choices":
        return ";".join(f"{show(v)}:{p:g}" for v, p in zip(u.values, u.probabilities, strict=True))
    return getattr(u, column)


# ---------------------------------------------------------------- samples


def sample_draws(us: Sequence[Uncertainty], seed: int, index: int) -> dict[str, Any]:
    """Sample ``index``'s draw of every uncertainty (see the module docstring)."""
    out: dict[str, Any] = {}
    for u in us:
        rng = np.random.default_rng([seed, index, zlib.crc32(u.name.encode())])
        out[u.name] = u.draw(rng)
    return out


def sample_changes(
    us: Sequence[Uncertainty],
    draws: dict[str, Any],
    *,
    leave_out: str | None = None,
) -> list[Change]:
    """Every change of a sample's draws (without uncertainty ``leave_out``)."""
    return [
        c for u in us if u.name != leave_out and u.name in draws for c in u.changes(draws[u.name])
    ]


def apply_draws(
    data: PlanningData,
    us: Sequence[Uncertainty],
    draws: dict[str, Any],
    *,
    leave_out: str | None = None,
) -> tuple[PlanningData | None, list[Problem]]:
    """The inputs one sample sees (study sheets cleared), or the problems it has."""
    changes = sample_changes(us, draws, leave_out=leave_out)
    new, problems = apply_changes(_base(data), changes)
    if new is None:
        return None, problems
    return dataclasses.replace(new, uncertainty=[]), []


def is_neutral(base: PlanningData, u: Uncertainty, value: Any) -> bool:
    """True when this draw changes nothing (scale 1, add 0, set to the current value)."""
    for t in u.targets:
        if t.op == "scale" and value != 1:
            return False
        if t.op == "add" and value != 0:
            return False
        if t.op == "set" and any(v != value for v in current_values(base, t)):
            return False
    return True


def current_values(data: PlanningData, t: Target) -> list[Any]:
    """The values the row's cells hold in ``data``."""
    if t.sheet == SETTINGS_SHEET:
        return [getattr(data.settings, t.row_id, None)]
    spec = DATA_SHEETS.get(t.sheet)
    if spec is None or t.column not in spec.columns:
        return []
    attr = spec.attr(t.column)
    rows = getattr(data, SHEET_ATTRS[t.sheet])
    return [getattr(r, attr) for r in rows if _selects(spec, r, t.row_id)]
