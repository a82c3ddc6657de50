"""`SessionScopes` on its own, through the ASGI interface: a handshake-era request runs in its MCP session's event
scope (learnt from the response that opens the session), a 2026-07-28-era request (the SDK's single-exchange entry,
which stores no event) passes straight through, and the first protocol header decides, as the SDK routes. Replay
over real HTTP: tests/server/test_http_auth.py."""

from __future__ import annotations

from typing import Any

import pytest

from integrations_mcp.server import event_store
from integrations_mcp.server.event_store import BoundedEventStore, SessionScopes

pytestmark = pytest.mark.anyio


class App:
    """Records the event scope each request ran in; answers with a session id when told to open one."""

    def __init__(self) -> None:
        self.seen: list[Any] = []
        self.open: str | None = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        self.seen.append(event_store._current.get())
        headers = [(b"mcp-session-id", self.open.encode())] if self.open else []
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})


async def post(app: SessionScopes, *headers: tuple[str, str]) -> None:
    async def receive() -> dict:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict) -> None:
        pass

    scope = {"type": "http", "method": "POST", "path": "/mcp",
             "headers": [(k.encode(), v.encode()) for k, v in headers]}
    await app(scope, receive, send)


async def test_a_handshake_session_keeps_its_scope_and_the_new_era_passes_through() -> None:
    inner = App()
    app = SessionScopes(inner, store=BoundedEventStore())
    inner.open = "s-1"
    await post(app, ("mcp-protocol-version", "2025-06-18"))  # opens session s-1
    inner.open = None
    await post(app, ("mcp-protocol-version", "2025-06-18"), ("mcp-session-id", "s-1"))
    await post(app)  # no protocol header: the handshake era's default, a new scope
    await post(app, ("mcp-protocol-version", "2026-07-28"))
    await post(app, ("mcp-protocol-version", "2026-07-28"), ("mcp-session-id", "s-1"))
    opened, again, default, modern, modern_with_id = inner.seen
    assert opened is not None and again is opened
    assert default is not None and default is not opened
    assert modern is None and modern_with_id is None


async def test_the_first_protocol_header_decides() -> None:
    inner = App()
    app = SessionScopes(inner, store=BoundedEventStore())
    await post(app, ("mcp-protocol-version", "2025-06-18"), ("mcp-protocol-version", "2026-07-28"))
    await post(app, ("mcp-protocol-version", "2026-07-28"), ("mcp-protocol-version", "2025-06-18"))
    assert inner.seen[0] is not None and inner.seen[1] is None
