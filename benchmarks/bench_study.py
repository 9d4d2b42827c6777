"""Study throughput: scenarios per minute for 1 and 2 workers, with and without reuse.

    .venv/bin/python benchmarks/bench_study.py [WORKBOOK] [--max N] [--time-limit S]
        [--skip NAME,NAME]

Runs the workbook's study (base + scenarios + sweep steps; the first ``--max`` of them)
without the result cache, in four configurations. "reuse" keeps worker processes warm
across scenarios (solver stack imported once) and solves identical inputs once; "no reuse"
starts a fresh process per scenario. Scenarios that fail validation are left out (and
listed), and so are those named by ``--skip`` (an infeasible scenario costs a diagnosis,
15-30 s on the reference, which the feasible throughput should be read without). Not a
test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner import api  # noqa: E402
from planner.inputs.data import PlanningData  # noqa: E402
from planner.studies.scenarios import apply_changes, declared_scenarios, expand_sweeps  # noqa: E402
from planner.studies.study import run_study  # noqa: E402


def valid_study(data: PlanningData, limit: int, skip: set[str] | None = None) -> PlanningData:
    """Drop invalid scenarios, those in ``skip`` and sweeps; keep at most ``limit``
    scenarios besides the base."""
    bad = {sc.name for sc in declared_scenarios(data) if apply_changes(data, sc.changes)[1]}
    for name in sorted(skip or set()):
        print(f"skipping scenario {name} (--skip)")
    bad |= skip or set()
    for name in sorted(bad - (skip or set())):
        print(f"skipping invalid scenario {name}")
    rows = [r for r in data.scenarios if r.scenario not in bad]
    keep = list(dict.fromkeys(r.scenario for r in rows))[:limit]
    rows = [r for r in rows if r.scenario in keep]
    sweeps = []
    left = limit - len(keep)
    for sw in data.sweeps:
        swept, problems = expand_sweeps(dataclasses.replace(data, sweeps=[sw]))
        if problems or left <= 0:
            continue
        steps = min(sw.steps, left)
        if steps < 2:
            break
        sweeps.append(sw.model_copy(update={"steps": steps}))
        left -= steps
    return dataclasses.replace(data, scenarios=rows, sweeps=sweeps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", nargs="?", default="inputs/reference.xlsx")
    parser.add_argument("--max", type=int, default=8, help="scenarios besides the base")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--skip", default="", help="scenarios to leave out, comma-separated")
    args = parser.parse_args()
    skip = {name for name in args.skip.split(",") if name}
    data = valid_study(api.load(args.workbook), args.max, skip)
    rows = []
    for workers in (1, 2):
        for reuse in (True, False):
            t0 = time.perf_counter()
            study = run_study(data, workers=workers, reuse=reuse, time_limit_s=args.time_limit)
            seconds = time.perf_counter() - t0
            n = len(study.scenarios)
            statuses = sorted({r["status"] for r in study.results.values()})
            rows.append(
                (
                    workers,
                    "yes" if reuse else "no",
                    n,
                    study.solved,
                    seconds,
                    n / seconds * 60,
                    seconds / n,
                    ",".join(statuses),
                )
            )
            print(f"  workers={workers} reuse={reuse}: {seconds:.1f} s", flush=True)
    print()
    print(
        f"{'workers':>7} {'reuse':>5} {'scen.':>5} {'solves':>6} {'seconds':>8} "
        f"{'scen/min':>8} {'s/scen':>7}  statuses"
    )
    for w, r, n, solved, s, per_min, per, statuses in rows:
        print(f"{w:>7} {r:>5} {n:>5} {solved:>6} {s:>8.1f} {per_min:>8.1f} {per:>7.2f}  {statuses}")
    matrix_reuse(data, args.time_limit)


def matrix_reuse(data: PlanningData, time_limit: float) -> None:
    """Per scenario that changes only costs or supply capacities: build + hand-off and
    total solve time with a freshly compiled matrix and with the base's matrix reused."""
    import statistics

    from planner.solving.compiled import compile_model
    from planner.solving.reuse import ReusingCompiler, structure_key
    from planner.studies.scenarios import study_scenarios

    base_key = structure_key(data)
    same = [(sc, d) for sc, d in study_scenarios(data)[1:] if structure_key(d) == base_key]
    if not same:
        print("\nno scenario changes only costs or supply capacities")
        return
    compiler = ReusingCompiler(min_columns=0)  # measure reuse even on a small model
    api.solve(data, time_limit_s=time_limit, compiler=compiler.for_data(data))
    rows: dict[str, list[tuple[float, float]]] = {"fresh": [], "reused": []}
    for _, d in same:
        for label, comp in (("fresh", compile_model), ("reused", compiler.for_data(d))):
            t0 = time.perf_counter()
            res = api.solve(d, time_limit_s=time_limit, compiler=comp)
            rows[label].append(
                (
                    res.timings.get("build_s", 0) + res.timings.get("handoff_s", 0),
                    time.perf_counter() - t0,
                )
            )
    print(
        f"\nmatrix reuse over {len(same)} cost/supply-only scenarios "
        f"({', '.join(sc.name for sc, _ in same)}), medians in s:"
    )
    print(f"{'matrix':>8} {'build+hand-off':>15} {'per scenario':>13}")
    for label, vals in rows.items():
        print(
            f"{label:>8} {statistics.median(v[0] for v in vals):>15.3f} "
            f"{statistics.median(v[1] for v in vals):>13.2f}"
        )


if __name__ == "__main__":
    main()
