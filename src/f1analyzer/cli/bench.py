"""`f1analyzer bench simulate`: how fast the Monte Carlo simulator runs on this machine.

The lead registers it with ``app.add_typer(bench.app, name="bench")``.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(name="bench", help="Measure simulator speed.", no_args_is_help=True,
                  add_completion=False)


@app.callback()
def _bench() -> None:
    """Measure simulator speed (synthetic race, no data needed)."""


@app.command("simulate")
def simulate_cmd(
    sims: Annotated[int, typer.Option("--sims", min=1, help="Races per timed run.")] = 10_000,
    cars: Annotated[int, typer.Option("--cars", min=1, max=127, help="Cars in the field.")] = 20,
    laps: Annotated[int, typer.Option("--laps", min=2, help="Race distance in laps.")] = 60,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Timed runs (median reported).")] = 3,
    threads: Annotated[int | None, typer.Option(
        "--threads", min=1, max=64,
        help="Threads per simulation call (default: the F1A_SIM_THREADS setting, 0 = the cores, at most 4).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Simulate a synthetic full-field race and print races per second."""
    # loaded by this command only: keeps `f1analyzer --help` and other commands fast
    from ..simulation.benchmark import measure_simulate
    # loaded by this command only: keeps `f1analyzer --help` and other commands fast
    from .common import print_json

    r = measure_simulate(sims, cars, laps, repeats=repeats, threads=threads)
    if as_json:
        print_json(r)
        return
    typer.echo(f"races_per_second: {r['races_per_second']:,.0f}")
    for key in ("cars", "laps", "sims", "sim_threads"):
        typer.echo(f"{key}: {r[key]}")
    typer.echo(f"seconds: {r['seconds']:.3f}")
