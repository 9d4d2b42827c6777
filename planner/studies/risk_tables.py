"""What a risk run reports: the odds per run with a 95 % interval, the cost distribution,
which uncertainties bind the samples that fall short, and which move the cost most.

Probabilities are over the samples with an answer (a sample whose solve crashed or found
nothing in time is counted apart); the 95 % interval is Wilson's score interval. Costs are
the discounted objective of the recourse plans of the samples where every run is met.
An uncertainty's effect on cost is the Spearman rank correlation of its draw with the cost,
and the mean cost of the samples whose draw is above its median less that of the others.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from planner.studies.risk import RiskResult, Sample, short_runs
from planner.studies.uncertainty import Uncertainty, show
from planner.studies.worker import STATUS_CRASHED

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for k successes in n trials (NaN for n = 0)."""
    if n <= 0:
        return math.nan, math.nan
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


def met(s: Sample, run: str) -> bool | None:
    """Whether the sample meets the run's target by its ready year (None: no answer)."""
    if s.result.get("status") in (STATUS_CRASHED, "error", "no_plan"):
        return None
    value = (s.result.get("met") or {}).get(run)
    return value if isinstance(value, bool) else None


def every_run(risk: RiskResult, s: Sample) -> bool | None:
    flags = [met(s, r.run_id) for r in risk.data.runs]
    if any(f is False for f in flags):
        return False
    return None if any(f is None for f in flags) else True


def costs(risk: RiskResult) -> list[float]:
    """Discounted cost of every sample whose recourse plan meets every run."""
    return [
        float(s.result["objective_usd"])
        for s in risk.samples
        if every_run(risk, s) and s.result.get("objective_usd") is not None
    ]


def run_rows(risk: RiskResult) -> list[dict[str, Any]]:
    """One row per run, then one for every run together."""
    rows = []
    for r in risk.data.runs:
        flags = [(s, met(s, r.run_id)) for s in risk.samples]
        answered = [(s, f) for s, f in flags if f is not None]
        reach = [
            min(float((s.result.get("flop") or {}).get(r.run_id, 0.0)), r.flop) for s, _ in answered
        ]
        short = [x for (_, f), x in zip(answered, reach, strict=True) if not f]
        rows.append(
            _odds(r.run_id, r.ready_year, r.flop, sum(f for _, f in answered), len(answered))
            | {
                "flop_reachable_p10": percentile(reach, 10),
                "flop_reachable_p50": percentile(reach, 50),
                "flop_reachable_short_p50": percentile(short, 50),
            }
        )
    flags_all = [every_run(risk, s) for s in risk.samples]
    answered_all = [f for f in flags_all if f is not None]
    rows.append(_odds("every run", None, None, sum(answered_all), len(answered_all)))
    return rows


def _odds(run: str, year: int | None, flop: float | None, k: int, n: int) -> dict[str, Any]:
    low, high = wilson(k, n)
    p = k / n if n else None
    what = f"{run} meets {flop:.3g} FLOP by {year}" if flop is not None else "every run on time"
    reading = (
        f"{what} in {k} of {n} samples: {p:.1%} (95 % interval {low:.1%} to {high:.1%})"
        if p is not None
        else f"{run}: no sample has an answer"
    )
    return {
        "run_id": run,
        "ready_year": year,
        "flop": flop,
        "samples": n,
        "met": k,
        "short": n - k,
        "p_meet_fraction": p,
        "ci95_low_fraction": low if n else None,
        "ci95_high_fraction": high if n else None,
        "reading": reading,
    }


def cost_stats(risk: RiskResult) -> dict[str, Any]:
    values = costs(risk)
    base = risk.base.get("objective_usd")
    p90 = percentile(values, 90)
    return {
        "samples": len(values),
        "p10_usd": percentile(values, 10),
        "p50_usd": percentile(values, 50),
        "p90_usd": p90,
        "mean_usd": float(np.mean(values)) if values else None,
        "min_usd": min(values) if values else None,
        "max_usd": max(values) if values else None,
        "base_usd": base,
        "p90_over_base_pct": (p90 / base - 1) * 100 if p90 is not None and base else None,
    }


