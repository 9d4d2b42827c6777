"""The workbook contract: every sheet, column, unit, range and description.

This module is the single source of truth for inputs. The reader, the validator's
messages, the blank template and its ``Guide`` sheet are all derived from it.
Each row model field carries ``json_schema_extra`` with its ``unit`` and the
``expect`` text a spreadsheet user sees when a value is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.fields import FieldInfo

# Magnitudes the solver can take. The model works in MW, millions of USD, 1e24 FLOP and
# counts; HiGHS treats 1e20 as infinite and solves to tolerances near 1e-7, so inputs are
# kept where their scaled values stay within about 1e-3..1e9. The bounds sit orders of
# magnitude beyond any real build (a 1 TW site, a 1e34 FLOP run, a 10 T USD link).
MAX_MW = 1e6
MAX_USD = 1e13
MAX_USD_PER_MWH = 1e5
MAX_TFLOPS = 1e6
MAX_KW_PER_GPU = 1e5
MAX_PER_GPU = 1e5
MAX_COUNT = 1e12
MAX_KM = 1e5
MAX_GBPS = 1e10
MAX_GBPS_PER_PFLOPS = 1e6
MAX_FLOP = 1e34
MIN_MFU = 1e-3
MAX_SECONDS = 1e6
# Positive values the model divides by (or whose reciprocal sizes a bound): far below any
# real one, and far enough from zero that no bound or coefficient becomes infinite.
MIN_FRACTION = 1e-3
MIN_TFLOPS = 1e-3
MIN_KW_PER_GPU = 1e-6
MIN_DAYS = 1e-3
MIN_MVA = 1e-3


def col(
    description: str,
    unit: str = "",
    *,
    default: Any = ...,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    kind: str = "number",
    most: float | None = None,
    least: float | None = None,
    choices: tuple[str, ...] = (),
) -> Any:
    """A workbook column: its meaning, unit and allowed range in one place. ``most`` and
    ``least`` bound a positive value's size to what the solver can take (``Row``);
    ``choices`` are the words a text column may hold (compared case-insensitively)."""
    if choices:
        kind = "choice"
    return Field(
        default,
        description=description,
        ge=ge,
        gt=gt,
        le=le,
        lt=lt,
        json_schema_extra={
            "unit": unit,
            "expect": expect_text(kind, unit, ge=ge, gt=gt, le=le, lt=lt, choices=choices),
            "most": most,
            "least": least,
            "choices": list(choices),
        },
    )


def expect_text(
    kind: str,
    unit: str,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple[str, ...] = (),
) -> str:
    """What a valid value looks like, in words ("a positive number of MW")."""
    if kind == "choice":
        return f"must be one of {', '.join(choices)}"
    if kind == "text":
        return "a non-empty text id"
    if kind == "bool":
        return "TRUE or FALSE"
    noun = "a whole number" if kind == "int" else "a number"
    of_unit = f" of {unit}" if unit and unit not in ("fraction", "year", "ratio") else ""
    if kind == "year":
        noun, of_unit = "a calendar year", ""
    if gt == 0 and le is None and lt is None:
        return f"must be a positive {noun.removeprefix('a ')}{of_unit}"
    parts = []
    if ge is not None:
        parts.append(f">= {ge:g}")
    if gt is not None:
        parts.append(f"> {gt:g}")
    if le is not None:
        parts.append(f"<= {le:g}")
    if lt is not None:
        parts.append(f"< {lt:g}")
    rng = f" {' and '.join(parts)}" if parts else ""
    return f"must be {noun}{of_unit}{rng}"


class Row(BaseModel):
    """One data row of a sheet; numbers must be finite."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _solver_magnitude(cls, value: Any, info: ValidationInfo) -> Any:
        """A value beyond what the solver can take is refused with its own reason."""
        extra = cls.model_fields[info.field_name].json_schema_extra if info.field_name else None
        if not isinstance(extra, dict):
            return value
        if extra.get("choices") and isinstance(value, str):
            return _choice(value, extra["choices"], str(extra.get("expect", "")))
        if not isinstance(value, int | float):
            return value
        unit = f" {extra.get('unit')}" if extra.get("unit") else ""
        most, least = extra.get("most"), extra.get("least")
        if isinstance(most, float) and value > most:
            raise ValueError(
                f"{value:g} is beyond what the solver can take (at most {most:g}{unit})"
            )
        if isinstance(least, float) and 0 < value < least:
            raise ValueError(
                f"{value:g} is below what the solver can take (at least {least:g}{unit})"
            )
        return value


