"""`f1analyzer ingest` and `f1analyzer races`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..data.circuits import fan_name
from ..data.demo import WHOLE_SEASONS_HINT
from ..data.files import expand_paths
from ..data.ingest import ingest_files
from ..data.schema import SPRINT, check_session
from ..config import get_settings
from ..errors import InvalidRequestError
from .common import Col, CsvFlag, WideFlag, console, emit_table, print_json, store, store_for_writing


def ingest(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="FastF1-format lap files (.csv, .csv.gz, .parquet) or folders.")] = None,
    season: Annotated[Optional[int], typer.Option(help="Season of the files (default: the year in each file name).")] = None,
    compounds: Annotated[Optional[Path], typer.Option(help="compound_selection.toml (default: one next to the files).")] = None,
    live: Annotated[bool, typer.Option("--live", help="Fetch from F1 live timing through FastF1 (needs the internet).")] = False,
    round_: Annotated[Optional[int], typer.Option("--round", help="With --live: one round only.")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="With --live: every completed race of the current season not yet stored.")] = False,
    session: Annotated[Optional[str], typer.Option(help="race or sprint for every file (default: sprint for files in a sprint/ folder or named *sprint*, race otherwise).")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Write a file even when it drops more than the allowed share (F1A_INGEST_MAX_DROP_SHARE, default 10%) of a stored race's or season's laps.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Ingest race (and sprint) laps into the store (idempotent per season, session and round; atomic).

    Rows outside the physical bounds (docs/DATA.md) are rejected and counted by reason; a file
    that would shrink a stored race or season by more than the allowed share is refused unless
    --replace is given."""
    st = store_for_writing()
    if live or latest:
        if paths:
            raise InvalidRequestError("give lap files or --live/--latest, not both")
        # loaded by this command only: keeps `f1analyzer --help` and other commands fast
        from ..data.live import ingest_live

        _quiet_fastf1()
        results = ingest_live(st, season=season, round_=round_, latest=latest, compounds_file=compounds)
        if not results and not as_json:
            console.print("Nothing new to fetch: every completed race is already stored.")
    else:
        if not paths:
            raise InvalidRequestError("give at least one lap file or folder (or --live / --latest)")
        if session is not None:
            check_session(session, allow_all=False)
        if round_ is not None:
            raise InvalidRequestError("--round needs --live (files are ingested whole)")
        files = expand_paths(paths)
        with Progress(TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                      disable=as_json, transient=True) as bar:
            task = bar.add_task("", total=len(files))

            def step(path: Path, _res) -> None:
                bar.update(task, advance=1, description=path.name)

            results = ingest_files(files, st, season=season, compounds_file=compounds, on_file=step,
                                   session=session, replace=replace,
                                   max_drop_share=get_settings().ingest_max_drop_share)
    if as_json:
        print_json([r.to_dict() for r in results])
    else:
        for r in results:
            if r.ok:
                rep = r.report
                kind = "sprint(s)" if r.session == SPRINT else "race(s)"
                line = f"[green]✓[/] {escape(r.source)}: season {r.season}, {len(r.rounds)} {kind}"
                if rep is not None:
                    line += f", {rep.rows_kept} laps, {rep.rejected} rejected"
                console.print(line, soft_wrap=True)
                if rep is not None and rep.rejected:
                    console.print("   " + rep.summary(), style="yellow", soft_wrap=True, markup=False)
            else:
                console.print(f"[red]✗[/] {escape(r.error or '')}", soft_wrap=True)
    refused = [r for r in results if not r.ok]
    if refused:
        raise typer.Exit(code=1)


def _quiet_fastf1() -> None:
    """FastF1 logs every request at INFO; keep its output to warnings unless -v was given."""
    import logging

    # loaded by this command only: keeps `f1analyzer --help` and other commands fast
    from ..log import get_logger

    if get_logger().getEffectiveLevel() > logging.INFO:
        import fastf1

        fastf1.set_log_level("WARNING")


