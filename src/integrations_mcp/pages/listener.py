"""Where the pages a person opens (secure forms, approvals) are served from.

- HTTP transport: the transport mounts `PageServer.routes()` on its own app, puts `PageGuard` in
  front, and calls `set_base_url(...)`.
- stdio: nothing listens, so `ensure_listening()` starts a small uvicorn listener (daemon thread) the first time a
  form is needed, and `close()` stops it. By default on 127.0.0.1, a random port; in a container or remote dev box
  the operator gives a bind address and fixed port to publish, and the public URL people open (the links use it).

Each kind of page registers its routes with `add_pages` (the secure form: `secure_forms.server.SecureFormServer`,
a `PageServer` with a form store; approvals: `approvals.page`); a sign-in page would be one more.

A listener other machines can reach needs no authentication beyond the pages' own: each link is a capability (an
unguessable one-time id, expiring, for one form or approval), a browser cannot send a bearer token, and nothing
else is served there. The Host allowlist (DNS rebinding) and the POST checks (origin, anti-forgery token) stay.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Self
from urllib.parse import urlsplit

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations_mcp.errors import IntegrationsError
from integrations_mcp.loopback import LoopbackServer, is_loopback, link_host
from integrations_mcp.pages.origin import origin_of
from integrations_mcp.pages.shell import NO_PAGE, SECURITY_HEADERS, UNKNOWN_HOST, message

__all__ = ["DEFAULT_PATH_PREFIX", "LOOPBACK_HOSTS", "PageListenerUnavailable", "PageRoutes", "PageServer",
           "PageGuard", "as_localhost", "host_allowed"]

log = logging.getLogger(__name__)

DEFAULT_PATH_PREFIX = "/secure-forms"  # every page's links start with it (the name predates the approval page)

PageRoutes = Callable[[str, Callable[[], str | None]], list[Route]]
"""Routes of more pages: given the path prefix and the public origin (None: the request's own)."""


class PageListenerUnavailable(IntegrationsError):
    kind = "Unavailable"

# The SDK's allowlist language: exact "host:port", or "host:*" for any port.
LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
_PORT = re.compile(r":\d+$")


def as_localhost(url: str) -> str:
    """`url` naming this machine by a loopback IP address, named `localhost` instead: passkeys (WebAuthn) need a
    domain as the page's host, and browsers treat http://localhost as a secure context."""
    parts = urlsplit(url)
    if parts.hostname and parts.hostname != "localhost" and is_loopback(parts.hostname):
        return parts._replace(netloc=f"localhost:{parts.port}" if parts.port else "localhost").geturl()
    return url


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    host = host.lower()
    patterns = _patterns(allowed if isinstance(allowed, tuple) else tuple(allowed))
    return host in patterns or f"{_PORT.sub('', host)}:*" in patterns


@functools.lru_cache(maxsize=32)
def _patterns(allowed: tuple[str, ...]) -> frozenset[str]:
    """An allowlist's patterns, lower-cased once (the guards hold theirs as tuples: one per listener)."""
    return frozenset(a.lower() for a in allowed)


class PageGuard:
    """In front of the page, wherever it is served: refuse a Host outside the allowlist (DNS rebinding) and put
    the security headers on every answer under `prefix`, including a router's own 404/405. The SDK guards /mcp
    only, so the HTTP transport adds this for the page; the loopback listener guards everything with it."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str] = LOOPBACK_HOSTS, prefix: str = "/") -> None:
        self.app, self.allowed, self.prefix = app, tuple(allowed_hosts), prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
        if not host_allowed(host, self.allowed):
            await message("Refused", UNKNOWN_HOST, 421)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()
                         if k.lower().encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _not_found_page(request: Request, exc: Exception) -> Response:
    return message("Not found", NO_PAGE, 404)


async def _not_allowed_page(request: Request, exc: Exception) -> Response:
    response = message("Not allowed", "This address only serves pages your assistant gives you links to. Open "
                        "the link exactly as your assistant gave it.", 405)
    response.headers.update(getattr(exc, "headers", None) or {})
    return response


class PageServer:
    """Where the pages are reachable.

    Mode (a), HTTP transport: mount `routes()` on the transport's app and call `set_base_url(...)`.
    Mode (b), stdio: `await ensure_listening()` starts a loopback listener on first use; `close()` stops it."""

    def __init__(self, *, base_url: str | None = None, path_prefix: str = DEFAULT_PATH_PREFIX,
                 host: str = "127.0.0.1", port: int = 0, public_url: str | None = None,
                 allowed_hosts: Iterable[str] = (), localhost_links: bool = False) -> None:
        """Mode (b)'s listener binds `host`:`port` (0: any free port); its links start with `public_url` when
        given (a published port, a proxy); its Host allowlist is loopback, the bind address, the public URL's host
        and `allowed_hosts`. `localhost_links`: a loopback IP address in the links is written `localhost` (pages
        that use passkeys)."""
        self.localhost_links = localhost_links
        self.path_prefix = f"/{path_prefix.strip('/')}"
        self.host, self.port = host, port
        self.public_url = public_url.rstrip("/") if public_url else None
        wildcard = link_host(host) in ("127.0.0.1", "[::1]")  # 0.0.0.0 or ::, linked as loopback
        own = [] if is_loopback(host) or wildcard else [f"{link_host(host)}:*"]
        public = [urlsplit(self.public_url).netloc.lower()] if self.public_url else []
        self.allowed_hosts = (*LOOPBACK_HOSTS, *own, *public, *allowed_hosts)
        self._base_url = base_url.rstrip("/") if base_url else None
        self._listener: LoopbackServer | None = None
        self._lock = threading.Lock()
        self._pages: list[PageRoutes] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r}, listening={self.listening})"

    @property
    def base_url(self) -> str | None:
        return self._base_url

    @property
    def listening(self) -> bool:
        """True when this object runs its own loopback listener."""
        return self._listener is not None

    def routes(self) -> list[Route]:
        return [route for pages in self._pages for route in pages(self.path_prefix, self._public_origin)]

    def add_pages(self, pages: PageRoutes) -> None:
        """Serve one kind of page (a secure form, an approval) under the prefix, guard and listener. Call before
        the page is served (the HTTP transport mounts `routes()` once; the loopback listener starts on first use)."""
        self._pages.append(pages)

    def _public_origin(self) -> str | None:
        return origin_of(self._base_url) if self._base_url else None

    async def page_url(self, path: str) -> str:
        """The address of `{prefix}/{path}`, starting the loopback listener if nothing serves the pages yet."""
        return f"{await self.ensure_listening()}{self.path_prefix}/{path}"

    def set_base_url(self, base_url: str) -> None:
        """Mode (a): the page is served by someone else's app at `base_url` (e.g. "http://127.0.0.1:8000")."""
        with self._lock:
            self._base_url = as_localhost(base_url.rstrip("/")) if self.localhost_links else base_url.rstrip("/")

    def start_listening(self) -> str:
        """Blocking: start the loopback listener unless a base URL is known already; returns the base URL."""
        with self._lock:
            if self._base_url is not None:
                return self._base_url
            app = PageGuard(Starlette(routes=self.routes(), exception_handlers={
                404: _not_found_page, 405: _not_allowed_page}), allowed_hosts=self.allowed_hosts)
            try:
                self._listener = LoopbackServer(app, host=self.host, port=self.port).start()
            except OSError as exc:
                raise PageListenerUnavailable(
                    f"The page listener cannot listen on {self.host}:{self.port} ({exc.strerror or exc}), so no "
                    "form or approval link can be given. Tell the server's operator (settings "
                    "INTEGRATIONS_FORMS_HOST, INTEGRATIONS_FORMS_PORT).") from None
            url = self._listener.url
            self._base_url = self.public_url or (as_localhost(url) if self.localhost_links else url)
        log.info("pages listening on %s:%d, linked as %s%s/", self.host, self._listener.port,
                 self._base_url, self.path_prefix)
        return self._base_url

    async def ensure_listening(self) -> str:
        """Async `start_listening()`: the blocking start runs in a worker thread."""
        if self._base_url is not None:
            return self._base_url
        return await anyio.to_thread.run_sync(self.start_listening)

    def close(self) -> None:
        """Stop the loopback listener if this object started one (mode (a) base URLs are kept)."""
        with self._lock:
            listener, self._listener = self._listener, None
            if listener is not None:
                self._base_url = None
        if listener is not None:
            listener.stop()
            log.info("page listener stopped")

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