def facility_life(thing: str) -> Any:
    """An optional life column of an asset whose default life is the facility's."""
    return col(
        f"Life of {thing} (capex annuity); blank means Settings.facility_life_years",
        "years",
        default=None,
        ge=1,
        le=100,
        kind="int",
    )


def _choice(value: str, choices: Any, expect: str) -> str:
    """The allowed word ``value`` names, in its canonical spelling."""
    word = value.strip().lower()
    for choice in choices:
        if word == choice.lower():
            return str(choice)
    raise ValueError(f"{expect} (not '{value}')")


Id = str
CAPEX_ACCOUNTING = ("full", "annuity")
GPU_MIX = ("any", "site", "run", "vendor")


class SettingsModel(Row):
    start_year: int = col("First yearly period of the plan", "year", ge=2000, le=2200, kind="year")
    end_year: int = col("Last yearly period of the plan", "year", ge=2000, le=2200, kind="year")
    discount_rate: float = col(
        "Yearly discount rate; year y weighs (1 + rate)^-(y - start_year)",
        "fraction",
        ge=0,
        le=1,
    )
    mip_gap: float = col(
        "Relative MIP gap at which a plan counts as optimal", "fraction", default=0.005, ge=0, le=1
    )
    time_limit_s: float = col(
        "Wall-clock limit for a plan: building, solving and writing it",
        "s",
        default=300.0,
        gt=0,
        most=MAX_SECONDS,
    )
    avg_power_fraction: float = col(
        "Average IT draw as a fraction of nameplate, for energy cost",
        "fraction",
        default=0.8,
        ge=0,
        le=1,
    )
    power_factor: float = col(
        "MW deliverable per MVA of transformer capacity",
        "MW/MVA",
        default=0.9,
        gt=0,
        le=1,
        least=MIN_FRACTION,
    )
    gbps_per_pflops: float = col(
        "Fiber bandwidth a site needs per PFLOP/s of peak compute it contributes to a run "
        "hosted elsewhere",
        "Gbps per PFLOP/s",
        default=1.0,
        gt=0,
        most=MAX_GBPS_PER_PFLOPS,
    )
    multi_site_efficiency: float = col(
        "Factor on delivered FLOP when a run spans more than one site",
        "fraction",
        default=0.9,
        gt=0,
        le=1,
        least=MIN_FRACTION,
    )
    capex_accounting: str = col(
        "full: capex counts whole in the year an asset comes online; annuity: as the "
        "capital-recovery annuity at discount_rate over the asset's life, paid each year "
        "in service within the horizon (the rest is the value left at end_year)",
        default="full",
        choices=CAPEX_ACCOUNTING,
    )
    facility_life_years: int = col(
        "Life of shells, cooling, and of transformers and fiber with no life_years (annuity)",
        "years",
        default=15,
        ge=1,
        le=100,
        kind="int",
    )
    co2_price_usd_per_t: float = col(
        "Carbon price on the emissions of energy served (cost category carbon)",
        "USD/t CO2",
        default=0.0,
        ge=0,
        most=MAX_USD_PER_MWH,
    )
    idle_gpus_draw_power: bool = col(
        "TRUE: every installed GPU draws power every year; FALSE: GPUs no run uses in a year "
        "occupy IT capacity but draw no power that year",
        default=True,
        kind="bool",
    )


