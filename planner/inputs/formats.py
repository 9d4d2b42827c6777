"""How numbers show in every workbook the planner writes: one rule table from a column's
name, or a row's unit, to an Excel number format.

A format changes only how a value shows; the cell keeps the unit its column name says
(a ``_usd`` cell holds USD and shows in millions), because the plan's sheets are an
interface ``planner check``, pandas and other tools read. A new column whose name follows
the conventions below is formatted with no further code:

==========================================  ==================  ======================
name (first matching rule wins)             shows as            kind
==========================================  ==================  ======================
``*_usd_per_*``                             1,234,567.89        price (USD per unit)
``*_usd``                                   1,234.5 M           money, M USD
``*_pct``                                   -85.2%              value already x100
``mip_gap``, ``gap``, ``*_gap``             0.12%, 0.0001%      fraction, as a percent
``*fraction*``, ``share``, ``*_rate``, ...  42.0%               fraction, as a percent
``flop``, ``flop_*``, ``*_flop``            1.00E+27            FLOP, scientific
``year``, ``*_year``                        2026                calendar year, plain
``*_mw``, ``mw_*``, ``*_mva``               1,442.8             MW or MVA
``gpus*``, ``*_units``, ``*_built``, ...    727,023             counts
``pue``, ``*_ratio``, ``*_factor``          1.25                ratios
bool values, ``multi_site``, ``is_*``, ...  TRUE / FALSE        booleans
==========================================  ==================  ======================

Columns whose unit changes from row to row (``value`` of a key/value table, Constraints'
``limit_value``, Diagnosis' ``new_value``, Calibration's ``plan_value``) take the format
of the row's name or unit (``ROW_UNIT_SOURCES``); anything else is shown by magnitude.
Headlines show money in B USD (``MONEY_B``, ``billions``), tables in M USD.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any


@dataclass(frozen=True)
class Shown:
    """An Excel number format and the text it shows for a number (to size columns)."""

    code: str
    render: Callable[[float], str]
    align: str | None = None  # horizontal alignment; None: numbers to the right

    def text(self, value: Any) -> str:
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float) and math.isfinite(value):
            return self.render(float(value))
        return "" if value is None else str(value)


MONEY_M = Shown('#,##0.0,," M"', lambda v: f"{v / 1e6:,.1f} M")
MONEY_B = Shown('#,##0.000,,," B"', lambda v: f"{v / 1e9:,.3f} B")
# A value already in M or B USD (a unit column says so): shown with the suffix only.
IN_MILLIONS = Shown('#,##0.0" M"', lambda v: f"{v:,.1f} M")
IN_BILLIONS = Shown('#,##0.000" B"', lambda v: f"{v:,.3f} B")
PRICE = Shown("#,##0.00", lambda v: f"{v:,.2f}")
WHOLE_USD = Shown("#,##0", lambda v: f"{v:,.0f}")
FLOP = Shown("0.00E+00", lambda v: f"{v:.2E}")
COUNT = Shown("#,##0", lambda v: f"{v:,.0f}")
MW = Shown("#,##0.0", lambda v: f"{v:,.1f}")
SECONDS = Shown("#,##0.0", lambda v: f"{v:,.1f}")
PERCENT = Shown("0.0%", lambda v: f"{v * 100:.1f}%")
# Gaps are often tiny (1.2e-6): up to four decimals, so a proven-but-nonzero gap is seen.
GAP = Shown("0.00##%", lambda v: f"{v * 100:.4f}%")
# ``*_pct`` columns hold percentage points (-85.232 means -85.232 %): a signed literal %.
PCT_POINTS = Shown('+0.0"%";-0.0"%";0.0"%"', lambda v: f"{v:+.1f}%")
# Centred: a right-aligned year would run into the left-aligned text beside it.
YEAR = Shown("0", lambda v: f"{v:.0f}", "center")
RATIO = Shown("0.00", lambda v: f"{v:,.2f}")
DEGREES = Shown("0.0000", lambda v: f"{v:.4f}")
INTENSITY = Shown("#,##0.000", lambda v: f"{v:,.3f}")
DECIMAL = Shown("#,##0.00##", lambda v: f"{v:,.4f}")
# LibreOffice keeps an xlsx boolean as 0/1 under a General format; Excel ignores this.
BOOL = Shown('"TRUE";"TRUE";"FALSE"', lambda v: "TRUE" if v else "FALSE", "center")

NameRules = tuple[tuple[tuple[str, ...], Shown], ...]

# Column (or row) names, lower case, fnmatch patterns; order matters: prices before money
# (``om_usd_per_mw_year``), money before years, per-MWh intensities before counts.
NAME_RULES: NameRules = (
    (("*_usd_per_*", "usd_per_*"), PRICE),
    (("*_usd", "usd", "*_usd_*"), MONEY_M),
    (("*_pct", "pct"), PCT_POINTS),
    (("mip_gap", "gap", "*_gap"), GAP),
    (
        ("*fraction*", "share", "*_share", "*_rate", "mfu", "*_efficiency", "efficiency"),
        PERCENT,
    ),
    (("flop", "flop_*", "*_flop", "*_flop_*"), FLOP),
    (("year", "*_year", "year_*"), YEAR),
    (("*_years", "years"), COUNT),
    (("*_per_mwh", "*_per_mwh_*"), INTENSITY),
    (("mw", "*_mw", "mw_*", "*_mw_*", "mva", "*_mva", "mva_*"), MW),
    (("seconds", "*_seconds", "*_s"), SECONDS),
    (("pue", "*_pue", "ratio", "*_ratio", "*_factor"), RATIO),
    (("latitude", "longitude"), DEGREES),
    (
        (
            "gpus",
            "gpus_*",
            "*_gpus",
            "*_gpus_*",
            "purchased",
            "installed",
            "units",
            "*_units",
            "units_*",
            "*_built",
            "count",
            "*_count",
            "steps",
            "*_violations",
            "mwh",
            "*_mwh",
            "co2_t",
            "*_co2_t",
            "co2_t_*",
            "gbps",
            "*_gbps",
            "km",
            "*_km",
            "*_stacks",
            "*_tflops",
            "capacity",
            "*_sites",
            "scenarios",
            "solved_now",
            "from_cache",
            "workers",
        ),
        COUNT,
    ),
)

BOOL_NAMES = (
    "multi_site",
    "via_grid",
    "allowed",
    "lock",
    "flag",
    "*_flag",
    "is_*",
    "has_*",
    "feasible",
)

# Units (the text before any comma or parenthesis), case-sensitive fnmatch patterns.
UNIT_RULES: NameRules = (
    (("USD per *", "USD/*"), PRICE),
    (("USD",), MONEY_M),
    (("M USD",), IN_MILLIONS),
    (("B USD",), IN_BILLIONS),
    (("FLOP", "FLOP/s*"), FLOP),
    (("MW", "MVA"), MW),
    (("fraction", "share"), PERCENT),
    (("%", "percent"), PCT_POINTS),
    (("year",), YEAR),
    (("s",), SECONDS),
    (("ratio", "MW/MVA"), RATIO),
    (("degrees",), DEGREES),
    (("t CO2/MWh",), INTENSITY),
    (
        (
            "years",
            "GPU",
            "GPUs",
            "*unit*",
            "*stack*",
            "*wafer*",
            "sites",
            "steps",
            "Gbps",
            "km",
            "MWh",
            "t CO2",
            "TFLOP/s",
            "count",
        ),
        COUNT,
    ),
)
# Input workbooks are typed by hand: money there shows whole USD, as it was typed.
ENTRY_UNIT_RULES: NameRules = ((("USD",), WHOLE_USD), *UNIT_RULES)

# Columns whose unit is a row's: which cell of the same row names it, and how to read it
# ("name": a column name, matched by NAME_RULES; "unit": a unit; "priced": the quantity a
# "USD per <quantity>" price is per, as Constraints' limits and use are).
ROW_UNIT_SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "value": (("item", "name"), ("key", "name"), ("unit", "unit")),
    "default": (("column", "name"), ("unit", "unit")),
    "limit_value": (("unit", "priced"),),
    "used": (("unit", "priced"),),
    "slack": (("unit", "priced"),),
    "shadow_price": (("unit", "unit"),),
    "needed_change": (("column", "name"),),
    "current_value": (("column", "name"),),
    "new_value": (("column", "name"),),
    "plan_value": (("unit", "unit"), ("figure", "name")),
    "anchor_value": (("unit", "unit"), ("figure", "name")),
}


def _match(rules: NameRules, text: str, *, fold: bool) -> Shown | None:
    key = text.strip().lower() if fold else text.strip()
    for patterns, shown in rules:
        if any(fnmatchcase(key, p) for p in patterns):
            return shown
    return None


@functools.lru_cache(maxsize=4096)
def for_name(name: str) -> Shown | None:
    """The format a column (or a key/value row) of this name takes, or None.

    A row name such as ``run R1 flop_required`` is matched by its last word."""
    words = str(name).split()
    return _match(NAME_RULES, words[-1], fold=True) if words else None


@functools.lru_cache(maxsize=1024)
def for_unit(unit: str, *, entry: bool = False) -> Shown | None:
    """The format of a value in ``unit`` ("USD, discounted" -> M USD), or None."""
    head = str(unit).split(",")[0].split(" (")[0].strip()
    return _match(ENTRY_UNIT_RULES if entry else UNIT_RULES, head, fold=False) if head else None


def priced_quantity(unit: str) -> str | None:
    """The quantity a price is per: "USD per 1e24 FLOP" -> "FLOP" (the limit itself is in
    FLOP; the 1e24 only scales the price), "USD per MW" -> "MW"."""
    head = str(unit).split(" (")[0].strip()
    if not head.startswith("USD per "):
        return None
    words = head.removeprefix("USD per ").split()
    if len(words) > 1 and _is_number(words[0]):
        words = words[1:]
    return " ".join(words)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=1024)
def is_bool_column(name: str) -> bool:
    return any(fnmatchcase(str(name).lower(), p) for p in BOOL_NAMES)


def by_magnitude(value: float) -> Shown:
    """For a column no rule names: whole numbers with separators, scientific notation
    for the very large or small, else up to four decimals."""
    size = abs(value)
    if size >= 1e12 or 0 < size < 1e-3:
        return FLOP
    return COUNT if float(value).is_integer() else DECIMAL


def row_source(column: str, header: list[str]) -> list[tuple[int, str]]:
    """Where a row-valued column finds its unit in a table with this header: (index of
    the cell, how to read it); empty when the column follows its own name."""
    sources = ROW_UNIT_SOURCES.get(str(column).lower(), ())
    return [(header.index(col), how) for col, how in sources if col in header]


def from_row(row: list[Any], sources: list[tuple[int, str]]) -> Shown | None:
    """The format a row's cells say its row-valued column takes."""
    for index, how in sources:
        text = row[index] if index < len(row) else None
        if not isinstance(text, str) or not text:
            continue
        if how == "name":
            found = for_name(text)
        elif how == "unit":
            found = for_unit(text)
        else:
            quantity = priced_quantity(text)
            found = for_unit(quantity) if quantity else None
        if found is not None:
            return found
    return None


def resolve(
    column: str, value: Any, *, row_format: Shown | None = None, unit: str | None = None
) -> Shown | None:
    """The format of one cell: booleans, then the row's unit (row-valued columns), the
    column's declared unit (input sheets), its name, and finally the value's size."""
    if isinstance(value, bool):
        return BOOL
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if row_format is not None:
        return row_format
    if unit:
        found = for_unit(unit, entry=True)
        if found is not None:
            return found
    return for_name(column) or by_magnitude(value)


def billions(usd: float | None, *, suffix: str = " B USD") -> str:
    """Money in a headline (the CLI, ``MONEY_B`` in a workbook): ``33.626 B USD``; "-"
    for none."""
    if usd is None or not math.isfinite(usd):
        return "-"
    return f"{usd / 1e9:,.3f}{suffix}"


def as_bool(column: str, value: Any) -> Any:
    """A 0/1 number in a boolean column as a real boolean (it shows TRUE/FALSE)."""
    if is_bool_column(column) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return value
