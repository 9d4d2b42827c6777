"""The LP relaxation of a many-site model, solved over a few sites and priced on the rest.

A portfolio of 1,000 candidate sites uses a handful of them in its LP relaxation, but
HiGHS's dual simplex works through every one (contested 1,000 sites x 2 runs: 45 s and
26,000 iterations; the same LP over the 130 sites it needs: under 2 s). Columns come in
*blocks*: a site's own columns, or a fiber link's (tagged with both its ends); the other
columns are global. A row is *private* to a block when all its columns are the block's
(a site's IT capacity, a link's bandwidth); every other row *couples* blocks (a run's
FLOP target, a supply cap, the flow balance at a site).

The restricted LP fixes at zero the columns of every block with a site outside a chosen
set. With ``z`` its optimum and ``y`` its row duals, each block ``b`` left out is priced
on the coupling rows::

    v_b = min { (c - A_coupling' y)' x_b  :  b's private rows, b's column bounds }  <= 0

(zero is a plan of every block left out), and the Lagrangian bound of the whole LP at
``y`` is::

    z + sum_{b left out} v_b  <=  the whole LP's optimum  <=  z

valid whether or not the loop below converged. The sites of the most negative blocks come
in and the restricted LP is solved again; once no block prices negative (to HiGHS's own
tolerance), ``z`` is the whole LP's optimum and the restricted solution (blocks left out
at zero) solves it. The bound reported is the Lagrangian one even then: it differs from
``z`` only by the tolerance, and it is a bound by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from models.neighbourhood import SiteColumns
from planner.solving.compiled import fixed_copy
from planner.solving.sparse import expand
from planner.solving.status import STATUS_INFEASIBLE, STATUS_OPTIMAL, SolveResult

# The restricted LP starts from this share of the sites, the largest first (at least
# FIRST_SITES): runs need sites that can hold them, and pricing brings in the rest.
FIRST_SHARE = 0.1
FIRST_SITES = 20
# Each round brings in the sites of at most this share of the sites' count of blocks,
# the most negative first (contested 1,000 sites x 20 runs: 98 negative in the first
# round; 30 a round took three rounds and 40 s, 100 two rounds and 37 s).
ADD_SHARE = 0.1
# A block prices negative below this, relative to the restricted LP's optimum: HiGHS's
# own dual feasibility tolerance.
TOL = 1e-7

Solve = Callable[[Any], SolveResult]


@dataclass(frozen=True)
class Blocks:
    """The model's columns and rows by block (see the module's docstring)."""

    column_block: np.ndarray  # per column: its block, -1 for a global column
    ends: np.ndarray  # per block: its two sites (a site's own block: the site twice)
    row_block: np.ndarray  # per row: the block it is private to, -1 if it couples
    anchored: np.ndarray  # per block: zero is not a plan of it, so it is never left out

    def left_out(self, sites_in: np.ndarray) -> np.ndarray:
        """Blocks with a site outside the mask ``sites_in``."""
        return ~(sites_in[self.ends[:, 0]] & sites_in[self.ends[:, 1]]) & ~self.anchored

    def columns_of(self, blocks: np.ndarray) -> np.ndarray:
        """Mask of the columns of the blocks in the mask ``blocks``."""
        return (self.column_block >= 0) & blocks[np.maximum(self.column_block, 0)]

    def rows_of(self, blocks: np.ndarray) -> np.ndarray:
        """Mask of the rows private to the blocks in the mask ``blocks``."""
        return (self.row_block >= 0) & blocks[np.maximum(self.row_block, 0)]


def site_blocks(lp: Any, sites: SiteColumns) -> Blocks:
    """Blocks of ``lp``: a column tagged with one site is that site's, one tagged with a
    link's two ends that link's; untagged columns (and any with more sites) are global."""
    n_col, n = int(lp.num_col_), sites.n_sites
    tags = np.bincount(sites.entry_column, minlength=n_col)
    low = np.full(n_col, n, dtype=np.int64)
    high = np.full(n_col, -1, dtype=np.int64)
    np.minimum.at(low, sites.entry_column, sites.entry_site)
    np.maximum.at(high, sites.entry_column, sites.entry_site)
    tagged = (tags >= 1) & (tags <= 2)
    keys, block = np.unique(low[tagged] * n + high[tagged], return_inverse=True)
    column_block = np.full(n_col, -1, dtype=np.int64)
    column_block[tagged] = block
    ends = np.stack([keys // n, keys % n], axis=1)
    row, col, _ = _entries(lp)
    row_block = _row_blocks(int(lp.num_row_), row, column_block[col])
    return Blocks(column_block, ends, row_block, _anchored(lp, column_block, row_block, len(keys)))


def _row_blocks(n_row: int, row: np.ndarray, entry_block: np.ndarray) -> np.ndarray:
    """Per row: the one block of all its entries, else -1 (a global entry: -1 too)."""
    low = np.full(n_row, np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(n_row, -1, dtype=np.int64)
    np.minimum.at(low, row, entry_block)
    np.maximum.at(high, row, entry_block)
    return np.where((low == high) & (low >= 0), low, -1)


def _anchored(lp: Any, column_block: np.ndarray, row_block: np.ndarray, n: int) -> np.ndarray:
    """Blocks of which zero is not a plan: a column or a private row excludes it."""
    anchored = np.zeros(n, dtype=bool)
    lower, upper = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    cols = (column_block >= 0) & ((lower > 0) | (upper < 0))
    anchored[column_block[cols]] = True
    row_lower, row_upper = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    rows = (row_block >= 0) & ((row_lower > 0) | (row_upper < 0))
    anchored[row_block[rows]] = True
    return anchored


def _entries(lp: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column and value of every entry of ``lp``'s (column-wise) matrix."""
    return (
        np.asarray(lp.a_matrix_.index_, dtype=np.int64),
        expand(np.asarray(lp.a_matrix_.start_, dtype=np.int64)),
        np.asarray(lp.a_matrix_.value_, dtype=float),
    )


