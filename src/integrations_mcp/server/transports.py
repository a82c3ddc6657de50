"""Running the server: stdio, or streamable HTTP on loopback with Host/Origin checks."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from integrations_mcp.server.secret_form_page import SecretFormGuard

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


def http_app(server: MCPServer, host: str, port: int, env: Mapping[str, str]) -> Starlette:
    """The MCP endpoint at /mcp, plus the server's own secure form page when a vendor needs it."""
    security = transport_security(host, port, env)
    app = server.streamable_http_app(host=host, transport_security=security)
    forms = getattr(server, "secret_forms", None)
    if forms is not None:
        app.router.routes[:0] = forms.routes()
        app.add_middleware(SecretFormGuard, prefix=forms.path_prefix + "/", allowed_hosts=security.allowed_hosts)
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
