"""A state transaction cancelled at any moment (the client went away, a timeout) ends whole: it never leaves a SQLite
file's write lock held, nor loses the in-memory database (`StateStore.begin`, `StateStore.run`).

Before the fix, a transaction cut mid-statement dropped its aiosqlite connection, whose close, itself cancelled,
raced aiosqlite's stop: the sqlite3 connection was never closed, so another connection's write got "database is
locked" (for good), and in memory the database (which lives in that connection) was gone. The cancellations land at
many points of the transaction (0 to 3 ms in); the assertions hold wherever they land."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest
from sqlalchemy import func, insert, select

from integrations_mcp.state.journal import ChangeRow, JournalTable
from integrations_mcp.state.schema import spent_forms
from integrations_mcp.state.store import StateStore

pytestmark = pytest.mark.anyio

ROUNDS = 60


async def spend_two(store: StateStore, n: int) -> None:
    async with store.begin() as conn:
        await conn.execute(insert(spent_forms).values(vendor="a", form_id=f"f{n}", spent_at=1.0))
        await conn.execute(select(func.count()).select_from(spent_forms))
        await conn.execute(insert(spent_forms).values(vendor="b", form_id=f"f{n}", spent_at=1.0))


async def counts(store: StateStore) -> tuple[int, int]:
    async with store.begin() as conn:
        rows = dict((await conn.execute(select(spent_forms.c.vendor, func.count()).group_by(spent_forms.c.vendor)))
                    .all())
    return rows.get("a", 0), rows.get("b", 0)


async def test_a_cancelled_transaction_on_a_file_never_keeps_its_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = StateStore(f"sqlite+aiosqlite:///{path}")
    table = JournalTable(store)
    await store.migrate()
    for n in range(ROUNDS):
        with anyio.move_on_after((n % 30) / 10_000):
            await spend_two(store, n)
        with anyio.move_on_after((n % 30) / 10_000):
            await table.add(ChangeRow(principal="p", tool="t", vendor="v", target="x", outcome="o", changes=[]))
        other = sqlite3.connect(path, timeout=5)  # another process's write: waits while the file's lock is held
        try:
            with other:
                other.execute("INSERT INTO spent_forms VALUES ('other', ?, 1.0)", (f"g{n}",))
        finally:
            other.close()
    a, b = await counts(store)
    assert a == b  # each transaction whole: both its rows, or neither
    await store.close()


async def test_a_cancelled_transaction_in_memory_keeps_the_database() -> None:
    store = StateStore("sqlite+aiosqlite:///:memory:")
    table = JournalTable(store)
    kept = await table.add(ChangeRow(principal="p", tool="t", vendor="v", target="kept", outcome="o", changes=[]))
    for n in range(ROUNDS):
        with anyio.move_on_after((n % 30) / 10_000):
            await spend_two(store, n)
        row = await table.get(kept)
        assert row is not None and row.target == "kept"
    a, b = await counts(store)
    assert a == b
    await store.close()


async def test_a_cancelled_wait_for_the_in_memory_turn_leaves_at_once() -> None:
    store = StateStore("sqlite+aiosqlite:///:memory:")
    await counts(store)
    entered, release = anyio.Event(), anyio.Event()
    waited: list[str] = []

    async def holder() -> None:
        async with store.begin():
            entered.set()
            await release.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(holder)
        await entered.wait()
        with anyio.CancelScope() as waiting:
            waiting.cancel()
            async with store.begin():
                waited.append("entered")
        assert waiting.cancelled_caught and not waited  # cancelled while the turn was taken, not after it
        release.set()
    assert await counts(store) == (0, 0)
    await store.close()
