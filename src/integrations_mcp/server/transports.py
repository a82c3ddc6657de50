"""Running the server: stdio, or streamable HTTP (auth, Host/Origin checks, resumable SSE, /healthz, /readyz,
/metrics)."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp

from integrations_mcp.errors import ConfigurationError
from integrations_mcp.limits import BodyLimit, ClientShares, InFlightLimit
from integrations_mcp.loopback import bind_tcp
from integrations_mcp.pages.listener import PageGuard
from integrations_mcp.server.auth.bearer import use_header_lookup
from integrations_mcp.server.auth.challenge import registration_hint_route, with_scope_challenge
from integrations_mcp.server.auth.setup import base_url, check_exposure, is_loopback, metadata_routes
from integrations_mcp.server.event_store import BoundedEventStore, SessionScopes
from integrations_mcp.server.health import operator_routes
from integrations_mcp.server.http_edge import (
    ForwardedHeaders,
    HostOriginGuard,
    allowed_hosts,
    allowed_origins,
)
from integrations_mcp.server.http_server import serve
from integrations_mcp.server.settings import Settings
from integrations_mcp.toolkit import sdk_wire

__all__ = ["http_app", "run_http", "transport_security"]

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"  # the SDK's default streamable_http_path
METADATA_PREFIX = "/.well-known/oauth-protected-resource"
SSE_RETRY_MS = 2000  # how soon a client whose stream dropped reconnects (the priming event's `retry`)


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """The SDK's own Host/Origin check on /mcp, with the same lists as `HostOriginGuard` in front of everything.

    Set explicitly because the SDK silently turns DNS-rebinding protection off for non-loopback binds."""
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts(settings),
                                     allowed_origins=allowed_origins(settings))


def http_app(server: MCPServer, settings: Settings, on_idle: Callable[[], None] | None = None) -> Starlette:
    """The MCP endpoint at /mcp (behind the SDK's bearer auth when configured: `build_server` gave the server its
    verifier), /healthz, the protected-resource metadata, and the server's own form/approval pages. `on_idle`: called
    whenever the last request in flight finishes (`run_http`: `HeapSettler`)."""
    security = transport_security(settings)
    sdk_wire.install()  # a kept tools/list answer is sent as the JSON text made once (toolkit/tool_list.py)
    events = BoundedEventStore()
    limits = settings.limits
    app = server.streamable_http_app(host=settings.host, transport_security=security, event_store=events,
                                     retry_interval=SSE_RETRY_MS, max_request_body_size=limits.max_body_bytes)
    if settings.auth_enabled:
        use_header_lookup(app)
        with_scope_challenge(app.router.routes, MCP_PATH)
        if settings.oauth_issuer is None:  # static tokens only: a client trying OAuth learns it needs the header
            app.router.routes.append(registration_hint_route())
    manager = server.session_manager

    def is_open(session_id: str) -> bool:  # the SDK's open sessions (it has no public view of them)
        return session_id in manager._server_instances

    wrap_endpoint(app.router.routes, MCP_PATH, lambda endpoint: ClientShares(
        endpoint, sessions=limits.client_sessions, per_minute=limits.client_requests_per_minute, is_open=is_open,
        in_flight=limits.client_in_flight))
    if settings.oauth_issuer is not None:
        app.router.routes[:] = [r for r in app.router.routes if not getattr(r, "path", "").startswith(METADATA_PREFIX)]
        app.router.routes.extend(metadata_routes(settings))
    app.router.routes[:0] = operator_routes(settings, server)  # /healthz, /readyz, /metrics
    forms = getattr(server, "secure_forms", None)
    if forms is not None:
        app.router.routes[:0] = forms.routes()
        app.add_middleware(PageGuard, prefix=forms.path_prefix + "/", allowed_hosts=security.allowed_hosts)
        # The person opens the pages on this machine unless a public address is configured (proxy, container).
        forms.set_base_url(base_url(settings))
    # /mcp first: nearly every request is for it (no other route's path overlaps it: the order changes nothing else).
    app.router.routes.sort(key=lambda route: not (isinstance(route, Route) and route.path == MCP_PATH))
    app.add_middleware(SessionScopes, store=events)
    app.add_middleware(HostOriginGuard, hosts=security.allowed_hosts, origins=security.allowed_origins)
    app.add_middleware(BodyLimit, limit=limits.max_body_bytes, chunk_timeout=limits.header_timeout)
    app.add_middleware(InFlightLimit, limit=limits.max_in_flight, on_idle=on_idle)
    app.add_middleware(ForwardedHeaders, trusted=settings.trusted_proxies)
    return app


def wrap_endpoint(routes: list, path: str, wrap: Callable[[ASGIApp], ASGIApp]) -> None:
    """Wrap the endpoint of the Route at `path` in place (inside the SDK's bearer middleware: the client is known)."""
    for i, route in enumerate(routes):
        if isinstance(route, Route) and route.path == path:
            routes[i] = Route(path, endpoint=wrap(route.endpoint), methods=route.methods, name=route.name,
                              include_in_schema=route.include_in_schema)


def run_http(server: MCPServer, settings: Settings) -> None:
    check_exposure(settings)
    if not is_loopback(settings.host) and not settings.allowed_hosts:
        log.warning("Listening on %s: requests must name the server as localhost or 127.0.0.1 (Host header) until "
                    "INTEGRATIONS_ALLOWED_HOSTS lists the name(s) clients use.", settings.host)
    if settings.forms_port or settings.forms_host != "127.0.0.1":
        log.warning("INTEGRATIONS_FORMS_HOST/INTEGRATIONS_FORMS_PORT are for stdio: over HTTP the form and approval "
                    "pages are served on the MCP listener (linked at INTEGRATIONS_PUBLIC_URL when set).")
    app = http_app(server, settings, on_idle=HeapSettler())
    log.info("MCP endpoint: http://%s:%d/mcp (%s)", settings.host, settings.port,
             "authentication required" if settings.auth_enabled else "no authentication")
    try:
        sock = bind_tcp(settings.host, settings.port)
    except OSError as exc:
        raise ConfigurationError(f"cannot listen on {settings.host}:{settings.port} ({exc.strerror or exc}); set "
                                 "another INTEGRATIONS_PORT (--port) or INTEGRATIONS_HOST (--host).") from None
    settle_heap()
    serve(app, sock, settings.limits)


def settle_heap() -> None:
    """What the start made (modules, schemas, the app: ~200,000 objects that live as long as the process) leaves
    the cyclic garbage collector's generations: each full collection under load walked all of them again (7–10 a
    run of the team benchmark, ~0.15 s each). Garbage of the start is collected first, so none is kept."""
    gc.collect()
    gc.freeze()


class HeapSettler:
    """What the parts made on first use add later (a vendor's modules on its first call; SQLAlchemy and the driver on
    the state database's first use, ~50,000 objects with PostgreSQL) is settled like the start's: the next time no
    request is in flight (InFlightLimit's `on_idle`), if modules were imported since the last time (one look at
    sys.modules), so that full collections under load walk only what requests made. Settling while idle: a request's
    objects frozen mid-flight would never be collected if they later became cyclic garbage."""

    def __init__(self) -> None:
        self._modules = len(sys.modules)

    def __call__(self) -> None:
        if len(sys.modules) != self._modules:
            settle_heap()
            self._modules = len(sys.modules)
