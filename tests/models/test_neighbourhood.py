"""The site tags of the columns, and the site-restricted search for a first plan.

The solve layer searches for its first plan among the sites the LP relaxation uses
(``models/neighbourhood.py``, ``planner.solving.strategy._neighbourhoods``). A restriction can only
find plans, never prove one optimal: the proof still comes from a bound on the full model.
"""

from __future__ import annotations

import factory as f
import numpy as np
import pyomo.environ as pyo
import pytest
import scipy.sparse as sp

from models.build import build_model
from models.neighbourhood import (
    LINK_POSITION,
    SITE_POSITION,
    UNTAGGED,
    site_columns,
)
from models.sets import build_model_data
from planner import api
from planner.inputs.data import PlanningData
from planner.solving.compiled import compile_model
from planner.solving.strategy import PhasedSolve, solve_compiled


def compiled(data: PlanningData):  # noqa: ANN201
    md = build_model_data(data)
    m = build_model(md)
    cm = compile_model(m)
    return md, m, cm


@pytest.mark.parametrize(
    "data",
    [
        f.two_site_instance(),
        f.grid_instance(),
        f.large_instance(n_sites=6, n_runs=3),
    ],
    ids=["network", "transformers", "mixed"],
)
def test_every_variable_has_a_site_rule(data: PlanningData) -> None:
    m = build_model(data)
    known = set(SITE_POSITION) | set(LINK_POSITION) | UNTAGGED
    names = {v.local_name for v in m.component_objects(pyo.Var)}
    assert names <= known, names - known


def test_used_sites_are_those_with_nonzero_usage() -> None:
    md, _, cm = compiled(f.two_site_instance())
    sc = site_columns(cm.columns, md)
    names = [v.name for v in cm.columns]
    x = np.zeros(len(names))
    x[names.index("gpus_bought[S1,G1,2027]")] = 5.0
    used = sc.used_sites(x)
    assert [s for s, u in zip(md.sites, used, strict=True) if u] == ["S1"]
    off = {names[j] for j in np.flatnonzero(sc.outside(used))}
    assert "gpus_bought[S2,G1,2027]" in off
    assert "run_host[R1,S2]" in off
    assert "link_built[L1,2027]" in off  # its far end, S2, is left out
    assert not any(n.startswith(("gpus_bought[S1", "run_host[R1,S1]", "run_multi")) for n in off)


def test_a_site_choice_never_marks_a_site_used_nor_is_switched_off() -> None:
    data = f.instance(
        cooling=[f.cooling("S1", "air", 1.4, 0.0), f.cooling("S1", "liquid", 1.1, 1e6)]
    )
    md, _, cm = compiled(data)
    sc = site_columns(cm.columns, md)
    names = [v.name for v in cm.columns]
    x = np.zeros(len(names))
    x[names.index("cooling_chosen[S1,air]")] = 1.0
    assert not sc.used_sites(x).any()
    assert not any(
        names[j].startswith("cooling_chosen") for j in np.flatnonzero(sc.outside(sc.used_sites(x)))
    )


def test_cheapest_of_many_sites_is_found_and_proven() -> None:
    # Six sites differ only in shell capex: 6, 5, ..., 1 M USD/MW. The run needs 115,741
    # GPUs of 1 kW (115.741 MW) at one site, so the optimum is the 1 M USD/MW site:
    # 1,157,410,000 + 115.741 x 1,000,000 USD.
    sites = [f.site(f"S{i}", shell_capex_usd_per_mw=(7 - i) * 1e6) for i in range(1, 7)]
    data = f.instance(sites=sites, site_power=[f.site_power(s.site_id) for s in sites])
    res = api.solve(data, mip_gap=1e-9, time_limit_s=30.0)
    assert res.status == "optimal", res.result.message
    assert res.plan is not None and res.violations == []
    assert res.plan.summary["objective_usd"] == pytest.approx(1_157_410_000 + 115_741_000, rel=1e-6)
    assert set(res.plan["GPUs"].query("purchased > 0").site_id) == {"S6"}


@pytest.mark.slow
def test_restricted_search_agrees_with_the_full_search() -> None:
    # A mixed instance (supply caps, multi-site runs, several GPU types): the phased solve
    # with the site-restricted first plan and without it reach the same optimum.
    md, _, cm = compiled(f.large_instance(n_runs=3, seed=1))
    counts = api.count_columns(cm)
    with_sites = solve_compiled(
        cm, mip_gap=1e-4, time_limit_s=60.0, counts=counts, sites=site_columns(cm.columns, md)
    )
    without = solve_compiled(cm, mip_gap=1e-4, time_limit_s=60.0, counts=counts)
    assert with_sites.status == without.status == "optimal"
    assert with_sites.objective == pytest.approx(without.objective, rel=2e-4)


def test_transit_links_stay_open_and_runs_are_tagged_with_ready_years() -> None:
    md, _, cm = compiled(f.two_site_instance())
    sc = site_columns(cm.columns, md, cm.rows)
    names = [v.name for v in cm.columns]
    x = np.zeros(len(names))
    x[names.index("gpus_bought[S1,G1,2027]")] = 5.0
    off = {names[j] for j in np.flatnonzero(sc.switched_off(sc.used_sites(x)))}
    assert "gpus_bought[S2,G1,2027]" in off and "run_host[R1,S2]" in off
    assert not any(n.startswith("link_") for n in off)  # traffic may pass through S2
    ready = md.run("R1").ready_year
    assert sc.decision_year[names.index("run_host[R1,S1]")] == ready
    assert sc.decision_year[names.index("gpus_bought[S1,G1,2027]")] == 0
    rows = [c.name for c, _ in cm.rows]
    assert sc.target_year[rows.index("run_flop[R1]")] == ready
    assert int((sc.target_year > 0).sum()) == 1


def test_staged_plan_is_a_plan_of_the_counts_relaxed_model() -> None:
    # Three runs in ready-year order, placed stage by stage: the last stage's solution
    # meets every row of the whole model, every integer but the GPU counts whole.
    md, _, cm = compiled(f.large_instance(n_sites=6, n_runs=3, seed=1))
    counts = api.count_columns(cm)
    solver = PhasedSolve(cm, 1e-4, 60.0, None, None, None)
    solver.others = cm.integer & ~counts
    res = solver.staged_plan(site_columns(cm.columns, md, cm.rows))
    assert res is not None and res.has_plan and res.values is not None
    x = res.values
    a = sp.csc_matrix(
        (cm.lp.a_matrix_.value_, cm.lp.a_matrix_.index_, cm.lp.a_matrix_.start_),
        shape=(cm.lp.num_row_, cm.lp.num_col_),
    )
    ax = a @ x
    tol = 1e-6 * np.maximum(1.0, np.abs(ax))
    assert (ax >= np.asarray(cm.lp.row_lower_) - tol).all()
    assert (ax <= np.asarray(cm.lp.row_upper_) + tol).all()
    others = solver.others
    assert np.allclose(x[others], np.round(x[others]), atol=1e-6)
