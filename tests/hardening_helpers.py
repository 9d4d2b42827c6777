"""Shared helpers for the hardening suites (fuzz, hostile files, safe output, solver trouble).

Subprocess runs of the CLI with a wall-clock timeout and an address-space limit, so that a
hang or a memory blow-up shows as a failed test instead of a stuck CI job.
"""

from __future__ import annotations

import functools
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "inputs" / "reference.xlsx"
MEMORY_LIMIT = 2 * 1024**3  # RLIMIT_AS for hostile-file subprocesses
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class Ran:
    """A finished subprocess: exit code, output and how long it took."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "300"  # keep rich from wrapping long messages
    # Thread pools reserve address space per thread; keep RLIMIT_AS meaningful.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env


def _limit_memory(limit: int) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def run_python(
    args: list[str], *, timeout: float = 60.0, cwd: Path = REPO, memory: int | None = None
) -> Ran:
    """``python ARGS`` in a subprocess with a timeout (and optionally RLIMIT_AS)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=_limit_memory(memory) if memory else None,
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - t0)


def run_cli(
    *args: str | Path, timeout: float = 60.0, cwd: Path = REPO, memory: int | None = None
) -> Ran:
    """``python -m planner ARGS`` in a subprocess."""
    return run_python(["-m", "planner", *map(str, args)], timeout=timeout, cwd=cwd, memory=memory)


def run_script(code: str, *, timeout: float = 120.0, cwd: Path = REPO) -> Ran:
    """A small Python program in a subprocess (for monkeypatching the CLI's process)."""
    return run_python(["-c", code], timeout=timeout, cwd=cwd)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.lru_cache(maxsize=1)
def reference_plan() -> Path:
    """A plan of the reference workbook written once per test session by the CLI."""
    folder = Path(tempfile.mkdtemp(prefix="planner-refplan-"))
    src = folder / "reference.xlsx"
    shutil.copyfile(REFERENCE, src)
    out = folder / "reference-plan.xlsx"
    ran = run_cli("plan", src, "-o", out, "-q", timeout=180, cwd=folder)
    assert ran.returncode == 0, ran.output
    return out


VOLATILE_SUMMARY = ("solve_seconds", "version ", "input_file", "input_sha256")


def plan_cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's cell values, minus the Summary rows that change from run to run."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    try:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for ws in wb.worksheets:
            rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
            if ws.title == "Summary":
                rows = [
                    r
                    for r in rows
                    if not (r and isinstance(r[0], str) and r[0].startswith(VOLATILE_SUMMARY))
                ]
            out[ws.title] = rows
        return out
    finally:
        wb.close()


def assert_no_traceback(ran: Ran) -> None:
    assert "Traceback" not in ran.output, ran.output[-3000:]


def rezip(
    out: Path, replace: dict[str, Callable[[bytes], bytes]], source: Path = REFERENCE
) -> Path:
    """``source`` (the reference workbook by default) with some of its parts rewritten."""
    with zipfile.ZipFile(source) as zi:
        parts = [(i.filename, zi.read(i.filename)) for i in zi.infolist()]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zo:
        for name, data in parts:
            zo.writestr(name, replace[name](data) if name in replace else data)
    return out
