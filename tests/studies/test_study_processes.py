"""Nothing is left running when a study dies (issue 12, defect 5): its worker processes
and multiprocessing's resource tracker end when the parent is killed, by SIGKILL or
SIGTERM. Checked by PID on Linux's /proc."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "inputs" / "reference.xlsx"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc"),
]


def children(pid: int) -> set[int]:
    """Every live descendant of ``pid``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name is in parentheses and may hold spaces: split after it.
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_when_the_study_is_killed(tmp_path: Path, sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "planner",
            "study",
            str(REFERENCE),
            "-o",
            str(tmp_path / "s.xlsx"),
            "-w",
            "2",
            "--no-cache",
            "-q",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        spawned: set[int] = set()
        while time.monotonic() < deadline and len(spawned) < 3:  # 2 workers + tracker
            spawned = children(proc.pid)
            time.sleep(0.2)
        assert len(spawned) >= 3, f"workers never started: {spawned}"
        time.sleep(1.0)  # let the workers get into a solve
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(alive(p) for p in spawned):
            time.sleep(0.2)
        left = [p for p in spawned if alive(p)]
        assert not left, f"still running after the parent died: {left}"
    finally:
        for p in children(proc.pid) | {proc.pid}:
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)
