"""One state store over one database: the engine, the schema's version, and start-up.

SQLite: one file, shared by the server processes of one host (SQLite's own locking keeps it consistent; writes per
integration are serialised by leases in the file, `state.locks`). PostgreSQL: several replicas share it; they
serialise writes per integration with advisory locks (`state.locks`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import as_file, files
from pathlib import Path

import anyio
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from integrations_mcp.errors import ConfigurationError

__all__ = ["DEFAULT_URL_HINT", "StateError", "StateStore", "default_url"]

log = logging.getLogger(__name__)

DEFAULT_URL_HINT = "a SQLite file in the user data directory"
MIGRATION_LOCK = 0x1A7E_57A7  # the advisory lock replicas take while one of them migrates
POOL_SIZE = 10  # PostgreSQL connections kept per process (as many again may be opened for bursts)
LOCK_HOLDERS = POOL_SIZE  # writes holding advisory locks at once per process: the rest of the pool stays free


class StateError(ConfigurationError):
    """The state database cannot be used (bad URL, unreachable, or newer than this code)."""


def default_url() -> str:
    """SQLite in the platform's user data directory, created on first use."""
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("integrations-mcp", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{folder / 'state.sqlite3'}"


class StateStore:
    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StateError("INTEGRATIONS_STATE_URL is not a database URL (e.g. sqlite+aiosqlite:///path or "
                             "postgresql+asyncpg://user@host/db).") from None
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise StateError("INTEGRATIONS_STATE_URL must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL.")
        self.dialect = parsed.get_backend_name()
        self.url = parsed
        memory = self.in_memory = self.dialect == "sqlite" and parsed.database in (None, "", ":memory:")
        options: dict = {"poolclass": StaticPool} if memory else {}
        if self.dialect == "sqlite":
            options["connect_args"] = {"timeout": 30}  # wait for another process's write instead of failing
        else:  # a write holds one connection for its advisory locks and takes others for short statements
            options.update(pool_size=POOL_SIZE, max_overflow=POOL_SIZE)
        try:
            self.engine: AsyncEngine = create_async_engine(parsed, **options)
        except (ArgumentError, ImportError) as exc:
            raise StateError(f"INTEGRATIONS_STATE_URL cannot be used: {type(exc).__name__}.") from None
        if self.dialect == "sqlite" and not memory:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._ready = False
        self._ready_lock = anyio.Lock()
        self.lock_holders = anyio.Semaphore(LOCK_HOLDERS)  # so short statements always find a connection

    def __repr__(self) -> str:  # never the password
        return f"StateStore({self.url.render_as_string(hide_password=True)})"

    @property
    def shared(self) -> bool:
        """Several processes on several hosts may use this database (so in-process locks are not enough)."""
        return self.dialect == "postgresql"

    async def migrate(self) -> None:
        """Bring the schema to this code's version, once per process. Refuses when the database is newer."""
        async with self._ready_lock:
            if self._ready:
                return
            for attempt in (1, 2):
                try:
                    async with self.engine.begin() as conn:
                        if self.dialect == "sqlite" and not self.in_memory:
                            # Take the file's write lock before reading the version: two processes starting on one
                            # file then migrate one after the other (reading first, both would wait for the other's
                            # read lock until the busy timeout, 30 s).
                            await conn.exec_driver_sql("BEGIN IMMEDIATE")
                        await conn.run_sync(_upgrade, self.shared)
                    break
                except StateError:
                    raise
                except (SQLAlchemyError, OSError) as exc:
                    # SQLite has no advisory lock: two processes creating one file race; the loser finds it done.
                    if attempt == 1 and self.dialect == "sqlite":
                        continue
                    raise StateError(f"The state database ({self!r}) cannot be opened or migrated: "
                                     f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None
            self._ready = True

    def sync_engine(self) -> Engine:
        """The same database through a blocking driver (pysqlite / psycopg), for stores whose callers are not
        async (the secure form store). Migrated on its first connection."""
        driver = "sqlite" if self.dialect == "sqlite" else "postgresql+psycopg"
        engine = create_engine(self.url.set(drivername=driver), **({"connect_args": {"timeout": 30}}
                                                                   if self.dialect == "sqlite" else {}))
        if self.dialect == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            # pysqlite starts transactions lazily: begin one that takes the write lock at once, so a read and the
            # write it decides happen under one lock across processes.
            event.listen(engine, "connect", lambda dbapi, _: setattr(dbapi, "isolation_level", None))
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        try:
            with engine.begin() as conn:
                _upgrade(conn, self.shared)
        except (SQLAlchemyError, OSError) as exc:
            raise StateError(f"The state database ({self!r}) cannot be opened or migrated: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None
        return engine

    async def prepare(self) -> None:
        """At start-up, in an event loop of its own: migrate, then drop the connections made in that loop."""
        await self.migrate()
        await self.engine.dispose()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """One transaction, on a migrated database."""
        await self.migrate()
        async with self.engine.begin() as conn:
            yield conn

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """Write-ahead log: readers do not block the writer, and a commit is one append (synchronous=NORMAL keeps the
    file consistent after a crash; at worst the last commits before a power loss are lost)."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _upgrade(conn: Connection, shared: bool) -> None:
    if shared:  # two replicas starting together: one migrates, the other waits and finds it done
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    with as_file(files("integrations_mcp.state").joinpath("migrations")) as folder:
        config = Config()
        config.set_main_option("script_location", str(folder))
        config.attributes["connection"] = conn
        script = ScriptDirectory.from_config(config)
        current = MigrationContext.configure(conn).get_current_revision()
        if current is not None:
            try:
                script.get_revision(current)
            except (CommandError, RevisionError):
                raise StateError(f"The state database is at schema version {current!r}, newer than this "
                                 f"integrations-mcp knows (up to {script.get_current_head()!r}). Upgrade "
                                 "integrations-mcp, or point INTEGRATIONS_STATE_URL at another database.") from None
        if current != script.get_current_head():
            log.info("state database: migrating schema %s -> %s", current, script.get_current_head())
            command.upgrade(config, "head")
