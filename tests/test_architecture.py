"""The layout's rules, checked on the code itself: no import cycles between modules and
no long functions (the layers are import-linter's contract in ``pyproject.toml``)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 80


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every module-level import cycle (depth-first search over direct imports)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for nxt in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[module] = 2

    for module in sorted(graph.modules):
        if module not in state:
            visit(module)
    return cycles


def test_no_module_imports_form_a_cycle() -> None:
    graph = grimp.build_graph("planner", "models")
    assert import_cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.build_graph("planner", "models")
    graph.add_import(importer="planner.inputs.schema", imported="planner.inputs.data")
    assert any("planner.inputs.schema" in c for c in import_cycles(graph))


def long_functions(limit: int) -> list[str]:
    out = []
    for package in ("planner", "models"):
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > limit:
                        out.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({lines})")
    return out


def test_no_function_is_longer_than_80_lines() -> None:
    assert long_functions(MAX_FUNCTION_LINES) == []
