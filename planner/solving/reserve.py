"""Room for rounding up: bounds under which GPU counts rounded up still fit.

A plan with GPU counts continuous often uses a supply cap (HBM stacks, CoWoS wafers) or a
site's IT space to the last unit; its counts rounded up then break that row, and HiGHS's
own heuristics may take most of a minute to move the few GPUs that do not fit (contested
1,000 sites x 2 runs: the whole rounding's first plan came at 53 s, its root LP at 4 s).
Solved again within the room kept here, the plan's counts rounded up fit: a start the
rounding accepts at once.

Rounding up moves each moving count column ``j`` by ``d_j`` in [0, 1). Some continuous
columns must follow (a site's IT load follows its GPUs, what a member site sends follows
its GPUs): each row that a move disturbs and that has a continuous column the plan uses
gets one such *absorber* ``c``, which moves so that the row's activity stays put, by
``alpha_c . d`` (affine in the moves, so that terms that move together cancel)::

    alpha_c = -(a_i,moving + sum_{c' != c} a_ic' alpha_c') / a_ic

Every other row is tightened by the most its activity can move towards its bound,
``sum_j max(beta_ij, 0)`` with ``beta_i = a_i,moving + sum_c a_ic alpha_c``, and every
absorber's bounds by the most it moves. Conservative: the tightened model may have no plan
where a rounding exists; then the caller rounds as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.solving.compiled import INF

# Absorber chains run GPUs -> IT load -> IT capacity -> power, and along a member's
# route to its host (contested 1,000 sites x 2 runs: 14 passes).
PASSES = 40
TOL = 1e-9


@dataclass(frozen=True)
class Bounds:
    """Row and column bounds of a model."""

    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray


def rounding_room(lp: Any, x: np.ndarray, moving: np.ndarray) -> Bounds | None:
    """Bounds of ``lp`` within which any plan, its ``moving`` count columns rounded up
    and its absorbers moved along, stays feasible; ``x`` (a plan of ``lp``) tells which
    continuous columns are in use. None when the moves do not settle."""
    import scipy.sparse as sp  # only here: its first import costs ~1.5 s (see ``sparse``)

    n_row, n_col = int(lp.num_row_), int(lp.num_col_)
    by_col = sp.csc_matrix(
        (lp.a_matrix_.value_, lp.a_matrix_.index_, lp.a_matrix_.start_), shape=(n_row, n_col)
    )
    by_row = by_col.tocsr()
    rl, ru = np.array(lp.row_lower_, dtype=float), np.array(lp.row_upper_, dtype=float)
    cl, cu = np.array(lp.col_lower_, dtype=float), np.array(lp.col_upper_, dtype=float)
    direct = by_col[:, np.flatnonzero(moving)]  # each row's own moving terms
    usable = (cl < cu) & ~moving & (np.abs(x) > TOL)
    absorber = np.full(n_row, -1, dtype=np.int64)
    rows = np.zeros(0, dtype=np.int64)  # the absorbed rows, in the order of ``alpha``
    alpha = sp.csr_matrix((0, direct.shape[1]))  # each absorber's move, per count move
    for _ in range(PASSES):
        moved = (direct + by_col[:, absorber[rows]] @ alpha).tocsr()
        rise, fall = _most(moved)
        harmed = ((rise > TOL) & (ru < INF)) | ((fall > TOL) & (rl > -INF))
        _pick_absorbers(by_row, np.flatnonzero(harmed & (absorber < 0)), usable, x, absorber)
        new = np.setdiff1d(np.flatnonzero(absorber >= 0), rows)
        rows = np.concatenate([rows, new])
        alpha = sp.vstack([alpha, sp.csr_matrix((len(new), alpha.shape[1]))]).tocsr()
        residual = moved[rows]
        if residual.nnz == 0 or abs(residual).max() <= TOL:
            break
        # Each absorber moves so that its own row's activity stays put (Jacobi sweeps).
        own = np.asarray(by_row[rows, absorber[rows]]).ravel()
        alpha = (alpha - sp.diags(1.0 / own) @ residual).tocsr()
    else:
        return None
    # ``rise`` and ``fall`` are the settled moves: the new absorbers' own moves are 0.
    free = (absorber < 0) & (rl < ru)  # an equality row cannot be tightened
    ru = np.where(free & (ru < INF), ru - rise, ru)
    rl = np.where(free & (rl > -INF), rl + fall, rl)
    up, down = _most(alpha)
    cols = absorber[rows]
    cu[cols] = np.where(cu[cols] < INF, cu[cols] - up, cu[cols])
    cl[cols] = np.where(cl[cols] > -INF, cl[cols] + down, cl[cols])
    return Bounds(rl, ru, cl, cu)


def _most(m: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``m`` (moves in [0, 1) of its columns): the most it rises and falls."""
    pos = m.maximum(0).sum(axis=1)
    neg = (-m).maximum(0).sum(axis=1)
    return np.asarray(pos).ravel(), np.asarray(neg).ravel()


def _pick_absorbers(
    a: Any, rows: np.ndarray, usable: np.ndarray, x: np.ndarray, absorber: np.ndarray
) -> None:
    """For each of ``rows`` that has one, the ``usable`` column that ``x`` uses most and
    that absorbs for no other row."""
    taken = np.zeros(len(usable), dtype=bool)
    taken[absorber[absorber >= 0]] = True
    for r in rows:
        cols = a.indices[a.indptr[r] : a.indptr[r + 1]]
        cols = cols[usable[cols] & ~taken[cols]]
        if len(cols):
            c = cols[np.argmax(np.abs(x[cols]))]
            absorber[r], taken[c] = c, True
