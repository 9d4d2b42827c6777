"""What every command shares: capped problem lists, output paths, writability probes."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli.common import output_path, report_problems, writable_folder
from planner.inputs.problems import Problem


def test_a_long_problem_list_is_capped_with_a_count(capsys: pytest.CaptureFixture[str]) -> None:
    problems = [Problem("Runs", f"duplicate run_id R{i}", row=i + 2) for i in range(1000)]
    report_problems(problems, limit=50)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 52
    assert "950 more error(s)" in lines[-2] and "1000 error(s) found" in lines[-1]


def test_output_path_names_a_file_in_a_folder(tmp_path: Path) -> None:
    workbook = Path("inputs/my-sites.xlsx")
    assert output_path(None, workbook, "plan") == Path("outputs/my-sites-plan.xlsx")
    assert output_path(tmp_path, workbook, "plan") == tmp_path / "my-sites-plan.xlsx"
    assert output_path(tmp_path / "x.xlsx", workbook, "plan") == tmp_path / "x.xlsx"


def test_writable_folder_says_why_not(tmp_path: Path) -> None:
    assert writable_folder(tmp_path / "new" / "plan.xlsx") is None
    blocker = tmp_path / "file"
    blocker.write_text("")
    why = writable_folder(blocker / "plan.xlsx")
    assert why is not None and str(blocker) in why
