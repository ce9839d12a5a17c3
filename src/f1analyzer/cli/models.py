"""`f1analyzer train` and `f1analyzer evaluate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..config import get_settings
from .common import Col, CsvFlag, console, emit_table, print_json, store


def _bar(disable: bool) -> Progress:
    return Progress(TextColumn("[bold]{task.fields[what]}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.description}"), TimeElapsedColumn(), console=console, disable=disable)


def train(
    start_year: Annotated[int, typer.Option("--start-year", help="First season to train on.")] = 2018,
    end_year: Annotated[int, typer.Option("--end-year", help="Last season (also the evaluation season).")] = 2024,
    quick: Annotated[bool, typer.Option("--quick", help="Small subset: the 2 latest seasons in range, "
                                        "first 8 rounds each, smaller boosters (< 30 s).")] = False,
    init_vectordb: Annotated[bool, typer.Option("--init-vectordb",
                                                help="Build the knowledge index afterwards.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the training report as JSON.")] = False,
) -> None:
    """Fit the race models and the learned lap-time/pit-stop models, evaluate, register.

    Seasons missing from the store are ingested from $F1_DATA_DIR/laps when it is set; seasons with no data anywhere are skipped and reported.
    """
    # training pulls in LightGBM and the index build the embedder: load them for this command only
    from ..app.admin import build_knowledge_index
    # loaded by this command only: keeps `f1analyzer --help` and other commands fast
    from ..models.training import train as run_train

    settings = get_settings()
    with _bar(as_json) as bar:
        task = bar.add_task("", total=8, what="train")

        def progress(desc: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=desc)

        report = run_train(settings, start_year, end_year, quick=quick, progress=progress)
    index_msg = None
    if init_vectordb:
        with _bar(as_json) as bar:
            task = bar.add_task("", total=None, what="index")

            def index_progress(done: int, total: int | None = None, *_args, **_kwargs) -> None:
                bar.update(task, completed=done, total=total, description="embedding documents")

            _built, index_msg = build_knowledge_index(settings, progress=index_progress)
    if as_json:
        print_json({**report.to_dict(), "knowledge_index": index_msg})
        return
    out = Console()
    if report.skipped_message:
        out.print(f"[yellow]{report.skipped_message}[/]")
    if report.ingested_seasons:
        out.print(f"ingested from F1_DATA_DIR: {', '.join(map(str, report.ingested_seasons))}")
    out.print(f"trained on {', '.join(map(str, report.seasons))}{' (quick subset)' if report.quick else ''}: "
              f"{report.n_laps} laps, data {report.data_hash}")
    out.print(f"race models: {report.race_models}")
    if report.evaluation:
        _print_evaluation(out, report.evaluation)
    out.print(f"registered model set [bold]{report.version}[/] in {report.timings_s.get('total')} s")
    if index_msg:
        out.print(index_msg)


def _fmt(v) -> str:
    return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


EVALUATION_COLUMNS = [Col("task"), Col("model", justify="right"), Col("baseline", justify="right"),
                      Col("baseline is", wide=True), Col("improvement", justify="right"),
                      Col("n laps", wide=True, justify="right")]


def _evaluation_rows(ev: dict) -> list[list]:
    one, st, pit = ev["one_lap_ahead"], ev["stint_forecast"], ev["pit_stop"]
    return [["one lap ahead, MAE s", _fmt(one["mae_s"]), _fmt(one["baseline_mae_s"]), "persistence",
             f"{one['improvement_pct']} %", one["n_laps"]],
            ["stint forecast, MAE s", _fmt(st["mae_s"]), _fmt(st["baseline_mae_s"]), "constant level",
             f"{st['improvement_pct']} %", st["n_laps"]],
            ["pit in 3 laps, PR-AUC", _fmt(pit.get("pr_auc")), _fmt(pit.get("base_rate")), "base rate",
             f"brier {_fmt(pit.get('brier'))}", pit["n_laps"]]]


def _print_evaluation(out: Console, ev: dict) -> None:
    t = Table(title=f"evaluation on {ev['season']} (trained on {', '.join(map(str, ev['train_seasons']))})")
    for col in EVALUATION_COLUMNS:
        t.add_column(col.header)
    for row in _evaluation_rows(ev):
        t.add_row(*[str(x) for x in row])
    out.print(t)
    rel = ev["pit_stop"].get("reliability")
    if rel:
        r = Table(title="pit-stop calibration (10 bins)")
        for col in ("predicted", "n", "mean predicted", "observed"):
            r.add_column(col)
        for row in rel:
            r.add_row(row["bin"], str(row["n"]), _fmt(row["mean_predicted"]), _fmt(row["observed"]))
        out.print(r)


def evaluate(
    season: Annotated[int, typer.Option("--season",
                                        help="Season to score; the models train on the seasons before it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    predictions: Annotated[Optional[Path], typer.Option("--predictions", help="Write one_lap_ahead.csv and "
                                                        "stint_forecast.csv into this folder.")] = None,
    as_csv: CsvFlag = False,
) -> None:
    """Evaluate the learned models on one season, each figure next to its baseline."""
    # loaded by this command only: keeps `f1analyzer --help` and other commands fast
    from ..models.evaluate import evaluate_season

    with _bar(as_json or as_csv) as bar:
        task = bar.add_task("", total=4, what="evaluate")

        def progress(msg: str) -> None:
            bar.update(task, advance=1, description=msg)

        report = evaluate_season(store(), season, progress=progress)
    written = report.write_predictions(predictions) if predictions else []
    if as_json:
        print_json({**report.to_dict(), "predictions": [str(p) for p in written]})
        return
    if as_csv:  # the evaluation table, every column
        emit_table(EVALUATION_COLUMNS, _evaluation_rows(report.to_dict()), as_csv=True)
        return
    out = Console()
    _print_evaluation(out, report.to_dict())
    for p in written:
        out.print(f"wrote {p}")


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(evaluate)
