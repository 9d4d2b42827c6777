"""Reading a workbook file safely into raw rows (no validation here).

Files come from many hands, so the file itself is checked before openpyxl sees it:
it must be a zip holding an Excel workbook, small enough once unpacked, and XML is
parsed by defusedxml (openpyxl uses it when installed), which refuses entity bombs.
"""

from __future__ import annotations

import hashlib
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.inputs.problems import InputError, Problem

MAX_UNPACKED_BYTES = 400_000_000
MAX_COMPRESSION_RATIO = 200
# Rows a sheet may hold, blank or not: a bound on the work and memory a file can demand,
# not on where its data may sit (rows after any run of blank rows are read).
MAX_SHEET_ROWS = 200_000
ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class RawSheet:
    """A sheet as found: header names with their letters, then (excel_row, values) rows."""

    name: str
    header: list[tuple[str, str]]  # (column name, letter)
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    hidden: bool = False
    header_row: int = 1


@dataclass
class RawWorkbook:
    path: Path
    sha256: str
    sheets: dict[str, RawSheet]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fail(path: Path, message: str) -> InputError:
    return InputError([Problem(sheet=path.name, message=message)])


def check_file(path: Path) -> None:
    """Refuse what is not a readable, reasonably sized .xlsx before parsing it."""
    if not path.exists():
        raise _fail(path, "file not found")
    if path.is_dir():
        raise _fail(path, "is a folder, not an Excel workbook")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xls", ".ods", ".txt"):
        raise _fail(path, f"is a {suffix} file: save it as an Excel workbook (.xlsx)")
    with path.open("rb") as fh:
        head = fh.read(8)
    if not head:
        raise _fail(path, "is empty: expected an Excel workbook (.xlsx)")
    if head.startswith(OLE_MAGIC):
        raise _fail(
            path,
            "is a password-protected workbook or an old .xls file: "
            "remove the password and save it as .xlsx",
        )
    if not head.startswith(b"PK"):
        raise _fail(path, "is not an Excel workbook (.xlsx); is it a CSV or text file renamed?")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names:
                raise _fail(path, "is a zip file but not an Excel workbook (no xl/workbook.xml)")
            unpacked = sum(i.file_size for i in zf.infolist())
            packed = max(1, sum(i.compress_size for i in zf.infolist()))
    except zipfile.BadZipFile as exc:
        raise _fail(path, f"is damaged or truncated and cannot be opened ({exc})") from None
    if unpacked > MAX_UNPACKED_BYTES or unpacked / packed > MAX_COMPRESSION_RATIO:
        raise _fail(
            path,
            f"unpacks to {unpacked:,} bytes from {packed:,}: refused as a possible "
            "decompression bomb",
        )


def read_workbook(path: Path | str) -> RawWorkbook:
    """Read every sheet's header and non-blank rows, values only (no formulas)."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    path = Path(path)
    check_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise _fail(path, f"cannot be read as an Excel workbook: {_reason(exc)}") from None
    sheets: dict[str, RawSheet] = {}
    try:
        _refuse_look_alikes([ws.title for ws in wb.worksheets])
        for ws in wb.worksheets:
            _refuse_huge(ws)
            sheets[ws.title.strip()] = _read_sheet(ws, get_column_letter)
    except InputError:
        raise
    except Exception as exc:
        raise _fail(path, f"cannot be read as an Excel workbook: {_reason(exc)}") from None
    finally:
        wb.close()
    return RawWorkbook(path=path, sha256=file_sha256(path), sheets=sheets)


def _refuse_look_alikes(titles: list[str]) -> None:
    """Sheet names that differ only in case or surrounding spaces: which one is meant?"""
    seen: dict[str, str] = {}
    problems = []
    for title in titles:
        key = title.strip().casefold()
        if key in seen:
            problems.append(
                Problem(
                    sheet=title,
                    message=f"sheets {seen[key]!r} and {title!r} differ only in case or "
                    "spaces; keep one of them (or rename the other)",
                )
            )
        seen.setdefault(key, title)
    if problems:
        raise InputError(problems)


def _refuse_huge(ws: Any) -> None:
    """Count the rows of a sheet's XML (fast, streamed) before openpyxl parses them."""
    count, buf = 0, b""
    with ws._get_source() as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            buf += chunk
            # A tag may start at the last "<" and end in the next chunk: keep it.
            cut = buf.rfind(b"<")
            cut = len(buf) if cut < 0 else cut
            count += len(ROW_TAG.findall(buf, 0, cut))
            buf = buf[cut:]
    count += len(ROW_TAG.findall(buf))
    if count > MAX_SHEET_ROWS:
        raise InputError(
            [
                Problem(
                    sheet=ws.title,
                    message=f"holds {count:,} rows (blank ones included); more than "
                    f"{MAX_SHEET_ROWS:,} are refused: delete the unused rows",
                )
            ]
        )


