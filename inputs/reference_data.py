# ruff: noqa: E501
"""Contents of the default input workbook ``inputs/reference.xlsx``.

Plain data only: ``SHEETS`` (one list of row dicts per sheet, keys = column names in
order), ``SOURCES`` (where every figure comes from), ``SCENARIOS``, ``SWEEPS`` and
``UNCERTAINTY`` (the study and the risk run that ship with the workbook). Figures come from
/work/shared/reference-data.md unless the Sources row says otherwise; "est." marks an
estimate, "derived" marks arithmetic on other figures.

SIZING ARITHMETIC (why the default workbook is comfortably feasible)
====================================================================
GPU basis (docs/reference-sources.md): capex = server-level price per GPU / 0.81 (Epoch
AI: cluster network = 19 % of cluster cost); it_kw = server-level kW per GPU / 0.9
(SemiAnalysis: storage, switches, optics ~10 % of cluster IT power).
  USD per dense BF16 TFLOP/s: VR200 16.1, MI300X 20.0, B200 24.0, GB200 24.0,
  GB300 27.4, MI325X 28.5, H200 41.4, H100 42.2. IT W per TFLOP/s: VR200 0.43,
  B200 0.88, GB200 0.90, GB300 0.98, MI300X 1.10, H100 1.44.
  H100 check: 41.7k over 5 y at 8 % = 1.19 USD/h + shell, O&M, power, energy ~0.35
  = ~1.55 USD per H100-hour, vs the seed's ~1.70 USD/h all-in.

FLOP per GPU = bf16 * 1e12 * mfu * days * 86400; multi-site runs x 0.9.
  120 d = 1.0368e7 s, 180 d = 1.5552e7 s.

frontier-2027: 1e27 FLOP, ready 2027, 120 d, mfu 0.4, max 2 sites
  needs 1e27 / (0.4 * 1.0368e7) = 2.41e20 FLOP/s peak
  VR200: 29.1k GPU -> 103 MW IT (3.55 kW)   [gpu:VR200 2027 cap 60k: 2.1x]
  GB200/GB300: 96.5k -> 216 / 237 MW IT; B200: 107.2k -> 213 MW IT
  two sites (x0.9): 32.3k VR200 = 115 MW IT.
  CoWoS 29.1k * 115/1000 = 3.3k wafers; HBM 29.1k * 8 = 0.23 M stacks.
frontier-2029: 1e28 FLOP, ready 2029, 180 d, mfu 0.4, max 3 sites
  cluster must sustain 1e28 / (0.4 * 0.9 * 1.5552e7) = 1.79e21 FLOP/s (1.61e21 on 1 site)
  VR200: 194k (1 site) - 215k GPU -> 687-764 MW IT; CoWoS 22-25k wafers; HBM 1.5-1.7 M
  without VR200: 714k GB200/GB300 -> 1,600-1,760 MW IT (GB300 cap 650k over 2026-29)
  rubin-2x-b200 (VR200 at 4,500): 357k (1 site) -> 1,268 MW IT; CoWoS 41k
  (GPUs live 5 years, so 2027 GPUs can be part of the 2029 cluster.)

Chip supply (this buyer, Supply sheet):
  VR200 caps 60k+250k+400k = 710k by 2029 vs 194-215k need -> 3.3x.
  CoWoS 2027-29 22k+32k+42k = 96k wafers vs 22-25k -> 3.9x (halved: 48k, still
    feasible); HBM 2.2+3.0+3.8 = 9.0 M stacks vs 1.7 M.
  Phase-out caps keep B200 / GB200 / GB300 / Hopper from being bought after their
    successors ship (B200 to 2028, GB200 to 2027, GB300 to 2029, H100 to 2027, H200 to 2028).
  The buyer is one frontier program: ~1.2-1.6 % of est. world CoWoS per year
  (a top hyperscaler gets ~4-5 %); at 10-20 % CoWoS would never bind.
  Logic wafers (GPUMaterials, docs/reference-sources.md section 7): the same share of each
    TSMC node's AI wafers. N3: 12.6k / 22.7k / 26.7k / 29.5k / 30.0k wafers = 396k VR200
    in 2027 vs the 29k the 2027 run needs (1,664 wafers, 0.05728 each): 13.6x, so the
    logic-wafers-cut-2027 scenario (x 0.6667) does not bind; 2029 9.4k of 29.5k. It binds
    only below 1,664 wafers in 2027; then B200 on N4 fills the gap at a second site.
    N4 5.4k / 5.8k / 5.1k / 3.0k / 3.0k = ~100k Blackwell a year, tighter than the
    Blackwell GPU caps (unused in the base). n5 / n6 / SMIC caps = what the AMD and Ascend
    GPU caps need.

Power (facility = IT x PUE; firm = firm_fraction x nameplate; solar_storage firm 0.2
(Ember); new power online from 2026 + lead: recip 2027, hydro 2027, solar+storage 2028,
nuclear 2029, grid 2030, CCGT 2031 = after the horizon, so only existing CCGT could count):
  2027, non-China, firm MW -> supportable IT MW (need 103-237):
    US-ABI recip 360*0.9 = 324 -> 294 IT (PUE 1.1)
    US-MEM grid 135 + recip 420*0.9 = 513 -> 300 IT (site max)
    US-DEN existing grid 260 -> 168 IT (air 1.55) / 170 cap with liquid cooling
    AE-ABU existing grid 200 + recip 540 = 740 -> 592 IT
    MY-JHR existing grid 270 -> 207 IT
  2029, best three non-China sites:
    AE-ABU 200 + 540 + solar 2500*0.2 = 1240 (+ Barakah nuclear 450 if 2 new 250 MVA
      transformers) -> 992-1352 IT, site cap 1500
    US-ABI 324 + solar 1200*0.2 = 240 + nuclear 270 (needs 2 x 250 MVA) = 834 -> 758 IT
    US-MEM 135 + 378 + solar 40 = 553 -> 300 IT (site cap)
    total ~2,050-2,410 MW IT vs 687-764 need (VR200) -> ~3x; vs 1,600-1,760 without it.
  Single site (scenario single-site, no 0.9): 194k VR200 = 687 MW IT = 859 MW at
    PUE 1.25: AE-ABU (1,240 firm without nuclear: 44 % slack); rubin-2x-b200 needs
    1,268 IT = 1,585 MW facility: AE-ABU only with the nuclear PPA (1,690).
  No new gas: 2027 on existing grid (US-DEN 170 + MY-JHR 207 + AE-ABU 160 IT); 2029
    AE-ABU (920 IT with solar + nuclear) + US-ABI (464) + MY-JHR (254) -> feasible.
  Transformers +2 years: no new via_grid power by 2029; 2029 still fits on
    AE-ABU 992 + US-ABI 513 (recip + solar).
  Transformers: nuclear at US-ABI / AE-ABU and grid growth need them; supply caps of
    4-8 units/yr; a 250 MVA unit carries 225 MW at power factor 0.9.
Fibre: a 3-site 2029 run needs at most 1.79 M PFLOP/s * 1 Gbps = 1.79 Pbps across
  its links; each candidate link carries 3 Pbps (~100 fibre pairs x 30 Tbps), 68 %
  slack. (Links of 30-100 Tbps would cap a remote site at 4-12k VR200.)
Export controls (Jan 2026 BIS rule, case by case below TPP 21,000): China sites may run
  H100 / H200 / MI300X / MI325X / H20 / Ascend910C, not Blackwell or Rubin; they are not
  needed for feasibility. "china-only" is expected INFEASIBLE for 2029: the allowed
  supply (1.85 M Ascend + 380k Hopper/MI3xx, ~1.9e21 FLOP/s) would need ~3.6 GW IT on
  2 sites capped at 1.8 GW; its 2027 run alone would fit (309k Ascend = 500 MW IT at
  CN-IMG). "impossible-2027" is infeasible by design.
"""

from __future__ import annotations

# Hand-aligned data tables: keep one row per line.
# fmt: off


def _rows(cols: str, *values: tuple) -> list[dict[str, object]]:
    names = cols.split()
    return [dict(zip(names, v, strict=True)) for v in values]


YEARS = [2026, 2027, 2028, 2029, 2030]

SETTINGS = _rows(
    "key value",
    ("start_year", 2026),
    ("end_year", 2030),
    ("discount_rate", 0.08),
    ("mip_gap", 0.005),
    ("time_limit_s", 300),
    ("avg_power_fraction", 0.8),
    ("power_factor", 0.9),
    ("gbps_per_pflops", 1.0),
    ("multi_site_efficiency", 0.9),
    ("capex_accounting", "annuity"),
    ("facility_life_years", 15),
    ("idle_gpus_draw_power", False),
)

