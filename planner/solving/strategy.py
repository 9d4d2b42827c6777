"""The phased solve: plans found with GPU counts continuous, rounded, and proven.

HiGHS spends most of a MIP's time on integer columns with huge domains (GPU counts:
``counts``). Plans are found with them continuous, then rounded by a solve with every
other integer fixed and the counts integer. Bounds come from the LP relaxation and from
the MIP with counts continuous: both relax the real problem, so their infeasibility
proves it infeasible too. A plan is optimal once within ``mip_gap`` of the best bound;
otherwise the full MIP runs in the time left, started from the best plan. All phases
share one wall-clock deadline.

Phases (``PhasedSolve.run``):

1. the LP relaxation: a bound, or proof of infeasibility;
2. a first plan from the LP dived on the runs' choices (``dive``) and one from a small
   MIP near the LP (among the sites it uses, then improved with links through the
   other sites open; else with the decisions it takes whole fixed: RENS), the cheaper
   kept; else one built run by run in ready-year order (staged); rounded at once;
   while more than 5 % above the bound, searched again among its sites and the LP's
   alternatives to its own (the sites the LP takes with its own closed), and rounded;
3. the decisions as a MIP with counts continuous: a bound and a plan to round;
4. the full MIP in the time left.

A rounding that finds nothing near the relaxed plan searches any counts of the GPU types
the plan uses, then starts the whole rounding from the plan re-solved with room for its
counts to round up (``reserve.rounding_room``): a supply cap the relaxed plan fills to
the last HBM stack otherwise leaves HiGHS's heuristics most of a minute to find whole
GPUs that fit. A rounding that finds nothing with every other integer fixed is tried
again with only the runs' own choices fixed (hosts, members, modes, GPU types): whole
GPUs may need one more transformer, a bigger link or another cooling option than the
relaxed plan bought. While no plan exists, the relaxed plan's rounding of that kind runs
before the full MIP.

Every phase but the relaxed and the full MIP solves the model without its implied rows
(``models.registry.Family.implied``: valid inequalities that only tighten the relaxation
of whole hosts); the two MIPs that bound the whole model keep them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from models.neighbourhood import SiteColumns
from planner.solving.compiled import (
    INF,
    CompiledModel,
    copy_lp,
    fixed_copy,
    without_implied_rows,
)
from planner.solving.dive import dive
from planner.solving.highs import new_highs, release_memory, run_highs, set_start
from planner.solving.pricing import priced_relaxation
from planner.solving.reserve import rounding_room
from planner.solving.status import (
    STATUS_INFEASIBLE,
    STATUS_NO_PLAN,
    STATUS_OPTIMAL,
    STATUS_TIME_LIMIT,
    Progress,
    SolveResult,
)

MIN_PHASE_S = 0.5  # a solve phase is not started with less time than this left
# The site-restricted search pays only when the LP leaves most candidate sites unused;
# otherwise it is nearly the full MIP, solved twice.
MAX_USED_SHARE = 0.5
# The site-restricted plan, improved with links through transit sites open, in this
# share of the time left (``PhasedSolve.near_plan``).
TRANSIT_SHARE = 0.35
# The LP that finds the alternatives to the LP's own sites (``alternative_sites``) gets
# at most this share of the time left. Their search runs (after the first rounding, so
# that a plan is in hand) only while the plan is more than WIDEN_GAP above the bound:
# closer, the gap is mostly the LP's packing gap, which the relaxed MIP closes (plain
# 100 sites x 6 runs: 4 %, proven optimal at 1 % by the relaxed MIP; with the search
# first, its time ran out), further, mostly the plan's (plain 1,000 x 6: 32 %, 6 % with
# it; contested 1,000 x 2: 17 %, 3 %).
ALTERNATIVE_SHARE = 0.2
WIDEN_GAP = 0.05
# The first plan dived from the LP on the runs' choices (``PhasedSolve.dived_plan``)
# gets this share of the time left, its LPs this share of that (the MIP of the rest of
# the model with the choices fixed, the remainder); tried only when that share holds
# this many LP relaxations.
DIVE_SHARE = 0.3
DIVE_LP_SHARE = 0.75
DIVE_MIN_LPS = 6.0
# The staged first plan (``PhasedSolve.staged_plan``) gets this share of the time left
# and stops each stage at this gap: it only has to find a plan to start from.
STAGED_SHARE = 0.6
STAGE_GAP = 0.05
# Rounding first searches the counts the relaxed plan uses within this many GPUs of
# its own, in this share of the time left, to this gap: the few GPUs moved between the
# types of a site whose limits the relaxed plan fills exactly, without the cost of the
# whole rounding.
ROUND_RADIUS = 3
NEAR_ROUND_SHARE = 0.3
ROUND_GAP = 1e-4
# The first plan's rounding gets at most this share of the time left (the relaxed MIP,
# which bounds and improves it, the rest).
ROUND_FIRST_SHARE = 0.3
# When nothing fits near the relaxed plan, the plan re-solved with room for rounding up
# (``PhasedSolve.roomy_start``, an LP) gets at most this share of the rounding's time.
ROOM_SHARE = 0.4
# The relaxed MIP's bound moves only when its tree closes (nodes pruned by the plan it
# starts from), so it gets most of the time left: the full MIP after it starts its own
# root again. What is kept covers the rounding of its plan (usually under a second).
RELAXED_SHARE = 0.85
# The full MIP is started only with at least this many LP relaxations' time left.
FULL_MIN_LPS = 2.0
# The LP relaxation is priced site by site (``pricing``) from this many sites on: below,
# HiGHS solves the whole LP about as fast (300 sites x 20 runs: 8.6 s whole, 4.5 s
# priced; 1,000 sites x 2 runs: 45 s whole, 7 s priced).
PRICED_MIN_SITES = 200


def solve_compiled(
    cm: CompiledModel,
    *,
    mip_gap: float,
    time_limit_s: float,
    threads: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    log_file: str | None = None,
    counts: np.ndarray | None = None,
    limit_label_s: float | None = None,
    sites: SiteColumns | None = None,
    extension_s: float = 0.0,
    target: float | None = None,
) -> SolveResult:
    """Solve with HiGHS; never reports a plan as optimal unless a bound proves it.

    ``limit_label_s`` is the limit named in messages (the user's whole time limit, of
    which model building may have used a part). ``sites`` tags columns with their
    sites, so that the first plan is searched among the sites the LP relaxation uses.
    While no plan is found, the last phase may run ``extension_s`` past the limit (the
    caller's time for work that only a plan needs), stopping at the first plan.
    ``target`` (a model without GPU counts only): stop at the first plan at least this
    good (objective, offset included).
    """
    solver = PhasedSolve(cm, mip_gap, time_limit_s, threads, on_progress, log_file)
    solver.extension_s = extension_s
    label = time_limit_s if limit_label_s is None else limit_label_s
    if counts is None or not counts.any() or not cm.integer.any():
        res = solver.highs(cm.lp, extension=extension_s, target=target)
        res.found_by = res.bound_by = "full" if res.status != STATUS_INFEASIBLE else ""
        return _final(res, solver.t0, label)
    return _final(solver.run(counts, sites), solver.t0, label)


class PhasedSolve:
    """State shared by the phases: the deadline, the best plan, the best bound."""

    def __init__(
        self,
        cm: CompiledModel,
        mip_gap: float,
        time_limit_s: float,
        threads: int | None,
        on_progress: Callable[[Progress], None] | None,
        log_file: str | None,
    ) -> None:
        self.cm, self.mip_gap = cm, mip_gap
        # The model without the rows that only tighten the relaxation of whole hosts
        # (``models.registry.Family.implied``), for every phase but the two that bound
        # the whole model (the relaxed and the full MIP): they made the LP's pricing
        # degenerate (plain 300 sites x 20 runs: ten rounds at one objective, no plan in
        # 60 s) and the site-restricted search slower (a plan 17 % dearer at 60 s).
        self.lp = without_implied_rows(copy_lp(cm.lp, cm.integer), cm)
        self.threads, self.on_progress, self.log_file = threads, on_progress, log_file
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + time_limit_s
        self.best = SolveResult(STATUS_NO_PLAN)
        self.bound: float | None = None
        self.found_by = self.bound_by = ""  # the phases behind ``best`` and ``bound``
        self.rounded: list[np.ndarray] = []  # the decisions of each rounding tried
        self.rounded_runs: list[np.ndarray] = []  # the run choices of each ``round_runs``
        self.others = np.zeros_like(cm.integer)
        self.extension_s = 0.0
        self.lp_seconds = 0.0
        self.sites: SiteColumns | None = None
        self.unrounded: np.ndarray | None = None  # the cheapest plan with counts continuous

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def share_until(self, end: float) -> float:
        """The share of the time left that runs until ``end``."""
        return min(max(end - time.perf_counter(), 0.0) / max(self.left(), 1e-9), 1.0)

    def highs(
        self,
        lp: Any,
        start: np.ndarray | None = None,
        share: float = 1.0,
        target: float | None = None,
        extension: float = 0.0,
        gap: float | None = None,
    ) -> SolveResult:
        """One HiGHS solve of ``lp`` in ``share`` of the time left (at ``gap``, by default
        the solve's ``mip_gap``); while it has no plan, ``extension`` seconds longer."""
        limit = max(self.left() * share, 0.01)
        h = new_highs(self.threads, self.log_file)
        h.setOptionValue("mip_rel_gap", float(self.mip_gap if gap is None else gap))
        h.setOptionValue("time_limit", limit + extension)
        if target is not None:  # stop at the first plan at least this good (total cost)
            h.setOptionValue("objective_target", float(target - self.cm.offset))
        h.passModel(lp)
        if start is not None:
            set_start(h, start)
        res = run_highs(
            h,
            self.cm,
            time_limit_s=limit + extension,
            plan_by_s=limit if extension > 0 else None,
            on_progress=self.on_progress,
        )
        del h  # freed now (unless its thread was abandoned), then handed back to the OS
        release_memory()
        return res

    def keep(self, res: SolveResult, phase: str) -> None:
        """Keep ``res`` if it is a plan cheaper than the best so far."""
        if (
            res.has_plan
            and res.objective is not None
            and (self.best.objective is None or res.objective < self.best.objective - 1e-9)
        ):
            self.best, self.found_by = res, phase

    def tighten(self, bound: float | None, phase: str) -> None:
        if bound is not None and (self.bound is None or bound > self.bound):
            self.bound, self.bound_by = bound, phase

    def proven(self) -> bool:
        return _gap_of(self.best, self.bound) <= self.mip_gap + 1e-12

    def best_start(self) -> np.ndarray | None:
        return self.best.values if self.best.has_plan else None

    def run(self, counts: np.ndarray, sites: SiteColumns | None) -> SolveResult:
        self.sites = sites
        res = self.phases(counts, sites)
        res.found_by = self.found_by if res.has_plan else ""
        res.bound_by = self.bound_by
        return res

    def phases(self, counts: np.ndarray, sites: SiteColumns | None) -> SolveResult:
        self.others = self.cm.integer & ~counts
        lp = self.relaxation(sites)
        if lp.status == STATUS_INFEASIBLE:
            self.bound_by = "lp"
            return lp
        first = self.first_plan(lp, sites, counts)
        if self.proven():
            return _optimal(self.best, self.bound)
        relaxed = self.relaxed_decisions(first, counts)
        if relaxed is not None and relaxed.status == STATUS_INFEASIBLE:
            self.bound_by = "relaxed"
            return relaxed
        if self.proven():
            return _optimal(self.best, self.bound)
        return self.full_mip(counts)

    def relaxation(self, sites: SiteColumns | None) -> SolveResult:
        """Phase 1: the LP relaxation, its ``bound`` a bound of the whole LP. With many
        sites, solved over a few and priced on the rest (``pricing``); ``lp_seconds`` is
        then the whole LP's time estimated from the share of the sites kept."""
        t0 = time.perf_counter()
        res, share_in = self.solve_lp(copy_lp(self.lp, np.zeros_like(self.cm.integer)), sites)
        res.seconds = time.perf_counter() - t0
        self.lp_seconds = res.seconds / max(share_in, 1e-3)
        return res

    def solve_lp(
        self, lp: Any, sites: SiteColumns | None, end: float | None = None
    ) -> tuple[SolveResult, float]:
        """The LP ``lp`` until ``end`` (by default in the time left), priced site by site
        on many sites (``pricing``), and the share of the sites it kept. Its ``bound``
        bounds ``lp``: None when stopped early (an LP's objective then bounds nothing)."""

        def solve(model: Any) -> SolveResult:
            return self.highs(model, share=1.0 if end is None else self.share_until(end))

        if sites is not None and sites.n_sites >= PRICED_MIN_SITES:
            priced = priced_relaxation(solve, lp, sites)
            if priced is not None:
                return priced.result, priced.share_in
        res = solve(lp)
        res.bound = res.objective if res.status == STATUS_OPTIMAL else None
        return res, 1.0

    def first_plan(
        self, lp: SolveResult, sites: SiteColumns | None, counts: np.ndarray
    ) -> SolveResult | None:
        """Phase 2: a plan near the LP; rounded at once when within the gap of its bound,
        which may prove it optimal without the MIP over every decision. A plan among
        the LP's sites far above the bound is then searched for among the alternatives
        to them (``among_alternatives``), and rounded in turn if cheaper."""
        self.tighten(lp.bound, "lp")
        if lp.values is None:
            return None
        dived = self.dived_plan(sites)
        first, used = self.near_plan(lp.values, sites)
        phase = "round:first"
        if dived is not None and (first is None or _cheaper(dived, first)):
            first, used, phase = dived, None, "round:dive"
        if first is None and sites is not None and self.left() > MIN_PHASE_S:
            first = self.staged_plan(sites)
        if first is None or first.values is None:
            return first
        # Rounded at once: a plan in hand, whatever the later phases manage (300 sites, 20
        # runs: the rounding takes 7 s; left until after the relaxed MIP, it ran out of
        # time and the solve ended with no plan). Within the gap of the LP bound, that
        # may prove it optimal without the MIP over every decision.
        self.round_counts(first.values, counts, phase, share=ROUND_FIRST_SHARE)
        if used is not None and sites is not None and self.open_gap(first, WIDEN_GAP):
            wider = self.among_alternatives(first, used, sites)
            if wider is not first and wider.values is not None:
                self.round_counts(wider.values, counts, "round:first", share=ROUND_FIRST_SHARE)
                first = wider
        return first

    def dived_plan(self, sites: SiteColumns | None) -> SolveResult | None:
        """A plan from the LP dived on the runs' own choices (``planner.solving.dive``),
        the rest of the model then solved with them fixed, counts continuous, at
        ``STAGE_GAP``; in ``DIVE_SHARE`` of the time left, and only when that holds
        ``DIVE_MIN_LPS`` LP relaxations (the dive starts its LP afresh)."""
        budget = DIVE_SHARE * self.left()
        if sites is None or budget < max(DIVE_MIN_LPS * self.lp_seconds, MIN_PHASE_S):
            return None
        choices = self.others & (sites.decision_year > 0)
        if not choices.any():
            return None
        t0 = time.perf_counter()
        lp = copy_lp(self.lp, np.zeros_like(self.cm.integer))
        x = dive(self.cm, lp, choices, t0 + DIVE_LP_SHARE * budget, self.threads, self.log_file)
        if x is None:
            return None
        placed = fixed_copy(self.lp, self.others, choices, x)
        res = self.highs(
            placed, share=self.share_until(t0 + budget), gap=max(self.mip_gap, STAGE_GAP)
        )
        return res if res.has_plan and res.values is not None else None

    def near_plan(
        self, x: np.ndarray, sites: SiteColumns | None
    ) -> tuple[SolveResult | None, np.ndarray | None]:
        """The first plan of the searches near the LP solution ``x`` that has one, and
        the mask of the LP's sites when it was found among them. Such a plan is then
        improved, started from it, among those sites with the links through the rest
        kept open (traffic through transit sites): never worse, and often much better
        when a multi-site run's members are joined only through other sites."""
        for near, used in _neighbourhoods(self.lp, self.others, x, sites):
            if self.left() <= MIN_PHASE_S:
                return None, None
            res = self.highs(near, share=0.5)
            if not res.has_plan or res.values is None:
                continue
            if used is not None and sites is not None and self.open_gap(res):
                off = sites.switched_off(used)
                transit = fixed_copy(self.lp, self.others, off, np.zeros_like(x))
                res = _cheapest(res, self.highs(transit, start=res.values, share=TRANSIT_SHARE))
            return res, used
        return None, None

    def among_alternatives(
        self, plan: SolveResult, used: np.ndarray, sites: SiteColumns
    ) -> SolveResult:
        """The search among the sites of ``plan`` and the alternatives to the LP's sites
        ``used`` (``alternative_sites``), started from ``plan``; ``plan`` itself when
        there are none or the search finds nothing cheaper. The links to the other
        sites stay off: with them open, such a search among 20 of 1,000 sites spent 32 s
        at its root; without, 6 s in all."""
        if plan.values is None:
            return plan
        planned = sites.used_sites(plan.values)  # transit sites too: the start holds
        wide = self.alternative_sites(used, sites) | planned
        if not (wide & ~planned).any() or not self.open_gap(plan):
            return plan
        zero = np.zeros_like(plan.values)
        among = fixed_copy(self.lp, self.others, sites.outside(wide), zero)
        return _cheapest(plan, self.highs(among, start=plan.values, share=0.5))

    def open_gap(self, res: SolveResult, gap: float = 0.0) -> bool:
        """Time is left and ``res`` is more than ``mip_gap`` (or ``gap``) above the best
        bound: a wider search may still pay."""
        return self.left() > MIN_PHASE_S and _gap_of(res, self.bound) > max(gap, self.mip_gap)

    def alternative_sites(self, used: np.ndarray, sites: SiteColumns) -> np.ndarray:
        """``used`` and the sites the LP relaxation takes instead when the ``used`` ones
        are closed (their own columns at zero, fiber links open), in ``ALTERNATIVE_SHARE``
        of the time left: the next-best hosts. The LP splits runs across a few sites
        that reuse each other's GPUs, and often not one of them can hold a run whole
        (plain 1,000 sites x 6 runs: 9 sites, the best plan among them 20,697 against an
        LP of 16,201; among them and the 11 alternatives 17,274, found in 6 s). ``used``
        alone when the LP finds no plan or the sites together are more than
        ``MAX_USED_SHARE`` of them."""
        end = time.perf_counter() + ALTERNATIVE_SHARE * self.left()
        zero = np.zeros(self.lp.num_col_)
        none = np.zeros_like(self.cm.integer)
        closed = fixed_copy(self.lp, none, sites.switched_off(~used), zero)
        res, _ = self.solve_lp(closed, sites, end)
        if not res.has_plan or res.values is None:
            return used
        wide = used | sites.used_sites(res.values)
        return wide if wide.sum() <= MAX_USED_SHARE * len(wide) else used

    def staged_plan(self, sites: SiteColumns) -> SolveResult | None:
        """A first plan that does not depend on the sites the LP relaxation uses, built
        run by run in ready-year order (as a planner would place a roadmap): stage k
        solves the model, GPU counts continuous, with the FLOP targets of the runs ready
        by year y_k only (later runs' ``run_flop`` rows dropped: they need nothing yet)
        and the choices of the runs of earlier stages (host, members, mode, GPU type)
        fixed where stage k-1 put them, and the later runs' choices continuous (they carry
        no GPUs yet); everything else (purchases, power, links) stays free in every
        stage. The last stage enforces every target with every choice integer, so its
        plan is a plan of the counts-relaxed model, which rounding completes. Only a
        plan, never a bound: each stage restricts the choices. Stage k gets an equal
        share of what is left of ``STAGED_SHARE`` of the time, at ``STAGE_GAP``."""
        years = sorted({int(y) for y in sites.target_year if y > 0})
        if not years or len(sites.target_year) != self.lp.num_row_:
            return None
        budget_end = time.perf_counter() + self.left() * STAGED_SHARE
        x = np.zeros(self.lp.num_col_)
        res: SolveResult | None = None
        for k, y in enumerate(years):
            left = budget_end - time.perf_counter()
            if left <= MIN_PHASE_S:
                return None
            fix = self.others & (sites.decision_year > 0) & (sites.decision_year < y)
            # Later runs need nothing yet: their choices are left continuous (no search).
            stage = fixed_copy(self.lp, self.others & ~(sites.decision_year > y), fix, x)
            row_lower = np.array(self.lp.row_lower_, dtype=float)
            row_lower[sites.target_year > y] = -INF
            stage.row_lower_ = row_lower
            share = left / (len(years) - k) / max(self.left(), 1e-9)
            res = self.highs(stage, share=min(share, 1.0), gap=max(self.mip_gap, STAGE_GAP))
            if not res.has_plan or res.values is None:
                return None
            x = res.values
        return res

    def relaxed_decisions(
        self, first: SolveResult | None, counts: np.ndarray
    ) -> SolveResult | None:
        """Phase 3: the decisions as a MIP with counts continuous, from the best plan: a
        bound for the real problem and a plan to round. Part of the time left is kept for
        rounding and the full MIP."""
        relaxed = None
        if self.left() > MIN_PHASE_S:
            # The first plan (counts continuous) is never dearer than its rounding: the
            # better cutoff for the tree.
            start = self.best_start()
            if _cheaper(first, self.best):
                start = first.values if first is not None else start
            relaxed = self.highs(copy_lp(self.cm.lp, self.others), start, share=RELAXED_SHARE)
            if relaxed.status == STATUS_INFEASIBLE:
                return relaxed
            self.tighten(relaxed.bound, "relaxed")  # its dual bound holds even when stopped early
        plans = [
            p
            for p in (relaxed, first)
            if p is not None and p.has_plan and p.values is not None and p.objective is not None
        ]
        if plans:
            cheapest = min(plans, key=lambda p: p.objective or math.inf)
            if cheapest.values is not None and (
                self.best.objective is None
                or (cheapest.objective or math.inf) < self.best.objective - 1e-9
            ):
                self.round_counts(cheapest.values, counts, "round:relaxed")
        return relaxed

    def round_counts(
        self, x: np.ndarray, counts: np.ndarray, phase: str, share: float = 1.0
    ) -> None:
        """Every other integer fixed at ``x``; GPU counts integer (once per decision set),
        in ``share`` of the time left."""
        decisions = np.round(x[self.others])
        if self.left() <= MIN_PHASE_S or any(np.array_equal(decisions, r) for r in self.rounded):
            return
        self.rounded.append(decisions)
        self.unrounded = x
        # Counts rounded up fit unless a site's power, transformers or IT space is used
        # to the last kW (HiGHS completes the continuous part of a start): then the
        # start is refused and HiGHS spent seconds on the root of the whole rounding
        # before its heuristics moved a few GPUs between types.
        up = _rounded_up(x, counts)
        # First among the counts ``x`` uses, within ROUND_RADIUS of it (a tiny search,
        # exact to ROUND_GAP), then among any of those counts, then among all counts.
        fixed = fixed_copy(self.lp, self.cm.integer, self.others, x)
        every = fixed.col_lower_, fixed.col_upper_
        same_types = _within(fixed, counts, x, math.inf)
        fixed.col_lower_, fixed.col_upper_ = _within(fixed, counts, x, ROUND_RADIUS)
        budget_end = time.perf_counter() + share * self.left()
        near = share * NEAR_ROUND_SHARE
        res = self.highs(fixed, start=up, target=self.target(), share=near, gap=ROUND_GAP)
        if not res.has_plan:  # HiGHS copied the model: its bounds may be widened again
            # Purchases moved between years by more than ROUND_RADIUS GPUs, to fit supply
            # caps the relaxed plan fills exactly (contested 1,000 sites x 6 runs, seed 2:
            # none within 3 GPUs; found in 0.9 s among the GPU types the plan uses, none
            # in 60 s among all counts).
            fixed.col_lower_, fixed.col_upper_ = same_types
            res = self.highs(fixed, start=up, target=self.target(), share=near)
        if not res.has_plan:
            fixed.col_lower_, fixed.col_upper_ = every
            roomy = self.roomy_start(x, counts, share=ROOM_SHARE * self.share_until(budget_end))
            res = self.highs(
                fixed,
                start=up if roomy is None else roomy,
                target=self.target(),
                share=self.share_until(budget_end),
            )
        self.keep(res, phase)
        if not res.has_plan:
            self.round_runs(x, counts, phase, share=self.share_until(budget_end))

    def roomy_start(self, x: np.ndarray, counts: np.ndarray, share: float) -> np.ndarray | None:
        """A start for the rounding at ``x`` whose counts, rounded up, fit: the model with
        every other integer fixed at ``x``, counts continuous among those ``x`` uses,
        solved within the room rounding up needs (``reserve.rounding_room``)."""
        if self.left() * share <= MIN_PHASE_S:
            return None
        lp = fixed_copy(self.lp, np.zeros_like(self.cm.integer), self.others, x)
        lp.col_lower_, lp.col_upper_ = _within(lp, counts, x, math.inf)  # unused: held at 0
        room = rounding_room(lp, x, counts & (x > 1e-6))
        if room is None:
            return None
        lp.row_lower_, lp.row_upper_ = room.row_lower, room.row_upper
        lp.col_lower_, lp.col_upper_ = room.col_lower, room.col_upper
        res = self.highs(lp, share=share)
        if not res.has_plan or res.values is None:
            return None
        return _rounded_up(res.values, counts)

    def round_runs(self, x: np.ndarray, counts: np.ndarray, phase: str, share: float) -> None:
        """The rounding with only the runs' own choices fixed at ``x`` (hosts, members,
        modes, GPU types) and every other integer free: whole GPUs may need one more
        transformer or a bigger link than ``x`` bought (contested 1,000 sites x 2 runs:
        the fully fixed rounding had no plan). A wider search: tried only after it."""
        if self.sites is None or self.left() * share <= MIN_PHASE_S:
            return
        choices = self.others & (self.sites.decision_year > 0)
        if any(np.array_equal(np.round(x[choices]), r) for r in self.rounded_runs):
            return
        self.rounded_runs.append(np.round(x[choices]))
        runs = fixed_copy(self.lp, self.cm.integer, choices, x)
        # The GPU types of a run are among its choices: other counts would carry no run.
        runs.col_lower_, runs.col_upper_ = _within(runs, counts, x, math.inf)
        res = self.highs(runs, start=_rounded_up(x, counts), target=self.target(), share=share)
        self.keep(res, f"{phase}:runs")

    def target(self) -> float | None:
        """The objective at which a plan is proven within the gap of the best bound:
        a rounding stops there instead of proving the rounding itself."""
        if self.bound is not None and self.bound > 0 and self.mip_gap < 1:
            return self.bound / (1.0 + 1e-9) / (1.0 - self.mip_gap)
        return None

    def full_mip(self, counts: np.ndarray) -> SolveResult:
        """Phase 4: the full MIP in the time left, started from the best plan so far (with
        none yet, also in the extension, up to its first plan). With no plan yet, the
        cheapest relaxed plan is first rounded with only the runs' choices fixed, in
        half the time left: the full MIP rarely finds a first plan on a large model."""
        if not self.best.has_plan and self.unrounded is not None:
            self.round_runs(self.unrounded, counts, "round:last", share=0.5)
        extension = 0.0 if self.best.has_plan else self.extension_s
        # With a plan in hand, not started when the time left would not even cover its
        # root: HiGHS's presolve of a large model does not heed a cancel, and the thread
        # outlives the limit (1,000 sites: 10 s of presolve, stuck at exit).
        late = self.best.has_plan and self.left() < FULL_MIN_LPS * self.lp_seconds
        if not late and self.left() + extension > MIN_PHASE_S:
            full = self.highs(self.cm.lp, self.best_start(), extension=extension)
            if full.status in (STATUS_OPTIMAL, STATUS_INFEASIBLE):
                self.found_by = "full" if full.status == STATUS_OPTIMAL else ""
                self.bound_by = "full"
                return full
            self.tighten(full.bound, "full")
            self.keep(full, "full")
        if not self.best.has_plan:
            return SolveResult(STATUS_NO_PLAN)
        if self.proven():
            return _optimal(self.best, self.bound)
        best = self.best
        best.status = STATUS_TIME_LIMIT
        best.bound = self.bound
        best.gap = _gap_of(best, self.bound)
        return best


def _neighbourhoods(
    lp: Any, integer: np.ndarray, x: np.ndarray, sites: SiteColumns | None
) -> Iterator[tuple[Any, np.ndarray | None]]:
    """Restrictions of the model near the LP solution ``x``, smallest search first, with
    ``integer`` columns integer: every site the LP leaves unused switched off (with the
    mask of the sites it uses), then (RENS) every integer the LP takes whole fixed there."""
    if sites is not None:
        used = sites.used_sites(x)
        if used.sum() <= MAX_USED_SHARE * len(used):
            yield fixed_copy(lp, integer, sites.outside(used), np.zeros_like(x)), used
    yield fixed_copy(lp, integer, integer & (np.abs(x - np.round(x)) < 1e-6), x), None


def _within(lp: Any, counts: np.ndarray, x: np.ndarray, radius: float) -> tuple[Any, Any]:
    """Column bounds of ``lp`` with the ``counts`` columns that ``x`` uses kept within
    ``radius`` of ``x`` (rounded outwards) and the others at their lower bound: no GPU
    type the relaxed plan does not use appears (ties would otherwise add stray GPUs)."""
    lower, upper = np.array(lp.col_lower_), np.array(lp.col_upper_)
    used = counts & (x > 1e-6)
    lower[used] = np.maximum(lower[used], np.floor(x[used] + 1e-6) - radius)
    upper[used] = np.minimum(upper[used], np.ceil(x[used] - 1e-6) + radius)
    unused = counts & ~used
    upper[unused] = lower[unused]
    return lower, upper


def _rounded_up(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``x`` with its ``counts`` columns rounded up (a start that HiGHS completes)."""
    return np.where(counts, np.ceil(x - 1e-6), x)


def _cheapest(res: SolveResult, other: SolveResult) -> SolveResult:
    """``other`` if it is a plan cheaper than ``res``, else ``res``."""
    better = other.has_plan and (other.objective or math.inf) < (res.objective or math.inf)
    return other if better else res


def _cheaper(res: SolveResult | None, than: SolveResult) -> bool:
    """``res`` is a plan at most as dear as ``than`` (or ``than`` has none)."""
    if res is None or not res.has_plan or res.objective is None:
        return False
    return than.objective is None or res.objective <= than.objective


def _gap_of(res: SolveResult, bound: float | None) -> float:
    if res.objective is None or bound is None:
        return math.inf
    return max(0.0, res.objective - bound) / max(abs(res.objective), 1e-9)


def _optimal(res: SolveResult, bound: float | None) -> SolveResult:
    return SolveResult(
        STATUS_OPTIMAL, res.objective, bound, _gap_of(res, bound), 0.0, "optimal", res.values
    )


def _final(res: SolveResult, t0: float, label: float) -> SolveResult:
    """Total seconds, and messages that name the user's time limit."""
    res.seconds = time.perf_counter() - t0
    if res.status == STATUS_NO_PLAN:
        res.message = f"no plan found within {label:g} s"
    elif res.status == STATUS_TIME_LIMIT:
        gap = f"; gap {res.gap * 100:.2f} %" if res.gap is not None else ""
        res.message = f"stopped at the {label:g} s time limit with the best plan found{gap}"
    return res
