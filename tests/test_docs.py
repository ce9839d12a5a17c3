"""The generated docs are current: ``docs/cli-reference.md`` is what ``docs/gen_cli_reference.py``
prints today (regenerate with ``make docs``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_cli_reference", DOCS / "gen_cli_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_reference_is_current():
    committed = (DOCS / "cli-reference.md").read_text()
    assert committed.rstrip("\n") == _generator().render().rstrip("\n"), (
        "docs/cli-reference.md is stale: run `make docs` (python docs/gen_cli_reference.py > docs/cli-reference.md)")