SITES = _rows(
    "site_id name country latitude longitude max_it_mw shell_capex_usd_per_mw "
    "om_usd_per_mw_year earliest_year pue existing_transformer_mva",
    ("US-ABI", "Abilene TX hyperscale greenfield (Stargate/Crusoe type)", "US", 32.45, -99.73, 1000, 11_000_000, 250_000, 2026, 1.10, 0),
    ("US-MEM", "Memphis TN converted factory (xAI Colossus type)", "US", 35.06, -90.13, 300, 6_000_000, 250_000, 2026, 1.50, 150),
    ("US-DEN", "Denton TX converted crypto mine (Core Scientific)", "US", 33.21, -97.13, 170, 5_500_000, 250_000, 2026, 1.55, 300),
    ("US-NVA", "Loudoun County VA (Northern Virginia)", "US", 39.03, -77.49, 300, 12_000_000, 280_000, 2027, 1.20, 0),
    ("MY-JHR", "Johor, Sedenak Tech Park", "Malaysia", 1.63, 103.60, 500, 8_000_000, 200_000, 2026, 1.30, 300),
    ("AE-ABU", "Abu Dhabi UAE-US AI campus (Stargate UAE type)", "UAE", 24.45, 54.60, 1500, 10_000_000, 300_000, 2026, 1.25, 250),
    ("KW-KWT", "Kuwait greenfield (Omniva type)", "Kuwait", 29.30, 47.90, 400, 10_000_000, 300_000, 2027, 1.30, 0),
    ("ET-GERD", "Guba, near Grand Ethiopian Renaissance Dam", "Ethiopia", 11.21, 35.09, 250, 14_000_000, 350_000, 2028, 1.30, 0),
    ("CN-IMG", "Baotou, Inner Mongolia converted aluminium smelter", "China", 40.65, 109.84, 1000, 5_000_000, 150_000, 2026, 1.50, 1200),
    ("CN-TGD", "Yichang, Three Gorges hydro area", "China", 30.82, 111.00, 800, 6_000_000, 150_000, 2027, 1.30, 500),
)

COOLING = _rows(
    "site_id cooling_id pue capex_usd_per_mw",
    ("US-MEM", "air", 1.50, 0),
    ("US-MEM", "liquid", 1.15, 1_500_000),
    ("US-DEN", "air", 1.55, 0),
    ("US-DEN", "liquid", 1.15, 1_500_000),
    ("CN-IMG", "air", 1.50, 0),
    ("CN-IMG", "liquid", 1.15, 1_500_000),
    ("MY-JHR", "air", 1.30, 0),
    ("MY-JHR", "liquid", 1.15, 1_000_000),
)

POWER_SOURCES = _rows(
    "source_id via_grid capex_usd_per_mw energy_usd_per_mwh om_usd_per_mw_year "
    "firm_fraction lead_years co2_t_per_mwh",
    ("grid", True, 150_000, 70.0, 0, 1.0, 4, 0.37),
    ("gas_ccgt", False, 2_350_000, 35.0, 15_000, 0.9, 5, 0.35),
    ("recip_engines", False, 1_250_000, 60.0, 25_000, 0.9, 1, 0.50),
    ("solar_storage", False, 2_000_000, 5.0, 30_000, 0.2, 2, 0.0),
    ("nuclear_ppa", True, 100_000, 112.0, 0, 0.9, 3, 0.0),
    ("hydro", True, 100_000, 40.0, 0, 0.6, 1, 0.0),
)

SITE_POWER = _rows(
    "site_id source_id max_mw existing_mw energy_usd_per_mwh",
    ("US-ABI", "grid", 600, 0, 50.0),
    ("US-ABI", "recip_engines", 360, 0, None),
    ("US-ABI", "solar_storage", 1200, 0, None),
    ("US-ABI", "nuclear_ppa", 300, 0, None),
    ("US-MEM", "grid", 300, 135, 60.0),
    ("US-MEM", "recip_engines", 420, 0, None),
    ("US-MEM", "solar_storage", 200, 0, None),
    ("US-DEN", "grid", 400, 260, 44.0),
    ("US-DEN", "recip_engines", 150, 0, None),
    ("US-DEN", "solar_storage", 300, 0, None),
    ("US-NVA", "grid", 400, 0, 75.0),
    ("US-NVA", "nuclear_ppa", 300, 0, None),
    ("US-NVA", "recip_engines", 100, 0, None),
    ("MY-JHR", "grid", 450, 270, 95.0),
    ("MY-JHR", "gas_ccgt", 400, 0, None),
    ("MY-JHR", "solar_storage", 300, 0, None),
    ("AE-ABU", "grid", 1500, 200, 65.0),
    ("AE-ABU", "recip_engines", 600, 0, None),
    ("AE-ABU", "solar_storage", 2500, 0, None),
    ("AE-ABU", "nuclear_ppa", 500, 0, None),
    ("KW-KWT", "grid", 400, 0, 30.0),
    ("KW-KWT", "gas_ccgt", 800, 0, None),
    ("KW-KWT", "recip_engines", 400, 0, None),
    ("KW-KWT", "solar_storage", 1000, 0, None),
    ("ET-GERD", "hydro", 400, 0, 30.0),
    ("ET-GERD", "solar_storage", 200, 0, None),
    ("CN-IMG", "grid", 1500, 1080, 42.0),
    ("CN-IMG", "solar_storage", 1000, 0, None),
    ("CN-TGD", "hydro", 1000, 400, None),
    ("CN-TGD", "grid", 300, 0, 50.0),
)

TRANSFORMERS = _rows(
    "transformer_id mva capex_usd lead_years",
    ("LPT-100", 100, 4_000_000, 2),
    ("LPT-250", 250, 8_000_000, 3),
)

GPUS = _rows(
    "gpu_id vendor available_year bf16_tflops it_kw capex_usd life_years "
    "cowos_wafers_per_kgpu hbm_stacks",
    ("H100", "NVIDIA", 2023, 989, 1.42, 41_700, 5, 35, 5),
    ("H200", "NVIDIA", 2024, 989, 1.42, 40_900, 5, 35, 6),
    ("B200", "NVIDIA", 2025, 2250, 1.99, 54_000, 5, 67, 8),
    ("GB200", "NVIDIA", 2025, 2500, 2.24, 60_000, 5, 67, 8),
    ("GB300", "NVIDIA", 2025, 2500, 2.46, 68_600, 5, 67, 8),
    ("VR200", "NVIDIA", 2027, 8300, 3.55, 133_800, 5, 115, 8),
    ("MI300X", "AMD", 2024, 1307, 1.44, 26_200, 5, 60, 8),
    ("MI325X", "AMD", 2025, 1307, 1.78, 37_300, 5, 60, 8),
    ("Ascend910C", "Huawei", 2025, 780, 1.62, 26_400, 5, 0, 8),
    ("H20", "NVIDIA", 2024, 148, 0.89, 26_200, 5, 35, 6),
)

# Logic wafers per GPU (GPUMaterials): dies per GPU / good dies per 300 mm wafer.
# Gross dies = floor(pi * 150^2 / A - pi * 300 / sqrt(2 A)) (A in mm2; edge loss,
# no scribe or edge exclusion); yield = Murphy ((1 - e^-AD) / AD)^2 with D in /cm2, or a
# reported yield. Die sizes, nodes and yields: Sources and docs/reference-sources.md
# section 7. cowos_wafers and hbm_stacks stay in the GPUs columns (not repeated here).
_WAFER_MM2 = 3.14159265 * 150**2
_DIES: dict[str, tuple[tuple[str, int, float, float], ...]] = {
    # gpu_id: ((resource, dies per GPU, die mm2, D0 per cm2, or -yield if reported), ...)
    "H100": (("wafers_n4", 1, 814, 0.07),),
    "H200": (("wafers_n4", 1, 814, 0.07),),
    "H20": (("wafers_n4", 1, 814, 0.07),),
    "B200": (("wafers_n4", 2, 800, 0.07),),
    "GB200": (("wafers_n4", 2, 800, 0.07),),
    "GB300": (("wafers_n4", 2, 800, 0.07),),
    "VR200": (("wafers_n3", 2, 800, 0.08),),
    "MI300X": (("wafers_n5", 8, 115, 0.07), ("wafers_n6", 4, 370, 0.07)),
    "MI325X": (("wafers_n5", 8, 115, 0.07), ("wafers_n6", 4, 370, 0.07)),
    "Ascend910C": (("wafers_smic_n7", 2, 665.61, -0.40),),
}


