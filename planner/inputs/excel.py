"""Writing workbooks for people: formatted tables, safe text, atomic saves."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import tempfile
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from copy import copy
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from planner.inputs.formats import Shown, as_bool, from_row, resolve, row_source

# The font named: a client without a default for an unnamed font picks a serif one.
HEADER_FONT = Font(name="Calibri", bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
FORMULA_LEADS = ("=", "+", "-", "@")
CENTRED = Alignment(horizontal="center")
# Every file this process has written (so that Ctrl-C can say what it left behind).
WRITTEN: list[Path] = []


def safe_value(value: Any) -> Any:
    """A cell value that can never run as a formula, and never NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalar
    return value


def _cell(ws: Any, value: Any) -> Cell:
    """A detached cell (for ``ws.append``, write-only sheets included) holding safe text."""
    value = safe_value(value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        # openpyxl treats any string starting with "=" as a formula; force text.
        cell.data_type = "s"
    return cell


# Text wider than this wraps in its cell instead of widening the column.
TEXT_WIDTH = 60
LINE_POINTS = 15.0  # one line of the default 11 pt font
CHARS_PER_WIDTH = 1.1  # text characters a column-width unit holds (proportional font)
HEADER_ROW = "1:1"


def print_setup(ws: Any, *, title_row: bool = True) -> None:
    """Landscape, one page wide and as many tall as it takes, the header row on every
    page. Call before the first row of a write-only sheet: its properties go first."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    if title_row:
        ws.print_title_rows = HEADER_ROW


def _formatted(
    header: list[str],
    rows: Iterable[Sequence[Any]],
    units: Mapping[str, str],
    overrides: Mapping[str, Shown],
) -> list[list[tuple[Any, Shown | None]]]:
    """Every cell's safe value and format (``planner.inputs.formats``)."""
    sources = [row_source(name, header) for name in header]
    out = []
    for raw in rows:
        row = [
            as_bool(header[j], safe_value(v)) if j < len(header) else safe_value(v)
            for j, v in enumerate(raw)
        ]
        key = overrides.get(row[0]) if row and isinstance(row[0], str) else None
        cells = []
        for j, value in enumerate(row):
            name = header[j] if j < len(header) else ""
            fmt = None
            if isinstance(value, int | float) and not isinstance(value, bool):
                fmt = overrides.get(name) or key
            if fmt is None:
                row_fmt = from_row(row, sources[j]) if j < len(sources) and sources[j] else None
                fmt = resolve(name, value, row_format=row_fmt, unit=units.get(name))
            cells.append((value, fmt))
        out.append(cells)
    return out


def _widths(header: list[str], rows: list[list[tuple[Any, Shown | None]]]) -> list[float]:
    """Column widths that fit the formatted values and the (bold) header."""
    widest = [len(name) * 1.15 for name in header]
    for row in rows:
        for j, (value, fmt) in enumerate(row[: len(header)]):
            text = fmt.text(value) if fmt is not None else _shown(value)
            widest[j] = max(widest[j], min(len(text), TEXT_WIDTH))
    return [max(8.0, w + 3) for w in widest]


def write_table(
    ws: Any,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: dict[str, float] | None = None,
    *,
    units: Mapping[str, str] | None = None,
    formats: Mapping[str, Shown] | None = None,
) -> int:
    """Header + rows, frozen header, number formats by unit, widths and page setup;
    returns the row count.

    Formats come from ``planner.inputs.formats`` (the column's name, or a row's unit);
    ``units`` gives columns a declared unit (an input sheet's schema), ``formats`` fixes
    a column's or a key/value row's format. Rows are appended as cells, so ``ws`` may be
    a write-only sheet (streamed to disk, several times faster on large plans); widths,
    the frozen header and the page setup are therefore set before the first row.
    """
    header = [str(c) for c in columns]
    cells = _formatted(header, rows, units or {}, formats or {})
    fitted = _widths(header, cells)
    for j, name in enumerate(header):
        fitted[j] = (widths or {}).get(name, fitted[j])
        ws.column_dimensions[get_column_letter(j + 1)].width = fitted[j]
    ws.freeze_panes = "A2"
    print_setup(ws)
    heading = []
    for name in header:
        cell = _cell(ws, name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = CENTRED
        heading.append(cell)
    ws.append(heading)
    styles: dict[StyleKey, Any] = {}
    for i, row in enumerate(cells, start=2):
        lines = _lines(row, fitted)
        if lines > 1:  # no client sizes the row for wrapped text it did not type
            ws.row_dimensions[i].height = LINE_POINTS * lines
        ws.append([_styled(ws, value, fmt, lines > 1, styles) for value, fmt in row])
    return len(cells)


def _lines(row: list[tuple[Any, Shown | None]], widths: list[float]) -> int:
    """How many lines the row's longest wrapped text takes in its column."""
    lines = 1
    for (value, _fmt), width in zip(row, widths, strict=False):
        fits = int((width - 1) * CHARS_PER_WIDTH)
        if isinstance(value, str) and len(value) > fits:
            lines = max(lines, len(textwrap.wrap(value, max(1, fits))))
    return lines


StyleKey = tuple[str | None, str | None, bool, bool]


def _styled(
    ws: Any, value: Any, fmt: Shown | None, wrap: bool, styles: dict[StyleKey, Any]
) -> Cell:
    """A cell with its number format; in a row of wrapped text every cell sits at the top
    (text wraps), so a label stays level with the first line of its text.

    openpyxl registers a style per cell assignment (a hash of every style part); a table
    has a handful of distinct styles, so each is built once and its style array copied
    onto the cells that share it (twice as fast on a large plan)."""
    cell = _cell(ws, value)
    text = isinstance(cell.value, str)
    key = (fmt.code if fmt else None, fmt.align if fmt else None, wrap, text)
    known = styles.get(key)
    if known is not None:
        cell._style = copy(known)
        return cell
    if fmt is not None:
        cell.number_format = fmt.code
    if wrap or text or (fmt is not None and fmt.align):
        horizontal = fmt.align if fmt is not None else ("left" if text else None)
        cell.alignment = _alignment(horizontal, wrap, text)
    styles[key] = copy(cell._style)
    return cell


@functools.lru_cache(maxsize=32)
def _alignment(horizontal: str | None, wrap: bool, text: bool) -> Alignment:
    return Alignment(
        horizontal=horizontal,
        vertical="top" if wrap else None,
        wrap_text=(wrap and text) or None,
        # Text starts a space in: a right-aligned number beside it does not touch it.
        indent=1 if text else 0,
    )


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


def new_workbook(write_only: bool = False) -> Workbook:
    wb = Workbook(write_only=write_only)
    default = None if write_only else wb.active
    if default is not None:
        wb.remove(default)
    return wb


def save_atomic(wb: Workbook, out: Path, *, inputs: Sequence[Path] = ()) -> Path:
    """Save to a temporary file beside ``out`` and rename it over, never over an input.

    If ``out``'s folder cannot be written, the file goes next to the current directory's
    ``outputs/`` instead and the caller is told where (the returned path).
    """
    out = Path(out)
    for src in inputs:
        with contextlib.suppress(OSError):
            if out.resolve() == Path(src).resolve():
                raise ValueError(f"refusing to overwrite the input workbook {src}")
    name = f"{out.stem}-{os.getpid()}{out.suffix}"
    # The requested path first; then beside it, the current folder and the temp folder.
    candidates = [out, out.with_name(name), Path.cwd() / name, Path(tempfile.gettempdir()) / name]
    error: OSError | None = None
    for target in candidates:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            return _write_replace(wb, target)
        except OSError as exc:
            error = error or exc
    assert error is not None
    raise error


def _mode_for(out: Path) -> int:
    """A replaced file keeps its permissions; a new one gets the usual 0666 & ~umask."""
    try:
        return out.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _write_replace(wb: Workbook, out: Path) -> Path:
    if out.is_dir():
        raise IsADirectoryError(f"{out} is a folder")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}-", suffix=".xlsx.tmp", dir=out.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(out))
        os.replace(tmp, out)
        WRITTEN.append(out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return out