class SiteRow(Row):
    site_id: Id = col("Unique site id", kind="text")
    name: str = col("Site name", default="", kind="text")
    country: str = col("Country (matched against ExportControls.country)", kind="text")
    latitude: float = col("Latitude", "degrees", ge=-90, le=90)
    longitude: float = col("Longitude", "degrees", ge=-180, le=180)
    max_it_mw: float = col("Most IT capacity the site can hold", "MW", gt=0, most=MAX_MW)
    shell_capex_usd_per_mw: float = col(
        "Shell, electrical and fit-out capex per MW of IT built", "USD/MW", ge=0, most=MAX_USD
    )
    om_usd_per_mw_year: float = col(
        "O&M per MW of IT capacity in service per year", "USD/MW/year", ge=0, most=MAX_USD
    )
    earliest_year: int = col(
        "First year the site can host IT load", "year", ge=2000, le=2200, kind="year"
    )
    pue: float = col(
        "Power usage effectiveness when the site has no Cooling rows", "ratio", ge=1, le=3
    )
    existing_transformer_mva: float = col(
        "Transformer capacity already in place", "MVA", ge=0, most=MAX_MW
    )


class CoolingRow(Row):
    site_id: Id = col("Site this cooling design applies to", kind="text")
    cooling_id: Id = col("Cooling design id (unique per site)", kind="text")
    pue: float = col("Power usage effectiveness with this design", "ratio", ge=1, le=3)
    capex_usd_per_mw: float = col(
        "Cooling capex per MW of IT capacity built", "USD/MW", ge=0, most=MAX_USD
    )


class PowerSourceRow(Row):
    source_id: Id = col("Unique power source id", kind="text")
    via_grid: bool = col("TRUE when the power passes through the site's transformers", kind="bool")
    capex_usd_per_mw: float = col(
        "Capex per MW of new nameplate capacity", "USD/MW", ge=0, most=MAX_USD
    )
    energy_usd_per_mwh: float = col("Energy price", "USD/MWh", ge=0, most=MAX_USD_PER_MWH)
    om_usd_per_mw_year: float = col(
        "O&M per MW of new capacity in service per year", "USD/MW/year", ge=0, most=MAX_USD
    )
    firm_fraction: float = col(
        "Share of nameplate that counts as firm supply", "fraction", gt=0, le=1, least=MIN_FRACTION
    )
    lead_years: int = col(
        "Years from start_year until new capacity can be online", "years", ge=0, le=50, kind="int"
    )
    co2_t_per_mwh: float = col("Emissions", "t CO2/MWh", default=0.0, ge=0)
    life_years: int = col(
        "Life of new capacity (capex annuity)", "years", default=20, ge=1, le=100, kind="int"
    )


class SitePowerRow(Row):
    site_id: Id = col("Site", kind="text")
    source_id: Id = col("Power source available at the site", kind="text")
    max_mw: float = col(
        "Most nameplate capacity of this source at the site, existing included",
        "MW",
        ge=0,
        most=MAX_MW,
    )
    existing_mw: float = col(
        "Capacity already in place (no capex, no O&M)", "MW", default=0.0, ge=0, most=MAX_MW
    )
    energy_usd_per_mwh: float | None = col(
        "Energy price at this site, overriding PowerSources.energy_usd_per_mwh (optional)",
        "USD/MWh",
        default=None,
        ge=0,
        most=MAX_USD_PER_MWH,
    )


class TransformerRow(Row):
    transformer_id: Id = col("Unique transformer type id", kind="text")
    mva: float = col("Rating of one unit", "MVA", gt=0, most=MAX_MW, least=MIN_MVA)
    capex_usd: float = col("Capex of one unit, installed", "USD", ge=0, most=MAX_USD)
    lead_years: int = col(
        "Years from start_year until a new unit can be online", "years", ge=0, le=50, kind="int"
    )
    life_years: int | None = facility_life("a unit")


class GpuRow(Row):
    gpu_id: Id = col("Unique GPU type id", kind="text")
    vendor: str = col("Vendor", default="", kind="text")
    available_year: int = col(
        "First year the GPU can be bought", "year", ge=2000, le=2200, kind="year"
    )
    bf16_tflops: float = col(
        "Dense BF16 peak per GPU", "TFLOP/s", gt=0, most=MAX_TFLOPS, least=MIN_TFLOPS
    )
    it_kw: float = col(
        "All-in IT power per GPU (server, network share)",
        "kW",
        gt=0,
        most=MAX_KW_PER_GPU,
        least=MIN_KW_PER_GPU,
    )
    capex_usd: float = col("Price per GPU, server share included", "USD", ge=0, most=MAX_USD)
    life_years: int = col(
        "Years a GPU stays installed after purchase", "years", ge=1, le=50, kind="int"
    )
    cowos_wafers_per_kgpu: float = col(
        "CoWoS wafers used per 1,000 GPUs", "wafers/kGPU", ge=0, most=MAX_PER_GPU
    )
    hbm_stacks: float = col("HBM stacks per GPU", "stacks", ge=0, most=MAX_PER_GPU)


