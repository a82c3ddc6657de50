"""A uvicorn server on a loopback port in its own thread (the on-demand secure form page, and the emulators in
--sandbox and end-to-end tests), and the listener limits every uvicorn of the server gets (`uvicorn_config`): a
deadline for each request's head (uvicorn has none: a client that connects, or finishes one request, and then sends
a byte now and then would hold the connection forever), the keep-alive timeout, a header-size bound and a
connection cap."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import select
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from integrations_mcp.limits import Limits

__all__ = ["HEADER_TIMEOUT_SECONDS", "LoopbackServer", "OnDemandLoopback", "bind_tcp", "is_loopback", "link_host",
           "serve_loopback", "serve_loopback_on_demand", "uvicorn_config"]

log = logging.getLogger(__name__)

HEADER_TIMEOUT_SECONDS = Limits.header_timeout  # for each request head
KEEP_ALIVE_SECONDS = 5
MAX_HEADER_BYTES = 16 * 1024
SPARE_FILES = 64  # descriptors kept for everything but connections (state database, logs, vendor clients)
LISTENER_CONNECTIONS = 1024  # a page listener serves one person (and the emulators a test or the sandbox)
LISTENER_HEADER_TIMEOUT = HEADER_TIMEOUT_SECONDS

def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def link_host(host: str) -> str:
    """The host to put in a link to a listener bound to `host`: a wildcard bind (0.0.0.0, ::) is reached on this
    machine's loopback; IPv6 addresses in brackets."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host
    if address.is_unspecified:
        return "127.0.0.1" if address.version == 4 else "[::1]"
    return f"[{address}]" if address.version == 6 else str(address)


def bind_tcp(host: str, port: int) -> socket.socket:
    """A bound TCP socket for uvicorn to serve on, with Nagle's algorithm off for every connection.

    IPPROTO_TCP is given explicitly: asyncio sets TCP_NODELAY only on connections of such a socket, and with Nagle
    on, each small answer waits for the peer's delayed ACK (about 40 ms a request on loopback)."""
    try:  # an address needs no lookup (a name's lookup imports the IDNA codec: --sandbox binds two at start)
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


