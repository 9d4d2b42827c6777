"""The inputs a frontier is asked about: a named scenario of the workbook applied first,
the run moved to another ready year, or alone (the other runs left out).

``planner.analysis.frontier`` answers the question; this module only shapes the inputs,
with the ``Scenarios`` machinery of ``planner.studies.scenarios``.
"""

from __future__ import annotations

import dataclasses

from planner.analysis.frontier import check_question, with_ready_year
from planner.inputs.data import PlanningData
from planner.inputs.problems import InputError, Problem
from planner.studies.scenarios import (
    SCENARIOS_SHEET,
    apply_changes,
    declared_scenarios,
    expand_sweeps,
)


def scenario_inputs(data: PlanningData, name: str) -> PlanningData:
    """``data`` with the scenario (or sweep step) ``name`` applied; ``InputError``
    naming the scenarios there are when it is unknown, or the scenario's bad rows."""
    swept, _ = expand_sweeps(data)
    scenarios = {sc.name: sc for sc in declared_scenarios(data) + swept}
    if name not in scenarios:
        known = ", ".join(scenarios) or "none: the workbook has no Scenarios rows"
        raise InputError(
            [Problem(SCENARIOS_SHEET, f"--scenario {name!r} names no scenario; scenarios: {known}")]
        )
    base = dataclasses.replace(data, scenarios=[], sweeps=[])
    new, problems = apply_changes(base, scenarios[name].changes)
    if new is None:
        letters = data.cells.letters
        raise InputError(
            [
                dataclasses.replace(
                    p, letter=letters.get(p.sheet, {}).get(p.column or "", p.letter)
                )
                for p in problems
            ]
        )
    return new


def question_inputs(
    data: PlanningData,
    run_id: str,
    *,
    scenario: str | None = None,
    ready_year: int | None = None,
    alone: bool = False,
) -> PlanningData:
    """The inputs of a frontier: the scenario applied, then the run ready in
    ``ready_year`` (a year of the horizon), then the other runs left out if ``alone``."""
    if scenario is not None:
        data = scenario_inputs(data, scenario)
    check_question(data, run_id, None, 1)
    st = data.settings
    if ready_year is not None:
        if not st.start_year <= ready_year <= st.end_year:
            raise InputError(
                [
                    Problem(
                        "--ready-year",
                        f"{ready_year} is outside the horizon "
                        f"{st.start_year}-{st.end_year} (Settings start_year, end_year)",
                    )
                ]
            )
        data = with_ready_year(data, run_id, ready_year)
    if alone:
        data = dataclasses.replace(data, runs=[r for r in data.runs if r.run_id == run_id])
    return data
