"""Issue 22, journal pages that do not grow with the table: newest first by (time, id), `before` paging through a
filter and past a change that is gone, every filter answered from its own index (SQLite's plans, which need no
statistics), and migration 0009 up and down on SQLite and PostgreSQL, keeping the rows."""

from __future__ import annotations

import time
from importlib.resources import files
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import delete, inspect, text

from integrations_mcp.state import StateStore
from integrations_mcp.state import journal as journal_module
from integrations_mcp.state.journal import ChangeFilter, ChangeRow, JournalTable
from integrations_mcp.state.schema import journal
from tests.state.postgres import PostgresServer

pytestmark = pytest.mark.anyio

NOW = time.time()
NEW_INDEXES = {"ix_journal_at_id": ["at", "id"], "ix_journal_vendor_at_id": ["vendor", "at", "id"],
               "ix_journal_integration_at_id": ["integration", "at", "id"],
               "ix_journal_principal_at_id": ["principal", "at", "id"]}
OLD_INDEXES = {f"ix_journal_{name}": [name] for name in ("at", "vendor", "integration", "principal")}


def change(n: int, at: float) -> ChangeRow:
    return ChangeRow(principal=f"p{n % 3}", tool="EditCxEngageIntegration", vendor=("revcent", "cxengage")[n % 2],
                     target=f"T{n}", outcome="written and verified", changes=[], integration=f"i{n % 5}", at=at)


async def filled(url: str, ats: list[float]) -> tuple[JournalTable, list[int]]:
    table = JournalTable(StateStore(url), retention_days=90)
    return table, [await table.add(change(n, at)) for n, at in enumerate(ats)]


async def ids(table: JournalTable, where: ChangeFilter, limit: int, before: int | None = None) -> list[int]:
    rows, _, _ = await table.find(where, limit=limit, before=before)
    return [row.id or 0 for row in rows]


async def test_pages_are_newest_first_by_time_then_id_and_before_pages_through_a_filter() -> None:
    # Times out of id order (a replica's clock behind another's), two changes at one time.
    ats = [NOW - 50, NOW - 10, NOW - 40, NOW - 30, NOW - 30, NOW - 20, NOW - 5, NOW - 60]
    table, made = await filled("sqlite+aiosqlite:///:memory:", ats)
    newest_first = [made[i] for i in sorted(range(len(ats)), key=lambda i: (ats[i], made[i]), reverse=True)]
    assert await ids(table, ChangeFilter(), 20) == newest_first
    seen, before = [], None
    while True:  # three at a time, by next_before: every change once, in order
        rows, total, more = await table.find(ChangeFilter(), limit=3, before=before)
        seen += [row.id for row in rows]
        if not more:
            break
        before = rows[-1].id
    assert seen == newest_first and total == len(ats)
    p1 = [i for i in newest_first if i in {made[n] for n in range(len(ats)) if n % 3 == 1}]
    assert await ids(table, ChangeFilter(principal="p1"), 1) == p1[:1]
    assert await ids(table, ChangeFilter(principal="p1"), 5, before=p1[0]) == p1[1:]
    assert await ids(table, ChangeFilter(since=NOW - 25), 20) == [made[6], made[1], made[5]]
    assert await ids(table, ChangeFilter(since=NOW + 60), 20) == []


async def test_before_a_change_that_is_gone_starts_below_it() -> None:
    table, made = await filled("sqlite+aiosqlite:///:memory:", [NOW - 40 + n for n in range(6)])
    async with table.store.begin() as conn:
        await conn.execute(delete(journal).where(journal.c.id == made[3]))
    assert await ids(table, ChangeFilter(), 10, before=made[3]) == [made[2], made[1], made[0]]
    assert await ids(table, ChangeFilter(), 10, before=made[0]) == []
    assert await ids(table, ChangeFilter(), 10, before=made[-1] + 1000) == [made[5], made[4], made[2], made[1],
                                                                                made[0]]


FILTERS = [ChangeFilter(), ChangeFilter(vendor="cxengage"), ChangeFilter(integration="i1"),
           ChangeFilter(principal="p2"), ChangeFilter(since=NOW - 3600), ChangeFilter(vendor="revcent", since=NOW - 60),
           ChangeFilter(integration="i2", since=NOW - 60)]


