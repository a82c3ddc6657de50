"""Vendor HTTP clients made on the first request that needs one, not at start: an httpx2 client loads the CA bundle
when it is made (tens of milliseconds each), which a server that only lists its tools never needs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2

__all__ = ["HttpClients", "HttpRequester", "LazyHttpClient", "VENDOR_CONNECTIONS"]

# Connections to one vendor API, all of them kept alive between requests. httpx2 keeps only 20 of its 100 by default:
# with more than 20 requests in flight (an HTTP server with many sessions) every request past the 20th opened a
# new connection and closed it after the answer (TCP set-up on both sides, and TLS with a real vendor).
VENDOR_CONNECTIONS = httpx2.Limits(max_connections=100, max_keepalive_connections=100)
# A relative path whose join with the base URL is plain concatenation: nothing to percent-encode, no dot segments,
# no leading "/" (httpx2 strips it, and "//host" would be a network path); any other is left to httpx2's merge.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9_~/-]*")


class LazyHttpClient:
    """The httpx2.AsyncClient of `options`, made on first use (inside the running event loop); `aclose` closes it
    and the next request makes a new one. Unless `options` say otherwise, its connections are VENDOR_CONNECTIONS."""

    def __init__(self, **options: Any) -> None:
        self._options = {"limits": VENDOR_CONNECTIONS, **options}
        self._client: httpx2.AsyncClient | None = None
        self._base: str | None = None  # the client's base URL (httpx2 ends it with "/")
        self._join = False  # whether `_joined` makes the URLs httpx2 parses from `_base` + a plain path

    @property
    def made(self) -> bool:
        return self._client is not None

    async def request(self, method: str, url: str | httpx2.URL, **kwargs: Any) -> httpx2.Response:
        if self._client is None:
            self._client = httpx2.AsyncClient(**self._options)
            base = self._client.base_url
            self._base = str(base) if base.is_absolute_url else None
            self._join = self._base is not None and _joins_as_parsed(base, self._base)
        if self._base is not None and isinstance(url, str) and _PLAIN_PATH.fullmatch(url):
            # The URL httpx2 would make of the base URL and this relative path, made here: its merge parses and
            # rebuilds the URL in Python (tens of microseconds a request, more than the rest of our part of a read),
            # and so does its parse of the joined text (`_joined`: the parsed base with a longer path instead).
            url = (self._join and _joined(self._client.base_url, url)) or self._base + url
        return await self._client.request(method, url, **kwargs)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


_PROBE_PATH = "aZ09_~-/x"  # every kind of character _PLAIN_PATH takes


def _joined(base: httpx2.URL, path: str) -> httpx2.URL | None:
    """`base` followed by `path` (a `_PLAIN_PATH`: nothing to encode or normalise) as an httpx2 URL, made from the
    parts httpx2 parsed of `base`, its path made longer: httpx2 reads a URL given as text anew for every request. None
    when httpx2's URL is not made of such parts (another version): the text is given then."""
    try:
        url = httpx2.URL(base)
        parts = base._uri_reference
        url._uri_reference = parts._replace(path=parts.path + path)
    except (AttributeError, TypeError, ValueError):
        return None
    return url


def _joins_as_parsed(base: httpx2.URL, text: str) -> bool:
    """Whether `_joined` gives, part for part, the URL httpx2 parses of the text: checked once per client, so a
    version of httpx2 made otherwise, or a base URL with a query, gets the text as before."""
    joined = _joined(base, _PROBE_PATH)
    parsed = httpx2.URL(text + _PROBE_PATH)
    return joined is not None and joined._uri_reference == parsed._uri_reference and str(joined) == str(parsed)


# What a vendor client sends through: the server's lazy client, or a plain one (e.g. `integrations-mcp check`).
HttpRequester = LazyHttpClient | httpx2.AsyncClient


class HttpClients:
    """Every vendor client of one server; they are closed when the last connection using the server ends (the
    server lifespan runs once per stdio process, once per in-process connection, once per HTTP app)."""

    def __init__(self) -> None:
        self.clients: list[LazyHttpClient] = []
        self._users = 0

    def client(self, **options: Any) -> LazyHttpClient:
        client = LazyHttpClient(**options)
        self.clients.append(client)
        return client

    @asynccontextmanager
    async def in_use(self) -> AsyncIterator[None]:
        self._users += 1
        try:
            yield
        finally:
            self._users -= 1
            if not self._users:
                for client in self.clients:
                    await client.aclose()
