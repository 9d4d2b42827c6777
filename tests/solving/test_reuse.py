"""Reusing a compiled model across scenarios that change only costs or supply limits."""

from __future__ import annotations

import factory as f
import pytest

from planner import api
from planner.solving.compiled import compile_model
from planner.solving.reuse import ReusingCompiler, structure_key

BASE = dict(
    gpus=[f.gpu("G1", capex_usd=10_000.0), f.gpu("G2", bf16_tflops=1500.0, capex_usd=18_000.0)],
    supply=[f.supply(2026, "gpu:G1", 50_000)],
)


def solve(data: object, compiler: object = compile_model) -> api.PlanResult:
    res = api.solve(data, compiler=compiler)  # type: ignore[arg-type]
    assert res.status == "optimal" and res.violations == []
    return res


@pytest.mark.parametrize(
    "change",
    [
        dict(
            gpus=[
                f.gpu("G1", capex_usd=7_000.0),
                f.gpu("G2", bf16_tflops=1500.0, capex_usd=18_000.0),
            ]
        ),
        dict(supply=[f.supply(2026, "gpu:G1", 80_000)]),
        dict(settings=f.settings(discount_rate=0.2)),
    ],
)
def test_reused_matrix_gives_the_fresh_optimum(change: dict[str, object]) -> None:
    base = f.instance(**BASE)
    scenario = f.instance(**{**BASE, **change})
    assert structure_key(base) == structure_key(scenario)
    compiler = ReusingCompiler(min_columns=0)
    solve(base, compiler.for_data(base))
    reused = solve(scenario, compiler.for_data(scenario))
    assert compiler.reused == 1
    fresh = solve(scenario)
    assert reused.result.objective == pytest.approx(fresh.result.objective, rel=1e-9)
    assert reused.plan is not None and fresh.plan is not None
    assert reused.plan["GPUs"].equals(fresh.plan["GPUs"])


def test_cap_change_moves_the_mix() -> None:
    # G1 delivers 8.64e19 FLOP for 10,000 USD, G2 1.296e20 for 18,000: G1 is cheaper per
    # FLOP, so the G1 cap binds and a higher cap must shift GPUs from G2 to G1 (up to one
    # G1 less, where whole GPUs round out cheaper).
    base, looser = (
        f.instance(**BASE),
        f.instance(**{**BASE, "supply": [f.supply(2026, "gpu:G1", 80_000)]}),
    )
    compiler = ReusingCompiler(min_columns=0)
    solve(base, compiler.for_data(base))
    res = solve(looser, compiler.for_data(looser))
    bought = res.plan["GPUs"].groupby("gpu_id").purchased.sum()  # type: ignore[union-attr]
    assert 79_999 <= bought["G1"] <= 80_000


def test_structural_change_is_compiled_afresh() -> None:
    base = f.instance(**BASE)
    bigger = f.instance(**{**BASE, "runs": [f.run(flop=2e25)]})
    assert structure_key(base) != structure_key(bigger)
    compiler = ReusingCompiler(min_columns=0)
    solve(base, compiler.for_data(base))
    solve(bigger, compiler.for_data(bigger))
    assert compiler.reused == 0
