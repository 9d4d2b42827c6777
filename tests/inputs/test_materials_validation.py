"""GPUMaterials, country and volume Supply rows, and the new choice columns: validation
names the sheet, cell and value of every problem."""

from __future__ import annotations

from typing import Any

from test_validate import assert_invalid, errors_of, warnings_of

from planner.inputs.validate import validate_path


def without_reference_materials(wb: Any) -> None:
    """The reference without its GPUMaterials rows and logic-wafer Supply rows, so a test
    writes its own from row 2."""
    if "GPUMaterials" in wb.sheetnames:
        del wb["GPUMaterials"]
    ws = wb["Supply"]
    col = [c.value for c in ws[1]].index("resource") + 1
    for r in range(ws.max_row, 1, -1):
        if str(ws.cell(row=r, column=col).value or "").startswith("wafers_"):
            ws.delete_rows(r)


def add_materials(wb: Any, *rows: tuple[Any, ...]) -> None:
    without_reference_materials(wb)
    if "GPUMaterials" not in wb.sheetnames:
        wb.create_sheet("GPUMaterials").append(["gpu_id", "resource", "amount_per_gpu"])
    ws = wb["GPUMaterials"]
    for row in rows:
        ws.append(list(row))


def add_supply(wb: Any, *rows: tuple[Any, ...]) -> None:
    for row in rows:
        wb["Supply"].append(list(row))


def test_materials_and_country_rows_are_valid(edited_workbook: Any) -> None:
    def edit(wb: Any) -> None:
        add_materials(wb, ("B200", "wafers_n4", 1 / 29))
        add_supply(wb, (2027, "wafers_n4", 1000, ""), (2027, "h100e", 1e6, "Malaysia"))

    data, problems = validate_path(edited_workbook(edit))
    assert data is not None, errors_of(problems)
    assert data.materials[("B200", "wafers_n4")] > 0


def test_bad_material_rows_are_named(edited_workbook: Any) -> None:
    def edit(wb: Any) -> None:
        add_materials(
            wb,
            ("NoSuchGPU", "wafers_n4", 0.1),
            ("B200", "wafers_n3", -1),
            ("B200", "cowos_wafers", 0.05),  # B200 already has cowos_wafers_per_kgpu
            ("H100", "gpus", 1),
        )

    assert_invalid(
        edited_workbook(edit),
        None,
        "GPUMaterials!A2 gpu_id = 'NoSuchGPU': no GPU with this id",
        "GPUMaterials!C3 amount_per_gpu = -1",
        "GPUMaterials!B4 resource = 'cowos_wafers': GPUs.cowos_wafers_per_kgpu of B200",
        "GPUMaterials!B5 resource = 'gpus': is counted by the planner itself",
    )


def test_supply_of_an_unknown_or_unused_resource(edited_workbook: Any) -> None:
    def edit(wb: Any) -> None:
        add_materials(wb, ("B200", "wafers_n4", 0))
        add_supply(wb, (2027, "wafers_n4", 10, ""), (2027, "unobtainium", 10, ""))

    errors = assert_invalid(edited_workbook(edit), None, "Supply!")
    assert any("'unobtainium'" in e for e in errors), errors


def test_a_country_no_site_is_in_is_a_warning(edited_workbook: Any) -> None:
    def edit(wb: Any) -> None:
        add_supply(wb, (2027, "gpus", 10, "Atlantis"))

    data, problems = validate_path(edited_workbook(edit))
    assert data is not None
    assert any(
        "'Atlantis'" in w and "no site is in this country" in w for w in warnings_of(problems)
    )


def test_a_bad_choice_is_named(edited_workbook: Any) -> None:
    def edit(wb: Any) -> None:
        ws = wb["Runs"]
        col = [c.value for c in ws[1]].index("gpu_mix") + 1
        ws.cell(row=2, column=col, value="mixed")
        ws.cell(row=3, column=col, value=" RUN ")  # case and spaces do not matter

    errors = assert_invalid(edited_workbook(edit), None, "Runs!")
    assert any("must be one of any, site, run, vendor (not 'mixed')" in e for e in errors), errors
