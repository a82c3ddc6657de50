"""What every HTTP request meets before the MCP endpoint: the proxy headers the operator trusts, then the Host and
Origin allowlists (DNS rebinding), with refusals that name the setting to change. `/healthz` and `/readyz` skip the
allowlists (orchestrators probe them by IP address) and say nothing secret."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from integrations_mcp.limits import first_headers
from integrations_mcp.pages.listener import host_allowed
from integrations_mcp.pages.origin import origin_of
from integrations_mcp.server.settings import Settings

__all__ = ["ForwardedHeaders", "HostOriginGuard", "allowed_hosts", "allowed_origins", "origin_allowed"]

HEALTH_PATH = "/healthz"
PROBE_PATHS = (HEALTH_PATH, "/readyz")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_PORT = re.compile(r":(\d+|\*)$")


def allowed_hosts(settings: Settings) -> list[str]:
    """Loopback names on any port or none (a port mapping such as `-p 9000:8000` keeps the name, not the port;
    a rebinding attacker's page cannot send them), plus `INTEGRATIONS_ALLOWED_HOSTS`."""
    return [*(f"{n}:*" for n in LOOPBACK_NAMES), *LOOPBACK_NAMES, *(h.lower() for h in settings.allowed_hosts)]


def allowed_origins(settings: Settings) -> list[str]:
    """Browser origins: loopback pages on any port (as the SDK's default; a page elsewhere on this machine still
    needs CORS, which /mcp never grants, and a token when auth is on), http(s):// of every allowed host, the public
    URL's origin, and `INTEGRATIONS_ALLOWED_ORIGINS`."""
    origins = [f"http://{n}{port}" for n in LOOPBACK_NAMES for port in (":*", "")]
    origins += [f"{scheme}://{h.lower()}" for h in settings.allowed_hosts for scheme in ("http", "https")]
    if settings.public_url:
        origins.append(origin_of(settings.public_url))
    return origins + [o.rstrip("/").lower() for o in settings.allowed_origins]


def origin_allowed(origin: str, allowed: Iterable[str]) -> bool:
    origin = origin.strip().rstrip("/").lower()
    patterns = set(allowed)
    return origin in patterns or f"{_PORT.sub('', origin)}:*" in patterns


class HostOriginGuard:
    KEPT_VERDICTS = 256  # Host values whose verdict is kept (a client sends the same one on every request)

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str], origins: Iterable[str]) -> None:
        self.app, self.hosts, self.origins = app, tuple(hosts), tuple(origins)
        self._verdicts: dict[str, bool] = {}

    def _host_allowed(self, host: str) -> bool:
        verdict = self._verdicts.get(host)
        if verdict is None:
            verdict = host_allowed(host, self.hosts)
            if len(self._verdicts) >= self.KEPT_VERDICTS:  # made-up names cannot grow it
                self._verdicts.clear()
            self._verdicts[host] = verdict
        return verdict

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        headers = first_headers(scope)  # the first of each
        host = headers.get(b"host", b"").decode("latin-1")
        origin = headers.get(b"origin")
        if origin is not None:
            origin = origin.decode("latin-1")
        if not self._host_allowed(host):
            refusal = PlainTextResponse(
                f"Host {host[:100]!r} is not accepted by this server (DNS-rebinding protection). If clients reach it "
                "under this name (a reverse proxy, a port mapping), add it to INTEGRATIONS_ALLOWED_HOSTS (comma "
                "list of host or host:port; host:* for any port).\n", 421)
        elif origin is not None and origin != "null" and not origin_allowed(origin, self.origins):
            refusal = PlainTextResponse(
                f"Origin {origin[:100]!r} is not accepted by this server. If a browser client on that origin should "
                "reach it, add the origin to INTEGRATIONS_ALLOWED_ORIGINS (or its host to "
                "INTEGRATIONS_ALLOWED_HOSTS, which accepts http(s)://host too).\n", 403)
        else:
            await self.app(scope, receive, send)
            return
        refusal.headers["x-content-type-options"] = "nosniff"
        await refusal(scope, receive, send)


class ForwardedHeaders:
    """`X-Forwarded-For/-Proto/-Host` are believed only from the proxies listed in INTEGRATIONS_TRUSTED_PROXIES
    (then the client address, scheme and Host become the proxy's view); from anyone else they are dropped."""

    FORWARDED = frozenset((b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded"))

    def __init__(self, app: ASGIApp, *, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = tuple(ipaddress.ip_network(t, strict=False) for t in trusted)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.FORWARDED.isdisjoint(first_headers(scope)):  # nothing to drop or to believe
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("", 0)
        headers = Headers(scope=scope)
        rest = [(k, v) for k, v in scope["headers"] if k not in self.FORWARDED]
        scope = {**scope, "headers": rest}
        if self._is_trusted(client[0]):
            scope = self._apply(scope, headers, rest, client)
        await self.app(scope, receive, send)

    def _apply(self, scope: Scope, headers: Headers, rest: list, client: tuple) -> Scope:
        proto = headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            scope["scheme"] = proto
        if forwarded_for := headers.get("x-forwarded-for"):
            # The nearest address the trusted proxies did not add themselves is the client.
            hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
            while hops and self._is_trusted(hops[-1]):
                hops.pop()
            scope["client"] = (hops[-1] if hops else client[0], 0)
        if forwarded_host := headers.get("x-forwarded-host", "").split(",")[-1].strip():
            scope["headers"] = [(k, v) for k, v in rest if k != b"host"] + [(b"host", forwarded_host.encode())]
        return scope
