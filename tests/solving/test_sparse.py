"""The numpy compressed matrices (``planner/solving/sparse.py``) against scipy.sparse, and
the reason they exist: a plan is made without importing scipy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.solving.sparse import Compressed, compress, csr_to_csc, keep_columns

REPO = Path(__file__).resolve().parents[2]


@st.composite
def entries(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """Entries of a small matrix with repeated positions and explicit (or cancelling)
    zeros: the cases scipy's sum_duplicates / eliminate_zeros handle."""
    n_rows, n_cols = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    n = draw(st.integers(0, 30))
    rows = np.array(draw(st.lists(st.integers(0, n_rows - 1), min_size=n, max_size=n)))
    cols = np.array(draw(st.lists(st.integers(0, n_cols - 1), min_size=n, max_size=n)))
    vals = np.array(
        draw(st.lists(st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.5]), min_size=n, max_size=n))
    )
    return rows.astype(np.int64), cols.astype(np.int64), vals, (n_rows, n_cols)


def scipy_csc(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]
) -> sp.csc_matrix:
    a = sp.coo_matrix((vals, (rows, cols)), shape=shape).tocsc()
    a.sum_duplicates()
    a.eliminate_zeros()
    return a


def assert_same(ours: Compressed, theirs: sp.spmatrix) -> None:
    np.testing.assert_array_equal(ours.indptr, theirs.indptr)
    np.testing.assert_array_equal(ours.indices, theirs.indices)
    np.testing.assert_allclose(ours.data, theirs.data, rtol=1e-15)
    np.testing.assert_allclose(ours.toarray(), theirs.toarray())


@settings(max_examples=200, deadline=None)
@given(entries())
def test_compressed_columns_and_rows_match_scipy(e: tuple) -> None:
    rows, cols, vals, shape = e
    ref = scipy_csc(rows, cols, vals, shape)
    csc = compress(cols, rows, vals, shape, by_column=True)
    assert_same(csc, ref)
    assert_same(csc.transposed_compression(), ref.tocsr())
    # From rows given as CSR arrays (the reader's order, duplicates kept), as the reader does.
    order = np.argsort(rows, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=shape[0]))])
    assert_same(csr_to_csc(indptr, cols[order], vals[order], shape), ref)


@settings(max_examples=100, deadline=None)
@given(entries(), st.data())
def test_keep_columns_matches_scipy_column_selection(e: tuple, data: st.DataObject) -> None:
    rows, cols, vals, shape = e
    ref = scipy_csc(rows, cols, vals, shape)
    keep = np.array(sorted(data.draw(st.sets(st.integers(0, shape[1] - 1)))), dtype=np.int64)
    ours = keep_columns(compress(cols, rows, vals, shape, by_column=True), keep)
    assert ours.shape == (shape[0], len(keep))
    assert_same(ours, ref[:, keep].tocsc())


def test_a_plan_is_made_without_importing_scipy() -> None:
    """Pyomo's import hook loads scipy.stats with the first scipy import (~0.5 s of every
    command's start-up): the CLI and a whole plan of the reference must not need it."""
    code = (
        "import sys\n"
        "import planner.cli\n"
        "from planner import api\n"
        "r = api.plan(api.load('inputs/reference.xlsx'))\n"
        "assert r.plan is not None, r.status\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.strip() == "[]", ran.stdout
