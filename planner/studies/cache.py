"""The resume cache: one JSON file per solved set of effective inputs and solver settings."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from planner.inputs.data import PlanningData
from planner.studies.scenarios import effective_hash
from planner.studies.worker import CACHEABLE, Result

CACHE_VERSION = 1


def result_key(data: PlanningData, *, mip_gap: float | None, time_limit_s: float | None) -> str:
    """Cache key: the effective inputs and the solver settings that change the answer."""
    st = data.settings
    solver = {
        "mip_gap": st.mip_gap if mip_gap is None else mip_gap,
        "time_limit_s": st.time_limit_s if time_limit_s is None else time_limit_s,
        "threads": 1,
        "version": CACHE_VERSION,
    }
    text = json.dumps({"inputs": effective_hash(data), "solver": solver}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def read_cache(path: Path) -> Result | None:
    try:
        with open(path) as fh:
            result = json.load(fh)
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) and result.get("status") in CACHEABLE else None


def write_cache(path: Path, result: Result) -> None:
    if result.get("status") not in CACHEABLE:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        json.dump(result, fh, allow_nan=False, default=str)
    os.replace(tmp, path)
