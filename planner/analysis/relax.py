"""The diagnosis' searches, all on one elastic model (``models/elastic.py``).

With z_c the ``elastic_moved`` binary of cell c (a Supply capacity, a site's
``max_it_mw``, a lead time, a run's ``flop``...), a search fixes z_c = 0 for the cells
that must hold, z_c = 1 (or leaves it free) for those that may move, and minimises:

* ``reach(r)``: s_r / F_r, run r's shortfall over its target, every limit strict and the
  other runs at their targets (or free to fall short): the most r can get by its year;
* ``fewest``: the number of moved cells (``models.elastic.count_penalty``: targets last,
  ties to the smaller move), z free on every cell not kept;
* ``smallest``: the relative move (``elastic_objective``) with the chosen cells fixed
  moved: how far each must go.

``options`` chains the last two lexicographically and finds alternatives of the same
count by forbidding each set found (sum_{c in S} z_c <= |S| - 1) and solving again.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo

from models.build import build_model
from models.elastic import (
    Cell,
    ElasticTerm,
    add_elastic,
    cells_of,
    count_penalty,
    loosen,
    moved,
    use_objective,
)
from models.linear import linear, value_of
from models.sets import FLOP_UNIT, build_model_data
from planner.analysis.count_bound import count_lower_bound
from planner.analysis.keep import Keep, kept
from planner.analysis.moves import moves_of, value
from planner.analysis.moves_lp import OPTIMAL, MovesLP
from planner.inputs.data import PlanningData
from planner.solving.compiled import CompiledModel, compile_model, copy_lp, load_values
from planner.solving.pipeline import count_columns
from planner.solving.status import STATUS_INFEASIBLE, STATUS_OPTIMAL, SolveResult
from planner.solving.strategy import solve_compiled

QUICK_S = 5.0  # the relaxed count MIP's first try (``Search.fewest_relaxed``)


def _relaxed(cm: CompiledModel, moved_vars: list[Any], keep: str) -> CompiledModel:
    """``cm`` with the moved binaries integer and, when ``keep`` is "decisions", the plan's
    other decisions (sites, hosts, modes) too; every other integer (GPU counts, as
    ``planner.solving.strategy`` relaxes them, ``count_columns``) continuous."""
    at = cm.column_at
    mask = cm.integer & ~count_columns(cm) if keep == "decisions" else np.zeros_like(cm.integer)
    mask[[at[id(z)] for z in moved_vars if id(z) in at]] = True
    return dataclasses.replace(cm, lp=copy_lp(cm.lp, mask), integer=mask)


def run_cell(run_id: str) -> Cell:
    return ("Runs", (run_id,), "flop")


@dataclass
class Option:
    """One way out: the cells it moves and the edits (Diagnosis rows)."""

    cells: list[Cell]
    moves: list[dict[str, Any]]
    relative: float = 0.0  # sum of the edits' relative moves
    verified: str | None = None  # None: not checked; "": a plan exists; else why not
    lowered: list[str] = field(default_factory=list)  # runs whose target it lowers
    proven: bool = True  # no way out moves fewer cells (False: fewest found in time)

    @property
    def count(self) -> int:
        return len(self.cells)


class Search:
    """One loosened model with every relaxation of ``data``'s limits, searched again and
    again with different cells free (``keeps`` never move)."""

    def __init__(
        self,
        data: PlanningData,
        *,
        keeps: Iterable[Keep] = (),
        deadline: float,
        mip_gap: float = 1e-4,
        threads: int | None = None,
    ) -> None:
        self.data, self.deadline, self.mip_gap, self.threads = data, deadline, mip_gap, threads
        self.d = build_model_data(data)
        loose = build_model_data(loosen(data))
        self.m = build_model(loose)
        self.terms: list[ElasticTerm] = add_elastic(self.m, self.d, loose=loose)
        self.cells = cells_of(self.terms)
        keeps = list(keeps)
        self.free = [c for c in self.cells if not kept(c, keeps)]
        self.unreachable: list[str] = list(self.m.unreachable_runs)
        self.m.elastic_cuts = pyo.ConstraintList()
        self.last = SolveResult("no_plan")
        self.proven = True  # whether the last ``fewest`` proved its count
        self.count = 0  # the weighted count of the last ``fewest``
        self.at_least = 0  # no way out moves fewer cells (singles ruled out: 2)
        self.screened = False  # whether ``screen`` tried every cell it was given

    def solve(
        self,
        free: Collection[Cell],
        objective: Any,
        *,
        choose: bool = False,
        mip_gap: float | None = None,
        budget: float | None = None,
        plan_relaxed: str = "",
        target: float | None = None,
    ) -> bool:
        """Minimise ``objective`` with only ``free`` cells moving (chosen by the solver
        when ``choose``, else all allowed to) within ``budget`` seconds (default: until
        the deadline); True when a plan was found (kept, with its bound, in
        ``self.last``). ``plan_relaxed`` (``_relaxed``): "moves", only the moved binaries
        integer, or "decisions", GPU counts continuous (relaxations: their optimum bounds
        the real one); ``target`` (with it): stop at the first plan at least this good."""
        for c in self.cells:
            z = moved(self.m, c)
            if c in free and choose:
                z.unfix()
            else:
                z.fix(1 if c in free else 0)
        use_objective(self.m, objective)
        left = self.deadline - time.perf_counter()
        left = left if budget is None else min(left, budget)
        cm = compile_model(self.m)
        if plan_relaxed:
            cm = _relaxed(cm, [moved(self.m, c) for c in self.cells], plan_relaxed)
        self.last = solve_compiled(
            cm,
            mip_gap=self.mip_gap if mip_gap is None else mip_gap,
            time_limit_s=max(left, 1.0),
            threads=self.threads,
            counts=None if plan_relaxed else count_columns(cm),
            target=target if plan_relaxed else None,
        )
        if not self.last.has_plan or self.last.values is None:
            return False
        load_values(self.m, cm, self.last.values)
        return True

    def reach(self, run_id: str, *, others_held: bool) -> float | None:
        """The most FLOP ``run_id`` delivers by its ready year (at most its target) with
        every limit strict, the other runs at their targets (``others_held``) or free to
        fall short; None when no plan holds the others (0 for a run no GPU can reach).

        Maximises the FLOP delivered, not minus the shortfall: the solver's relative
        gap is then relative to the reach, not to a shortfall that may dwarf it."""
        if run_id in self.unreachable:
            return 0.0
        runs = [c for c in self.cells if c[0] == "Runs"]
        free = [run_cell(run_id)] if others_held else runs
        delivered = self.m.run_flop_delivered[run_id]
        if not self.solve(free, linear([(-1.0, delivered)])):
            return None
        (term,) = self.cells[run_cell(run_id)]
        return min(value_of(delivered), term.limit) * FLOP_UNIT

    def fewest(
        self, free: Collection[Cell], share: float = 0.5, at_most: int | None = None
    ) -> list[Cell] | None:
        """The fewest cells among ``free`` whose moves close every gap, or None; the
        search gets ``share`` of the time left. ``self.proven`` says whether no fewer
        cells can do it; an unproven set is pruned to one where no cell can be dropped.
        ``at_most``: the weighted count of a set already proven fewest (an alternative
        is wanted): any set that does as well is the fewest too.

        The count objective is k + t with k the weighted count (an integer) and t < 1/4
        the tie-break, so a bound b > k - 3/4 proves k fewest: any plan with fewer has an
        objective below k - 3/4. A relative gap g gives b >= (1 - g)(k + t), enough
        while g < 3/(4k): proving the tie-break itself would cost far more."""
        objective = count_penalty(self.m, self.terms)
        done, cells = self.fewest_relaxed(free, objective, share, at_most)
        if done:
            return cells
        gap, self.proven = 0.2, False
        for _ in range(3):
            budget = share * (self.deadline - time.perf_counter())
            if not self.solve(free, objective, choose=True, mip_gap=gap, budget=budget):
                return None
            self.count = k = math.floor((self.last.objective or 0.0) + 1e-6)
            bound = self.last.bound
            if bound is not None and bound > k - 0.75:
                self.proven = True
                break
            if self.last.status != STATUS_OPTIMAL:
                break  # out of time: not proven
            gap = 0.5 / (k + 1)
        cells = [c for c in free if value(moved(self.m, c)) > 0.5]
        return cells if self.proven else self.pruned(cells)

    def fewest_relaxed(
        self, free: Collection[Cell], objective: Any, share: float, at_most: int | None
    ) -> tuple[bool, list[Cell] | None]:
        """``fewest`` on relaxations of the plan, each a short MIP: first with only the
        moved binaries integer, then with the plan's decisions integer too (GPU counts
        continuous in both). (True, cells) when one settles it, (False, None) when the
        full search must. A count k a relaxation proves (its bound, or the kinds of limit
        that must move: ``count_lower_bound``) bounds the real fewest from below, so when
        cells of that count also close every gap with every integer integer (one more
        solve), no set of fewer cells exists. A set that works but is not proven is pruned
        and kept unproven: the full count MIP's bound is weaker still. With ``at_most``
        (an alternative to a set of that count) it stops at the first set as good; none
        at all (infeasible) means no alternative exists."""
        budget = min(QUICK_S, share * (self.deadline - time.perf_counter()) / 2)
        # Stop at the first set of a count already known to be the fewest possible.
        good = at_most if at_most is not None else self.at_least
        target = good + 0.5 if good else None
        known = self.at_least  # a count no way out beats
        for integer in ("moves", "decisions"):
            kw: dict[str, Any] = {"budget": budget, "target": target, "plan_relaxed": integer}
            if not self.solve(free, objective, choose=True, **kw):
                if self.last.status == STATUS_INFEASIBLE:
                    return True, None
                continue
            k = math.floor((self.last.objective or 0.0) + 1e-6)
            cells = [c for c in free if value(moved(self.m, c)) > 0.5]
            if self.proves(k, cells, free):
                known = max(known, k)
            if not self.solve(cells, self.m.elastic_penalty):
                continue  # the relaxed plan needs what an integer plan cannot have
            self.count = k
            # An alternative as good as a proven fewest set is a fewest set too.
            self.proven = known >= k or (at_most is not None and k <= at_most and self.proven)
            return True, cells if self.proven else self.pruned(cells)
        return False, None

    def proves(self, k: int, cells: list[Cell], free: Collection[Cell]) -> bool:
        """Whether the last count solve, or the kinds of limit that must move, prove that
        no way out moves fewer (weighted) cells than k."""
        bound = self.last.bound
        if self.last.status == STATUS_OPTIMAL and bound is not None and bound > k - 0.75:
            return True
        needed = count_lower_bound(
            self.m, cells, free, deadline=self.deadline, threads=self.threads
        )
        return needed >= k

    def pruned(self, cells: list[Cell]) -> list[Cell]:
        """``cells`` less every cell whose move the others can do without (targets
        tried first: a way out that keeps them is better)."""
        keep = list(cells)
        for c in sorted(cells, key=lambda c: c[0] != "Runs"):
            if time.perf_counter() > self.deadline:
                break
            rest = [x for x in keep if x != c]
            if self.solve(rest, self.m.elastic_penalty):
                keep = rest
        return keep

    def smallest(self, cells: list[Cell]) -> Option | None:
        """The smallest relative moves of ``cells`` that close every gap."""
        if not self.solve(cells, self.m.elastic_penalty + self.m.elastic_tie_break):
            return None
        moves = moves_of(self.data, self.d, [t for c in cells for t in self.cells[c]])
        done = {(m["sheet"], tuple(m["key"].split("|")), m["column"]) for m in moves}
        return Option(
            [c for c in cells if c in done],
            moves,
            relative=value(self.m.elastic_penalty),
            lowered=[c[1][0] for c in cells if c[0] == "Runs" and c in done],
        )

    def screen(self, cells: list[Cell]) -> list[tuple[float, Cell]]:
        """The cells that might close every gap alone, with a lower bound on their
        relative move: the LP relaxation with only that cell moved (an infeasible LP
        rules the cell out), on one compiled matrix whose moved binaries are bounded
        per cell."""
        lp = MovesLP.of(self.m, self.m.elastic_penalty)
        out: list[tuple[float, Cell]] = []
        self.screened = True
        for c in cells:
            if time.perf_counter() > self.deadline:
                self.screened = False  # not every cell was tried
                break
            if c not in lp.column:
                continue
            status, objective = lp.solve((), [c], deadline=self.deadline, threads=self.threads)
            if status == OPTIMAL:
                out.append((objective, c))
        return sorted(out, key=lambda x: x[0])

    def singles(self, free: Collection[Cell], most: int) -> list[Option]:
        """The ``most`` single limit moves with the smallest relative move that each
        close every gap: candidates in the order of their LP bound, stopping once the
        bound reaches the ``most``-th best found."""
        found: list[Option] = []
        limits = [c for c in free if c[0] != "Runs"]
        screened = self.screen(limits)
        if len(screened) > most and self.no_single_works([c for _, c in screened]):
            # Every cell the screen let through, and it tried them all: none works alone.
            self.at_least = 2 if self.screened else 0
            return []
        for bound, c in screened:
            if len(found) >= most and bound >= found[most - 1].relative - 1e-9:
                break
            if time.perf_counter() > self.deadline:
                break
            option = self.smallest([c])
            if option is not None and option.cells:
                found = sorted([*found, option], key=lambda o: o.relative)
        return found[:most]

    def no_single_works(self, cells: list[Cell]) -> bool:
        """Whether no one of ``cells`` closes every gap alone: one short MIP, GPU counts
        continuous (a relaxation, so its infeasibility proves it), with at most one of
        them moved; instead of a full solve per cell the LP screen lets through."""
        cut = self.m.elastic_cuts.add(sum(moved(self.m, c) for c in cells) <= 1)
        try:
            kw: dict[str, Any] = {"budget": QUICK_S, "plan_relaxed": "decisions"}
            self.solve(cells, self.m.elastic_penalty, choose=True, **kw)
        finally:
            cut.deactivate()
        return self.last.status == STATUS_INFEASIBLE

    def options(self, free: Collection[Cell], most: int = 3) -> list[Option]:
        """Up to ``most`` ways out with the fewest moved cells among ``free``, smallest
        relative move first: none when nothing has to move, single moves when any closes
        every gap, else the count MIP (``fewest``) and alternatives of the same count,
        each set found forbidden (sum_{c in S} z_c <= |S| - 1) before the next; no
        alternatives once a target is lowered."""
        if (none := self.smallest([])) is not None:
            return [none]  # nothing has to move (lifted inputs, or solver tolerances)
        found = self.singles(free, most)
        if found:
            return found
        cells = self.fewest(free)
        while cells is not None and len(found) < most:
            option = self.smallest(cells)
            if option is None or not option.cells:
                break
            # Singles ruled out, two cells are the fewest even when the MIP ran out of time.
            option.proven = self.proven or (self.screened and option.count == 2)
            found.append(option)
            if option.lowered or len(found) >= most:
                break
            z = [moved(self.m, c) for c in option.cells]
            self.m.elastic_cuts.add(sum(z) <= len(z) - 1)
            cells = self.fewest(free, share=0.25, at_most=self.count if self.proven else None)
            if cells is None or len(cells) > option.count or any(c[0] == "Runs" for c in cells):
                break  # no alternative as good: more limits, or a target lowered
        for con in list(self.m.elastic_cuts.values()):
            con.deactivate()
        return sorted(found, key=lambda o: (len(o.lowered), o.count, o.relative))
