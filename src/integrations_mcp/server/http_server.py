"""The uvicorn server of the HTTP transport, with the listener limits of `loopback.uvicorn_config` (a deadline for
each request's head, keep-alive timeout, header-size bound, a connection cap that is only a last-resort guard): work
in flight is limited by limits.py:InFlightLimit, so idle keep-alive connections never cause a 503."""

from __future__ import annotations

import socket

import uvicorn
from starlette.types import ASGIApp

from integrations_mcp.limits import Limits
from integrations_mcp.loopback import HEADER_TIMEOUT_SECONDS, uvicorn_config

__all__ = ["HEADER_TIMEOUT_SECONDS", "config", "serve"]

DEFAULT_LIMITS = Limits()


def config(app: ASGIApp, limits: Limits = DEFAULT_LIMITS) -> uvicorn.Config:
    return uvicorn_config(app, header_timeout=limits.header_timeout, max_connections=limits.max_connections,
                          proxy_headers=False,  # server/http_edge.py:ForwardedHeaders decides whom to believe
                          timeout_graceful_shutdown=5)


def serve(app: ASGIApp, sock: socket.socket, limits: Limits = DEFAULT_LIMITS) -> None:
    uvicorn.Server(config(app, limits)).run(sockets=[sock])