def _gross_dies(mm2: float) -> int:
    return int(_WAFER_MM2 / mm2 - 3.14159265 * 300 / (2 * mm2) ** 0.5)


def _die_yield(mm2: float, d0: float) -> float:
    if d0 < 0:  # a reported yield
        return -d0
    x = mm2 / 100 * d0
    return ((1 - 2.718281828 ** -x) / x) ** 2


def _wafers_per_gpu(dies: int, mm2: float, d0: float) -> float:
    return round(dies / (_gross_dies(mm2) * _die_yield(mm2, d0)), 5)


GPU_MATERIALS = _rows(
    "gpu_id resource amount_per_gpu",
    *[
        (g, res, _wafers_per_gpu(n, mm2, d0))
        for g in [r["gpu_id"] for r in GPUS]
        for res, n, mm2, d0 in _DIES[str(g)]
    ],
)

_SUPPLY_CAPS: dict[str, list[int]] = {
    "cowos_wafers": [15_000, 22_000, 32_000, 42_000, 48_000],
    "hbm_stacks": [1_500_000, 2_200_000, 3_000_000, 3_800_000, 4_500_000],
    "transformer_units": [4, 6, 6, 8, 8],
    "gpu:H100": [40_000, 20_000, 0, 0, 0],
    "gpu:H200": [60_000, 60_000, 30_000, 0, 0],
    "gpu:MI300X": [40_000, 30_000, 0, 0, 0],
    "gpu:MI325X": [40_000, 40_000, 20_000, 0, 0],
    "gpu:B200": [200_000, 150_000, 50_000, 0, 0],
    "gpu:GB200": [150_000, 100_000, 0, 0, 0],
    "gpu:GB300": [200_000, 250_000, 150_000, 50_000, 0],
    "gpu:VR200": [0, 60_000, 250_000, 400_000, 500_000],
    "gpu:H20": [20_000, 0, 0, 0, 0],
    "gpu:Ascend910C": [300_000, 400_000, 500_000, 650_000, 800_000],
}
# Logic wafers for this buyer (GPUMaterials resources), 2026..2030. TSMC N3 and the
# N5 family (N5/N4/4N/4NP): the buyer's CoWoS share of the world (15k/1.2M .. 48k/2.8M =
# 1.25/1.29/1.52/1.68/1.71 %) x the node's AI wafers a year (docs/reference-sources.md
# section 7); wafers_n5 is the slice of that N5-family allocation the buyer's MI300X/MI325X
# caps need, so wafers_n4 is the rest; wafers_n6 (not scarce) and wafers_smic_n7 are what
# the buyer's AMD and Ascend caps need.
_WAFER_CAPS: dict[str, list[int]] = {
    "wafers_n3": [12_600, 22_700, 26_700, 29_500, 30_000],
    "wafers_n4": [5_400, 5_800, 5_100, 3_000, 3_000],
    "wafers_n5": [1_300, 1_100, 350, 0, 0],
    "wafers_n6": [2_650, 2_350, 700, 0, 0],
    "wafers_smic_n7": [18_750, 25_000, 31_250, 40_650, 50_000],
}
# Country volume caps (resource, country) -> yearly caps: GPUs bought at that country's
# sites, on top of this buyer's own caps above.
_COUNTRY_CAPS: dict[tuple[str, str], list[int]] = {
    ("gpus", "UAE"): [500_000] * 5,
}
SUPPLY = _rows(
    "year resource capacity country",
    *[(y, res, caps[i], "") for res, caps in _SUPPLY_CAPS.items() for i, y in enumerate(YEARS)],
    *[(y, res, caps[i], "") for res, caps in _WAFER_CAPS.items() for i, y in enumerate(YEARS)],
    *[(y, res, caps[i], c) for (res, c), caps in _COUNTRY_CAPS.items() for i, y in enumerate(YEARS)],
)

_NON_CHINA = ["US", "Malaysia", "UAE", "Kuwait", "Ethiopia"]
_US_GPUS = ["H100", "H200", "B200", "GB200", "GB300", "VR200", "MI300X", "MI325X", "H20"]
EXPORT_CONTROLS = _rows(
    "country gpu_id allowed",
    *[("China", g, True) for g in ["H100", "H200", "MI300X", "MI325X", "H20", "Ascend910C"]],
    *[("China", g, False) for g in ["B200", "GB200", "GB300", "VR200"]],
    *[(c, "Ascend910C", False) for c in _NON_CHINA],
    # Licensed today; the Uncertainty sheet draws whether the licences hold.
    *[(c, g, True) for c in ("UAE", "Malaysia") for g in _US_GPUS],
)

_FIBER_USD_PER_KM = 53_000
_LINK_GBPS = 3_000_000
FIBER_LINKS = _rows(
    "link_id site_a site_b km capex_usd bandwidth_gbps lead_years om_usd_per_year",
    *[
        (lid, a, b, km, km * _FIBER_USD_PER_KM, _LINK_GBPS, 1, round(km * _FIBER_USD_PER_KM * 0.02))
        for lid, a, b, km in [
            ("F-ABI-DEN", "US-ABI", "US-DEN", 310),
            ("F-DEN-MEM", "US-DEN", "US-MEM", 810),
            ("F-ABI-MEM", "US-ABI", "US-MEM", 1120),
            ("F-MEM-NVA", "US-MEM", "US-NVA", 1445),
            ("F-ABU-KWT", "AE-ABU", "KW-KWT", 1030),
            ("F-IMG-TGD", "CN-IMG", "CN-TGD", 1320),
        ]
    ],
)

RUNS = _rows(
    "run_id ready_year flop duration_days mfu max_sites gpu_mix",
    ("frontier-2027", 2027, 1e27, 120, 0.4, 2, "site"),
    ("frontier-2029", 2029, 1e28, 180, 0.4, 3, "site"),
)

SHEETS: dict[str, list[dict[str, object]]] = {
    "Settings": SETTINGS,
    "Sites": SITES,
    "Cooling": COOLING,
    "PowerSources": POWER_SOURCES,
    "SitePower": SITE_POWER,
    "Transformers": TRANSFORMERS,
    "GPUs": GPUS,
    "GPUMaterials": GPU_MATERIALS,
    "Supply": SUPPLY,
    "ExportControls": EXPORT_CONTROLS,
    "FiberLinks": FIBER_LINKS,
    "Runs": RUNS,
}

