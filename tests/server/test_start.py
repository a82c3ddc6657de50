"""What starting the server costs: nothing is made that tools/list does not need. Vendor HTTP clients are made by
the first call that uses them and closed when the server stops; the emulators are imported only with --sandbox, and
even then built and served only when the first request reaches them; the vendors' write path (rules, plans, views,
writes) and the pages' modules wait for the first call or page that needs them; each tool's pydantic argument and output
models for its first call (tools/list is answered from the schemas shipped with the package). Over HTTP the start-up
migration runs in a child process: the server loads SQLAlchemy, the driver and Alembic only when it first uses the
database (and Alembic only to migrate), PyJWT only with OAuth."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from importlib.resources import files
from pathlib import Path
from typing import IO

import httpx2
import pytest
from mcp import Client
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from integrations_mcp.loopback import serve_loopback_on_demand
from integrations_mcp.state.store import KNOWN_VERSIONS
from tests.harness import (
    CONSOLE_SERVE,
    SERVE,
    _wait_until_listening,
    clean_env,
    connect,
    free_port,
    revcent_settings,
    serve_process,
)
from tests.state.postgres import PostgresServer, postgres_server  # noqa: F401 (the fixture)

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
              "models_built": models_built(server), "deferred": deferred()}
    if settings.sandbox:
        result = await server.call_tool("GetSiteThirdPartyIntegrations", {})
        listed["after_call"] = emulators()
        listed["models_after_call"] = models_built(server)
        listed["deferred_after_call"] = deferred()
        listed["call_ok"] = not result.is_error
        listed["state_after_read"] = state_stack()
        changes = await server.call_tool("GetIntegrationChanges", {})
        listed["state_after_journal"] = state_stack()
        listed["journal_ok"] = not changes.is_error
    return listed


def on_first_use():
    return sorted(m for m in sys.modules if m == "h11" or m.startswith("uvicorn.protocols") or (
        m.startswith("integrations_mcp.") and m.rsplit(".", 1)[-1] in ("rules", "plans", "views", "writes", "page")))


def deferred():  # made by a tool's first call: each vendor's tools (client, models, records), the write pipeline
    vendors = [f"integrations_mcp.vendors.{v}.{m}" for v in ("revcent", "cxengage")
               for m in ("tools", "client", "models", "records")]
    return sorted(m for m in sys.modules if m in {*vendors, "integrations_mcp.server.journal_tools",
        "integrations_mcp.server.guide_tool", "integrations_mcp.pipeline.write", "integrations_mcp.pipeline.confirm",
        "integrations_mcp.approvals.store", "integrations_mcp.state.journal"})


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
    # Nor the tools objects: each vendor's tools, client, models and records, the write pipeline, the journal.
    assert real["deferred"] == []
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
    # That call made RevCent's tools (and imported the write path their module names), not CxEngage's.
    assert sandboxed["deferred"] == [] and "integrations_mcp.vendors.revcent.tools" in sandboxed["deferred_after_call"]
    assert "integrations_mcp.vendors.cxengage.tools" not in sandboxed["deferred_after_call"]
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


# --- the state database over HTTP: migrated at start by a child process, loaded by the first use ---------------------

# Native libraries that show in /proc/PID/maps once their package is imported: SQLAlchemy's compiled parts, greenlet
# (its asyncio bridge), psycopg's binary driver, MarkupSafe (Alembic's templates, through Mako).
DATABASE_STACK = ("sqlalchemy", "greenlet", "psycopg_binary", "markupsafe")


def _loaded(pid: int) -> set[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {name for name in DATABASE_STACK if f"/{name}" in maps}


async def _at_version(url: str, version: str) -> None:
    """A database migrated up to `version` (through Alembic, as an older integrations-mcp left it)."""
    from alembic import command
    from alembic.config import Config

    from integrations_mcp.state import StateStore

    def upgrade(conn: object) -> None:
        config = Config()
        config.set_main_option("script_location", str(files("integrations_mcp.state") / "migrations"))
        config.attributes["connection"] = conn
        command.upgrade(config, version)

    store = StateStore(url)
    async with store.engine.begin() as conn:
        await conn.run_sync(upgrade)
    await store.close()


async def _journal_page(url: str) -> dict[str, object]:
    async with Client(url) as client:
        result = await client.call_tool("GetIntegrationChanges", {})
    assert not result.is_error and result.structured_content is not None, result.content
    return result.structured_content


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/PID/maps")
async def test_http_start_migrates_a_file_behind_before_serving_and_loads_the_database_on_first_use(
        tmp_path: Path) -> None:
    database = tmp_path / "state.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    await _at_version(url, KNOWN_VERSIONS[-2])
    env = {"REVCENT_API_KEY": "rc-key", "INTEGRATIONS_STATE_URL": url, "INTEGRATIONS_STATE_KEY": "k" * 40}
    with serve_process(env=env) as served:
        with closing(sqlite3.connect(database)) as conn:
            version = conn.execute("select version_num from alembic_version").fetchone()[0]
        assert version == KNOWN_VERSIONS[-1]  # migrated before the port opened, by another process:
        migrating = f"state database: migrating schema {KNOWN_VERSIONS[-2]} -> {KNOWN_VERSIONS[-1]}"
        assert served.log().count(migrating) == 1 and "Running upgrade" not in served.log()  # logged as the server's
        assert _loaded(served.proc.pid) == set()  # the server has none of the database stack yet
        assert (await _journal_page(served.url))["total"] == 0  # the first use loads it
        assert _loaded(served.proc.pid) == {"sqlalchemy", "greenlet"}  # the file is at head: no Alembic
        async with httpx2.AsyncClient() as http:
            assert (await http.get(served.base + "/readyz")).status_code == 200
    with serve_process(env=env) as again:  # a file at this code's version: no child, nothing loaded
        assert _loaded(again.proc.pid) == set()
        assert (await _journal_page(again.url))["total"] == 0



@pytest.mark.slow
async def test_the_migration_child_imports_nothing_from_the_working_directory(tmp_path: Path) -> None:
    """A server started in a folder an agent can write (a project folder), with a package planted there under the name
    of one the migration child imports: the child never runs it (it would hold the server's whole environment)."""
    database, folder, planted = tmp_path / "state.sqlite3", tmp_path / "project", tmp_path / "ran"
    (folder / "alembic").mkdir(parents=True)
    (folder / "alembic" / "__init__.py").write_text(f"open({str(planted)!r}, 'w').close()\n")
    url = f"sqlite+aiosqlite:///{database}"
    await _at_version(url, KNOWN_VERSIONS[-2])
    env = {"REVCENT_API_KEY": "rc-key", "INTEGRATIONS_STATE_URL": url, "INTEGRATIONS_STATE_KEY": "k" * 40}
    with serve_process(env=env, command=CONSOLE_SERVE, cwd=folder) as served:
        assert (await _journal_page(served.url))["total"] == 0
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("select version_num from alembic_version").fetchone()[0] == KNOWN_VERSIONS[-1]
    assert not planted.exists()

Replica = tuple[subprocess.Popen[bytes], str, IO[bytes]]


@contextmanager
def _started_together(count: int, env: dict[str, str]) -> Iterator[list[Replica]]:
    """`count` HTTP servers started at once (replicas racing to migrate): (process, MCP URL, output) each, once all
    listen."""
    with ExitStack() as stack:
        started = []
        for _ in range(count):
            port, output = free_port(), stack.enter_context(tempfile.TemporaryFile())
            proc = subprocess.Popen([*SERVE, "--transport", "http", "--port", str(port)], stdout=output,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=clean_env(**env))
            stack.callback(proc.wait, 10)
            stack.callback(proc.terminate)
            started.append((proc, port, output))
        for proc, port, output in started:
            _wait_until_listening(proc, port, output)
        yield [(proc, f"http://127.0.0.1:{port}/mcp", output) for proc, port, output in started]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/PID/maps")
async def test_http_start_on_postgresql_migrates_in_a_child_and_refuses_a_newer_schema(
        postgres_server: PostgresServer) -> None:  # noqa: F811
    url = await postgres_server.new_database()
    env = {"REVCENT_API_KEY": "rc-key", "INTEGRATIONS_STATE_URL": url, "INTEGRATIONS_STATE_KEY": "k" * 40,
           "INTEGRATIONS_LOG_FORMAT": "json"}
    with _started_together(3, env) as replicas:  # a new database: one child migrates it, the others find it done
        lines = []
        for _, _, output in replicas:
            output.seek(0)
            lines += [json.loads(line) for line in output.read().decode().splitlines() if line.startswith("{")]
        assert [line["message"] for line in lines if "migrating" in line["message"]] == [
            f"state database: migrating schema None -> {KNOWN_VERSIONS[-1]}"]
        assert all(_loaded(proc.pid) == set() for proc, _, _ in replicas)
        (first, _, _), (second, second_url, _) = replicas[:2]
        assert (await _journal_page(second_url))["total"] == 0
        assert {"sqlalchemy", "greenlet", "psycopg_binary"} <= _loaded(second.pid)
        assert "markupsafe" not in _loaded(second.pid)  # migrated by the child: no Alembic here
        assert _loaded(first.pid) == set()
    from sqlalchemy import text

    from integrations_mcp.state import StateStore

    store = StateStore(url)
    async with store.begin() as conn:
        await conn.execute(text("update alembic_version set version_num = '9999'"))
    await store.close()
    for transport in (["--transport", "http", "--port", str(free_port())], []):  # HTTP, and stdio on PostgreSQL
        done = subprocess.run([*SERVE, *transport], env=clean_env(**env), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)
        assert done.returncode == 2, done.stderr[-2000:]
        assert "'9999', newer than this integrations-mcp knows" in done.stderr
        assert "Upgrade integrations-mcp" in done.stderr and done.stdout == ""  # stdout stays the protocol's


def test_a_database_at_this_codes_version_is_used_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/state.sqlite3"
    code = ("import anyio, sys; from integrations_mcp.state import StateStore; "
            "anyio.run(StateStore(sys.argv[1]).migrate); print('alembic' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True, timeout=120)
    assert first.stdout.strip() == "True"  # a new file: Alembic creates the schema
    again = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True, timeout=120)
    assert again.stdout.strip() == "False"  # at head: one query said so


_HTTP_PROBE = """
import json, os, sys
from integrations_mcp.server.app import build_server
from integrations_mcp.server.settings import load_settings
from integrations_mcp.server.transports import http_app
settings = load_settings(os.environ, transport="http", host=None, port=None, sandbox=None, read_only=None,
                         log_level=None)
http_app(build_server(settings), settings)
print(json.dumps(sorted({"jwt", "sqlite3", "sqlalchemy", "alembic", "psycopg"} & set(sys.modules))))
"""


def test_an_http_app_with_static_tokens_on_postgresql_imports_no_jwt_or_database_stack() -> None:
    env = clean_env(REVCENT_API_KEY="rc-key", INTEGRATIONS_AUTH_TOKEN="t" * 40, INTEGRATIONS_STATE_KEY="k" * 40,
                    INTEGRATIONS_STATE_URL="postgresql://u@127.0.0.1:1/db")
    done = subprocess.run([sys.executable, "-c", _HTTP_PROBE], env=env, capture_output=True, text=True, timeout=120,
                          check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
