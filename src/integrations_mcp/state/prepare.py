"""The start-up migration in a process of its own (`serve` over HTTP, and on PostgreSQL under any transport): the
child brings the schema to this code's version, or refuses, exactly as `StateStore.prepare` does in-process (the
same advisory lock on PostgreSQL, the same retries on a SQLite file); the server waits for it before serving. So the
server imports SQLAlchemy, the database driver and Alembic (~40 MB resident together, about as much as everything
else) only when its first call, page or readiness check uses the database.

Run as `python -m integrations_mcp.state.prepare LEVEL FORMAT` with the URL in INTEGRATIONS_STATE_URL (never on
the command line: it may hold a password); a refusal's message comes back on stdout, logs go to the shared
stderr."""

from __future__ import annotations

import os
import subprocess
import sys

from integrations_mcp.state.store import StateError, StateStore

__all__ = ["prepare_in_child"]

REFUSED = 2  # the child's exit code when the database cannot be used (its reason on stdout)


def prepare_in_child(store: StateStore, log_level: str, log_format: str) -> None:
    """Migrate `store`'s database in a child process; raise its StateError here when it refuses."""
    done = subprocess.run([sys.executable, "-m", __name__, log_level, log_format], stdout=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, env={**os.environ, "INTEGRATIONS_STATE_URL": store.url},
                          text=True, encoding="utf-8", errors="replace", check=False)
    if done.returncode == REFUSED and done.stdout.strip():
        raise StateError(done.stdout.strip())
    if done.returncode != 0:
        raise StateError(f"The state database ({store!r}) could not be prepared: the migration process exited with "
                         f"code {done.returncode} (its error is logged above).")


def _main() -> int:
    import anyio

    from integrations_mcp.server.log_hygiene import configure

    level, format = sys.argv[1:3]
    configure(level, format)
    try:
        anyio.run(StateStore(os.environ["INTEGRATIONS_STATE_URL"]).prepare)
    except StateError as exc:
        print(exc, flush=True)
        return REFUSED
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
