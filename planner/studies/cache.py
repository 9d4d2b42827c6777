"""The resume cache: one JSON file per solved set of effective inputs and solver settings."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from planner.inputs.data import PlanningData
from planner.studies.scenarios import effective_hash
from planner.studies.worker import CACHEABLE, Result

# 2: version and hash in each entry; 3: Constraints, model size; 4: co2_t; 5: infeasible
# results carry their diagnosis (and the limits it keeps are part of the key).
CACHE_VERSION = 5


def result_key(
    data: PlanningData,
    *,
    mip_gap: float | None,
    time_limit_s: float | None,
    keep: Sequence[str] = (),
) -> str:
    """Cache key: the effective inputs and the solver settings that change the answer
    (and the limits an infeasible scenario's diagnosis keeps)."""
    st = data.settings
    solver: dict[str, Any] = {
        "mip_gap": st.mip_gap if mip_gap is None else mip_gap,
        "time_limit_s": st.time_limit_s if time_limit_s is None else time_limit_s,
        "threads": 1,
        "version": CACHE_VERSION,
    }
    if keep:
        solver["keep"] = sorted(keep)
    text = json.dumps({"inputs": effective_hash(data), "solver": solver}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def planner_version() -> str:
    try:
        return metadata.version("ai-compute-planner")
    except metadata.PackageNotFoundError:
        return "unknown"


def _digest(result: Result) -> str:
    text = json.dumps(result, sort_keys=True, allow_nan=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def read_cache(path: Path, warn: Callable[[str], object] | None = None) -> Result | None:
    """A cached result, or None when absent or not to be trusted: an entry whose content
    does not match its hash (a damaged or edited file), or that an other planner version
    wrote, is solved again (with a warning saying why)."""
    try:
        with open(path) as fh:
            entry = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        entry = None
    why = None
    if not isinstance(entry, dict) or not isinstance(entry.get("result"), dict):
        why = "unreadable"
    elif entry.get("planner_version") != planner_version():
        why = f"written by planner {entry.get('planner_version')}, not {planner_version()}"
    elif entry.get("sha256") != _digest(entry["result"]):
        why = "its content does not match its hash"
    if why is not None:
        if warn is not None:
            warn(f"warning: cache entry {path.name} ignored ({why}); solving again")
        return None
    result: Result = entry["result"]
    return result if result.get("status") in CACHEABLE else None


def write_cache(path: Path, result: Result) -> None:
    """Atomically, with the planner version and a hash of the content."""
    if result.get("status") not in CACHEABLE:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # Round-trip once so the hash is of exactly what a reader will load.
    plain = json.loads(json.dumps(result, allow_nan=False, default=str))
    entry = {"planner_version": planner_version(), "sha256": _digest(plain), "result": plain}
    with open(tmp, "w") as fh:
        json.dump(entry, fh, allow_nan=False)
    os.replace(tmp, path)
