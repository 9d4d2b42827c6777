"""Compressed sparse matrices in numpy alone, for the plan's hot path.

Why not ``scipy.sparse``: once Pyomo is loaded, the first import of scipy runs Pyomo's
hook that imports ``scipy.stats`` and more (``pyomo.common.dependencies``), ~0.5 s of
every command's start-up (a third of ``planner``'s imports, 2026-12-02). The planner
needs only one operation: entries -> compressed columns (or rows), duplicates summed,
explicit zeros dropped; HiGHS takes the three arrays as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Compressed:
    """``indptr``/``indices``/``data`` of a matrix compressed along its major axis (CSC:
    columns major, CSR: rows major); ``shape`` is (rows, columns) either way."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]
    by_column: bool

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape)
        major = expand(self.indptr)
        if self.by_column:
            np.add.at(out, (self.indices, major), self.data)
        else:
            np.add.at(out, (major, self.indices), self.data)
        return out

    def transposed_compression(self) -> Compressed:
        """The same matrix compressed along the other axis (CSC <-> CSR)."""
        return compress(
            self.indices, expand(self.indptr), self.data, self.shape, not self.by_column
        )


def compress(
    major: npt.ArrayLike,
    minor: npt.ArrayLike,
    values: npt.ArrayLike,
    shape: tuple[int, int],
    by_column: bool,
) -> Compressed:
    """Entries (``major``, ``minor``, ``values``) compressed along ``major``: sorted by
    (major, minor), repeated positions summed, zeros (given or summed) dropped."""
    i = np.asarray(major, dtype=np.int64)
    j = np.asarray(minor, dtype=np.int64)
    v = np.asarray(values, dtype=float)
    order = np.lexsort((j, i))
    i, j, v = i[order], j[order], v[order]
    if len(v):
        first = np.ones(len(v), dtype=bool)
        first[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1])
        starts = np.flatnonzero(first)
        v = np.add.reduceat(v, starts)
        i, j = i[starts], j[starts]
        kept = v != 0
        i, j, v = i[kept], j[kept], v[kept]
    n_major = shape[1] if by_column else shape[0]
    indptr = np.zeros(n_major + 1, dtype=np.int64)
    np.cumsum(np.bincount(i, minlength=n_major), out=indptr[1:])
    return Compressed(indptr, j, v, shape, by_column)


def csr_to_csc(
    indptr: npt.ArrayLike, indices: npt.ArrayLike, data: npt.ArrayLike, shape: tuple[int, int]
) -> Compressed:
    """Rows given as CSR arrays -> the CSC matrix (duplicates summed, zeros dropped)."""
    return compress(indices, expand(np.asarray(indptr)), data, shape, by_column=True)


def keep_columns(a: Compressed, keep: np.ndarray) -> Compressed:
    """The CSC matrix ``a`` with only the columns ``keep`` (sorted indices), renumbered."""
    counts = np.diff(a.indptr)
    take = np.repeat(np.isin(np.arange(len(counts)), keep), counts)
    indptr = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(counts[keep], out=indptr[1:])
    return Compressed(indptr, a.indices[take], a.data[take], (a.shape[0], len(keep)), True)


def expand(indptr: np.ndarray) -> np.ndarray:
    """The major index of every entry of a compressed matrix."""
    return np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
