"""Writing workbooks for people: formatted tables, safe text, atomic saves."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

HEADER_FONT = Font(bold=True, color="FFFFFF")
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


def number_format(column: str, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if column == "year" or column.endswith("_year") or column in ("start_year", "end_year"):
        return "0"
    if column in ("flop", "flop_required", "flop_delivered") or column.startswith("flop"):
        return "0.00E+00"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1000:
        return "#,##0"
    if abs(value) >= 1000:
        return "#,##0"
    return "#,##0.###"


def write_table(
    ws: Any,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: dict[str, float] | None = None,
) -> int:
    """Header + rows, frozen header, number formats and widths; returns the row count.

    Rows are appended as cells, so ``ws`` may be a write-only sheet (``new_workbook(
    write_only=True)``: streamed to disk, several times faster on large plans); widths
    and the frozen header are therefore set before the first row.
    """
    rows = [list(r) for r in rows]
    longest = [len(str(c)) for c in columns]
    for row in rows:
        for j, value in enumerate(row[: len(longest)]):
            longest[j] = max(longest[j], min(len(_shown(safe_value(value))), 60))
    for j, name in enumerate(columns, start=1):
        width = (widths or {}).get(name, longest[j - 1] + 3)
        ws.column_dimensions[get_column_letter(j)].width = max(8, width)
    ws.freeze_panes = "A2"
    header = []
    for name in columns:
        cell = _cell(ws, name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = CENTRED
        header.append(cell)
    ws.append(header)
    for row in rows:
        cells = []
        for j, value in enumerate(row):
            cell = _cell(ws, value)
            fmt = number_format(columns[j] if j < len(columns) else "", cell.value)
            if fmt:
                cell.number_format = fmt
            cells.append(cell)
        ws.append(cells)
    return len(rows)


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1e9 else f"{value:.2e}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
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
