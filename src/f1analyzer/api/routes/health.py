from __future__ import annotations

from fastapi import APIRouter

from ... import __version__
from ..deps import StateDep
from ..errors import scrub_paths
from ..schemas.health import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Is each part of the service working?")
async def health(state: StateDep) -> Health:
    """Async, and its checks run on their own threads (``AppState._health_pool``): slow work
    (simulations, LLM calls) never makes a probe wait for a thread."""
    components = await state.acomponent_status()
    reasons = [f"{name} is not available" for name, ok in components.items() if not ok]
    reasons += await state.adegraded()
    reasons = [scrub_paths(r)[0] for r in reasons]  # probes are public: no server paths
    return Health(status="healthy" if not reasons else "degraded", components=components,
                  reasons=reasons, version=__version__)
