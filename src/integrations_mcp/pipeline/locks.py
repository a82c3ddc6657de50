"""One write at a time per target: the check and the write it allows happen under one lock, so a second writer waits
and is planned again against what the first one wrote. Within this process an anyio lock per key; across processes
sharing the state database, a lock per key as well (`state.locks`: PostgreSQL advisory locks, or leases in a SQLite
file)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager

import anyio

from integrations_mcp.state.locks import Leases, cross_process_locks
from integrations_mcp.state.store import StateStore

__all__ = ["WriteLocks"]


class WriteLocks:
    def __init__(self, state: StateStore | None = None, leases: Leases | None = None) -> None:
        self._state, self._leases = state, leases or Leases()
        self._locks: dict[str, anyio.Lock] = {}
        self._holders: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        """Hold every key's lock (taken in sorted order, so two writers never wait on each other)."""
        async with AsyncExitStack() as stack:
            ordered = sorted(set(keys))
            for key in ordered:
                await stack.enter_async_context(self._one(key))
            if self._state is not None:
                await stack.enter_async_context(cross_process_locks(self._state, ordered, self._leases))
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
