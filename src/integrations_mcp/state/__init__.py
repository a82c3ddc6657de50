"""The server's state, in one database: the change journal, spent secure forms (and, as they move here, approvals,
typed secrets and write locks). SQLAlchemy 2 Core, async: SQLite (`aiosqlite`, the default, one file in the
user's data directory) or PostgreSQL (`psycopg`, the postgres extra) for several replicas. The schema is versioned
with Alembic; `StateStore.migrate` upgrades it, or refuses when the database is newer than this code."""

from integrations_mcp.state.store import DEFAULT_URL_HINT, StateError, StateStore, default_url

__all__ = ["DEFAULT_URL_HINT", "StateError", "StateStore", "default_url"]
