"""Validated planning inputs: what the model and the exporter consume."""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.inputs.schema import (
    CoolingRow,
    ExportControlRow,
    FiberLinkRow,
    GpuMaterialRow,
    GpuRow,
    PowerSourceRow,
    RunRow,
    ScenarioRow,
    SettingsModel,
    SitePowerRow,
    SiteRow,
    SupplyRow,
    SweepRow,
    TransformerRow,
    UncertaintyRow,
)


@dataclass
class CellMap:
    """Where each input row and column sits in the workbook, for messages and explanations."""

    rows: dict[str, dict[tuple[str, ...], int]] = field(default_factory=dict)
    letters: dict[str, dict[str, str]] = field(default_factory=dict)
    unvalidated: dict[str, set[str]] = field(default_factory=dict)  # ids of invalid rows

    def cell(self, sheet: str, key: tuple[str, ...], column: str) -> str:
        """``Sheet!C14`` for a row key and column, or ``Sheet`` when unknown."""
        row = self.rows.get(sheet, {}).get(key)
        letter = self.letters.get(sheet, {}).get(column)
        if row is None or letter is None:
            return sheet
        return f"{sheet}!{letter}{row}"


@dataclass
class PlanningData:
    """Every sheet of a valid workbook, as typed rows."""

    settings: SettingsModel
    sites: list[SiteRow]
    power_sources: list[PowerSourceRow]
    site_power: list[SitePowerRow]
    transformers: list[TransformerRow]
    gpus: list[GpuRow]
    supply: list[SupplyRow]
    runs: list[RunRow]
    cooling: list[CoolingRow] = field(default_factory=list)
    export_controls: list[ExportControlRow] = field(default_factory=list)
    fiber_links: list[FiberLinkRow] = field(default_factory=list)
    gpu_materials: list[GpuMaterialRow] = field(default_factory=list)
    scenarios: list[ScenarioRow] = field(default_factory=list)
    sweeps: list[SweepRow] = field(default_factory=list)
    uncertainty: list[UncertaintyRow] = field(default_factory=list)
    cells: CellMap = field(default_factory=CellMap)
    source_name: str = ""
    source_sha256: str = ""

    @property
    def materials(self) -> dict[tuple[str, str], float]:
        """GPUMaterials amounts by (gpu_id, resource)."""
        return {(r.gpu_id, r.resource): r.amount_per_gpu for r in self.gpu_materials}

    @property
    def years(self) -> list[int]:
        return list(range(self.settings.start_year, self.settings.end_year + 1))


# Sheet name -> PlanningData attribute holding its rows.
SHEET_ATTRS: dict[str, str] = {
    "Sites": "sites",
    "Cooling": "cooling",
    "PowerSources": "power_sources",
    "SitePower": "site_power",
    "Transformers": "transformers",
    "GPUs": "gpus",
    "Supply": "supply",
    "ExportControls": "export_controls",
    "FiberLinks": "fiber_links",
    "GPUMaterials": "gpu_materials",
    "Runs": "runs",
    "Scenarios": "scenarios",
    "Sweeps": "sweeps",
    "Uncertainty": "uncertainty",
}
