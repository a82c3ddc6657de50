"""The uvicorn server of the HTTP transport (and of the stdio page listener, loopback.py), with limits a listener
needs: a deadline for each request's head (uvicorn has none: a client that connects, or finishes one request, and
then sends a byte now and then would hold the connection forever), the keep-alive idle timeout, a bound on
request-header size, and a connection cap that is only a last-resort guard (work in flight is limited by
server/limits.py:InFlightLimit, so idle keep-alive connections never cause a 503)."""

from __future__ import annotations

import asyncio
import logging
import socket

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from integrations_mcp.server.limits import Limits

__all__ = ["HEADER_TIMEOUT_SECONDS", "config", "serve", "uvicorn_config"]

try:
    import resource
except ImportError:  # Windows: no open-file limit to raise
    resource = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

DEFAULT_LIMITS = Limits()
HEADER_TIMEOUT_SECONDS = DEFAULT_LIMITS.header_timeout
KEEP_ALIVE_SECONDS = 5
MAX_HEADER_BYTES = 16 * 1024
SPARE_FILES = 64  # descriptors kept for everything but connections (state database, logs, vendor clients)


class HeaderTimeoutProtocol(H11Protocol):
    """Closes a connection whose next request head is not complete within `header_timeout` seconds: counted from
    the connection's start, and again from the end of each response (the keep-alive timeout alone is cancelled by
    the first byte of the next request, so a trickle would keep it forever)."""

    header_timeout: float = HEADER_TIMEOUT_SECONDS
    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
        waiting_after = self.cycle  # a new request head replaces it
        self._header_deadline = asyncio.get_running_loop().call_later(
            self.header_timeout, self._headers_too_slow, waiting_after)

    def _headers_too_slow(self, waiting_after: object) -> None:
        idle = self.cycle is None or self.cycle.response_complete
        if self.cycle is waiting_after and idle and not self.transport.is_closing():
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
        super().connection_lost(exc)


def uvicorn_config(app: ASGIApp, *, header_timeout: float = HEADER_TIMEOUT_SECONDS,
                   max_connections: int = Limits.max_connections, **options: object) -> uvicorn.Config:
    """A uvicorn Config with the listener limits above (`options`: more of uvicorn's own)."""
    protocol = type("Protocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout})
    return uvicorn.Config(app, **{"log_level": "warning", "http": protocol, "timeout_keep_alive": KEEP_ALIVE_SECONDS,
                                  "limit_concurrency": _connections_allowed(max_connections),
                                  "h11_max_incomplete_event_size": MAX_HEADER_BYTES, **options})


def config(app: ASGIApp, limits: Limits = DEFAULT_LIMITS) -> uvicorn.Config:
    return uvicorn_config(app, header_timeout=limits.header_timeout, max_connections=limits.max_connections,
                          proxy_headers=False,  # server/http_edge.py:ForwardedHeaders decides whom to believe
                          timeout_graceful_shutdown=5)


def _connections_allowed(wanted: int) -> int:
    """`wanted`, with the process's open-file limit raised to fit it where the hard limit allows (accepting past the
    limit fails with EMFILE, which uvicorn only logs: new clients would hang instead of getting a 503)."""
    if resource is None:
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < needed:
        log.warning("Only %d open files are allowed: serving at most %d connections (raise `ulimit -n`).",
                    soft, max(1, soft - SPARE_FILES))
        return max(1, soft - SPARE_FILES)
    return wanted


def serve(app: ASGIApp, sock: socket.socket, limits: Limits = DEFAULT_LIMITS) -> None:
    uvicorn.Server(config(app, limits)).run(sockets=[sock])
