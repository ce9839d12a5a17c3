"""Vectorised Monte Carlo race simulation, strategy optimiser, live advisor and undercut maths.

Typical use::

    from f1analyzer.simulation import simulate, optimise, Strategy
    from f1analyzer.simulation.scenario.demo import demo_race

    race = demo_race()                       # or RaceParams built from the fitted models
    result = optimise(race, "CCC")           # ranked strategies with pit windows
    sims = simulate(race, result.field_strategies, n_sims=10_000, seed=1)
    sims.expected_position("CCC")
"""

from f1analyzer.simulation.planning.advisor import BOX_NOW, BOX_UNDER_RED, BOX_UNDER_SC, STAY_OUT, Advice, advise
from f1analyzer.simulation.core.engine import simulate, simulate_groups
from f1analyzer.simulation.planning.optimiser import OptimisationResult, StrategyOption, optimise
from f1analyzer.simulation.core.params import (
    COMPOUNDS,
    DRY_COMPOUNDS,
    CarParams,
    CompoundParams,
    NeutralisationParams,
    RaceParams,
    TrackStatus,
)
from f1analyzer.simulation.core.result import SimResult
from f1analyzer.simulation.core.rules import TyreRules
from f1analyzer.simulation.planning.screen import default_field_strategies
from f1analyzer.simulation.core.state import RaceState
from f1analyzer.simulation.core.strategy import Strategy
from f1analyzer.simulation.planning.undercut import UndercutResult, undercut

__all__ = [
    "BOX_NOW", "BOX_UNDER_RED", "BOX_UNDER_SC", "STAY_OUT", "Advice", "advise", "simulate", "simulate_groups",
    "OptimisationResult", "StrategyOption", "optimise", "COMPOUNDS", "DRY_COMPOUNDS", "CarParams",
    "CompoundParams", "NeutralisationParams", "RaceParams", "TrackStatus", "SimResult",
    "default_field_strategies", "RaceState", "Strategy", "UndercutResult", "undercut", "TyreRules",
]
