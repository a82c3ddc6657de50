"""The change journal under thousands of rows (issues 12, 22): GetIntegrationChanges' queries (a page, a deep page by
`before`, each filter, narrow and empty ones) with the retention on, as served, and the retention purge, on SQLite (a
file) and PostgreSQL (started here when Debian's postgresql is installed), with realistic rows (a RevCent edit's
changes and before/after images, ~2 KB each). Also the size of a page as the model receives it. With --explain, each
query's plan: on PostgreSQL EXPLAIN ANALYZE's rows read and buffers touched by the capped count and the page (they
should not grow with the table), on SQLite the indexes used. Figures, not assertions:
`python benchmarks/journal_rows.py [--explain] [rows ...]` (default 2000 and 10000)."""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from sqlalchemy import insert

from integrations_mcp.server.journal_tools import Change, ChangePage
from integrations_mcp.state.journal import ChangeFilter, JournalTable
from integrations_mcp.state.schema import journal
from integrations_mcp.state.store import StateStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.state.postgres import running_postgres  # noqa: E402  (the tests' PostgreSQL starter)

INTEGRATIONS = 50
PRINCIPALS = 5
REPEAT = 20  # timings per query: the median is printed
SPREAD_DAYS = 89


def _image(n: int) -> dict[str, object]:
    options = {f"options.tax_{k}.field_{k}": [f"value-{n}-{k}"] for k in range(12)}
    return {"name": f"Tax {n % INTEGRATIONS}", "enabled": True, "description": "d" * 200, **options}


def _rows(count: int, now: float) -> list[dict[str, object]]:
    """`count` edits spread evenly over the last 89 days (all inside the 90-day retention, as a served table is: the
    purge runs every 100 changes)."""
    rows = []
    for n in range(count):
        before, after = _image(n), _image(n + 1)
        rows.append({"at": now - SPREAD_DAYS * 86400 * (count - n) / count,
                     "principal": f"session:{n % PRINCIPALS:012d}",
                     "tool": "EditUserThirdPartyIntegration", "vendor": "revcent" if n % 4 else "cxengage",
                     "integration": f"{n % INTEGRATIONS:024x}", "target": f"Tax {n % INTEGRATIONS}",
                     "outcome": "written and verified",
                     "changes": [{"field": k, "saved": before[k], "proposed": after[k], "overwrites": True}
                                 for k in list(before)[3:6]],
                     "before": before, "after": after, "secrets": [], "call_ids": [f"call-{n}"], "detail": ""})
    return rows


