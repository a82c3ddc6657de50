"""A uvicorn server on a loopback port in its own thread: the on-demand secure form page, and the emulators in
--sandbox and end-to-end tests."""

from __future__ import annotations

import ipaddress
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

__all__ = ["LoopbackServer", "OnDemandLoopback", "bind_tcp", "is_loopback", "link_host", "serve_loopback",
           "serve_loopback_on_demand"]

log = logging.getLogger(__name__)


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
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


@dataclass
class LoopbackServer:
    """A uvicorn server on 127.0.0.1 running in its own thread; `url` is its base address."""

    app: ASGIApp
    host: str = "127.0.0.1"
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{link_host(self.host)}:{self.port}"

    def start(self) -> LoopbackServer:
        sock = bind_tcp(self.host, self.port)
        self.port = sock.getsockname()[1]
        # log_config=None: uvicorn's lines go through the root logger's handler (the log filter, the JSON format).
        config = uvicorn.Config(self.app, log_level="warning", log_config=None, access_log=False, lifespan="off")
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
            config = uvicorn.Config(self._make_app(), log_level="warning", log_config=None, access_log=False,
                                    lifespan="off")
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
