"""Workbooks edited as XML in memory: mutations cheap enough for thousands of fuzz cases.

openpyxl takes a tenth of a second to load and save a workbook; editing the sheet XML
of a parsed copy and writing an uncompressed zip takes a millisecond. It also writes what
openpyxl will not: sheet names that differ only in case, literal ``NaN`` numbers,
formulas with no saved value, rows thousands of rows apart.

Sheets are those openpyxl writes in write-only mode (``planner synth``, the reference):
one ``<row r=..>`` per row, each ``<c r=..>`` cell with its own reference.
"""

from __future__ import annotations

import copy
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import column_index_from_string

ROW = re.compile(r'<row r="(\d+)"[^>]*?(?:/>|>(.*?)</row>)', re.S)
CELL = re.compile(r'<c r="([A-Z]+)\d+"[^>]*?(?:/>|>.*?</c>)', re.S)
SHEET_ENTRY = re.compile(r"<sheet [^>]*?/>", re.S)
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


@dataclass
class SheetXml:
    """A sheet's XML around its rows, and the rows as {row: {column index: cell XML}}."""

    head: str
    rows: dict[int, dict[int, str]]
    tail: str

    @classmethod
    def parse(cls, xml: str) -> SheetXml:
        if "<sheetData/>" in xml or "<sheetData />" in xml:
            head, _, tail = xml.partition("<sheetData")
            return cls(head, {}, tail.partition("/>")[2])
        head, _, rest = xml.partition("<sheetData>")
        body, _, tail = rest.partition("</sheetData>")
        rows: dict[int, dict[int, str]] = {}
        for match in ROW.finditer(body):
            cells = {
                column_index_from_string(c.group(1)): c.group(0)
                for c in CELL.finditer(match.group(2) or "")
            }
            rows[int(match.group(1))] = cells
        return cls(head, rows, tail)

    def render(self) -> str:
        body = "".join(
            f'<row r="{r}">{"".join(cells[c] for c in sorted(cells))}</row>'
            for r, cells in sorted(self.rows.items())
        )
        return f"{self.head}<sheetData>{body}</sheetData>{self.tail}"

    def last_row(self) -> int:
        return max(self.rows, default=0)

    def set(self, row: int, column: int, cell: str) -> None:
        """Put a cell (from ``cell_xml``) at (row, column), replacing what was there."""
        self.rows.setdefault(row, {})[column] = cell


def ref(row: int, column: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(column)}{row}"


def text_cell(at: str, text: str) -> str:
    return f'<c r="{at}" t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def number_cell(at: str, literal: str) -> str:
    """A number as written in the XML: ``1e+300``, or what Excel never writes (``NaN``)."""
    return f'<c r="{at}" t="n"><v>{escape(literal)}</v></c>'


def formula_cell(at: str, formula: str, cached: str | None = None, kind: str = "n") -> str:
    """A formula, with no saved value (as openpyxl and many programs write them) or with
    one of type ``kind``: n (number), str (text), e (an error such as ``#DIV/0!``)."""
    value = "" if cached is None else f"<v>{escape(cached)}</v>"
    return f'<c r="{at}" t="{kind}"><f>{escape(formula)}</f>{value}</c>'


def blank_cell(at: str) -> str:
    return f'<c r="{at}" s="0"/>'


