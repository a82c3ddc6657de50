"""The start-up migration in a process of its own (`serve` over HTTP, and on PostgreSQL under any transport): the
child brings the schema to this code's version, or refuses, as the server's first use would (`state.engine.upgrade`:
the same advisory lock on PostgreSQL, through the blocking driver; `StateStore.prepare`'s retries on a SQLite file);
the server waits for it before serving. So the server imports SQLAlchemy, the database driver and Alembic (~40 MB
resident together, about as much as everything else) only when its first call, page or readiness check uses the
database. The child imports neither the MCP SDK nor pydantic.

Run as `python -m integrations_mcp.server.prepare_state LEVEL FORMAT` with the URL in INTEGRATIONS_STATE_URL (never on
the command line: it may hold a password); a refusal's message comes back on stdout, logs go to the shared
stderr."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from integrations_mcp.state.store import StateError, StateStore

__all__ = ["prepare_in_child"]

REFUSED = 2  # the child's exit code when the database cannot be used (its reason on stdout)


def prepare_in_child(store: StateStore, log_level: str, log_format: str) -> None:
    """Migrate `store`'s database in a child process; raise its StateError here when it refuses."""
    # -P: the working directory is not put on the child's import path (`-m` would), so a file planted there (an
    # agent's sandboxed shell may write the project folder) is never imported by a process holding every key.
    done = subprocess.run([sys.executable, "-P", "-m", __name__, log_level, log_format], stdout=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, env={**os.environ, "INTEGRATIONS_STATE_URL": store.url},
                          text=True, encoding="utf-8", errors="replace", check=False)
    if done.returncode == REFUSED and done.stdout.strip():
        raise StateError(done.stdout.strip())
    if done.returncode != 0:
        raise StateError(f"The state database ({store!r}) could not be prepared: the migration process exited with "
                         f"code {done.returncode} (its error is logged above).")


class _ConfigureOnFirstRecord(logging.Handler):
    """The server's logging (format, quiet libraries, secret filter: `log_hygiene.configure`) set up by the first
    record: a database at head logs nothing, and the filter's imports (~0.2 s) are then not paid."""

    def __init__(self, level: str, format: str) -> None:
        super().__init__()
        self.level_name, self.format = level, format

    def emit(self, record: logging.LogRecord) -> None:
        from integrations_mcp.server.log_hygiene import configure

        logging.getLogger().removeHandler(self)
        configure(self.level_name, self.format)
        origin = logging.getLogger(record.name)
        if origin.isEnabledFor(record.levelno):  # a chatty library's record is now below its level
            origin.handle(record)


def _main() -> int:
    level, format = sys.argv[1:3]
    logging.basicConfig(level=level, handlers=[_ConfigureOnFirstRecord(level, format)])
    store = StateStore(os.environ["INTEGRATIONS_STATE_URL"])
    try:
        if store.shared:  # PostgreSQL: the blocking driver, no asyncio bridge to import (same lock, same upgrade)
            store.sync_engine().dispose()
        else:  # a SQLite file: `migrate`'s retries while processes creating one file race
            import anyio

            anyio.run(store.prepare)
    except StateError as exc:
        print(exc, flush=True)
        return REFUSED
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
