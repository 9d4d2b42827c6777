"""Which sites each variable belongs to.

The solve layer uses this to search for a plan among the sites a relaxation already
uses (a site-restricted sub-MIP): a portfolio of 1,000 candidate sites typically ends
up using a handful, and the MIP over those few is small. Nothing here builds
constraints; it only reads variable indices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

from models.registry import VARIABLES
from models.sets import ModelData

# Variable -> position of the site id (or the link id) in its index: ``models.registry``.
SITE_POSITION: dict[str, int] = {
    n: c.site_at for n, c in VARIABLES.items() if c.site_at is not None
}
LINK_POSITION: dict[str, int] = {
    n: c.link_at for n, c in VARIABLES.items() if c.link_at is not None
}
UNTAGGED = frozenset(set(VARIABLES) - set(SITE_POSITION) - set(LINK_POSITION))


@dataclass
class SiteColumns:
    """Columns x sites incidence. A nonzero value in a column means its sites are used;
    a column may be fixed at zero when one of its sites is left out of a search.
    ``link`` marks the columns of a fiber link (tagged with both of its ends)."""

    incidence: sp.csr_matrix
    link: np.ndarray

    def used_sites(self, x: np.ndarray, tol: float = 1e-6) -> np.ndarray:
        """Mask of the sites that some column touches with a nonzero value."""
        active = (np.abs(x) > tol).astype(float)
        return np.asarray(self.incidence.T @ active).ravel() > 0

    def outside(self, sites: np.ndarray) -> np.ndarray:
        """Columns that belong to at least one site not in the mask ``sites``."""
        return np.asarray(self.incidence @ (~sites).astype(float)).ravel() > 0

    def switched_off(self, sites: np.ndarray) -> np.ndarray:
        """Columns a search among the sites ``sites`` fixes at zero: those of a site left
        out, except fiber links. A multi-site run's traffic may travel through sites that
        hold none of its GPUs (a path of links); with the links of such transit sites off,
        the members the LP relaxation chose could often not be joined at all. A transit
        site's own columns (send, receive, GPUs) stay off: it only passes traffic on."""
        return self.outside(sites) & ~self.link


def site_columns(columns: Sequence[pyo.VarData], d: ModelData) -> SiteColumns:
    """Tag each column with its sites; unknown variables (e.g. elastic slacks) get none."""
    site_no = {s: i for i, s in enumerate(d.sites)}
    ends = {lk.link_id: (lk.site_a, lk.site_b) for lk in d.inputs.fiber_links}
    rows: list[int] = []
    cols: list[int] = []
    link = np.zeros(len(columns), dtype=bool)
    for j, v in enumerate(columns):
        name = v.parent_component().local_name
        index = v.index()
        key = index if isinstance(index, tuple) else (index,)
        sites: tuple[str, ...] = ()
        if name in SITE_POSITION:
            sites = (key[SITE_POSITION[name]],)
        elif name in LINK_POSITION:
            sites = ends.get(key[LINK_POSITION[name]], ())
            link[j] = True
        for s in sites:
            if s in site_no:
                rows.append(j)
                cols.append(site_no[s])
    return SiteColumns(
        sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(columns), len(d.sites))),
        link,
    )
