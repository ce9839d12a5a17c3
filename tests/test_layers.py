"""The import graph of ``f1analyzer`` keeps its layers (docs/ARCHITECTURE.md):

    base (config, errors, log, backends) < data < models < simulation.core < simulation.planning
    < simulation.scenario < simulation (backtest, benchmark) < knowledge / narration < app
    < api / cli / aws

No module imports one of a higher layer; module-level imports form no cycle; a function-level
import of the project's own code carries a ``#`` comment (on its line or the line above) saying
why it is deferred; no ``except ImportError`` guards an import of the project's own code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "f1analyzer"

#: package prefix → layer (the longest matching prefix wins)
LAYERS = {
    "f1analyzer": 0, "f1analyzer.config": 0, "f1analyzer.errors": 0, "f1analyzer.log": 0,
    "f1analyzer.backends": 0,
    "f1analyzer.data": 1,
    "f1analyzer.models": 2,
    "f1analyzer.simulation.core": 3,
    "f1analyzer.simulation.planning": 4,
    "f1analyzer.simulation.scenario": 5,
    "f1analyzer.simulation": 6,
    "f1analyzer.knowledge": 7, "f1analyzer.narration": 7,
    "f1analyzer.app": 8,
    "f1analyzer.api": 9, "f1analyzer.cli": 9, "f1analyzer.aws": 9,
}


def layer_of(module: str) -> int:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            return LAYERS[key]
    raise KeyError(module)


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module of the project
    line: int
    top_level: bool  # executed at import time (not inside a function)
    commented: bool  # a "#" comment on its line or the line above
    guarded: bool  # inside ``try: ... except ImportError``


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in PKG.rglob("*.py")}


def _resolve(source: str, is_pkg: bool, node: ast.ImportFrom | ast.Import) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "f1analyzer"]
    base = node.module or ""
    if node.level:
        here = source.split(".") if is_pkg else source.split(".")[:-1]
        here = here[: len(here) - (node.level - 1)]
        base = ".".join(here + ([base] if base else []))
    if base.split(".")[0] != "f1analyzer":
        return []
    out = []
    for a in node.names:
        sub = f"{base}.{a.name}"
        out.append(sub if sub in MODULES else base)
    return out


def _imports(path: Path) -> list[Import]:
    source = module_name(path)
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    is_pkg = path.name == "__init__.py"
    found: list[Import] = []

    def commented(lineno: int) -> bool:
        here = lines[lineno - 1]
        above = lines[lineno - 2].strip() if lineno >= 2 else ""
        return "#" in here or above.startswith("#")

    def walk(node: ast.AST, in_function: bool, guarded: bool, type_checking: bool) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for target in _resolve(source, is_pkg, node):
                found.append(Import(source, target, node.lineno, not in_function and not type_checking,
                                    commented(node.lineno), guarded))
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            in_function = True
        if isinstance(node, ast.Try):
            catches = any(h.type is not None and "ImportError" in ast.unparse(h.type) for h in node.handlers)
            for stmt in node.body:
                walk(stmt, in_function, guarded or catches, type_checking)
            for stmt in [*node.handlers, *node.orelse, *node.finalbody]:
                walk(stmt, in_function, guarded, type_checking)
            return
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                walk(stmt, in_function, guarded, True)
            for stmt in node.orelse:
                walk(stmt, in_function, guarded, type_checking)
            return
        for child in ast.iter_child_nodes(node):
            walk(child, in_function, guarded, type_checking)

    walk(tree, False, False, False)
    return found


IMPORTS = [imp for p in sorted(PKG.rglob("*.py")) for imp in _imports(p)]


def test_every_module_has_a_layer():
    assert [m for m in MODULES if not _has_layer(m)] == []


def _has_layer(m: str) -> bool:
    try:
        layer_of(m)
    except KeyError:
        return False
    return True


def test_no_import_from_a_lower_layer_to_a_higher_one():
    upward = [f"{i.source}:{i.line} imports {i.target} (layer {layer_of(i.source)} → {layer_of(i.target)})"
              for i in IMPORTS if layer_of(i.target) > layer_of(i.source)]
    assert upward == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return out


def test_no_module_level_import_cycle():
    edges: dict[str, set[str]] = {}
    for i in IMPORTS:
        if i.top_level and i.target != i.source:
            edges.setdefault(i.source, set()).add(i.target)
    assert _cycles(edges) == []


def test_function_level_imports_of_our_code_say_why():
    silent = [f"{i.source}:{i.line} imports {i.target}" for i in IMPORTS
              if not i.top_level and not i.commented]
    assert silent == []


def test_no_import_error_guard_around_our_code():
    guarded = [f"{i.source}:{i.line} imports {i.target}" for i in IMPORTS if i.guarded]
    assert guarded == []


@pytest.mark.parametrize("low, high", [("f1analyzer.models", "f1analyzer.api"),
                                       ("f1analyzer.simulation.core", "f1analyzer.app")])
def test_the_check_sees_an_upward_import(tmp_path, low, high):
    """The checker itself: an upward import in a module is reported."""
    assert layer_of(high) > layer_of(low)
    node = ast.parse(f"import {high}.x").body[0]
    assert _resolve(f"{low}.m", False, node) == [f"{high}.x"]
