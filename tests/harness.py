"""The one harness every tool-level test uses: the server as MCP clients meet it, against the vendor emulators.

- In process: `connect()` builds the server for the given settings (both vendors unless told otherwise), wires each
  vendor whose settings point at its test URL to its emulator over ASGI (any other URL, say a loopback listener, is
  reached over real HTTP), and yields a `Session`: an MCP client with `call`/`ok`/`refused`, a record of everything
  the model saw, the emulators behind it, and what the person at a secure form does (`fill`).
- As a subprocess: `serve_stdio()` (an MCP client over stdio, stderr captured) and `serve_http()` (streamable HTTP
  on a free port, waited for until it listens). Both run `python -m integrations_mcp serve` with a filtered
  environment, so the developer's own keys never leak into a test.

Nothing the project owns is mocked.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult
from pydantic import SecretStr

from integrations_mcp.emulation import RecordedRequest
from integrations_mcp.pipeline.confirm import ConfirmationPolicy
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.secure_forms.store import SecureFormStore
from integrations_mcp.server.app import build_server
from integrations_mcp.server.settings import Settings
from integrations_mcp.toolkit.server import IntegrationsServer
from integrations_mcp.vendors.cxengage.catalog import normalise_type
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_API_KEY as CXENGAGE_KEY
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_API_SECRET as CXENGAGE_SECRET
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_TENANT_ID, CxEngageEmulator
from integrations_mcp.vendors.cxengage.settings import CxEngageSettings
from integrations_mcp.vendors.revcent.emulator import SANDBOX_API_KEY as REVCENT_KEY
from integrations_mcp.vendors.revcent.emulator import Contract as RevCentContract
from integrations_mcp.vendors.revcent.emulator import RevCentEmulator
from integrations_mcp.vendors.revcent.settings import RevCentSettings

# --- time ----------------------------------------------------------------------------------------------------------

CLOCK_START = 1_800_000_000.0  # 2027-01-15T08:00:00Z


class FakeClock:
    """A clock tests move by hand: `clock.now += 3600`."""

    def __init__(self) -> None:
        self.now = CLOCK_START

    def __call__(self) -> float:
        return self.now


# --- settings ------------------------------------------------------------------------------------------------------

SHARED_READ_TOOLS = {"GetIntegrationGuide", "GetIntegrationChanges"}  # served with any vendor, not of one
SHARED_TOOLS = SHARED_READ_TOOLS | {"RevertIntegrationChange"}
REVCENT_URL = "http://revcent.test/v2"
CXENGAGE_URL = "http://cxengage.test"
FORMS_URL = "http://forms.test"
# Where the CxEngage integrations the tests create send their secrets: a secure form must name it (the person sees
# it on the form, and the secrets then work only there).
DESTINATIONS = {
    "zendesk": {"endpointPrefix": "https://desk.example.invalid/api/v2/", "username": "agent@example.invalid"},
    "salesforce": {"username": "sf@example.invalid", "consumerKey": "ck-123"},
    "twilio": {"accountSid": "AC1", "region": "ie1"},
    "serenovaVoice": {"accountSid": "AC1"},
}


def with_destination(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A CxEngage form for a new integration names its destination: the one in DESTINATIONS, unless the test gives
    one (tests of the destination rule give theirs, or none)."""
    kind = normalise_type(str(arguments.get("type", "")))
    if tool != "CreateCxEngageSecureForm" or "integration_id" in arguments or "destination" in arguments \
            or kind not in DESTINATIONS:
        return arguments
    return {**arguments, "destination": DESTINATIONS[kind]}


# The vendors' tool tests are about their guardrails: they confirm as an agent under policy `model` would
# (`call_tool`). How the person confirms is tested in tests/pipeline/.
POLICY = ConfirmationPolicy.MODEL


# Most RevCent tool tests exercise the revcent-form credential path (RevCent's own secure form), which needs the
# emulator to take the agent guide's `secure_form_id`: `revcent_emulator()` is that. The server-form path, against
# the documents' schemas exactly, is tested in tests/vendors/revcent/test_credentials_via.py.
REVCENT_FORM = "revcent-form"


