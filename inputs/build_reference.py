"""Rebuild ``inputs/reference.xlsx`` from ``inputs/reference_data.py``.

Run: ``python inputs/build_reference.py`` (the workbook is committed; rerun after
editing the data).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from planner.inputs.template import write_input_workbook

HERE = Path(__file__).resolve().parent


def _data_module():  # noqa: ANN202 - a plain data module
    spec = importlib.util.spec_from_file_location("reference_data", HERE / "reference_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(out: Path = HERE / "reference.xlsx") -> Path:
    ref = _data_module()
    settings = {row["key"]: row["value"] for row in ref.SHEETS["Settings"]}
    tables = {name: rows for name, rows in ref.SHEETS.items() if name != "Settings"}
    tables["Scenarios"] = ref.SCENARIOS
    tables["Sweeps"] = ref.SWEEPS
    tables["Uncertainty"] = ref.UNCERTAINTY
    return write_input_workbook(out, settings, tables, extra_sheets={"Sources": ref.SOURCES})


if __name__ == "__main__":
    print(f"wrote {build()}")
