"""What starting the server costs: nothing is made that tools/list does not need. Vendor HTTP clients are made by
the first call that uses them and closed when the server stops; the emulators are imported only with --sandbox."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.harness import clean_env, connect, revcent_settings

pytestmark = pytest.mark.anyio


async def test_vendor_clients_are_made_by_the_first_call_and_closed_with_the_server() -> None:
    async with connect() as session:
        clients = session.server.http_clients.clients
        assert len(clients) == 2 and not any(c.made for c in clients)
        await session.client.list_tools()
        assert not any(c.made for c in clients)
        await session.ok("GetSiteThirdPartyIntegrations", {"limit": 1})
        assert [c.made for c in clients] == [True, False]  # RevCent's client only
        await session.ok("GetSiteThirdPartyIntegrations", {"limit": 1})
    assert not any(c.made for c in clients)
    async with connect(revcent_settings(), server=session.server) as again:  # a new connection makes it again
        await again.ok("GetSiteThirdPartyIntegrations", {"limit": 1})
        assert clients[0].made
    assert not clients[0].made


# Builds the server exactly as `integrations-mcp serve` does, lists the tools, and reports which of the project's
# emulator modules were imported and how many vendor HTTP clients exist.
_PROBE = """
import asyncio, json, os, sys
from integrations_mcp.server.app import build_server
from integrations_mcp.server.sandbox import sandbox
from integrations_mcp.server.settings import load_settings
settings = load_settings(os.environ, transport=None, host=None, port=None, sandbox=sys.argv[1] == "sandbox" or None,
                         read_only=None, log_level=None)
with sandbox(settings) if settings.sandbox else __import__("contextlib").nullcontext((settings, {})) as (settings, _):
    server = build_server(settings)
    tools = asyncio.run(server.list_tools())
print(json.dumps({"tools": len(tools), "made": sum(c.made for c in server.http_clients.clients),
                  "emulators": sorted(m for m in sys.modules if m.startswith("integrations_mcp") and "emulator" in m)}))
"""


def _probe(mode: str) -> dict[str, object]:
    env = clean_env(REVCENT_API_KEY="rc-key", CXENGAGE_API_KEY="cx-key", CXENGAGE_API_SECRET="cx-secret")
    done = subprocess.run([sys.executable, "-c", _PROBE, mode], env=env, capture_output=True, text=True, timeout=120,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_serving_real_vendors_imports_no_emulator_and_makes_no_client() -> None:
    real = _probe("real")
    assert real["tools"] and real["made"] == 0
    assert real["emulators"] == []
    sandboxed = _probe("sandbox")  # the same probe sees them when they are used
    assert sandboxed["tools"] == real["tools"]
    assert "integrations_mcp.vendors.revcent.emulator" in sandboxed["emulators"]
    assert "integrations_mcp.vendors.cxengage.emulator" in sandboxed["emulators"]
