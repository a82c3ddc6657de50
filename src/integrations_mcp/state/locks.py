"""Write serialisation across replicas: a PostgreSQL advisory lock per key, held by one transaction for as long as
the write runs (released with it, also when the process dies). SQLite needs none: one file is one host, and the
server's in-process locks already serialise its writes."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from integrations_mcp.state.store import StateStore

__all__ = ["advisory_locks", "lock_id"]


def lock_id(key: str) -> int:
    """A signed 64-bit number for a lock key (what pg_advisory_xact_lock takes)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


@asynccontextmanager
async def advisory_locks(store: StateStore, keys: list[str]) -> AsyncIterator[None]:
    """Hold every key's lock across replicas (keys in sorted order, as the in-process locks take them)."""
    from sqlalchemy import text

    if not store.shared or not keys:
        yield
        return
    # Each holder keeps a connection for the whole write and needs others meanwhile (journal, approvals): bounded,
    # so that the pool never runs dry with every connection waiting for a second one.
    async with store.lock_holders, store.begin() as conn:
        for key in sorted(set(keys)):
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id(key)})
        yield
