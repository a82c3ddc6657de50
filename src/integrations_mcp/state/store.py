"""One state store over one database: the engine, the schema's version, and start-up.

SQLite: one file, shared by the server processes of one host (SQLite's own locking keeps it consistent; writes per
integration are serialised by leases in the file, `state.locks`). PostgreSQL: several replicas share it; they
serialise writes per integration with advisory locks (`state.locks`).

This module imports neither SQLAlchemy nor Alembic (`state.engine` does, on the first use of the database), so
building the server and answering tools/list never pays for them."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import stat
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import anyio

from integrations_mcp.configuration_error import ConfigurationError  # not `errors`: no MCP SDK in the start-up child

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")

__all__ = ["DEFAULT_URL_HINT", "KNOWN_VERSIONS", "StateError", "StateStore", "checked_url", "default_url",
           "hide_url_password", "state_failures"]

DEFAULT_URL_HINT = "a SQLite file in the user data directory"
# The shipped migrations, oldest first (a test keeps this equal to Alembic's).
KNOWN_VERSIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009")
log = logging.getLogger(__name__)
MIGRATION_LOCK = 0x1A7E_57A7  # the advisory lock replicas take while one of them migrates
POOL_SIZE = 10  # PostgreSQL connections kept per process (as many again may be opened for bursts)
SQLITE_MIGRATION_ATTEMPTS = 5
CHECKPOINT_EVERY = 100  # transactions `run` commits on the event loop's connection between two checkpoints
LOCK_HOLDERS = POOL_SIZE  # writes holding advisory locks at once per process: the rest of the pool stays free
_URL = re.compile(r"(?P<scheme>[\w+]+)://(?P<rest>.*)", re.DOTALL)


class StateError(ConfigurationError):
    """The state database cannot be used (bad URL, unreachable, or newer than this code)."""


def newer_than_code(current: str, head: str) -> StateError:
    return StateError(f"The state database is at schema version {current!r}, newer than this integrations-mcp "
                      f"knows (up to {head!r}). Upgrade integrations-mcp, or point INTEGRATIONS_STATE_URL at "
                      "another database.")


def state_failures() -> tuple[type[BaseException], ...]:
    """What a failing database raises, for `except state_failures():` (evaluated only when something was raised,
    so a caller does not import SQLAlchemy to be ready for it)."""
    from sqlalchemy.exc import SQLAlchemyError

    return SQLAlchemyError, OSError, StateError


def default_url() -> str:
    """SQLite in the platform's user data directory (a folder only its owner can enter), created on first use."""
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("integrations-mcp", appauthor=False))
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _owner_only(folder, 0o700, "folder")
    return f"sqlite+aiosqlite:///{folder / 'state.sqlite3'}"


def checked_url(url: str) -> str:
    """The state URL with the driver this code uses (SQLite: aiosqlite; PostgreSQL: psycopg, async and blocking
    alike, so one driver is installed); a URL naming a driver this code cannot use is refused here, at start, rather
    than by the first write. `postgresql://` and `postgresql+asyncpg://` (the earlier documented form) both mean
    psycopg."""
    match = _URL.fullmatch(url)
    if match is None:
        raise StateError("INTEGRATIONS_STATE_URL is not a database URL (e.g. sqlite+aiosqlite:///path or "
                         "postgresql://user@host/db).")
    dialect, _, driver = match["scheme"].partition("+")
    if dialect == "sqlite":
        if driver != "aiosqlite":
            raise StateError(f"INTEGRATIONS_STATE_URL={match['scheme']}://… names SQLite's blocking driver, which "
                             "the server (async) cannot use: write sqlite+aiosqlite:///path/to/state.sqlite3.")
        return url
    if dialect in ("postgresql", "postgres"):
        if driver not in ("", "psycopg", "asyncpg"):
            raise StateError(f"INTEGRATIONS_STATE_URL={match['scheme']}://… names a PostgreSQL driver this server "
                             "does not use: write postgresql://user:password@host/db (psycopg, the postgres extra).")
        return f"postgresql+psycopg://{match['rest']}"
    raise StateError("INTEGRATIONS_STATE_URL must be a sqlite+aiosqlite:// or postgresql:// URL.")


def _owner_only(path: Path, wanted: int, what: str) -> None:
    """Take group and other permissions off `path` (POSIX), saying so: the state holds the journal, approvals and
    sealed form values. A path this process cannot change is left to the first use to report."""
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(mode & wanted)
            log.warning("The state database %s %s was open to other users (mode %03o); it is now %03o (owner "
                        "only).", what, path, mode, mode & wanted)
    except OSError as exc:
        log.warning("The state database %s %s could not be made private (%s): make it readable by its owner only.",
                    what, path, exc.strerror or exc)


