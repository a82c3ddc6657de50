"""One write at a time per target, within this server: the check and the write it allows happen under one lock, so
a second writer waits and is planned again against what the first one wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager

import anyio

__all__ = ["WriteLocks"]


class WriteLocks:
    def __init__(self) -> None:
        self._locks: dict[str, anyio.Lock] = {}
        self._holders: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        """Hold every key's lock (taken in sorted order, so two writers never wait on each other)."""
        async with AsyncExitStack() as stack:
            for key in sorted(set(keys)):
                await stack.enter_async_context(self._one(key))
            yield

    @asynccontextmanager
    async def _one(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, anyio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:  # nobody holds or waits: forget it, so the map does not grow forever
                del self._holders[key], self._locks[key]
