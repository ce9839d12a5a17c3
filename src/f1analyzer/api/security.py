"""API keys: ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``.

- Public endpoints take a key optionally (it becomes the client's rate-limit identity); with
  ``require_api_key`` they need one. A key that is given but wrong is refused (403) everywhere,
  so nobody can dodge the per-client limit by inventing keys.
- Admin endpoints always need a valid key: 401 without one, 403 with a wrong one (and 403 when
  no ``API_KEYS`` are configured at all: admin is then disabled).

Keys are compared in constant time (:func:`hmac.compare_digest` over SHA-256 digests, so the
length does not leak either) and never logged; the rate limiter only sees a digest.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

API_KEY_HEADER = "X-API-Key"

_api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                               description="One of the server's API_KEYS.")
_bearer_scheme = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API key>`.")


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()


def key_id(key: str) -> str:
    """A short non-reversible id of a key (rate-limit identity, job owner); never the key."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def key_is_valid(candidate: str | None, keys: list[str]) -> bool:
    """True when ``candidate`` equals one of ``keys`` (constant time, every key compared)."""
    if not candidate or not keys:
        return False
    c = _digest(candidate)
    ok = False
    for k in keys:
        ok |= hmac.compare_digest(c, _digest(k))
    return ok


def key_from_headers(headers) -> str | None:
    """The presented key from ``X-API-Key`` or ``Authorization: Bearer`` (None when absent)."""
    key = headers.get(API_KEY_HEADER.lower()) or headers.get(API_KEY_HEADER)
    if key:
        return key.strip() or None
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def require_admin_key(
    request: Request,
    api_key: Annotated[str | None, Depends(_api_key_scheme)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)] = None,
) -> str:
    """Dependency of every admin route; returns the key's id (for job records)."""
    key = api_key or (bearer.credentials if bearer else None)
    if not key:
        raise _unauthorized(f"This endpoint needs an API key ({API_KEY_HEADER} header or "
                            "'Authorization: Bearer <key>').")
    keys = request.app.state.f1a.settings.api_key_values
    if not keys:
        raise HTTPException(status_code=403, detail="Admin endpoints are disabled: the server "
                            "has no API_KEYS configured.")
    if not key_is_valid(key, keys):
        raise HTTPException(status_code=403, detail="The API key is not valid.")
    return key_id(key)


AdminKeyDep = Annotated[str, Depends(require_admin_key)]


async def require_metrics_token(request: Request) -> None:
    """``GET /metrics`` guard: with ``settings.metrics_token`` set, the scraper must send
    ``Authorization: Bearer <token>`` (401 without, 403 with a wrong one); unset, the route is
    open (bind the port to a private network; see docs/SECURITY.md)."""
    token = request.app.state.f1a.settings.secret("metrics_token")
    if not token:
        return
    auth = request.headers.get("authorization", "")
    scheme, _, given = auth.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise _unauthorized("/metrics needs 'Authorization: Bearer <metrics token>'.")
    if not key_is_valid(given.strip(), [token]):
        raise HTTPException(status_code=403, detail="The metrics token is not valid.")
