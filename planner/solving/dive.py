"""A first plan by diving on the runs' own choices in the LP relaxation.

From the LP relaxation, the run choice (a host, a member, a mode, a GPU type: the columns
``SiteColumns.decision_year`` gives a ready year) with the largest fractional value is
fixed at one and the LP solved again from its basis, until every run choice is whole. A
fix that leaves the LP infeasible is turned into a fix at zero. The choices the dive ends
with are a placement of every run that the LP can still carry; the strategy then solves
the rest of the model (transformers, links, cooling, counts continuous) with them fixed.

Why: with many runs the site-restricted search spends its time on the packing of runs
into the sites the LP uses and ends far above the bound, and when it is infeasible the
staged plan may find nothing either (contested 100 sites x 12 runs, seed 1: 83,486 from
the site-restricted search in 38 s, 74,982 from the dive and its MIP in 22 s; contested
30 x 20, seed 2: no plan in 60 s, 86,172 from the dive in 4 s). The dive is a heuristic:
only a plan, never a bound.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from planner.solving.compiled import CompiledModel
from planner.solving.highs import new_highs, release_memory, run_highs
from planner.solving.status import STATUS_OPTIMAL

WHOLE = 1e-6  # a value this close to an integer counts as whole


def dive(
    cm: CompiledModel,
    lp: Any,
    choices: np.ndarray,
    deadline: float,
    threads: int | None = None,
    log_file: str | None = None,
) -> np.ndarray | None:
    """The LP ``lp`` (no integers) dived on the ``choices`` columns until all are whole;
    its last solution, or None when the time runs out before ``deadline`` or the LP
    is infeasible with the choices fixed so far."""
    h = new_highs(threads, log_file)
    h.passModel(lp)
    x = _solve(h, cm, deadline)
    while x is not None:
        # A fixed choice is whole in the LP's solution: only open ones are fractional.
        fractional = np.flatnonzero(choices & (np.abs(x - np.round(x)) > WHOLE))
        if not len(fractional):
            break
        j = int(fractional[np.argmax(x[fractional])])
        h.changeColBounds(j, 1.0, 1.0)
        fixed = _solve(h, cm, deadline)
        if fixed is None and time.perf_counter() < deadline:
            h.changeColBounds(j, 0.0, 0.0)  # infeasible at one: the choice is not taken
            fixed = _solve(h, cm, deadline)
        x = fixed
    del h
    release_memory()
    return x


def _solve(h: Any, cm: CompiledModel, deadline: float) -> np.ndarray | None:
    """The LP in ``h`` again (from its basis) until ``deadline``: its solution, or None."""
    left = deadline - time.perf_counter()
    if left <= 0.0:
        return None
    # HiGHS counts its time limit on the run clock of ``h``, summed over its runs.
    h.setOptionValue("time_limit", h.getRunTime() + left)
    res = run_highs(h, cm, time_limit_s=left)
    if res.status != STATUS_OPTIMAL or res.values is None:
        return None
    return res.values
