"""What the authenticated caller may call: the scopes of its access token (HTTP transport with auth on).

`integrations:read` sees and calls only the read tools (as `--read-only` does for everyone); `integrations:write`
everything. Without an access token (stdio, in-process, HTTP on loopback without auth) nothing is narrowed here:
the process's own settings decide."""

from __future__ import annotations

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.types import ToolAnnotations

__all__ = ["READ_SCOPE", "SCOPES", "WRITE_SCOPE", "may_call", "may_write"]

READ_SCOPE = "integrations:read"
WRITE_SCOPE = "integrations:write"
SCOPES = (READ_SCOPE, WRITE_SCOPE)


def may_write() -> bool:
    token = get_access_token()
    return token is None or WRITE_SCOPE in token.scopes


def may_call(annotations: ToolAnnotations | None) -> bool:
    """A tool is a read tool only when it says so (`readOnlyHint`); anything else needs the write scope."""
    return bool(annotations and annotations.read_only_hint) or may_write()
