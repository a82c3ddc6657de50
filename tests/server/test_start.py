"""What starting the server costs: nothing is made that tools/list does not need. Vendor HTTP clients are made by
the first call that uses them and closed when the server stops; the emulators are imported only with --sandbox, and
even then built and served only when the first request reaches them; the vendors' write path (rules, plans, views,
writes) and the pages' modules wait for the first call or page that needs them; each tool's pydantic argument and output
models for its first call (tools/list is answered from the schemas shipped with the package)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from integrations_mcp.loopback import serve_loopback_on_demand
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


def emulators():
    return sorted(m for m in sys.modules if m.startswith("integrations_mcp") and "emulator" in m)


async def list_then_call(server):
    tools = await server.list_tools()
    listed = {"tools": len(tools), "made": sum(c.made for c in server.http_clients.clients), "emulators": emulators(),
              "http_stack": sorted({"jwt", "integrations_mcp.server.auth.setup", "integrations_mcp.server.transports"}
                                   & set(sys.modules)), "state_stack": state_stack(), "on_first_use": on_first_use(),
              "models_built": models_built(server)}
    if settings.sandbox:
        result = await server.call_tool("GetSiteThirdPartyIntegrations", {})
        listed["after_call"] = emulators()
        listed["models_after_call"] = models_built(server)
        listed["call_ok"] = not result.is_error
        listed["state_after_read"] = state_stack()
        changes = await server.call_tool("GetIntegrationChanges", {})
        listed["state_after_journal"] = state_stack()
        listed["journal_ok"] = not changes.is_error
    return listed


def on_first_use():
    return sorted(m for m in sys.modules if m == "h11" or m.startswith("uvicorn.protocols") or (
        m.startswith("integrations_mcp.") and m.rsplit(".", 1)[-1] in ("rules", "plans", "views", "writes", "page")))


def models_built(server):  # the tools whose SDK argument and output models exist (shipped schemas: none at start)
    return sorted(name for name, spec in server.tool_specs.items()
                  if getattr(spec.tool.fn_metadata, "_built", True) is not None)


def state_stack():
    return sorted({m.split(".")[0] for m in sys.modules} & {"sqlalchemy", "alembic", "aiosqlite"})

with sandbox(settings) if settings.sandbox else __import__("contextlib").nullcontext((settings, {})) as (settings, _):
    print(json.dumps(asyncio.run(list_then_call(build_server(settings)))))
"""


def _probe(mode: str, **extra: str) -> dict[str, object]:
    env = clean_env(REVCENT_API_KEY="rc-key", CXENGAGE_API_KEY="cx-key", CXENGAGE_API_SECRET="cx-secret", **extra)
    done = subprocess.run([sys.executable, "-c", _PROBE, mode], env=env, capture_output=True, text=True, timeout=120,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_serving_real_vendors_imports_no_emulator_and_makes_no_client(tmp_path: Path) -> None:
    real = _probe("real")
    assert real["tools"] and real["made"] == 0
    assert real["emulators"] == []
    assert real["http_stack"] == []  # stdio: neither the HTTP transport nor its auth (JWT) is imported
    # Nor the state database's stack (SQLAlchemy, Alembic, the SQLite driver): the state
    # store connects and migrates on the first call that needs it; even with a key (forms sealed in the database).
    assert real["state_stack"] == []
    # Nor the vendors' write path, the form and approval pages, or uvicorn's HTTP protocol.
    assert real["on_first_use"] == []
    # The schemas are shipped with the package: no tool's pydantic argument or output model is built to list them.
    assert real["models_built"] == []
    database = tmp_path / "state.sqlite3"
    keyed = _probe("real", INTEGRATIONS_STATE_KEY="k" * 40, INTEGRATIONS_STATE_URL=f"sqlite+aiosqlite:///{database}")
    assert keyed["state_stack"] == [] and not database.exists()



def test_the_sandbox_builds_an_emulator_when_the_first_request_reaches_it() -> None:
    sandboxed = _probe("sandbox")
    assert sandboxed["tools"] and sandboxed["made"] == 0
    # Listing the tools needs only the sandbox's keys (the emulators' contract), not the emulators.
    assert not [m for m in sandboxed["emulators"] if m.endswith((".emulator.emulator", ".emulator.app"))]
    # The same probe sees them once a call has reached one: RevCent's, not CxEngage's.
    assert "integrations_mcp.vendors.revcent.emulator.emulator" in sandboxed["after_call"]
    assert "integrations_mcp.vendors.cxengage.emulator.emulator" not in sandboxed["after_call"]
    assert sandboxed["call_ok"]
    assert sandboxed["models_built"] == [] and sandboxed["models_after_call"] == ["GetSiteThirdPartyIntegrations"]
    assert sandboxed["state_stack"] == [] and sandboxed["on_first_use"] == []
    assert not {"sqlalchemy", "alembic"} & set(sandboxed["state_after_read"])  # a read needs no state
    assert {"sqlalchemy", "alembic"} <= set(sandboxed["state_after_journal"]) and sandboxed["journal_ok"]


def test_an_on_demand_port_builds_its_app_on_the_first_request_only() -> None:
    built: list[int] = []

    def make_app() -> Starlette:
        built.append(1)
        return Starlette(routes=[Route("/", lambda request: PlainTextResponse("up"))])

    with serve_loopback_on_demand(make_app) as listener:
        time.sleep(0.3)
        assert built == []
        assert httpx2.get(listener.url, timeout=10).text == "up"
        assert httpx2.get(listener.url, timeout=10).text == "up" and built == [1]
    with serve_loopback_on_demand(make_app) as unused:
        pass
    assert not unused._thread.is_alive() and built == [1]


def test_an_app_that_cannot_be_built_closes_its_port() -> None:
    def broken() -> Starlette:
        raise RuntimeError("no app")

    with serve_loopback_on_demand(broken) as listener, pytest.raises(httpx2.TransportError):
        httpx2.get(listener.url, timeout=10)
