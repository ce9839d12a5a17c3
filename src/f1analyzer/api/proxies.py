"""Who is the client: ``X-Forwarded-For`` believed only from configured proxies.

``settings.trusted_proxies`` (``F1A_TRUSTED_PROXIES`` or ``FORWARDED_ALLOW_IPS``: addresses or
CIDRs; default none) lists the proxies in front of the API. The client is the connection's
address unless that address is a trusted proxy; then it is the right-most ``X-Forwarded-For``
entry that is not itself a trusted proxy. With no trusted proxies the header changes nothing:
a client cannot pick its rate-limit identity by writing a header.

``f1analyzer serve`` starts uvicorn with its own proxy-header handling off, so this module
decides alone. A bare ``uvicorn …:create_app`` keeps uvicorn's (it trusts 127.0.0.1 unless
``FORWARDED_ALLOW_IPS`` says otherwise) and may already have replaced the address with a header
entry; :func:`client_address` notices a replacement these settings do not endorse and counts
such requests under one shared :data:`UNVERIFIED` identity instead of the address the header
named.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.types import ASGIApp, Receive, Scope, Send

UNVERIFIED = "forwarded-unverified"


class TrustedProxies:
    """Addresses and networks of trusted proxies (``"10.0.0.5"``, ``"10.0.0.0/8"``)."""

    def __init__(self, entries: list[str]):
        self.hosts: set = set()
        self.networks: list = []
        self.literals: set[str] = set()
        for e in (x.strip() for x in entries):
            if not e:
                continue
            try:
                if "/" in e:
                    self.networks.append(ipaddress.ip_network(e, strict=False))
                else:
                    self.hosts.add(ipaddress.ip_address(e))
            except ValueError:
                self.literals.add(e)  # e.g. a unix socket name
        self.any = bool(self.hosts or self.networks or self.literals)

    def __contains__(self, host: str | None) -> bool:
        if not host or not self.any:
            return False
        return _trusted(self, host)


@lru_cache(maxsize=4096)
def _parse_ip(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _trusted(proxies: TrustedProxies, host: str) -> bool:
    ip = _parse_ip(host)
    if ip is None:
        return host in proxies.literals
    return ip in proxies.hosts or any(ip in n for n in proxies.networks)


def _forwarded_hosts(scope: Scope) -> list[str]:
    values = [v.decode("latin1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
    hosts = []
    for item in ",".join(values).split(","):
        item = item.strip()
        if item.startswith("[") and "]" in item:  # [ipv6]:port
            item = item[1:item.index("]")]
        elif item.count(":") == 1:  # ipv4:port
            item = item.split(":", 1)[0]
        if item:
            hosts.append(item)
    return hosts


def client_address(scope: Scope, proxies: TrustedProxies) -> str:
    """The client's address for limits and logs (see the module docstring)."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    hosts = _forwarded_hosts(scope)
    if not hosts:
        return peer
    if peer in proxies:  # a trusted proxy connected: the first hop it did not vouch for
        for host in reversed(hosts):
            if host not in proxies:
                return host
        return hosts[0]
    if peer in hosts:
        # the server's own proxy-header handling replaced the connection's address with a header
        # entry: keep it only when these settings would have picked the same entry
        picked = next((h for h in reversed(hosts) if h not in proxies), hosts[0])
        if proxies.any and peer == picked:
            return peer
        return UNVERIFIED
    return peer


class ClientAddressMiddleware:
    """Sets ``scope["client"]`` to :func:`client_address` before anything reads it."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: list[str]) -> None:
        self.app = app
        self.proxies = TrustedProxies(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            host = client_address(scope, self.proxies)
            if client is None or host != client[0]:
                scope["client"] = (host, client[1] if client else 0)
        await self.app(scope, receive, send)
