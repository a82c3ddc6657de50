"""Running the server: stdio, or streamable HTTP on loopback with Host/Origin checks."""

from __future__ import annotations

import ipaddress
import logging

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.loopback import bind_tcp
from integrations_mcp.secure_forms.listener import SecureFormGuard
from integrations_mcp.server.settings import Settings

__all__ = ["http_app", "run_http", "run_stdio", "transport_security"]

log = logging.getLogger(__name__)


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Loopback hosts and origins are always allowed; others only when listed in the settings.

    Set explicitly because the SDK silently turns DNS-rebinding protection off for non-loopback binds."""
    port = settings.port
    hosts = [f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"]
    origins = [f"http://{h}" for h in hosts]
    hosts += settings.allowed_hosts
    origins += settings.allowed_origins
    if not _is_loopback(settings.host) and not settings.allowed_hosts:
        log.warning("Listening on %s: only loopback Host headers are accepted until INTEGRATIONS_ALLOWED_HOSTS "
                    "lists the public host name(s).", settings.host)
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                     allowed_origins=origins)


def http_app(server: MCPServer, settings: Settings) -> Starlette:
    """The MCP endpoint at /mcp, plus the server's own secure form page when a vendor needs it."""
    host, port = settings.host, settings.port
    security = transport_security(settings)
    app = server.streamable_http_app(host=host, transport_security=security)
    forms = getattr(server, "secure_forms", None)
    if forms is not None:
        app.router.routes[:0] = forms.routes()
        app.add_middleware(SecureFormGuard, prefix=forms.path_prefix + "/", allowed_hosts=security.allowed_hosts)
        # The person opens the page on this machine unless a public address is configured (reverse proxy).
        local = host if _is_loopback(host) else "127.0.0.1"
        forms.set_base_url(settings.public_url or f"http://{local}:{port}")
    return app


def run_http(server: MCPServer, settings: Settings) -> None:
    app = http_app(server, settings)
    log.info("MCP endpoint: http://%s:%d/mcp", settings.host, settings.port)
    try:
        sock = bind_tcp(settings.host, settings.port)
    except OSError as exc:
        raise ConfigurationError(f"cannot listen on {settings.host}:{settings.port} ({exc.strerror or exc}); set "
                                 "another INTEGRATIONS_PORT (--port) or INTEGRATIONS_HOST (--host).") from None
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


def run_stdio(server: MCPServer) -> None:
    server.run("stdio")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
