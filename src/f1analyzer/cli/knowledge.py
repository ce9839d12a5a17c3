"""`f1analyzer index` and `f1analyzer query`: build the knowledge base and ask it questions."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..config import get_settings
from ..errors import InvalidRequestError
from .common import console, print_json, store


def progress_bar(disable: bool = False) -> tuple[Progress, object]:
    """A rich bar and a ``progress(done, total)`` callback that drives it (``build_index``'s
    progress contract: called after each embedded batch, ``(0, 0)`` when nothing is new)."""
    bar = Progress(TextColumn("[bold]index"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=console, disable=disable)
    task = bar.add_task("embedding", total=None)

    def progress(done: int, total: int) -> None:
        if total:
            bar.update(task, completed=done, total=total)
        else:  # nothing new to embed: show a full bar
            bar.update(task, completed=1, total=1)

    return bar, progress


def index(
    action: Annotated[Optional[str], typer.Argument(
        help="'build' (the default) or 'status'.", show_default=False)] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Clear the index first and embed "
                                                            "every document again.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Build the knowledge index (race, circuit, season and rule documents); idempotent.

    Documents come from the race store (or, when it is empty, the documents shipped with the
    package) and the fitted race models. Ids are stable, so running it again writes nothing new.
    """
    # loaded by this command only: keeps `f1analyzer --help` and other commands fast
    from ..knowledge.build import build_index, get_knowledge_base

    settings = get_settings()
    action = (action or "build").lower()
    if action == "status":
        kb = get_knowledge_base(settings)
        report = {"backend": settings.vector_backend, "path": str(settings.index_dir),
                  "documents": kb.count(), "healthy": kb.healthy()}
        if as_json:
            print_json(report)
        else:
            Console().print(f"{report['documents']} documents in the {report['backend']} index "
                            f"at {report['path']} ({'healthy' if report['healthy'] else 'NOT readable'})")
        return
    if action != "build":
        raise InvalidRequestError(f"Unknown index action {action!r}; use 'build' or 'status'.")
    bar, progress = progress_bar(disable=as_json)
    with bar:
        report = build_index(settings, progress=progress, store=store(), rebuild=rebuild)
    out = {"written": report.written, "unchanged": report.unchanged, "total": report.total,
           "backend": settings.vector_backend, "path": str(settings.index_dir)}
    if as_json:
        print_json(out)
        return
    Console().print(f"knowledge index: {report.written} written, {report.unchanged} unchanged, "
                    f"{report.total} documents ({settings.vector_backend} at {settings.index_dir})")


def query(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=20, help="Passages to retrieve.")] = 5,
    season: Annotated[Optional[int], typer.Option("--season", help="Only this season.")] = None,
    event: Annotated[Optional[str], typer.Option(
        "--event", help="Only this event, circuit or location ('Monza', 'Hungarian GP').")] = None,
    driver: Annotated[Optional[str], typer.Option("--driver", help="Only documents about this "
                                                                   "driver (code or surname).")] = None,
) -> None:
    """Ask the knowledge base: the answer cites the retrieved documents as numbered references (\\[1], \\[2] …)."""
    from ..app.knowledge import answer_query  # loads the retrieval stack: only for this command
    # loaded by this command only: keeps `f1analyzer --help` and other commands fast
    from ..app.requests import QueryRequest

    filters = {k: v for k, v in {"season": season, "event": event, "driver": driver}.items() if v is not None}
    out = answer_query(QueryRequest.of({"query": question, "top_k": top_k, "filters": filters or None}),
                       settings=get_settings())
    if as_json:
        out = {k: v for k, v in out.items() if k not in ("usage", "model")}
        print_json(out)
        return
    con = Console()
    con.print(out["answer"], markup=False, highlight=False)
    con.print()
    for n, s in enumerate(out["sources"], start=1):
        con.print(f"[{n}] {s['id']}  {s['title']}  (score {s['score']:.4f})", markup=False,
                  highlight=False)
    foot = f"{out['provider']}, {out['latency_ms']:.0f} ms"
    if out.get("fallback_reason"):
        foot += f" (fallback: {out['fallback_reason']})"
    console.print(foot, markup=False, highlight=False, style="dim")


def register(app: typer.Typer) -> None:
    app.command()(index)
    app.command()(query)