def revcent_emulator(**contract: Any) -> RevCentEmulator:
    return RevCentEmulator(api_key=REVCENT_KEY, contract=RevCentContract(**{"accept_secure_form_id": True,
                                                                           **contract}))


def revcent_settings(*, key: str = REVCENT_KEY, base_url: str = REVCENT_URL, credentials_via: str = REVCENT_FORM,
                     **overrides: Any) -> Settings:
    vendor = RevCentSettings(SecretStr(key), base_url, credentials_via)  # type: ignore[arg-type]
    return Settings(vendors={"revcent": vendor}, **{"confirmation": POLICY, **overrides})


def cxengage_settings(*, secret: str = CXENGAGE_SECRET, tenant_id: str | None = None,
                      use_token: bool = False, base_url: str = CXENGAGE_URL, **overrides: Any) -> Settings:
    vendor = CxEngageSettings(SecretStr(CXENGAGE_KEY), SecretStr(secret), base_url, tenant_id=tenant_id,
                              use_token=use_token)
    return Settings(vendors={"cxengage": vendor}, **{"confirmation": POLICY, **overrides})


def both_settings(**overrides: Any) -> Settings:
    return Settings(vendors={**revcent_settings().vendors, **cxengage_settings().vendors},
                    **{"confirmation": POLICY, **overrides})


# --- results -------------------------------------------------------------------------------------------------------

TOKEN = re.compile(r"confirmation_id=([A-Za-z0-9_-]+)")


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def succeeded(tool: str, result: CallToolResult) -> dict[str, Any]:
    """The structured content of a result that must be a success."""
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None, tool
    return result.structured_content


def was_refused(tool: str, result: CallToolResult, needles: tuple[str, ...]) -> str:
    """The message of a result that must be a refusal naming every needle."""
    message = text_of(result)
    assert result.is_error, f"{tool} was not refused: {message}"
    for needle in needles:
        assert needle in message, f"{needle!r} not in: {message}"
    return message