def pricing_problem(
    lp: Any, blocks: Blocks, out: np.ndarray, duals: np.ndarray
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Every block ``out`` priced at once (they share no row): the LP over their columns
    and private rows with costs ``c - A_coupling' y``; with its columns and their costs."""
    row, col, value = _entries(lp)
    coupling = np.where(blocks.row_block < 0, duals, 0.0)
    cost = np.asarray(lp.col_cost_, dtype=float) - np.bincount(
        col, weights=value * coupling[row], minlength=int(lp.num_col_)
    )
    cols, rows = blocks.columns_of(out), blocks.rows_of(out)
    keep = cols[col] & rows[row]
    col_no = np.cumsum(cols) - 1
    row_no = np.cumsum(rows) - 1
    start = np.zeros(int(cols.sum()) + 1, dtype=np.int64)
    np.cumsum(np.bincount(col_no[col[keep]], minlength=len(start) - 1), out=start[1:])
    sub = highspy.HighsLp()
    sub.num_col_, sub.num_row_ = int(cols.sum()), int(rows.sum())
    sub.col_cost_ = cost[cols]
    sub.col_lower_ = np.asarray(lp.col_lower_)[cols]
    sub.col_upper_ = np.asarray(lp.col_upper_)[cols]
    sub.row_lower_ = np.asarray(lp.row_lower_)[rows]
    sub.row_upper_ = np.asarray(lp.row_upper_)[rows]
    sub.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    sub.a_matrix_.start_ = start
    sub.a_matrix_.index_ = row_no[row[keep]]
    sub.a_matrix_.value_ = value[keep]
    return sub, np.flatnonzero(cols), cost[cols]


def first_sites(sites: SiteColumns) -> np.ndarray:
    """The sites the restricted LP starts from: the largest ``FIRST_SHARE``."""
    return _largest(sites, np.zeros(sites.n_sites, dtype=bool), _first_count(sites.n_sites))


def _first_count(n: int) -> int:
    return min(n, max(FIRST_SITES, int(np.ceil(FIRST_SHARE * n))))


def _largest(sites: SiteColumns, sites_in: np.ndarray, count: int) -> np.ndarray:
    """``sites_in`` with the largest sites left out added, ``count`` of them (by IT power;
    in the order of the sites when their sizes are not known)."""
    size = sites.size if len(sites.size) == sites.n_sites else np.zeros(sites.n_sites)
    order = np.argsort(-size, kind="stable")
    grown = sites_in.copy()
    grown[order[~sites_in[order]][:count]] = True
    return grown


@dataclass
class Priced:
    """The restricted LP's result (its bound: the Lagrangian bound of the whole LP) and
    the share of the sites it kept."""

    result: SolveResult
    share_in: float


def priced_relaxation(solve: Solve, lp: Any, sites: SiteColumns) -> Priced | None:
    """The LP relaxation ``lp`` by pricing (module docstring); ``solve`` runs one HiGHS
    solve in the time left. None when a pricing problem has no optimum (the caller
    solves the whole LP)."""
    blocks = site_blocks(lp, sites)
    sites_in = first_sites(sites)
    bound = -np.inf
    # The last restricted optimum: a plan of the whole LP (the blocks left out at zero),
    # returned when a later round is stopped before it has one.
    last: SolveResult | None = None
    while True:
        out = blocks.left_out(sites_in)
        zero = np.zeros(int(lp.num_col_))
        res = solve(fixed_copy(lp, zero.astype(bool), blocks.columns_of(out), zero))
        if res.status == STATUS_INFEASIBLE and out.any():
            sites_in = _largest(sites, sites_in, int(sites_in.sum()))  # twice as many
            continue
        if not res.has_plan and last is not None:  # stopped: the last round's plan
            return _priced(last, bound, sites_in)
        if not out.any():  # the whole LP: its own optimum bounds it (stopped, nothing)
            return _priced(res, res.objective if res.status == STATUS_OPTIMAL else bound, sites_in)
        if res.status != STATUS_OPTIMAL or res.duals is None:
            return _priced(res, bound, sites_in)
        last = res
        value = _block_values(solve, lp, blocks, out, res.duals)
        if value is None:
            return None
        z = float(res.objective or 0.0)
        bound = max(bound, z + float(value[value < 0].sum()))
        negative = np.flatnonzero(value < -TOL * max(1.0, abs(z)))
        if not len(negative):
            return _priced(res, bound, sites_in)
        most = negative[np.argsort(value[negative])][: max(1, int(ADD_SHARE * sites.n_sites))]
        sites_in[blocks.ends[most].ravel()] = True


def _block_values(
    solve: Solve, lp: Any, blocks: Blocks, out: np.ndarray, duals: np.ndarray
) -> np.ndarray | None:
    """``v_b`` of every block (zero for those in); None without an optimum."""
    sub, cols, cost = pricing_problem(lp, blocks, out, duals)
    priced = solve(sub)
    if priced.status != STATUS_OPTIMAL or priced.values is None:
        return None
    return np.bincount(
        blocks.column_block[cols], weights=cost * priced.values, minlength=len(blocks.ends)
    )


def _priced(res: SolveResult, bound: float | None, sites_in: np.ndarray) -> Priced:
    """The restricted LP's result with ``bound`` as its bound (None if not finite)."""
    res.bound = float(bound) if bound is not None and np.isfinite(bound) else None
    return Priced(res, float(sites_in.mean()) if len(sites_in) else 1.0)