@dataclass
class XmlBook:
    """A workbook's zip parts, its sheets in order as (name, part), the sheets parsed
    (shared with the book it was copied from) and those edited (its own copies)."""

    parts: dict[str, bytes]
    sheets: list[tuple[str, str]]
    parsed: dict[str, SheetXml] = field(default_factory=dict)
    edited: dict[str, SheetXml] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, drop: tuple[str, ...] = ()) -> XmlBook:
        """The workbook at ``path`` without the sheets named in ``drop``."""
        with zipfile.ZipFile(path) as zf:
            parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
        rels = parts["xl/_rels/workbook.xml.rels"].decode()
        targets = dict(re.findall(r'Target="/?(?:xl/)?([^"]+)" Id="(rId\d+)"', rels))
        by_id = {rid: f"xl/{target}" for target, rid in targets.items()}
        sheets = []
        for entry in SHEET_ENTRY.findall(parts["xl/workbook.xml"].decode()):
            name = re.search(r'name="([^"]*)"', entry)
            rid = re.search(r'r:id="([^"]*)"', entry)
            assert name and rid, entry
            sheets.append((name.group(1), by_id[rid.group(1)]))
        book = cls(parts, [(n, p) for n, p in sheets if n not in drop])
        for _, part in book.sheets:  # parsed once here, copied per case only when edited
            book.parsed[part] = SheetXml.parse(parts[part].decode())
        return book

    def names(self) -> list[str]:
        return [n for n, _ in self.sheets]

    def copy(self) -> XmlBook:
        """A book to edit; the parsed sheets are shared until one is edited."""
        edited = {part: copy.deepcopy(sheet) for part, sheet in self.edited.items()}
        return XmlBook(self.parts, list(self.sheets), self.parsed, edited)

    def part_of(self, name: str) -> str:
        return next(p for n, p in self.sheets if n == name)

    def sheet(self, name: str) -> SheetXml:
        """Sheet ``name`` to read or edit (this book's own copy)."""
        part = self.part_of(name)
        if part not in self.edited:
            self.edited[part] = copy.deepcopy(self.parsed[part])
        return self.edited[part]

    def add_copy(self, name: str, new_name: str) -> None:
        """A copy of sheet ``name``, as edited so far, under ``new_name``, at the end."""
        part = f"xl/worksheets/added{len(self.sheets) + 1}.xml"
        self.edited[part] = copy.deepcopy(self.sheet(name))
        self.sheets.append((new_name, part))

    def rename(self, name: str, new_name: str) -> None:
        self.sheets = [(new_name if n == name else n, p) for n, p in self.sheets]

    def save(self, path: Path) -> Path:
        """Write the workbook, uncompressed (fast), with its sheet list and relations."""
        parts = dict(self.parts)
        for part, sheet in self.edited.items():
            parts[part] = sheet.render().encode()
        parts["xl/workbook.xml"] = self._workbook_xml(parts["xl/workbook.xml"].decode())
        parts["xl/_rels/workbook.xml.rels"] = self._relations(parts)
        parts["[Content_Types].xml"] = self._content_types(parts)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
            for name, data in parts.items():
                zf.writestr(name, data)
        return path

    def _rid(self, index: int) -> str:
        return f"rIdSheet{index}"

    def _workbook_xml(self, xml: str) -> bytes:
        entries = "".join(
            f'<sheet name={quoteattr(n)} sheetId="{i}" state="visible" r:id="{self._rid(i)}"/>'
            for i, (n, _) in enumerate(self.sheets, start=1)
        )
        head, _, rest = xml.partition("<sheets>")
        return f"{head}<sheets>{entries}</sheets>{rest.partition('</sheets>')[2]}".encode()

    def _relations(self, parts: dict[str, bytes]) -> bytes:
        xml = parts["xl/_rels/workbook.xml.rels"].decode()
        added = "".join(
            f'<Relationship Type="{RELATIONSHIP}" Target="/{p}" Id="{self._rid(i)}"/>'
            for i, (_, p) in enumerate(self.sheets, start=1)
        )
        return xml.replace("</Relationships>", added + "</Relationships>").encode()

    def _content_types(self, parts: dict[str, bytes]) -> bytes:
        xml = parts["[Content_Types].xml"].decode()
        new = "".join(
            f'<Override PartName="/{p}" ContentType="{WORKSHEET_TYPE}"/>'
            for _, p in self.sheets
            if f'PartName="/{p}"' not in xml
        )
        return xml.replace("</Types>", new + "</Types>").encode()
