"""Wire the subsystems into one model: sites, power, transformers, compute, supply,
runs, the IT load runs use, network, then costs (which discounts the cost terms the
others registered).
"""

from __future__ import annotations

from collections.abc import Callable

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
# In this order: costs discounts the cost terms the others registered.
SUBSYSTEMS: tuple[Callable[[pyo.ConcreteModel, ModelData], None], ...] = (
    add_sites,
    add_power,
    add_transformers,
    add_compute,
    add_supply,
    add_emissions_cap,
    add_runs,
    add_compute_use,
    add_network,
    add_costs,
)


def build_model(
    data: PlanningData | ModelData, step: Callable[[], None] | None = None
) -> pyo.ConcreteModel:
    """The full planning MILP for validated inputs.

    Python's cyclic garbage collector is paused while the model is built: every
    collection walks the millions of expression objects already made (and finds no
    cycles to free), which tripled construction time on a 1,000-site portfolio.
    ``step`` is called after each subsystem (the solve layer watches its clock there).
    """
    with PauseGC():
        d = data if isinstance(data, ModelData) else build_model_data(data)
        m = pyo.ConcreteModel(name="ai_compute_plan")
        for add in SUBSYSTEMS:
            add(m, d)
            if step is not None:
                step()
    return m
