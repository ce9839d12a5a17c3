"""`f1analyzer demo load` and `f1analyzer demo remove`: the bundled demo races (issue 15)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..data.demo import WHOLE_SEASONS_HINT, load_demo, remove_demo
from .common import console, print_json, store_for_writing

app = typer.Typer(help="The bundled demo races (four 2024 Grands Prix, loaded into an empty store on first start).",
                  no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print [{season, round}] as JSON.")]


@app.command("load")
def load(as_json: JsonFlag = False) -> None:
    """Load the demo races (again): Bahrain, Monaco, Italy and Singapore 2024. Idempotent."""
    loaded = load_demo(store_for_writing())
    if as_json:
        print_json([{"season": s, "round": r} for s, r in loaded])
        return
    console.print(f"Loaded {len(loaded)} demo race(s): " + ", ".join(f"{s} round {r}" for s, r in loaded))


@app.command("remove")
def remove(as_json: JsonFlag = False) -> None:
    """Remove the demo races (your own races stay); they are not loaded again on an empty store."""
    removed = remove_demo(store_for_writing())
    if as_json:
        print_json([{"season": s, "round": r} for s, r in removed])
        return
    console.print(f"Removed {len(removed)} demo race(s). {WHOLE_SEASONS_HINT}", soft_wrap=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="demo")
