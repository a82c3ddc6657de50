"""Vendor HTTP clients made on the first request that needs one, not at start: an httpx2 client loads the CA bundle
when it is made (tens of milliseconds each), which a server that only lists its tools never needs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable
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
KEPT_URLS = 1024  # joined URLs kept per client (a few hundred bytes each)
_GET_ARGUMENTS = frozenset({"params", "headers", "json"})  # what a GET's headers may be set after building with
_BUILT_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "content-type", "cookie"})


class LazyHttpClient:
    """The httpx2.AsyncClient of `options`, made on first use (inside the running event loop); `aclose` closes it
    and the next request makes a new one. Unless `options` say otherwise, its connections are VENDOR_CONNECTIONS."""

    def __init__(self, **options: Any) -> None:
        self._options = {"limits": VENDOR_CONNECTIONS, **options}
        self._client: httpx2.AsyncClient | None = None
        self._base: str | None = None  # the client's base URL (httpx2 ends it with "/")
        self._join = False  # whether `_joined` makes the URLs httpx2 parses from `_base` + a plain path
        self._urls: dict[str, httpx2.URL | str] = {}  # plain path -> the URL sent for it (`_url`), KEPT_URLS at most
        self._own_headers: frozenset[str] = frozenset()  # the client's headers' names, lower-cased

    @property
    def made(self) -> bool:
        return self._client is not None

    def request(self, method: str, url: str | httpx2.URL, **kwargs: Any) -> Awaitable[httpx2.Response]:
        """What `client.request(method, url, **kwargs)` gives: its coroutine (or `client.send`'s), to be awaited by
        the caller, not one awaiting it (every frame between a request and its caller is resumed at each wait for
        the network)."""
        client = self._client
        if client is None:
            client = self._client = httpx2.AsyncClient(**self._options)
            base = client.base_url
            self._base = str(base) if base.is_absolute_url else None
            self._join = self._base is not None and _joins_as_parsed(base, self._base)
            self._urls = {}
            self._own_headers = frozenset(key.lower() for key in client.headers)
        if self._base is not None and isinstance(url, str):
            url = self._urls.get(url) or self._url(client, url)
        headers = kwargs.get("headers")
        if headers and method == "GET" and kwargs.keys() <= _GET_ARGUMENTS and kwargs.get("json") is None \
                and self._set_after(headers) and not client.cookies:
            # What client.request builds and sends, but the request's own headers (a vendor key) set on the request
            # built with the client's, not merged with them first: httpx2's merge copies the client's headers and
            # asks for each new one by a KeyError raised and caught (~30 K instructions a request); set last, each
            # ends the list as the merge puts it. Only for a GET with no body and a client with no cookies (their
            # headers would come after), the headers plain ASCII text the client does not already have
            # (`_set_after`); any other request is merged by httpx2 as before.
            request = client.build_request(method, url, params=kwargs.get("params"))
            for key, value in headers.items():
                request.headers[key] = value
            return client.send(request)
        return client.request(method, url, **kwargs)

    def _url(self, client: httpx2.AsyncClient, path: str) -> httpx2.URL | str:
        """The URL httpx2 would make of the base URL and `path`, made here when `path` is plain (`_PLAIN_PATH`): its
        merge parses and rebuilds the URL in Python (tens of microseconds a request, more than the rest of our part
        of a read), and so does its parse of the joined text (`_joined`: the parsed base with a longer path instead).
        Kept by path (a read of a record again sends the same URL; httpx2's URLs are immutable), KEPT_URLS at most,
        emptied when full. Any other path is given to httpx2's merge as it is."""
        if not _PLAIN_PATH.fullmatch(path):
            return path
        url = (self._join and _joined(client.base_url, path)) or self._base + path  # type: ignore[operator]
        if len(self._urls) >= KEPT_URLS:
            self._urls.clear()
        self._urls[path] = url
        return url

    def _set_after(self, headers: Any) -> bool:
        """Whether `headers`, set one by one on a request built with the client's headers, give the list httpx2's
        merge gives: a dict of ASCII text (what the merge encodes so), none a header the client has or one the
        request's building looks at (Host, Content-Length, Transfer-Encoding, Content-Type, Cookie), no two
        names the same but for case (the merge keeps both)."""
        if type(headers) is not dict:
            return False
        seen = self._own_headers
        for key, value in headers.items():
            if type(key) is not str or type(value) is not str or not (key.isascii() and value.isascii()):
                return False
            name = key.lower()
            if name in seen or name in _BUILT_HEADERS:
                return False
            seen = seen | {name}
        return True

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
