# ruff: noqa: E501
"""Contents of the default input workbook ``inputs/reference.xlsx``.

Plain data only: ``SHEETS`` (one list of row dicts per sheet, keys = column names in
order), ``SOURCES`` (where every figure comes from), ``SCENARIOS`` and ``SWEEPS``
(the study that ships with the workbook). Figures come from
/work/shared/reference-data.md unless the Sources row says otherwise; "est." marks an
estimate, "derived" marks arithmetic on other figures.

SIZING ARITHMETIC (why the default workbook is comfortably feasible)
====================================================================
FLOP per GPU = bf16 * 1e12 * mfu * days * 86400; multi-site runs x 0.9.
  120 d = 1.0368e7 s, 180 d = 1.5552e7 s.

frontier-2027: 1e27 FLOP, ready 2027, 120 d, mfu 0.4, max 2 sites
  GB200: 1e27 / (2.5e15 * 0.4 * 1.0368e7) = 96.5k GPU  -> 193 MW IT (2.0 kW)
  B200 : 1e27 / (2.25e15* 0.4 * 1.0368e7) = 107.2k GPU -> 171.5 MW IT (1.6 kW)
  two sites (x0.9): 119.1k B200 = 190.5 MW IT.
  CoWoS 107.2k * 66.7/1000 = 7.1k wafers; HBM 107.2k * 8 = 0.86 M stacks.
frontier-2029: 1e28 FLOP, ready 2029, 180 d, mfu 0.4, max 3 sites
  cluster must sustain 1e28 / (0.4 * 0.9 * 1.5552e7) = 1.79e21 FLOP/s = 1.79 M PFLOP/s
  B200 : 794k GPU -> 1,270 MW IT; CoWoS 52.9k wafers; HBM 6.35 M stacks
  GB200: 714k GPU -> 1,429 MW IT; CoWoS 47.6k wafers; HBM 5.72 M stacks
  (2027 GPUs live 5 years, so they can be part of the 2029 cluster.)

Chip supply (this buyer, Supply sheet), cumulative 2026-2029 (GPUs bought 2026+ live
to 2030):
  CoWoS 15k+22k+32k+42k = 111k wafers vs 52.9k need -> 2.1x (halved: 55.5k, still
    >= 52.9k B200 / 47.6k GB200, so "cowos-halved" stays feasible but binds).
  HBM 1.5+2.2+3.0+3.8 = 10.5 M stacks vs 6.35 M -> 1.65x. Discounting pushes
    purchases late and 2029 alone allows 3.8 M/8 = 475k B200, so the per-year HBM /
    CoWoS caps are the chip limits that bind in the base plan (2028 buys forced).
  By 2027: CoWoS 37k vs 7.1k, HBM 3.7 M vs 0.86 M (5x / 4x).
  The buyer is one frontier program: ~1.2-1.6 % of est. world CoWoS per year
  (a top hyperscaler gets ~4-5 %); at 10-20 % CoWoS would never bind.

Power (facility = IT x PUE; firm = firm_fraction x nameplate; new power online from
2026 + lead: recip 2027, hydro 2027, solar+storage 2028, nuclear 2029, grid 2030,
CCGT 2031 = after the horizon, so only existing CCGT could count):
  2027, non-China, firm MW -> supportable IT MW:
    US-ABI recip 360*0.9 = 324 -> 294 IT (PUE 1.1)   [alone 1.7x the 171.5 need]
    US-MEM grid 135 + recip 420*0.9 = 513 -> 300 IT (site max)
    US-DEN existing grid 260 -> 168 IT (air 1.55) / 170 cap with liquid cooling
    AE-ABU existing grid 200 + recip 540 = 740 -> 592 IT
    MY-JHR existing grid 270 -> 207 IT
  2029, best three non-China sites:
    AE-ABU 200 + 540 + solar 2500*0.4 = 1740 (+ Barakah nuclear 450 if 3 new 250 MVA
      transformers) -> 1392-1752 IT, site cap 1500
    US-ABI 324 + solar 480 + nuclear 270 (needs 2 x 250 MVA) = 1074 -> 976 IT
    US-MEM 135 + 378 + solar 80 = 593 -> 300 IT (site cap)
    total ~2,670-2,780 MW IT vs 1,270-1,429 need -> ~1.9x.
  Single site (scenario single-site, no 0.9): 714k B200 = 1,143 MW IT = 1,429 MW at
    PUE 1.25: only AE-ABU fits (1,740 firm without nuclear: 22 % slack).
  No new gas: 2027 on existing grid (US-DEN 170 + MY-JHR 207 IT); 2029 AE-ABU
    (1320 IT with solar + nuclear) + US-ABI (682) + MY-JHR (300) -> feasible.
  Transformers +2 years: no new via_grid power by 2029; 2029 still fits on
    AE-ABU 1392 + US-ABI 731 (recip + solar).
  Transformers: nuclear at US-ABI / AE-ABU and grid growth need them; supply caps of
    4-8 units/yr; a 250 MVA unit carries 225 MW at power factor 0.9.
Fibre: a 3-site 2029 run needs at most 1.79 M PFLOP/s * 1 Gbps = 1.79 Pbps across
  its links; each candidate link carries 3 Pbps (~100 fibre pairs x 30 Tbps), 68 %
  slack. (Links of 30-100 Tbps would cap a remote site at 12-40k GB200.)
Export controls: China sites may only run H20 / Ascend910C; they are not needed for
  feasibility. "china-only" is expected INFEASIBLE for 2029 (2.29 M Ascend = 3.3 GW
  IT on 2 sites, above the 1.85 M Ascend supply); its 2027 run alone would fit
  (309k Ascend = 451 MW IT at CN-IMG). "impossible-2027" is infeasible by design.
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
    ("solar_storage", False, 2_000_000, 5.0, 30_000, 0.4, 2, 0.0),
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
    ("H100", "NVIDIA", 2023, 989, 1.275, 33_750, 5, 35, 5),
    ("H200", "NVIDIA", 2024, 989, 1.275, 35_000, 5, 35, 6),
    ("B200", "NVIDIA", 2025, 2250, 1.6, 35_000, 5, 67, 8),
    ("GB200", "NVIDIA", 2025, 2500, 2.0, 43_000, 5, 67, 8),
    ("MI300X", "AMD", 2024, 1307, 1.3, 12_500, 5, 60, 8),
    ("MI325X", "AMD", 2025, 1307, 1.6, 21_500, 5, 60, 8),
    ("Ascend910C", "Huawei", 2025, 780, 1.46, 28_000, 5, 0, 8),
    ("H20", "NVIDIA", 2024, 148, 0.8, 12_500, 5, 35, 6),
)

_SUPPLY_CAPS: dict[str, list[int]] = {
    "cowos_wafers": [15_000, 22_000, 32_000, 42_000, 48_000],
    "hbm_stacks": [1_500_000, 2_200_000, 3_000_000, 3_800_000, 4_500_000],
    "transformer_units": [4, 6, 6, 8, 8],
    "gpu:H100": [40_000, 20_000, 0, 0, 0],
    "gpu:H200": [60_000, 60_000, 30_000, 0, 0],
    "gpu:MI300X": [40_000, 30_000, 0, 0, 0],
    "gpu:MI325X": [40_000, 40_000, 20_000, 0, 0],
    "gpu:H20": [200_000, 200_000, 100_000, 100_000, 50_000],
    "gpu:Ascend910C": [300_000, 400_000, 500_000, 650_000, 800_000],
}
# Country volume caps (resource, country) -> yearly caps: GPUs bought at that country's
# sites, on top of this buyer's own caps above.
_COUNTRY_CAPS: dict[tuple[str, str], list[int]] = {
    ("gpus", "UAE"): [500_000] * 5,
}
SUPPLY = _rows(
    "year resource capacity country",
    *[(y, res, caps[i], "") for res, caps in _SUPPLY_CAPS.items() for i, y in enumerate(YEARS)],
    *[(y, res, caps[i], c) for (res, c), caps in _COUNTRY_CAPS.items() for i, y in enumerate(YEARS)],
)

_NON_CHINA = ["US", "Malaysia", "UAE", "Kuwait", "Ethiopia"]
EXPORT_CONTROLS = _rows(
    "country gpu_id allowed",
    *[("China", g, False) for g in ["H100", "H200", "B200", "GB200", "MI300X", "MI325X"]],
    ("China", "H20", True),
    ("China", "Ascend910C", True),
    *[(c, "Ascend910C", False) for c in _NON_CHINA],
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
    "Supply": SUPPLY,
    "ExportControls": EXPORT_CONTROLS,
    "FiberLinks": FIBER_LINKS,
    "Runs": RUNS,
}

# ---------------------------------------------------------------------------
# Sources: one row per figure or group of figures.
# ---------------------------------------------------------------------------
_RD = "reference-data.md"
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
    ("PowerSources", "firm_fraction gas", "0.9", "est.", "2026", "N+1 redundancy / forced outages"),
    ("PowerSources", "solar_storage capex / energy", "2.0 M USD/MW nameplate, 5 USD/MWh", "est.", "2025", "owned PV + 4 h battery; Lazard 2025 LCOE 50-131 USD/MWh as cross-check"),
    ("PowerSources", "solar_storage firm_fraction", "0.4", "est.", "2026", "share of nameplate deliverable around the clock"),
    ("PowerSources", "solar_storage lead_years", "2", "Lazard 2025 via " + _RD, "2025", "18-20 months"),
    ("PowerSources", "nuclear_ppa energy", "112 USD/MWh", "Microsoft-Constellation 2024 via " + _RD + " (est.)", "2024", "110-115 USD/MWh; restart cost 1.9 M USD/MW borne by the plant owner"),
    ("PowerSources", "nuclear_ppa lead_years", "3", "Microsoft-Constellation 2024 via " + _RD, "2024", "2024 deal online 2028; deals already in negotiation assumed"),
    ("PowerSources", "nuclear_ppa firm_fraction", "0.9", "est.", "2024", "US nuclear capacity factor ~0.9"),
    ("PowerSources", "nuclear/hydro capex", "0.1 M USD/MW", "est.", "2026", "interconnection share; energy price covers the plant"),
    ("PowerSources", "hydro energy / firm / lead", "40 USD/MWh, 0.6, 1", "est.", "2026", "existing dams: only substation/line needed; firm share covers dry season"),
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
    ("GPUs", "bf16_tflops H100/H200/B200/GB200/H20", "989/989/2250/2500/148", "NVIDIA spec via " + _RD, "2024", "dense BF16 peak"),
    ("GPUs", "bf16_tflops MI300X/MI325X", "1307", "AMD spec via " + _RD, "2024", "dense BF16 peak"),
    ("GPUs", "bf16_tflops Ascend910C", "780", "SemiAnalysis 2025 via " + _RD + " (est.)", "2025", ""),
    ("GPUs", "it_kw H100/H200", "1.275", "derived: DGX H100 10.2 kW / 8", "2023", ""),
    ("GPUs", "it_kw GB200", "2.0", "derived: NVL72 145 kW / 72", "2025", ""),
    ("GPUs", "it_kw Ascend910C", "1.46", "derived: CloudMatrix 384 559 kW / 384 (SemiAnalysis 2025)", "2025", ""),
    ("GPUs", "it_kw B200/MI300X/MI325X/H20", "1.6/1.3/1.6/0.8", "est. via " + _RD, "2025", ""),
    ("GPUs", "capex H100", "33,750", "derived: DGX ~270k / 8 (Epoch AI hardware prices)", "2023", "server-level prices throughout; cluster network excluded"),
    ("GPUs", "capex H200", "35,000", "est. via " + _RD, "2026", ""),
    ("GPUs", "capex B200", "35,000", "NVIDIA 2024 via " + _RD, "2024", "30-40k mid-point"),
    ("GPUs", "capex GB200", "43,000", "derived: rack ~3.1 M / 72 (SemiAnalysis 2025)", "2025", "~70k with external network (est.)"),
    ("GPUs", "capex MI300X", "12,500", "Citi 2024 via " + _RD, "2024", "10-15k mid-point"),
    ("GPUs", "capex MI325X", "21,500", "est. via " + _RD, "2025", "20-23k"),
    ("GPUs", "capex Ascend910C", "28,000", "est.", "2025", "price not published"),
    ("GPUs", "capex H20", "12,500", "SemiAnalysis via FT 2024", "2024", "12-13k"),
    ("GPUs", "life_years", "5", "est.", "2026", "accounting life of accelerators"),
    ("GPUs", "cowos_wafers_per_kgpu H100/H200/H20", "35", "derived: 1000 / ~29 packages per wafer (est.)", "2024", ""),
    ("GPUs", "cowos_wafers_per_kgpu B200/GB200", "67", "derived: 1000 / ~15 two-die packages per wafer (est.)", "2025", ""),
    ("GPUs", "cowos_wafers_per_kgpu MI300X/MI325X", "60", "est.", "2024", "large CoWoS-S interposer"),
    ("GPUs", "cowos_wafers_per_kgpu Ascend910C", "0", "est.", "2025", "domestic (non-TSMC) packaging: buyer's TSMC CoWoS cap does not apply; volume capped by gpu:Ascend910C"),
    ("GPUs", "hbm_stacks", "5/6/8/8/8/8/8/6", "derived from memory size: 80/141/192/192/192/256/128/96 GB", "2025", "H100 80 GB = 5 active stacks"),
    # Supply
    ("Supply", "cowos_wafers", "15k-48k / yr", "derived from TrendForce via " + _RD, "2025", "world est. 1.2/1.7/2.1/2.5/2.8 M wafers 2026-30 (12-130k/month trajectory); buyer ~1.2-1.7 %"),
    ("Supply", "hbm_stacks", "1.5-4.5 M / yr", "est.", "2026", "~100 stacks per CoWoS wafer of allocation; slightly tighter than CoWoS for Blackwell (120/wafer)"),
    ("Supply", "transformer_units", "4-8 / yr", "est.; Wood Mackenzie, PwC 2026 via " + _RD, "2026", "sold-out LPT factories"),
    ("Supply", "gpu:H100/H200/MI300X/MI325X", "phase-out caps", "est.; Epoch AI (1.5-2 M H100 in 2024)", "2026", "older models winding down; 0 = no longer sold"),
    ("Supply", "gpu:H20", "50-200k / yr", "seed podcast; SemiAnalysis (>1 M H20 to China 2024) via " + _RD, "2024", "est. buyer share; 2025 licensing uncertain"),
    ("Supply", "gpu:Ascend910C", "300-800k / yr", "US Commerce; SemiAnalysis (0.2-0.8 M in 2025) via " + _RD, "2025", "est. growth; a centralised Chinese program could get most of it (seed podcast)"),
    ("Supply", "gpus UAE", "500k / yr", "US-UAE AI agreement, May 2025 (Reuters: up to 500,000 of Nvidia's most advanced chips a year)", "2025", "a cap for every buyer at UAE sites together; this buyer could get at most all of it"),
    # Export controls
    ("ExportControls", "China", "H20 and Ascend910C only", "US export controls (BIS 2022-25)", "2025", "H20 allowed as in 2024-25 licensing"),
    ("ExportControls", "Ascend910C outside China", "not allowed", "est.", "2025", "Huawei does not export it; US guidance (2025) warns against using Ascend chips"),
    # Fiber
    ("FiberLinks", "capex per km", "53,000 USD/km", "Cartesian 2023 via " + _RD, "2023", "underground, median 16.25 USD/ft; DWDM optics excluded"),
    ("FiberLinks", "km", "great-circle x 1.2", "derived", "2026", "route factor est.; ABU-KWT route crosses Saudi Arabia/Gulf (est.)"),
    ("FiberLinks", "bandwidth_gbps", "3,000,000", "est.; ~30 Tbps per fibre pair via " + _RD, "2024", "~100 pairs of a 288-fibre cable; sized for 1 Gbps per PFLOP/s of a 1.8 EFLOP/s cluster"),
    ("FiberLinks", "om_usd_per_year", "2 % of capex", "est.", "2026", ""),
    ("FiberLinks", "lead_years", "1", "est.", "2026", "NVIDIA Nemotron-4 trained across sites 1,000 km apart"),
    # Runs
    ("Runs", "frontier-2027", "1e27 FLOP, 120 d, MFU 0.4", "derived; " + _RD + " end-to-end check (~240k H100)", "2026", "~107k B200 or ~96k GB200"),
    ("Runs", "frontier-2029", "1e28 FLOP, 180 d, MFU 0.4", "Epoch AI 2024 via " + _RD + " (1-5 GW campus supports 1e28-3e29)", "2024", "~0.8 M B200, ~1.3-1.4 GW IT"),
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
    ("impossible-2027", "Runs", "frontier-2027", "flop", "set", 1e30, "deliberately infeasible"),
)

SWEEPS: list[dict] = _rows(
    "sweep sheet row_id column from to steps scale",
    ("run-size-2029", "Runs", "frontier-2029", "flop", 1e26, 1e29, 13, "log"),
    ("pue", "Sites", "*", "pue", 1.1, 1.6, 6, "linear"),
)
