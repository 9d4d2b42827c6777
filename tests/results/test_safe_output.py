"""Safe output: atomic writes, the previous plan survives a kill or Ctrl-C mid-write, the
input workbook is never written, unwritable outputs fall back with a clear message, and
input text that looks like a formula is written as text.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import factory as f
import openpyxl
import pytest
from hardening_helpers import (
    IS_ROOT,
    REFERENCE,
    assert_no_traceback,
    child_env,
    reference_plan,
    run_cli,
    sha256,
)

from planner import api
from planner.inputs.validate import validate_path

INJECTIONS = [
    '=HYPERLINK("http://example.invalid/x","click")',
    "+1",
    "-1",
    "@SUM(A1)",
    "=1+1",
    "-2+3",
    "+cmd|' /C calc'!A0",
]

# A child process that plans with openpyxl's save slowed down: the temp file gets half of
# the real bytes, a marker file says so, then the process sleeps until it is killed.
# Ctrl-C as at a terminal: a runner started in the background by a shell without job
# control (``cmd &``) passes SIGINT on ignored, and Python then never raises
# KeyboardInterrupt.
SLOW_SAVE = r"""
import pathlib, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
import openpyxl.workbook.workbook as wbm
marker, src, out = sys.argv[1:4]
real_save = wbm.Workbook.save
def slow_save(self, filename):
    real_save(self, filename)
    p = pathlib.Path(filename)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    pathlib.Path(marker).write_text(str(filename))
    time.sleep(120)
