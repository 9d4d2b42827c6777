"""The LP relaxation's strength, on a tiny instance whose relaxations are worked by hand.

Numbers of ``factory.instance``: one GPU delivers 1e15 FLOP/s x 86,400 s = 8.64e19 FLOP;
the run needs 1e25 FLOP: N = 115,741 GPUs of either type below. Site A holds 100 MW and
costs nothing per MW; site B holds 1,000 MW at 1 M USD per MW of shell. G1 draws 1 kW
for 10,000 USD, G2 0.5 kW for 20,000 USD. A may host the run alone (N G2 draw 57.9 MW),
but not in G1 (115.7 MW): there its cheapest fill is 84,259 G1 + 31,482 G2 in 100 MW
(x1 + 0.5 x2 <= 100,000 kW, x1 + x2 >= N), 1,472.23 M USD. At B, N G1 cost 1,157.41 M
USD and 115.741 MW of shell 115.741 M USD: 1,273.151 M USD, the optimum.

In the LP relaxation counts are continuous: the run needs n = 1e25 / 8.64e19 =
115,740.74 GPUs, and a site may give it at most its FLOP cap (``run_flop_cap``: the
target plus 1 + 2 types x 1 site GPUs, n + 3) times its host share. G1 at B costs 11,000
USD a GPU with the shell, at A 10,000. Without ``run_single_site_it`` the LP fills A's
100 MW with 100,000 G1 (host 0.864 there) and the other 15,740.74 at B: 1,173.148 M USD.
With it, the G1 at A draw at most 100 MW x host h: A gives 100,000 h, B at most (n + 3)
(1 - h), so h <= 3 / 15,743.74; A takes 19.06 G1 and the LP is 11,000 n - 1,000 x 19.06
= 1,273.129 M USD, 0.002 % under the optimum (G2 at A, 20,000 USD, is never cheaper).
"""

from __future__ import annotations

import factory as f
import highspy
import numpy as np
import pytest

from models.build import build_model
from models.sets import build_model_data
from planner import api
from planner.inputs.data import PlanningData
from planner.solving.compiled import CompiledModel, compile_model, copy_lp, without_implied_rows
from planner.solving.strategy import PhasedSolve

N = 115_741
OPTIMUM_USD = N * 11_000.0  # all at B in G1, with 1 M USD of shell per MW
n = 1e25 / 8.64e19  # GPUs the run needs, continuous
SPLIT_USD = 100_000 * 10_000.0 + (n - 100_000) * 11_000.0  # A's 100 MW of G1, the rest at B
A_SHARE = 3 / (n + 3 - 100_000)  # the most of the run at A with the row
TIGHT_USD = 11_000.0 * n - 1_000.0 * 100_000 * A_SHARE


def two_sizes() -> PlanningData:
    return f.instance(
        sites=[f.site("A", max_it_mw=100.0), f.site("B", shell_capex_usd_per_mw=1e6)],
        site_power=[f.site_power("A"), f.site_power("B")],
        gpus=[f.gpu("G1"), f.gpu("G2", it_kw=0.5, capex_usd=20_000.0)],
    )


def compiled(data: PlanningData) -> CompiledModel:
    return compile_model(build_model(build_model_data(data)))


def lp_usd(cm: CompiledModel, lp: highspy.HighsLp) -> float:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return (h.getInfo().objective_function_value + cm.offset) * 1e6


def test_the_site_it_row_is_only_where_the_site_cannot_hold_the_run_in_a_type() -> None:
    m = build_model(build_model_data(two_sizes()))
    assert list(m.run_single_site_it) == [("R1", "A")]


def test_the_lp_relaxation_nearly_meets_the_optimum_with_the_site_it_row() -> None:
    cm = compiled(two_sizes())
    relaxed = np.zeros(len(cm.columns), dtype=bool)
    assert lp_usd(cm, copy_lp(cm.lp, relaxed)) == pytest.approx(TIGHT_USD, rel=1e-9)
    assert pytest.approx(OPTIMUM_USD, rel=2e-5) == TIGHT_USD
    without = without_implied_rows(copy_lp(cm.lp, relaxed), cm)
    assert lp_usd(cm, without) == pytest.approx(SPLIT_USD, rel=1e-9)


def test_the_plan_is_the_optimum_at_b() -> None:
    res = api.solve(two_sizes(), mip_gap=1e-9, time_limit_s=30.0)
    assert res.status == "optimal" and res.plan is not None and res.violations == []
    assert res.plan.summary["objective_usd"] == pytest.approx(OPTIMUM_USD, rel=1e-6)
    gpus = res.plan["GPUs"]
    assert set(gpus[gpus.purchased > 0].site_id) == {"B"}


def test_the_phases_search_without_the_implied_rows_and_the_mips_bound_with_them() -> None:
    cm = compiled(two_sizes())
    lean = PhasedSolve(cm, 1e-6, 10.0, 1, None, None).lp
    implied = [c.parent_component().local_name == "run_single_site_it" for c, _ in cm.rows]
    assert sum(implied) == 1
    free = np.isinf(np.asarray(lean.row_lower_)) & np.isinf(np.asarray(lean.row_upper_))
    assert free.tolist() == [
        i or (lo == -np.inf and up == np.inf)
        for i, lo, up in zip(implied, cm.lp.row_lower_, cm.lp.row_upper_, strict=True)
    ]
    assert np.asarray(cm.lp.row_upper_)[implied].tolist() == [0.0]  # the whole model keeps it
