"""What the change journal costs per edit (issue 12): the same RevCent edit, through an in-process MCP session on
the sandbox emulator (loopback HTTP, as `serve --sandbox` runs it), with the journal and without, on SQLite (a file)
and on PostgreSQL (a local server started here when Debian's postgresql is installed). The journal adds one insert
before the vendor call and one update after the read-back. Figures, not assertions: `python benchmarks/journal.py`."""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client

import integrations_mcp.server.app as app
from integrations_mcp.pipeline.confirm import ConfirmationPolicy
from integrations_mcp.server.sandbox import sandbox
from integrations_mcp.server.settings import Settings
from integrations_mcp.vendors.revcent.emulator.fixtures import SITE_IDS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.state.postgres import running_postgres  # noqa: E402  (the tests' PostgreSQL starter)

EDITS = 100  # per run; three runs each, alternating with and without the journal (the machine is shared)
ROUNDS = 3
WARM_UP = 10


def _server(settings: Settings, *, journal: bool) -> app.IntegrationsServer:
    if journal:
        return app.build_server(settings)
    real = app.Journal
    app.Journal = lambda table: None  # type: ignore[assignment,misc]  # the pipeline then records nothing
    try:
        return app.build_server(settings)
    finally:
        app.Journal = real  # type: ignore[misc]


async def per_edit(state_url: str, *, journal: bool) -> list[float]:
    """Seconds per edit (the description changed each time: no confirmation needed), after a warm-up."""
    base = Settings(confirmation=ConfirmationPolicy.MODEL, state_url=state_url, state_key="k" * 32)
    with sandbox(base) as (settings, _):
        server = _server(settings, journal=journal)
        async with Client(server) as client:
            created = await client.call_tool("CreateUserThirdPartyIntegration", {
                "name": f"Bench {time.time_ns()}", "site_third_party_integration": SITE_IDS["tax"]})
            uid = created.structured_content["user_third_party_integration_id"]
            times = []
            for n in range(WARM_UP + EDITS):
                started = time.perf_counter()
                result = await client.call_tool("EditUserThirdPartyIntegration",
                                                {"user_third_party_integration_id": uid, "description": f"d{n}"})
                assert not result.is_error, result.content
                times.append(time.perf_counter() - started)
        await server.state.close()
    return times[WARM_UP:]


def _row(label: str, without: list[float], with_: list[float]) -> str:
    p50 = statistics.median
    p99 = lambda xs: sorted(xs)[int(len(xs) * 0.99) - 1]  # noqa: E731
    return (f"{label:<12} {p50(without) * 1000:8.2f} {p50(with_) * 1000:8.2f} {p50(with_) / p50(without):6.2f}x"
            f" {p99(without) * 1000:8.2f} {p99(with_) * 1000:8.2f}")


async def both(url: str) -> tuple[list[float], list[float]]:
    without: list[float] = []
    with_: list[float] = []
    for _ in range(ROUNDS):
        without += await per_edit(url, journal=False)
        with_ += await per_edit(url, journal=True)
    return without, with_


async def main() -> None:
    logging.disable(logging.WARNING)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(_row("SQLite", *await both(f"sqlite+aiosqlite:///{folder}/bench.sqlite3")))
    with running_postgres() as postgres:
        if postgres is None:
            rows.append("PostgreSQL   not installed: skipped")
        else:
            rows.append(_row("PostgreSQL", *await both(await postgres.new_database())))
    print(f"RevCent edit, {ROUNDS}x{EDITS} per cell, in-process MCP session, emulator over loopback HTTP (ms/edit)")
    print(f"{'state':<12} {'p50 off':>8} {'p50 on':>8} {'ratio':>7} {'p99 off':>8} {'p99 on':>8}")
    print("\n".join(rows))


if __name__ == "__main__":
    anyio.run(main)
