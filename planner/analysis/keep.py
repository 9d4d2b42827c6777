"""Limits the diagnosis must not move: ``--keep SHEET[:ROW_ID]``.

A keep names a sheet whose limits the diagnosis may otherwise move (``Sites``,
``Supply``, ``SitePower``, ``PowerSources``, ``Transformers``, ``FiberLinks``, ``Runs``)
and, optionally, one row of it, addressed as the ``Scenarios`` sheet addresses rows: the
key columns joined with ``:`` (``Supply:2027:cowos_wafers``, ``SitePower:US-ABI:grid``) or
the first key column alone (``SitePower:US-ABI``: every source of the site). ``--keep Sites``
holds the site list fixed (no ``earliest_year`` or ``max_it_mw`` moves); ``--keep Runs``
forbids lowering a target.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from models.elastic import Cell
from models.registry import EARLY_BUILDS, FAMILIES
from planner.inputs.data import SHEET_ATTRS, PlanningData
from planner.inputs.problems import InputError, Problem
from planner.inputs.schema import SHEET_BY_NAME

# Sheets holding a limit the diagnosis may move, in the order the Guide lists sheets.
KEEPABLE: tuple[str, ...] = tuple(
    s
    for s in SHEET_BY_NAME
    if s
    in {f.limit.sheet for f in FAMILIES.values() if f.relax and f.limit}
    | {e.sheet for e in EARLY_BUILDS.values()}
)


@dataclass(frozen=True)
class Keep:
    """One ``--keep`` value: a sheet, and one row id of it or every row (None)."""

    sheet: str
    row_id: str | None = None

    def holds(self, cell: Cell) -> bool:
        """Whether this keep forbids moving ``cell`` (sheet, row key, column)."""
        sheet, row, _ = cell
        if sheet != self.sheet:
            return False
        return self.row_id is None or self.row_id == ":".join(row) or self.row_id == row[0]

    def __str__(self) -> str:
        return self.sheet if self.row_id is None else f"{self.sheet}:{self.row_id}"


def kept(cell: Cell, keeps: Iterable[Keep]) -> bool:
    return any(k.holds(cell) for k in keeps)


def parse_keep(data: PlanningData, values: Sequence[str | Keep]) -> list[Keep]:
    """``--keep`` values checked against the workbook; every bad one is a ``Problem``
    (raised together as ``InputError``, exit 1)."""
    keeps: list[Keep] = []
    problems: list[Problem] = []
    for value in values:
        if isinstance(value, Keep):
            keeps.append(value)
            continue
        sheet, _, row_id = str(value).strip().partition(":")
        if sheet not in KEEPABLE:
            problems.append(
                Problem(
                    "--keep",
                    f"'{value}': '{sheet}' holds no limit the diagnosis moves "
                    f"(one of {', '.join(KEEPABLE)}, optionally :ROW_ID)",
                )
            )
            continue
        keep = Keep(sheet, row_id or None)
        if keep.row_id is not None and not _selects_a_row(data, keep):
            problems.append(Problem("--keep", f"'{value}': {_no_row(data, sheet, row_id)}"))
            continue
        keeps.append(keep)
    if problems:
        raise InputError(problems)
    return keeps


def _no_row(data: PlanningData, sheet: str, row_id: str) -> str:
    """Why ``row_id`` selects nothing, with the ids that would."""
    spec = SHEET_BY_NAME[sheet]
    ids = [":".join(spec.key_of(r)) for r in getattr(data, SHEET_ATTRS[sheet])]
    shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
    form = ":".join(spec.key) + (f", or {spec.key[0]} alone" if len(spec.key) > 1 else "")
    return f"no row with id '{row_id}' in {sheet} (ids are {form}: {shown or 'no rows'})"


def _selects_a_row(data: PlanningData, keep: Keep) -> bool:
    spec = SHEET_BY_NAME[keep.sheet]
    rows = getattr(data, SHEET_ATTRS[keep.sheet])
    return any(keep.holds((keep.sheet, spec.key_of(r), "")) for r in rows)
