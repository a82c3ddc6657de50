"""Issue 19 item 2 on every listener and in the stores: the header deadline holds for every request of a keep-alive
connection (not only its first), the stdio page listener (and the emulators) have it and a connection cap, and a
session's open secure forms and pending approvals are capped with a clear tool refusal."""

from __future__ import annotations

import gc
import re
import socket
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from integrations_mcp.limits import Limits
from integrations_mcp.loopback import LoopbackServer
from integrations_mcp.pipeline.confirm import ConfirmationPolicy
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.secure_forms.store import SecureFormStore
from integrations_mcp.server.app import form_store
from integrations_mcp.server.settings import Settings, load_settings
from integrations_mcp.state.store import StateStore
from integrations_mcp.vendors.cxengage.emulator import SANDBOX_TENANT_ID, CxEngageEmulator
from tests.harness import FORMS_URL, both_settings, connect

pytestmark = pytest.mark.anyio


async def hello(request: Any) -> PlainTextResponse:
    return PlainTextResponse("hello")


@contextmanager
def listener(header_timeout: float) -> Iterator[LoopbackServer]:
    """The stdio page listener's server (LoopbackServer), with a short header deadline."""
    server = LoopbackServer(Starlette(routes=[Route("/", hello)]), header_timeout=header_timeout).start()
    try:
        yield server
    finally:
        server.stop()


def get(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    return answer


def closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_trickled_second_request_head_is_closed() -> None:
    """After one answered request, a client that sends a byte of the next head now and then (which cancels
    uvicorn's keep-alive timeout) is still closed by the header deadline."""
    with listener(header_timeout=1.0) as server, socket.create_connection(("127.0.0.1", server.port), 10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200")
        closed = False
        for byte in b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 40:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if closed_within(sock, 0.3):
                closed = True
                break
        assert closed, "a trickled request head kept the connection"


def test_the_header_deadline_moves_on_with_each_response() -> None:
    """The deadline is one timer per connection that each response moves on: a connection still answering
    requests when its first deadline passes stays open, and is closed once idle for the deadline after its last
    response."""
    with listener(header_timeout=1.0) as server, socket.create_connection(("127.0.0.1", server.port), 10) as sock:
        answers = []
        for pause in (0.0, 0.6, 0.6):  # the third request comes after the first deadline, within the second
            time.sleep(pause)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while not answer.endswith(b"hello"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
            answers.append(answer[:12] + answer[-5:])
        assert answers == [b"HTTP/1.1 200hello"] * 3
        assert closed_within(sock, 5)


def test_the_header_deadline_does_not_keep_a_finished_request_alive() -> None:
    """The deadline armed after a response holds that request weakly: once the connection's next request has begun,
    the finished one (its scope, and whatever the layers put in it) can be freed at once, not after the next
    response."""
    first: list[weakref.ref] = []

    class Kept:
        """Put in the first request's scope."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if not first:
            scope["kept"] = kept = Kept()
            first.append(weakref.ref(kept))
            body = b"first"
        else:
            gc.collect()
            body = b"freed" if first[0]() is None else b"alive"
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    server = LoopbackServer(app, header_timeout=30).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), 10) as sock:
            answers = []
            for _ in range(2):
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                answer = b""
                while not answer.endswith((b"first", b"freed", b"alive")):
                    answer += sock.recv(4096)
                answers.append(answer[-5:])
    finally:
        server.stop()
    assert answers == [b"first", b"freed"]


def test_the_page_listener_closes_half_open_connections_and_serves_others() -> None:
    with listener(header_timeout=2.0) as server:
        stalled = []
        for _ in range(230):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            stalled.append(sock)
        try:
            assert get(server.port).endswith(b"hello")  # not starved
            assert all(closed_within(sock, 30) for sock in stalled[:10])
        finally:
            for sock in stalled:
                sock.close()


def test_the_page_listener_has_a_connection_cap() -> None:
    with listener(header_timeout=10.0) as server:
        assert server._server is not None
        assert server._server.config.limit_concurrency is not None
        assert server._server.config.h11_max_incomplete_event_size is not None
        started = time.monotonic()
        assert get(server.port).endswith(b"hello") and time.monotonic() - started < 60


# --- per session, at the tool level ----------------------------------------------------------------------------------

async def test_a_session_cannot_open_forms_without_end() -> None:
    forms = SecureFormServer(SecureFormStore(max_per_owner=3), base_url=FORMS_URL)
    async with connect(both_settings(), forms=forms) as session:
        for _ in range(3):
            await session.form("zendesk")
        message = await session.refused("CreateCxEngageSecureForm", "INTEGRATIONS_MAX_OPEN_FORMS",
                                        "Nothing was created", type="zendesk")
        assert "3" in message
    # The setting reaches the server's own store.
    settings = load_settings({"INTEGRATIONS_MAX_OPEN_FORMS": "7"})
    assert form_store(settings, StateStore("sqlite+aiosqlite:///:memory:"))._quota.limit == 7


async def test_a_session_cannot_leave_approvals_pending_without_end() -> None:
    cxengage = CxEngageEmulator()
    ids = [cxengage.add_integration(SANDBOX_TENANT_ID, "rest", f"Pending {i}", active=True) for i in range(3)]
    settings = both_settings(confirmation=ConfirmationPolicy.PERSON, limits=Limits(session_approvals=2))
    async with connect(settings, cxengage=cxengage) as session:
        for integration_id in ids[:2]:
            message = await session.refused("EditCxEngageIntegration", "approval", integration_id=integration_id,
                                            active=False)
            assert re.search(r"approval_id=", message), message
        await session.refused("EditCxEngageIntegration", "INTEGRATIONS_MAX_PENDING_APPROVALS", "Nothing was created",
                              integration_id=ids[2], active=False)
        assert not session.writes()
    assert Settings().limits.session_approvals == Limits().session_approvals
