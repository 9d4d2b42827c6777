"""Ctrl-C during ``planner plan`` (issue 12.9): exit 130, no traceback, no C++ abort,
the previous output untouched.

Before, Ctrl-C during the solve ended 2 times in 3 with SIGABRT ("terminate called
without an active exception": the HiGHS thread was still running at interpreter exit),
and Ctrl-C during the imports with a KeyboardInterrupt traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hardening_helpers import REPO, child_env, sha256

from planner.inputs.synth import SynthSpec, write_synth

ABORT_WORDS = ("terminate called", "Traceback", "Aborted", "core dumped")


def start_plan(workbook: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    """``planner plan`` in a subprocess that Ctrl-C reaches (a background job of a
    non-interactive shell inherits SIGINT ignored; Python then never sees it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "planner", "plan", str(workbook), "-o", str(out), "-q", *extra],
        cwd=REPO,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return 0


def wait_for_a_long_solve_phase(proc: subprocess.Popen[str], hold_s: float = 1.0) -> None:
    """Until the solver thread (the process's second thread) has run ``hold_s``."""
    since = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if threads(proc.pid) >= 2:
            since = since or time.monotonic()
            if time.monotonic() - since >= hold_s:
                return
        else:
            since = None
        time.sleep(0.02)
    raise AssertionError(f"no solve phase of {hold_s} s seen (exit {proc.poll()})")


def interrupt(proc: subprocess.Popen[str]) -> tuple[int, str, float]:
    """SIGINT; the exit code, standard error and seconds from the signal to the exit."""
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, stderr, time.monotonic() - t0


def previous_output(tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "plan.xlsx"
    out.write_bytes(b"an older plan")
    return out, sha256(out)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc (Linux)")
def test_ctrl_c_during_the_solve_exits_130_without_abort(tmp_path: Path) -> None:
    workbook = write_synth(SynthSpec(sites=120, runs=10, seed=1), tmp_path / "big.xlsx")
    out, before = previous_output(tmp_path)
    proc = start_plan(workbook, out, "--time-limit", "120")
    wait_for_a_long_solve_phase(proc)
    code, stderr, seconds = interrupt(proc)
    assert code == 130, (code, stderr[-2000:])
    assert not any(w in stderr for w in ABORT_WORDS), stderr[-2000:]
    assert "interrupted; no output was changed" in stderr
    assert sha256(out) == before
    assert not list(tmp_path.glob(".plan-*"))  # no temporary file left beside it
    assert seconds < 10, f"{seconds:.1f} s from Ctrl-C to exit"


def test_ctrl_c_during_the_imports_exits_130_without_traceback(tmp_path: Path) -> None:
    out, before = previous_output(tmp_path)
    proc = start_plan(REPO / "inputs" / "reference.xlsx", out)
    time.sleep(0.4)  # Python is up; Pyomo, SciPy and pandas are still being imported
    code, stderr, _ = interrupt(proc)
    assert code == 130, (code, stderr[-2000:])
    assert not any(w in stderr for w in ABORT_WORDS), stderr[-2000:]
    assert sha256(out) == before


def children(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc (Linux)")
def test_ctrl_c_during_a_study_exits_130_at_once_and_stops_its_workers(tmp_path: Path) -> None:
    """Before, the study waited for the solves in flight to finish (6-12 s on the
    reference) while the workers went on; a leaked-semaphore warning must not appear."""
    out = tmp_path / "study.xlsx"
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner", "study", str(REPO / "inputs" / "reference.xlsx")]
        + ["-o", str(out), "--workers", "2", "--time-limit", "60"],
        cwd=tmp_path,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while len(children(proc.pid)) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)  # the resource tracker and two workers
    workers = children(proc.pid)
    assert len(workers) >= 3, f"no workers seen (exit {proc.poll()})"
    time.sleep(1.5)  # the workers are solving
    code, stderr, seconds = interrupt(proc)
    assert code == 130, (code, stderr[-2000:])
    assert not any(w in stderr for w in (*ABORT_WORDS, "leaked")), stderr[-2000:]
    assert seconds < 5, f"{seconds:.1f} s from Ctrl-C to exit"
    time.sleep(1.0)
    assert not [p for p in workers if alive(p)], "workers left running"
    assert not out.exists()