wbm.Workbook.save = slow_save
sys.argv = ["planner", "plan", src, "-o", out, "-q"]
from planner.cli import main
main()
"""


def tiny_workbook(folder: Path, **kw: Any) -> Path:
    """A one-site instance written as an input workbook (solves in well under a second)."""
    return Path(
        f.write_workbook(
            f.instance(supply=[f.supply(2026, "cowos_wafers", 1e9)], **kw), folder / "tiny.xlsx"
        )
    )


def previous_plan(folder: Path) -> tuple[Path, bytes]:
    out = folder / "existing.xlsx"
    shutil.copyfile(reference_plan(), out)
    return out, out.read_bytes()


def assert_loads(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    assert "Summary" in wb.sheetnames
    wb.close()


def start_slow_plan(folder: Path, out: Path) -> tuple[subprocess.Popen[str], Path]:
    marker = folder / "writing.marker"
    src = folder / "reference.xlsx"
    shutil.copyfile(REFERENCE, src)
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_SAVE, str(marker), str(src), str(out)],
        cwd=folder,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out_, err_ = proc.communicate()
            pytest.fail(f"the plan never reached its save: {out_[-1000:]} {err_[-2000:]}")
        time.sleep(0.05)
    return proc, Path(marker.read_text())


@pytest.mark.slow
def test_sigkill_mid_write_leaves_previous_plan_intact(tmp_path: Path) -> None:
    out, before = previous_plan(tmp_path)
    proc, tmp_file = start_slow_plan(tmp_path, out)
    assert tmp_file.parent == out.parent and tmp_file != out
    assert tmp_file.name.startswith(".existing-") and tmp_file.name.endswith(".xlsx.tmp")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert out.read_bytes() == before  # same bytes: never replaced by the partial file
    assert_loads(out)
    # The half-written temp file is hidden (dot name, .tmp suffix), never the output.
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert all(n.startswith(".existing-") for n in leftovers), leftovers


@pytest.mark.slow
def test_ctrl_c_mid_write_leaves_previous_plan_and_no_temp_file(tmp_path: Path) -> None:
    out, before = previous_plan(tmp_path)
    proc, tmp_file = start_slow_plan(tmp_path, out)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    assert out.read_bytes() == before
    assert_loads(out)
    assert not tmp_file.exists(), "the temp file is removed on Ctrl-C"


@pytest.mark.slow
def test_ctrl_c_says_it_was_interrupted(tmp_path: Path) -> None:
    out, _ = previous_plan(tmp_path)
    proc, _ = start_slow_plan(tmp_path, out)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted" in stderr


@pytest.mark.slow
def test_kill_as_soon_as_the_temp_file_appears(tmp_path: Path) -> None:
    """No monkeypatching: kill the real export the moment its temp file shows up."""
    out, before = previous_plan(tmp_path)
    src = tmp_path / "reference.xlsx"
    shutil.copyfile(REFERENCE, src)
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner", "plan", str(src), "-o", str(out), "-q"],
        cwd=tmp_path,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen = False
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if any(p.name.startswith(".existing-") for p in tmp_path.iterdir()):
            proc.kill()
            seen = True
            break
        time.sleep(0.001)
    proc.wait(timeout=30)
    after = out.read_bytes()
    if seen:
        # Killed during the write (or just after the rename): old bytes or a whole new plan.
        assert after == before or after.startswith(b"PK")
    assert_loads(out)


@pytest.mark.slow
def test_input_workbook_is_never_written(tmp_path: Path) -> None:
    src = tiny_workbook(tmp_path)
    os.utime(src, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    digest, mtime = sha256(src), src.stat().st_mtime_ns
    ran = run_cli("plan", src, "-o", tmp_path / "plan.xlsx", "-q", cwd=tmp_path)
    assert ran.returncode == 0, ran.output[-2000:]
    ran = run_cli("validate", src, cwd=tmp_path)
    assert ran.returncode == 0, ran.output[-2000:]
    assert sha256(src) == digest and src.stat().st_mtime_ns == mtime
    assert (tmp_path / "plan.xlsx").exists()


@pytest.mark.slow
def test_output_over_the_input_is_refused_as_bad_input(tmp_path: Path) -> None:
    src = tiny_workbook(tmp_path)
    digest = sha256(src)
    ran = run_cli("plan", src, "-o", src, "-q", cwd=tmp_path)
    assert sha256(src) == digest
    assert_no_traceback(ran)
    assert ran.returncode == 1, ran.output[-2000:]
    assert "internal error" not in ran.stderr


def _fell_back(ran: Any, target: Path) -> Path:
    """The plan went elsewhere: said where, and exit 5 so a script never reads a stale
    file at the requested path (issue 12.4)."""
    assert_no_traceback(ran)
    assert ran.returncode == 5, ran.output[-2000:]
    assert f"could not write {target}" in ran.stderr, ran.stderr[-2000:]
    written = Path(ran.stdout.split("plan written to ")[-1].strip())
    assert written != target and written.exists()
    assert_loads(written)
    return written


@pytest.mark.slow
@pytest.mark.skipif(IS_ROOT, reason="root bypasses permission bits; see the tests below")
def test_unwritable_folder_falls_back(tmp_path: Path) -> None:
    src = tiny_workbook(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        target = locked / "plan.xlsx"
        ran = run_cli("plan", src, "-o", target, "-q", cwd=tmp_path)
        _fell_back(ran, target)
        assert not target.exists()
    finally:
        locked.chmod(0o700)


@pytest.mark.slow
def test_output_path_that_is_a_folder_gets_the_plan_inside(tmp_path: Path) -> None:
    """``-o FOLDER`` writes ``FOLDER/<stem>-plan.xlsx`` (issue 12.4)."""
    src = tiny_workbook(tmp_path)
    folder = tmp_path / "plans"
    folder.mkdir()
    ran = run_cli("plan", src, "-o", folder, "-q", cwd=tmp_path)
    assert_no_traceback(ran)
    assert ran.returncode == 0, ran.output[-2000:]
    written = folder / f"{src.stem}-plan.xlsx"
    assert f"plan written to {written}" in ran.stdout
    assert_loads(written)


@pytest.mark.slow
def test_a_stale_plan_at_an_unwritable_path_is_signalled(tmp_path: Path) -> None:
    """An older plan stays where the new one could not go: the exit code says so."""
    src = tiny_workbook(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder is expected")
    ran = run_cli("plan", src, "-o", blocker / "sub" / "plan.xlsx", "-q", cwd=tmp_path)
    assert ran.returncode == 5 and "could not write" in ran.stderr, ran.output[-2000:]


@pytest.mark.slow
def test_output_under_a_file_falls_back(tmp_path: Path) -> None:
    src = tiny_workbook(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder is expected")
    target = blocker / "plan.xlsx"
    _fell_back(run_cli("plan", src, "-o", target, "-q", cwd=tmp_path), target)


@pytest.mark.slow
def test_replacing_a_plan_keeps_its_permissions(tmp_path: Path) -> None:
    src = tiny_workbook(tmp_path)
    out = tmp_path / "plan.xlsx"
    shutil.copyfile(reference_plan(), out)
    out.chmod(0o644)
    ran = run_cli("plan", src, "-o", out, "-q", cwd=tmp_path)
    assert ran.returncode == 0, ran.output[-2000:]
    assert out.stat().st_mode & 0o777 == 0o644


# ----------------------------------------------------------------- formula injection


def _assert_text_cells(path: Path, expected: set[str]) -> None:
    wb = openpyxl.load_workbook(path)
    found: set[str] = set()
    try:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
                    if cell.value in expected:
                        assert cell.data_type == "s", (ws.title, cell.coordinate)
                        found.add(cell.value)
    finally:
        wb.close()
    assert found == expected, expected - found


def injected_instance() -> Any:
    link_site = "@SUM(A1)"
    return f.instance(
        settings=f.settings(end_year=2027),
        sites=[
            f.site("+1", name=INJECTIONS[0], country="=1+1"),
            f.site(link_site, name="+cmd|' /C calc'!A0", country="-2+3"),
        ],
        site_power=[f.site_power("+1"), f.site_power(link_site)],
        gpus=[f.gpu("-1", vendor="=1+1")],
        runs=[f.run('=HYPERLINK("http://example.invalid/r","run")', ready_year=2027, max_sites=2)],
        fiber_links=[f.link("-2+3", "+1", link_site)],
        supply=[f.supply(2026, "cowos_wafers", 1e9)],
    )


def test_formula_injection_round_trips_as_text(tmp_path: Path) -> None:
    data = injected_instance()
    src = Path(f.write_workbook(data, tmp_path / "inject.xlsx"))
    # The input workbook itself holds the strings as text...
    _assert_text_cells(src, {INJECTIONS[0], "+1", "-1", "@SUM(A1)", "=1+1", "-2+3"})
    loaded, problems = validate_path(src)
    assert loaded is not None, [str(p) for p in problems]
    assert loaded.sites[0].name == INJECTIONS[0] and loaded.gpus[0].gpu_id == "-1"
    # ...and so does the plan.
    result = api.solve(loaded, time_limit_s=30)
    assert result.plan is not None, result.result.message
    out = api.export(result, tmp_path / "plan.xlsx", inputs=src)
    _assert_text_cells(out, {INJECTIONS[0], "+1", "-1", "@SUM(A1)", "+cmd|' /C calc'!A0", "=1+1"})


@pytest.mark.slow
def test_formula_text_in_reference_round_trips_through_cli(tmp_path: Path) -> None:
    src = tmp_path / "reference.xlsx"
    shutil.copyfile(REFERENCE, src)
    wb = openpyxl.load_workbook(src)
    ws = wb["Sites"]
    names = {}
    for row, text in zip(range(2, 6), INJECTIONS, strict=False):
        cell = ws.cell(row=row, column=2)  # the name column
        cell.value = text
        cell.data_type = "s"
        names[ws.cell(row=row, column=1).value] = text
    wb.save(src)
    out = tmp_path / "plan.xlsx"
    ran = run_cli("plan", src, "-o", out, "-q", cwd=tmp_path)
    assert ran.returncode == 0, ran.output[-2000:]
    plan = openpyxl.load_workbook(out)
    seen = {}
    header = [c.value for c in plan["Sites"][1]]
    name_col = header.index("name")
    for row in plan["Sites"].iter_rows(min_row=2):
        assert all(c.data_type != "f" for c in row)
        if row[0].value in names:
            assert row[name_col].data_type == "s"
            seen[row[0].value] = row[name_col].value
    plan.close()
    assert seen and all(names[k] == v for k, v in seen.items()), (names, seen)
