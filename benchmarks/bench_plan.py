"""Benchmark the planner stage by stage on synthetic instances (see benchmarks/README.md).

    .venv/bin/python benchmarks/bench_plan.py              # small + medium, 3 runs each
    .venv/bin/python benchmarks/bench_plan.py --all        # small + medium + large
    .venv/bin/python benchmarks/bench_plan.py --sizes large --repeat 1
    .venv/bin/python benchmarks/bench_plan.py --profile medium   # cProfile of build + hand-off

Every repetition is a fresh Python process (``--child``) that runs read+validate, model
build, hand-off to HiGHS (``compile_model`` + ``passModel``), solve, plan extraction,
independent check and export in order, timing each and reporting its own peak RSS
(``ru_maxrss``). The direct bound is another fresh process that builds a random scipy
CSC matrix of the planner's shape and nonzero count, with costs, bounds and integrality
of the same sizes, and hands it to ``highspy.Highs.passModel``. Medians of the runs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# name: (sites, years, gpus, sources, links, seed)
SIZES: dict[str, tuple[int, int, int, int, int, int]] = {
    "small": (20, 5, 6, 6, 60, 1),
    "medium": (200, 8, 8, 6, 1000, 1),
    "large": (1000, 10, 8, 6, 5000, 1),
}
DEFAULT_SIZES = ("small", "medium")
MIP_GAP = 0.01
TIME_LIMIT_S = 120.0
STAGES = ("read", "build", "handoff", "solve", "extract", "check", "export")


def instance(size: str, workdir: Path) -> Path:
    """The synthetic workbook of a size (generated once, then reused)."""
    from planner.inputs.synth import SynthSpec, write_synth

    sites, years, gpus, sources, links, seed = SIZES[size]
    path = workdir / f"synth-{size}-{sites}s{years}y{gpus}g{sources}p{links}l-seed{seed}.xlsx"
    if not path.exists():
        spec = SynthSpec(
            sites=sites, years=years, gpus=gpus, sources=sources, links=links, seed=seed
        )
        write_synth(spec, path)
    return path


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


# --------------------------------------------------------------------------- child modes


def child_plan(path: Path, out: Path, threads: int | None) -> dict[str, Any]:
    """All stages in order in this (fresh) process; returns timings and sizes."""
    t_import = time.perf_counter()
    import highspy
    import scipy.sparse  # noqa: F401  (the matrix the hand-off builds)

    from models.build import build_model
    from models.neighbourhood import site_columns
    from models.sets import build_model_data
    from planner import api
    from planner.results.check import check_plan
    from planner.results.export import write_plan
    from planner.solving.compiled import compile_model, load_values
    from planner.solving.extract import extract_plan
    from planner.solving.highs import new_highs
    from planner.solving.pipeline import summary_facts
    from planner.solving.status import STATUS_ERROR, SolveResult
    from planner.solving.strategy import solve_compiled

    out_t: dict[str, Any] = {"import": time.perf_counter() - t_import}
    mem: dict[str, float] = {}

    t = time.perf_counter()
    data = api.load(path)
    out_t["read"] = time.perf_counter() - t
    mem["read"] = peak_mb()

    t = time.perf_counter()
    md = build_model_data(data)
    m = build_model(md)
    out_t["build"] = time.perf_counter() - t
    mem["build"] = peak_mb()
    if m.unreachable_runs:
        raise SystemExit(f"unreachable runs {m.unreachable_runs}: not a feasible instance")

    t = time.perf_counter()
    cm = compile_model(m)
    h = new_highs(threads)
    h.passModel(cm.lp)
    out_t["handoff"] = time.perf_counter() - t
    mem["handoff"] = peak_mb()
    del h
    assert highspy  # imported for its start-up cost, outside the timed stages

    t = time.perf_counter()
    try:
        res = solve_compiled(
            cm,
            mip_gap=MIP_GAP,
            time_limit_s=TIME_LIMIT_S,
            threads=threads,
            counts=api.count_columns(cm),
            sites=site_columns(cm.columns, md),
        )
    except Exception as exc:  # keep the other stages' figures when the solve layer fails
        res = SolveResult(
            STATUS_ERROR, seconds=time.perf_counter() - t, message=f"{type(exc).__name__}: {exc}"
        )
    out_t["solve"] = time.perf_counter() - t
    mem["solve"] = peak_mb()

    result = api.PlanResult(data, res, model_size=cm.size, coefficient_range=cm.coefficient_range())
    if res.has_plan and res.values is not None:
        t = time.perf_counter()
        load_values(m, cm, res.values)
        plan = extract_plan(m, md)
        plan.summary = summary_facts(data, res, plan)
        result.plan = plan
        out_t["extract"] = time.perf_counter() - t
        t = time.perf_counter()
        result.violations = check_plan(data, plan)
        out_t["check"] = time.perf_counter() - t
    else:
        out_t["extract"] = out_t["check"] = 0.0
    mem["check"] = peak_mb()

    t = time.perf_counter()
    write_plan(result, out, inputs=path)
    out_t["export"] = time.perf_counter() - t
    mem["export"] = peak_mb()
    return {
        "times": out_t,
        "peak_mb": peak_mb(),
        "peak_by_stage_mb": mem,
        "status": res.status,
        "message": res.message,
        "gap": res.gap,
        "objective": res.objective,
        "violations": len(result.violations),
        "size": cm.size,
        "coefficient_range": list(cm.coefficient_range()),
    }


def child_direct(rows: int, cols: int, nnz: int, n_int: int, seed: int) -> dict[str, Any]:
    """Lower bound: a random CSC matrix of the same shape and nnz straight into HiGHS."""
    t = time.perf_counter()
    import highspy
    import numpy as np
    import scipy.sparse as sp

    imported = time.perf_counter() - t
    t = time.perf_counter()
    rng = np.random.default_rng(seed)
    density = nnz / (rows * cols) if rows and cols else 0.0
    a = sp.random(
        rows,
        cols,
        density=density,
        format="csc",
        random_state=rng,
        data_rvs=lambda k: rng.uniform(0.1, 10.0, k),
    )
    cost = rng.uniform(0.0, 1.0, cols)
    col_lower = np.zeros(cols)
    col_upper = np.full(cols, 1e6)
    row_lower = np.full(rows, -highspy.kHighsInf)
    row_upper = rng.uniform(1.0, 100.0, rows)
    integrality = np.zeros(cols, dtype=np.int32)
    integrality[:n_int] = 1
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = cols, rows
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, col_lower, col_upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [highspy.HighsVarType(int(i)) for i in integrality]
    h.passModel(lp)
    seconds = time.perf_counter() - t
    return {"build_handoff": seconds, "import": imported, "nnz": int(a.nnz), "peak_mb": peak_mb()}


# --------------------------------------------------------------------------- parent


def run_child(args: list[str]) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall"] = wall
    return out


def med(values: list[float]) -> float:
    return float(statistics.median(values))


def bench_size(size: str, repeat: int, workdir: Path, threads: int | None) -> dict[str, Any]:
    path = instance(size, workdir)
    runs = []
    for i in range(repeat):
        out = workdir / f"plan-{size}-{i}.xlsx"
        r = run_child(["plan", str(path), str(out), str(threads or 0)])
        runs.append(r)
        print(
            f"  {size} run {i + 1}/{repeat}: {r['wall']:.1f} s wall, {r['status']}, "
            f"gap {100 * (r['gap'] or 0):.2f} %",
            file=sys.stderr,
            flush=True,
        )
    size_info = runs[0]["size"]
    direct = [
        run_child(
            [
                "direct",
                str(size_info["rows"]),
                str(size_info["columns"]),
                str(size_info["nonzeros"]),
                str(size_info["integer_columns"]),
                str(i),
            ]
        )
        for i in range(repeat)
    ]
    times = {s: med([r["times"][s] for r in runs]) for s in STAGES}
    times["import"] = med([r["times"]["import"] for r in runs])
    times["direct_import"] = med([d["import"] for d in direct])
    return {
        "size": size,
        "spec": SIZES[size],
        "times": times,
        "wall": med([r["wall"] for r in runs]),
        "peak_mb": med([r["peak_mb"] for r in runs]),
        "model": size_info,
        "coefficient_range": runs[0]["coefficient_range"],
        "status": [r["status"] for r in runs],
        "gap": [r["gap"] for r in runs],
        "messages": [r["message"] for r in runs],
        "violations": [r["violations"] for r in runs],
        "direct_s": med([d["build_handoff"] for d in direct]),
    }


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| instance | imports | read | build | hand-off | solve | extract | check "
        "| export | total wall | build+hand-off % of wall | peak MB |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in results:
        t = r["times"]
        bh = t["build"] + t["handoff"]
        sites, years, gpus, sources, links, _ = r["spec"]
        lines.append(
            f"| {r['size']} ({sites} sites, {years} y, {gpus} GPUs, {sources} src, "
            f"{links} links) | {t['import']:.2f} | "
            + " | ".join(f"{t[s]:.2f}" for s in STAGES)
            + f" | {r['wall']:.2f} | {100 * bh / r['wall']:.1f} | {r['peak_mb']:.0f} |"
        )
    lines += [
        "",
        "| instance | rows | columns | nonzeros | integer columns | |coef| range "
        "| status (gap) | check violations | build+hand-off s | direct s | ratio |",
        "|" + "---|" * 11,
    ]
    for r in results:
        mz, t = r["model"], r["times"]
        bh = t["build"] + t["handoff"]
        lo, hi = r["coefficient_range"]
        status = ", ".join(
            f"{s} ({100 * (g or 0):.2f} %)" for s, g in zip(r["status"], r["gap"], strict=True)
        )
        lines.append(
            f"| {r['size']} | {mz['rows']:,} | {mz['columns']:,} | {mz['nonzeros']:,} "
            f"| {mz['integer_columns']:,} | {lo:.2g} .. {hi:.2g} | {status} "
            f"| {max(r['violations'])} | {bh:.2f} | {r['direct_s']:.3f} "
            f"| {bh / max(r['direct_s'], 1e-9):.0f}x |"
        )
    return "\n".join(lines)


def profile(size: str, workdir: Path, top: int = 10) -> str:
    """cProfile of model build + hand-off (in this process), top entries by cumulative time."""
    from models.build import build_model
    from models.sets import build_model_data
    from planner import api
    from planner.solving.compiled import compile_model
    from planner.solving.highs import new_highs

    data = api.load(instance(size, workdir))
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    md = build_model_data(data)
    m = build_model(md)
    cm = compile_model(m)
    new_highs().passModel(cm.lp)
    prof.disable()
    wall = time.perf_counter() - t
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
    stats.print_stats(top + 15)
    buf.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(top)
    return f"build + hand-off of {size} under cProfile: {wall:.2f} s\n{buf.getvalue()}"


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        mode, rest = argv[1], argv[2:]
        if mode == "plan":
            threads = int(rest[2]) or None
            out = child_plan(Path(rest[0]), Path(rest[1]), threads)
        else:
            out = child_direct(*(int(x) for x in rest))
        print(json.dumps(out))
        return
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(DEFAULT_SIZES))
    p.add_argument("--all", action="store_true", help="small, medium and large")
    p.add_argument("--repeat", type=int, default=3, help="fresh processes per size (median)")
    p.add_argument("--threads", type=int, default=None, help="HiGHS threads")
    p.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "planner-bench",
        help="where instances and plans are written",
    )
    p.add_argument("--profile", choices=list(SIZES), help="profile build + hand-off only")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    a = p.parse_args(argv)
    a.workdir.mkdir(parents=True, exist_ok=True)
    if a.profile:
        print(profile(a.profile, a.workdir))
        return
    sizes = list(SIZES) if a.all else a.sizes
    results = []
    for size in sizes:
        print(f"{size}: generating/benchmarking ...", file=sys.stderr, flush=True)
        results.append(bench_size(size, a.repeat, a.workdir, a.threads))
    print(
        f"planner benchmark {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
        f"medians of {a.repeat} fresh processes, gap {MIP_GAP:.0%}, "
        f"limit {TIME_LIMIT_S:g} s; times in s\n"
    )
    print(table(results))
    if a.json:
        a.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
