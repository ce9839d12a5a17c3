"""Dependencies routes list as ``Annotated`` aliases.

They are ``async`` on purpose: a sync dependency costs a thread-pool hop on every request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..app.services import Services
from ..config import Settings
from ..data.store import RaceStore
from .state import AppState


async def get_state(request: Request) -> AppState:
    return request.app.state.f1a


async def get_services(request: Request) -> Services:
    return request.app.state.f1a.services


async def get_store(request: Request) -> RaceStore:
    return request.app.state.f1a.store


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.f1a.settings


StateDep = Annotated[AppState, Depends(get_state)]
ServicesDep = Annotated[Services, Depends(get_services)]
StoreDep = Annotated[RaceStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
