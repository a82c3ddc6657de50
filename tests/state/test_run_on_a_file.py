"""`StateStore.run` on a SQLite file (the journal's transactions): tried on the event loop's own connection, which
never waits; when another connection holds the file's write lock, the transaction waits for it in a worker thread
instead of failing or blocking the loop; the write-ahead log is checkpointed now and then; a journal row written
from another thread's event loop (the stdio page listener's) works too."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import anyio
import pytest

from integrations_mcp.state import locks as locks_module
from integrations_mcp.state import store as store_module
from integrations_mcp.state.journal import ChangeRow, JournalTable
from integrations_mcp.state.store import StateStore

pytestmark = pytest.mark.anyio


def row(target: str) -> ChangeRow:
    return ChangeRow(principal="p", tool="t", vendor="v", target=target, outcome="o", changes=[])


async def test_a_held_write_lock_is_waited_for_off_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    table = JournalTable(StateStore(f"sqlite+aiosqlite:///{path}"))
    first = await table.add(row("first"))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write transaction holds the file's write lock
    added: list[int] = []
    ticks = 0

    async def add() -> None:
        added.append(await table.add(row("second")))

    async with anyio.create_task_group() as tg:
        tg.start_soon(add)
        for _ in range(20):  # the event loop runs on while the add waits
            await anyio.sleep(0.005)
            ticks += 1
        assert not added  # still waiting: neither failed nor done under the other's lock
        other.execute("COMMIT")
    other.close()
    assert ticks == 20 and added == [first + 1]
    assert (await table.get(added[0])).target == "second"  # type: ignore[union-attr]
    await table.store.close()


async def test_the_log_is_checkpointed_now_and_then(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "CHECKPOINT_EVERY", 5)
    path = tmp_path / "state.sqlite3"
    table = JournalTable(StateStore(f"sqlite+aiosqlite:///{path}"))
    await table.add(row("0"))
    await table.store.run(lambda conn: conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)"))
    for n in range(4):
        await table.add(row(str(n)))
    size = path.stat().st_size  # the file itself; the new rows are in the log until a checkpoint
    for n in range(10):
        await table.add(row("x" * 3000 + str(n)))
    assert path.stat().st_size > size  # the rows' pages moved from the log into the file
    await table.store.close()


async def test_a_journal_row_from_another_threads_event_loop(tmp_path: Path) -> None:
    table = JournalTable(StateStore(f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite3'}"))
    await table.add(row("here"))
    ids: list[int] = []
    other = threading.Thread(target=lambda: ids.append(anyio.run(table.add, row("there"))))
    other.start()
    await anyio.to_thread.run_sync(other.join)
    assert (await table.get(ids[0])).target == "there"  # type: ignore[union-attr]
    await table.store.close()


async def test_a_row_is_stored_the_same_on_the_event_loops_connection_and_through_sqlalchemy(tmp_path: Path) -> None:
    """The journal's insert and update for sqlite3 itself (`DriverStatement`) against SQLAlchemy's own, byte for
    byte: every column type, JSON None, nested and non-ASCII values, each settle shape the pipeline uses."""
    rows = [ChangeRow(principal="os:me", tool="EditCxEngageIntegration", vendor="cxengage", target="Zendesk \u2014 x",
                      outcome="may have happened", changes=[{"field": "description", "saved": None,
                                                             "proposed": "caf\u00e9 \"q\" \\ \n"}],
                      integration="i-1", before={"a": [1, 2.5, True, None], "b": {"c": "\u2603"}}, secrets=["key"],
                      reverts=7, approved_by="alice", approved_how="on the approval page", at=1234.5),
            ChangeRow(principal="p", tool="t", vendor="v", target="x", outcome="refused", changes=[], detail="no",
                      at=99.0)]
    settles = [{"outcome": "written and verified", "integration": "i-2", "after": {"a": "b"}, "detail": ""},
               {"outcome": "failed", "detail": "why", "call_ids": ["c-1"]}, {"outcome": "may have happened",
                                                                            "after": None, "detail": "d"}]
    stored: list[list[tuple[object, ...]]] = []
    for name, through_sqlalchemy in (("here", False), ("sqlalchemy", True)):
        path = tmp_path / f"{name}.sqlite3"
        store = StateStore(f"sqlite+aiosqlite:///{path}")
        table = JournalTable(store)
        await store.migrate()
        if through_sqlalchemy:
            store._here.acquire()  # the event loop's connection is busy: every transaction goes to a thread
        done_here = store._done_here
        ids = [await table.add(r) for r in rows]
        for change_id in ids:
            for values in settles:
                await table.settle(change_id, **values)
        assert store._done_here - done_here == (0 if through_sqlalchemy else len(ids) * (1 + len(settles)))
        if through_sqlalchemy:
            store._here.release()
        await store.close()
        with sqlite3.connect(path) as db:
            stored.append(db.execute("SELECT * FROM journal ORDER BY id").fetchall())
            stored.append(db.execute("SELECT typeof(before), typeof(after), typeof(changes) FROM journal").fetchall())
    assert stored[0] == stored[2] and stored[1] == stored[3]


async def test_a_url_with_escapes_names_one_file_for_everything(tmp_path: Path) -> None:
    folder = tmp_path / "my state"
    folder.mkdir()
    store = StateStore(f"sqlite+aiosqlite:///{tmp_path}/my%20state/state.sqlite3")
    table = JournalTable(store)
    added = await table.add(row("one"))
    async with locks_module.cross_process_locks(store, ["k"]):
        pass
    assert (await table.get(added)).target == "one"  # type: ignore[union-attr]  (read through SQLAlchemy)
    await store.close()
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm"))) == (
        ["state.sqlite3", "state.sqlite3-locks"] if locks_module.OS_LOCKS else ["state.sqlite3"])
    assert [p.name for p in tmp_path.iterdir()] == ["my state"]