@pytest.mark.parametrize("where", FILTERS, ids=lambda w: ",".join(k for k, v in w.__dict__.items() if v) or "none")
@pytest.mark.parametrize("before", [None, 5])
async def test_every_filter_is_one_index_range_in_order(tmp_path: Path, where: ChangeFilter,
                                                        before: int | None) -> None:
    """No scan of the table and no sort: the page and its count stop after the rows they need."""
    table, _ = await filled(f"sqlite+aiosqlite:///{tmp_path}/j.sqlite3", [NOW - 100 + n for n in range(12)])
    async with table.store.begin() as conn:
        cursor = (await conn.execute(table.cursor_query(before))).first() if before else None
        for statement in table.queries(where, limit=10, before=before, cursor=(cursor[0], cursor[1]) if cursor
                                       else None):
            sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            plan = " ; ".join(str(step[-1]) for step in (await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))))
            assert "USING" in plan and "INDEX ix_journal_" in plan, plan
            assert "SCAN journal" not in plan and "TEMP B-TREE" not in plan, plan
    await table.store.close()


def _config(conn: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("integrations_mcp.state") / "migrations"))
    config.attributes["connection"] = conn
    return config


def _indexes(conn: object) -> dict[str, list[str]]:
    return {index["name"]: index["column_names"] for index in inspect(conn).get_indexes("journal")}


async def _up_and_down(url: str) -> None:
    store = StateStore(url)
    async with store.engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(_config(c), "0006"))
        assert await conn.run_sync(_indexes) == OLD_INDEXES
        await conn.execute(text("insert into journal (at, principal, tool, vendor, target, outcome, changes, "
                                "secrets, call_ids, detail) values (:at, 'p', 't', 'revcent', 'x', 'refused', '[]', "
                                "'[]', '[]', '')"), {"at": NOW})
    await store.close()
    store = StateStore(url)  # the first use migrates to head
    table = JournalTable(store, retention_days=90)
    assert [row.target for row in (await table.find(ChangeFilter(vendor="revcent"), limit=5))[0]] == ["x"]
    await table.add(change(1, NOW - 100 * 86400))
    assert await table.purge() == 1  # the batched purge's statement, on this database too
    async with store.engine.begin() as conn:
        assert await conn.run_sync(_indexes) == NEW_INDEXES
        await conn.run_sync(lambda c: command.downgrade(_config(c), "0006"))
        assert await conn.run_sync(_indexes) == OLD_INDEXES
        assert (await conn.execute(text("select count(*) from journal"))).scalar_one() == 1
    await store.close()


async def test_migration_0009_up_and_down_on_sqlite(tmp_path: Path) -> None:
    await _up_and_down(f"sqlite+aiosqlite:///{tmp_path}/m.sqlite3")


@pytest.mark.slow
async def test_migration_0009_up_and_down_on_postgresql(postgres_server: PostgresServer) -> None:
    await _up_and_down(await postgres_server.new_database())


async def test_a_purge_deletes_a_batch_at_a_time_and_reads_hide_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    """A write's purge stays short however much is due: PURGE_BATCH of the oldest; the rest stays hidden from pages
    until later purges; `purge` deletes everything due, batch by batch."""
    monkeypatch.setattr(journal_module, "PURGE_BATCH", 3)
    old = [NOW - 100 * 86400 - n for n in range(8)]
    table, made = await filled("sqlite+aiosqlite:///:memory:", [*old, NOW - 10, NOW - 5])
    assert await table.store.run(table._purge) == 3
    async with table.store.begin() as conn:
        oldest_left = (await conn.execute(text("select min(at) from journal"))).scalar_one()
    assert oldest_left == max(old) - 4  # the three oldest went first
    assert await ids(table, ChangeFilter(), 20) == [made[9], made[8]]
    assert (await table.find(ChangeFilter(), limit=20))[1] == 2
    assert await table.purge() == 5
    async with table.store.begin() as conn:
        assert (await conn.execute(text("select count(*) from journal"))).scalar_one() == 2
