"""Which sites each variable belongs to.

The solve layer uses this to search for a plan among the sites a relaxation already
uses (a site-restricted sub-MIP): a portfolio of 1,000 candidate sites typically ends
up using a handful, and the MIP over those few is small. Nothing here builds
constraints; it only reads variable indices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo

from models.registry import FAMILIES, VARIABLES
from models.sets import ModelData

# Variable -> position of the site id (or the link id) in its index: ``models.registry``.
SITE_POSITION: dict[str, int] = {
    n: c.site_at for n, c in VARIABLES.items() if c.site_at is not None
}
LINK_POSITION: dict[str, int] = {
    n: c.link_at for n, c in VARIABLES.items() if c.link_at is not None
}
UNTAGGED = frozenset(set(VARIABLES) - set(SITE_POSITION) - set(LINK_POSITION))
# Variable -> position of the run id in the index of a run's own choices.
RUN_POSITION: dict[str, int] = {n: c.run_at for n, c in VARIABLES.items() if c.run_at is not None}
# Families whose row for run r is r's FLOP target (relaxed by the diagnosis as a target).
TARGET_FAMILIES = frozenset(n for n, f in FAMILIES.items() if f.relax == "target")


@dataclass
class SiteColumns:
    """Columns x sites incidence, as pairs: column ``entry_column[k]`` belongs to site
    ``entry_site[k]``. A nonzero value in a column means its sites are used; a column
    may be fixed at zero when one of its sites is left out of a search.
    ``link`` marks the columns of a fiber link (tagged with both of its ends).
    ``decision_year`` is, per column, the ready year of the run whose own choice it is
    (0 for the others); ``target_year`` per row the ready year of the run whose FLOP
    target it is (0 for the others; empty when the rows were not given). ``size`` is each
    site's most IT power (MW; empty when not known)."""

    entry_column: np.ndarray
    entry_site: np.ndarray
    n_sites: int
    link: np.ndarray
    decision_year: np.ndarray
    target_year: np.ndarray
    size: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def used_sites(self, x: np.ndarray, tol: float = 1e-6) -> np.ndarray:
        """Mask of the sites that some column touches with a nonzero value."""
        used = np.zeros(self.n_sites, dtype=bool)
        used[self.entry_site[np.abs(x[self.entry_column]) > tol]] = True
        return used

    def outside(self, sites: np.ndarray) -> np.ndarray:
        """Columns that belong to at least one site not in the mask ``sites``."""
        out = np.zeros(len(self.link), dtype=bool)
        out[self.entry_column[~sites[self.entry_site]]] = True
        return out

    def switched_off(self, sites: np.ndarray) -> np.ndarray:
        """Columns a search among the sites ``sites`` fixes at zero: those of a site left
        out, except fiber links. A multi-site run's traffic may travel through sites that
        hold none of its GPUs (a path of links); with the links of such transit sites off,
        the members the LP relaxation chose could often not be joined at all. A transit
        site's own columns (send, receive, GPUs) stay off: it only passes traffic on."""
        return self.outside(sites) & ~self.link


def site_columns(
    columns: Sequence[pyo.VarData], d: ModelData, rows: Sequence[tuple[Any, int]] = ()
) -> SiteColumns:
    """Tag each column with its sites; unknown variables (e.g. elastic slacks) get none.
    With the compiled ``rows``, runs' choices and targets are tagged with ready years."""
    site_no = {s: i for i, s in enumerate(d.sites)}
    ends = {lk.link_id: (lk.site_a, lk.site_b) for lk in d.inputs.fiber_links}
    entry_column: list[int] = []
    entry_site: list[int] = []
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
                entry_column.append(j)
                entry_site.append(site_no[s])
    return SiteColumns(
        np.array(entry_column, dtype=np.int64),
        np.array(entry_site, dtype=np.int64),
        len(d.sites),
        link,
        _ready_years(
            d, [(v.parent_component().local_name, v.index()) for v in columns], RUN_POSITION
        ),
        _ready_years(d, [(c.parent_component().local_name, c.index()) for c, _ in rows], None),
        np.array([d.site_it_mw.get(s, 0.0) for s in d.sites], dtype=float),
    )


def _ready_years(
    d: ModelData, entries: Sequence[tuple[str, Any]], position: dict[str, int] | None
) -> np.ndarray:
    """Per entry (component name, index): the ready year of its run, else 0. Columns are
    runs' choices by ``RUN_POSITION``; rows (``position`` None) FLOP-target families."""
    years = {r.run_id: r.ready_year for r in d.inputs.runs}
    out = np.zeros(len(entries), dtype=int)
    for j, (name, index) in enumerate(entries):
        key = index if isinstance(index, tuple) else (index,)
        if position is None:
            run = key[0] if name in TARGET_FAMILIES else None
        else:
            run = key[position[name]] if name in position else None
        out[j] = years.get(run, 0) if run is not None else 0
    return out