def races(
    season: Annotated[Optional[int], typer.Option(help="Only this season.")] = None,
    session: Annotated[str, typer.Option(help="race, sprint or all.")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="JSON list of {season, round, session, event, circuit, laps, drivers, rejected, rejected_reasons, demo}.")] = False,
    as_csv: CsvFlag = False,
    wide: WideFlag = False,
) -> None:
    """List the races (Grands Prix and sprints) in the store. Demo races are marked "demo"."""
    st = store()
    df = st.races(season, session=check_session(session))
    for (bad, sess), why in st.unreadable().items():  # skipped above: say so where the user looks
        typer.secho(f"warning: season {bad} ({sess}) cannot be read ({why}); re-ingest it or remove its file",
                    err=True, fg=typer.colors.YELLOW)
    for rej in st.rejections(season, session=check_session(session)):  # rows that belong to no race
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(rej["reasons"].items(), key=lambda kv: -kv[1]))
        typer.secho(f"warning: season {rej['season']} ({rej['session']}): {rej['rows']} row(s) of "
                    f"{rej['source']} were rejected and belong to no stored race ({reasons})",
                    err=True, fg=typer.colors.YELLOW)
    if as_json:
        cols = ["season", "round", "session", "event", "laps", "drivers", "rejected", "rejected_reasons",
                "circuit_key", "total_laps", "compounds", "demo"]
        rows = df[cols].to_dict("records")
        for r in rows:
            r["circuit"] = fan_name(r["circuit_key"])
        print_json(rows)
        return
    if df.empty and not as_csv:
        console.print("No races stored. Try: f1analyzer ingest $F1_DATA_DIR/laps, or f1analyzer demo load. "
                      + WHOLE_SEASONS_HINT, soft_wrap=True)
        return
    cols = [Col("season"), Col("round", justify="right"), Col("event"), Col("circuit"),
            Col("race laps", justify="right"), Col("compounds"), Col("session", wide=True),
            Col("circuit key", wide=True), Col("lap rows", wide=True, justify="right"),
            Col("drivers", wide=True, justify="right"), Col("rejected", wide=True, justify="right")]
    rows = [[r.season, r.round, str(r.event).replace("Grand Prix", "GP")
             + (" (sprint)" if r.session == SPRINT else "") + (" (demo)" if r.demo else ""),
             fan_name(r.circuit_key), r.total_laps, " ".join(r.compounds), r.session, r.circuit_key,
             r.laps, r.drivers, r.rejected] for r in df.itertuples()]
    emit_table(cols, rows, as_csv=as_csv, wide=wide)
    if df["demo"].any() and not as_csv:
        console.print("(demo): a bundled demo race; `f1analyzer demo remove` removes them. " + WHOLE_SEASONS_HINT,
                      style="dim", soft_wrap=True, markup=False)


def sql(
    query: Annotated[str, typer.Argument(help="One read-only statement over laps, races, stints, pit_stops (each with a session column: race or sprint).")],
    as_json: Annotated[bool, typer.Option("--json", help="Rows as a JSON list of objects.")] = False,
    max_rows: Annotated[int, typer.Option(help="At most this many rows.")] = 10_000,
    as_csv: CsvFlag = False,
) -> None:
    """Query the store with SQL (DuckDB), e.g. f1analyzer sql "SELECT driver, count(*) FROM pit_stops GROUP BY 1"."""
    # loaded by this command only: keeps `f1analyzer --help` and other commands fast
    from ..data.sql import run_sql

    df = run_sql(store(), query, max_rows=max_rows)
    if as_json:
        print_json(df.to_dict("records"))
        return
    emit_table([Col(str(c)) for c in df.columns], [list(row) for row in df.itertuples(index=False)],
               as_csv=as_csv, wide=True)


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.command()(races)
    app.command()(sql)
