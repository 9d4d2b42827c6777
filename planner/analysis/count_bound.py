"""A lower bound on how many cells a way out must move, from kinds of limit that must move.

Group the limit cells by kind (``kind_of``: a sheet's column, Supply by resource family).
If the LP relaxation stays infeasible with every limit free but those of kind K, and no
run target lowered, every way out that lowers no target moves at least one cell of K: the
kinds are disjoint, so such a way out moves at least as many cells as there are such
kinds. A way out that lowers a target weighs more than all limits together
(``models.elastic.count_penalty``), so for a set S of limits only the bound holds for
every way out. Only the kinds of S can be needed (S moves no other kind), so at most
|S| LPs are solved, on one compiled matrix. The grouping only decides how strong the
bound is, never whether it holds. When it reaches S's count, S is the fewest: proven
without the count MIP's branch and bound, which proves such counts slowly (its big-M
rows make a weak LP).
"""

from __future__ import annotations

import time
from collections.abc import Collection

import pyomo.environ as pyo

from models.elastic import Cell
from planner.analysis.moves_lp import INFEASIBLE, MovesLP


def kind_of(cell: Cell) -> tuple[str, str, str]:
    """The kind of limit a cell is: its sheet and column, and for Supply the resource's
    family (``gpu:VR200`` -> ``gpu``, ``wafers_n3`` -> ``wafers``, ``cowos_wafers`` ->
    ``cowos``) and country."""
    sheet, key, column = cell
    if sheet != "Supply" or len(key) < 2:
        return sheet, column, ""
    family = key[1].split(":")[0].split("_")[0]
    return sheet, column, family + ("@" + key[2] if len(key) > 2 else "")


def count_lower_bound(
    m: pyo.ConcreteModel,
    cells: Collection[Cell],
    free: Collection[Cell],
    *,
    deadline: float,
    threads: int | None = None,
) -> int:
    """How many cells every way out among ``free`` must move, given that ``cells`` (a
    subset of ``free``, run targets untouched) close every gap; 0 when ``cells`` lower a
    target or time runs out."""
    if any(c[0] == "Runs" for c in cells):
        return 0
    lp = MovesLP.of(m)
    limits = [c for c in free if c[0] != "Runs"]
    bound = 0
    for kind in {kind_of(c) for c in cells}:
        if time.perf_counter() > deadline:
            return 0
        allowed = [c for c in limits if kind_of(c) != kind]
        status, _ = lp.solve(allowed, deadline=deadline, threads=threads)
        bound += status == INFEASIBLE
    return bound