@functools.cache
def _header_timeout_protocol() -> type:
    """uvicorn's h11 protocol with the request-head deadline. Made when the first listener is configured: a stdio
    server that lists its tools never serves HTTP, and h11 with uvicorn's protocols is 10 ms and 0.4 MB to import."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutProtocol(H11Protocol):
        """Closes a connection whose next request head is not complete within `header_timeout` seconds: counted from
        the connection's start, and again from the end of each response (the keep-alive timeout alone is cancelled by
        the first byte of the next request, so a trickle would keep it forever).

        One timer per connection, moved lazily: each response only moves the deadline on, and the timer, when it
        fires before the deadline, is set again for it (a timer a response would cost a heap push and a cancelled
        entry in the event loop's heap, at every request)."""

        header_timeout: float = HEADER_TIMEOUT_SECONDS
        _header_deadline: asyncio.TimerHandle | None = None
        _deadline_at: float = 0.0  # the loop's time at which the head must be complete
        _waiting_after: weakref.ref | None = None  # the request answered last when the deadline was set

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def _arm(self) -> None:
            # The request answered last (a new request head replaces it), held weakly: the deadline must not keep
            # a finished request (its scope, headers, body) alive while the next one is served.
            self._waiting_after = None if self.cycle is None else weakref.ref(self.cycle)
            self._deadline_at = self.loop.time() + self.header_timeout
            if self._header_deadline is None:
                self._header_deadline = self.loop.call_at(self._deadline_at, self._deadline_reached)

        def _deadline_reached(self) -> None:
            self._header_deadline = None
            if self.loop.time() < self._deadline_at:  # moved on by a response since the timer was set
                self._header_deadline = self.loop.call_at(self._deadline_at, self._deadline_reached)
            else:
                self._headers_too_slow(self._waiting_after)

        def _headers_too_slow(self, waiting_after: weakref.ref | None) -> None:
            armed_after = None if waiting_after is None else waiting_after()
            if waiting_after is not None and armed_after is None:  # that request is gone: a new one replaced it
                return
            idle = self.cycle is None or self.cycle.response_complete
            if self.cycle is armed_after and idle and not self.transport.is_closing():
                self.transport.close()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None
            super().connection_lost(exc)

    return HeaderTimeoutProtocol


def uvicorn_config(app: ASGIApp, *, header_timeout: float = HEADER_TIMEOUT_SECONDS,
                   max_connections: int = Limits.max_connections, **options: object) -> uvicorn.Config:
    """A uvicorn Config with the listener limits (`options`: more of uvicorn's own): every listener of the server
    (the HTTP transport, the stdio page listener, the sandbox emulators) is made with it."""
    protocol = type("Protocol", (_header_timeout_protocol(),), {"header_timeout": header_timeout})
    # log_config=None: uvicorn's lines go through the root logger's handler (the log filter, the JSON format).
    return uvicorn.Config(app, **{"log_level": "warning", "log_config": None, "http": protocol,
                                  "timeout_keep_alive": KEEP_ALIVE_SECONDS,
                                  "limit_concurrency": _connections_allowed(max_connections),
                                  "h11_max_incomplete_event_size": MAX_HEADER_BYTES, **options})


def _connections_allowed(wanted: int) -> int:
    """`wanted`, with the process's open-file limit raised to fit it where the hard limit allows (accepting past the
    limit fails with EMFILE, which uvicorn only logs: new clients would hang instead of getting a 503)."""
    try:
        import resource  # when a listener is configured, not at start
    except ImportError:  # Windows: no open-file limit to raise
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


def listener_config(app: ASGIApp, header_timeout: float = LISTENER_HEADER_TIMEOUT) -> uvicorn.Config:
    """The page listener's and the emulators' uvicorn: the HTTP transport's listener limits, so that half-open
    connections cannot pin them."""
    return uvicorn_config(app, access_log=False, lifespan="off", max_connections=LISTENER_CONNECTIONS,
                          header_timeout=header_timeout)


@dataclass
class LoopbackServer:
    """A uvicorn server on 127.0.0.1 running in its own thread; `url` is its base address."""

    app: ASGIApp
    host: str = "127.0.0.1"
    port: int = 0
    header_timeout: float = LISTENER_HEADER_TIMEOUT
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{link_host(self.host)}:{self.port}"

    def start(self) -> LoopbackServer:
        sock = bind_tcp(self.host, self.port)
        self.port = sock.getsockname()[1]
        config = listener_config(self.app, self.header_timeout)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("loopback server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)


@contextmanager
def serve_loopback(app: ASGIApp) -> Iterator[LoopbackServer]:
    server = LoopbackServer(app).start()
    try:
        yield server
    finally:
        server.stop()


class OnDemandLoopback:
    """A loopback port that listens at once but builds and serves its app only when the first connection arrives
    (the connection waits in the backlog meanwhile): `--sandbox` starts its emulators this way, so a server that is
    only asked for its tools never imports or runs them. If the app cannot be built the port is closed, and callers
    get "connection refused" instead of waiting."""

    def __init__(self, make_app: Callable[[], ASGIApp], host: str = "127.0.0.1") -> None:
        self._make_app = make_app
        self._sock = bind_tcp(host, 0)
        self._sock.listen(128)
        self.host, self.port = host, self._sock.getsockname()[1]
        self._stopping = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._serve_when_asked, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _serve_when_asked(self) -> None:
        while not self._stopping.is_set():
            readable, _, _ = select.select([self._sock], [], [], 0.2)  # waits without holding the GIL
            if readable:
                break
        else:
            return
        try:
            config = listener_config(self._make_app())
        except Exception:
            log.exception("The app on %s could not be started; closing the port.", self.url)
            self._sock.close()
            return
        self._server = uvicorn.Server(config)
        if self._stopping.is_set():
            return
        self._server.run(sockets=[self._sock])

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()


@contextmanager
def serve_loopback_on_demand(make_app: Callable[[], ASGIApp]) -> Iterator[OnDemandLoopback]:
    server = OnDemandLoopback(make_app)
    try:
        yield server
    finally:
        server.stop()
