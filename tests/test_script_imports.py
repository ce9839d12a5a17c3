"""The benchmark and maintenance scripts import only names the package has.

Why: they run outside the test suite (on the real data, by hand), so a rename in ``src`` can break
them silently — ``benchmarks/bench_predictability.py`` imported a removed helper for a whole session.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*(ROOT / "benchmarks").glob("*.py"), *(ROOT / "scripts").glob("*.py")])


def own_imports(path: Path) -> list[tuple[str, str]]:
    """``(module, name)`` of every ``from f1analyzer... import name`` in a script (any depth)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "f1analyzer":
            out += [(node.module, a.name) for a in node.names]
    return out


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_imported_name_exists(script):
    missing = []
    for module, name in own_imports(script):
        mod = importlib.import_module(module)
        if hasattr(mod, name):
            continue
        try:  # a submodule imported by name
            importlib.import_module(f"{module}.{name}")
        except ModuleNotFoundError:
            missing.append(f"{module}.{name}")
    assert not missing, f"{script.name} imports names the package does not have: {missing}"


def test_the_check_sees_a_missing_name(tmp_path):
    bad = tmp_path / "bench_x.py"
    bad.write_text("def f():\n    from f1analyzer.simulation.scenario.field_plans import era_of\n")
    assert own_imports(bad) == [("f1analyzer.simulation.scenario.field_plans", "era_of")]
    mod = importlib.import_module("f1analyzer.simulation.scenario.field_plans")
    assert not hasattr(mod, "era_of")