def _reason(exc: BaseException) -> str:
    # openpyxl wraps defusedxml's refusal in its own error: look down the chain.
    seen: BaseException | None = exc
    while seen is not None:
        name = type(seen).__name__
        if name in (
            "EntitiesForbidden",
            "DTDForbidden",
            "ExternalReferenceForbidden",
            "DefusedXmlException",
        ):
            return "it contains XML entity or DTD declarations, refused as unsafe"
        seen = seen.__cause__ or seen.__context__
    text = " ".join((str(exc) or type(exc).__name__).split())
    return text if len(text) <= 200 else text[:197] + "..."


class UncachedFormula(str):
    """A formula cell saved without its value (written by a program, never recalculated
    in Excel): validation names it as a formula rather than as an empty cell."""

    def __new__(cls, formula: str) -> UncachedFormula:
        return super().__new__(cls, f"={formula} (a formula with no saved value)")


class ExcelError(str):
    """An Excel error value (``#DIV/0!``, ``#N/A``, ``#REF!``): a formula that failed.
    Validation names it in any column; a text column would take it as an id or name."""


def _cell_parser() -> type:
    """openpyxl's sheet parser, telling formulas without a saved value apart from empty
    cells, and keeping a number it cannot read (a literal ``NaN``) as text for validation
    to name by cell, instead of failing the whole file."""
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class CellParser(WorkSheetParser):
        def parse_cell(self, element: Any) -> dict[str, Any]:
            try:
                cell: dict[str, Any] = super().parse_cell(element)
            except ValueError:
                counter: int = getattr(self, "col_counter", 0)
                row, column = self.row_counter, counter + 1
                if element.get("r"):
                    from openpyxl.utils.cell import coordinate_to_tuple

                    row, column = coordinate_to_tuple(element.get("r"))
                self.col_counter = column
                text = element.findtext(VALUE_TAG, "")
                return {
                    "row": row,
                    "column": column,
                    "value": text,
                    "data_type": "s",
                    "style_id": 0,
                }
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                cell["value"] = UncachedFormula(element.findtext(FORMULA_TAG) or "")
            elif cell["data_type"] == "e" and isinstance(cell["value"], str):
                cell["value"] = ExcelError(cell["value"])
            return cell

    return CellParser


def stored_rows(ws: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(Excel row number, values) of the rows a read-only sheet stores, skipping the rows
    it does not store. openpyxl's ``iter_rows`` yields a blank row for every missing
    one, so a single cell at row 1,000,000 would cost a million empty rows; its parser
    (the same one ``iter_rows`` uses; openpyxl is pinned below 3.2) gives the stored rows
    with their numbers."""
    wb = ws.parent
    with ws._get_source() as src:
        parser = _cell_parser()(
            src,
            ws._shared_strings,
            data_only=wb.data_only,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        )
        for number, cells in parser.parse():
            yield number, tuple(ws._get_row(cells, 1, None, values_only=True))


def _read_sheet(ws: Any, letter_of: Any) -> RawSheet:
    rows = stored_rows(ws)
    header_cells: tuple[Any, ...] = ()
    header_row = 0
    for number, values in rows:
        if any(_present(v) for v in values):
            header_cells, header_row = values, number
            break
    header = [(str(v).strip(), letter_of(i + 1)) for i, v in enumerate(header_cells) if _present(v)]
    positions = [i for i, v in enumerate(header_cells) if _present(v)]
    sheet = RawSheet(
        name=ws.title.strip(),
        header=header,
        hidden=getattr(ws, "sheet_state", "visible") != "visible",
        header_row=max(header_row, 1),
    )
    for number, values in rows:
        cells = {
            header[k][0]: values[i] if i < len(values) else None for k, i in enumerate(positions)
        }
        if any(_present(v) for v in cells.values()):
            sheet.rows.append((number, cells))
    return sheet


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())
