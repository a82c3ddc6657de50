"""Who is asking: an opaque key for the MCP session behind a tool call, so that what one session creates (a
one-time secure form) can only be used by that session.

The SDK gives no stable session object (ctx.session differs per call), so the key is built from:
- a random token made by the server lifespan, which runs once per stdio process and once per in-process
  connection (for streamable HTTP, once per app, shared by every client of it), and
- the `Mcp-Session-Id` of a stateful HTTP session, and the authenticated client id when auth is on.
A stateless (2026-07-28) HTTP client without auth has no session to bind to: such clients share the app's key.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context, MCPServer

__all__ = ["connection_lifespan", "principal", "session_key"]

_OWNER = "integrations_mcp.session_owner"


@asynccontextmanager
async def connection_lifespan(server: MCPServer) -> AsyncIterator[dict[str, Any]]:
    # Replicas over HTTP share one base (derived from INTEGRATIONS_STATE_KEY by server.app), so a client's forms and
    # approvals are its own on every replica; otherwise each process (stdio: each connection) has its own.
    yield {_OWNER: getattr(server, "owner_base", None) or secrets.token_hex(16)}


def session_key(ctx: Context) -> str:
    state = ctx.request_context.lifespan_context
    base = state.get(_OWNER, "") if isinstance(state, dict) else ""
    headers = ctx.headers or {}
    token = get_access_token()
    return "/".join((base, headers.get("mcp-session-id", ""), token.client_id if token else ""))


def principal(ctx: Context) -> str:
    """Who the change journal names: the authenticated client where HTTP has auth (a token's name, a JWT's
    subject); under stdio, where the client that started this process is the person's own, the OS user running it
    (`os:<name>`); else (HTTP without auth) the session, as a short hash of its key, which is not itself shown."""
    token = get_access_token()
    if token is not None and token.client_id:
        return token.client_id
    if ctx.headers is None and (user := _os_user()):
        return f"os:{user}"
    return "session:" + hashlib.sha256(session_key(ctx).encode()).hexdigest()[:12]


@functools.cache
def _os_user() -> str | None:
    import getpass  # (with termios) on the first write under stdio, not at start

    try:
        return getpass.getuser()[:100] or None
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return None

