"""Running the server: stdio, or streamable HTTP on loopback with Host/Origin checks."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["http_app", "run_http", "run_stdio", "transport_security"]

log = logging.getLogger(__name__)


def transport_security(host: str, port: int, env: Mapping[str, str]) -> TransportSecuritySettings:
    """Loopback hosts and origins are always allowed; others only when listed in the environment.

    Set explicitly because the SDK silently turns DNS-rebinding protection off for non-loopback binds."""
    hosts = [f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"]
    origins = [f"http://{h}" for h in hosts]
    hosts += _split(env.get("INTEGRATIONS_ALLOWED_HOSTS", ""))
    origins += _split(env.get("INTEGRATIONS_ALLOWED_ORIGINS", ""))
    if not _is_loopback(host) and not env.get("INTEGRATIONS_ALLOWED_HOSTS"):
        log.warning("Listening on %s: only loopback Host headers are accepted until INTEGRATIONS_ALLOWED_HOSTS "
                    "lists the public host name(s).", host)
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                     allowed_origins=origins)


class _PageHostCheck:
    """The SDK checks Host only on /mcp; the secure form page gets the same allowlist (DNS rebinding)."""

    def __init__(self, app: ASGIApp, prefix: str, allowed_hosts: list[str]) -> None:
        self.app, self.prefix, self.allowed = app, prefix.rstrip("/") + "/", {h.lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            host = next((v.decode("latin-1").lower() for k, v in scope["headers"] if k == b"host"), "")
            if not self._allowed(host):
                await PlainTextResponse("Invalid Host header", status_code=421)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _allowed(self, host: str) -> bool:
        # Same pattern language as the SDK's allowlist: exact "host:port", or "host:*" for any port.
        return host in self.allowed or f"{host.rpartition(':')[0] or host}:*" in self.allowed


def http_app(server: MCPServer, host: str, port: int, env: Mapping[str, str]) -> Starlette:
    """The MCP endpoint at /mcp, plus the server's own secure form page when a vendor needs it."""
    security = transport_security(host, port, env)
    app = server.streamable_http_app(host=host, transport_security=security)
    forms = getattr(server, "secret_forms", None)
    if forms is not None:
        app.router.routes[:0] = forms.routes()
        app.add_middleware(_PageHostCheck, prefix=forms.path_prefix, allowed_hosts=security.allowed_hosts)
        # The person opens the page on this machine unless a public address is configured (reverse proxy).
        local = host if _is_loopback(host) else "127.0.0.1"
        forms.set_base_url(env.get("INTEGRATIONS_PUBLIC_URL", "").strip() or f"http://{local}:{port}")
    return app


def run_http(server: MCPServer, host: str, port: int, env: Mapping[str, str]) -> None:
    app = http_app(server, host, port, env)
    log.info("MCP endpoint: http://%s:%d/mcp", host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def run_stdio(server: MCPServer) -> None:
    server.run("stdio")


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