# ---------------------------------------------------------------------------
# Sources: one row per figure or group of figures.
# ---------------------------------------------------------------------------
_RD = "reference-data.md"
_DOC = " (docs/reference-sources.md)"
_EPOCH_NET = "Epoch AI training-cost-trends: CLUSTER_INTERCONNECT_COST_FRACTION = 0.19 (github.com/epoch-research/training-cost-trends); Cottier et al. 2024, arXiv 2405.21015"
_SA_100K = "SemiAnalysis, 100,000 H100 Clusters (Jun 2024, semianalysis.substack.com/p/100000-h100-clusters-power-network)"
_MS_RACK = "Morgan Stanley rack BOM estimates via press (Tom's Hardware; buysellram.com/blog/why-nvidias-vera-rubin-racks-cost-double), May 2026"
_BIS_2026 = "BIS final rule 13/15 Jan 2026 (case-by-case for TPP < 21,000 and DRAM < 6,500 GB/s; tomshardware.com, introl.com/blog/bis-export-policy-h200-mi325x-china-case-by-case-2026)"
SOURCES: list[dict[str, str]] = _rows(
    "sheet item value source year note",
    # Settings
    ("Settings", "discount_rate", "0.08", "est.", "2026", "typical infrastructure WACC; change freely"),
    ("Settings", "avg_power_fraction", "0.8", "est.", "2026", "training clusters draw ~80 % of nameplate IT power on average"),
    ("Settings", "capex_accounting", "annuity", "est.; Epoch AI cost model (amortised hardware)", "2024", "a run is charged capital-recovery annuities, not whole capex; the rest is value left at end_year"),
    ("Settings", "facility_life_years", "15", "est.; SemiAnalysis data-center TCO model", "2024", "shell, electrical and cooling depreciated over ~15 years"),
    ("Settings", "idle_gpus_draw_power", "FALSE", "est.", "2026", "GPUs no run uses are held in reserve, powered down"),
    ("Settings", "power_factor", "0.9", "est.", "2026", "MW per MVA of transformer rating for large loads"),
    ("Settings", "gbps_per_pflops", "1.0", "Epoch AI 2025 via " + _RD, "2025", "derived: 10 GW run over 23 sites needs ~6 Pbps"),
    ("Settings", "multi_site_efficiency", "0.9", "est.; NVIDIA Nemotron-4 two-site training via " + _RD, "2024", "10 % throughput loss for cross-site training"),
    # Sites
    ("Sites", "shell_capex_usd_per_mw (greenfield)", "10-12 M USD/MW IT", "industry cost surveys 2025-26 via " + _RD, "2025", "7-12 M USD/MW incl. electrical + cooling; US-NVA at top of range (labour, land)"),
    ("Sites", "shell_capex_usd_per_mw (converted)", "5-6 M USD/MW IT", "est.", "2026", "existing shell, substation and power; fit-out only"),
    ("Sites", "ET-GERD shell capex / max_it_mw", "14 M USD/MW, 250 MW", "est.; seed podcast (security, IP risk)", "2024", "security risk modelled as +40 % capex and a small site"),
    ("Sites", "MY-JHR capex 8 M USD/MW", "8e6", "est.", "2026", "lower construction cost; seed: >10 B USD of Malaysian AI builds, >1 GW planned"),
    ("Sites", "om_usd_per_mw_year", "150-350 k USD/MW-yr", "est.", "2026", "staff, maintenance, security; China low, Ethiopia/Gulf high"),
    ("Sites", "PUE hyperscale", "1.10-1.20", "Google fleet; Uptime 2024 via " + _RD, "2024", "1.09-1.15; US-NVA 1.2 (mixed colo)"),
    ("Sites", "PUE converted sites", "1.50-1.55", "seed podcast (Core Scientific) via " + _RD, "2024", "converted crypto/industrial 1.5-1.6"),
    ("Sites", "PUE hot/humid climates (Johor, Gulf, GERD)", "1.25-1.30", "est.", "2026", "between hyperscale and industry average 1.55 (Uptime)"),
    ("Sites", "US-ABI max_it_mw 1000", "1000", "press reports (Stargate Abilene ~1.2 GW)", "2025", "est.: ~1.1 GW facility at PUE 1.1"),
    ("Sites", "US-MEM existing 150 MVA / max 300 MW", "150 MVA", "seed podcast; press 2024 (xAI Colossus, 150 MW grid)", "2024", "100k H100 ~150 MW"),
    ("Sites", "US-DEN existing 300 MVA / max 170 MW IT", "300 MVA", "est.; seed podcast (Core Scientific conversions for CoreWeave)", "2024", "~260 MW of crypto-era grid power, est."),
    ("Sites", "AE-ABU max 1500 MW IT, 250 MVA existing", "1500", "press reports (UAE-US 5 GW AI campus; Stargate UAE 200 MW in 2026)", "2025", "est.: buyer share of the campus"),
    ("Sites", "KW-KWT max 400 MW, earliest 2027", "400", "seed podcast (Omniva >5 B USD in Kuwait)", "2024", "est. size"),
    ("Sites", "CN-IMG existing 1200 MVA", "1200 MVA", "seed podcast (China could repurpose aluminium mills)", "2024", "est.: smelter substation (a 500 kt/yr smelter draws ~800 MW)"),
    ("Sites", "CN-TGD hydro area", "800 MW IT", "seed podcast (Three Gorges once powered ~10 GW of bitcoin mining)", "2024", "est."),
    ("Sites", "latitude/longitude", "city-level", "est.", "2026", "approximate locations, used only for display and link lengths"),
    # Cooling
    ("Cooling", "liquid-cooling retrofit", "PUE 1.15 at 1.5 M USD/MW", "est.", "2026", "mechanical is 15-20 % of 7-12 M USD/MW (industry cost surveys via " + _RD + ")"),
    ("Cooling", "air rows", "Sites.pue at 0 capex", "derived", "2026", "keep existing air cooling; MY-JHR retrofit 1.0 M USD/MW est."),
    # Power sources
    ("PowerSources", "grid capex", "0.15 M USD/MW", "est.", "2026", "interconnection/upgrade charges; transformers are separate"),
    ("PowerSources", "grid lead_years", "4", "LBNL; JLL 2026; PJM via " + _RD, "2026", "4-5 years median to energise in primary US markets"),
    ("PowerSources", "grid energy default", "70 USD/MWh", "est.", "2024", "US industrial average ~8 c/kWh; overridden per site"),
    ("PowerSources", "grid co2", "0.37 t/MWh", "est. (US average grid intensity)", "2023", "varies by site; one value for all"),
    ("PowerSources", "gas_ccgt capex", "2.35 M USD/MW", "Lazard 2025; EPRI 2025 via " + _RD, "2025", "2.2-2.5 M USD/MW, mid-point"),
    ("PowerSources", "gas_ccgt lead_years", "5", "Lazard 2025; EPRI 2025 via " + _RD, "2025", "5-7 years for new frame turbines: new CCGT online 2031, after the horizon"),
    ("PowerSources", "gas_ccgt energy", "35 USD/MWh", "derived", "2026", "6.5 MMBtu/MWh x ~4.5 USD/MMBtu + VOM; Lazard LCOE 48-109 includes capital charged separately here"),
    ("PowerSources", "gas co2", "0.35 / 0.50 t/MWh", "derived", "2026", "heat rate 6.5 / 9.5 MMBtu/MWh x 53 kg CO2/MMBtu"),
    ("PowerSources", "recip_engines capex", "1.25 M USD/MW", "industry 2026 via " + _RD + " (est.)", "2026", "1.0-1.5 M USD/MW"),
    ("PowerSources", "recip_engines energy", "60 USD/MWh", "derived (est.)", "2026", "fuel + VOM; the 80-150 USD/MWh all-in range includes capital/rental"),
    ("PowerSources", "recip_engines lead_years", "1", "industry 2026 via " + _RD, "2026", "12-18 months"),
    ("PowerSources", "firm_fraction gas", "0.9", "est. (checked 2026)", "2026", "N+1 redundancy / forced outages; CCGT and engine plants reach ~0.85-0.92 equivalent availability"),
    ("PowerSources", "solar_storage capex / energy", "2.0 M USD/MW nameplate, 5 USD/MWh", "est.", "2025", "owned PV + 4 h battery; Lazard 2025 LCOE 50-131 USD/MWh as cross-check"),
    ("PowerSources", "solar_storage firm_fraction", "0.2", "Ember white paper 'Solar electricity every hour of every day' (2025) via " + _RD + _DOC, "2025", "100 W of PV averages ~20 W; with batteries sized for 24/365 the round-the-clock output is ~0.2 of nameplate (was 0.4)"),
    ("PowerSources", "solar_storage lead_years", "2", "Lazard 2025 via " + _RD, "2025", "18-20 months"),
    ("PowerSources", "nuclear_ppa energy", "112 USD/MWh", "Microsoft-Constellation 2024 via " + _RD + " (est.)", "2024", "110-115 USD/MWh; restart cost 1.9 M USD/MW borne by the plant owner"),
    ("PowerSources", "nuclear_ppa lead_years", "3", "Microsoft-Constellation 2024 via " + _RD, "2024", "2024 deal online 2028; deals already in negotiation assumed"),
    ("PowerSources", "nuclear_ppa firm_fraction", "0.9", "est.; EIA (US fleet capacity factor ~0.93 in 2023)", "2024", "checked: a one-plant PPA kept slightly below the fleet average for refuelling outages"),
    ("PowerSources", "nuclear/hydro capex", "0.1 M USD/MW", "est.", "2026", "interconnection share; energy price covers the plant"),
    ("PowerSources", "hydro energy / firm / lead", "40 USD/MWh, 0.6, 1", "est. (checked 2026)", "2026", "existing dams: only substation/line needed; GERD 5.15 GW / ~15.7 TWh a year = capacity factor ~0.35, Three Gorges ~0.5; a 400 MW block on a multi-GW reservoir is firmer than the plant average, 0.6 kept"),
    ("PowerSources", "grid firm_fraction", "1.0", "est. (checked 2026)", "2026", "contracted grid capacity is firm; curtailable large-load tariffs are not modelled"),
    # Site power
    ("SitePower", "US-ABI recip_engines 360 MW", "360", "press reports (Crusoe Abilene on-site gas turbines)", "2025", "est."),
    ("SitePower", "US-MEM grid 135 existing / recip 420", "135, 420", "seed podcast; press 2024-25 (xAI Memphis 150 MW grid + mobile gas turbines + Megapacks)", "2025", "~35 turbines ~420 MW reported"),
    ("SitePower", "US-DEN grid energy", "44 USD/MWh", "seed podcast via " + _RD, "2024", "power at converted sites"),
    ("SitePower", "US-NVA grid energy", "75 USD/MWh", _RD, "2026", "N. Virginia"),
    ("SitePower", "US-ABI grid energy", "50 USD/MWh", "est.", "2026", "ERCOT West"),
    ("SitePower", "US-MEM grid energy", "60 USD/MWh", "est.", "2026", "TVA large-load rate"),
    ("SitePower", "MY-JHR grid energy", "95 USD/MWh", "est.", "2025", "TNB tariff after 2025 revision"),
    ("SitePower", "AE-ABU grid / KW-KWT grid energy", "65 / 30 USD/MWh", "est.", "2025", "Kuwait power subsidised but grid strained (2024 rolling blackouts): no existing grid"),
    ("SitePower", "AE-ABU nuclear_ppa 500 MW", "500", "est.; Barakah 5.6 GW nuclear plant", "2024", "via grid: needs transformers"),
    ("SitePower", "ET-GERD hydro", "400 MW at 30 USD/MWh", "seed podcast (GERD >1 GW potential)", "2024", "est.; GERD 5.15 GW nameplate"),
    ("SitePower", "CN-IMG grid 1080 existing", "1080", "derived", "2026", "1200 MVA x 0.9 power factor; price est. 42 USD/MWh"),
    ("SitePower", "CN-TGD hydro 400 existing", "400", "est.", "2026", "fits 500 MVA x 0.9"),
    ("SitePower", "other max_mw", "-", "est.", "2026", "plausible site allocations; max_mw includes existing_mw"),
    # Transformers
    ("Transformers", "LPT-100 capex", "4.0 M USD", "est.; Wood Mackenzie (+77-80 % since 2019) via " + _RD, "2025", "~2.2 M USD pre-2019 x 1.8"),
    ("Transformers", "LPT-250 capex", "8.0 M USD", "est.; Wood Mackenzie via " + _RD, "2025", "~4.5 M USD pre-2019 x 1.8"),
    ("Transformers", "lead_years", "2-3", "Wood Mackenzie; PwC 2026 via " + _RD, "2026", "128-160 weeks; 250 MVA units at the long end"),
    # GPUs
    # GPU basis: capex = server-level price per GPU / (1 - 0.19); it_kw = server-level kW per GPU / 0.9
    ("GPUs", "capex_usd basis (all GPUs)", "server-level price per GPU / 0.81", _EPOCH_NET, "2024", "server (or NVL72 / CloudMatrix rack) price over its GPU count, incl. CPUs, DRAM, NICs and scale-up NVLink; the cluster (scale-out) network is 19 % of cluster cost, so x 1/(1-0.19) = x 1.235"),
    ("GPUs", "capex_usd host share (chip-priced GPUs)", "8,750 USD per GPU", "derived: DGX H100 ~270k (SemiAnalysis 2023) - 8 x ~25k H100 chip (press 2023-24)", "2023", "CPUs, DRAM, NICs, baseboard, chassis; added to the chip price of H200, B200, MI300X, MI325X, H20"),
    ("GPUs", "it_kw basis (all GPUs)", "server-level kW per GPU / 0.9", _SA_100K, "2024", "server or rack max power over its GPU count (incl. CPUs, in-rack NVSwitch); storage, switches and optics ~10 % of cluster IT power; check: 100k H100 x 1.42 kW = 142 MW vs >150 MW reported"),
    ("GPUs", "bf16_tflops H100/H200/B200/GB200/H20", "989/989/2250/2500/148", "NVIDIA spec via " + _RD, "2024", "dense BF16 peak"),
    ("GPUs", "bf16_tflops GB300", "2500", "NVIDIA GB300 NVL72 spec (360 PF FP16/BF16 with sparsity per rack)", "2025", "derived: 360 / 2 / 72 = 2.5 PF dense; Blackwell Ultra adds FP4, not BF16"),
    ("GPUs", "bf16_tflops VR200", "8300", "NVIDIA GTC 2025: Vera Rubin NVL144 1.2 EF FP8 training = 3.3x GB300 NVL72" + _DOC, "2025", "derived est.: 1.2 EF / 72 packages = 16.7 PF FP8; BF16 = FP8 / 2 as on Hopper and Blackwell; NVIDIA says ~2x B200 in production throughput (scenario rubin-2x-b200)"),
    ("GPUs", "bf16_tflops MI300X/MI325X", "1307", "AMD spec via " + _RD, "2024", "dense BF16 peak"),
    ("GPUs", "bf16_tflops Ascend910C", "780", "SemiAnalysis 2025 via " + _RD + " (est.)", "2025", ""),
    ("GPUs", "available_year GB300", "2025", "NVIDIA GTC 2025; first production GB300 NVL72 to CoreWeave Jul 2025 (Dell)", "2025", "buyer can take delivery from the first plan year"),
    ("GPUs", "available_year VR200", "2027", "NVIDIA CES 2026 (Rubin in full production, volume H2 2026); Azure first VR NVL72 rack Mar 2026", "2026", "first full year of volume for a buyer planning in years"),
    ("GPUs", "it_kw H100/H200", "1.42", "NVIDIA DGX H100/H200 spec (10.2 kW per 8 GPUs); " + _SA_100K, "2024", "derived: 10.2 / 8 = 1.275, / 0.9 (was 1.275 server-only)"),
    ("GPUs", "it_kw B200", "1.99", "NVIDIA DGX B200 user guide (14.3 kW max per 8 GPUs, docs.nvidia.com/dgx/dgxb200-user-guide)", "2025", "derived: 14.3 / 8 = 1.79, / 0.9 (was 1.6 est.)"),
    ("GPUs", "it_kw GB200", "2.24", "NVL72 ~145 kW per 72 GPUs via " + _RD, "2025", "derived: 145 / 72 = 2.01, / 0.9 (was 2.0 rack-only)"),
    ("GPUs", "it_kw GB300", "2.46", "B300 1,400 W vs 1,200 W per GPU in GB200 (NVIDIA; Morgan Stanley via Tom's Hardware, Nov 2025)", "2025", "derived: (145 + 72 x 0.2) / 72 = 2.21 kW rack-level, / 0.9"),
    ("GPUs", "it_kw VR200", "3.55", "Vera Rubin NVL72 190-230 kW per rack (Max-Q / Max-P); Rubin 1.8-2.3 kW TGP (SemiAnalysis via press 2026)", "2026", "derived: 230 / 72 = 3.19 kW rack-level (training at Max-P), / 0.9"),
    ("GPUs", "it_kw MI300X", "1.44", "est. via " + _RD, "2024", "derived: 1.3 kW server share (750 W TDP), / 0.9"),
    ("GPUs", "it_kw MI325X", "1.78", "est. via " + _RD, "2025", "derived: 1.6 kW server share (1,000 W TDP), / 0.9"),
    ("GPUs", "it_kw Ascend910C", "1.62", "CloudMatrix 384: 559 kW / 384 GPUs (SemiAnalysis 2025)", "2025", "derived: 1.46 (incl. optical scale-up network), / 0.9"),
    ("GPUs", "it_kw H20", "0.89", "est. via " + _RD, "2024", "derived: 0.8 kW server share (400 W TDP), / 0.9"),
    ("GPUs", "capex H100", "41,700", "DGX H100 ~270k / 8 = 33,750 (SemiAnalysis 2023, Epoch AI Hardware prices.csv)", "2023", "derived: 33,750 / 0.81; cf. 47-52k per H100 incl. InfiniBand and facility share (H100 Freakonomics, 2024)"),
    ("GPUs", "capex H200", "40,900", "China channel price of an 8-GPU H200 HGX module RMB 1.4 M ~ 195k USD (Tencent Technology, Dec 2025)", "2025", "derived est.: 24.4k per GPU + 8.75k host = 33.2k server, / 0.81 (was 35,000 est.)"),
    ("GPUs", "capex B200", "54,000", "chip 30-40k (NVIDIA CEO 2024) via " + _RD, "2024", "derived est.: 35k + 8.75k host = 43.75k server, / 0.81 (was 35,000 chip); DGX B200 list ~515k / 8 = 64.4k is a list-price ceiling"),
    ("GPUs", "capex GB200", "60,000", "NVL72 rack 3.5-4.0 M (Morgan Stanley 2026); 3.4 M compute hardware of a 5.9 M all-in rack (Bernstein 2025)", "2025", "derived: 3.5 M / 72 = 48.6k, / 0.81 (was 43,000 rack-only)"),
    ("GPUs", "capex GB300", "68,600", "GB300 NVL72 rack ~4.0 M (" + _MS_RACK + ")", "2026", "derived: 4.0 M / 72 = 55.6k, / 0.81"),
    ("GPUs", "capex VR200", "133,800", "VR200 NVL72 rack 7,803,148 USD (" + _MS_RACK + ")", "2026", "derived: 7.80 M / 72 = 108.4k, / 0.81; other estimates 3.5-8.8 M per rack"),
    ("GPUs", "capex MI300X", "26,200", "chip 10-15k (Citi 2024) via " + _RD, "2024", "derived est.: 12.5k + 8.75k host = 21.25k server, / 0.81 (was 12,500 chip)"),
    ("GPUs", "capex MI325X", "37,300", "chip ~20-23k (est.) via " + _RD, "2025", "derived est.: 21.5k + 8.75k host = 30.25k server, / 0.81 (was 21,500 chip)"),
    ("GPUs", "capex Ascend910C", "26,400", "CloudMatrix 384 reported up to ~8.2 M USD per system via " + _RD, "2025", "derived: 8.2 M / 384 = 21.4k system-level, / 0.81 (was 28,000 est.)"),
    ("GPUs", "capex H20", "26,200", "chip 12-13k (SemiAnalysis via FT 2024)", "2024", "derived est.: 12.5k + 8.75k host = 21.25k server, / 0.81 (was 12,500 chip); China channel 8-GPU module RMB 0.88-1.05 M = 15-18k per GPU (Tencent Technology 2025)"),
    ("GPUs", "life_years", "5", "Epoch AI training-cost-trends (server life 5 years for hardware from 2023)", "2024", "accounting life of accelerators, all types incl. GB300 and VR200"),
    ("GPUs", "cowos_wafers_per_kgpu H100/H200/H20", "35", "~29 H100/H200 packages per 300 mm CoWoS-S wafer (TrendForce/Digitimes via press 2024)", "2024", "checked: 1000 / (29 x ~0.98 yield) = 35"),
    ("GPUs", "cowos_wafers_per_kgpu B200/GB200/GB300", "67", "16 B200 per 12-inch CoWoS-L wafer at 100 % yield; NVIDIA >140k CoWoS wafers in 2025 (TrendForce/Digitimes via press)", "2025", "checked: ~3.3x-reticle interposer (2,831 mm2, TSMC); 1000 / (16 x ~0.94) = 67; B300 uses the same two-die package"),
    ("GPUs", "cowos_wafers_per_kgpu VR200", "115", "Rubin CoWoS-L interposer ~4,700 mm2 (5.5x reticle; TSMC roadmap via press 2024-26)", "2026", "derived est.: 16 x 2,831 / 4,719 = 9.6 gross, ~90 % yield = 8.7 good, 1000 / 8.7 = 115; reports of 4 per wafer would mean ~250"),
    ("GPUs", "cowos_wafers_per_kgpu MI300X/MI325X", "60", "TSMC: MI300X on the 3.3x-reticle interposer class, smaller than B200 (via press 2024)", "2024", "checked est.: ~17 good packages per wafer"),
    ("GPUs", "cowos_wafers_per_kgpu Ascend910C", "0", "est.", "2025", "domestic (non-TSMC) packaging: buyer's TSMC CoWoS cap does not apply; volume capped by gpu:Ascend910C"),
    ("GPUs", "hbm_stacks", "5/6/8/8/8/8/8/8/8/6", "derived from memory size: 80/141/192/192/288/288/192/256/128/96 GB", "2026", "H100 80 GB = 5 active 16 GB stacks of 6 sites (6 if the sixth is a disabled real stack); H200 6 x 24; B200/GB200 8 x 24; GB300 8 x 36 (12-Hi); VR200 8 x 36 HBM4 (NVIDIA: 8 HBM4 stacks per GPU); MI300X 8 x 24; MI325X 8 x 32; 910C 8 x 16; H20 6 x 16"),
    # Supply
    ("Supply", "cowos_wafers", "15k-48k / yr", "derived from TrendForce via " + _RD, "2025", "world est. 1.2/1.7/2.1/2.5/2.8 M wafers 2026-30 (12-130k/month trajectory); buyer ~1.2-1.7 %"),
    ("Supply", "hbm_stacks", "1.5-4.5 M / yr", "est.", "2026", "~100 stacks per CoWoS wafer of allocation; slightly tighter than CoWoS for Blackwell (120/wafer)"),
    ("Supply", "transformer_units", "4-8 / yr", "est.; Wood Mackenzie, PwC 2026 via " + _RD, "2026", "sold-out LPT factories"),
    ("Supply", "gpu:H100/H200/MI300X/MI325X", "phase-out caps", "est.; Epoch AI (1.5-2 M H100 in 2024)", "2026", "older models winding down; 0 = no longer sold"),
    ("Supply", "gpu:H20", "20k in 2026, then 0", "NVIDIA: no H20 sold to China in Q2 FY26 (Aug 2025), ~50 M USD of H20 in Q3 FY26 (CFO, via press)", "2025", "est.: remaining inventory only; China discouraged H20 purchases (was 50-200k / yr)"),
    ("Supply", "gpu:B200", "200k/150k/50k/0/0", "est.; HGX B300 replaces HGX B200 from late 2025", "2026", "phase-out cap for this buyer"),
    ("Supply", "gpu:GB200", "150k/100k/0/0/0", "est.; GB300 is most NVL72 output from Q4 2025", "2026", "phase-out cap for this buyer"),
    ("Supply", "gpu:GB300", "200k/250k/150k/50k/0", "est.; superseded by Vera Rubin from 2027", "2026", "ramp then phase-out for this buyer"),
    ("Supply", "gpu:VR200", "0/60k/250k/400k/500k", "est.; Rubin volume from H2 2026 (NVIDIA CES 2026)", "2026", "ramp for this buyer; 250k x 115 / 1000 = 28.8k wafers ~ the buyer's 2028 CoWoS cap"),
    ("Supply", "gpu:Ascend910C", "300-800k / yr", "US Commerce; SemiAnalysis (0.2-0.8 M in 2025) via " + _RD, "2025", "est. growth; a centralised Chinese program could get most of it (seed podcast)"),
    ("Supply", "gpus UAE", "500k / yr", "US-UAE AI agreement, May 2025 (Reuters: up to 500,000 of Nvidia's most advanced chips a year)", "2025", "a cap for every buyer at UAE sites together; this buyer could get at most all of it"),
    # GPUMaterials: logic wafers per GPU = dies per GPU / (gross dies x yield); docs section 7
    ("GPUMaterials", "gross dies per 300 mm wafer", "63 / 64 / 552 / 156 / 80", "standard gross-die formula: pi (d/2)^2 / A - pi d / sqrt(2 A), d = 300 mm (e.g. citicalculator.com/Wafer-Die-Calculator.php)" + _DOC, "2026", "derived: 814 / 800 / 115 / 370 / 666 mm2 dies, floored; no scribe lines or edge exclusion (a few % optimistic)"),
    ("GPUMaterials", "yield model (TSMC)", "Murphy, D0 0.07 /cm2 (N4, N5, N6), 0.08 (N3P)", "TSMC N5 D0 ~0.10 at HVM start, <0.10 after (TSMC Technology Symposium 2020 via AnandTech 16028); N7 0.09 (VLSI 2019)", "2020", "est.: mature nodes by 2026; check: 814 mm2 at 0.07 -> 58 %, vs ~60 % reported for H100 at TSMC (Austin Lyons, Creative Strategies, FT Feb 2025); harvesting (132 of 144 SMs on H100) taken as inside that reported yield"),
    ("GPUMaterials", "H100 / H200 / H20 wafers_n4", "0.02732", "GH100 814 mm2 on TSMC 4N (NVIDIA)", "2022", "derived: 63 gross x 0.581 = 36.6 good dies; 1 / 36.6; H20 is a cut-down GH100 (same die)"),
    ("GPUMaterials", "B200 / GB200 / GB300 wafers_n4", "0.0533", "two reticle-limited GB100 dies (~800 mm2, 104 B transistors each) on TSMC 4NP (NVIDIA Hot Chips 2024; TechInsights B200 teardown 2025)", "2024", "derived: 64 gross x 0.586 = 37.5 good; 2 / 37.5; B300 (GB300) keeps the two-reticle 4NP design"),
    ("GPUMaterials", "VR200 wafers_n3", "0.05728", "Rubin: two reticle-size compute dies on TSMC N3P, 336 B transistors (NVIDIA GTC 2025 / CES 2026)", "2026", "derived: 64 gross x 0.546 (D0 0.08) = 34.9 good; 2 / 34.9; the 1-2 I/O chiplets seen on the package are not counted (size/node unpublished)"),
    ("GPUMaterials", "MI300X / MI325X wafers_n5 / wafers_n6", "0.0157 / 0.03304", "8 XCDs (~115 mm2, TSMC N5) on 4 IODs (~370 mm2, TSMC N6) (AMD; die areas est. from press/analyst estimates, r/AMD_Stock 2024; ~110 mm2 XCD pre-launch, MLID 2022)", "2024", "derived: XCD 552 gross x 0.923 = 510 good, 8 / 510; IOD 156 x 0.776 = 121 good, 4 / 121; MI325X uses the same silicon"),
    ("GPUMaterials", "Ascend910C wafers_smic_n7", "0.0625", "two Ascend 910B-class dies (665.61 mm2, TechInsights) on SMIC N+2 (SemiAnalysis 2025; L. Heim, Mar 2025); yield ~40 % (FT, Feb 2025, up from ~20 % in 2024; target 60 %)", "2025", "derived: 80 gross x 0.40 = 32 good; 2 / 32 (Murphy-implied D0 ~0.15 /cm2, 2x TSMC); at the 60 % target 0.042"),
    # Supply: logic wafers (buyer's allocation); docs section 7
    ("Supply", "wafers_n3", "12.6k / 22.7k / 26.7k / 29.5k / 30.0k", "TSMC N3 110-120k wafers/month end-2025, 160-170k in 2026 (Morgan Stanley, Nov 2025, via longbridge.com / c114pro.com); AI ~60 % of N3 wafers in 2026, ~86 % in 2027 (SemiAnalysis, The Great AI Silicon Shortage, 12 Mar 2026)", "2026", "derived: AI N3 wafers 140k x 12 x 0.60 = 1.01 M (2026), 170k x 12 x 0.86 = 1.75 M (2027; held 2028-30, est.: new cleanrooms go to N2) x buyer share 1.25/1.29/1.52/1.68/1.71 % (its CoWoS share), rounded"),
    ("Supply", "wafers_n4 + wafers_n5 (TSMC N5 family)", "6.8k / 7.0k / 5.5k / 3.0k / 3.1k", "TSMC N5 family (N5, N5P, N4, N4P, 4N, 4NP) ~150k wafers/month (DigiTimes via Tom's Hardware, 2022); est. flat (N5 lines converted to N3, Morgan Stanley 2025; Arizona Fab 21 N4 adds ~15-24k)", "2026", "derived: AI share est. 30 / 30 / 20 / 10 / 10 % (Blackwell volume through 2027, then AI moves to N3/N2; Counterpoint: 5/4nm utilisation recovered on NVIDIA H100/B200) = 540k / 540k / 360k / 180k / 180k wafers x buyer share"),
    ("Supply", "wafers_n5", "1,300 / 1,100 / 350 / 0 / 0", "derived from this buyer's gpu:MI300X + gpu:MI325X caps", "2026", "the slice of the buyer's N5-family allocation its AMD orders need (80k / 70k / 20k / 0 / 0 GPUs x 0.0157), rounded up; wafers_n4 = N5-family allocation - this, rounded down: 5.4k / 5.8k / 5.1k / 3.0k / 3.0k"),
    ("Supply", "wafers_n6", "2,650 / 2,350 / 700 / 0 / 0", "derived from this buyer's AMD caps; TSMC 7/6nm utilisation peaked ~2020 (Counterpoint Research 2025): not a scarce node", "2026", "80k / 70k / 20k / 0 / 0 GPUs x 0.03304, rounded up: binds only if cut"),
    ("Supply", "wafers_smic_n7", "18.75k / 25k / 31.25k / 40.65k / 50k", "derived from gpu:Ascend910C; China 7/5nm output <20k wafer starts/month early 2026, ~100k targeted in 1-2 years, +500k by 2030 (Nikkei via Tom's Hardware, 25 Feb 2026); SMIC ~50k advanced-node wspm in 2025 (SemiAnalysis)", "2026", "the wafers the buyer's Ascend caps need (300k..800k x 0.0625): ~8 % of China's 7/5nm starts in 2026, a centralised program's claim; cut it to model SMIC limits"),
    # Export controls
    ("ExportControls", "China H200", "allowed", "Trump announcement 8 Dec 2025 (25 % fee); " + _BIS_2026 + "; China approved >400k H200 for ByteDance/Alibaba/Tencent (Reuters 28 Jan 2026)" + _DOC, "2026", "licences case by case, China-bound volume <= 50 % of US volume; no shipments reported by late Feb 2026 (NVIDIA guidance excludes China); was not allowed"),
    ("ExportControls", "China MI325X", "allowed", _BIS_2026, "2026", "named in the rule: TPP 20,800, 6 TB/s; was not allowed"),
    ("ExportControls", "China H100 / MI300X", "allowed", _BIS_2026, "2026", "below both thresholds (H100 TPP 15,832, 3.35 TB/s; MI300X TPP ~20,900, 5.3 TB/s): 'less advanced' chips get the same case-by-case review; was not allowed"),
    ("ExportControls", "China H20", "allowed", "US licences Aug 2025 (15 % revenue share); below the 2026 thresholds", "2026", "China's regulators discouraged purchases and H20 sales fell to ~zero: volume capped in Supply"),
    ("ExportControls", "China B200 / GB200 / GB300 / VR200", "not allowed", _BIS_2026 + "; White House blocked the Blackwell-based B30A (The Information / Reuters, Nov 2025)", "2026", "Blackwell and Rubin excluded from the Dec 2025 decision (B200 TPP 36,000 > 21,000)"),
    ("ExportControls", "China Ascend910C", "allowed", "domestic chip", "2025", "China also requires state-funded data centres to use domestic chips (Reuters, Nov 2025): not expressible as allowed TRUE/FALSE"),
    ("ExportControls", "Ascend910C outside China", "not allowed", "est.", "2025", "Huawei does not export it; US guidance (2025) warns against using Ascend chips"),
    ("ExportControls", "UAE and Malaysia, US GPUs", "allowed", "US-UAE AI agreement (Reuters, 15 May 2025); BIS licences to Microsoft for the UAE (AP, 3 Nov 2025); Malaysia: AI Diffusion Rule rescinded May 2025" + _DOC, "2025", "rows stated explicitly (no row also means allowed) so that the Uncertainty sheet can draw whether the licences hold"),
    # Uncertainty (planner risk): what may turn out otherwise, one row per uncertainty
    *[("Uncertainty", name, value, source, year, note) for name, value, source, year, note in [
        ("cowos-allocation", "x triangular(0.5, 0.85, 1.1)", "TrendForce CoWoS trajectory via " + _RD + "; seed (investments-and-economic-strategies.md: CoWoS the key bottleneck in 2023, CoWoS-L and HBM next)", "2025", "est.: the buyer's share of CoWoS per year; low end = the cowos-halved scenario, mode a 15 % shortfall against plan (estimates of 2026 capacity span 120-130k wafers/month), high end a 10 % windfall; one draw for every year"),
        ("hbm-allocation", "x triangular(0.6, 0.9, 1.1)", "seed (investments-and-economic-strategies.md: HBM a current and near-future bottleneck); Supply hbm_stacks est. via " + _RD, "2025", "est.: HBM follows CoWoS, slightly less tight (the cap is counted in stacks, generous for 12-high HBM4)"),
        ("transformer-lead", "+0 / +1 / +2 years at 50 / 35 / 15 %", "Wood Mackenzie; PwC 2026 via " + _RD + " (128-160 weeks in 2025-26, up to 4 years)", "2026", "est.: base 2-3 years; +1 reaches the reported 4-year worst case, +2 the transformer-lead+2 scenario"),
        ("gas-turbine-lead", "+0 / +1 / +2 years at 60 / 30 / 10 %", "Lazard 2025; EPRI 2025 (5-7 years for new frame turbines); industry 2026 (12-18 months for engines and mobile turbines) via " + _RD, "2026", "est.: one draw for gas_ccgt and recip_engines together (the same turbine and engine backlog); CCGT base 5 years = the short end of 5-7"),
        ("gpu-price", "x uniform(0.75, 1.15)", "VR200 NVL72 rack 7.8 M USD (Morgan Stanley, May 2026) against other estimates of 3.5-8.8 M" + _DOC + "; gpu-price-30 scenario", "2026", "est.: every GPU type's price by one factor (server-level prices move together with HBM and packaging costs)"),
        ("uae-licence", "TRUE / FALSE at 85 / 15 %", "US-UAE agreement (Reuters 2025); the deal stalled ~5 months before licences (WSJ 2025); Microsoft licences (AP, Nov 2025)" + _DOC, "2025", "est.: the chance that licences for US GPUs in the UAE are not granted or are withdrawn before delivery"),
        ("malaysia-licence", "TRUE / FALSE at 75 / 25 %", "US Commerce draft rule to require licences for AI-chip exports to Malaysia and Thailand (Bloomberg 2025); Malaysia's own Strategic Trade Permit from 14 Jul 2025 (MITI via CNA)" + _DOC, "2025", "est.: the chance that US GPUs for Malaysian sites need a licence that is not granted"),
    ]],
    # Fiber
    ("FiberLinks", "capex per km", "53,000 USD/km", "Cartesian 2023 via " + _RD, "2023", "underground, median 16.25 USD/ft; DWDM optics excluded"),
    ("FiberLinks", "km", "great-circle x 1.2", "derived", "2026", "route factor est.; ABU-KWT route crosses Saudi Arabia/Gulf (est.)"),
    ("FiberLinks", "bandwidth_gbps", "3,000,000", "est.; ~30 Tbps per fibre pair via " + _RD, "2024", "~100 pairs of a 288-fibre cable; sized for 1 Gbps per PFLOP/s of a 1.8 EFLOP/s cluster"),
    ("FiberLinks", "om_usd_per_year", "2 % of capex", "est.", "2026", ""),
    ("FiberLinks", "lead_years", "1", "est.", "2026", "NVIDIA Nemotron-4 trained across sites 1,000 km apart"),
    # Runs
    ("Runs", "frontier-2027", "1e27 FLOP, 120 d, MFU 0.4", "derived; " + _RD + " end-to-end check (~240k H100)", "2026", "~29k VR200, ~96k GB200/GB300 or ~107k B200"),
    ("Runs", "frontier-2029", "1e28 FLOP, 180 d, MFU 0.4", "Epoch AI 2024 via " + _RD + " (1-5 GW campus supports 1e28-3e29)", "2024", "~0.19-0.22 M VR200 = 0.69-0.76 GW IT (~0.71 M GB200 = 1.6 GW without Rubin)"),
    ("Runs", "mfu", "0.4", "Meta 2024 (38-43 % Llama 3 405B) via " + _RD, "2024", ""),
)

