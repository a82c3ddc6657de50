"""RFC 6750 §3 `scope=` on the SDK's Bearer challenges at /mcp (its middleware sends `error` and
`resource_metadata` only). MCP clients request the challenge's scopes when they (re)authorize:

- 401 (no token, or a bad one): both scopes, what the whole tool set needs (an authorization server may grant
  less; a read-only grant then sees the read tools);
- 403 `insufficient_scope` (a valid token with neither scope): the scope /mcp requires, `integrations:read`, plus
  any of ours the token already holds.

A write tool called with a read-only token is refused inside MCP (a tool error naming the scope), not by HTTP."""

from __future__ import annotations

from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations_mcp.toolkit.access import READ_SCOPE, SCOPES

__all__ = ["ScopeChallenge", "with_scope_challenge"]


class ScopeChallenge:
    """Wraps the SDK's auth-requiring endpoint; inside it the request's granted scopes (`scope["auth"]`) are known."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def _scopes(self, status: int, scope: Scope) -> str:
        if status == 401:
            return " ".join(SCOPES)
        granted = set(getattr(scope.get("auth"), "scopes", ()) or ())
        return " ".join(s for s in SCOPES if s == READ_SCOPE or s in granted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_scope(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (401, 403):
                hint = f', scope="{self._scopes(message["status"], scope)}"'.encode()
                message = {**message, "headers": [
                    (k, v + hint if k.lower() == b"www-authenticate" and v[:7].lower() == b"bearer "
                     and b"scope=" not in v else v) for k, v in message.get("headers", [])]}
            await send(message)

        await self.app(scope, receive, send_with_scope)


def with_scope_challenge(routes: list, path: str) -> None:
    """Wrap the endpoint of the Route at `path` (the SDK's /mcp, behind its bearer middleware) in place."""
    for i, route in enumerate(routes):
        if isinstance(route, Route) and route.path == path:
            routes[i] = Route(path, endpoint=ScopeChallenge(route.endpoint), methods=route.methods,
                              name=route.name, include_in_schema=route.include_in_schema)