class _Turns:
    """One transaction at a time, first come first served, whichever thread's event loop asks: under stdio the pages
    are served by a listener in a thread (and event loop) of its own, and an anyio.Lock held by the server's loop
    never wakes a waiter of another loop (an approval page's POST hung while the waiting tool call polled)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(turn)
        try:
            await turn
        except BaseException:
            with self._guard:
                if turn in self._waiters:
                    self._waiters.remove(turn)
                elif turn.done() and not turn.cancelled():
                    self._pass_on()  # handed the turn while being cancelled: the next one gets it
            raise

    async def __aexit__(self, *_: object) -> None:
        with self._guard:
            self._pass_on()

    def _pass_on(self) -> None:
        """With the guard held: the turn goes to the first waiter (on its own loop), else nobody holds it."""
        if not self._waiters:
            self._held = False
            return
        turn = self._waiters.popleft()
        turn.get_loop().call_soon_threadsafe(self._hand, turn)

    def _hand(self, turn: asyncio.Future[None]) -> None:
        with self._guard:
            if turn.cancelled():
                self._pass_on()
            else:
                turn.set_result(None)


class StateStore:
    def __init__(self, url: str) -> None:
        url = checked_url(url)
        match = _URL.fullmatch(url)
        assert match is not None  # checked_url
        self.dialect = match["scheme"].split("+")[0]
        self.url = url
        # sqlite+aiosqlite:// and sqlite+aiosqlite:///:memory: are in memory; sqlite+aiosqlite:///path is a file.
        self.database = match["rest"].partition("/")[2].partition("?")[0]
        self.in_memory = self.dialect == "sqlite" and self.database in ("", ":memory:")
        self._engine: AsyncEngine | None = None  # made by the first use (state.engine)
        self._threaded: Engine | None = None  # a SQLite file's blocking engine, for `run` in worker threads
        self._here_db: sqlite3.Connection | None = None  # `run`'s connection on the event loop
        self._here = threading.Lock()  # one transaction at a time on it
        self._done_here = 0
        self._ready = False
        self._ready_lock = anyio.Lock()
        self.lock_holders = anyio.Semaphore(LOCK_HOLDERS)  # so short statements always find a connection
        # In memory there is one connection (the database lives in it), and SQLite has one transaction per
        # connection: transactions take turns on it, as they would on a file's write lock.
        self._turns = _Turns() if self.in_memory else None

    def __repr__(self) -> str:  # never the password
        return f"StateStore({_hide_password(self.url)})"

    @property
    def shared(self) -> bool:
        """Several processes on several hosts may use this database (so in-process locks are not enough)."""
        return self.dialect == "postgresql"

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            from integrations_mcp.state.engine import async_engine

            self.make_private(create=True)
            self._engine = async_engine(self)
        return self._engine

    def make_private(self, *, create: bool) -> None:
        """A SQLite file is readable by its owner only: created 0600 (`create`), and an existing one open to others
        is made so, with a warning. At start (`check_version`) and before the first connection."""
        if self.dialect != "sqlite" or self.in_memory:
            return
        path = Path(self.database)
        if create and os.name == "posix" and not path.exists():
            try:
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError:
                return  # e.g. a missing folder: the first use reports it
        if path.is_file():
            _owner_only(path, 0o600, "file")

    def check_version(self) -> str | None:
        """A cheap start-up check of a SQLite file's schema version (the standard library's sqlite3, no
        SQLAlchemy): refuses a database newer than this code with the message `migrate` would give. A missing
        file or an unmigrated one is left to the first use, which creates and migrates it. The version read
        (None: not read)."""
        if self.dialect != "sqlite" or self.in_memory or not Path(self.database).is_file():
            return None
        self.make_private(create=False)
        import sqlite3

        try:
            with sqlite3.connect(f"{Path(self.database).as_uri()}?mode=ro", uri=True, timeout=30) as conn:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            return None  # not migrated yet, or locked: the first use migrates (or refuses) with the full message
        if row is not None and row[0] not in KNOWN_VERSIONS:
            raise newer_than_code(row[0], KNOWN_VERSIONS[-1])
        return None if row is None else row[0]

    async def migrate(self) -> None:
        """Bring the schema to this code's version, once per process. Refuses when the database is newer."""
        if self._ready:  # without the lock: the stdio page listener's thread (another event loop) comes here too
            return
        async with self._ready_lock:
            if self._ready:
                return
            from integrations_mcp.state.engine import SQLAlchemyError, upgrade

            for attempt in range(1, SQLITE_MIGRATION_ATTEMPTS + 1):
                try:
                    async with self.engine.begin() as conn:
                        if self.dialect == "sqlite" and not self.in_memory:
                            # Take the file's write lock before reading the version: two processes starting on one
                            # file then migrate one after the other (reading first, both would wait for the other's
                            # read lock until the busy timeout, 30 s).
                            await conn.exec_driver_sql("BEGIN IMMEDIATE")
                        await conn.run_sync(upgrade, self.shared)
                    break
                except StateError:
                    raise
                except (SQLAlchemyError, OSError) as exc:
                    # SQLite has no advisory lock (and pysqlite runs DDL outside the transaction): processes creating
                    # one file race; a loser waits for the winner to finish, then finds it done.
                    if attempt < SQLITE_MIGRATION_ATTEMPTS and self.dialect == "sqlite":
                        await anyio.sleep(0.1 * attempt)
                        continue
                    raise StateError(f"The state database ({self!r}) cannot be opened or migrated: "
                                     f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None
            self._ready = True

    def sync_engine(self) -> Engine:
        """The same database through a blocking driver (pysqlite / psycopg), for stores whose callers are not
        async (the secure form store). Migrated on its first connection."""
        from integrations_mcp.state.engine import sync_engine

        self.make_private(create=True)
        return sync_engine(self)

    async def prepare(self) -> None:
        """At start-up, in an event loop of its own: migrate, then drop the connections made in that loop."""
        await self.migrate()
        await self.close()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """One transaction, on a migrated database. Its statements are all it awaits (callers keep it so).

        SQLite: the transaction is shielded from cancellation, which reaches the caller when it has ended. Cut
        mid-statement, SQLAlchemy drops the aiosqlite connection, and its close, itself cancelled, races aiosqlite's
        stop: the sqlite3 connection is never closed, and a file's write lock stays held (every other connection:
        "database is locked"); in memory the database, which lives in that connection, is gone. A wait for the
        turn (in memory) stays cancellable."""
        await self.migrate()
        if self.dialect != "sqlite":
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._turns or nullcontext():
            with anyio.CancelScope(shield=True):
                async with self.engine.begin() as conn:
                    yield conn

    async def run(self, work: Callable[[Connection], T],
                  here: Callable[[sqlite3.Connection], T] | None = None) -> T:
        """`work` in one transaction (a blocking SQLAlchemy connection; statements only), on a migrated database.
        On SQLite never cut by a cancellation: it runs to its end (see `begin`).

        On a SQLite file, where aiosqlite makes each statement, the commit and the pool's rollback a round trip to
        its thread: `here`, the same transaction written for sqlite3 itself (its statements compiled once by
        SQLAlchemy: `DriverStatement`), is first tried right here on the event loop, on a connection that never waits
        (busy timeout 0) and never checkpoints (a commit appends to the write-ahead log, no fsync): it cannot stall
        the loop, and costs less CPU than handing it over. When the file's write lock is held (another process,
        another connection of this one), that connection is busy (another thread's event loop), or anything else
        goes wrong there, `work` runs in a worker thread instead, which waits up to the usual 30 s and reports
        failures as SQLAlchemy's errors. Every CHECKPOINT_EVERY transactions here, a worker thread moves the log
        into the file (a passive checkpoint)."""
        await self.migrate()
        if self.dialect != "sqlite" or self.in_memory:
            async with self.begin() as conn:
                return await conn.run_sync(work)
        if self._threaded is None:
            from integrations_mcp.state.engine import file_engine

            self._threaded = file_engine(self)
        if here is not None and self._here.acquire(blocking=False):
            try:
                result = self._here_transaction(here)
            except Exception:  # noqa: BLE001  (the thread's try, through SQLAlchemy, tells what it was)
                done = False
            else:
                done = True
                self._done_here += 1
                checkpoint = self._done_here % CHECKPOINT_EVERY == 0
            finally:
                self._here.release()
            if done:
                if checkpoint:
                    await anyio.to_thread.run_sync(_checkpoint, self._threaded)
                return result
        return await anyio.to_thread.run_sync(self._transaction, self._threaded, work)

    def _here_transaction(self, here: Callable[[sqlite3.Connection], T]) -> T:
        if self._here_db is None:
            import sqlite3

            assert self._threaded is not None  # made first: its URL names the file exactly as SQLAlchemy reads it
            from integrations_mcp.state.engine import sqlite_pragmas

            db = sqlite3.connect(self._threaded.url.database or "", timeout=0,
                                 check_same_thread=False)  # one thread at a time: _here
            try:
                sqlite_pragmas(db, None)  # as every connection to the file has them
                db.execute("PRAGMA wal_autocheckpoint=0")
            except BaseException:
                db.close()
                raise
            self._here_db = db
        db = self._here_db
        try:
            result = here(db)  # sqlite3 begins before the first write (its default, as SQLAlchemy leaves it)
            db.commit()
        except BaseException:
            db.rollback()
            raise
        return result

    @staticmethod
    def _transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
        with engine.begin() as conn:
            return work(conn)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        if self._threaded is not None:
            self._threaded.dispose()
        if self._here_db is not None:
            with self._here:
                self._here_db.close()
                self._here_db = None


def _checkpoint(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def hide_url_password(url: str) -> str:
    """A database URL without its password, wherever it sits (the last @ of the authority ends it; a query
    parameter naming a password, key or secret too)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if at and ":" in user:
        authority = f"{user.split(':', 1)[0]}:***@{host}"
    path = re.sub(r"(?i)([?&][^=&]*(?:pass|secret|key|token)[^=&]*=)[^&]*", r"\1***", path)
    return f"{scheme}{sep}{authority}{slash}{path}"


_hide_password = hide_url_password