class SupplyRow(Row):
    year: int = col("Year of supply", "year", ge=2000, le=2200, kind="year")
    resource: str = col(
        "cowos_wafers, hbm_stacks, transformer_units, gpu:<gpu_id>, gpus (GPUs of any type) "
        "or h100e (GPUs weighted by bf16_tflops / 989)",
        kind="text",
    )
    capacity: float = col(
        "How much this buyer can get in that year", "units/year", ge=0, most=MAX_COUNT
    )
    country: str = col(
        "Only what is bought at this country's sites (blank: every site)",
        default="",
        kind="text",
    )


class ExportControlRow(Row):
    country: str = col("Country of the site", kind="text")
    gpu_id: Id = col("GPU type", kind="text")
    allowed: bool = col("FALSE forbids this GPU in this country", kind="bool")


class FiberLinkRow(Row):
    link_id: Id = col("Unique fiber link id", kind="text")
    site_a: Id = col("One end", kind="text")
    site_b: Id = col("Other end", kind="text")
    km: float = col("Route length", "km", ge=0, most=MAX_KM)
    capex_usd: float = col("Build cost of the link", "USD", ge=0, most=MAX_USD)
    bandwidth_gbps: float = col("Capacity in each direction", "Gbps", gt=0, most=MAX_GBPS)
    lead_years: int = col(
        "Years from start_year until the link can be online", "years", ge=0, le=50, kind="int"
    )
    om_usd_per_year: float = col(
        "O&M per year once built", "USD/year", default=0.0, ge=0, most=MAX_USD
    )
    life_years: int | None = facility_life("the link")


class GpuMaterialRow(Row):
    gpu_id: Id = col("GPU type", kind="text")
    resource: str = col(
        "Supply resource one GPU consumes when bought, e.g. wafers_n4, cowos_l_wafers",
        kind="text",
    )
    amount_per_gpu: float = col(
        "How much of the resource one GPU uses", "units/GPU", ge=0, most=MAX_PER_GPU
    )


class RunRow(Row):
    run_id: Id = col("Unique training run id", kind="text")
    ready_year: int = col(
        "Year the cluster must be in place", "year", ge=2000, le=2200, kind="year"
    )
    flop: float = col("Total training compute", "FLOP", gt=0, most=MAX_FLOP)
    duration_days: float = col("Training duration", "days", gt=0, le=3650, least=MIN_DAYS)
    mfu: float = col("Model FLOP utilization", "fraction", gt=0, le=1, least=MIN_MFU)
    max_sites: int = col(
        "Most sites the run may span (1 = a single site)", "sites", ge=1, le=100, kind="int"
    )
    gpu_mix: str = col(
        "GPUs the run uses: any mix; site: one GPU type at each of its sites; run: one type "
        "for the whole run; vendor: one GPUs.vendor for the whole run",
        default="any",
        choices=GPU_MIX,
    )


class ScenarioRow(Row):
    scenario: Id = col("Scenario name; rows with the same name form one scenario", kind="text")
    sheet: str = col("Sheet to change", kind="text")
    row_id: str = col(
        "Id in the sheet's first column, * for every row, or a Settings key", kind="text"
    )
    column: str = col("Column to change (value for Settings)", kind="text")
    op: str = col(
        "set, scale, add, or insert (a new row: row_id gives its key columns)", kind="text"
    )
    value: float | str | bool = col("New value, factor or increment", kind="text")
    note: str = col("Free text", default="", kind="text")


