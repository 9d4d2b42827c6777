"""Wire the subsystems into one model: sites, power, transformers, compute, supply,
runs, the IT load runs use, network, then costs (which discounts the cost terms the
others registered).
"""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from models.compute import add_compute, add_compute_use
from models.costs import add_costs
from models.network import add_network
from models.power import add_power, add_transformers
from models.registry import variables_where
from models.runs import add_runs
from models.sets import ModelData, build_model_data
from models.sites import add_sites
from models.supply import add_emissions_cap, add_supply
from planner.inputs.data import PlanningData

# Integer variables whose values run to hundreds of thousands (GPU counts). The solve
# layer may treat them first as continuous: see planner.solving.strategy.solve_compiled.
LARGE_COUNTS = variables_where("large_count")


def build_model(data: PlanningData | ModelData) -> pyo.ConcreteModel:
    """The full planning MILP for validated inputs.

    Python's cyclic garbage collector is paused while the model is built: every
    collection walks the millions of expression objects already made (and finds no
    cycles to free), which tripled construction time on a 1,000-site portfolio.
    """
    with PauseGC():
        d = data if isinstance(data, ModelData) else build_model_data(data)
        m = pyo.ConcreteModel(name="ai_compute_plan")
        add_sites(m, d)
        add_power(m, d)
        add_transformers(m, d)
        add_compute(m, d)
        add_supply(m, d)
        add_emissions_cap(m, d)
        add_runs(m, d)
        add_compute_use(m, d)
        add_network(m, d)
        add_costs(m, d)
    return m
