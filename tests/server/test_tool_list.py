"""tools/list from `toolkit/tool_list.ToolListCache`: what a client receives is byte for byte what the SDK's own path
gives (a server without the cache), for each scope, protocol era and transport, the first time and after; a list
before the handshake is still refused; and if the SDK stops calling server middleware for tools/list (its
middleware chain is provisional) or its HTTP entry changes shape (`toolkit/sdk_wire.py` wraps an internal
function), these tests say so instead of the cache silently doing nothing."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.shared.message import SessionMessage
from mcp.types import JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse

from integrations_mcp.server.app import build_server
from integrations_mcp.server.auth.tokens import StaticToken
from integrations_mcp.server.transports import http_app
from integrations_mcp.toolkit import sdk_wire
from integrations_mcp.toolkit.access import READ_SCOPE, WRITE_SCOPE
from integrations_mcp.toolkit.server import IntegrationsServer
from tests.harness import both_settings, make_server

pytestmark = pytest.mark.anyio

TOKENS = {"writer": "w" * 43, "reader": "r" * 43}
SCOPES = {"writer": (READ_SCOPE, WRITE_SCOPE), "reader": (READ_SCOPE,)}
MODERN = "2026-07-28"
HANDSHAKE = "2025-11-25"
META = {"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}
ACCEPT = "application/json, text/event-stream"


def without_cache(server: IntegrationsServer) -> IntegrationsServer:
    server.middleware.remove(server.tool_list)
    return server


async def test_in_memory_lists_are_the_sdks_own_and_the_second_comes_from_the_cache() -> None:
    cached, plain = make_server(both_settings()), without_cache(make_server(both_settings()))
    async with Client(plain) as client:
        expected = (await client.list_tools()).model_dump(mode="json", by_alias=True)
    async with Client(cached) as client:
        lists = [(await client.list_tools()).model_dump(mode="json", by_alias=True) for _ in range(3)]
    assert lists == [expected] * 3
    assert len(cached.tool_list.answers) == 1  # kept once, then answered from it
    names = {tool["name"] for tool in expected["tools"]}
    assert {"GetCxEngageIntegrations", "EditCxEngageIntegration"} <= names


async def test_a_tool_added_after_start_is_listed() -> None:
    server = make_server(both_settings())
    async with Client(server) as client:
        before = {t.name for t in (await client.list_tools()).tools}

        def ExtraTool() -> str:  # noqa: N802
            """An extra tool."""
            return "x"

        server.add_tool(ExtraTool)
        added = {t.name for t in (await client.list_tools()).tools}
        server.remove_tool("ExtraTool")
        removed = {t.name for t in (await client.list_tools()).tools}
    assert added == before | {"ExtraTool"} and removed == before


def http_server(cache: bool) -> tuple[IntegrationsServer, Any]:
    settings = both_settings(transport="http", auth_tokens=tuple(
        StaticToken(name, secret, SCOPES[name]) for name, secret in TOKENS.items()))
    server = build_server(settings)
    if not cache:
        without_cache(server)
    return server, http_app(server, settings)


async def modern_list(http: httpx2.AsyncClient, token: str, number: int | str) -> bytes:
    answer = await http.post("/mcp", content=json.dumps({
        "jsonrpc": "2.0", "id": number, "method": "tools/list", "params": {"_meta": META}}), headers={
        "authorization": f"Bearer {token}", "accept": ACCEPT, "content-type": "application/json",
        "mcp-protocol-version": MODERN, "mcp-method": "tools/list"})
    assert answer.status_code == 200, answer.text
    return answer.content


async def handshake_list(http: httpx2.AsyncClient, token: str, number: int | str) -> str:
    """A handshake-era session (initialize, initialized, tools/list): the list's JSON-RPC message as sent."""
    headers = {"authorization": f"Bearer {token}", "accept": ACCEPT, "content-type": "application/json"}
    init = await http.post("/mcp", headers=headers, json={
        "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": HANDSHAKE, "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}})
    assert init.status_code == 200, init.text
    headers |= {"mcp-session-id": init.headers["mcp-session-id"], "mcp-protocol-version": HANDSHAKE}
    done = await http.post("/mcp", headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert done.status_code == 202
    answer = await http.post("/mcp", headers=headers, json={"jsonrpc": "2.0", "id": number, "method": "tools/list"})
    assert answer.status_code == 200, answer.text
    if answer.headers["content-type"].startswith("text/event-stream"):
        return next(line[5:].strip() for line in answer.text.splitlines() if line.startswith("data:") and
                    '"tools"' in line)
    return answer.text


async def test_http_lists_are_byte_identical_to_the_sdks_for_each_scope_and_era() -> None:
    seen: dict[str, dict[tuple[str, str], list[Any]]] = {}
    sent_before = 0
    for name, cache in (("plain", False), ("cached", True)):
        server, app = http_server(cache)
        answers: dict[tuple[str, str], list[Any]] = {}
        async with app.router.lifespan_context(app), httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as http:
            for number in (7, "l-\u00fc 7", 2**40):  # the writer first, then the reader: neither gets the other's
                for who in ("writer", "reader"):
                    answers.setdefault(("modern", who), []).append(await modern_list(http, TOKENS[who], number))
                    answers.setdefault(("handshake", who), []).append(await handshake_list(http, TOKENS[who],
                                                                                           number))
        seen[name] = answers
        if cache:
            assert set(server.tool_list.answers) == {(MODERN, True), (MODERN, False), (HANDSHAKE, True),
                                                     (HANDSHAKE, False)}
            # The 2026-era answers went out as the kept JSON text (toolkit/sdk_wire.py), not re-encoded.
            assert sdk_wire.installed() and sdk_wire.sent() - sent_before == 6
        else:
            sent_before = sdk_wire.sent()
    for key, plain in seen["plain"].items():
        assert seen["cached"][key] == plain, key
    writer = json.loads(seen["cached"][("modern", "writer")][0])["result"]["tools"]
    reader = json.loads(seen["cached"][("modern", "reader")][0])["result"]["tools"]
    assert {t["name"] for t in reader} < {t["name"] for t in writer}
    assert all(t["annotations"]["readOnlyHint"] for t in reader)
    assert not all(t["annotations"].get("readOnlyHint") for t in writer)


async def raw_session(server: IntegrationsServer, *requests: JSONRPCRequest | JSONRPCNotification) -> list[Any]:
    """A connection of its own (the stdio client's streams, in memory): each request's answer."""
    to_server, server_reads = anyio.create_memory_object_stream[SessionMessage | Exception](8)
    server_writes, from_server = anyio.create_memory_object_stream[SessionMessage](8)
    lowlevel = server._lowlevel_server
    answers = []
    async with anyio.create_task_group() as group:
        group.start_soon(lowlevel.run, server_reads, server_writes, lowlevel.create_initialization_options())
        with anyio.fail_after(10):
            for message in requests:
                await to_server.send(SessionMessage(message))
                if isinstance(message, JSONRPCRequest):
                    answers.append((await from_server.receive()).message)
        await to_server.aclose()
        group.cancel_scope.cancel()
    return answers


async def test_a_list_before_the_handshake_is_refused_even_once_the_list_is_kept() -> None:
    server = make_server(both_settings())
    listed = JSONRPCRequest(jsonrpc="2.0", id=2, method="tools/list")
    init = JSONRPCRequest(jsonrpc="2.0", id=1, method="initialize", params={
        "protocolVersion": HANDSHAKE, "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}})
    _, first = await raw_session(server, init, JSONRPCNotification(jsonrpc="2.0", method="notifications/initialized"),
                                 listed)
    assert isinstance(first, JSONRPCResponse) and first.result["tools"]
    assert set(server.tool_list.answers) == {(HANDSHAKE, True)}  # kept for this version
    [early] = await raw_session(server, listed)
    assert isinstance(early, JSONRPCError) and early.error.message == "Invalid request parameters"
    _, again = await raw_session(server, init, listed)  # the handshake's first half opens the gate, as in the SDK
    assert isinstance(again, JSONRPCResponse) and again.result == first.result