# ---------------------------------------------------------------------------
# Study. row_id = id in the sheet's first column, "*" for all rows, a Settings key,
# "<site_id>:<source_id>" for SitePower, "<year>:<resource>" for Supply.
# ---------------------------------------------------------------------------
_S_COLS = "scenario sheet row_id column op value note"
_GAS_ROWS = [
    (r["site_id"], r["source_id"], r["existing_mw"])
    for r in SITE_POWER
    if r["source_id"] in ("gas_ccgt", "recip_engines")
]
_CHINA = {s["site_id"] for s in SITES if s["country"] == "China"}

SCENARIOS: list[dict] = _rows(
    _S_COLS,
    ("transformer-lead+2", "Transformers", "*", "lead_years", "add", 2, "large power transformer lead time +2 years"),
    *[
        ("cowos-halved", "Supply", f"{y}:cowos_wafers", "capacity", "scale", 0.5, "TSMC CoWoS allocation halved")
        for y in YEARS
    ],
    *[
        ("logic-wafers-cut-2027", "Supply", f"2027:{res}", "capacity", "scale", 0.6667, "fab logic wafers cut by a third in 2027 (seed: fabs bind in 2026-27)")
        for res in _WAFER_CAPS
    ],
    ("n3-2027-1500-wafers", "Supply", "2027:wafers_n3", "capacity", "set", 1500, "this buyer's 2027 N3 allocation cut to 1,500 wafers (a 93 % cut): the level at which logic wafers start to bind"),
    *[
        ("no-new-gas", "SitePower", f"{s}:{src}", "max_mw", "set", ex, "no new gas generation (existing only)")
        for s, src, ex in _GAS_ROWS
    ],
    ("pue-1.1", "Sites", "*", "pue", "set", 1.1, "every site at hyperscale PUE"),
    ("pue-1.1", "Cooling", "*", "pue", "set", 1.1, "every cooling option at hyperscale PUE"),
    *[
        ("china-only", "Sites", s["site_id"], "earliest_year", "set", 2100, "only Chinese sites (others never open); expected infeasible for 2029")
        for s in SITES
        if s["site_id"] not in _CHINA
    ],
    ("single-site", "Runs", "*", "max_sites", "set", 1, "multi-site training forbidden"),
    ("gpu-price-30", "GPUs", "*", "capex_usd", "scale", 0.7, "GPU prices -30 %"),
    ("rubin-2x-b200", "GPUs", "VR200", "bf16_tflops", "set", 4500, "Rubin at NVIDIA's ~2x B200 production throughput instead of the 3.3x GB300 FP8 peak"),
    ("impossible-2027", "Runs", "frontier-2027", "flop", "set", 1e30, "deliberately infeasible"),
    *[
        ("net-zero-2028", "Supply", f"{y}:co2_t", "capacity", "insert", 0, "net zero from 2028: no emissions from the energy served (a row the base lacks)")
        for y in YEARS
        if y >= 2028
    ],
    *[
        ("malaysia-tier2-cap", "Supply", f"{y}:h100e:Malaysia", "capacity", "insert", 16_633, "the AI Diffusion Rule's Tier 2 cap had stood for Malaysia: 49,901 H100e over 2025-27, a third a year (rule of Jan 2025, rescinded May 2025; docs/reference-sources.md section 4)")
        for y in YEARS
    ],
    ("carbon-100", "Settings", "co2_price_usd_per_t", "value", "set", 100, "carbon price of 100 USD/t CO2 on the energy served"),
)

