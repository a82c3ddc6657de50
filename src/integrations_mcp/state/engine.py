"""The heavy half of the state store, imported by its first use (SQLAlchemy costs about as much to import as the
rest of the server, and tools/list needs none of it): the engines, SQLite's settings, migrations. Alembic (~9 MB
resident with Mako and Pygments) is imported only when the schema is behind: a database at this code's version
is recognised by one query."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from importlib.resources import as_file, files
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from integrations_mcp.state.store import KNOWN_VERSIONS, MIGRATION_LOCK, POOL_SIZE, StateError, newer_than_code

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from integrations_mcp.state.store import StateStore

__all__ = ["SQLAlchemyError", "async_engine", "DriverStatement", "file_engine", "sqlite_pragmas", "sync_engine",
           "upgrade"]

log = logging.getLogger(__name__)


def async_engine(store: StateStore) -> AsyncEngine:
    # Here: the start-up child (server/prepare_state.py) needs none of the asyncio extension.
    from sqlalchemy.ext.asyncio import create_async_engine

    options: dict = {"poolclass": StaticPool} if store.in_memory else {}
    if store.dialect == "sqlite":
        options["connect_args"] = {"timeout": 30}  # wait for another process's write instead of failing
        # The pool's rollback when a connection comes back stays (pool_reset_on_return), although each transaction
        # ends itself: a transaction cancelled mid-statement is left open without it, holding the file's write lock.
    else:  # a write holds one connection for its advisory locks and takes others for short statements
        options.update(pool_size=POOL_SIZE, max_overflow=POOL_SIZE)
    try:
        engine = create_async_engine(make_url(store.url), **options)
    except (ArgumentError, ImportError) as exc:
        raise StateError(f"INTEGRATIONS_STATE_URL cannot be used: {type(exc).__name__}.") from None
    if store.dialect == "sqlite" and not store.in_memory:
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
    return engine


def file_engine(store: StateStore) -> Engine:
    """A SQLite file through the blocking driver, for `StateStore.run` in worker threads (no migration: the async
    engine's first use did it); its connections wait (30 s) like every other one."""
    engine = create_engine(make_url(store.url).set(drivername="sqlite"),
                           connect_args={"timeout": 30, "check_same_thread": False})  # one thread at a time (pool)
    event.listen(engine, "connect", sqlite_pragmas)
    return engine


class DriverStatement:
    """A Core statement compiled once for SQLite's driver (sqlite3): its SQL, and each call's parameters in its order,
    converted by each parameter type's own bind processor (JSON: SQLAlchemy's serialisation), so a row is stored
    exactly as through SQLAlchemy."""

    def __init__(self, statement: Any, keys: Iterable[str]) -> None:
        from sqlalchemy.dialects import sqlite

        dialect = sqlite.dialect()
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self.sql = compiled.string
        self._names = tuple(compiled.positiontup or ())
        self._convert = [compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                         for name in self._names]

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [value if convert is None else convert(value)
                for convert, value in zip(self._convert, (params[name] for name in self._names), strict=True)]


def sync_engine(store: StateStore) -> Engine:
    """The same database through a blocking driver (pysqlite / psycopg), migrated on its first connection."""
    driver = "sqlite" if store.dialect == "sqlite" else "postgresql+psycopg"
    try:
        engine = create_engine(make_url(store.url).set(drivername=driver),
                               **({"connect_args": {"timeout": 30}} if store.dialect == "sqlite" else {}))
    except (ArgumentError, ImportError) as exc:  # as `async_engine` says it (the start-up child comes here first)
        raise StateError(f"INTEGRATIONS_STATE_URL cannot be used: {type(exc).__name__}.") from None
    if store.dialect == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
        # pysqlite starts transactions lazily: begin one that takes the write lock at once, so a read and the
        # write it decides happen under one lock across processes.
        event.listen(engine, "connect", lambda dbapi, _: setattr(dbapi, "isolation_level", None))
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    try:
        with engine.begin() as conn:
            upgrade(conn, store.shared)
    except (SQLAlchemyError, OSError) as exc:
        raise StateError(f"The state database ({store!r}) cannot be opened or migrated: "
                         f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None
    return engine


def sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """Write-ahead log: readers do not block the writer, and a commit is one append (synchronous=NORMAL keeps the
    file consistent after a crash; at worst the last commits before a power loss are lost)."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def upgrade(conn: Connection, shared: bool) -> None:
    if shared:  # two replicas starting together: one migrates, the other waits and finds it done
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    versions = _versions(conn)
    if versions == [KNOWN_VERSIONS[-1]]:
        return  # at this code's head: nothing to do, and Alembic stays unimported
    if len(versions) == 1 and versions[0] not in KNOWN_VERSIONS:
        raise newer_than_code(versions[0], KNOWN_VERSIONS[-1])
    _alembic_upgrade(conn)  # behind, new, or anything unusual: Alembic decides (and refuses what it cannot place)


def _versions(conn: Connection) -> list[str]:
    """The rows of Alembic's version table (none when it is missing), as Alembic reads them: the connection's
    default schema."""
    if not inspect(conn).has_table("alembic_version"):
        return []
    return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _alembic_upgrade(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionError
    from alembic.util.exc import CommandError

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
                raise newer_than_code(current, script.get_current_head()) from None
        if current != script.get_current_head():
            log.info("state database: migrating schema %s -> %s", current, script.get_current_head())
            command.upgrade(config, "head")
