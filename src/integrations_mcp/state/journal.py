"""The change journal's rows: one per write tried (written, refused or failed). Values of secrets never reach
here: callers pass images and changes as the model may see them, and secret field names only."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from integrations_mcp.state.store import StateStore

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy import Select
    from sqlalchemy.engine import Connection

    from integrations_mcp.state.engine import DriverStatement

__all__ = ["COUNT_CAP", "ChangeFilter", "ChangeRow", "JournalTable"]

PURGE_EVERY = 100  # changes; reads leave out what is due, without deleting (a read stays a read)
PURGE_BATCH = 1000  # changes deleted by one purge at most (a write's purge stays short)
PAGE_LEAVES_OUT = ("before", "after")  # a page never shows the images
# A page counts the matching rows only up to this many: an exact count reads every matching row, which on PostgreSQL
# grows with the table (55 ms at 100 k rows); paging itself is by (time, id) (keyset), so its cost does not grow.
COUNT_CAP = 1000
TOTAL = "total_capped"  # the page's column carrying the capped count
_EQUALS = ("vendor", "integration", "principal")  # filters by one value, each with its index (vendor|..., at, id)


_DRIVER_STATEMENTS: dict[tuple[str, tuple[str, ...]], DriverStatement] = {}  # (what, columns given) -> compiled


def _driver_statement(what: str, columns: tuple[str, ...]) -> DriverStatement:
    """The journal's insert (`add`) or settling update (`settle`) for sqlite3 itself (`StateStore.run`), compiled once
    per set of columns given."""
    found = _DRIVER_STATEMENTS.get((what, columns))
    if found is None:
        from sqlalchemy import bindparam, insert, update

        from integrations_mcp.state.engine import DriverStatement
        from integrations_mcp.state.schema import journal

        statement = insert(journal) if what == "add" else \
            update(journal).where(journal.c.id == bindparam("change_id"))
        found = _DRIVER_STATEMENTS[(what, columns)] = DriverStatement(statement, columns)
    return found


@dataclass(frozen=True)
class ChangeRow:
    principal: str
    tool: str
    vendor: str
    target: str
    outcome: str
    changes: list[dict[str, Any]]
    integration: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    secrets: list[str] = field(default_factory=list)
    call_ids: list[str] = field(default_factory=list)
    detail: str = ""
    reverts: int | None = None
    approved_by: str | None = None  # who approved it, when it needed approval
    approved_how: str | None = None  # Approval: in the client, on the approval page, by the model's token
    at: float = 0.0
    id: int | None = None


@dataclass(frozen=True)
class ChangeFilter:
    vendor: str | None = None
    integration: str | None = None
    principal: str | None = None
    since: float | None = None
    until: float | None = None


class JournalTable:
    def __init__(self, store: StateStore, *, retention_days: float | None = None) -> None:
        self.store, self.retention_days = store, retention_days
        self._made: dict[tuple[Any, ...], tuple[Select[Any], Select[Any]]] = {}

    async def add(self, row: ChangeRow) -> int:
        from sqlalchemy import insert

        from integrations_mcp.state.schema import journal

        values = {k: v for k, v in row.__dict__.items() if k != "id"}
        values["at"] = row.at or time.time()
        values["detail"] = row.detail[:4000]

        def add(conn: Connection) -> int:  # the row as parameters: one statement, compiled once (cached)
            # The new id: SQLite's lastrowid (no result rows to fetch), PostgreSQL's RETURNING.
            return int(conn.execute(insert(journal), values).inserted_primary_key[0])

        def here(db: sqlite3.Connection) -> int:
            statement = _driver_statement("add", tuple(values))
            return int(db.execute(statement.sql, statement.args(values)).lastrowid)  # type: ignore[arg-type]

        change_id = await self.store.run(add, here)
        if change_id % PURGE_EVERY == 0:  # retention, without a scheduler: now and then as changes come in
            await self.store.run(self._purge)
        return change_id

    async def settle(self, change_id: int, **values: Any) -> None:
        from sqlalchemy import bindparam, update

        from integrations_mcp.state.schema import journal

        if "detail" in values:
            values["detail"] = values["detail"][:4000]
        params = {**values, "change_id": change_id}

        def here(db: sqlite3.Connection) -> None:
            statement = _driver_statement("settle", tuple(values))
            db.execute(statement.sql, statement.args(params))

        statement = update(journal).where(journal.c.id == bindparam("change_id"))
        await self.store.run(lambda conn: conn.execute(statement, params), here)

    async def get(self, change_id: int) -> ChangeRow | None:
        from sqlalchemy import select

        from integrations_mcp.state.schema import journal

        def read(conn: Connection) -> ChangeRow | None:
            found = conn.execute(select(journal).where(journal.c.id == change_id)).mappings().first()
            return ChangeRow(**found) if found else None

        return await self.store.run(read)

    async def find(self, where: ChangeFilter, *, limit: int, before: int | None = None,
                   offset: int = 0) -> tuple[list[ChangeRow], int, bool]:
        """Newest first (by time, then id): the rows of one page (without their images) older than change `before`
        (keyset paging), how many match in all, counted up to COUNT_CAP (so `total` may be COUNT_CAP for more), and
        whether there are more rows after this page. One statement (the count rides on each row of the page), and
        one more for `before`'s place."""

        def read(conn: Connection) -> tuple[list[ChangeRow], int, bool]:
            cursor = None
            if before is not None:
                # Read first, so that the page's bounds are values: PostgreSQL plans a bound it cannot see (a
                # subquery) as a third of the table, and then reads every row of the filter and sorts them.
                cursor = conn.execute(self.cursor_query(before)).first()
                if cursor is None:  # no change at or below `before`: nothing is older
                    return [], 0, False
            shape, values = self._shape(where, limit=limit, before=before, offset=offset,
                                        cursor=(cursor[0], cursor[1]) if cursor else None)
            count, page = self._statements(shape)
            rows = conn.execute(page, values).mappings().all()
            if rows:
                total = rows[0][TOTAL]
            else:  # nothing on this page: without `before` nothing matches; after it, the others may
                total = 0 if before is None and not offset else conn.execute(count, values).scalar_one()
            return ([ChangeRow(**{k: v for k, v in row.items() if k != TOTAL}) for row in rows[:limit]], int(total),
                    len(rows) > limit)

        # One transaction in one hop (a worker thread on a SQLite file), not a round trip per statement and fetch.
        return await self.store.run(read)

    @staticmethod
    def cursor_query(before: int) -> Select[Any]:
        """The time and id of change `before`, or of the newest change below it when it is gone (purged, or never
        given): where the older page starts. One primary-key read."""
        from sqlalchemy import select

        from integrations_mcp.state.schema import journal

        return select(journal.c.at, journal.c.id).where(journal.c.id <= before).order_by(journal.c.id.desc()).limit(1)

    def queries(self, where: ChangeFilter, *, limit: int, before: int | None = None, offset: int = 0,
                cursor: tuple[float, int] | None = None) -> tuple[Select[Any], Select[Any]]:
        """The statements of `find` with their values bound (to read their plans): the capped count, and the page
        (limit + 1 rows, to know whether there are more, each with the count as TOTAL) after `cursor`
        (`cursor_query`'s row for `before`)."""
        shape, values = self._shape(where, limit=limit, before=before, offset=offset, cursor=cursor)
        count, page = self._statements(shape)
        return count.params(values), page.params(values)

    def _shape(self, where: ChangeFilter, *, limit: int, before: int | None, offset: int,
               cursor: tuple[float, int] | None) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Which bounds a page has (the key of its statements) and their values (the statements' parameters)."""
        values: dict[str, Any] = {name: value for name in (*_EQUALS, "since", "until")
                                  if (value := getattr(where, name)) is not None}
        if self.retention_days:  # what the retention forgot is not shown; writes delete it now and then (add)
            values["kept_since"] = time.time() - self.retention_days * 86400
        if cursor is not None:
            # (at, id) < (cursor's at, `before`), or <= the newest row below a `before` that is gone.
            values["cursor_at"] = cursor[0]
            values["below"] = before if before is not None and cursor[1] == before else cursor[1] + 1
        values["page_rows"] = limit + 1
        if offset:
            values["page_offset"] = offset
        return tuple(sorted(values)), values

    def _statements(self, shape: tuple[Any, ...]) -> tuple[Select[Any], Select[Any]]:
        """The count and page statements of a shape, built once: building them took longer than running them."""
        made = self._made.get(shape)
        if made is None:
            made = self._made[shape] = _statements(set(shape))
        return made

    async def purge(self) -> int:
        """Delete every change older than the retention, PURGE_BATCH at a time (each its own transaction, so writes
        go on between them); how many were deleted."""
        deleted = 0
        while True:
            batch = await self.store.run(self._purge)
            deleted += batch
            if batch < PURGE_BATCH:
                return deleted

    def _purge(self, conn: Connection) -> int:
        """At most PURGE_BATCH of the oldest changes past the retention: a write that purges stays short however
        much is due (90 days of a busy journal at the first start with a retention); reads leave the rest out."""
        from sqlalchemy import delete, select

        from integrations_mcp.state.schema import journal

        if not self.retention_days:
            return 0
        cutoff = time.time() - self.retention_days * 86400
        due = select(journal.c.id).where(journal.c.at < cutoff).order_by(journal.c.at).limit(PURGE_BATCH)
        return conn.execute(delete(journal).where(journal.c.id.in_(due))).rowcount or 0


def _statements(bounds: set[str]) -> tuple[Select[Any], Select[Any]]:
    """The capped count and the page for a set of bounds (`JournalTable._shape`'s names), every value a parameter.
    Each is one range of one index in order (time, id), ix_journal_<filter>_at_id or ix_journal_at_id: the time
    bounds (retention, since, the cursor's time) are the range's ends, so they stop after as many rows as they
    return, whatever the table's size and however few rows match (benchmarks/journal_rows.py --explain shows the
    plans)."""
    from sqlalchemy import Integer, and_, bindparam, func, or_, select

    from integrations_mcp.state.schema import journal

    def matching(table: Any) -> Any:
        clauses = [table.c[name] == bindparam(name) for name in _EQUALS if name in bounds]
        if "since" in bounds:
            clauses.append(table.c.at >= bindparam("since"))
        if "until" in bounds:
            clauses.append(table.c.at < bindparam("until"))
        if "kept_since" in bounds:
            clauses.append(table.c.at >= bindparam("kept_since"))
        return and_(True, *clauses)

    counted = journal.alias("counted")  # not correlated with the page it rides on
    count = select(func.count()).select_from(
        select(counted.c.id).where(matching(counted)).limit(COUNT_CAP).subquery())
    paged = matching(journal)
    if "cursor_at" in bounds:
        # `at <= ...` alone is the index range's end; the tie on `at` is decided by id.
        at = bindparam("cursor_at")
        paged = and_(paged, journal.c.at <= at, or_(journal.c.at < at, journal.c.id < bindparam("below")))
    page_columns = [c for c in journal.c if c.name not in PAGE_LEAVES_OUT]
    page = (select(*page_columns, count.scalar_subquery().label(TOTAL)).where(paged)
            .order_by(journal.c.at.desc(), journal.c.id.desc()).limit(bindparam("page_rows", type_=Integer)))
    if "page_offset" in bounds:
        page = page.offset(bindparam("page_offset", type_=Integer))
    return count, page
