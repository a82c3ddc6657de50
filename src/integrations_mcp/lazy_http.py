"""Vendor HTTP clients made on the first request that needs one, not at start: an httpx2 client loads the CA bundle
when it is made (tens of milliseconds each), which a server that only lists its tools never needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2

__all__ = ["HttpClients", "HttpRequester", "LazyHttpClient", "VENDOR_CONNECTIONS"]

# Connections to one vendor API, all of them kept alive between requests. httpx2 keeps only 20 of its 100 by default:
# with more than 20 requests in flight (an HTTP server with many sessions) every request past the 20th opened a
# new connection and closed it after the answer (TCP set-up on both sides, and TLS with a real vendor).
VENDOR_CONNECTIONS = httpx2.Limits(max_connections=100, max_keepalive_connections=100)


class LazyHttpClient:
    """The httpx2.AsyncClient of `options`, made on first use (inside the running event loop); `aclose` closes it
    and the next request makes a new one. Unless `options` say otherwise, its connections are VENDOR_CONNECTIONS."""

    def __init__(self, **options: Any) -> None:
        self._options = {"limits": VENDOR_CONNECTIONS, **options}
        self._client: httpx2.AsyncClient | None = None

    @property
    def made(self) -> bool:
        return self._client is not None

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        if self._client is None:
            self._client = httpx2.AsyncClient(**self._options)
        return await self._client.request(method, url, **kwargs)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


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
