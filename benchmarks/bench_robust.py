"""Robustness benchmark: time to a proven gap over sizes x runs x seeds, plain and contested.

    python benchmarks/bench_robust.py        # the whole matrix: 4 x 4 x 5 x 2 cases (hours)
    python benchmarks/bench_robust.py --sites 30,100 --runs 2,6 --seeds 2 \\
        --generators contested --limit 60
    python benchmarks/bench_robust.py --table robust.jsonl     # reprint a run's table
    git archive BASE | tar -x -C /tmp/base    # then, before and after in one run:
    python benchmarks/bench_robust.py --variant base=/tmp/base --variant new=. --sites 30

Every case (generator, sites, runs, seed) is a workbook written by ``planner synth``
(``planner.inputs.synth`` or, contested, ``planner.inputs.contested``) and solved in a
fresh Python process (``--child``) by ``planner.api.solve`` at the gap and the time
limit given (the limit covers build, hand-off and solve, as for a user). The parent
reads the child's peak memory (``ru_maxrss``) from ``os.wait4``. Per cell (generator,
sites, runs) the table gives, over the seeds:

- how many proved the gap, the median and the worst seconds to the proof (``>limit``
  when not proven: the median is ``>limit`` when half or more were not);
- the worst gap at the end (proven cases end within the gap);
- the median and largest peak memory;
- which phase found the best plan and which the bound (``SolveResult.found_by`` /
  ``bound_by``: lp, round:first, round:dive, round:relaxed, relaxed, full; ``:runs`` marks a
  rounding with only the runs' choices fixed), counted over the seeds;
- violations of the independent check (summed; any is a bug).

Seeds are ``--first-seed`` .. ``--first-seed + --seeds - 1``: pass another first seed
to measure on instances the planner was not tuned on. Each case's raw result is appended
to ``--jsonl`` as it finishes, with the child's phase log (each HiGHS solve: phase,
start, seconds, status, objective, bound, the process's peak memory after it), which
the worst cases' profile prints.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# The planner code a child measures: this tree, or a variant's (``--variant``).
CODE = Path(os.environ.get("BENCH_ROBUST_CODE", REPO))
if str(CODE) not in sys.path:
    sys.path.insert(0, str(CODE))

# sites: (years, GPU types, power sources, links), around the instances
SIZES: dict[int, tuple[int, int, int, int]] = {
    30: (6, 8, 6, 90),
    100: (8, 8, 6, 400),
    300: (8, 8, 6, 1500),
    1000: (10, 8, 6, 5000),
}
RUNS = (2, 6, 12, 20)
GENERATORS = ("plain", "contested")
MIP_GAP = 0.01
TIME_LIMIT_S = 120.0
# The nearest caller of ``PhasedSolve.highs`` named here names the phase of each HiGHS
# solve (closures such as ``solve_lp``'s ``solve`` are passed over); solves under
# ``alternative_sites`` (the LP with its own sites closed) get the prefix "alternatives:".
PHASE_OF_CALLER = {
    "phases": "lp",
    "relaxation": "lp",
    "priced_relaxation": "lp",  # the LP over some sites (``planner.solving.pricing``)
    "_block_values": "pricing",  # the sites left out, priced on its duals
    "first_plan": "first",
    "near_plan": "first",
    "dived_plan": "dive",  # the MIP with the dive's choices fixed (its LPs: not logged)
    "among_alternatives": "alternatives",
    "round_counts": "round",
    "round_runs": "round:runs",
    "staged_plan": "staged",
    "relaxed_decisions": "relaxed",
    "full_mip": "full",
    "solve_compiled": "full",
}


def instance(generator: str, sites: int, runs: int, seed: int, workdir: Path) -> Path:
    """The workbook of a case (generated once, then reused)."""
    from planner.inputs.contested import write_contested
    from planner.inputs.synth import SynthSpec, write_synth

    years, gpus, sources, links = SIZES[sites]
    name = f"{generator}-{sites}s{years}y{gpus}g{sources}p{links}l-{runs}r-seed{seed}.xlsx"
    path = workdir / name
    if not path.exists():
        spec = SynthSpec(
            sites=sites, years=years, gpus=gpus, sources=sources, links=links, seed=seed, runs=runs
        )
        write = write_contested if generator == "contested" else write_synth
        write(spec, path)
    return path


# --------------------------------------------------------------------------- child


def _phase(frame: Any) -> str:
    """The phase of a solve called from ``frame`` (``PHASE_OF_CALLER``)."""
    chain = []
    while frame is not None and len(chain) < 8:
        chain.append(frame.f_code.co_name)
        frame = frame.f_back
    phase = next((PHASE_OF_CALLER[n] for n in chain if n in PHASE_OF_CALLER), chain[0])
    return f"alternatives:{phase}" if "alternative_sites" in chain else phase


def traced_phases(log: list[dict[str, Any]]) -> None:
    """Record every HiGHS solve of the phased strategy in ``log`` (benchmark only)."""
    from planner.solving import strategy

    original = strategy.PhasedSolve.highs

    def highs(self: Any, lp: Any, *args: Any, **kwargs: Any) -> Any:
        phase = _phase(sys._getframe(1))
        start = time.perf_counter()
        res = original(self, lp, *args, **kwargs)
        log.append(
            {
                "phase": phase,
                "start": start - self.t0,
                "seconds": time.perf_counter() - start,
                "status": res.status,
                "objective": res.objective,
                # The strategy takes the LP's objective as its bound.
                "bound": res.objective if phase == "lp" else res.bound,
                # The process's peak so far: the solve that raises it holds the peak.
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            }
        )
        return res

    strategy.PhasedSolve.highs = highs  # type: ignore[method-assign]


def child(path: Path, limit: float, gap: float, threads: int | None) -> dict[str, Any]:
    """Read, build, hand off, solve and check one case in this (fresh) process."""
    from planner import api

    log: list[dict[str, Any]] = []
    traced_phases(log)
    t = time.perf_counter()
    data = api.load(path)
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    result = api.solve(data, mip_gap=gap, time_limit_s=limit, threads=threads)
    wall_s = time.perf_counter() - t
    res = result.result
    return {
        "status": result.status,
        "message": res.message,
        "objective": res.objective,
        "bound": res.bound,
        "gap": res.gap,
        "found_by": getattr(res, "found_by", ""),  # older code does not record phases
        "bound_by": getattr(res, "bound_by", ""),
        "read_s": read_s,
        # What the time limit covers: build, hand-off and solve.
        "solve_wall_s": sum(
            result.timings.get(k, 0.0) for k in ("build_s", "handoff_s", "solve_s")
        ),
        "total_s": wall_s,
        "violations": len(result.violations),
        "size": result.model_size,
        "phases": log,
    }


# --------------------------------------------------------------------------- parent


def run_case(
    path: Path, limit: float, gap: float, threads: int | None, code: Path = REPO
) -> dict[str, Any]:
    """One case in a fresh process running the planner in ``code``; its peak memory from
    ``wait4``. A child that outlives its limit by far is killed and reported as such."""
    env = dict(os.environ)
    env["BENCH_ROBUST_CODE"] = str(code)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    args = [str(path), str(limit), str(gap), str(threads or 0)]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", *args], cwd=REPO, env=env, stdout=out, stderr=err
        )
        watchdog = threading.Timer(2 * limit + 120.0, proc.kill)
        watchdog.start()
        _, status, usage = os.wait4(proc.pid, 0)
        watchdog.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        wall = time.perf_counter() - t
        out.seek(0)
        err.seek(0)
        lines = out.read().strip().splitlines()
        tail = err.read()[-2000:]
    rec: dict[str, Any] = {"wall_s": wall, "peak_mb": usage.ru_maxrss / 1024.0}
    rec["exit_code"] = proc.returncode
    if not lines:
        rec.update(status=f"failed ({proc.returncode})", message=tail, gap=None, violations=0)
        return rec
    # Exit 70 after a result: a HiGHS thread ignored its cancel and was still running
    # at exit (``planner.solving.highs``); the result itself stands.
    rec.update(json.loads(lines[-1]))
    return rec


def proof_s(rec: dict[str, Any], gap: float) -> float:
    """Seconds to the proven gap, infinite when the case did not prove it."""
    proven = rec.get("status") == "optimal" and (rec.get("gap") or 0.0) <= gap + 1e-9
    return float(rec["solve_wall_s"]) if proven else math.inf


Cell = tuple[str, int, int, str]  # generator, sites, runs, variant


def cells(records: list[dict[str, Any]]) -> dict[Cell, list[dict[str, Any]]]:
    out: dict[Cell, list[dict[str, Any]]] = {}
    for r in records:
        key = (r["generator"], r["sites"], r["runs"], r.get("variant", ""))
        out.setdefault(key, []).append(r)
    return out


def fmt_s(x: float, limit: float) -> str:
    return f">{limit:g}" if math.isinf(x) else f"{x:.1f}"


def counts(values: list[str]) -> str:
    return " ".join(f"{k or '-'} x{n}" for k, n in sorted(Counter(values).items()))


def table(records: list[dict[str, Any]]) -> str:
    """One row per cell: proofs, median and worst seconds, worst gap, memory, phases."""
    head = (
        "| generator | sites | runs | variant | seeds | proven | median s | worst s "
        "| worst gap % | peak MB median / max | plan found by | bound by | check |"
    )
    lines = [head, "|" + "---|" * 13]
    for (gen, sites, runs, variant), rs in sorted(cells(records).items()):
        limit, gap = rs[0]["limit"], rs[0]["mip_gap"]
        times = sorted(proof_s(r, gap) for r in rs)
        gaps = [float(g) for g in (r.get("gap") for r in rs) if g is not None]
        # "none": some case ended without a plan, so it has no gap.
        worst_gap = f"{100 * max(gaps):.2f}" if len(gaps) == len(rs) else "none"
        mem = [r["peak_mb"] for r in rs]
        lines.append(
            f"| {gen} | {sites} | {runs} | {variant or '-'} | {len(rs)} "
            f"| {sum(1 for t in times if not math.isinf(t))}/{len(rs)} "
            f"| {fmt_s(statistics.median(times), limit)} | {fmt_s(times[-1], limit)} "
            f"| {worst_gap} | {statistics.median(mem):.0f} / {max(mem):.0f} "
            f"| {counts([r.get('found_by', '') for r in rs])} "
            f"| {counts([r.get('bound_by', '') for r in rs])} "
            f"| {sum(r.get('violations', 0) for r in rs)} |"
        )
    return "\n".join(lines)


def worst_cases(records: list[dict[str, Any]], n: int) -> str:
    """The ``n`` slowest cases (unproven first, by final gap) with their phase logs."""

    def badness(r: dict[str, Any]) -> tuple[float, float]:
        return (proof_s(r, r["mip_gap"]), r.get("gap") or math.inf)

    lines = []
    for r in sorted(records, key=badness, reverse=True)[:n]:
        gap = r.get("gap")
        variant = f" [{r['variant']}]" if r.get("variant") else ""
        lines.append(
            f"\n{r['generator']} {r['sites']} sites, {r['runs']} runs, seed {r['seed']}{variant}: "
            f"{r['status']}, gap {'-' if gap is None else f'{100 * gap:.2f} %'}, "
            f"{r.get('solve_wall_s', 0):.1f} s, {r['peak_mb']:.0f} MB, "
            f"plan by {r.get('found_by') or '-'}, bound by {r.get('bound_by') or '-'}; "
            f"model {r.get('size', {}).get('columns', '?')} columns"
        )
        for p in r.get("phases", []):
            obj, bound = p["objective"], p["bound"]
            lines.append(
                f"    {p['phase']:<8} at {p['start']:6.1f} s for {p['seconds']:6.1f} s: "
                f"{p['status']:<10} objective {'-' if obj is None else f'{obj:,.1f}'}"
                f"  bound {'-' if bound is None else f'{bound:,.1f}'}"
                f"  peak {p.get('peak_mb', 0):,.0f} MB"
            )
    return "\n".join(lines)


def run_matrix(a: argparse.Namespace) -> list[dict[str, Any]]:
    seeds = range(a.first_seed, a.first_seed + a.seeds)
    # Variants run case by case in turn, so that the machine's load hits them alike.
    cases = [
        (g, s, r, k, v)
        for g in a.generators
        for s in a.sites
        for r in a.runs
        for k in seeds
        for v in a.variant
    ]
    records = []
    for i, (gen, sites, runs, seed, (variant, code)) in enumerate(cases, 1):
        path = instance(gen, sites, runs, seed, a.workdir)
        rec = run_case(path, a.limit, a.gap, a.threads, code)
        rec.update(
            generator=gen,
            sites=sites,
            runs=runs,
            seed=seed,
            limit=a.limit,
            mip_gap=a.gap,
            variant=variant,
        )
        records.append(rec)
        with a.jsonl.open("a") as f:
            f.write(json.dumps(rec) + "\n")
        gap = rec.get("gap")
        print(
            f"[{i}/{len(cases)}] {gen} {sites} sites {runs} runs seed {seed} {variant}: "
            f"{rec['status']}, "
            f"gap {'-' if gap is None else f'{100 * gap:.2f} %'}, "
            f"{rec.get('solve_wall_s', 0):.1f} s, {rec['peak_mb']:.0f} MB, "
            f"plan {rec.get('found_by') or '-'}, bound {rec.get('bound_by') or '-'}",
            file=sys.stderr,
            flush=True,
        )
    return records


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def parse_variant(text: str) -> tuple[str, Path]:
    """NAME=DIR: a tree holding the planner's packages (``git archive`` of a commit)."""
    name, _, code = text.partition("=")
    if not name or not (Path(code) / "planner").is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=DIR with DIR/planner")
    return name, Path(code).resolve()


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sites", type=ints, default=list(SIZES), help="e.g. 30,100")
    p.add_argument("--runs", type=ints, default=list(RUNS), help="e.g. 2,6")
    p.add_argument("--seeds", type=int, default=5, help="seeds per cell")
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument(
        "--generators",
        type=lambda s: s.split(","),
        default=list(GENERATORS),
        help="plain,contested",
    )
    p.add_argument("--limit", type=float, default=TIME_LIMIT_S, help="seconds per case")
    p.add_argument("--gap", type=float, default=MIP_GAP, help="the gap to prove")
    p.add_argument("--threads", type=int, default=None, help="HiGHS threads (default: its own)")
    p.add_argument(
        "--variant",
        type=parse_variant,
        action="append",
        help="NAME=DIR: measure the planner in DIR too, case by case in turn (repeatable)",
    )
    p.add_argument("--worst", type=int, default=5, help="worst cases to profile")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "planner-bench")
    p.add_argument("--jsonl", type=Path, help="raw results (default: in --workdir)")
    p.add_argument("--table", type=Path, help="only print the table of this .jsonl")
    a = p.parse_args(argv)
    bad = [s for s in a.sites if s not in SIZES] + [g for g in a.generators if g not in GENERATORS]
    if bad:
        p.error(f"unknown sizes or generators {bad}: sizes {list(SIZES)}, {list(GENERATORS)}")
    a.variant = a.variant or [("", REPO)]
    return a


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        path, limit, gap, threads = argv[1:5]
        result = child(Path(path), float(limit), float(gap), int(threads) or None)
        print(json.dumps(result), flush=True)  # before a stuck HiGHS thread's exit (70)
        return
    a = parse(argv)
    if a.table:
        records = [json.loads(line) for line in a.table.read_text().splitlines() if line]
    else:
        a.workdir.mkdir(parents=True, exist_ok=True)
        a.jsonl = a.jsonl or a.workdir / f"robust-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        print(f"raw results: {a.jsonl}", file=sys.stderr)
        records = run_matrix(a)
    first = records[0] if records else {"limit": a.limit, "mip_gap": a.gap}
    print(
        f"robustness benchmark {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
        f"one fresh process per case, gap {100 * first['mip_gap']:g} %, "
        f"limit {first['limit']:g} s (build + hand-off + solve)\n"
    )
    print(table(records))
    print("\nworst cases (each HiGHS solve: phase, start, seconds, status, objective, bound):")
    print(worst_cases(records, a.worst))


if __name__ == "__main__":
    main()
