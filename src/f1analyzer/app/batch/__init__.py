"""Season-scale batch work on an executor (:mod:`f1analyzer.app.executors`).

============================  ===============================================================
function                      answers
============================  ===============================================================
:func:`backtest_seasons`      the backtest of one or several seasons, one task per race
:func:`season_preview`        pre-race optimum and expected points of every driver at every race
:func:`sweep`                 the pre-race optimum across values of one model parameter
============================  ===============================================================
"""

from __future__ import annotations

from .backtest import backtest_seasons
from .preview import COLUMNS as PREVIEW_COLUMNS
from .preview import season_preview
from .sweep import PARAMETERS, parse_values, sweep

__all__ = ["backtest_seasons", "season_preview", "sweep", "parse_values", "PARAMETERS", "PREVIEW_COLUMNS"]
