"""Reading a workbook file safely into raw rows (no validation here).

Files come from many hands, so the file itself is checked before openpyxl sees it:
it must be a zip holding an Excel workbook, small enough once unpacked, and XML is
parsed by defusedxml (openpyxl uses it when installed), which refuses entity bombs.
"""

from __future__ import annotations

import hashlib
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.inputs.problems import InputError, Problem

MAX_UNPACKED_BYTES = 400_000_000
MAX_COMPRESSION_RATIO = 200
MAX_BLANK_RUN = 1000  # stop reading a sheet after this many blank rows in a row
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
        for ws in wb.worksheets:
            sheets[ws.title.strip()] = _read_sheet(ws, get_column_letter)
    except Exception as exc:
        raise _fail(path, f"cannot be read as an Excel workbook: {_reason(exc)}") from None
    finally:
        wb.close()
    return RawWorkbook(path=path, sha256=file_sha256(path), sheets=sheets)


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


def _read_sheet(ws: Any, letter_of: Any) -> RawSheet:
    rows_iter = ws.iter_rows(values_only=True)
    header_cells: tuple[Any, ...] = ()
    header_row = 0
    for idx, values in enumerate(rows_iter, start=1):
        if any(_present(v) for v in values):
            header_cells, header_row = values, idx
            break
        if idx >= MAX_BLANK_RUN:
            break
    header = [(str(v).strip(), letter_of(i + 1)) for i, v in enumerate(header_cells) if _present(v)]
    positions = [i for i, v in enumerate(header_cells) if _present(v)]
    sheet = RawSheet(
        name=ws.title.strip(),
        header=header,
        hidden=getattr(ws, "sheet_state", "visible") != "visible",
        header_row=max(header_row, 1),
    )
    blank_run = 0
    for offset, values in enumerate(rows_iter, start=header_row + 1):
        cells = {
            header[k][0]: values[i] if i < len(values) else None for k, i in enumerate(positions)
        }
        if not any(_present(v) for v in cells.values()):
            blank_run += 1
            if blank_run >= MAX_BLANK_RUN:
                break
            continue
        blank_run = 0
        sheet.rows.append((offset, cells))
    return sheet


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())
