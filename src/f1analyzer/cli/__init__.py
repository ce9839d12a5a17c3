"""The ``f1analyzer`` command: ingest, inspect, train, simulate, ask and serve.

Each command group lives in its own module and is registered here. Errors the package raises on
purpose are printed as one readable line and exit with code 1; nothing prints a traceback at a
user unless ``DEBUG=true``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import __version__
from ..config import get_settings, reset_settings
from ..errors import F1AnalyzerError
from ..log import configure_logging, redact, register_secrets
from . import batch as batch_cmds
from . import bench as bench_cmds
from . import circuit as circuit_cmds
from . import data as data_cmds
from . import demo as demo_cmds
from . import follow as follow_cmds
from . import knowledge as knowledge_cmds
from . import models as models_cmds
from . import serve as serve_cmds
from . import strategy as strategy_cmds

app = typer.Typer(
    name="f1analyzer",
    help="F1 Race Strategy Analyzer: race data, race models, strategy simulation and answers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"f1analyzer {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    home: Annotated[Optional[Path], typer.Option(
        "--home", help="State directory (store, models, index). Default: $F1A_HOME or ~/.f1analyzer.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show info logs.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    if home is not None:
        # an environment variable, so that servers started from here see the same home
        os.environ["F1A_HOME"] = str(home.expanduser().resolve())
        reset_settings()
    configure_logging("INFO" if verbose else "WARNING")
    register_secrets(get_settings().secret_values())


data_cmds.register(app)
knowledge_cmds.register(app)
serve_cmds.register(app)
models_cmds.register(app)
circuit_cmds.register(app)
strategy_cmds.register(app)
batch_cmds.register(app)
follow_cmds.register(app)
demo_cmds.register(app)
app.add_typer(bench_cmds.app, name="bench")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    try:
        rv = app(args=argv, standalone_mode=False)
        if isinstance(rv, int) and rv:
            return rv
    except F1AnalyzerError as exc:
        typer.secho(redact(f"error: {exc.message}"), err=True, fg=typer.colors.RED)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # click usage errors and the like
        # typer vendors its own click: recognise usage errors by shape, not by class
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return exc.exit_code
        if os.environ.get("DEBUG", "").lower() in ("1", "true", "yes"):
            import traceback  # only on this path

            # the plain traceback (no locals), through the secret redactor
            typer.echo(redact(traceback.format_exc()), err=True)
            return 1
        typer.secho(redact(f"error: unexpected {type(exc).__name__}: {exc} (set DEBUG=true for a traceback)"),
                    err=True, fg=typer.colors.RED)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
