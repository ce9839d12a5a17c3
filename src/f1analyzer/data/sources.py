"""Where laps come from, behind one small interface.

A :class:`LapSource` hands back, per race (or per file), canonical laps with an ``event`` column
and the :class:`~f1analyzer.data.files.ValidationReport` of what was refused. Ingestion does the
rest (compound codes, race rows, the atomic store write), so every source is validated and
stored the same way.

Built-in sources (listed in :data:`DEFAULT_SOURCES`, like Datasette's default plugins):

- ``files`` — :class:`FileSource`, FastF1-format CSV/CSV.gz/Parquet files (offline, the default);
- ``fastf1`` — :class:`~f1analyzer.data.live.FastF1Source`, F1 live timing through FastF1.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import pandas as pd

from .files import ValidationReport, expand_paths, read_lap_file


class Fetched(NamedTuple):
    """One unit a source delivers: canonical laps (plus ``event``) and their validation report."""

    laps: pd.DataFrame
    report: ValidationReport


@runtime_checkable
class LapSource(Protocol):
    """Anything that can deliver the laps of a season (or one round of it)."""

    #: short name stored in the races table's ``source`` column
    name: str

    def fetch(self, season: int, round: int | None = None) -> list[Fetched]:
        """Laps of ``season`` (all rounds the source has, or only ``round``)."""
        ...


class FileSource:
    """FastF1-format lap files (and folders of them) as a :class:`LapSource`.

    Args:
        paths: files (.csv, .csv.gz, .parquet) or folders.
        season: season of every file; default: the four-digit year in each file name.
    """

    name = "files"

    def __init__(self, paths: Sequence[Path | str], *, season: int | None = None):
        self.paths = [Path(p) for p in paths]
        self.season = season

    def fetch(self, season: int | None = None, round: int | None = None) -> list[Fetched]:
        out: list[Fetched] = []
        for f in expand_paths(self.paths):
            laps, report = read_lap_file(f, season=self.season)
            if season is not None and report.season != int(season):
                continue
            if round is not None:
                laps = laps[laps["round"] == int(round)].reset_index(drop=True)
            out.append(Fetched(laps, report))
        return out


def _fastf1_source(**kwargs) -> LapSource:
    # live imports this module (cycle); the live source is optional at run time
    from .live import FastF1Source

    return FastF1Source(**kwargs)


#: name → factory of the built-in sources
DEFAULT_SOURCES = {
    "files": FileSource,
    "fastf1": _fastf1_source,
}

__all__ = ["Fetched", "LapSource", "FileSource", "DEFAULT_SOURCES"]
