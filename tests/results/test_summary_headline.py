"""Summary opens with the story: status in words, total cost (shown in B USD), where
and what is built, peak power, and the limits that decide the plan."""

from __future__ import annotations

from pathlib import Path

import factory as f
import openpyxl
import pytest

from planner import api


def test_summary_headline(tmp_path: Path) -> None:
    data = f.instance(
        sites=[f.site("S1", country="Norway"), f.site("S2", shell_capex_usd_per_mw=1e6)],
        site_power=[f.site_power("S1"), f.site_power("S2")],
        runs=[f.run(flop=100 * f.per_gpu_flop())],
    )
    res = api.plan(data)
    assert res.status == "optimal"
    out = api.export(res, tmp_path / "plan.xlsx")
    ws = openpyxl.load_workbook(out)["Summary"]
    rows = {r[0].value: r[1] for r in ws.iter_rows(min_row=2, max_row=12)}
    assert list(rows)[:6] == [
        "Plan",
        "Total cost (discounted)",
        "Sites built",
        "Countries",
        "GPUs bought",
        "Peak facility power",
    ]
    assert rows["Plan"].value.startswith("optimal")
    cost = rows["Total cost (discounted)"]
    assert cost.value == pytest.approx(1_000_000)  # 100 GPUs at 10,000 USD at S1
    assert cost.number_format.endswith(',,," B"')  # USD held, B USD shown
    assert rows["Sites built"].value == "S1"
    assert rows["Countries"].value == "Norway"
    assert rows["GPUs bought"].value == "G1 100"
    assert rows["Peak facility power"].value == pytest.approx(0.1)
