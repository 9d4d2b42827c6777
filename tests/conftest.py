"""Shared fixtures: real .xlsx copies of the reference workbook and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "inputs" / "reference.xlsx"

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
WorkbookEditor = Callable[..., Path]


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    """A byte-for-byte copy of ``inputs/reference.xlsx`` in a temporary folder."""
    out = tmp_path / "reference.xlsx"
    shutil.copyfile(REFERENCE, out)
    return out


@pytest.fixture
def edited_workbook(tmp_path: Path) -> WorkbookEditor:
    """``make(edit, name=...)``: copy the reference, apply ``edit(wb)`` with openpyxl, save."""

    def make(edit: Callable[[Any], object], name: str = "edited.xlsx") -> Path:
        out = tmp_path / name
        shutil.copyfile(REFERENCE, out)
        wb = openpyxl.load_workbook(out)
        edit(wb)
        wb.save(out)
        wb.close()
        return out

    return make


@pytest.fixture(scope="session")
def cli() -> CliRunner:
    """Run ``python -m planner ARGS`` in a subprocess (cwd defaults to the repo root)."""

    def run(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["COLUMNS"] = "300"  # keep rich from wrapping long messages
        return subprocess.run(
            [sys.executable, "-m", "planner", *map(str, args)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run
