"""The server as clients meet it: `serve` over stdio and streamable HTTP as a real subprocess (tests/harness.py),
and the CLI's exits."""

from __future__ import annotations

import json
import socket
import subprocess
import tempfile
import time

import httpx2
import pytest
from mcp import Client

from tests.harness import SERVE, STARTUP_SECONDS, clean_env, serve_http, serve_stdio

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # every test here starts the server as a subprocess

def _jsonrpc(*messages: dict) -> bytes:
    return b"".join(json.dumps(m).encode() + b"\n" for m in messages)


def test_stdout_carries_only_json_rpc_and_logs_go_to_stderr() -> None:
    """A raw legacy client: every stdout line must parse as JSON-RPC, even with debug logging on."""
    requests = _jsonrpc(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
         "params": {"name": "GetSiteThirdPartyIntegrations", "arguments": {"limit": 2}}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
         "params": {"name": "GetSiteThirdPartyIntegration", "arguments": {"site_third_party_integration_id": "x"}}},
    )
    # A file, not a pipe: debug logs must not fill a pipe and stall the server.
    errlog = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the process has exited
    proc = subprocess.Popen([*SERVE, "--sandbox", "--log-level", "DEBUG"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=errlog, env=clean_env())
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(requests)
    proc.stdin.flush()
    answers: dict[int, dict] = {}
    lines: list[bytes] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while len(answers) < 4 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        message = json.loads(line)  # a log line on stdout would fail here
        assert message["jsonrpc"] == "2.0"
        if "id" in message:
            answers[message["id"]] = message
    proc.stdin.close()
    proc.wait(timeout=STARTUP_SECONDS)
    errlog.seek(0)
    stderr = errlog.read()
    errlog.close()
    assert sorted(answers) == [1, 2, 3, 4], lines
    assert answers[1]["result"]["serverInfo"]["name"] == "integrations-mcp"
    assert "GetSiteThirdPartyIntegrations" in {t["name"] for t in answers[2]["result"]["tools"]}
    assert answers[3]["result"]["isError"] is False
    assert answers[3]["result"]["structuredContent"]["count"] == 2
    assert answers[4]["result"]["isError"] is True
    assert b"Sandbox emulators" in stderr  # logs exist, and they went to stderr


async def test_stdio_client_session_runs_the_tools() -> None:
    async with serve_stdio("--sandbox") as stdio:
        client = stdio.client
        tools = {t.name for t in (await client.list_tools()).tools}
        assert "EditUserThirdPartyIntegration" in tools
        listed = await client.call_tool("GetUserThirdPartyIntegrations", {})
        assert not listed.is_error and listed.structured_content["page"] == 1
        guide = await client.read_resource("guide://common/guardrails")
        assert guide.contents[0].mime_type == "text/markdown"


async def test_stdio_read_only_serves_only_read_tools() -> None:
    async with serve_stdio("--sandbox", "--read-only") as stdio:
        tools = (await stdio.client.list_tools()).tools
    assert tools and all(t.annotations.read_only_hint for t in tools)
    assert "CreateUserThirdPartyIntegration" not in {t.name for t in tools}


def test_serve_without_a_key_names_the_variable_and_the_sandbox() -> None:
    done = subprocess.run([*SERVE], env=clean_env(), capture_output=True, text=True, timeout=STARTUP_SECONDS,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "REVCENT_API_KEY" in done.stderr and "--sandbox" in done.stderr
    assert done.stdout == ""


@pytest.mark.slow
def test_a_port_in_use_is_a_clear_start_up_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([*SERVE, "--sandbox", "--transport", "http", "--port", str(port)], env=clean_env(),
                              capture_output=True, text=True, timeout=STARTUP_SECONDS, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_malformed_base_url_is_a_clear_start_up_error() -> None:
    done = subprocess.run([*SERVE], env=clean_env(REVCENT_API_KEY="k" * 20, REVCENT_BASE_URL="api.revcent.com"),
                          capture_output=True, text=True, timeout=STARTUP_SECONDS, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "REVCENT_BASE_URL" in done.stderr


async def test_streamable_http_session_and_origin_checks() -> None:
    with serve_http("--sandbox") as url:
        async with Client(url) as client:
            result = await client.call_tool("GetSiteThirdPartyIntegrations", {"limit": 1})
            assert not result.is_error and result.structured_content["count"] == 1
            refused = await client.call_tool("CreateUserThirdPartyIntegration", {
                "name": "x", "site_third_party_integration": "sandboxSiteTax000001",
                "third_party_credentials": {"id": "x", "fields": []}})
            assert refused.is_error and "secure_form_id" in refused.content[0].text
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        headers = {"content-type": "application/json", "accept": "application/json, text/event-stream",
                   "mcp-protocol-version": "2025-11-25"}
        async with httpx2.AsyncClient(timeout=10) as http:
            foreign = await http.post(url, json=body, headers={**headers, "origin": "http://evil.example"})
            assert foreign.status_code == 403
            rebound = await http.post(url, json=body, headers={**headers, "host": "evil.example"})
            assert rebound.status_code == 421


async def test_http_transport_serves_the_secure_form_page_on_its_own_listener() -> None:
    with serve_http("--sandbox") as url:
        async with Client(url) as client:
            form = await client.call_tool("CreateCxEngageSecureForm", {"type": "salesforce", "destination": {
                "username": "sf@example.invalid", "consumerKey": "ck-1"}})
            assert not form.is_error, form.content[0].text
        form_url = form.structured_content["form_url"]
        assert form_url.startswith(url.removesuffix("/mcp") + "/secure-forms/")
        async with httpx2.AsyncClient(timeout=10) as http:
            page = await http.get(form_url)
            rebound = await http.get(form_url, headers={"host": "evil.example"})
        assert page.status_code == 200 and "Security token" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        assert rebound.status_code == 421 and "Security token" not in rebound.text
