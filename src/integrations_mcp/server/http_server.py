"""The uvicorn server of the HTTP transport, with limits a public listener needs: a deadline for a new connection's
first request headers (uvicorn has none: a client that connects and sends nothing would hold the connection
forever), the keep-alive idle timeout, a bound on request-header size and on concurrent connections."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HEADER_TIMEOUT_SECONDS", "config", "serve"]

HEADER_TIMEOUT_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 5
MAX_CONNECTIONS = 200  # more concurrent connections/requests are answered 503
MAX_HEADER_BYTES = 16 * 1024


class HeaderTimeoutProtocol(H11Protocol):
    """Closes a connection that has not sent a complete request head within HEADER_TIMEOUT_SECONDS."""

    header_timeout: float = HEADER_TIMEOUT_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_deadline = asyncio.get_running_loop().call_later(self.header_timeout, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        if self.cycle is None and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._header_deadline.cancel()
        super().connection_lost(exc)


def config(app: ASGIApp, *, header_timeout: float = HEADER_TIMEOUT_SECONDS) -> uvicorn.Config:
    protocol = type("Protocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout})
    # log_config=None: uvicorn's lines go through the root logger's handler (the log filter, the JSON format).
    return uvicorn.Config(app, log_level="warning", log_config=None, http=protocol,
                          timeout_keep_alive=KEEP_ALIVE_SECONDS,
                          limit_concurrency=MAX_CONNECTIONS, h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                          proxy_headers=False,  # server/http_edge.py:ForwardedHeaders decides whom to believe
                          timeout_graceful_shutdown=5)


def serve(app: ASGIApp, sock: socket.socket) -> None:
    uvicorn.Server(config(app)).run(sockets=[sock])
