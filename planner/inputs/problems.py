"""Problems found in a workbook, reported in spreadsheet terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) at a place in the workbook."""

    sheet: str
    message: str
    row: int | None = None
    column: str | None = None
    letter: str | None = None
    value: Any = None
    severity: str = "error"

    def __str__(self) -> str:
        where = self.sheet
        if self.row is not None:
            where += f"!{self.letter or ''}{self.row}"
        if self.column is not None:
            shown = _show(self.value)
            return f"{where} {self.column} = {shown}: {self.message}"
        return f"{where}: {self.message}"


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    return short(repr(value) if isinstance(value, str) else f"{value}")


def short(text: str, limit: int = 60) -> str:
    """Text from a workbook, cut to a readable length for a message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class InputError(Exception):
    """The workbook cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
