"""The change journal under thousands of rows (issue 12): GetIntegrationChanges' queries (a page, a deep page, each
filter) and the retention purge, on SQLite (a file) and PostgreSQL (started here when Debian's postgresql is
installed), with realistic rows (a RevCent edit's changes and before/after images, ~2 KB each). Also the size of a
page as the model receives it (the tool's structured result, JSON). Figures, not assertions:
`python benchmarks/journal_rows.py [rows ...]` (default 2000 and 10000)."""

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


def _image(n: int) -> dict[str, object]:
    options = {f"options.tax_{k}.field_{k}": [f"value-{n}-{k}"] for k in range(12)}
    return {"name": f"Tax {n % INTEGRATIONS}", "enabled": True, "description": "d" * 200, **options}


def _rows(count: int, now: float) -> list[dict[str, object]]:
    """`count` edits spread evenly over the last 180 days (so a 90-day retention purges half)."""
    rows = []
    for n in range(count):
        before, after = _image(n), _image(n + 1)
        rows.append({"at": now - 180 * 86400 * (count - n) / count, "principal": f"session:{n % PRINCIPALS:012d}",
                     "tool": "EditUserThirdPartyIntegration", "vendor": "revcent" if n % 4 else "cxengage",
                     "integration": f"{n % INTEGRATIONS:024x}", "target": f"Tax {n % INTEGRATIONS}",
                     "outcome": "written and verified",
                     "changes": [{"field": k, "saved": before[k], "proposed": after[k], "overwrites": True}
                                 for k in list(before)[3:6]],
                     "before": before, "after": after, "secrets": [], "call_ids": [f"call-{n}"], "detail": ""})
    return rows


async def _median_ms(action) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        await action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def measure(url: str, count: int) -> list[str]:
    store = StateStore(url)
    table = JournalTable(store, retention_days=90)
    now = time.time()
    rows = _rows(count, now)
    async with store.begin() as conn:
        for start in range(0, count, 500):
            await conn.execute(insert(journal), rows[start:start + 500])
    one_integration = ChangeFilter(integration=f"{7:024x}")
    queries = {
        "page 1": (ChangeFilter(), 0),
        "page 1 integration": (one_integration, 0),
        "page 1 principal": (ChangeFilter(principal=f"session:{3:012d}"), 0),
        "page 1 vendor+since": (ChangeFilter(vendor="cxengage", since=now - 200 * 86400), 0),
        "page 100 (offset)": (ChangeFilter(), 990),
    }
    lines = []
    # Measured before the purge (retention off), then the purge itself, then the pages again on what remains.
    table.retention_days = None
    for label, (where, offset) in queries.items():
        ms = await _median_ms(lambda w=where, o=offset: table.find(w, limit=10, offset=o))
        lines.append(f"  {label:<22} {ms:8.2f} ms")
    # What GetIntegrationChanges does for a deep page: keyset paging (before=<id>), no offset to skip.
    deep = count - 990
    ms = await _median_ms(lambda: table.find(ChangeFilter(), limit=10, before=deep))
    lines.append(f"  {'page 100 (before=id)':<22} {ms:8.2f} ms")
    table.retention_days = 90
    started = time.perf_counter()
    purged = await table.purge()
    lines.append(f"  {'purge (90 days)':<22} {(time.perf_counter() - started) * 1000:8.2f} ms   {purged} rows")
    lines.append(f"  {'purge, nothing due':<22} {await _median_ms(table.purge):8.2f} ms")
    ms = await _median_ms(lambda: table.find(ChangeFilter(), limit=10))
    lines.append(f"  {'page 1 (after purge)':<22} {ms:8.2f} ms   (reads leave out what is due)")
    for limit in (10, 50):
        found, total, more = await table.find(ChangeFilter(), limit=limit)
        page = ChangePage(count=len(found), total=total, has_more=more, next_before=found[-1].id,
                          results=[Change.of(row, full=False) for row in found])
        size = len(page.model_dump_json(exclude_defaults=True))
        lines.append(f"  {'page of ' + str(limit) + ' (JSON)':<22} {size:8d} B    {size // limit} B a change")
        lines.append(f"  {'page of ' + str(limit) + ' (text)':<22} {len(page.answer()):8d} ch")
    newest = (await table.find(ChangeFilter(), limit=1))[0][0]
    full = Change.of(await table.get(newest.id or 0), full=True)  # type: ignore[arg-type]
    lines.append(f"  {'one change_id (JSON)':<22} {len(full.model_dump_json(exclude_defaults=True)):8d} B")
    await store.close()
    return lines


async def main(counts: list[int]) -> None:
    logging.disable(logging.WARNING)
    for count in counts:
        with tempfile.TemporaryDirectory() as folder:
            print(f"SQLite file, {count} rows (median of {REPEAT})")
            print("\n".join(await measure(f"sqlite+aiosqlite:///{folder}/bench.sqlite3", count)))
        with running_postgres() as postgres:
            if postgres is None:
                print("PostgreSQL: not installed, skipped")
                continue
            print(f"PostgreSQL, {count} rows (median of {REPEAT})")
            print("\n".join(await measure(await postgres.new_database(), count)))


if __name__ == "__main__":
    anyio.run(main, [int(arg) for arg in sys.argv[1:]] or [2000, 10000])