SWEEPS: list[dict] = _rows(
    "sweep sheet row_id column from to steps scale",
    ("run-size-2029", "Runs", "frontier-2029", "flop", 1e26, 1e29, 13, "log"),
    ("pue", "Sites", "*", "pue", 1.1, 1.6, 6, "linear"),
)

# ---------------------------------------------------------------------------
# Uncertainty (planner risk): rows with the same name take one draw together. Sources in
# the Sources sheet (sheet "Uncertainty") and docs/reference-sources.md section 7.
# ---------------------------------------------------------------------------
_U_COLS = "uncertainty sheet row_id column op distribution low mode high choices note"
_LEAD = "0:0.5;1:0.35;2:0.15"
_TURBINE = "0:0.6;1:0.3;2:0.1"
UNCERTAINTY: list[dict] = _rows(
    _U_COLS,
    *[
        ("cowos-allocation", "Supply", f"{y}:cowos_wafers", "capacity", "scale", "triangular", 0.5, 0.85, 1.1, "", "TSMC CoWoS allocation against plan (TrendForce; seed)")
        for y in YEARS
    ],
    *[
        ("hbm-allocation", "Supply", f"{y}:hbm_stacks", "capacity", "scale", "triangular", 0.6, 0.9, 1.1, "", "HBM allocation against plan (seed; est.)")
        for y in YEARS
    ],
    ("transformer-lead", "Transformers", "*", "lead_years", "add", "choice", None, None, None, _LEAD, "large power transformers 128-160 weeks, up to 4 years (Wood Mackenzie; PwC 2026)"),
    *[
        ("gas-turbine-lead", "PowerSources", src, "lead_years", "add", "choice", None, None, None, _TURBINE, "turbine and engine backlog (Lazard 2025; EPRI 2025; industry 2026)")
        for src in ("gas_ccgt", "recip_engines")
    ],
    ("gpu-price", "GPUs", "*", "capex_usd", "scale", "uniform", 0.75, None, 1.15, "", "VR200 rack 7.8 M USD vs 3.5-8.8 M estimates (Morgan Stanley 2026)"),
    *[
        ("uae-licence", "ExportControls", f"UAE:{g}", "allowed", "set", "choice", None, None, None, "TRUE:0.85;FALSE:0.15", "US GPU licences for UAE sites hold (US-UAE agreement 2025; est.)")
        for g in _US_GPUS
    ],
    *[
        ("malaysia-licence", "ExportControls", f"Malaysia:{g}", "allowed", "set", "choice", None, None, None, "TRUE:0.75;FALSE:0.25", "US GPU licences for Malaysian sites hold (US draft rule 2025; est.)")
        for g in _US_GPUS
    ],
)
