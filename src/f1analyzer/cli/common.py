"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..app.services import Services, open_store
from ..backends.cache import MemoryCache
from ..config import get_settings
from ..data.demo import load_demo_if_empty
from ..data.store import RaceStore

console = Console(stderr=True)


def store() -> RaceStore:
    """The store, for commands that read races: an empty one gets the demo races first
    (unless ``F1A_DEMO_ON_EMPTY=false`` or they were removed on purpose)."""
    settings = get_settings()
    st = open_store(settings)
    if settings.demo_on_empty:
        load_demo_if_empty(st)
    return st


def store_for_writing() -> RaceStore:
    """The store as it is (``ingest``: the user's own data goes into an empty store alone)."""
    return open_store(get_settings())


def services() -> Services:
    """The application's services for one command (an in-process cache: a command answers once)."""
    return Services.build(get_settings(), cache=MemoryCache())


def print_json(obj: Any) -> None:
    """JSON on stdout (and only JSON: logs and progress go to stderr)."""
    sys.stdout.write(json.dumps(obj, indent=2, default=_default) + "\n")


def _default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "isoformat"):
        return o.isoformat()
    return str(o)


def number(x, nd: int = 1, plus: bool = False) -> str:
    """A table cell for a number: ``nd`` decimals, ``–`` when unknown, ``+`` on gains with ``plus``."""
    if x is None:
        return "–"
    return f"{'+' if plus and x >= 0 else ''}{float(x):.{nd}f}"


@dataclass(frozen=True)
class Col:
    """One column of a printed table; ``wide``: shown only with ``--wide`` (and always in ``--csv``)."""

    header: str
    wide: bool = False
    justify: str = "left"


def emit_table(cols: list[Col], rows: list[list[Any]], *, as_csv: bool = False, wide: bool = False,
               title: str | None = None, caption: str | None = None) -> None:
    """A table on stdout: CSV (every column) with ``as_csv``; else a table that fits an 80-column
    terminal or a pipe: the default columns, or all with ``wide``. Headers are never cut (issue 15):
    a column is at least as wide as its header and cells wrap instead."""
    keep = [i for i, c in enumerate(cols) if as_csv or wide or not c.wide]
    cells = [["" if row[i] is None else str(row[i]) for i in keep] for row in rows]
    if as_csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow([cols[i].header for i in keep])
        w.writerows(cells)
        return
    t = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for i in keep:
        c = cols[i]
        t.add_column(c.header.replace("[", "\\["), justify=c.justify, min_width=len(c.header), overflow="fold")
    for row in cells:
        t.add_row(*[escape(x) for x in row])
    # a pipe gets 80 columns (rich's default when stdout is not a terminal), --wide as many as it needs
    Console(width=240 if wide and not sys.stdout.isatty() else None).print(t)


CsvFlag = Annotated[bool, typer.Option("--csv", help="Print the table as CSV (every column) on stdout.")]
WideFlag = Annotated[bool, typer.Option("--wide", help="Show every column (the default fits 80 columns).")]
