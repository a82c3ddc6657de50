"""The operator's routes on the HTTP listener:

- `GET /healthz` (liveness, Docker's HEALTHCHECK): no auth, nothing secret: the version and whether each vendor is
  configured (not whether its keys work: that would call the vendor on every probe).
- `GET /readyz` (readiness): whether the state database answers a cheap query now; 503 with a short reason (the
  kind of failure, never the URL or the driver's message, which may name the host or user) when it does not.
- `GET /metrics` (INTEGRATIONS_METRICS=true): Prometheus text, behind the same bearer auth as /mcp when auth is on
  (any token with the read scope: give the scraper a read-only one).
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integrations_mcp import __version__
from integrations_mcp.server.settings import Settings
from integrations_mcp.server.vendors import VENDORS
from integrations_mcp.state.store import StateStore

__all__ = ["SingleFlight", "health_route", "operator_routes", "ready_route", "state_problem"]

READY_TIMEOUT = 3.0  # seconds a probe waits for the database (orchestrators time probes out after a few seconds)
NO_STORE = {"cache-control": "no-store"}


def operator_routes(settings: Settings, server: Any) -> list[Route]:
    """/healthz, /readyz and, when configured, /metrics."""
    routes = [health_route(settings)]
    if getattr(server, "state", None) is not None:
        routes.append(ready_route(server.state))
    if settings.metrics:
        from integrations_mcp.server.telemetry import metrics_route

        routes.append(metrics_route(settings))
    return routes


def health_route(settings: Settings, path: str = "/healthz") -> Route:
    body = {"status": "ok", "version": __version__,
            "vendors": {vendor.name: {"configured": vendor.name in settings.configured_vendors} for vendor in VENDORS}}

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(body, headers=NO_STORE)

    return Route(path, health, methods=["GET"])


def ready_route(state: StateStore, path: str = "/readyz") -> Route:
    check = SingleFlight(state)

    async def ready(request: Request) -> Response:
        problem = await check()
        if problem is None:
            return JSONResponse({"status": "ready"}, headers=NO_STORE)
        return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503, headers=NO_STORE)

    return Route(path, ready, methods=["GET"])


class SingleFlight:
    """The probe needs no auth and skips the Host allowlist: however many arrive at once, one check runs, and those
    that arrived meanwhile get its answer (a flood cannot open connections or take threads)."""

    def __init__(self, state: StateStore) -> None:
        self.state = state
        self._running: anyio.Event | None = None
        self._answer: str | None = "state database not checked yet"

    async def __call__(self) -> str | None:
        if self._running is not None:
            await self._running.wait()
            return self._answer
        self._running = running = anyio.Event()
        try:
            self._answer = await state_problem(self.state)
        except BaseException:  # cancelled (the prober went away): those waiting are not told "ready"
            self._answer = "state database check interrupted"
            raise
        finally:
            self._running = None
            running.set()
        return self._answer


async def state_problem(state: StateStore, timeout: float = READY_TIMEOUT) -> str | None:
    """None when the state database answers; otherwise what is wrong, in words safe to show anyone."""
    if state.in_memory:
        return None  # lives and dies with this process
    try:
        with anyio.fail_after(timeout):
            if state.dialect == "sqlite":
                await anyio.to_thread.run_sync(_read_sqlite_version, Path(state.database), timeout)
            else:
                async with state.engine.connect() as conn:
                    await conn.exec_driver_sql("SELECT 1")
    except TimeoutError:
        return f"state database did not answer within {timeout:g} s"
    except Exception as exc:  # any driver's failure: only its kind is shown
        return f"state database unavailable ({type(exc).__name__})"
    return None


def _read_sqlite_version(path: Path, timeout: float) -> None:
    """A fresh read-only connection to the file each time (a pooled one would keep answering for a file deleted
    or replaced under it), reading the schema's version: the file is there, is a database, and is migrated."""
    import sqlite3  # here: a server on PostgreSQL never loads it

    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=timeout)) as conn:
        conn.execute("SELECT version_num FROM alembic_version").fetchone()
