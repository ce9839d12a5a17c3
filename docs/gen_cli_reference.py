"""Write docs/cli-reference.md from the CLI's own --help (``make docs``).

tests/test_docs.py fails when the committed reference differs from what this prints, so the
reference can never drift from the commands.
"""

from __future__ import annotations

import os
import sys

from typer.testing import CliRunner

from f1analyzer.cli import app


def commands() -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    out: list[list[str]] = [[]]
    for name, cmd in sorted(group.commands.items()):
        out.append([name])
        for sub in sorted(getattr(cmd, "commands", {}) or {}):
            out.append([name, sub])
    return out


def render() -> str:
    runner = CliRunner()
    env = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}
    parts = ["# CLI reference", "", "Generated from `--help` by `docs/gen_cli_reference.py` (`make docs`).", ""]
    for path in commands():
        res = runner.invoke(app, [*path, "--help"], env=env, prog_name="f1analyzer")
        title = " ".join(["f1analyzer", *path])
        parts += [f"## `{title}`", "", "```", res.output.rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    os.environ.setdefault("COLUMNS", "100")
    sys.stdout.write(render())