class SweepRow(Row):
    sweep: Id = col("Sweep name", kind="text")
    sheet: str = col("Sheet to change", kind="text")
    row_id: str = col(
        "Id in the sheet's first column, * for every row, or a Settings key", kind="text"
    )
    column: str = col("Column to sweep", kind="text")
    from_: float = Field(
        ...,
        alias="from",
        description="First value",
        json_schema_extra={"unit": "", "expect": "must be a number"},
    )
    to: float = col("Last value")
    steps: int = col("Number of values, ends included", "steps", ge=2, le=1000, kind="int")
    scale: str = col("linear or log", default="linear", kind="text")


UNCERTAINTY_OPS = ("set", "scale", "add")
DISTRIBUTIONS = ("uniform", "triangular", "choice")


class UncertaintyRow(Row):
    uncertainty: Id = col(
        "Uncertainty name; rows with the same name take one draw together", kind="text"
    )
    sheet: str = col("Sheet to change", kind="text")
    row_id: str = col(
        "Row id as in Scenarios: key columns joined with ':', the first key column, * for "
        "every row, or a Settings key",
        kind="text",
    )
    column: str = col("Column to change (value for Settings)", kind="text")
    op: str = col(
        "set: the draw is the new value; scale: the value times the draw; add: the value "
        "plus the draw",
        choices=UNCERTAINTY_OPS,
    )
    distribution: str = col(
        "uniform (low..high), triangular (low, mode, high) or choice (choices)",
        choices=DISTRIBUTIONS,
    )
    low: float | None = col("Lowest draw (uniform, triangular)", default=None)
    mode: float | None = col("Most likely draw (triangular)", default=None)
    high: float | None = col("Highest draw (uniform, triangular)", default=None)
    choices: str = col(
        "choice: value:probability;... with probabilities summing to 1 "
        "(e.g. 0:0.5;1:0.3;2:0.2 or TRUE:0.8;FALSE:0.2)",
        default="",
        kind="text",
    )
    note: str = col("Free text: why, and the source", default="", kind="text")


@dataclass(frozen=True)
class SheetSpec:
    """How one sheet maps to a row model."""

    name: str
    model: type[Row]
    key: tuple[str, ...]
    required: bool
    description: str

    @property
    def columns(self) -> list[str]:
        return [f.alias or name for name, f in self.model.model_fields.items()]

    def field(self, column: str) -> FieldInfo:
        for name, f in self.model.model_fields.items():
            if (f.alias or name) == column:
                return f
        raise KeyError(column)

    def required_columns(self) -> list[str]:
        return [f.alias or name for name, f in self.model.model_fields.items() if f.is_required()]

    def key_of(self, row: Row) -> tuple[str, ...]:
        """The row's id: its key columns' values, trailing optional blanks left out (a
        Supply row with no country keeps the id ``year:resource`` it always had)."""
        key = [str(getattr(row, self.attr(k))) for k in self.key]
        while (
            len(key) > 1 and key[-1] == "" and not self.field(self.key[len(key) - 1]).is_required()
        ):
            key.pop()
        return tuple(key)

    def attr(self, column: str) -> str:
        """The row model's attribute name for a column."""
        for name, f in self.model.model_fields.items():
            if (f.alias or name) == column:
                return name
        return column


SETTINGS_SHEET = "Settings"
SETTINGS_COLUMNS = ("key", "value")

SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec("Sites", SiteRow, ("site_id",), True, "Candidate data-center sites"),
    SheetSpec(
        "Cooling",
        CoolingRow,
        ("site_id", "cooling_id"),
        False,
        "Alternative cooling designs; a site with rows uses exactly one",
    ),
    SheetSpec("PowerSources", PowerSourceRow, ("source_id",), True, "Kinds of power supply"),
    SheetSpec(
        "SitePower",
        SitePowerRow,
        ("site_id", "source_id"),
        True,
        "Which power sources each site can use, and how much",
    ),
    SheetSpec(
        "Transformers",
        TransformerRow,
        ("transformer_id",),
        True,
        "Large power transformer types that can be added",
    ),
    SheetSpec("GPUs", GpuRow, ("gpu_id",), True, "Accelerator types"),
    SheetSpec(
        "GPUMaterials",
        GpuMaterialRow,
        ("gpu_id", "resource"),
        False,
        "What one GPU consumes of any Supply resource when bought (logic wafers, ...)",
    ),
    SheetSpec(
        "Supply",
        SupplyRow,
        ("year", "resource", "country"),
        True,
        "Yearly supply available to this buyer; no row means unlimited",
    ),
    SheetSpec(
        "ExportControls",
        ExportControlRow,
        ("country", "gpu_id"),
        False,
        "Which GPUs may go to which country; no row means allowed",
    ),
    SheetSpec("FiberLinks", FiberLinkRow, ("link_id",), False, "Candidate fiber links"),
    SheetSpec("Runs", RunRow, ("run_id",), True, "Training runs and their FLOP targets"),
)

