"""A study never loses a solved scenario and never hangs on Dask (issue 12, defects 3, 4
and 8): outputs are checked before solving, a cache entry that cannot be written keeps
its result and makes the exit code say so, and every bad or silent scheduler address
ends with exit 1 and a message naming it, within the connect timeout."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hardening_helpers import run_cli

from planner import api
from planner.inputs.data import PlanningData
from planner.studies.study import run_study

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "inputs" / "reference.xlsx"


def planner_cli(*args: object, cwd: Path, timeout: float = 120) -> tuple[int, str, float]:
    ran = run_cli(*map(str, args), cwd=cwd, timeout=timeout)
    return ran.returncode, ran.output, ran.seconds


def on_scheduler(tmp_path: Path, address: str) -> tuple[int, str, float]:
    """``planner study`` of the reference on a Dask ``address``, 2 s to connect."""
    return planner_cli(
        "study",
        REFERENCE,
        "-o",
        tmp_path / "s.xlsx",
        "--scheduler",
        address,
        "--connect-timeout",
        "2",
        "-q",
        cwd=tmp_path,
    )


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for c in held:
        c.close()


@pytest.mark.slow
@pytest.mark.parametrize("address", ["nonsense", "http://localhost:8786", "tcp://127.0.0.1:1"])
def test_a_bad_or_closed_scheduler_address_is_exit_1_naming_it(
    tmp_path: Path, address: str
) -> None:
    rc, out, seconds = on_scheduler(tmp_path, address)
    assert rc == 1, out[-2000:]
    assert address in out and "Traceback" not in out and "internal error" not in out
    assert seconds < 30


@pytest.mark.slow
def test_a_silent_port_ends_within_the_connect_timeout(tmp_path: Path, silent_server: str) -> None:
    rc, out, seconds = on_scheduler(tmp_path, silent_server)
    assert rc == 1, out[-2000:]
    assert silent_server in out and "Traceback" not in out
    assert seconds < 30


@pytest.mark.slow
def test_a_scheduler_with_no_worker_is_exit_1(tmp_path: Path) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as cluster:
        rc, out, _ = on_scheduler(tmp_path, cluster.scheduler_address)
    assert rc == 1, out[-2000:]
    assert "no worker" in out and cluster.scheduler_address in out


@pytest.mark.slow
def test_study_over_its_input_is_refused_before_solving(tmp_path: Path) -> None:
    src = tmp_path / "reference.xlsx"
    src.write_bytes(REFERENCE.read_bytes())
    rc, out, seconds = planner_cli("study", src, "-o", src, "-q", cwd=tmp_path)
    assert rc == 1 and "input workbook" in out, out[-2000:]
    assert src.read_bytes() == REFERENCE.read_bytes()
    assert seconds < 20  # refused up front, not after the study


@pytest.mark.slow
def test_an_unwritable_study_folder_is_refused_before_solving(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    rc, out, _ = planner_cli("study", REFERENCE, "-o", blocker / "s.xlsx", "-q", cwd=tmp_path)
    assert rc == 1 and "cannot be written" in out, out[-2000:]


def base_only() -> PlanningData:
    """The reference without its scenarios: a one-task study."""
    return dataclasses.replace(api.load(REFERENCE), scenarios=[], sweeps=[])


@pytest.mark.slow
def test_a_cache_entry_that_cannot_be_written_keeps_its_result(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    warnings: list[str] = []
    study = run_study(base_only(), workers=1, cache_dir=blocker / "cache", echo=warnings.append)
    solved = [r for r in study.results.values() if r["status"] in ("optimal", "time_limit")]
    assert solved and not any(r["status"] == "crashed" for r in study.results.values())
    assert study.not_written and all("cache" in w for w in warnings)


@pytest.mark.slow
def test_a_tampered_or_foreign_cache_entry_is_solved_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = run_study(base_only(), workers=1, cache_dir=cache)
    (entry,) = cache.glob("*.json")
    assert run_study(base_only(), workers=1, cache_dir=cache).cache_hits == 1
    for edit in ("content", "version"):
        blob = json.loads(entry.read_text())
        if edit == "content":
            blob["result"]["objective_usd"] = 1.0  # a cost no solve gave
        else:
            blob["planner_version"] = "0.0.0-elsewhere"
        entry.write_text(json.dumps(blob))
        warnings: list[str] = []
        again = run_study(base_only(), workers=1, cache_dir=cache, echo=warnings.append)
        assert again.cache_hits == 0 and again.solved == 1
        assert any("solving again" in w for w in warnings), warnings
        assert again.results["base"]["objective_usd"] == first.results["base"]["objective_usd"]


@pytest.mark.slow
def test_study_plan_files_carry_what_a_plain_plan_writes(tmp_path: Path) -> None:
    """Constraints, model size and coefficient range, as ``planner plan`` writes them."""
    import openpyxl

    from planner.studies.study import write_study

    study = run_study(base_only(), workers=1)
    out = write_study(study, base_only(), tmp_path / "s.xlsx")
    (plan_file,) = (tmp_path / "s-plans").glob("*.xlsx")
    wb = openpyxl.load_workbook(plan_file, read_only=True)
    assert "Constraints" in wb.sheetnames and "Scenario" in wb.sheetnames
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert "rows" in str(summary["model_size"]) and ".." in str(summary["coefficient_range"])
    assert summary["coefficient_range"] != "0 .. 0"
    assert any(str(k).startswith("binding limit") for k in summary)
    assert out.exists()
