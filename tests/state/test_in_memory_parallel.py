"""Issue 19 item 6: in-memory state (the default of `--sandbox`) behaves like the file: parallel writes to different
integrations all proceed (they used to share one SQLite connection, and 42 of 48 were refused with "the change
journal cannot be written"). Through a real MCP client session against the emulators."""

from __future__ import annotations

import anyio
import pytest
from mcp.types import CallToolResult

from integrations_mcp.server.settings import SANDBOX_STATE_URL
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_TENANT_ID, CxEngageEmulator
from tests.harness import both_settings, connect, text_of

pytestmark = pytest.mark.anyio

WRITES = 48


async def test_parallel_writes_to_different_integrations_all_proceed_in_memory() -> None:
    cxengage = CxEngageEmulator()
    ids = [cxengage.add_integration(SANDBOX_TENANT_ID, "rest", f"Parallel {i}", active=True) for i in range(WRITES)]
    settings = both_settings(state_url=SANDBOX_STATE_URL)
    results: dict[str, CallToolResult] = {}
    async with connect(settings, cxengage=cxengage) as session:

        async def deactivate(integration_id: str) -> None:
            results[integration_id] = await session.call("EditCxEngageIntegration", integration_id=integration_id,
                                                         active=False, confirm_deactivate=True)

        async with anyio.create_task_group() as group:
            for integration_id in ids:
                group.start_soon(deactivate, integration_id)
        refused = {i: text_of(r) for i, r in results.items() if r.is_error}
        assert not refused, f"{len(refused)} of {WRITES} refused, e.g. {next(iter(refused.values()))}"
        assert all(cxengage.stored(SANDBOX_TENANT_ID, i)["active"] is False for i in ids)
        page = await session.ok("GetIntegrationChanges", vendor="cxengage", limit=WRITES)
        journaled = {c["integration"] for c in page["results"] if c["outcome"] == "written and verified"}
        assert journaled == set(ids)  # every write is in the journal