def cost_effect(risk: RiskResult, u: Uncertainty) -> dict[str, Any]:
    """Spearman correlation of the draw with the cost, and the high-half less low-half
    mean cost, over the samples with a cost."""
    pairs = [
        (u.numeric(s.draws[u.name]), float(s.result["objective_usd"]))
        for s in risk.samples
        if every_run(risk, s) and s.result.get("objective_usd") is not None
    ]
    pairs = [(x, y) for x, y in pairs if math.isfinite(x)]
    out: dict[str, Any] = {
        "cost_correlation": None,
        "cost_low_half_usd": None,
        "cost_high_half_usd": None,
        "cost_swing_usd": None,
    }
    if len(pairs) < 3:
        return out
    xs = np.array([x for x, _ in pairs])
    ys = np.array([y for _, y in pairs])
    if np.ptp(xs) > 0 and np.ptp(ys) > 0:
        from scipy.stats import spearmanr

        out["cost_correlation"] = float(spearmanr(xs, ys).statistic)
    median = float(np.median(xs))
    high = xs > median
    if not high.any():  # a value held by more than half the samples: split below it
        high = xs >= median
    if high.any() and (~high).any():
        lo, hi = float(ys[~high].mean()), float(ys[high].mean())
        out.update(cost_low_half_usd=lo, cost_high_half_usd=hi, cost_swing_usd=hi - lo)
    return out


def binding_rows(risk: RiskResult) -> list[dict[str, Any]]:
    """Per uncertainty and run: in the samples where the run falls short, how often the
    uncertainty was drawn away from its base value, and how often undoing it alone lets
    the run through."""
    rows = []
    for u in risk.uncertainties:
        for r in risk.data.runs:
            short = [s for s in risk.samples if met(s, r.run_id) is False]
            adverse = [s for s in short if (s.index, u.name) in risk.undone]
            binds = [s for s in adverse if _undone_meets(risk, s, u.name, r.run_id)]
            rows.append(
                {
                    "uncertainty": u.name,
                    "run_id": r.run_id,
                    "short_samples": len(short),
                    "adverse_samples": len(adverse),
                    "binds_samples": len(binds),
                    "binds_pct": len(binds) / len(short) * 100 if short else None,
                    "reading": _bind_words(u.name, r.run_id, len(binds), len(adverse), len(short)),
                }
            )
    return rows


def _undone_meets(risk: RiskResult, s: Sample, name: str, run: str) -> bool:
    result = risk.undone.get((s.index, name)) or {}
    return (result.get("met") or {}).get(run) is True


def _bind_words(name: str, run: str, binds: int, adverse: int, short: int) -> str:
    if not short:
        return f"{run} never falls short"
    return (
        f"{run} falls short in {short} samples; {name} is drawn away from its base value "
        f"in {adverse} of them, and undoing it alone lets the run through in {binds}"
    )


def uncertainty_rows(risk: RiskResult) -> list[dict[str, Any]]:
    """One row per uncertainty, ranked by the size of its effect on cost."""
    short = [s for s in risk.samples if short_runs(s.result)]
    rows = []
    for u in risk.uncertainties:
        binds = [
            s for s in short if any(_undone_meets(risk, s, u.name, r) for r in short_runs(s.result))
        ]
        rows.append(
            {
                "uncertainty": u.name,
                "distribution": u.describe(),
                "changes": "; ".join(f"{t.op} {t.sheet}[{t.row_id}].{t.column}" for t in u.targets),
                "rows": len(u.targets),
                **cost_effect(risk, u),
                "short_samples": len(short),
                "binds_samples": len(binds),
                "binds_pct": len(binds) / len(short) * 100 if short else None,
                "note": next((t.note for t in u.targets if t.note), ""),
            }
        )
    order = sorted(
        range(len(rows)),
        key=lambda i: (
            -abs(rows[i]["cost_correlation"] or 0.0),
            -abs(rows[i]["cost_swing_usd"] or 0.0),
        ),
    )
    for rank, i in enumerate(order, start=1):
        rows[i]["cost_rank"] = rank
    return [rows[i] for i in order]


def sample_rows(risk: RiskResult) -> list[dict[str, Any]]:
    """One row per sample: its status, cost, each run's outcome and every draw."""
    rows = []
    for s in risk.samples:
        res = s.result
        row: dict[str, Any] = {
            "sample": s.index,
            "status": res.get("status"),
            "every_run_met": every_run(risk, s),
            "objective_usd": res.get("objective_usd"),
        }
        for r in risk.data.runs:
            row[f"met {r.run_id}"] = met(s, r.run_id)
            row[f"flop {r.run_id}"] = (res.get("flop") or {}).get(r.run_id)
        for u in risk.uncertainties:
            value = s.draws.get(u.name)
            row[f"draw {u.name}"] = (
                value
                if isinstance(value, bool | int | float)
                else (show(value) if value is not None else None)
            )
        row["cancelled_count"] = len(res.get("cancelled") or [])
        row["check_violations"] = len(res.get("violations") or []) + len(res.get("breaks") or [])
        row["reason"] = res.get("message", "")
        row["solve_seconds"] = res.get("solve_seconds")
        row["from_cache"] = s.cached
        rows.append(row)
    return rows
