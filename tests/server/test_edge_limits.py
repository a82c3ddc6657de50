"""Issues 19 and 22 at the HTTP edge, as clients meet it: `integrations-mcp serve --sandbox --transport http` as a
subprocess, driven by the SDK's client and by raw sockets.

- work in flight is limited, not connections: idle sessions never cause a 503; overload is a 503 with Retry-After;
- half-open connections and trickled request heads cannot starve other clients;
- one client (a token, or an address without auth) cannot take every session or every request slot: 429 with
  Retry-After, while another client is served;
- a request body is capped while it streams in (413 before anything reads it whole).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.harness import Served, serve_process

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # every test here starts the server as a subprocess

ALICE, BOB = "a" * 24 + "-alice-token", "b" * 24 + "-bob-token"
TOKENS = f"alice {ALICE} integrations:read\nbob {BOB} integrations:read\n"
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}


@contextmanager
def serve(env: dict[str, str] | None = None) -> Iterator[Served]:
    with serve_process("--sandbox", env=env) as served:
        yield served


def tokens_env(tmp_path: Path, **more: str) -> dict[str, str]:
    path = tmp_path / "tokens"
    path.write_text(TOKENS)
    return {"INTEGRATIONS_AUTH_TOKENS_FILE": str(path), **more}


async def read_call(url: str, token: str | None = None, mode: str = "auto") -> str:
    """A client session that lists the tools and calls a read tool; the tool result's text."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http, \
            Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        assert (await client.list_tools()).tools
        result = await client.call_tool("GetIntegrationGuide", {"guide": "common/guardrails"})
        assert not result.is_error, result
        return result.content[0].text


async def post_initialize(url: str, token: str | None = None) -> httpx2.Response:
    auth = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(timeout=30) as http:
        return await http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **auth})


STALLED_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def half_open(port: int, count: int, head: bytes = STALLED_HEAD) -> list[socket.socket]:
    """`count` connections that started a request head and never finish it."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall(head)
        sockets.append(sock)
    return sockets


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, TimeoutError):
        return False


# --- work in flight, not connections -------------------------------------------------------------------------------

async def test_many_open_sessions_never_cause_a_503() -> None:
    """Each legacy session holds its SSE stream and a keep-alive connection: 110 sessions are ~220 connections,
    past the old 200-connection cap. Every session's calls are answered."""
    sessions = 110
    # One address opens them all: its shares (sessions, request rate, and requests in flight: each call's POST stays
    # open for its answer, and a session's next requests may start before the last answer's stream has closed) are
    # raised, so that only the server-wide limit is under test here (the shares have tests of their own below).
    with serve({"INTEGRATIONS_CLIENT_MAX_SESSIONS": "1000", "INTEGRATIONS_CLIENT_REQUESTS_PER_MINUTE": "60000",
                "INTEGRATIONS_CLIENT_MAX_IN_FLIGHT": "1000"}) as served:
        async with AsyncExitStack() as stack:
            clients = []
            for _ in range(sessions):
                http = await stack.enter_async_context(httpx2.AsyncClient(timeout=120))
                clients.append(await stack.enter_async_context(
                    Client(streamable_http_client(served.url, http_client=http), mode="legacy")))
            answers: list[bool] = []

            async def call(client: Client) -> None:
                result = await client.call_tool("GetIntegrationGuide", {"guide": "common/guardrails"})
                answers.append(not result.is_error)

            async with anyio.create_task_group() as group:
                for client in clients:
                    group.start_soon(call, client)
            assert answers == [True] * sessions
            assert await read_call(served.url)  # and a newcomer too


