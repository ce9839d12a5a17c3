"""What the server loads once at start-up and shares between requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..config import Settings
from ..data.store import RaceStore
from ..log import get_logger

log = get_logger("api.state")

#: seed's /health component names, in order
COMPONENTS = ("data_collector", "vector_database", "strategy_generator", "ml_models")


@dataclass
class AppState:
    settings: Settings
    store: RaceStore
    #: component name → check returning True only when that part really works
    health_checks: dict[str, Callable[["AppState"], bool]] = field(default_factory=dict)
    #: extra services attached by subsystems (model set, knowledge base, cache...)
    services: dict[str, object] = field(default_factory=dict)
    #: why the service is degraded although its components work (e.g. cache unreachable)
    degraded_reasons: dict[str, Callable[["AppState"], str | None]] = field(default_factory=dict)

    def component_status(self) -> dict[str, bool]:
        out = {}
        for name in COMPONENTS:
            check = self.health_checks.get(name)
            try:
                out[name] = bool(check(self)) if check else False
            except Exception as exc:  # a failing check means the part does not work
                log.warning("health check %s failed: %s", name, exc)
                out[name] = False
        return out

    def degraded(self) -> list[str]:
        reasons = []
        for name, fn in self.degraded_reasons.items():
            try:
                r = fn(self)
            except Exception as exc:
                r = f"{name}: {exc}"
            if r:
                reasons.append(r)
        return reasons


def data_collector_ok(state: AppState) -> bool:
    """The store opens and answers a query (an empty store works too)."""
    state.store.races()
    return True
