"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from ..app.services import Services, open_store
from ..backends.cache import MemoryCache
from ..config import get_settings
from ..data.store import RaceStore

console = Console(stderr=True)


def store() -> RaceStore:
    return open_store(get_settings())


def services() -> Services:
    """The application's services for one command (an in-process cache: a command answers once)."""
    return Services.build(get_settings(), cache=MemoryCache())


def print_json(obj: Any) -> None:
    """JSON on stdout (and only JSON: logs and progress go to stderr)."""
    sys.stdout.write(json.dumps(obj, indent=2, default=_default) + "\n")


def _default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "isoformat"):
        return o.isoformat()
    return str(o)