STUDY_SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec("Scenarios", ScenarioRow, (), False, "What-if changes to the inputs"),
    SheetSpec("Sweeps", SweepRow, ("sweep",), False, "Parameter sweeps"),
    SheetSpec(
        "Uncertainty",
        UncertaintyRow,
        ("uncertainty", "sheet", "row_id", "column"),
        False,
        "What may turn out otherwise, as distributions of changes (planner risk)",
    ),
)

SHEET_BY_NAME: dict[str, SheetSpec] = {s.name: s for s in SHEETS + STUDY_SHEETS}

# Volume caps on purchases: GPUs of any type, and H100-equivalents (export-control regimes
# count chips weighted by performance; an H100 has 989 dense BF16 TFLOP/s).
GPU_COUNT_RESOURCES = ("gpus", "h100e")
H100_BF16_TFLOPS = 989.0
CO2_RESOURCE = "co2_t"  # a year's emissions, t CO2 (energy served x co2_t_per_mwh)
BUILTIN_RESOURCES = ("cowos_wafers", "hbm_stacks", "transformer_units", *GPU_COUNT_RESOURCES)
SUPPLY_RESOURCES = (*BUILTIN_RESOURCES, CO2_RESOURCE)
GPU_RESOURCE_PREFIX = "gpu:"
# What one GPU bought consumes of a shared Supply resource: (GPUs column, amount per unit
# of that column). The model, the diagnosis and the independent check all read this.
GPU_MATERIALS: dict[str, tuple[str, float]] = {
    "cowos_wafers": ("cowos_wafers_per_kgpu", 1e-3),
    "hbm_stacks": ("hbm_stacks", 1.0),
}


def gpu_resource(gpu_id: str) -> str:
    """The Supply resource that caps purchases of one GPU type: ``gpu:<gpu_id>``."""
    return f"{GPU_RESOURCE_PREFIX}{gpu_id}"


def per_gpu(gpu: GpuRow, resource: str) -> float:
    """Units of a shared Supply resource one GPU of this type consumes when bought."""
    column, factor = GPU_MATERIALS[resource]
    return float(getattr(gpu, column)) * factor


def gpu_use(
    gpu: GpuRow, resource: str, materials: Mapping[tuple[str, str], float] | None = None
) -> float:
    """Units of any purchase-counted Supply resource one GPU of this type uses when bought
    (0 for transformer_units and resources it does not consume). ``materials``: the
    GPUMaterials amounts by (gpu_id, resource), which add to the GPUs columns."""
    extra = (materials or {}).get((gpu.gpu_id, resource), 0.0)
    return extra + _builtin_use(gpu, resource)


def _builtin_use(gpu: GpuRow, resource: str) -> float:
    if resource == "gpus":
        return 1.0
    if resource == "h100e":
        return gpu.bf16_tflops / H100_BF16_TFLOPS
    if resource in GPU_MATERIALS:
        return per_gpu(gpu, resource)
    return 1.0 if resource == gpu_resource(gpu.gpu_id) else 0.0


def field_unit(f: FieldInfo) -> str:
    extra = f.json_schema_extra
    return str(extra.get("unit", "")) if isinstance(extra, dict) else ""


def field_expect(f: FieldInfo) -> str:
    extra = f.json_schema_extra
    return str(extra.get("expect", "")) if isinstance(extra, dict) else ""