async def call_tool(client: Client, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    """Call a tool as an agent under policy `model` does (the harness's default): a call that sets confirmation flags
    is refused with the change and a token, which the agent shows the user; it then sends the flags with the token.
    Any other outcome of the first call is the result (a refusal for another reason, or a change needing no
    confirmation). Tests of the confirm stage itself (tests/pipeline/) call the tools directly."""
    result = await client.call_tool(tool, arguments)
    flags = [name for name, value in arguments.items() if name.startswith("confirm_") and value is True]
    token = TOKEN.search(text_of(result)) if result.is_error and flags else None
    if token and "confirmation_id" not in arguments and all(f"{f}=true" in text_of(result) for f in flags):
        result = await client.call_tool(tool, {**arguments, "confirmation_id": token.group(1)})
    return result


async def ok(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured content."""
    return succeeded(tool, await call_tool(client, tool, arguments or {}))


async def refused(client: Client, tool: str, arguments: dict[str, Any], *needles: str) -> str:
    """Call a tool that must be refused; check the message names each needle; return the message."""
    return was_refused(tool, await call_tool(client, tool, arguments), needles)


# --- sessions ------------------------------------------------------------------------------------------------------

@dataclass(kw_only=True)
class Transcript:
    """An MCP client and everything the model saw through it: every result, errors included (`seen`).

    `tenant`, when set, is the `tenant_id` every CxEngage tool call gets unless it gives one (the server was not
    pinned to a tenant)."""

    client: Client
    tenant: str | None = None
    seen: list[str] = field(default_factory=list)

    def _arguments(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        if self.tenant and "CxEngage" in tool and "tenant_id" not in arguments:
            arguments = {"tenant_id": self.tenant, **arguments}
        return with_destination(tool, arguments)

    async def call(self, tool: str, arguments: dict[str, Any] | None = None, /, **more: Any) -> CallToolResult:
        result = await call_tool(self.client, tool, self._arguments(tool, {**(arguments or {}), **more}))
        self.seen.append(result.model_dump_json())
        return result

    async def ok(self, tool: str, arguments: dict[str, Any] | None = None, /, **more: Any) -> dict[str, Any]:
        return succeeded(tool, await self.call(tool, arguments, **more))

    async def refused(self, tool: str, *needles: str, **arguments: Any) -> str:
        return was_refused(tool, await self.call(tool, arguments), needles)


@dataclass(kw_only=True)
class Session(Transcript):
    """A Transcript on an in-process server, with the emulators behind it and the person at its secure forms."""

    server: IntegrationsServer
    revcent: RevCentEmulator
    cxengage: CxEngageEmulator

    @property
    def store(self) -> SecureFormStore:
        assert self.server.secure_forms is not None
        return self.server.secure_forms.store

    def page_of(self, form_id: str) -> str:
        """The page id of a form this session created: the last part of the form_url the model was given with its
        secure_form_id (the id itself does not open the page)."""
        for seen in reversed(self.seen):
            dumped = json.loads(seen)
            data = dumped.get("structured_content") or dumped.get("structuredContent") or {}
            if data.get("secure_form_id") == form_id and data.get("form_url"):
                return data["form_url"].rstrip("/").rsplit("/", 1)[1]
        raise AssertionError(f"no form_url was given for secure form {form_id}")

    def fill(self, form_id: str, values: dict[str, str]) -> None:
        """The person saves one of the server's own forms (what the page does, without a browser)."""
        page_id = self.page_of(form_id)
        self.store.submit(page_id, self.store.lookup(page_id).form.csrf_token, values)

    async def form(self, type: str, values: dict[str, str] | None = None, **arguments: Any) -> str:
        """A CxEngage secure form (the server serves it itself), filled with `values` unless None; its id. A form for
        a new integration names the destination the tests' integrations of that type use (DESTINATIONS)."""
        created = await self.ok("CreateCxEngageSecureForm", type=type, **arguments)
        if values is not None:
            self.fill(created["secure_form_id"], values)
        return created["secure_form_id"]

    def form_state(self, form_id: str) -> tuple[bool, bool]:
        """(completed, used) of one of the server's own forms."""
        view = self.store.lookup(self.page_of(form_id))
        return view.state.value == "completed", view.state.value == "used"

    def writes(self) -> list[RecordedRequest]:
        """Every write that reached an emulator."""
        return [*self.revcent.writes(), *self.cxengage.writes()]


def make_server(settings: Settings, *, revcent: RevCentEmulator | None = None,
                cxengage: CxEngageEmulator | None = None,
                forms: SecureFormServer | None = None) -> IntegrationsServer:
    """The server for `settings`: a vendor at its test URL is its emulator over ASGI, any other URL is real HTTP.
    Secure form links point at FORMS_URL unless `forms` is given (`SecureFormServer()` listens on loopback)."""
    emulators = {"revcent": (revcent, REVCENT_URL), "cxengage": (cxengage, CXENGAGE_URL)}
    transports: dict[str, httpx2.AsyncBaseTransport] = {
        name: httpx2.ASGITransport(app=emulator.app) for name, (emulator, url) in emulators.items()
        if emulator is not None and name in settings.vendors and settings.vendors[name].base_url == url}
    return build_server(settings, transports=transports, secure_forms=forms or SecureFormServer(base_url=FORMS_URL))


@asynccontextmanager
async def connect(settings: Settings | None = None, *, revcent: RevCentEmulator | None = None,
                  cxengage: CxEngageEmulator | None = None, server: IntegrationsServer | None = None,
                  forms: SecureFormServer | None = None, raise_exceptions: bool = True) -> AsyncIterator[Session]:
    """A client session on the server for `settings` (both vendors by default), on fresh emulators unless given."""
    settings = settings or both_settings()
    revcent = revcent or revcent_emulator()
    cxengage = cxengage or CxEngageEmulator()
    made = server is None  # a server made here is closed here (its state store's connections too)
    server = server or make_server(settings, revcent=revcent, cxengage=cxengage, forms=forms)
    cx = settings.vendors.get("cxengage")
    tenant = SANDBOX_TENANT_ID if cx is not None and not cx.tenant_id else None  # a pinned tenant is not an argument
    try:
        async with Client(server, raise_exceptions=raise_exceptions) as client:
            yield Session(client=client, server=server, revcent=revcent, cxengage=cxengage,
                          tenant=tenant)
    finally:
        if server.secure_forms is not None:
            server.secure_forms.close()
        if made and server.state is not None:
            await server.state.close()


# --- the server as a subprocess -------------------------------------------------------------------------------------

SERVE = [sys.executable, "-m", "integrations_mcp", "serve"]
CONSOLE_SERVE = [str(Path(sys.executable).with_name("integrations-mcp")), "serve"]  # the installed script
STARTUP_SECONDS = 30  # importing mcp alone takes ~1.5 s; CI machines are shared


def clean_env(**extra: str) -> dict[str, str]:
    """The environment a subprocess gets: no vendor keys or settings of the developer's, only `extra`."""
    keep = ("HOME", "PATH", "LANG", "TMPDIR", "PYTHONPATH", "SYSTEMROOT")
    # State in memory unless a test gives a database: never the developer's own journal and spent forms.
    return {**{k: v for k, v in os.environ.items() if k in keep},
            "INTEGRATIONS_STATE_URL": "sqlite+aiosqlite:///:memory:", **extra}


@dataclass(kw_only=True)
class Stdio(Transcript):
    """A Transcript over stdio; `stderr` is the server's stderr, filled in once the session has ended."""

    stderr: str = ""


@asynccontextmanager
async def serve_stdio(*args: str, env: dict[str, str] | None = None, **client: Any) -> AsyncIterator[Stdio]:
    """`integrations-mcp serve *args` over stdio, with a client session on it (`client`: more arguments of the
    SDK's `Client`, e.g. `mode="legacy"`, `elicitation_callback=...`)."""
    params = StdioServerParameters(command=SERVE[0], args=[*SERVE[1:], *args], env=clean_env(**(env or {})))
    with tempfile.TemporaryFile("w+") as errlog:  # a file, not a pipe: debug logs must not stall the server
        async with Client(stdio_client(params, errlog=errlog), **client) as client:
            session = Stdio(client=client)
            yield session
        errlog.seek(0)
        session.stderr = errlog.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    """A server started by `serve_process`: its MCP endpoint, port, combined output and process."""

    url: str
    port: int
    output: IO[bytes]
    proc: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return self.url.removesuffix("/mcp")

    def log(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def rss_kib(self, field: str = "VmRSS") -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise AssertionError(field)


@contextmanager
def serve_process(*args: str, env: dict[str, str] | None = None, port: int | None = None,
                  command: Sequence[str] = SERVE, cwd: Path | None = None) -> Iterator[Served]:
    """`integrations-mcp serve --transport http *args` on `port` (default: a free one), once it accepts
    connections; its output is kept to search (for secrets, say). `command`: how `serve` is started (default
    `python -m integrations_mcp serve`; `CONSOLE_SERVE` as an installed client starts it)."""
    port = port or free_port()
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen([*command, "--transport", "http", "--port", str(port), *args], stdout=output,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=clean_env(**(env or {})),
                                cwd=cwd)
        try:
            _wait_until_listening(proc, port, output)
            yield Served(f"http://127.0.0.1:{port}/mcp", port, output, proc)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@contextmanager
def serve_http(*args: str, env: dict[str, str] | None = None, port: int | None = None) -> Iterator[str]:
    """`serve_process`'s MCP endpoint URL."""
    with serve_process(*args, env=env, port=port) as served:
        yield served.url


def _wait_until_listening(proc: subprocess.Popen[bytes], port: int, output: IO[bytes]) -> None:
    """Return once the port accepts a connection; fail with the server's output if it exits or takes too long."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _accepts(port):
        try:
            proc.wait(timeout=0.1)  # the pause between tries, cut short if the server exits
        except subprocess.TimeoutExpired:
            if time.monotonic() < deadline:
                continue
            problem = f"did not listen on port {port} within {STARTUP_SECONDS} s"
        else:
            problem = f"exited with code {proc.returncode}"
        output.seek(0)
        raise AssertionError(f"the HTTP server {problem}:\n{output.read().decode(errors='replace')}")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
