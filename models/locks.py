"""Decisions a reviewer locked in an exported plan, imposed on a fresh model.

``fix_locks(m, locks)`` fixes the model's variables (and, for a site's build year, adds
the rows saying the site is built then and not before) before the model is compiled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyomo.environ as pyo

from models.linear import linear

BUILT_MW = 1e-3  # a site counts as built in a year once this much IT capacity is online


@dataclass
class Locks:
    """Locked decisions, in plan-sheet terms."""

    # (site_id, built_year, cooling_id or None, IT capacity online in built_year or None)
    sites: list[tuple[str, int, str | None, float | None]] = field(default_factory=list)
    gpus: list[tuple[str, str, int, int]] = field(default_factory=list)  # purchased
    fiber: list[tuple[str, int]] = field(default_factory=list)  # built_year
    power: list[tuple[str, str, int, float]] = field(default_factory=list)  # mw_added
    transformers: list[tuple[str, str, int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return (
            len(self.sites)
            + len(self.gpus)
            + len(self.fiber)
            + len(self.power)
            + len(self.transformers)
        )


class LockError(ValueError):
    """A locked decision the model cannot take (outside the inputs' allowed choices)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def fix_locks(m: pyo.ConcreteModel, locks: Locks) -> None:
    """Fix the locked decisions on ``m`` (built by ``models.build_model``)."""
    problems: list[str] = []

    def fix(var: pyo.Var, key: tuple[object, ...], value: float, what: str) -> None:
        if key not in var:
            problems.append(f"{what}: not a choice the inputs allow")
            return
        var[key].fix(value)

    for s, g, y, n in locks.gpus:
        fix(m.gpus_bought, (s, g, y), int(n), f"GPUs {g} at {s} in {y}")
    for s, p, y, mw_added in locks.power:
        if (s, p, y) not in m.power_add_mw and abs(mw_added) <= 1e-9:
            continue
        fix(m.power_add_mw, (s, p, y), float(mw_added), f"{mw_added} MW of {p} at {s} in {y}")
    for s, t, y, n in locks.transformers:
        fix(m.transformer_add, (s, t, y), int(n), f"{n} transformer(s) {t} at {s} in {y}")
    for lk, y in locks.fiber:
        fix(m.link_built, (lk, y), 1, f"link {lk} built in {y}")
    site_rows = []
    for s, y, c, mw in locks.sites:
        coolings = sorted({k[1] for k in m.SITE_BUILD if k[0] == s})
        if not coolings:
            problems.append(f"site {s}: cannot be built with these inputs")
            continue
        if c is not None and c not in coolings:
            problems.append(f"site {s}: cooling {c} is not an option")
            continue
        if not any(k[0] == s and k[2] == y for k in m.SITE_BUILD):
            problems.append(f"site {s}: cannot be built in {y}")
            continue
        for ks, kc, ky in m.SITE_BUILD:
            if ks == s and (ky < y or (c is not None and kc != c)):
                m.it_capacity_add[ks, kc, ky].fix(0.0)
        if c is not None and (s, c) in m.COOLING_CHOICE:
            m.cooling_chosen[s, c].fix(1)
        site_rows.append((s, y, max(float(mw or 0.0), BUILT_MW)))
    if problems:
        raise LockError(problems)
    m.LOCKED_SITE = pyo.Set(initialize=[(s, y) for s, y, _ in site_rows], dimen=2)
    need = {(s, y): mw for s, y, mw in site_rows}
    m.lock_site_built = pyo.Constraint(
        m.LOCKED_SITE,
        rule=lambda _m, s, y: linear([(1, m.it_capacity_mw[s, y])]) >= need[(s, y)],
        doc="A locked site has (at least) its planned IT capacity online in its year (MW)",
    )