async def test_past_the_in_flight_limit_a_request_waits_then_gets_503_with_retry_after() -> None:
    """Two requests whose bodies never arrive hold the two slots: the third waits, then is refused with 503 and
    Retry-After; once a slot is free a client is served. Idle connections alone never count."""
    env = {"INTEGRATIONS_MAX_IN_FLIGHT": "2", "INTEGRATIONS_HEADER_TIMEOUT": "120"}
    with serve(env) as served:
        idle = half_open(served.port, 50, b"")  # connected, nothing sent: not work
        busy = half_open(served.port, 2, b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                                         b"\r\nContent-Length: 100\r\n\r\n{")
        await anyio.sleep(0.5)
        refused = await post_initialize(served.url)
        assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
        assert "busy" in refused.text
        async with httpx2.AsyncClient(timeout=10) as http:
            assert (await http.get(served.url.replace("/mcp", "/healthz"))).status_code == 200  # probes still pass
        busy[0].close()
        assert await read_call(served.url)
        for sock in idle + busy[1:]:
            sock.close()


async def test_half_open_connections_cannot_starve_others_and_are_closed() -> None:
    with serve({"INTEGRATIONS_HEADER_TIMEOUT": "3"}) as served:
        stalled = half_open(served.port, 230)
        assert await read_call(served.url)
        assert all(closed_by_server(sock) for sock in stalled[:5])  # the header deadline closes them
        for sock in stalled:
            sock.close()


# --- one client cannot take what the others need ---------------------------------------------------------------------

async def test_one_token_cannot_take_every_session(tmp_path: Path) -> None:
    env = tokens_env(tmp_path, INTEGRATIONS_CLIENT_MAX_SESSIONS="3")
    with serve(env) as served:
        async with httpx2.AsyncClient(timeout=30) as http:
            opened = []
            for _ in range(3):
                answer = await http.post(served.url, json=INITIALIZE,
                                         headers={**MCP_HEADERS, "authorization": f"Bearer {ALICE}"})
                assert answer.status_code == 200, answer.text
                opened.append(answer.headers["mcp-session-id"])
            refused = await post_initialize(served.url, ALICE)
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
            assert "INTEGRATIONS_CLIENT_MAX_SESSIONS" in refused.text
            assert await read_call(served.url, BOB, mode="legacy")  # another token still gets a session
            # Closing a session gives its share back.
            gone = await http.delete(served.url, headers={**MCP_HEADERS, "authorization": f"Bearer {ALICE}",
                                                          "mcp-session-id": opened[0],
                                                          "mcp-protocol-version": "2025-11-25"})
            assert gone.status_code < 300, gone.text
            assert (await post_initialize(served.url, ALICE)).status_code == 200


async def test_one_token_cannot_take_every_request(tmp_path: Path) -> None:
    env = tokens_env(tmp_path, INTEGRATIONS_CLIENT_REQUESTS_PER_MINUTE="60")  # a burst of 6
    with serve(env) as served:
        statuses = []
        async with httpx2.AsyncClient(timeout=30) as http:
            for _ in range(12):
                answer = await http.post(served.url, json=INITIALIZE,
                                         headers={**MCP_HEADERS, "authorization": f"Bearer {ALICE}"})
                statuses.append(answer.status_code)
                if answer.status_code == 429:
                    assert int(answer.headers["retry-after"]) >= 1
                    assert "INTEGRATIONS_CLIENT_REQUESTS_PER_MINUTE" in answer.text
        assert 429 in statuses and statuses[0] == 200
        assert await read_call(served.url, BOB)  # the other token is served meanwhile


async def test_without_auth_each_address_has_its_own_share() -> None:
    with serve({"INTEGRATIONS_CLIENT_MAX_SESSIONS": "2"}) as served:
        for _ in range(2):
            assert (await post_initialize(served.url)).status_code == 200
        refused = await post_initialize(served.url)
        assert refused.status_code == 429 and "INTEGRATIONS_CLIENT_MAX_SESSIONS" in refused.text


# --- bodies --------------------------------------------------------------------------------------------------------

