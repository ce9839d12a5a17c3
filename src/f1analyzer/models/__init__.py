"""Fitted race models: tyres and fuel, pit loss, SC/VSC, start, pace, overtaking, retirements.

``RaceModels().fit(laps, races, pit_stops)`` fits all of them for every circuit in the store;
``load_bundled_models()`` returns the set shipped with the package. See docs/MODELS.md.
"""

from .bundled import load_bundled_models
from .race_models import CircuitModel, RaceModels
from .safety_car import SafetyCarModel
from .tyres import TyreModel

__all__ = ["CircuitModel", "RaceModels", "SafetyCarModel", "TyreModel", "load_bundled_models"]