async def _timed_ms(action) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(median, fastest) of REPEAT runs: on a shared machine the fastest shows the work, the median the wait too."""
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        await action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, min(times) * 1000


def _queries(count: int, now: float) -> dict[str, tuple[ChangeFilter, int | None, int]]:
    """label -> (filter, before, offset): what GetIntegrationChanges asks (the offset row is for comparison only:
    the tool pages by `before`)."""
    deep = count - 990  # page 100 of 10
    return {
        "page 1": (ChangeFilter(), None, 0),
        "page 100 (before=id)": (ChangeFilter(), deep, 0),
        "page 100 (offset)": (ChangeFilter(), None, 990),
        "integration (1 in 50)": (ChangeFilter(integration=f"{7:024x}"), None, 0),
        "integration, none": (ChangeFilter(integration="f" * 24), None, 0),
        "principal (1 in 5)": (ChangeFilter(principal=f"session:{3:012d}"), None, 0),
        "principal, before=id": (ChangeFilter(principal=f"session:{3:012d}"), deep, 0),
        "vendor (1 in 4)": (ChangeFilter(vendor="cxengage"), None, 0),
        "vendor + days=7": (ChangeFilter(vendor="cxengage", since=now - 7 * 86400), None, 0),
        "days=1": (ChangeFilter(since=now - 86400), None, 0),
        "since after the newest": (ChangeFilter(since=now + 60), None, 0),
        "integration + days=1": (ChangeFilter(integration=f"{7:024x}", since=now - 86400), None, 0),
    }


async def _explain(conn, statement) -> str:  # type: ignore[no-untyped-def]
    """PostgreSQL's plan of `statement` as run: the rows the scans read, the buffers touched, the time the server
    took, the nodes."""
    from sqlalchemy import text

    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    explained = (await conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}"))).scalar_one()[0]
    plan = explained["Plan"]
    nodes, read = [], 0
    stack = [plan]
    while stack:
        node = stack.pop()
        name = node["Node Type"] + (f" {node['Index Name']}" if "Index Name" in node else "")
        nodes.append(name.replace("Index Scan", "IdxScan").replace("Index Only Scan", "IdxOnly"))
        if "Scan" in node["Node Type"]:
            read += node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
        stack.extend(reversed(node.get("Plans", [])))
    buffers = plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
    return (f"read {read:>6} rows {buffers:>5} buf {explained['Execution Time']:6.2f} ms in the server  "
            f"{' > '.join(nodes[1:] if nodes[0] == 'Aggregate' else nodes)}")


async def _sqlite_plan(conn, statement) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    steps = (await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))).all()
    return "; ".join(str(step[-1]) for step in steps)


async def measure(url: str, count: int, *, explain: bool) -> list[str]:
    store = StateStore(url)
    table = JournalTable(store, retention_days=90)
    now = time.time()
    rows = _rows(count, now)
    async with store.begin() as conn:
        for start in range(0, count, 500):
            await conn.execute(insert(journal), rows[start:start + 500])
    postgres = store.dialect == "postgresql"
    if postgres:  # the statistics autovacuum keeps on a served table (it would analyse these inserts within a minute)
        async with store.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).exec_driver_sql("VACUUM ANALYZE journal")
    lines = []
    for label, (where, before, offset) in _queries(count, now).items():
        median, fastest = await _timed_ms(lambda w=where, b=before, o=offset: table.find(w, limit=10, before=b,
                                                                                         offset=o))
        lines.append(f"  {label:<24} {median:8.2f} ms  fastest {fastest:6.2f} ms")
        if explain:
            async with store.begin() as conn:
                cursor = (await conn.execute(table.cursor_query(before))).first() if before else None
                count_query, page_query = table.queries(where, limit=10, before=before, offset=offset,
                                                        cursor=(cursor[0], cursor[1]) if cursor else None)
                plan = _explain if postgres else _sqlite_plan
                lines.append(f"      count alone: {await plan(conn, count_query)}")
                lines.append(f"      page, count: {await plan(conn, page_query)}")
    # The retention purge: half the rows made older than 90 days; a write deletes a batch of them, `purge` the rest.
    from sqlalchemy import update

    async with store.begin() as conn:
        await conn.execute(update(journal).where(journal.c.id % 2 == 0).values(at=journal.c.at - 91 * 86400))
    started = time.perf_counter()
    batch = await store.run(table._purge)  # what a write pays when it purges (every 100 changes)
    lines.append(f"  {'purge in a write':<24} {(time.perf_counter() - started) * 1000:8.2f} ms   {batch} rows")
    started = time.perf_counter()
    purged = await table.purge()
    lines.append(f"  {'purge the rest':<24} {(time.perf_counter() - started) * 1000:8.2f} ms   {purged} rows, "
                 "batch by batch")
    lines.append(f"  {'purge, nothing due':<24} {(await _timed_ms(table.purge))[0]:8.2f} ms")
    for limit in (10, 50):
        found, total, more = await table.find(ChangeFilter(), limit=limit)
        page = ChangePage(count=len(found), total=total, has_more=more, next_before=found[-1].id,
                          results=[Change.of(row, full=False) for row in found])
        size = len(page.model_dump_json(exclude_defaults=True))
        lines.append(f"  {'page of ' + str(limit) + ' (JSON)':<24} {size:8d} B    {size // limit} B a change")
        lines.append(f"  {'page of ' + str(limit) + ' (text)':<24} {len(page.answer()):8d} ch")
    newest = (await table.find(ChangeFilter(), limit=1))[0][0]
    full = Change.of(await table.get(newest.id or 0), full=True)  # type: ignore[arg-type]
    lines.append(f"  {'one change_id (JSON)':<24} {len(full.model_dump_json(exclude_defaults=True)):8d} B")
    await store.close()
    return lines


async def main(counts: list[int], explain: bool) -> None:
    logging.disable(logging.WARNING)
    for count in counts:
        with tempfile.TemporaryDirectory() as folder:
            print(f"SQLite file, {count} rows (median and fastest of {REPEAT})")
            print("\n".join(await measure(f"sqlite+aiosqlite:///{folder}/bench.sqlite3", count, explain=explain)))
        with running_postgres() as postgres:
            if postgres is None:
                print("PostgreSQL: not installed, skipped")
                continue
            print(f"PostgreSQL, {count} rows (median and fastest of {REPEAT}; after VACUUM ANALYZE, as autovacuum "
                  "keeps it)")
            print("\n".join(await measure(await postgres.new_database(), count, explain=explain)))


if __name__ == "__main__":
    arguments = [arg for arg in sys.argv[1:] if arg != "--explain"]
    anyio.run(main, [int(arg) for arg in arguments] or [2000, 10000], "--explain" in sys.argv)