def stream_body(port: int, total: int, chunk: int = 1 << 20) -> int:
    """POST a chunked body of `total` bytes to /mcp, ignoring any answer; how many bytes went out before the server
    stopped reading (the connection closed or reset)."""
    sent = 0
    block = b"%x\r\n" % chunk + b"x" * chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Accept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            while sent < total:
                sock.sendall(block)
                sent += chunk
        except (BrokenPipeError, ConnectionResetError):
            pass
    return sent


async def test_a_huge_streamed_body_is_refused_early_and_costs_little_memory() -> None:
    gib = 1 << 30
    with serve() as served:
        assert await read_call(served.url)  # warmed up: what a first call imports is not the body's cost
        before = served.rss_kib()
        sent = await anyio.to_thread.run_sync(stream_body, served.port, gib)
        grown_mib = (served.rss_kib("VmHWM") - before) / 1024
        assert sent < gib, "the server kept reading a body it had refused"
        assert grown_mib < 50, grown_mib
        with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:  # refused on its header
            sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n{" % gib)
            answer = b""
            while chunk := sock.recv(4096):  # the server closes after its answer
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 413") and b"INTEGRATIONS_MAX_BODY_BYTES" in answer
        assert await read_call(served.url)


async def test_stalled_bodies_get_408_and_the_others_are_served() -> None:
    """Over a real socket, bodies that stop coming get 408 once the deadline passes (INTEGRATIONS_HEADER_TIMEOUT, one
    timer for every body read: limits.py:_Stalls), while a client that keeps sending is served; the server then
    serves as before."""
    head = (b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, "
            b"text/event-stream\r\nContent-Length: 100\r\n\r\n{")

    def stalled_answer(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(head)
            answer = b""
            while chunk := sock.recv(4096):  # the header deadline closes the connection once it is answered
                answer += chunk
            return answer

    with serve({"INTEGRATIONS_HEADER_TIMEOUT": "1"}) as served:
        assert await read_call(served.url)
        answers: list[bytes] = []

        async def one() -> None:
            answers.append(await anyio.to_thread.run_sync(stalled_answer, served.port))

        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(one)
            await anyio.sleep(0.3)
            assert await read_call(served.url)  # served while the stalled bodies wait
        assert len(answers) == 3
        for answer in answers:
            assert answer.startswith(b"HTTP/1.1 408") and b"The request body stalled (no data for 1 s)." in answer
        assert await read_call(served.url)


# --- settings --------------------------------------------------------------------------------------------------------

def test_limits_are_settings_with_clear_errors() -> None:
    from integrations_mcp.errors import ConfigurationError
    from integrations_mcp.server.settings import load_settings

    limits = load_settings({"INTEGRATIONS_MAX_IN_FLIGHT": "7", "INTEGRATIONS_HEADER_TIMEOUT": "2.5"}).limits
    assert (limits.max_in_flight, limits.header_timeout) == (7, 2.5)
    with pytest.raises(ConfigurationError, match="INTEGRATIONS_CLIENT_MAX_SESSIONS"):
        load_settings({"INTEGRATIONS_CLIENT_MAX_SESSIONS": "0"})


async def test_one_token_cannot_hold_every_request_slot(tmp_path: Path) -> None:
    """Two requests of one token whose bodies never arrive hold its share: its next request is 429, another token's
    is served."""
    env = tokens_env(tmp_path, INTEGRATIONS_CLIENT_MAX_IN_FLIGHT="2", INTEGRATIONS_HEADER_TIMEOUT="120")
    with serve(env) as served:
        stalled = half_open(served.port, 2, b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                                            b"\r\nAccept: application/json, text/event-stream\r\nAuthorization: Bearer "
                                            + ALICE.encode() + b"\r\nContent-Length: 100\r\n\r\n{")
        await anyio.sleep(0.5)
        refused = await post_initialize(served.url, ALICE)
        assert refused.status_code == 429 and "INTEGRATIONS_CLIENT_MAX_IN_FLIGHT" in refused.text
        assert await read_call(served.url, BOB)
        for sock in stalled:
            sock.close()
